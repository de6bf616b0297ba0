//! `cis-fix export terraform|cloudformation`: audit as `plan` does, then write what `apply`
//! would create as code, instead of creating it. Never writes to AWS.

use std::path::PathBuf;

use clap::Args;

use super::args::{Accounts, Color, Selection};
use super::{output, ExitStatus};
use crate::error::Result;
use crate::inventory::aws::ReadMode;
pub use crate::run::export::ExportFormat;
use crate::run::{self, Observed};
use crate::session::Session;

#[derive(Debug, Args)]
pub struct ExportArgs {
    /// The language to write.
    #[arg(value_enum)]
    pub format: ExportFormat,

    #[command(flatten)]
    pub selection: Selection,

    /// Write to PATH instead of stdout (`-`: stdout). When PATH is a directory (or ends in
    /// `/`), Terraform goes to PATH/cis-fix.tf and CloudFormation to one
    /// `<account>-<region>.yaml` per (account, region); several CloudFormation templates need
    /// a directory. Each file is written new and renamed into place; a device, FIFO or
    /// symbolic link at PATH is refused. Like a saved plan, the export holds the subscription
    /// endpoints in clear (it must, to subscribe them): a file that holds one is written
    /// readable by you only (mode 0600), and a note on stderr names it.
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,

    #[command(flatten)]
    pub accounts: Accounts,

    /// (Colours the notes on stderr: the export itself is code, never coloured.)
    #[command(flatten)]
    pub color: Color,
}

pub(super) async fn run(args: ExportArgs, connect: &crate::session::Connect) -> Result<ExitStatus> {
    // Fail on a bad catalog, control list or --out path before touching AWS.
    let input = args.selection.resolve()?;
    run::export::check_out(args.format, args.out.as_deref())?;
    let session = Session::connect(args.selection.scope.region.as_deref(), connect).await?;
    let reach = args.accounts.reach();
    // As plan and apply read: the export declares exactly what apply would send.
    let observed = Observed::read(&input, reach.as_ref(), session, ReadMode::Plan).await?;
    let controls = input
        .catalog
        .controls
        .iter()
        .map(|c| c.id.clone())
        .collect();
    let source = run::export::source(&observed, controls, generator());
    let written = run::export::write(args.format, args.out.as_deref(), &source)?;
    let printer = output::text_printer();
    if let Some(text) = &written.stdout {
        printer.out(text)?;
    }
    let warning = anstyle::AnsiColor::Yellow.on_default();
    for note in &written.notes {
        let note = args.color.stderr_painter().paint(warning, note);
        printer.note_raw(&format!("{note}\n"));
    }
    // As for `plan`: controls that could not be audited end the run in an error, after the
    // export of the others was written.
    observed.not_auditable()?;
    Ok(ExitStatus::Success)
}

fn generator() -> String {
    format!("cis-fix {}", env!("CARGO_PKG_VERSION"))
}
