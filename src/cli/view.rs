//! The views of a run: each chooses the single-account or the organization wording by the arm
//! of [`Observed`], and calls the renderer of that view. No command decides it itself.

use super::output::regions;
use crate::apply::drill::Drilled;
use crate::audit::backout::RemovalPlan;
use crate::audit::drill::AccountDrill;
use crate::render::layout::{Page, Painter};
use crate::render::{self, TextOptions, Verbosity};
use crate::run::apply::Applied;
use crate::run::backout::{Backout, Removed};
use crate::run::drill::{Drill, Tally};
use crate::run::{Observed, Step, Work};

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

/// A run across accounts marks each account's record lines: a heading before them, and
/// after them, when the account finished, how many calls it made. One account's are bare.
pub(super) fn account_step(observed: &Observed, step: Step) -> Option<String> {
    if !matches!(observed, Observed::Many(_)) {
        return None;
    }
    match step {
        Step::Start(account) => Some(format!("\nAccount {account}:\n")),
        Step::End(_, run) if run.stop.is_none() => {
            let done = run.done();
            Some(format!(
                "  {done} change{} made\n",
                if done == 1 { "" } else { "s" }
            ))
        }
        Step::End(..) => None,
    }
}

/// What an apply did: one account's verdicts after it (unless `-q`: the calls scrolled the
/// plan's table away) and its counts; across accounts, the counts of the calls made.
pub(super) fn applied(observed: &Observed, applied: &Applied, options: TextOptions) -> String {
    match observed {
        Observed::One(one) => {
            let table = match options.verbosity {
                Verbosity::Quiet => String::new(),
                _ => format!("\n{}", render::after_apply_table(&one.plan, options)),
            };
            format!(
                "{table}\nApply complete: {} created, {} changed.\n",
                one.plan.summary.to_create, one.plan.summary.to_change
            )
        }
        Observed::Many(_) => {
            let accounts = applied.accounts.len();
            let (created, changed) = applied.counts();
            format!(
                "\nApply complete in {} of {accounts} account{}: {created} created, {changed} changed.\n",
                accounts - applied.unfinished(),
                if accounts == 1 { "" } else { "s" },
            )
        }
    }
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

/// `note: …` lines, wrapped as the plan's are, `note:` in yellow when colouring; empty for none.
pub(super) fn notes(notes: &[String], options: TextOptions) -> String {
    let mut page = Page::new(options.width, Painter(options.color));
    for note in notes {
        let yellow = anstyle::AnsiColor::Yellow.on_default();
        page.styled_prefix(0, 6, "note:", Some(yellow), &format!(" {note}"), None);
    }
    page.finish()
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

/// `Send test notifications for 2 controls in account A in us-east-1?`, or `… for N alarms in
/// M accounts in …`.
pub(super) fn drill_question(drill: &Drill, one: bool) -> String {
    let alarms = drill.alarms();
    let notifications = match alarms {
        1 => "a test notification",
        _ => "test notifications",
    };
    let s = if alarms == 1 { "" } else { "s" };
    let regions = regions(
        drill
            .accounts
            .iter()
            .flat_map(|d| d.targets.iter().map(|t| t.region.as_str())),
    );
    match (one, drill.accounts.first()) {
        (true, Some(d)) => format!(
            "Send {notifications} for {alarms} control{s} in account {} in {regions}?",
            d.account_id,
        ),
        _ => {
            let accounts = drill.drilling().count();
            format!(
                "Send {notifications} for {alarms} alarm{s} in {accounts} account{} in {regions}?",
                if accounts == 1 { "" } else { "s" },
            )
        }
    }
}

/// What became of the notifications: one account's report is the whole report (with its
/// tally line); many say each account's under its heading, and the tally once after.
pub(super) fn drilled(
    drill: &Drill,
    drilled: &[(&AccountDrill, Drilled)],
    tally: &Tally,
    one: bool,
    options: TextOptions,
) -> String {
    let mut out = String::new();
    for (d, drilled) in drilled {
        if !one {
            out.push_str(&format!("\nAccount {}\n", d.account_id));
        }
        let home = (d.account_id.as_str(), d.region.as_str());
        let (targets, outcomes, with_tally) = match &drilled.outcomes {
            Ok(outcomes) => (&d.targets[..], &outcomes[..], one),
            Err(e) => {
                if !one {
                    let e = crate::term::escape(&e.to_string()).into_owned();
                    out.push_str(&format!("  the drill could not run: {e}\n"));
                }
                (&[][..], &[][..], false)
            }
        };
        out.push_str(&render::drill_report(
            home,
            targets,
            outcomes,
            &drilled.stuck,
            with_tally,
            options,
        ));
    }
    if !one {
        let accounts = drill.drilling().count();
        out.push_str(&format!(
            "\nDrill complete across {accounts} account{}: {} of {} delivered{}.\n",
            if accounts == 1 { "" } else { "s" },
            tally.delivered,
            drill.alarms(),
            render::stuck_note(tally.stuck.len())
        ));
    }
    out
}

/// What a backout removed, counted from the calls made: one account's, or across accounts.
pub(super) fn removed(backout: &Backout, removed: &Removed) -> String {
    let done = removed.done();
    if backout.one {
        return format!("\nBackout complete: {done} removed.\n");
    }
    let accounts = removed.accounts.len();
    format!(
        "\nBackout complete in {} of {accounts} account{}: {done} removed.\n",
        accounts - removed.unfinished(),
        if accounts == 1 { "" } else { "s" }
    )
}
