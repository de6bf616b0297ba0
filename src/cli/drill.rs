//! `cis-fix drill`: prove that each whole chain's notification really goes out, by setting
//! its alarm to ALARM and reading the result from the alarm's history.

use std::time::{Duration, Instant};

use clap::Args;

use super::args::{Display, Scope};
use super::output::{finish, print};
use super::ExitStatus;
use crate::apply;
use crate::audit::{self, drill, Options};
use crate::error::{Error, Result};
use crate::inventory::aws::ReadMode;
use crate::render;
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
    pub display: Display,
}

pub(super) async fn run(args: DrillArgs, connect: &crate::session::Connect) -> Result<ExitStatus> {
    let started = Instant::now();
    let catalog = args.scope.catalog()?;
    let session = Session::connect(args.scope.region.as_deref(), connect).await?;
    // The chains as they are: no --notify, no topic of cis-fix's to create.
    let options = Options::default();
    let benchmark = args.scope.full_catalog()?;
    let snapshot =
        crate::org::read_account(&session, &options, ReadMode::Plan, Some(&benchmark)).await?;
    let plan = audit::audit(&catalog, &snapshot, &options);
    let (targets, skipped) = drill::targets(&plan, &snapshot);
    let text = args.display.text_options();
    print(&render::drill_intro(
        &snapshot.account_id,
        &snapshot.region,
        &targets,
        &skipped,
        text,
    ))?;
    if targets.is_empty() {
        return Err(Error::NothingToDrill);
    }
    let count = targets.len();
    let question = format!(
        "Send {} for {count} control{} in account {} in {}?",
        if count == 1 {
            "a test notification"
        } else {
            "test notifications"
        },
        if count == 1 { "" } else { "s" },
        snapshot.account_id,
        snapshot.region
    );
    print("\n")?;
    super::prompt::confirm(&question, args.auto_approve).await?;
    let outcomes = apply::drill::drill(&session, &targets, Duration::from_secs(args.wait)).await?;
    print("\n")?;
    print(&render::drill_report(&targets, &outcomes, text))?;
    let failed = outcomes
        .iter()
        .filter(|o| !matches!(o, drill::Outcome::Delivered { .. }))
        .count();
    finish(&args.display, &session, started)?;
    if failed > 0 {
        return Err(Error::DrillFailed {
            failed,
            drilled: count,
        });
    }
    Ok(ExitStatus::Success)
}
