//! What `apply --format json` and `backout --format json` print for a run across accounts
//! (`--org`, `--accounts`, or a saved organization plan): one document for every account, its
//! calls written as the organization plan writes its actions, with what became of each. Pure,
//! like [`super::result`], whose parts it reuses.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::Serialize;

use super::result::{
    self, CallOutcome, ControlResult, ControlsAfter, Counts, RemovalResult, BACKOUT_FORMAT_VERSION,
};
use super::Outcome;
use crate::audit::backout::{Kept, RemovalPlan};
use crate::audit::org::{AccountStatus, OrgAction, OrgPlan, ORG_FORMAT_VERSION};

/// The `kind` of an organization apply result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub enum OrgApplyKind {
    #[serde(rename = "cis-fix-org-apply-result")]
    OrgApplyResult,
}

/// The `kind` of an organization backout result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
pub enum OrgBackoutKind {
    #[serde(rename = "cis-fix-org-backout-result")]
    OrgBackoutResult,
}

/// What became of one account's calls: their outcomes in order, and what stopped them.
#[derive(Debug, Clone, Default)]
pub struct AccountCalls {
    pub outcomes: Vec<Outcome>,
    /// Why the account's calls stopped short (a failed call, a refusal, Ctrl-C, no session);
    /// `None` when every call was made.
    pub stopped: Option<String>,
}

/// Each account's calls, by account id. An account absent here made no call.
pub type CallsByAccount = BTreeMap<String, AccountCalls>;

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct OrgApplyResult {
    /// The organization plan's `format_version`: the actions here are written as its are.
    #[schemars(extend("const" = ORG_FORMAT_VERSION))]
    pub format_version: u32,
    pub kind: OrgApplyKind,
    pub caller_account_id: String,
    pub region: String,
    pub benchmark: String,
    /// Ctrl-C stopped the run between two calls (the process exits 130); the accounts after
    /// the one it stopped made no call.
    pub interrupted: bool,
    /// The plan's actions, account after account, in the order they were (or would have
    /// been) made.
    pub actions: Vec<OrgActionResult>,
    pub counts: Counts,
    /// Every account of the plan, in its order.
    pub accounts: Vec<AccountApplied>,
}

/// One of the organization plan's actions, as the plan writes it, with what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct OrgActionResult {
    #[serde(flatten)]
    pub action: OrgAction,
    pub outcome: CallOutcome,
    /// Why the call failed; only when `outcome` is `failed`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// One account after the apply.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct AccountApplied {
    pub account_id: String,
    pub name: String,
    /// As in the plan: `not_auditable` accounts were not read, and nothing was done in them.
    pub status: AccountStatus,
    /// Why the account could not be read (as in the plan).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Why this account's calls stopped short: a failed call, a refusal, or Ctrl-C.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// Every selected control of the account: its status before the apply, and after it
    /// given what was done, computed as for one account: a non-compliant control's `after`
    /// is what the plan said it would be once applied if every action serving it in this
    /// account (its own, and those its chain shares, such as the topic) was done, wherever
    /// that action was made (an organization trail's chain lives in its owner's account).
    pub controls: Vec<ControlResult>,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct OrgBackoutResult {
    #[schemars(extend("const" = BACKOUT_FORMAT_VERSION))]
    pub format_version: u32,
    pub kind: OrgBackoutKind,
    pub caller_account_id: String,
    pub region: String,
    pub benchmark: String,
    /// Ctrl-C stopped the run between two calls (the process exits 130).
    pub interrupted: bool,
    /// Every account read in full, in order: what was removed and kept in each.
    pub accounts: Vec<AccountBackedOut>,
    /// The removals' counts across the accounts.
    pub counts: Counts,
    /// Accounts that could not be read in full, so were not touched, with why.
    pub not_touched: Vec<NotTouched>,
}

/// One account's part of a backout across accounts: as one account's result says it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct AccountBackedOut {
    pub account_id: String,
    /// Why this account's removals stopped short: a failed call, a refusal, or Ctrl-C.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// The removals, in the order they were (or would have been) made.
    pub actions: Vec<RemovalResult>,
    /// What cis-fix created but leaves in place, and why.
    pub kept: Vec<Kept>,
    pub counts: Counts,
    /// The selected controls' status after the removals, from the accounts read again and
    /// audited as `cis-fix plan --org` does; absent when they were not read
    /// (`controls_unknown` says why).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controls: Option<Vec<ControlResult>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub controls_unknown: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct NotTouched {
    pub account_id: String,
    pub reason: String,
}

