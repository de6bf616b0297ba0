//! What the recipes share once a run is over: how an apply ends (what waits, what stays
//! undone, and the exit status), the stats line, and the regions a question names.

use std::time::Instant;

use super::args::Display;
use super::ExitStatus;
use crate::audit::org::{AccountStatus, OrgPlan};
use crate::audit::Plan;
use crate::error::Result;
use crate::printer::{Format, Printer};
use crate::run::Observed;
use crate::session::Session;

/// `--stats`, then success: how a run that printed everything ends.
pub(super) fn finish(
    display: &Display,
    printer: &Printer,
    session: &Session,
    started: Instant,
) -> Result<ExitStatus> {
    if display.stats {
        printer.stats(session, started);
    }
    Ok(ExitStatus::Success)
}

/// How an apply ends once its actions are made (or when there were none): 0 when every
/// selected control is compliant or waits only on a subscription confirmation, 2 when some
/// control stays non-compliant (the lines say why and what would fix it). Across accounts,
/// the same over every audited account, and accounts or controls that could not be audited
/// end in an error (1).
pub(super) fn after_apply(observed: &Observed, printer: &Printer) -> Result<ExitStatus> {
    match observed {
        Observed::One(one) => after_plan_apply(&one.plan, printer),
        Observed::Many(many) => {
            let status = after_plan_apply(&audited_controls(&many.plan), printer)?;
            observed.not_auditable()?;
            Ok(status)
        }
    }
}

/// What waits goes with the human text, what stays undone on stderr.
fn after_plan_apply(plan: &Plan, printer: &Printer) -> Result<ExitStatus> {
    let waiting = crate::render::awaiting_confirmation(plan);
    if waiting > 0 {
        printer.say(&crate::printer::wrapped(&format!(
            "{waiting} control{} wait{} for a subscription to be confirmed (check the inbox or endpoint); then they are compliant.\n",
            if waiting == 1 { "" } else { "s" },
            if waiting == 1 { "s" } else { "" }
        )))?;
    }
    let unplanned = crate::render::unplanned(plan);
    for line in &unplanned {
        printer.note(&format!("{line}\n"));
    }
    Ok(if unplanned.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::NotCompliant
    })
}

/// The controls of an organization plan's audited accounts, as one plan, for the
/// single-account summaries (what waits on a confirmation, what cannot be planned).
fn audited_controls(plan: &OrgPlan) -> Plan {
    Plan {
        format_version: crate::audit::FORMAT_VERSION,
        account_id: plan.caller_account_id.clone(),
        region: plan.region.clone(),
        benchmark: plan.benchmark.clone(),
        input_errors: vec![],
        notes: vec![],
        notifications: None,
        trails: vec![],
        controls: plan
            .accounts
            .iter()
            .filter(|a| a.status == AccountStatus::Audited)
            .flat_map(|a| a.controls.iter().cloned())
            .collect(),
        actions: vec![],
        summary: Default::default(),
    }
}

/// The output of a command whose stdout is always text (see [`Printer::out`]).
pub(super) fn print(text: &str) -> Result<()> {
    text_printer().out(text)
}

/// The printer of a command whose stdout is always its view (no `--format`).
pub(super) fn text_printer() -> Printer {
    Printer::new(Format::Text)
}

/// The regions a question's calls go to, named in order: `us-east-1`, `eu-west-1 and
/// us-east-1`. A question names where its writes go, not where the trails were read from.
pub(super) fn regions<'a>(of: impl IntoIterator<Item = &'a str>) -> String {
    let set: std::collections::BTreeSet<&str> = of.into_iter().collect();
    let list: Vec<&str> = set.into_iter().collect();
    match list.as_slice() {
        [] => String::new(),
        [init @ .., last] if !init.is_empty() => format!("{} and {last}", init.join(", ")),
        all => all.join(""),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn regions_are_named_once_each_in_order() {
        assert_eq!(super::regions(["us-east-1"]), "us-east-1");
        assert_eq!(
            super::regions(["us-east-1", "eu-west-1", "us-east-1"]),
            "eu-west-1 and us-east-1"
        );
        assert_eq!(super::regions(["c", "a", "b"]), "a, b and c");
    }
}
