//! `cis-fix export terraform|cloudformation`: audit as `plan` does, then write what `apply`
//! would create as code, instead of creating it. Never writes to AWS.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::args::{Accounts, Selection};
use super::output::{self, print};
use super::ExitStatus;
use crate::audit::Call;
use crate::error::{Error, Result};
use crate::export::{self, cloudformation, terraform, AccountPart, KnownFilter, Source};
use crate::inventory::aws::ReadMode;
use crate::inventory::Snapshot;
use crate::outfile;
use crate::redact::mask_endpoint;
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
}

pub(super) async fn run(args: ExportArgs, connect: &crate::session::Connect) -> Result<ExitStatus> {
    // Fail on a bad catalog, control list or --out path before touching AWS.
    let selected = args.selection.catalog()?;
    check_out(&args)?;
    let session = Session::connect(args.selection.scope.region.as_deref(), connect).await?;
    let controls: Vec<String> = selected.controls.iter().map(|c| c.id.clone()).collect();
    let (source, not_auditable) = match args.accounts.reach() {
        Some(reach) => org_source(&args, &reach, &session, controls).await?,
        None => {
            // As plan and apply read: the export declares exactly what apply would send.
            let (_, snapshot, plan) =
                output::observe(&args.selection, &session, ReadMode::Plan).await?;
            output::refuse_input_errors(&plan)?;
            let source = Source {
                generator: generator(),
                generated_at: export::now_utc(),
                benchmark: plan.benchmark.clone(),
                controls,
                caller_account: plan.account_id.clone(),
                region: session.region.clone(),
                partition: partition(&session.region),
                role: None,
                external_id: false,
                accounts: vec![AccountPart {
                    account_id: plan.account_id.clone(),
                    actions: plan.actions.clone(),
                    controls: plan.controls.clone(),
                    filters: known_filters(&snapshot),
                }],
            };
            let not_auditable = output::not_auditable(&plan, &snapshot).err();
            (source, not_auditable)
        }
    };
    write(&args, &source)?;
    // As for `plan`: controls that could not be audited end the run in an error, after the
    // export of the others was written.
    match not_auditable {
        Some(error) => Err(error),
        None => Ok(ExitStatus::Success),
    }
}

async fn org_source(
    args: &ExportArgs,
    reach: &crate::org::Reach,
    session: &Session,
    controls: Vec<String>,
) -> Result<(Source, Option<Error>)> {
    // As plan and apply read: the export declares exactly what apply would send.
    let (_, reads, plan) =
        output::observe_org(&args.selection, session, reach, ReadMode::Plan).await?;
    let actions = crate::audit::org::actions_by_account(&plan);
    let accounts = plan
        .accounts
        .iter()
        .map(|report| {
            let snapshot = reads
                .reads
                .iter()
                .find(|r| r.account_id == report.account_id)
                .and_then(|r| r.snapshot.as_ref().ok());
            AccountPart {
                account_id: report.account_id.clone(),
                actions: actions
                    .iter()
                    .find(|(account, _)| *account == report.account_id)
                    .map(|(_, actions)| actions.clone())
                    .unwrap_or_default(),
                controls: report.controls.clone(),
                filters: snapshot.map(known_filters).unwrap_or_default(),
            }
        })
        .collect();
    let source = Source {
        generator: generator(),
        generated_at: export::now_utc(),
        benchmark: plan.benchmark.clone(),
        controls,
        caller_account: reads.caller.account.clone(),
        region: session.region.clone(),
        partition: reads.caller.partition.clone(),
        role: Some(reach.role.clone()),
        external_id: reach.external_id.is_some(),
        accounts,
    };
    Ok((source, output::org_not_auditable(&plan).err()))
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
                    print(&text)?;
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
                    print(&one.text)?;
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
                        eprintln!("wrote {}", path.display());
                    }
                }
            }
        }
    }
    if let Some(note) = endpoints_note(on_stdout, &files) {
        eprintln!("{note}");
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

/// The partition of a region, for role ARNs.
fn partition(region: &str) -> String {
    crate::inventory::partition_of(region).to_string()
}

fn known_filters(snapshot: &Snapshot) -> Vec<KnownFilter> {
    snapshot
        .regions
        .iter()
        .flat_map(|(region, data)| {
            data.metric_filters.iter().map(move |f| KnownFilter {
                region: region.clone(),
                log_group: f.log_group.clone(),
                name: f.name.clone(),
                metric_namespace: f.metric_namespace.clone(),
                metric_name: f.metric_name.clone(),
            })
        })
        .collect()
}
