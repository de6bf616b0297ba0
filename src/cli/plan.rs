//! `cis-fix plan`: read the account, audit it, show (and optionally save) the plan.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;

use super::args::{Accounts, Display, Format, Selection};
use super::{view, ExitStatus};
use crate::error::Result;
use crate::inventory::aws::ReadMode;
use crate::printer::Printer;
use crate::run::Observed;
use crate::saved::PlanFile;
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
    let printer = Printer::new(args.format);
    // Fail on a bad catalog, control list or --out path before touching AWS.
    let input = args.selection.resolve()?;
    let controls = &args.selection.scope.selected.source;
    let source = crate::saved::Source::new(&controls.benchmark, controls.catalog.as_deref())?;
    let to_stdout = args.out.as_deref().is_some_and(|p| p.as_os_str() == "-");
    if let Some(path) = args.out.as_deref().filter(|_| !to_stdout) {
        crate::outfile::check_writable(path)?;
    }
    let session = Session::connect(args.selection.scope.region.as_deref(), connect).await?;
    let reach = args.accounts.reach();
    let observed = Observed::read(&input, reach.as_ref(), session, ReadMode::Plan).await?;
    let rendered = match args.format {
        Format::Json => view::plan_json(&observed, args.display.show_endpoints) + "\n",
        Format::Text => view::plan(&observed, args.display.text_options()),
    };
    let saved = args
        .out
        .as_ref()
        .map(|path| (path, PlanFile::of(&observed, source, input.options)));
    match &saved {
        // `--out -`: the saved plan is the output; the view goes to stderr.
        Some((_, saved)) if to_stdout => {
            printer.note_raw(&rendered);
            let json = saved.to_json();
            printer.out(&json)?;
            printer.note(&format!(
                "\nThe saved plan on stdout (SHA-256 {}) holds the subscription endpoints in clear: keep it private.\n",
                crate::saved::sha256_hex(json.as_bytes())
            ));
        }
        Some((path, saved)) => {
            printer.out(&rendered)?;
            let sha256 = saved.write(path)?;
            // With the view, or on stderr when stdout is a JSON document.
            printer.say(&crate::printer::wrapped(&format!(
                "\nSaved this plan to {} (SHA-256 {sha256}; readable by you only: it holds the subscription endpoints in clear). To perform exactly these actions, run: cis-fix apply {}\n",
                path.display(),
                path.display()
            )))?;
        }
        None => printer.out(&rendered)?,
    }
    if args.display.stats {
        printer.stats(observed.session(), started);
    }
    observed.not_auditable()?;
    Ok(if args.detailed_exitcode && !observed.is_compliant() {
        ExitStatus::NotCompliant
    } else {
        ExitStatus::Success
    })
}
