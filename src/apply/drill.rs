//! `cis-fix drill`, the half that touches AWS: set each chain's alarm to ALARM, watch its
//! history for the result of the notification, and set it back to OK.
//!
//! It changes an alarm's state only, never its configuration.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant, SystemTime};

use aws_sdk_cloudwatch::types::StateValue;

use super::progress::Progress;
use crate::audit::drill::{self, DrillTarget, Outcome};
use crate::error::Result;
use crate::inventory::aws::{alarm_action_history, aws_error};
use crate::session::Session;

/// How often the history is read while waiting for the action's result.
const POLL: Duration = Duration::from_millis(500);

/// Fires every target (concurrently) and returns what became of each notification, in the
/// order of `targets`. Each alarm is set back to OK whatever happened.
pub async fn drill(
    session: &Session,
    targets: &[DrillTarget],
    wait: Duration,
) -> Result<Vec<Outcome>> {
    let progress = Progress::new(targets.len());
    let pending = Mutex::new(targets.iter().map(|t| t.alarm.as_str()).collect::<Vec<_>>());
    let show = |pending: &[&str]| {
        let waiting = match pending {
            [] => String::new(),
            [one] => format!("; waiting for alarm {one}"),
            [first, rest @ ..] => format!("; waiting for alarm {first} and {} more", rest.len()),
        };
        let done = targets.len().saturating_sub(pending.len());
        progress.set(
            done,
            &format!("{done} of {} drilled{waiting}", targets.len()),
        );
    };
    show(&lock(&pending));
    let outcomes = futures::future::try_join_all(targets.iter().map(|target| async {
        let outcome = drill_one(session, target, wait).await;
        let mut pending = lock(&pending);
        if let Some(index) = pending.iter().position(|alarm| *alarm == target.alarm) {
            pending.remove(index);
        }
        show(&pending);
        outcome
    }))
    .await;
    drop(progress);
    outcomes
}

fn lock<T>(mutex: &Mutex<T>) -> MutexGuard<'_, T> {
    mutex.lock().unwrap_or_else(PoisonError::into_inner)
}

async fn drill_one(session: &Session, target: &DrillTarget, wait: Duration) -> Result<Outcome> {
    let region = target.region.as_str();
    let client = session.cloudwatch(region);
    // A second of slack for clock skew between this machine and AWS.
    let since = SystemTime::now()
        .checked_sub(Duration::from_secs(1))
        .unwrap_or(SystemTime::UNIX_EPOCH);
    client
        .set_alarm_state()
        .alarm_name(&target.alarm)
        .state_value(StateValue::Alarm)
        .state_reason(drill::reason(target))
        .send()
        .await
        .map_err(|e| aws_error("cloudwatch:SetAlarmState", region, e))?;

    let started = Instant::now();
    let result = loop {
        let items = alarm_action_history(session, region, &target.alarm, since).await;
        match items.map(|items| drill::outcome(&target.topic_arn, &items)) {
            Ok(Some(outcome)) => break Ok(outcome),
            Ok(None) if started.elapsed() >= wait => {
                break Ok(Outcome::NoResult {
                    waited_seconds: wait.as_secs(),
                })
            }
            Ok(None) => tokio::time::sleep(POLL).await,
            Err(e) => break Err(e),
        }
    };

    // Back to OK even when the history could not be read: the drill leaves no alarm raised.
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
