//! What `apply --format json` and `backout --format json` print: each call with what became
//! of it, the counts, and the controls' status afterwards. Pure: built from the plan (or the
//! removals) and the [`Run`](super::Run)'s outcomes.

use schemars::JsonSchema;
use serde::Serialize;

use super::Outcome;
use crate::audit::backout::{Kept, Removal, RemovalPlan, RemoveCall};
use crate::audit::{Action, AfterApply, Call, ControlReport, Plan, Status, FORMAT_VERSION};
use crate::redact::mask_endpoint;

/// Version of the backout result's shape. (The apply result's is the plan's
/// [`FORMAT_VERSION`]: its actions are the plan's actions.)
pub const BACKOUT_FORMAT_VERSION: u32 = 1;

/// The `kind` of an apply result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub enum ApplyKind {
    #[serde(rename = "cis-fix-apply-result")]
    ApplyResult,
}

/// The `kind` of a backout result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub enum BackoutKind {
    #[serde(rename = "cis-fix-backout-result")]
    BackoutResult,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ApplyResult {
    /// The plan's `format_version`: the actions here are written as the plan's are.
    #[schemars(extend("const" = FORMAT_VERSION))]
    pub format_version: u32,
    pub kind: ApplyKind,
    pub account_id: String,
    pub region: String,
    pub benchmark: String,
    /// Ctrl-C stopped the run between two calls (the process exits 130).
    pub interrupted: bool,
    /// The plan's actions, in the order they were (or would have been) made.
    pub actions: Vec<ActionResult>,
    pub counts: Counts,
    /// Every selected control: its status before the apply, and after it given what was
    /// done. Computed from the plan and the outcomes, not read again: a non-compliant
    /// control's `after` is what the plan said it would be once applied if all of its actions
    /// and every shared one (topic, subscription) were done, and `non_compliant` otherwise;
    /// the others keep their status.
    pub controls: Vec<ControlResult>,
}

/// One of the plan's actions, as the plan writes it, with what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ActionResult {
    #[serde(flatten)]
    pub action: Action,
    pub outcome: CallOutcome,
    /// Why the call failed; only when `outcome` is `failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CallOutcome {
    /// The call was made.
    Done,
    /// The call failed (`error` says why); no later call was started.
    Failed,
    /// Not started: an earlier call failed, or Ctrl-C stopped the run.
    NotAttempted,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Counts {
    pub done: usize,
    pub failed: usize,
    pub not_attempted: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct ControlResult {
    pub id: String,
    pub slug: String,
    /// The status the run started from (apply only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub before: Option<Status>,
    pub after: StatusAfter,
}

/// A control's status once the run is over.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum StatusAfter {
    Compliant,
    /// Whole once someone confirms a new email or https subscription.
    AwaitsConfirmation,
    NonCompliant,
    Blocked,
    NotAuditable,
}

