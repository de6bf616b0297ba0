//! `cis-fix plan`: read the account, audit it, show (and optionally save) the plan.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;

use super::args::{Display, Format, Selection};
use super::output::{self, print, report_stats};
use super::ExitStatus;
use crate::error::Result;
use crate::inventory::aws::ReadMode;
use crate::render;
use crate::saved::SavedPlan;
use crate::session::Session;

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub selection: Selection,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Also write the plan, with what it observed, to FILE for a later `apply FILE`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Exit 2 when any selected control is not compliant (0 when all are, 1 on error).
    #[arg(long)]
    pub detailed_exitcode: bool,

    #[command(flatten)]
    pub display: Display,
}

pub(super) async fn run(args: PlanArgs, attempts: u32) -> Result<ExitStatus> {
    let started = Instant::now();
    // Fail on a bad catalog or control list before touching AWS.
    args.selection.catalog()?;
    let session = Session::connect(args.selection.scope.region.as_deref(), attempts).await?;
    let (options, snapshot, plan) =
        output::observe(&args.selection, &session, ReadMode::Plan).await?;

    let rendered = match args.format {
        Format::Json => render::json(&plan) + "\n",
        Format::Text => render::text(&plan, args.display.text_options()),
    };
    print(&rendered)?;
    if let Some(path) = &args.out {
        SavedPlan::new(plan.clone(), options, &snapshot).write(path)?;
        if args.format == Format::Text {
            print(&format!(
                "\nSaved this plan to {}. To perform exactly these actions, run: cis-fix apply {}\n",
                path.display(),
                path.display()
            ))?;
        }
    }
    if args.display.stats {
        report_stats(&session, started);
    }
    output::not_auditable(&plan, &snapshot)?;
    Ok(if args.detailed_exitcode && !plan.is_compliant() {
        ExitStatus::NotCompliant
    } else {
        ExitStatus::Success
    })
}
