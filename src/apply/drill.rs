//! `cis-fix drill`, the half that touches AWS: set each chain's alarm to ALARM, watch its
//! history for the result of the notification, and set it back to OK.
//!
//! It changes an alarm's state only, never its configuration. Whatever happens (an error on
//! another alarm, Ctrl-C), every alarm it set to ALARM is set back to OK before it returns;
//! one that cannot be is returned by name, with the results obtained.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use aws_sdk_cloudwatch::types::StateValue;

use super::interrupt::Deferral;
use super::progress::Progress;
use crate::audit::drill::{self, DrillTarget, Outcome, Stuck};
use crate::error::{Error, Result};
use crate::inventory::aws::alarm_action_history;
use crate::session::errors::aws_error;
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
    pub account: &'a str,
    pub targets: &'a [DrillTarget],
}

/// One account's drill: what became of each notification, in the order of its targets, or the
/// error that stopped it; and every alarm left in ALARM because setting it back to OK failed.
#[derive(Debug)]
pub struct Drilled {
    pub outcomes: Result<Vec<Outcome>>,
    pub stuck: Vec<Stuck>,
}

/// Fires every target (concurrently) and returns what became of each notification, in the
/// order of `targets`. Each alarm is set back to OK whatever happened, or named as stuck.
pub async fn drill(
    session: &Session,
    account: &str,
    targets: &[DrillTarget],
    wait: Duration,
) -> Result<Drilled> {
    let job = Job {
        session,
        account,
        targets,
    };
    let mut per_job = drill_accounts(&[job], wait).await?;
    Ok(per_job.pop().unwrap_or(Drilled {
        outcomes: Ok(Vec::new()),
        stuck: Vec::new(),
    }))
}

/// [`drill`] across accounts, all at once: per job, in order, its outcomes or the error that
/// stopped it (one account's error does not stop the others), and its stuck alarms. `Err` only
/// for Ctrl-C, once every alarm that was set to ALARM is back to OK or named.
pub async fn drill_accounts(jobs: &[Job<'_>], wait: Duration) -> Result<Vec<Drilled>> {
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
            let outcome = drill_one(job, target, wait, &interrupt).await;
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
        .filter(|(r, _)| matches!(r, Ok(None)))
        .count();
    if unfinished > 0 {
        let stuck: Vec<String> = per_job
            .iter()
            .flatten()
            .filter_map(|(_, stuck)| stuck.as_ref())
            .map(|s| {
                let said = format!(
                    "alarm `{}` in account {}, {}: {}; reset it with `{}`",
                    s.alarm,
                    s.account,
                    s.region,
                    s.error,
                    drill::reset_command(s)
                );
                crate::term::escape(&said).into_owned()
            })
            .collect();
        let back = if stuck.is_empty() {
            "every alarm it set to ALARM is back to OK".to_string()
        } else {
            format!("these alarms are still in ALARM: {}", stuck.join("; "))
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
            let (outcomes, stuck): (Vec<_>, Vec<_>) = results.into_iter().unzip();
            Drilled {
                outcomes: outcomes
                    .into_iter()
                    .map(|r| {
                        r.map(|outcome| outcome.unwrap_or(Outcome::NoResult { waited_seconds: 0 }))
                    })
                    .collect(),
                stuck: stuck.into_iter().flatten().collect(),
            }
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

/// What became of the notification, `Ok(None)` when Ctrl-C stopped it before its result was
/// known; and the alarm, when it was set to ALARM and could not be set back to OK.
async fn drill_one(
    job: &Job<'_>,
    target: &DrillTarget,
    wait: Duration,
    interrupt: &Deferral,
) -> (Result<Option<Outcome>>, Option<Stuck>) {
    if interrupt.requested() {
        return (Ok(None), None);
    }
    let session = job.session;
    let region = target.region.as_str();
    let client = session.cloudwatch(region);
    // A second of slack for clock skew between this machine and AWS.
    let since = SystemTime::now()
        .checked_sub(Duration::from_secs(1))
        .unwrap_or(SystemTime::UNIX_EPOCH);
    // Not raced with Ctrl-C: whether the alarm was set must be known, to set it back.
    let set = client
        .set_alarm_state()
        .alarm_name(&target.alarm)
        .state_value(StateValue::Alarm)
        .state_reason(drill::reason(target))
        .send()
        .await;
    if let Err(e) = set {
        return (Err(aws_error("cloudwatch:SetAlarmState", region, e)), None);
    }

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
            "cis-fix drill for {} finished",
            crate::ownership::control_word(&target.control)
        ))
        .send()
        .await;
    // The result stands whether or not the reset worked: the notification went out (or not).
    let stuck = reset.err().map(|e| Stuck {
        control: target.control.clone(),
        account: job.account.to_string(),
        region: region.to_string(),
        alarm: target.alarm.clone(),
        error: aws_error("cloudwatch:SetAlarmState", region, e).to_string(),
    });
    (result, stuck)
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