impl From<Status> for StatusAfter {
    fn from(status: Status) -> StatusAfter {
        match status {
            Status::Compliant => StatusAfter::Compliant,
            Status::NonCompliant => StatusAfter::NonCompliant,
            Status::Blocked => StatusAfter::Blocked,
            Status::NotAuditable => StatusAfter::NotAuditable,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct BackoutResult {
    #[schemars(extend("const" = BACKOUT_FORMAT_VERSION))]
    pub format_version: u32,
    pub kind: BackoutKind,
    pub account_id: String,
    pub region: String,
    pub benchmark: String,
    /// Ctrl-C stopped the run between two calls (the process exits 130).
    pub interrupted: bool,
    /// The removals, in the order they were (or would have been) made: alarms, metric
    /// filters, subscriptions, topics.
    pub actions: Vec<RemovalResult>,
    /// What cis-fix created but leaves in place, and why.
    pub kept: Vec<Kept>,
    pub counts: Counts,
    /// The selected controls' status after the removals, from the account read again and
    /// audited as `cis-fix plan` does. Absent when it was not read (`controls_unknown` says
    /// why).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controls: Option<Vec<ControlResult>>,
    /// Why `controls` is absent: the run was interrupted, or the account could not be read
    /// again.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controls_unknown: Option<String>,
}

/// One removal, with what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct RemovalResult {
    /// The control, by its id in the selected benchmark (as in the plan), for alarms and
    /// filters; null for topics and subscriptions.
    pub control: Option<String>,
    pub region: String,
    #[serde(flatten)]
    pub call: RemoveCall,
    pub outcome: CallOutcome,
    /// Why the call failed; only when `outcome` is `failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// The result of an apply of `plan` whose calls ended as `outcomes` (one per action).
pub fn apply_result(
    plan: &Plan,
    outcomes: &[Outcome],
    interrupted: bool,
    show_endpoints: bool,
) -> ApplyResult {
    let outcome = |index: usize| outcomes.get(index).unwrap_or(&Outcome::NotAttempted);
    let actions: Vec<ActionResult> = plan
        .actions
        .iter()
        .enumerate()
        .map(|(index, action)| {
            let mut action = action.clone();
            mask_action(&mut action, show_endpoints);
            let (outcome, error) = split(outcome(index));
            ActionResult {
                action,
                outcome,
                error,
            }
        })
        .collect();
    let shared_done = plan
        .actions
        .iter()
        .enumerate()
        .filter(|(_, a)| a.control.is_none())
        .all(|(index, _)| *outcome(index) == Outcome::Done);
    let controls = plan
        .controls
        .iter()
        .map(|control| {
            let serves = |a: &Action| {
                a.control
                    .as_deref()
                    .is_some_and(|c| c == control.id || c == control.slug)
            };
            let own_done = plan
                .actions
                .iter()
                .enumerate()
                .filter(|(_, a)| serves(a))
                .all(|(index, _)| *outcome(index) == Outcome::Done);
            ControlResult {
                id: control.id.clone(),
                slug: control.slug.clone(),
                before: Some(control.status),
                after: after(control.status, control.after_apply, own_done && shared_done),
            }
        })
        .collect();
    ApplyResult {
        format_version: FORMAT_VERSION,
        kind: ApplyKind::ApplyResult,
        account_id: plan.account_id.clone(),
        region: plan.region.clone(),
        benchmark: plan.benchmark.clone(),
        interrupted,
        counts: Counts::of(outcomes),
        actions,
        controls,
    }
}

/// A control's status after the run: the plan's promise when all that serves it was done.
pub(super) fn after(status: Status, promise: Option<AfterApply>, done: bool) -> StatusAfter {
    match (status, promise) {
        (Status::NonCompliant, Some(after)) if done => match after {
            AfterApply::Compliant => StatusAfter::Compliant,
            AfterApply::AwaitsConfirmation => StatusAfter::AwaitsConfirmation,
            AfterApply::NonCompliant => StatusAfter::NonCompliant,
        },
        (status, _) => status.into(),
    }
}

/// Where a backout result's `controls` come from: the fresh audit, or why there is none.
pub type ControlsAfter = std::result::Result<Vec<ControlResult>, String>;

/// The selected controls' status in a fresh `plan` (after a backout).
pub fn controls_now(plan: &Plan) -> Vec<ControlResult> {
    plan.controls.iter().map(control_now).collect()
}

/// A control's status in a fresh audit (after a backout).
pub fn control_now(control: &ControlReport) -> ControlResult {
    ControlResult {
        id: control.id.clone(),
        slug: control.slug.clone(),
        before: None,
        after: control.status.into(),
    }
}

/// What a backout of `removal` did.
pub struct Backout<'a> {
    pub account_id: &'a str,
    pub region: &'a str,
    pub benchmark: &'a str,
    pub removal: &'a RemovalPlan,
    pub outcomes: &'a [Outcome],
    pub interrupted: bool,
    pub controls: ControlsAfter,
}

/// The result of a backout.
pub fn backout_result(backout: Backout<'_>, show_endpoints: bool) -> BackoutResult {
    let actions = removal_results(backout.removal, backout.outcomes, show_endpoints);
    let (controls, controls_unknown) = match backout.controls {
        Ok(controls) => (Some(controls), None),
        Err(why) => (None, Some(why)),
    };
    BackoutResult {
        format_version: BACKOUT_FORMAT_VERSION,
        kind: BackoutKind::BackoutResult,
        account_id: backout.account_id.to_string(),
        region: backout.region.to_string(),
        benchmark: backout.benchmark.to_string(),
        interrupted: backout.interrupted,
        actions,
        kept: backout.removal.kept.clone(),
        counts: Counts::of(backout.outcomes),
        controls,
        controls_unknown,
    }
}

/// Each removal of `removal` with its outcome (`not_attempted` past the last outcome).
pub(super) fn removal_results(
    removal: &RemovalPlan,
    outcomes: &[Outcome],
    show_endpoints: bool,
) -> Vec<RemovalResult> {
    removal
        .removals
        .iter()
        .enumerate()
        .map(|(index, removal)| {
            let (outcome, error) = split(outcomes.get(index).unwrap_or(&Outcome::NotAttempted));
            RemovalResult {
                control: removal.control.clone(),
                region: removal.region.clone(),
                call: masked(removal, show_endpoints),
                outcome,
                error,
            }
        })
        .collect()
}

/// An action as the results write it: a subscription's endpoint masked unless shown.
pub(super) fn mask_action(action: &mut Action, show_endpoints: bool) {
    if let Call::Subscribe {
        protocol, endpoint, ..
    } = &mut action.call
    {
        if !show_endpoints {
            *endpoint = mask_endpoint(protocol, endpoint);
        }
    }
}

/// A removal's call as backout writes it, with the endpoint masked unless shown.
fn masked(removal: &Removal, show_endpoints: bool) -> RemoveCall {
    let mut call = removal.call.clone();
    if let RemoveCall::Unsubscribe {
        protocol, endpoint, ..
    } = &mut call
    {
        if !show_endpoints {
            *endpoint = mask_endpoint(protocol, endpoint);
        }
    }
    call
}

impl Counts {
    pub(super) fn of(outcomes: &[Outcome]) -> Counts {
        Counts::of_calls(outcomes.iter().map(|o| split(o).0))
    }

    pub(super) fn of_calls(outcomes: impl Iterator<Item = CallOutcome>) -> Counts {
        let mut counts = Counts::default();
        for outcome in outcomes {
            match outcome {
                CallOutcome::Done => counts.done += 1,
                CallOutcome::Failed => counts.failed += 1,
                CallOutcome::NotAttempted => counts.not_attempted += 1,
            }
        }
        counts
    }
}

pub(super) fn split(outcome: &Outcome) -> (CallOutcome, Option<String>) {
    match outcome {
        Outcome::Done => (CallOutcome::Done, None),
        Outcome::Failed(error) => (CallOutcome::Failed, Some(error.clone())),
        Outcome::NotAttempted => (CallOutcome::NotAttempted, None),
    }
}

impl ApplyResult {
    /// Pretty JSON, with a line end.
    pub fn to_json(&self) -> String {
        // Strings, numbers, maps and lists only: serialising cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }
}

impl BackoutResult {
    /// Pretty JSON, with a line end.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::backout::Removal;

    #[test]
    fn removals_are_written_as_backout_writes_them_with_endpoints_masked() {
        let removals = [
            RemoveCall::DeleteAlarm {
                alarm_name: "cis-fix-root-account-usage".into(),
            },
            RemoveCall::DeleteMetricFilter {
                log_group_name: "trail-logs".into(),
                filter_name: "cis-fix-root-account-usage-0011aabb".into(),
            },
            RemoveCall::Unsubscribe {
                subscription_arn: "arn:aws:sns:us-east-1:123456789012:t:1".into(),
                topic_arn: "arn:aws:sns:us-east-1:123456789012:t".into(),
                protocol: "email".into(),
                endpoint: "security@example.com".into(),
            },
            RemoveCall::DeleteTopic {
                topic_arn: "arn:aws:sns:us-east-1:123456789012:t".into(),
            },
        ]
        .map(|call| Removal {
            control: Some("root-account-usage".into()),
            region: "us-east-1".into(),
            call,
        });
        for removal in &removals {
            let ours = serde_json::to_value(RemovalResult {
                control: removal.control.clone(),
                region: removal.region.clone(),
                call: masked(removal, true),
                outcome: CallOutcome::Done,
                error: None,
            })
            .unwrap();
            let mut theirs = serde_json::to_value(removal).unwrap();
            theirs["outcome"] = "done".into();
            assert_eq!(ours, theirs);
        }
        let masked = serde_json::to_value(masked(&removals[2], false)).unwrap();
        assert_eq!(masked["endpoint"], "s****@example.com");
    }

    #[test]
    fn counts_and_outcomes() {
        let outcomes = [
            Outcome::Done,
            Outcome::Failed("boom".into()),
            Outcome::NotAttempted,
            Outcome::NotAttempted,
        ];
        assert_eq!(
            Counts::of(&outcomes),
            Counts {
                done: 1,
                failed: 1,
                not_attempted: 2
            }
        );
        assert_eq!(
            split(&outcomes[1]),
            (CallOutcome::Failed, Some("boom".into()))
        );
    }
}
