//! `cis-fix drill`: prove that each whole chain's notification really goes out, by setting
//! its alarm to ALARM and reading the result from the alarm's history.

use std::time::{Duration, Instant};

use clap::Args;

use super::args::{Accounts, Display, Scope};
use super::output::{self, finish};
use super::{view, ExitStatus};
use crate::audit::Options;
use crate::error::{Error, Result};
use crate::inventory::aws::ReadMode;
use crate::run::drill::Tally;
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
    let text = args.display.text_options();
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
    let one = matches!(observed, Observed::One(_));
    let drill = run::drill::plan(&observed);
    printer.out(&view::drill(&drill, one, text))?;
    if !drill.unreadable.is_empty() {
        let lines = drill.unreadable.join("\n  ");
        printer.out(&format!("\nNot drilled\n  {lines}\n"))?;
    }
    if drill.alarms() == 0 {
        return Err(Error::NothingToDrill);
    }
    printer.out("\n")?;
    super::prompt::confirm(&view::drill_question(&drill, one), args.auto_approve).await?;
    let wait = Duration::from_secs(args.wait);
    let drilled = drill.execute(&observed, wait).await?;
    if one && !args.auto_approve {
        // A blank line after the answered question; without one, the line before it stands.
        printer.out("\n")?;
    }
    let tally = Tally::of(&drilled, one);
    printer.out(&view::drilled(&drill, &drilled, &tally, one, text))?;
    finish(&args.display, &printer, observed.session(), started)?;
    tally.into_result(&drill, input.catalog.controls.len())?;
    Ok(ExitStatus::Success)
}
