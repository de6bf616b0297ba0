//! `cis-fix report`: the state of every selected control in every account of the run, as
//! evidence, in text, JSON, SARIF, OCSF, ASFF, JUnit, HTML or CSV (docs/report.md). It reads
//! as `plan` does; its one write, with `--to-security-hub`, imports the ASFF findings into
//! each account's Security Hub.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;

use super::args::{Accounts, Display, Selection};
use super::ExitStatus;
use crate::error::{Error, Result};
use crate::inventory::aws::ReadMode;
use crate::printer::Printer;
use crate::render::report::{self, Context, Report, ReportFormat};
use crate::run::Observed;
use crate::session::Session;

#[derive(Debug, Args)]
pub struct ReportArgs {
    #[command(flatten)]
    pub selection: Selection,

    /// Output format (docs/report.md shows each, and how every state maps into it).
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    pub format: ReportFormat,

    /// Write the report to FILE instead of stdout (a new file, renamed into place).
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Exit 2 when any selected control is not compliant in any account (0 when all are,
    /// 1 on error).
    #[arg(long)]
    pub detailed_exitcode: bool,

    /// Also import the findings, as ASFF, into Security Hub: each account's into its own, in
    /// the run's region (`securityhub:BatchImportFindings`; `cis-fix iam-policy report`). A
    /// second run updates the same findings.
    #[arg(long)]
    pub to_security_hub: bool,

    #[command(flatten)]
    pub accounts: Accounts,

    #[command(flatten)]
    pub display: Display,
}

pub(super) async fn run(args: ReportArgs, connect: &crate::session::Connect) -> Result<ExitStatus> {
    let started = Instant::now();
    let input = args.selection.resolve()?;
    if let Some(path) = args.out.as_deref() {
        crate::outfile::check_writable(path)?;
    }
    let session = Session::connect(args.selection.scope.region.as_deref(), connect).await?;
    let reach = args.accounts.reach();
    let observed = Observed::read(&input, reach.as_ref(), session, ReadMode::Plan).await?;
    let cx = Context {
        catalog: &input.catalog,
        generated_at: crate::export::now_utc(),
    };
    let report = match &observed {
        Observed::One(one) => Report::of_plan(&one.plan, &cx),
        Observed::Many(many) => Report::of_org(&many.plan, &cx),
    };
    let mut rendered = report::render(&report, args.format)
        .map_err(|e| Error::Usage(format!("cannot write the report: {e}")))?;
    if args.format == ReportFormat::Text {
        // Text from AWS reaches a terminal: control characters escaped, long lines wrapped.
        rendered = match &args.out {
            Some(_) => crate::term::escape_lines(&rendered).into_owned(),
            None => {
                crate::render::layout::wrap_lines(&rendered, crate::render::layout::stdout_width())
            }
        };
    }
    let printer = Printer::new(crate::cli::args::Format::Text);
    match &args.out {
        Some(path) => {
            crate::outfile::write_atomic(
                path,
                rendered.as_bytes(),
                crate::outfile::Access::Shared,
            )?;
            printer.say(&format!("Wrote the report to {}\n", path.display()))?;
        }
        None => printer.out(&rendered)?,
    }
    // After the report is written: a failed or slow import leaves it in place.
    let import_failed = match args.to_security_hub {
        true => import(&observed, &report, &printer, args.out.is_some()).await?,
        false => None,
    };
    if args.display.stats {
        printer.stats(observed.session(), started);
    }
    if let Err(unaudited) = observed.not_auditable() {
        // Both said: the import's failure as its own line, the audit's as the error.
        if let Some(failed) = import_failed {
            printer.note_raw(&crate::render::layout::for_stderr(&format!(
                "error: {failed}\n"
            )));
        }
        return Err(unaudited);
    }
    // Even with --detailed-exitcode: a failed import is an error, not a verdict.
    if let Some(failed) = import_failed {
        return Err(failed);
    }
    Ok(if args.detailed_exitcode && !report.is_compliant() {
        ExitStatus::NotCompliant
    } else {
        ExitStatus::Success
    })
}

/// Imports the findings into Security Hub and says how many went to which account: on stdout
/// with the "Wrote" line, or on stderr when stdout is the report. The failure, if any, for
/// the end of the run.
async fn import(
    observed: &Observed,
    report: &Report,
    printer: &Printer,
    to_file: bool,
) -> Result<Option<Error>> {
    let imports = crate::run::report::to_security_hub(observed, report).await;
    let imported = crate::run::report::summary(&imports);
    match to_file {
        true => printer.say(&imported)?,
        false => printer.note_raw(&imported),
    }
    Ok(crate::run::report::failure(&imports))
}
