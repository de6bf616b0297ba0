//! The views of a run: each chooses the single-account or the organization wording by the arm
//! of [`Observed`], and calls the renderer of that view. No command decides it itself.

use super::output::regions;
use crate::apply::Run;
use crate::render::{self, TextOptions};
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
