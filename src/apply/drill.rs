//! `cis-fix drill`, the half that touches AWS: set each chain's alarm to ALARM, watch its
//! history for the result of the notification, and set it back to OK.
//!
//! It changes an alarm's state only, never its configuration. Whatever happens (an error on
//! another alarm, Ctrl-C), every alarm it set to ALARM is set back to OK before it returns.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use aws_sdk_cloudwatch::types::StateValue;

use super::interrupt::Deferral;
use super::progress::Progress;
use crate::audit::drill::{self, DrillTarget, Outcome};
use crate::error::{Error, Result};
use crate::inventory::aws::{alarm_action_history, aws_error};
use crate::session::Session;

/// How often the history is read while waiting for the action's result.
const POLL: Duration = Duration::from_millis(500);

/// How often a wait looks whether Ctrl-C was pressed.
const CTRL_C_POLL: Duration = Duration::from_millis(50);

const STOPPING: &str = "Interrupted: setting the drilled alarms back to OK (press Ctrl-C again to stop at once, leaving them in ALARM).";
const ABANDONED: &str = "Stopped at once: alarms the drill set to ALARM may still be in ALARM. Set them back with `aws cloudwatch set-alarm-state --state-value OK --state-reason \"cis-fix drill\" --alarm-name NAME`, or they return to OK at their next evaluation.";
const TO_FINISH: &str = "run `cis-fix drill` again to prove delivery";

/// One account's alarms to drill, with that account's session.
pub struct Job<'a> {
    pub session: &'a Session,
    pub targets: &'a [DrillTarget],
}

/// Fires every target (concurrently) and returns what became of each notification, in the
/// order of `targets`. Each alarm is set back to OK whatever happened.
pub async fn drill(
    session: &Session,
    targets: &[DrillTarget],
    wait: Duration,
) -> Result<Vec<Outcome>> {
    let mut per_job = drill_accounts(&[Job { session, targets }], wait).await?;
    per_job.pop().unwrap_or_else(|| Ok(Vec::new()))
}

/// [`drill`] across accounts, all at once: per job, in order, its outcomes or the error that
/// stopped it (one account's error does not stop the others). `Err` only for Ctrl-C, once
/// every alarm that was set to ALARM is back to OK.
pub async fn drill_accounts(jobs: &[Job<'_>], wait: Duration) -> Result<Vec<Result<Vec<Outcome>>>> {
    let total: usize = jobs.iter().map(|j| j.targets.len()).sum();
    // The first Ctrl-C stops the waits rather than the process, so that the alarms go back
    // to OK; a second one ends the process at once.
    let interrupt = Deferral::new(Some(STOPPING), Some(ABANDONED));
    let progress = Progress::new(total);
    let pending = Mutex::new(
        jobs.iter()
            .flat_map(|j| j.targets.iter().map(|t| t.alarm.as_str()))
            .collect::<Vec<_>>(),
    );
    let show = |pending: &[&str]| {
        let waiting = match pending {
            [] => String::new(),
            [one] => format!("; waiting for alarm {one}"),
            [first, rest @ ..] => format!("; waiting for alarm {first} and {} more", rest.len()),
        };
        let done = total.saturating_sub(pending.len());
        progress.set(done, &format!("{done} of {total} drilled{waiting}"));
    };
    show(&lock(&pending));
    // `join_all`, not `try_join_all`: an error on one alarm must not drop the others'
    // futures half-way, which would leave their alarms in ALARM.
    let per_job = futures::future::join_all(jobs.iter().map(|job| {
        futures::future::join_all(job.targets.iter().map(|target| async {
            let outcome = drill_one(job.session, target, wait, &interrupt).await;
            let mut pending = lock(&pending);
            if let Some(index) = pending.iter().position(|alarm| *alarm == target.alarm) {
                pending.remove(index);
            }
            show(&pending);
            outcome
        }))
    }))
    .await;
    drop(progress);

    let unfinished = per_job
        .iter()
        .flatten()
        .filter(|r| matches!(r, Ok(None)))
        .count();
    if unfinished > 0 {
        let reset_failed: Vec<String> = per_job
            .iter()
            .flatten()
            .filter_map(|r| r.as_ref().err().map(ToString::to_string))
            .collect();
        let back = if reset_failed.is_empty() {
            "every alarm it set to ALARM is back to OK".to_string()
        } else {
            format!(
                "some alarms may still be in ALARM ({})",
                reset_failed.join("; ")
            )
        };
        return Err(Error::Interrupted {
            progress: format!(
                "the drill stopped with {unfinished} of {total} result{} still to come; {back}",
                if total == 1 { "" } else { "s" }
            ),
            advice: TO_FINISH,
        });
    }
    Ok(per_job
        .into_iter()
        .map(|results| {
            results
                .into_iter()
                .map(|r| {
                    r.map(|outcome| outcome.unwrap_or(Outcome::NoResult { waited_seconds: 0 }))
                })
                .collect::<Result<Vec<_>>>()
        })
        .collect())
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Resolves once Ctrl-C has been pressed (as recorded by `interrupt`).
async fn interrupted(interrupt: &Deferral) {
    while !interrupt.requested() {
        tokio::time::sleep(CTRL_C_POLL).await;
    }
}

/// `Ok(None)` when Ctrl-C stopped it before its result was known (the alarm, if it was set,
/// is back to OK).
async fn drill_one(
    session: &Session,
    target: &DrillTarget,
    wait: Duration,
    interrupt: &Deferral,
) -> Result<Option<Outcome>> {
    if interrupt.requested() {
        return Ok(None);
    }
    let region = target.region.as_str();
    let client = session.cloudwatch(region);
    // A second of slack for clock skew between this machine and AWS.
    let since = SystemTime::now()
        .checked_sub(Duration::from_secs(1))
        .unwrap_or(SystemTime::UNIX_EPOCH);
    // Not raced with Ctrl-C: whether the alarm was set must be known, to set it back.
    client
        .set_alarm_state()
        .alarm_name(&target.alarm)
        .state_value(StateValue::Alarm)
        .state_reason(drill::reason(target))
        .send()
        .await
        .map_err(|e| aws_error("cloudwatch:SetAlarmState", region, e))?;

    let result = tokio::select! {
        result = wait_for_outcome(session, target, since, wait) => result.map(Some),
        () = interrupted(interrupt) => Ok(None),
    };

    // Back to OK even when the history could not be read or Ctrl-C was pressed: the drill
    // leaves no alarm raised.
    let reset = client
        .set_alarm_state()
        .alarm_name(&target.alarm)
        .state_value(StateValue::Ok)
        .state_reason(format!(
            "cis-fix drill for CIS control {} finished",
            target.control
        ))
        .send()
        .await
        .map_err(|e| aws_error("cloudwatch:SetAlarmState", region, e));
    let outcome = result?;
    reset?;
    Ok(outcome)
}

/// Reads the alarm's history until the action on the target's topic has a result, or `wait`
/// has passed.
async fn wait_for_outcome(
    session: &Session,
    target: &DrillTarget,
    since: SystemTime,
    wait: Duration,
) -> Result<Outcome> {
    let started = Instant::now();
    loop {
        let items = alarm_action_history(session, &target.region, &target.alarm, since).await?;
        if let Some(outcome) = drill::outcome(&target.topic_arn, &items) {
            return Ok(outcome);
        }
        if started.elapsed() >= wait {
            return Ok(Outcome::NoResult {
                waited_seconds: wait.as_secs(),
            });
        }
        tokio::time::sleep(POLL).await;
    }
}
