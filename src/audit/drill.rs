//! `cis-fix drill`, the pure half: which controls a drill can prove, and what an alarm's
//! history says became of its notification.
//!
//! A drill works on the chains the plan found whole: compliant controls, and those whose only
//! missing proof is the delivery link (`topic_delivery_unverified`, or a key policy cis-fix may
//! not read). There the drill is the proof.

use serde::{Deserialize, Serialize};

use super::plan::{ControlReport, Plan, Status};
use crate::inventory::{HistoryItem, Snapshot};

/// One control the drill will fire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DrillTarget {
    pub control: String,
    pub slug: String,
    pub region: String,
    pub alarm: String,
    pub topic_arn: String,
}

/// A control the drill leaves alone, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    pub control: String,
    pub reason: String,
}

/// Not compliant only for want of its watch path ([`Code::is_watch_path`]).
fn metric_whole(control: &ControlReport) -> bool {
    control.status == Status::NonCompliant
        && !control.findings.is_empty()
        && control.findings.iter().all(|f| f.code.is_watch_path())
}

/// Splits the plan's controls into those a drill can fire and those it skips.
pub fn targets(plan: &Plan, snapshot: &Snapshot) -> (Vec<DrillTarget>, Vec<Skipped>) {
    targets_in(&plan.controls, snapshot)
}

/// [`targets`] for one account's controls (as an organization plan reports them), with that
/// account's snapshot. A control whose chain lives in another account (a member relying on
/// the organization trail) is skipped here: its alarm is drilled once, in the account that
/// owns it.
pub fn targets_in(
    controls: &[ControlReport],
    snapshot: &Snapshot,
) -> (Vec<DrillTarget>, Vec<Skipped>) {
    let mut targets = Vec::new();
    let mut skipped = Vec::new();
    for control in controls {
        let chain = match (&control.chain, &control.delivery_unproven) {
            // A control whose only gaps are in its watch path has a whole metric chain: the
            // drill tests that chain (SetAlarmState cannot drive an EventBridge rule).
            (Some(chain), _) if control.status == Status::Compliant || metric_whole(control) => {
                chain
            }
            (_, Some(chain)) => chain,
            _ => {
                skipped.push(Skipped {
                    control: control.id.clone(),
                    reason: format!(
                        "{}: no whole chain to test (run `cis-fix plan` to see what is missing)",
                        status_word(control.status)
                    ),
                });
                continue;
            }
        };
        if chain.account_id != snapshot.account_id {
            skipped.push(Skipped {
                control: control.id.clone(),
                reason: elsewhere(&chain.account_id, &chain.alarm),
            });
            continue;
        }
        let state = snapshot
            .region(&chain.region)
            .and_then(|r| r.alarms.iter().find(|a| a.name == chain.alarm))
            .and_then(|a| a.state.as_deref());
        if state == Some("ALARM") {
            // Setting ALARM again is no state change, so CloudWatch would run no action.
            skipped.push(Skipped {
                control: control.id.clone(),
                reason: format!(
                    "alarm `{}` is already in ALARM, so setting it again would send nothing; drill again once it is back to OK",
                    chain.alarm
                ),
            });
            continue;
        }
        targets.push(DrillTarget {
            control: control.id.clone(),
            slug: control.slug.clone(),
            region: chain.region.clone(),
            alarm: chain.alarm.clone(),
            topic_arn: chain.topic_arn.clone(),
        });
    }
    (targets, skipped)
}

/// Why a control whose chain is another account's is not drilled in this one.
/// One account's part of a drill: the alarms it drills, and the controls it skips (why).
#[derive(Debug, Clone, PartialEq)]
pub struct AccountDrill {
    pub account_id: String,
    /// The region trails were read from (the view's home).
    pub region: String,
    pub targets: Vec<DrillTarget>,
    pub skipped: Vec<Skipped>,
}

