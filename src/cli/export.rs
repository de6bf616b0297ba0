//! `cis-fix export terraform|cloudformation`: audit as `plan` does, then write what `apply`
//! would create as code, instead of creating it. Never writes to AWS.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::args::{Accounts, Color, Selection};
use super::ExitStatus;
use crate::audit::Call;
use crate::error::{Error, Result};
use crate::export::{cloudformation, terraform, Source};
use crate::inventory::aws::ReadMode;
use crate::outfile;
use crate::printer::Printer;
use crate::redact::mask_endpoint;
use crate::run::Observed;
use crate::session::Session;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Terraform (HCL): one provider per (account, region); Terraform 1.5 or later.
    Terraform,
    /// CloudFormation (YAML): one template per (account, region).
    Cloudformation,
}

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
    check_out(&args)?;
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
    let source = crate::run::export::source(&observed, controls, generator());
    write(&args, &source)?;
    // As for `plan`: controls that could not be audited end the run in an error, after the
    // export of the others was written.
    observed.not_auditable()?;
    Ok(ExitStatus::Success)
}

/// `--out` as a place to write: `None` for stdout (no `--out`, or `--out -`).
fn out_path(args: &ExportArgs) -> Option<&Path> {
    args.out.as_deref().filter(|path| path.as_os_str() != "-")
}

/// Refuses an `--out` that cannot be written (a device, a FIFO, a symbolic link, a directory
/// that takes no files) before any AWS call; the files are checked again as they are written.
fn check_out(args: &ExportArgs) -> Result<()> {
    match out_path(args) {
        Some(dir) if is_dir(dir) => {
            outfile::check_dir(dir)?;
            match args.format {
                ExportFormat::Terraform if dir.is_dir() => {
                    outfile::check_writable(&dir.join(TERRAFORM_FILE))
                }
                _ => Ok(()),
            }
        }
        Some(path) => outfile::check_writable(path),
        None => Ok(()),
    }
}

/// The file Terraform goes to in `--out DIR/`.
const TERRAFORM_FILE: &str = "cis-fix.tf";

fn write(args: &ExportArgs, source: &Source) -> Result<()> {
    // Where the endpoints went in clear, for the one note at the end.
    let mut on_stdout = false;
    let mut files: Vec<String> = Vec::new();
    let mut save = |path: &Path, text: &str, private: bool| {
        if private {
            files.push(path.display().to_string());
        }
        write_file(path, text, private)
    };
    match args.format {
        ExportFormat::Terraform => {
            let text = terraform::render(source);
            let private = holds_endpoints(source, None);
            match out_path(args) {
                Some(dir) if is_dir(dir) => {
                    outfile::create_dir(dir)?;
                    save(&dir.join(TERRAFORM_FILE), &text, private)?;
                }
                Some(path) => save(path, &text, private)?,
                None => {
                    Printer::new(crate::printer::Format::Text).out(&text)?;
                    on_stdout = private;
                }
            }
        }
        ExportFormat::Cloudformation => {
            let templates = cloudformation::render(source).map_err(|e| {
                Error::Usage(format!("cannot write the CloudFormation template: {e}"))
            })?;
            let private = |template: &cloudformation::Template| {
                holds_endpoints(source, Some((&template.account_id, &template.region)))
            };
            match (out_path(args), templates.as_slice()) {
                (None, [one]) => {
                    Printer::new(crate::printer::Format::Text).out(&one.text)?;
                    on_stdout = private(one);
                }
                (None, _) => {
                    return Err(Error::Usage(format!(
                        "the export spans {} (account, region) pairs, one template each: pass --out DIR to write them as <account>-<region>.yaml",
                        templates.len()
                    )))
                }
                (Some(path), [one]) if !is_dir(path) => save(path, &one.text, private(one))?,
                (Some(dir), _) => {
                    outfile::create_dir(dir)?;
                    for template in &templates {
                        let path = dir.join(template.file_name());
                        save(&path, &template.text, private(template))?;
                        Printer::new(crate::printer::Format::Text)
                            .note_raw(&format!("wrote {}\n", path.display()));
                    }
                }
            }
        }
    }
    if let Some(note) = endpoints_note(on_stdout, &files) {
        let warning = anstyle::AnsiColor::Yellow.on_default();
        let note = args.color.stderr_painter().paint(warning, &note);
        Printer::new(crate::printer::Format::Text).note_raw(&format!("{note}\n"));
    }
    Ok(())
}

/// Whether the export declares a subscription whose endpoint every other output masks (an
/// address, a webhook URL with its token, a phone number), for one (account, region) or, with
/// `None`, for any.
fn holds_endpoints(source: &Source, target: Option<(&str, &str)>) -> bool {
    source
        .accounts
        .iter()
        .filter(|part| target.is_none_or(|(account, _)| part.account_id == account))
        .flat_map(|part| &part.actions)
        .filter(|action| target.is_none_or(|(_, region)| action.region == region))
        .any(|action| match &action.call {
            Call::Subscribe {
                protocol, endpoint, ..
            } => mask_endpoint(protocol, endpoint) != *endpoint,
            _ => false,
        })
}

/// Said once, on stderr, when the export holds endpoints in clear: like a saved plan, it must
/// (a deployment subscribes them), so the files are private and the user is told.
fn endpoints_note(on_stdout: bool, files: &[String]) -> Option<String> {
    let note = match (on_stdout, files) {
        (true, _) => {
            "The export on stdout holds the subscription endpoints in clear: keep it private."
                .to_string()
        }
        (false, []) => return None,
        (false, [one]) => format!(
            "The export in {one} holds the subscription endpoints in clear: it is readable by you only (mode 0600); keep it private."
        ),
        (false, many) => format!(
            "The export in {} holds the subscription endpoints in clear: those files are readable by you only (mode 0600); keep them private.",
            many.join(", ")
        ),
    };
    Some(note)
}

/// A directory, or a path that names one by its trailing `/`.
fn is_dir(path: &Path) -> bool {
    path.is_dir() || path.as_os_str().to_string_lossy().ends_with('/')
}

/// Writes `text` to `path` (see [`outfile`]); `private`: readable by its owner only (mode
/// 0600), for a file that holds endpoints in clear.
fn write_file(path: &Path, text: &str, private: bool) -> Result<()> {
    let access = if private {
        outfile::Access::Private
    } else {
        outfile::Access::Shared
    };
    outfile::write_atomic(path, text.as_bytes(), access)
}

fn generator() -> String {
    format!("cis-fix {}", env!("CARGO_PKG_VERSION"))
}
