//! `cis-fix export terraform|cloudformation`: audit as `plan` does, then write what `apply`
//! would create as code, instead of creating it. Never writes to AWS.

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use super::args::{Accounts, Selection};
use super::output::{self, print};
use super::ExitStatus;
use crate::error::{Error, Result};
use crate::export::{self, cloudformation, terraform, AccountPart, KnownFilter, Source};
use crate::inventory::aws::ReadMode;
use crate::inventory::Snapshot;
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

    /// Write to PATH instead of stdout. When PATH is a directory (or ends in `/`), Terraform
    /// goes to PATH/cis-fix.tf and CloudFormation to one `<account>-<region>.yaml` per
    /// (account, region); several CloudFormation templates need a directory. The export
    /// holds the subscription endpoints in clear.
    #[arg(long, value_name = "PATH")]
    pub out: Option<PathBuf>,

    #[command(flatten)]
    pub accounts: Accounts,
}

pub(super) async fn run(args: ExportArgs, connect: &crate::session::Connect) -> Result<ExitStatus> {
    // Fail on a bad catalog or control list before touching AWS.
    let selected = args.selection.catalog()?;
    let session = Session::connect(args.selection.scope.region.as_deref(), connect).await?;
    let controls: Vec<String> = selected.controls.iter().map(|c| c.id.clone()).collect();
    let (source, not_auditable) = match args.accounts.reach() {
        Some(reach) => org_source(&args, &reach, &session, controls).await?,
        None => {
            // Verify, as apply reads: the export declares exactly what apply would send.
            let (_, snapshot, plan) =
                output::observe(&args.selection, &session, ReadMode::Verify).await?;
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
    // Verify, as apply reads: the export declares exactly what apply would send.
    let (_, reads, plan) =
        output::observe_org(&args.selection, session, reach, ReadMode::Verify).await?;
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

fn write(args: &ExportArgs, source: &Source) -> Result<()> {
    match args.format {
        ExportFormat::Terraform => {
            let text = terraform::render(source);
            match &args.out {
                Some(dir) if is_dir(dir) => {
                    create_dir(dir)?;
                    write_file(&dir.join("cis-fix.tf"), &text)
                }
                Some(path) => write_file(path, &text),
                None => print(&text),
            }
        }
        ExportFormat::Cloudformation => {
            let templates = cloudformation::render(source).map_err(|e| {
                Error::Usage(format!("cannot write the CloudFormation template: {e}"))
            })?;
            match (&args.out, templates.as_slice()) {
                (None, [one]) => print(&one.text),
                (None, _) => Err(Error::Usage(format!(
                    "the export spans {} (account, region) pairs, one template each: pass --out DIR to write them as <account>-<region>.yaml",
                    templates.len()
                ))),
                (Some(path), [one]) if !is_dir(path) => write_file(path, &one.text),
                (Some(dir), _) => {
                    create_dir(dir)?;
                    for template in &templates {
                        let path = dir.join(template.file_name());
                        write_file(&path, &template.text)?;
                        eprintln!("wrote {}", path.display());
                    }
                    Ok(())
                }
            }
        }
    }
}

/// A directory, or a path that names one by its trailing `/`.
fn is_dir(path: &Path) -> bool {
    path.is_dir() || path.as_os_str().to_string_lossy().ends_with('/')
}

fn create_dir(dir: &Path) -> Result<()> {
    std::fs::create_dir_all(dir).map_err(|source| Error::Write {
        path: dir.to_path_buf(),
        source,
    })
}

fn write_file(path: &Path, text: &str) -> Result<()> {
    std::fs::write(path, text).map_err(|source| Error::Write {
        path: path.to_path_buf(),
        source,
    })
}

fn generator() -> String {
    format!("cis-fix {}", env!("CARGO_PKG_VERSION"))
}

/// The partition of a region, for role ARNs.
fn partition(region: &str) -> String {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
    .to_string()
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
