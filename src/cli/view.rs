//! The views of a run: each chooses the single-account or the organization wording by the arm
//! of [`Observed`], and calls the renderer of that view. No command decides it itself.

use super::output::regions;
use crate::apply::Run;
use crate::audit::backout::RemovalPlan;
use crate::render::{self, TextOptions};
use crate::run::backout::Backout;
use crate::run::drill::Drill;
use crate::run::{Observed, Work};

/// The plan, as text.
pub(super) fn plan(observed: &Observed, options: TextOptions) -> String {
    match observed {
        Observed::One(one) => render::text(&one.plan, options),
        Observed::Many(many) => render::org::org_text(&many.plan, options),
    }
}

/// The plan, as its JSON document.
pub(super) fn plan_json(observed: &Observed, show_endpoints: bool) -> String {
    match observed {
        Observed::One(one) => render::json(&one.plan, show_endpoints),
        Observed::Many(many) => render::org::org_json(&many.plan, show_endpoints),
    }
}

/// `Apply 4 changes to account A in us-east-1?`, or `… to 3 accounts in …`.
pub(super) fn apply_question(observed: &Observed, work: &[Work]) -> String {
    let count: usize = work.iter().map(|w| w.actions.len()).sum();
    let changes = format!("{count} change{}", if count == 1 { "" } else { "s" });
    let where_ = regions(
        work.iter()
            .flat_map(|w| w.actions.iter().map(|a| a.region.as_str())),
    );
    match observed {
        Observed::One(one) => {
            format!(
                "Apply {changes} to account {} in {where_}?",
                one.plan.account_id
            )
        }
        Observed::Many(_) => format!(
            "Apply {changes} to {} account{} in {where_}?",
            work.len(),
            if work.len() == 1 { "" } else { "s" }
        ),
    }
}

/// Before an account's record lines: its heading, when the run has many.
pub(super) fn account_start(observed: &Observed, account: &str) -> Option<String> {
    matches!(observed, Observed::Many(_)).then(|| format!("\nAccount {account}:\n"))
}

/// After an account's record lines, when the run has many and the account finished: how many
/// calls it made.
pub(super) fn account_end(observed: &Observed, run: &Run) -> Option<String> {
    if !matches!(observed, Observed::Many(_)) || run.stop.is_some() {
        return None;
    }
    let done = run.done();
    Some(format!(
        "  {done} change{} made\n",
        if done == 1 { "" } else { "s" }
    ))
}

/// What backout will remove and keep: one account's view, or the accounts' grouped.
pub(super) fn removals(backout: &Backout, options: TextOptions) -> String {
    if backout.one {
        return backout
            .accounts
            .iter()
            .map(|a| render::removal_text(&a.account_id, &a.region, &a.removal, options))
            .collect();
    }
    let parts: Vec<(&str, &str, &RemovalPlan)> = backout
        .accounts
        .iter()
        .map(|a| (a.account_id.as_str(), a.region.as_str(), &a.removal))
        .collect();
    render::across::removals(&parts, options)
}

/// `Remove 27 resources created by cis-fix from account A in us-east-1?`, or `… from N
/// accounts in …`.
pub(super) fn removal_question(backout: &Backout, count: usize) -> String {
    let resources = format!("{count} resource{}", if count == 1 { "" } else { "s" });
    let regions = regions(
        backout
            .work()
            .flat_map(|a| a.removal.removals.iter().map(|r| r.region.as_str())),
    );
    match (backout.one, backout.accounts.first()) {
        (true, Some(a)) => format!(
            "Remove {resources} created by cis-fix from account {} in {regions}?",
            a.account_id
        ),
        _ => {
            let accounts = backout.work().count();
            format!(
                "Remove {resources} created by cis-fix from {accounts} account{} in {regions}?",
                if accounts == 1 { "" } else { "s" }
            )
        }
    }
}

/// What a drill will do and skip: one account's view, or the accounts' grouped.
pub(super) fn drill(drill: &Drill, one: bool, options: TextOptions) -> String {
    match (one, drill.accounts.first()) {
        (true, Some(d)) => {
            render::drill_intro(&d.account_id, &d.region, &d.targets, &d.skipped, options)
        }
        _ => render::across::drills(&drill.accounts, options),
    }
}
