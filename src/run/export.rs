//! The export's source, from an observed run: what `apply` would create in each account, with
//! the filters each account already has (to reference rather than declare them again); and
//! its files, written where `--out` says.

use std::path::Path;

use clap::ValueEnum;

use super::Observed;
use crate::audit::org;
use crate::audit::Call;
use crate::error::{Error, Result};
use crate::export::{self, cloudformation, terraform, AccountPart, KnownFilter, Source};
use crate::inventory::{self, Snapshot};
use crate::outfile;
use crate::redact::mask_endpoint;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ExportFormat {
    /// Terraform (HCL): one provider per (account, region); Terraform 1.5 or later.
    Terraform,
    /// CloudFormation (YAML): one template per (account, region).
    Cloudformation,
}

/// What the export declares for the run's accounts, `controls` selected.
pub fn source(observed: &Observed, controls: Vec<String>, generator: String) -> Source {
    match observed {
        Observed::One(one) => Source {
            generator,
            generated_at: export::now_utc(),
            benchmark: one.plan.benchmark.clone(),
            controls,
            caller_account: one.plan.account_id.clone(),
            region: one.session.region.clone(),
            partition: inventory::partition_of(&one.session.region).to_string(),
            role: None,
            external_id: false,
            accounts: vec![AccountPart {
                account_id: one.plan.account_id.clone(),
                actions: one.plan.actions.clone(),
                controls: one.plan.controls.clone(),
                filters: known_filters(&one.snapshot),
            }],
        },
        Observed::Many(many) => {
            let actions = org::actions_by_account(&many.plan);
            let accounts = many
                .plan
                .accounts
                .iter()
                .map(|report| {
                    let snapshot = many
                        .reads
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
            Source {
                generator,
                generated_at: export::now_utc(),
                benchmark: many.plan.benchmark.clone(),
                controls,
                caller_account: many.reads.caller.account.clone(),
                region: many.session.region.clone(),
                partition: many.reads.caller.partition.clone(),
                role: Some(many.reach.role.clone()),
                external_id: many.reach.external_id.is_some(),
                accounts,
            }
        }
    }
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

/// `--out` as a place to write: `None` for stdout (no `--out`, or `--out -`).
fn out_path(out: Option<&Path>) -> Option<&Path> {
    out.filter(|path| path.as_os_str() != "-")
}

/// Refuses an `--out` that cannot be written (a device, a FIFO, a symbolic link, a directory
/// that takes no files) before any AWS call; the files are checked again as they are written.
pub fn check_out(format: ExportFormat, out: Option<&Path>) -> Result<()> {
    match out_path(out) {
        Some(dir) if is_dir(dir) => {
            outfile::check_dir(dir)?;
            match format {
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

/// What an export wrote: the text for stdout (without `--out`), and the notes for stderr
/// (each template written, and where the endpoints went in clear).
#[derive(Debug, Default)]
pub struct Written {
    pub stdout: Option<String>,
    pub notes: Vec<String>,
    /// The files written that hold endpoints in clear (mode 0600).
    private_files: Vec<String>,
    /// Whether stdout holds endpoints in clear.
    private_stdout: bool,
}

/// Writes the export of `source` in `format` to `out` (a file, a directory, or stdout).
pub fn write(format: ExportFormat, out: Option<&Path>, source: &Source) -> Result<Written> {
    if let Some(why) = crate::export::unexported(source) {
        return Err(Error::Usage(why));
    }
    let mut written = Written::default();
    match format {
        ExportFormat::Terraform => write_terraform(out_path(out), source, &mut written)?,
        ExportFormat::Cloudformation => write_cloudformation(out_path(out), source, &mut written)?,
    }
    if let Some(note) = endpoints_note(written.private_stdout, &written.private_files) {
        written.notes.push(note);
    }
    Ok(written)
}

fn write_terraform(out: Option<&Path>, source: &Source, written: &mut Written) -> Result<()> {
    let text = terraform::render(source);
    let private = holds_endpoints(source, None);
    match out {
        Some(dir) if is_dir(dir) => {
            outfile::create_dir(dir)?;
            written.save(&dir.join(TERRAFORM_FILE), &text, private)
        }
        Some(path) => written.save(path, &text, private),
        None => {
            written.stdout = Some(text);
            written.private_stdout = private;
            Ok(())
        }
    }
}

fn write_cloudformation(out: Option<&Path>, source: &Source, written: &mut Written) -> Result<()> {
    let templates = cloudformation::render(source)
        .map_err(|e| Error::Usage(format!("cannot write the CloudFormation template: {e}")))?;
    let private = |template: &cloudformation::Template| {
        holds_endpoints(source, Some((&template.account_id, &template.region)))
    };
    match (out, templates.as_slice()) {
        (None, [one]) => {
            written.stdout = Some(one.text.clone());
            written.private_stdout = private(one);
            Ok(())
        }
        (None, _) => Err(Error::Usage(format!(
            "the export spans {} (account, region) pairs, one template each: pass --out DIR to write them as <account>-<region>.yaml",
            templates.len()
        ))),
        (Some(path), [one]) if !is_dir(path) => written.save(path, &one.text, private(one)),
        (Some(dir), _) => {
            outfile::create_dir(dir)?;
            for template in &templates {
                let path = dir.join(template.file_name());
                written.save(&path, &template.text, private(template))?;
                written.notes.push(format!("wrote {}", path.display()));
            }
            Ok(())
        }
    }
}

impl Written {
    /// Writes `text` to `path` (see [`outfile`]); `private`: readable by its owner only
    /// (mode 0600), for a file that holds endpoints in clear.
    fn save(&mut self, path: &Path, text: &str, private: bool) -> Result<()> {
        let access = match private {
            true => outfile::Access::Private,
            false => outfile::Access::Shared,
        };
        outfile::write_atomic(path, text.as_bytes(), access)?;
        if private {
            self.private_files.push(path.display().to_string());
        }
        Ok(())
    }
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