/// Across an organization: a member skipping a control because the organization trail's
/// chain is drilled in its owner's account is told so only where that account really drills
/// the alarm; otherwise it is told the chain is not drilled here.
pub fn across(plan: &crate::audit::org::OrgPlan, drills: &mut [AccountDrill]) {
    let drilled: Vec<(String, String)> = drills
        .iter()
        .flat_map(|d| {
            d.targets
                .iter()
                .map(|t| (d.account_id.clone(), t.alarm.clone()))
        })
        .collect();
    for d in drills.iter_mut() {
        for s in &mut d.skipped {
            let Some(owner) = owner_of(plan, &d.account_id, &s.control) else {
                continue;
            };
            if s.reason == elsewhere(&owner.0, &owner.1)
                && !drilled
                    .iter()
                    .any(|(a, alarm)| *a == owner.0 && *alarm == owner.1)
            {
                s.reason = format!(
                    "its chain is account {}'s (the organization trail's), which is not drilled here (see account {})",
                    owner.0, owner.0
                );
            }
        }
    }
}

/// The account and alarm of the chain a member's control relies on, when it is another
/// account's.
fn owner_of(
    plan: &crate::audit::org::OrgPlan,
    account: &str,
    control: &str,
) -> Option<(String, String)> {
    let report = plan.accounts.iter().find(|a| a.account_id == account)?;
    let c = report.controls.iter().find(|c| c.id == control)?;
    let chain = c.chain.as_ref().or(c.delivery_unproven.as_ref())?;
    (chain.account_id != account).then(|| (chain.account_id.clone(), chain.alarm.clone()))
}

pub fn elsewhere(owner: &str, alarm: &str) -> String {
    format!(
        "its chain is account {owner}'s (the organization trail's): alarm `{alarm}` is drilled once, in account {owner}"
    )
}

fn status_word(status: Status) -> &'static str {
    match status {
        Status::Compliant => "compliant",
        Status::NonCompliant => "not compliant",
        Status::Blocked => "blocked",
        Status::NotAuditable => "not auditable",
    }
}

/// The reason the drill gives `SetAlarmState`: it shows in the notification and the history.
pub fn reason(target: &DrillTarget) -> String {
    crate::ownership::drill_reason(&target.control, &target.slug)
}

/// An alarm the drill set to ALARM and could not set back to OK. Until it is reset (by hand,
/// or at its next evaluation) it sends nothing: a real event finds it already in ALARM.
#[derive(Debug, Clone, PartialEq)]
pub struct Stuck {
    pub control: String,
    pub account: String,
    pub region: String,
    pub alarm: String,
    /// Why `SetAlarmState` OK failed.
    pub error: String,
}

/// The command that sets a stuck alarm back to OK, to run with credentials for its account.
pub fn reset_command(stuck: &Stuck) -> String {
    format!(
        "aws cloudwatch set-alarm-state --alarm-name {} --state-value OK --state-reason 'cis-fix drill: reset by hand' --region {}",
        shell_quoted(&stuck.alarm),
        stuck.region
    )
}

/// `text` as one shell word: alarm names may hold spaces, quotes and `$`.
fn shell_quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

/// What became of the notification to one topic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Outcome {
    /// CloudWatch published the notification to the topic.
    Delivered {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        message_id: Option<String>,
    },
    /// CloudWatch failed to publish; `error` is AWS's own text.
    Failed { error: String },
    /// No result within the wait.
    NoResult { waited_seconds: u64 },
}

