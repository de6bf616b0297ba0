//! `cis-fix drill`: prove that each whole chain's notification really goes out, by setting
//! its alarm to ALARM and reading the result from the alarm's history.

use std::time::{Duration, Instant};

use clap::Args;

use super::args::{Accounts, Display, Scope};
use super::output::{self, finish};
use super::{view, ExitStatus};
use crate::apply::drill::Drilled;
use crate::audit::drill::{self, AccountDrill};
use crate::audit::Options;
use crate::error::{Error, Result};
use crate::inventory::aws::ReadMode;
use crate::printer::Printer;
use crate::render;
use crate::run::drill::Drill;
use crate::run::{self, Input, Observed};
use crate::session::Session;

#[derive(Debug, Args)]
pub struct DrillArgs {
    #[command(flatten)]
    pub scope: Scope,

    /// Do not ask for confirmation (for CI). Without a terminal, drill refuses unless given.
    #[arg(long)]
    pub auto_approve: bool,

    /// Seconds to wait for each notification's result in the alarm's history.
    #[arg(long, value_name = "SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=900))]
    pub wait: u64,

    #[command(flatten)]
    pub accounts: Accounts,

    #[command(flatten)]
    pub display: Display,
}

pub(super) async fn run(args: DrillArgs, connect: &crate::session::Connect) -> Result<ExitStatus> {
    let started = Instant::now();
    let printer = output::text_printer();
    // The chains as they are: no --notify, no topic of cis-fix's to create.
    let benchmark = args.scope.full_catalog()?;
    let input = Input {
        catalog: benchmark.clone().select(&args.scope.selected.controls)?,
        benchmark,
        options: Options::default(),
    };
    let session = Session::connect(args.scope.region.as_deref(), connect).await?;
    let reach = args.accounts.reach();
    let observed = Observed::read(&input, reach.as_ref(), session, ReadMode::Plan).await?;
    let drill = run::drill::plan(&observed);
    let one = matches!(observed, Observed::One(_));
    let text = args.display.text_options();
    printer.out(&view::drill(&drill, one, text))?;
    if !drill.unreadable.is_empty() {
        printer.out(&format!(
            "\nNot drilled\n  {}\n",
            drill.unreadable.join("\n  ")
        ))?;
    }
    let alarms = drill.alarms();
    if alarms == 0 {
        return Err(Error::NothingToDrill);
    }
    printer.out("\n")?;
    super::prompt::confirm(&question(&drill, one), args.auto_approve).await?;
    let drilled = drill
        .execute(&observed, Duration::from_secs(args.wait))
        .await?;
    if one && !args.auto_approve {
        // A blank line after the answered question; without one, the line before it stands.
        printer.out("\n")?;
    }
    let tally = report(&printer, &drilled, one, text)?;
    if !one {
        printer.out(&format!(
            "\nDrill complete across {} account{}: {} of {alarms} delivered{}.\n",
            drill.drilling().count(),
            if drill.drilling().count() == 1 {
                ""
            } else {
                "s"
            },
            tally.delivered,
            render::stuck_note(tally.stuck.len())
        ))?;
    }
    finish(&args.display, &printer, observed.session(), started)?;
    left_in_alarm(&tally.stuck)?;
    if let Some(error) = tally.error {
        return Err(error);
    }
    if tally.failed > 0 {
        return Err(Error::DrillFailed {
            failed: tally.failed,
            drilled: alarms,
        });
    }
    if !drill.unreadable.is_empty() {
        return Err(Error::OrgNotAuditable {
            accounts: drill.unreadable.len(),
            controls: drill.unreadable.len() * input.catalog.controls.len(),
        });
    }
    Ok(ExitStatus::Success)
}

/// `Send test notifications for 2 controls in account A in us-east-1?`, or `… for N alarms in
/// M accounts in …`.
fn question(drill: &Drill, one: bool) -> String {
    let alarms = drill.alarms();
    let regions = super::output::regions(
        drill
            .accounts
            .iter()
            .flat_map(|d| d.targets.iter().map(|t| t.region.as_str())),
    );
    match (one, drill.accounts.first()) {
        (true, Some(d)) => format!(
            "Send {} for {alarms} control{} in account {} in {regions}?",
            notifications(alarms),
            if alarms == 1 { "" } else { "s" },
            d.account_id,
        ),
        _ => {
            let accounts = drill.drilling().count();
            format!(
                "Send {} for {alarms} alarm{} in {accounts} account{} in {regions}?",
                notifications(alarms),
                if alarms == 1 { "" } else { "s" },
                if accounts == 1 { "" } else { "s" },
            )
        }
    }
}

/// What became of the notifications, counted across the accounts.
struct Tally {
    delivered: usize,
    failed: usize,
    stuck: Vec<drill::Stuck>,
    /// What stopped one account's drill (said above its report), as an error.
    error: Option<Error>,
}

/// Each account's report, and the tally. One account's report is the whole report (with its
/// tally line); many say each account's under its heading, and the tally once after.
fn report(
    printer: &Printer,
    drilled: &[(&AccountDrill, Drilled)],
    one: bool,
    text: crate::render::TextOptions,
) -> Result<Tally> {
    let mut tally = Tally {
        delivered: 0,
        failed: 0,
        stuck: vec![],
        error: None,
    };
    for (d, drilled) in drilled {
        if !one {
            printer.out(&format!("\nAccount {}\n", d.account_id))?;
        }
        let home = (d.account_id.as_str(), d.region.as_str());
        match &drilled.outcomes {
            Ok(outcomes) => {
                printer.out(&render::drill_report(
                    home,
                    &d.targets,
                    outcomes,
                    &drilled.stuck,
                    one,
                    text,
                ))?;
                let missed = undelivered(outcomes);
                tally.failed += missed;
                tally.delivered += outcomes.len() - missed;
            }
            Err(e) => {
                // Every alarm of the account counts as not delivered: nothing was proven.
                if !one {
                    let e = crate::term::escape(&e.to_string()).into_owned();
                    printer.out(&format!("  the drill could not run: {e}\n"))?;
                }
                printer.out(&render::drill_report(
                    home,
                    &[],
                    &[],
                    &drilled.stuck,
                    false,
                    text,
                ))?;
                tally.failed += d.targets.len();
                if one {
                    tally.error = Some(Error::Usage(e.to_string()));
                }
            }
        }
        tally.stuck.extend(drilled.stuck.iter().cloned());
    }
    Ok(tally)
}

fn notifications(count: usize) -> &'static str {
    if count == 1 {
        "a test notification"
    } else {
        "test notifications"
    }
}

/// The error for alarms a drill could not set back to OK, naming them (the report above gives
/// the command that resets each).
fn left_in_alarm(stuck: &[drill::Stuck]) -> Result<()> {
    if stuck.is_empty() {
        return Ok(());
    }
    let alarms: Vec<String> = stuck
        .iter()
        .map(|s| {
            format!(
                "alarm `{}` (account {}, {})",
                crate::term::escape(&s.alarm),
                s.account,
                s.region
            )
        })
        .collect();
    Err(Error::DrillResetFailed {
        count: stuck.len(),
        alarms: alarms.join(", "),
    })
}

fn undelivered(outcomes: &[drill::Outcome]) -> usize {
    outcomes
        .iter()
        .filter(|o| !matches!(o, drill::Outcome::Delivered { .. }))
        .count()
}