/// The result of an apply of the organization plan `plan` whose accounts' calls ended as
/// `calls`.
pub fn org_apply_result(
    plan: &OrgPlan,
    calls: &CallsByAccount,
    interrupted: bool,
    show_endpoints: bool,
) -> OrgApplyResult {
    let outcomes = outcomes_of(plan, calls);
    let actions = plan
        .actions
        .iter()
        .zip(&outcomes)
        .map(|(action, outcome)| {
            let (outcome, error) = result::split(outcome);
            let mut action = action.clone();
            result::mask_action(&mut action.action, show_endpoints);
            OrgActionResult {
                action,
                outcome,
                error,
            }
        })
        .collect();
    let accounts = plan
        .accounts
        .iter()
        .map(|account| AccountApplied {
            account_id: account.account_id.clone(),
            name: account.name.clone(),
            status: account.status,
            error: account.error.clone(),
            stopped: calls
                .get(&account.account_id)
                .and_then(|c| c.stopped.clone()),
            controls: account
                .controls
                .iter()
                .map(|control| ControlResult {
                    id: control.id.clone(),
                    slug: control.slug.clone(),
                    before: Some(control.status),
                    after: result::after(
                        control.status,
                        control.after_apply,
                        served_and_done(plan, &outcomes, &account.account_id, control),
                    ),
                })
                .collect(),
        })
        .collect();
    OrgApplyResult {
        format_version: ORG_FORMAT_VERSION,
        kind: OrgApplyKind::OrgApplyResult,
        caller_account_id: plan.caller_account_id.clone(),
        region: plan.region.clone(),
        benchmark: plan.benchmark.clone(),
        interrupted,
        counts: result::Counts::of(&outcomes),
        actions,
        accounts,
    }
}

/// Each of the plan's actions' outcome: the `n`th action of an account is that account's
/// `n`th call (each account's calls are its actions in plan order).
fn outcomes_of(plan: &OrgPlan, calls: &CallsByAccount) -> Vec<Outcome> {
    let mut next: BTreeMap<&str, usize> = BTreeMap::new();
    plan.actions
        .iter()
        .map(|action| {
            let index = next.entry(action.account_id.as_str()).or_default();
            let outcome = calls
                .get(&action.account_id)
                .and_then(|c| c.outcomes.get(*index))
                .cloned()
                .unwrap_or(Outcome::NotAttempted);
            *index += 1;
            outcome
        })
        .collect()
}

/// Whether every action serving `control` of `account` (its own, and the shared ones of its
/// chain, wherever they are made) was done.
fn served_and_done(
    plan: &OrgPlan,
    outcomes: &[Outcome],
    account: &str,
    control: &crate::audit::ControlReport,
) -> bool {
    plan.actions
        .iter()
        .zip(outcomes)
        .filter(|(action, _)| action.fixes.iter().any(|f| f == account))
        .filter(|(action, _)| {
            action
                .action
                .control
                .as_deref()
                .is_none_or(|c| c == control.id || c == control.slug)
        })
        .all(|(_, outcome)| *outcome == Outcome::Done)
}

/// One account's part of a backout across accounts, with its outcomes and the controls now.
pub struct AccountBackout<'a> {
    pub account_id: &'a str,
    pub removal: &'a RemovalPlan,
    pub calls: Option<&'a AccountCalls>,
    pub controls: ControlsAfter,
}

/// The result of a backout across accounts.
pub struct OrgBackout<'a> {
    pub caller_account_id: &'a str,
    pub region: &'a str,
    pub benchmark: &'a str,
    pub interrupted: bool,
    pub accounts: Vec<AccountBackout<'a>>,
    pub not_touched: &'a [(String, String)],
}

pub fn org_backout_result(backout: OrgBackout<'_>, show_endpoints: bool) -> OrgBackoutResult {
    let mut all = Vec::new();
    let accounts = backout
        .accounts
        .into_iter()
        .map(|account| {
            let outcomes = account.calls.map_or(&[][..], |c| c.outcomes.as_slice());
            let actions = result::removal_results(account.removal, outcomes, show_endpoints);
            all.extend(actions.iter().map(|a| a.outcome));
            let (controls, controls_unknown) = match account.controls {
                Ok(controls) => (Some(controls), None),
                Err(why) => (None, Some(why)),
            };
            AccountBackedOut {
                account_id: account.account_id.to_string(),
                stopped: account.calls.and_then(|c| c.stopped.clone()),
                counts: Counts::of_calls(actions.iter().map(|a| a.outcome)),
                actions,
                kept: account.removal.kept.clone(),
                controls,
                controls_unknown,
            }
        })
        .collect();
    OrgBackoutResult {
        format_version: BACKOUT_FORMAT_VERSION,
        kind: OrgBackoutKind::OrgBackoutResult,
        caller_account_id: backout.caller_account_id.to_string(),
        region: backout.region.to_string(),
        benchmark: backout.benchmark.to_string(),
        interrupted: backout.interrupted,
        accounts,
        counts: Counts::of_calls(all.into_iter()),
        not_touched: backout
            .not_touched
            .iter()
            .map(|(account, reason)| NotTouched {
                account_id: account.clone(),
                reason: reason.clone(),
            })
            .collect(),
    }
}

impl OrgApplyResult {
    /// Pretty JSON, with a line end.
    pub fn to_json(&self) -> String {
        // Strings, numbers, maps and lists only: serialising cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }
}

impl OrgBackoutResult {
    /// Pretty JSON, with a line end.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }
}