/// Reads the result of the action on `topic_arn` from an alarm's `Action` history items
/// (newest first or not: the first item about that topic wins). `None` while there is none.
pub fn outcome(topic_arn: &str, items: &[HistoryItem]) -> Option<Outcome> {
    items.iter().find_map(|item| {
        let data: serde_json::Value = serde_json::from_str(&item.data).unwrap_or_default();
        let resource = data
            .get("notificationResource")
            .and_then(|v| v.as_str())
            .unwrap_or_default();
        if resource != topic_arn && !item.summary.contains(topic_arn) {
            return None;
        }
        let state = data.get("actionState").and_then(|v| v.as_str());
        let failed = state == Some("Failed") || item.summary.starts_with("Failed");
        if failed {
            let error = data
                .get("error")
                .and_then(|v| v.as_str())
                .map(str::to_string)
                .unwrap_or_else(|| item.summary.clone());
            return Some(Outcome::Failed { error });
        }
        if state == Some("Succeeded") || item.summary.starts_with("Successfully") {
            let message_id = data
                .pointer("/publishedMessage/id")
                .or_else(|| data.pointer("/publishedMessage/messageId"))
                .and_then(|v| v.as_str())
                .map(str::to_string);
            return Some(Outcome::Delivered { message_id });
        }
        None
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::tests::{
        account, alarm, audit, catalog, filter, subscription, topic_arn, GROUP,
    };
    use crate::audit::Options;

    const TOPIC: &str = "arn:aws:sns:us-east-1:111122223333:ops";

    fn item(summary: &str, data: &str) -> HistoryItem {
        HistoryItem {
            summary: summary.into(),
            data: data.into(),
        }
    }

    #[test]
    fn reads_success_and_failure_from_history() {
        assert_eq!(outcome(TOPIC, &[]), None);
        let ok = item(
            &format!("Successfully executed action {TOPIC}"),
            &format!(
                r#"{{"actionState":"Succeeded","notificationResource":"{TOPIC}","publishedMessage":{{"id":"m-1"}}}}"#
            ),
        );
        assert_eq!(
            outcome(TOPIC, &[ok]),
            Some(Outcome::Delivered {
                message_id: Some("m-1".into())
            })
        );
        let failed = item(
            &format!("Failed to execute action {TOPIC}"),
            &format!(
                r#"{{"actionState":"Failed","notificationResource":"{TOPIC}","error":"CloudWatch Alarms does not have authorization to access the SNS topic encryption key."}}"#
            ),
        );
        let Some(Outcome::Failed { error }) = outcome(TOPIC, &[failed]) else {
            panic!()
        };
        assert!(error.contains("encryption key"));
        // An action on another topic says nothing about this one.
        let other = item(
            "Successfully executed action arn:aws:sns:us-east-1:111122223333:other",
            r#"{"actionState":"Succeeded","notificationResource":"arn:aws:sns:us-east-1:111122223333:other"}"#,
        );
        assert_eq!(outcome(TOPIC, &[other]), None);
        // Unparseable data falls back to the summary.
        let summary_only = item(&format!("Failed to execute action {TOPIC}"), "not json");
        assert!(matches!(
            outcome(TOPIC, &[summary_only]),
            Some(Outcome::Failed { .. })
        ));
    }

    #[test]
    fn a_stuck_alarm_gets_a_command_that_resets_it() {
        let stuck = Stuck {
            control: "4.6".into(),
            account: "111122223333".into(),
            region: "eu-west-1".into(),
            alarm: "team's alarm $HOME".into(),
            error: "denied".into(),
        };
        assert_eq!(
            reset_command(&stuck),
            r"aws cloudwatch set-alarm-state --alarm-name 'team'\''s alarm $HOME' --state-value OK --state-reason 'cis-fix drill: reset by hand' --region eu-west-1"
        );
    }

    #[test]
    fn drills_compliant_chains_and_skips_the_rest() {
        let mut s = account();
        let ops = topic_arn("ops");
        let r = s.regions.get_mut("us-east-1").unwrap();
        r.metric_filters.push(filter(
            GROUP,
            "failures",
            r#"{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }"#,
            "Failures",
        ));
        r.alarms.push(alarm("failures", "Failures", Some(&ops)));
        r.subscriptions
            .push(subscription(&ops, "email", "oncall@example.com", true));
        let plan = audit(&catalog(&["4.6", "4.1"]), &s, &Options::default());
        let (targets, skipped) = super::targets(&plan, &s);
        assert_eq!(targets.len(), 1);
        assert_eq!(targets[0].control, "4.6");
        assert_eq!(targets[0].alarm, "failures");
        assert_eq!(targets[0].topic_arn, ops);
        assert_eq!(skipped.len(), 1);
        assert_eq!(skipped[0].control, "4.1");

        // A chain another account owns (a member relying on the organization trail) is
        // drilled there, not here.
        let mut controls = plan.controls.clone();
        for c in &mut controls {
            if let Some(chain) = c.chain.as_mut() {
                chain.account_id = "999988887777".into();
            }
        }
        let (targets, skipped) = super::targets_in(&controls, &s);
        assert!(targets.is_empty());
        let here = skipped.iter().find(|s| s.control == "4.6").unwrap();
        assert_eq!(here.reason, super::elsewhere("999988887777", "failures"));

        // An alarm already in ALARM cannot be drilled: no state change, no action.
        s.regions.get_mut("us-east-1").unwrap().alarms[0].state = Some("ALARM".into());
        let plan = audit(&catalog(&["4.6"]), &s, &Options::default());
        let (targets, skipped) = super::targets(&plan, &s);
        assert!(targets.is_empty());
        assert!(skipped[0].reason.contains("already in ALARM"));
    }
}
