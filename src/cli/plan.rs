//! `cis-fix plan`: read the account, audit it, show (and optionally save) the plan.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;

use super::args::{Accounts, Display, Format, Selection};
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

    /// Also write the plan, with what it observed, to FILE for a later `apply FILE` (a new file
    /// of mode 0600, renamed into place: it holds the subscription endpoints; a device, FIFO or
    /// symbolic link is refused). `-` writes it to stdout, and the view to stderr.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Exit 2 when any selected control is not compliant (0 when all are, 1 on error).
    #[arg(long)]
    pub detailed_exitcode: bool,

    #[command(flatten)]
    pub accounts: Accounts,

    #[command(flatten)]
    pub display: Display,
}

pub(super) async fn run(args: PlanArgs, connect: &crate::session::Connect) -> Result<ExitStatus> {
    let started = Instant::now();
    // Fail on a bad catalog, control list or --out path before touching AWS.
    args.selection.catalog()?;
    let controls = &args.selection.scope.selected;
    let source = crate::saved::Source::new(&controls.benchmark, controls.catalog.as_deref())?;
    let to_stdout = args.out.as_deref().is_some_and(|p| p.as_os_str() == "-");
    if let Some(path) = args.out.as_deref().filter(|_| !to_stdout) {
        crate::outfile::check_writable(path)?;
    }
    let session = Session::connect(args.selection.scope.region.as_deref(), connect).await?;
    if let Some(reach) = args.accounts.reach() {
        return plan_org(&args, &reach, &session, source, started).await;
    }
    let (options, snapshot, plan) =
        output::observe(&args.selection, &session, ReadMode::Plan).await?;
    output::refuse_input_errors(&plan)?;

    let rendered = match args.format {
        Format::Json => render::json(&plan, args.display.show_endpoints) + "\n",
        Format::Text => render::text(&plan, args.display.text_options()),
    };
    let saved = args.out.as_ref().map(|path| {
        (
            path,
            SavedPlan::new(plan.clone(), source, options, &snapshot),
        )
    });
    match &saved {
        // `--out -`: the saved plan is the output; the view goes to stderr.
        Some((_, saved)) if to_stdout => {
            eprint!("{rendered}");
            let json = saved.to_json();
            print(&json)?;
            stdout_note(&json);
        }
        Some((path, saved)) => {
            print(&rendered)?;
            let sha256 = saved.write(path)?;
            saved_note(args.format, path, &sha256)?;
        }
        None => print(&rendered)?,
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

/// Said once when the saved plan goes to stdout (`--out -`), on stderr, with its SHA-256.
fn stdout_note(json: &str) {
    eprint!(
        "{}",
        super::output::wrapped(&format!(
            "\nThe saved plan on stdout (SHA-256 {}) holds the subscription endpoints in clear: keep it private.\n",
            crate::saved::sha256_hex(json.as_bytes())
        ))
    );
}

/// Says once that the file holds the endpoints, its SHA-256 (which `apply FILE` prints again,
/// for a reviewer to compare), and how to apply it: with the plan's text on stdout, or on
/// stderr when stdout is a JSON document (a script reads it, a person the note).
fn saved_note(format: Format, path: &std::path::Path, sha256: &str) -> Result<()> {
    let note = super::output::wrapped(&format!(
        "\nSaved this plan to {} (SHA-256 {sha256}; readable by you only: it holds the subscription endpoints in clear). To perform exactly these actions, run: cis-fix apply {}\n",
        path.display(),
        path.display()
    ));
    match format {
        Format::Text => print(&note),
        Format::Json => {
            eprint!("{note}");
            Ok(())
        }
    }
}

/// `plan --org` / `--accounts`: every account read (one session each), one audit across them.
async fn plan_org(
    args: &PlanArgs,
    reach: &crate::org::Reach,
    session: &Session,
    source: crate::saved::Source,
    started: Instant,
) -> Result<ExitStatus> {
    let (options, reads, plan) =
        output::observe_org(&args.selection, session, reach, ReadMode::Plan).await?;
    let rendered = match args.format {
        Format::Json => render::org::org_json(&plan, args.display.show_endpoints) + "\n",
        Format::Text => render::org::org_text(&plan, args.display.text_options()),
    };
    let saved = args.out.as_ref().map(|path| {
        (
            path,
            crate::saved::SavedOrgPlan::new(
                plan.clone(),
                source,
                options.clone(),
                reach,
                &reads.reads,
            ),
        )
    });
    if let Some((_, saved)) = saved.as_ref().filter(|(p, _)| p.as_os_str() == "-") {
        // `--out -`: the saved plan is the output; the view goes to stderr.
        eprint!("{rendered}");
        let json = saved.to_json();
        print(&json)?;
        stdout_note(&json);
    } else {
        print(&rendered)?;
    }
    if let Some((path, saved)) = saved.as_ref().filter(|(p, _)| p.as_os_str() != "-") {
        let sha256 = saved.write(path)?;
        saved_note(args.format, path, &sha256)?;
    }
    if args.display.stats {
        report_stats(session, started);
    }
    output::org_not_auditable(&plan)?;
    Ok(if args.detailed_exitcode && !plan.is_compliant() {
        ExitStatus::NotCompliant
    } else {
        ExitStatus::Success
    })
}
