//! `cis-fix apply [PLAN_FILE]`: show the plan, ask, then create what is missing.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;

use super::args::{Display, Selection};
use super::output::{self, denied, finish, print};
use super::ExitStatus;
use crate::apply;
use crate::error::{Error, Result};
use crate::inventory::aws::ReadMode;
use crate::render;
use crate::saved::SavedPlan;
use crate::session::Session;

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A saved plan from `cis-fix plan --out FILE`.
    #[arg(value_name = "PLAN_FILE", conflicts_with_all = ["catalog", "controls", "notify", "topic_arn"])]
    pub plan_file: Option<PathBuf>,

    #[command(flatten)]
    pub selection: Selection,

    /// Do not ask for confirmation (for CI). Without a terminal, apply refuses unless given.
    #[arg(long)]
    pub auto_approve: bool,

    #[command(flatten)]
    pub display: Display,
}

pub(super) async fn run(args: ApplyArgs, attempts: u32) -> Result<ExitStatus> {
    let started = Instant::now();
    let (plan, snapshot, session) = match &args.plan_file {
        Some(path) => {
            let saved = SavedPlan::read(path)?;
            let region = args
                .selection
                .scope
                .region
                .clone()
                .unwrap_or_else(|| saved.plan.region.clone());
            let session = Session::connect(Some(&region), attempts).await?;
            let snapshot = output::read(&session, &saved.options, ReadMode::Verify).await?;
            saved.check(path, &snapshot)?;
            (saved.plan, snapshot, session)
        }
        None => {
            args.selection.catalog()?;
            let session =
                Session::connect(args.selection.scope.region.as_deref(), attempts).await?;
            let (_, snapshot, plan) =
                output::observe(&args.selection, &session, ReadMode::Verify).await?;
            (plan, snapshot, session)
        }
    };
    print(&render::text(&plan, args.display.text_options()))?;
    output::not_auditable(&plan, &snapshot)?;
    if !snapshot.unreadable.is_empty() {
        // A saved plan's actions were decided on full reads, but cis-fix cannot now verify
        // what it would change.
        return Err(Error::Unverifiable {
            permissions: denied(&snapshot),
        });
    }
    if plan.actions.is_empty() {
        print("Nothing to apply.\n")?;
        return finish(&args.display, &session, started);
    }
    let count = plan.actions.len();
    let question = format!(
        "Apply these {count} change{}?",
        if count == 1 { "" } else { "s" }
    );
    print("\n")?;
    if !apply::confirm(&question, args.auto_approve)? {
        return Err(Error::Cancelled("apply cancelled".into()));
    }
    apply::apply(&session, &plan.actions, &mut std::io::stdout()).await?;
    print(&format!(
        "\nApply complete: {} created, {} changed.\n",
        plan.summary.to_create, plan.summary.to_change
    ))?;
    finish(&args.display, &session, started)
}
