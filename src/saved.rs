//! Saved plans (`plan --out FILE`): the plan, and what it was made from, so that `apply FILE`
//! can make it again from a fresh read and apply it only if the actions come out exactly the
//! same. One rule catches both a stale plan and an edited one. The options in the file are the
//! approval itself (an edited `--notify` recomputes consistently, as with Terraform's saved
//! plans), so the file is protected: written private, refused when others may write to it,
//! and its SHA-256 shown when it is written and when it is applied, for a reviewer to compare.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::audit::{Action, Options, Plan};
use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::inventory::{Alarm, Snapshot};

pub const KIND: &str = "cis-fix-saved-plan";

/// Version of the saved plan files (both kinds). 3: they record what the plan was made from
/// (`benchmark`, `catalog`; and for an organization, `org` and `accounts`), and `apply FILE`
/// makes the plan again and compares; a file of an earlier version is refused. The plan
/// inside keeps the plan's own `format_version`.
pub const SAVED_FORMAT_VERSION: u32 = 3;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SavedPlan {
    #[schemars(extend("const" = SAVED_FORMAT_VERSION))]
    pub format_version: u32,
    #[schemars(extend("const" = KIND))]
    pub kind: String,
    /// The built-in benchmark the plan was made with (`--benchmark`), when not `catalog`.
    pub benchmark: String,
    /// `--catalog FILE`: its path and the SHA-256 of its contents when the plan was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog: Option<CatalogFile>,
    /// The control ids the plan covers, as selected.
    pub controls: Vec<String>,
    pub options: Options,
    pub plan: Plan,
    /// Resource key → digest of what was observed: says what changed when a fresh plan
    /// differs.
    pub observed: BTreeMap<String, String>,
    /// The cis-fix that made the plan.
    #[serde(default)]
    pub cis_fix_version: String,
    /// When the plan was made (RFC 3339, UTC).
    #[serde(default)]
    pub created_at: String,
    /// The arguments of the `cis-fix plan` that made it, to make it again when it is stale.
    #[serde(default)]
    pub command: Vec<String>,
}

/// A `--catalog` file, as a saved plan records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct CatalogFile {
    /// As an absolute path where it could be resolved.
    pub path: PathBuf,
    /// SHA-256 of the file's bytes, hex.
    pub sha256: String,
}

/// What a plan was made from, besides the options: the benchmark or catalog file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Source {
    pub benchmark: String,
    pub catalog: Option<CatalogFile>,
}

impl Source {
    /// `--benchmark NAME`, or `--catalog FILE` with its digest now.
    pub fn new(benchmark: &str, catalog: Option<&Path>) -> Result<Source> {
        let catalog = match catalog {
            None => None,
            Some(path) => {
                let bytes = std::fs::read(path).map_err(|source| Error::CatalogRead {
                    path: path.to_path_buf(),
                    source,
                })?;
                Some(CatalogFile {
                    path: std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf()),
                    sha256: sha256_hex(&bytes),
                })
            }
        };
        Ok(Source {
            benchmark: benchmark.to_string(),
            catalog,
        })
    }

    /// The whole catalog the plan was made with; a `--catalog` file only if its contents are
    /// what they were then.
    fn load(&self, plan_file: &Path) -> Result<Catalog> {
        let Some(file) = &self.catalog else {
            return crate::catalog::load_builtin(&self.benchmark);
        };
        let bytes = std::fs::read(&file.path).map_err(|source| Error::CatalogRead {
            path: file.path.clone(),
            source,
        })?;
        let now = sha256_hex(&bytes);
        if now != file.sha256 {
            return Err(Error::SavedPlan {
                path: plan_file.to_path_buf(),
                message: format!(
                    "catalog {} changed since the plan was made (SHA-256 {} then, {now} now); nothing was changed. Make the plan again with the catalog as it is",
                    file.path.display(),
                    file.sha256
                ),
            });
        }
        let text = String::from_utf8_lossy(&bytes);
        crate::catalog::parse(&text, &file.path.display().to_string())
    }

    /// (the selected controls, the whole benchmark) as the plan was made from them.
    fn catalogs(&self, plan_file: &Path, controls: &[String]) -> Result<(Catalog, Catalog)> {
        let full = self.load(plan_file)?;
        let selected = full.clone().select(controls)?;
        Ok((selected, full))
    }
}

/// Writes a plan file readable by its owner only; returns the SHA-256 of what was written.
fn write_private(path: &Path, json: &str) -> Result<String> {
    crate::outfile::write_atomic(path, json.as_bytes(), crate::outfile::Access::Private)?;
    Ok(sha256_hex(json.as_bytes()))
}

/// SHA-256 of `bytes`, as lower-case hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

impl SavedPlan {
    pub fn new(plan: Plan, source: Source, options: Options, snapshot: &Snapshot) -> SavedPlan {
        SavedPlan {
            format_version: SAVED_FORMAT_VERSION,
            kind: KIND.to_string(),
            benchmark: source.benchmark,
            catalog: source.catalog,
            controls: plan.controls.iter().map(|c| c.id.clone()).collect(),
            options,
            plan,
            observed: fingerprint(snapshot),
            cis_fix_version: env!("CARGO_PKG_VERSION").to_string(),
            created_at: now(),
            command: std::env::args().skip(1).collect(),
        }
    }

    /// What the plan was made from.
    fn source(&self) -> Source {
        Source {
            benchmark: self.benchmark.clone(),
            catalog: self.catalog.clone(),
        }
    }

    /// (the selected controls, the whole benchmark) to make the plan again with.
    pub fn catalogs(&self, path: &Path) -> Result<(Catalog, Catalog)> {
        self.source().catalogs(path, &self.controls)
    }

    /// The plan as the file holds it. It must keep subscription endpoints in clear (apply
    /// subscribes them), which is why [`SavedPlan::write`] makes the file private.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// Writes the plan to `path`, readable by its owner only (mode 0600): it holds the
    /// subscription endpoints, and a webhook URL carries its token. Returns the SHA-256 of
    /// what was written.
    pub fn write(&self, path: &Path) -> Result<String> {
        write_private(path, &self.to_json())
    }

    /// The command that made this plan, as one shell line with endpoints and the external id
    /// masked (it is shown in errors, which end up in logs).
    pub fn shown_command(&self) -> String {
        shown_command(&self.command)
    }
}

/// The time now, RFC 3339 in UTC.
fn now() -> String {
    aws_smithy_types::DateTime::from(std::time::SystemTime::now())
        .fmt(aws_smithy_types::date_time::Format::DateTime)
        .unwrap_or_default()
}

/// `cis-fix ARGS` as one shell line, secrets masked: `--notify` endpoints and the
/// `--external-id`. A `--notify-file` is named, not read.
fn shown_command(command: &[String]) -> String {
    let mut words = vec!["cis-fix".to_string()];
    words.extend(masked_words(command).iter().map(|word| shell_word(word)));
    if command.is_empty() {
        words.extend(["plan", "--out", "FILE"].map(String::from));
    }
    words.join(" ")
}

/// The options whose values [`shown_command`] masks.
const SECRET_OPTIONS: [&str; 2] = ["--notify", "--external-id"];

/// `command`, each value of a [`SECRET_OPTIONS`] masked, given as the next word or after `=`.
fn masked_words(command: &[String]) -> Vec<String> {
    let mut value_of: Option<&str> = None;
    command
        .iter()
        .map(|arg| {
            let shown = match (value_of, arg.split_once('=')) {
                (Some(option), _) => masked_value(option, arg),
                (None, Some((option, value))) if SECRET_OPTIONS.contains(&option) => {
                    format!("{option}={}", masked_value(option, value))
                }
                _ => arg.clone(),
            };
            value_of = SECRET_OPTIONS.into_iter().find(|o| *o == arg.as_str());
            shown
        })
        .collect()
}

fn masked_value(option: &str, value: &str) -> String {
    match option {
        "--notify" => masked_notify(value),
        _ => crate::redact::MASK.to_string(),
    }
}

/// Whether [`shown_command`] masks something in `command` that the user must put back (an
/// SQS queue's ARN, say, is shown whole).
fn has_masked_endpoints(command: &[String]) -> bool {
    masked_words(command)
        .iter()
        .zip(command)
        .any(|(shown, arg)| shown != arg && shown.contains(crate::redact::MASK))
}

fn masked_notify(value: &str) -> String {
    crate::redact::mask_notify(value)
}

/// Quotes a word for a POSIX shell when it needs it.
fn shell_word(word: &str) -> String {
    let plain = !word.is_empty()
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@,+%*".contains(c));
    if plain {
        word.to_string()
    } else {
        format!("'{}'", word.replace('\'', "'\\''"))
    }
}

impl SavedPlan {
    /// Refuses the plan unless `fresh`, made again from the file's options and selection on a
    /// fresh read (`now`), has exactly the file's actions, in the same account and region.
    /// Says what differs, and what changed in the account since.
    pub fn check_same(&self, path: &Path, fresh: &Plan, now: &Snapshot) -> Result<()> {
        let stale = |message: String| Error::StalePlan {
            path: path.to_path_buf(),
            message,
            command: self.shown_command(),
            masked: has_masked_endpoints(&self.command),
        };
        if self.plan.account_id != now.account_id || self.plan.region != now.region {
            return Err(stale(format!(
                "it was made for account {} in {}, but these credentials and settings reach account {} in {}",
                self.plan.account_id, self.plan.region, now.account_id, now.region
            )));
        }
        let home = Some((fresh.account_id.as_str(), fresh.region.as_str()));
        let differs = differences(home, &self.plan.actions, &fresh.actions);
        if differs.is_empty() {
            return Ok(());
        }
        Err(stale(why_stale(&differs, &changes(&self.observed, now))))
    }
}

/// What a fresh plan's actions and the file's differ by: each action in one and not the
/// other, as the plan's lines show it (endpoints masked).
fn differences(home: Option<(&str, &str)>, saved: &[Action], fresh: &[Action]) -> Vec<String> {
    let shown = |which: &str, a: &Action| {
        let sign = match a.mode {
            crate::audit::Mode::Create => "+",
            crate::audit::Mode::Change => "~",
        };
        format!(
            "{which} {sign} {}",
            crate::render::describe_within(home, a, false)
        )
    };
    let only_saved = saved
        .iter()
        .filter(|a| !fresh.contains(a))
        .map(|a| shown("the file has", a));
    let only_fresh = fresh
        .iter()
        .filter(|a| !saved.contains(a))
        .map(|a| shown("a fresh plan has", a));
    let mut differs: Vec<String> = only_saved.chain(only_fresh).collect();
    if differs.is_empty() && saved != fresh {
        differs.push("the same actions in another order".into());
    }
    differs
}

/// "its actions differ from a fresh plan's (…); the account changed since it was made (…)".
fn why_stale(differs: &[String], changed: &[String]) -> String {
    let mut message = format!(
        "its actions differ from a fresh plan's ({})",
        first_few(differs)
    );
    if !changed.is_empty() {
        message.push_str(&format!(
            "; the account changed since it was made ({})",
            first_few(changed)
        ));
    }
    message
}

/// The first three of `items`, and how many more.
fn first_few(items: &[String]) -> String {
    let shown: Vec<&str> = items.iter().take(3).map(String::as_str).collect();
    let more = items.len().saturating_sub(shown.len());
    if more > 0 {
        format!("{}; and {more} more", shown.join("; "))
    } else {
        shown.join("; ")
    }
}

/// Refuses a plan file that someone else could have edited: one owned by another user, or
/// writable by its group or by others. Its options decide where notifications go, so the file
/// is the approval and must be the user's own.
#[cfg(unix)]
fn check_protected(path: &Path) -> std::result::Result<(), String> {
    use std::os::unix::fs::MetadataExt;
    let me = rustix::process::geteuid().as_raw();
    let link = std::fs::symlink_metadata(path).map_err(|e| e.to_string())?;
    let file = std::fs::metadata(path).map_err(|e| e.to_string())?;
    for (what, meta) in [("the symbolic link", &link), ("the file", &file)] {
        if meta.uid() != me {
            return Err(format!(
                "{what} is owned by user {} and you are user {me}: a plan file is your approval, so it must be your own. Make the plan again yourself",
                meta.uid()
            ));
        }
    }
    let mode = file.mode() & 0o777;
    if mode & 0o022 != 0 {
        return Err(format!(
            "it is writable by {} (mode {mode:04o}): anyone who can edit it can change what cis-fix writes. Run `chmod go-w {}` if its contents are yours, or make the plan again",
            if mode & 0o002 != 0 { "everyone" } else { "its group" },
            path.display()
        ));
    }
    Ok(())
}

#[cfg(not(unix))]
fn check_protected(_path: &Path) -> std::result::Result<(), String> {
    Ok(())
}

/// Reads a plan file's bytes, once it is known to be protected; with their SHA-256.
fn read_protected(path: &Path) -> Result<(String, String)> {
    let fail = |message: String| Error::SavedPlan {
        path: path.to_path_buf(),
        message,
    };
    check_protected(path).map_err(|why| fail(format!("{why}; nothing was changed")))?;
    let bytes = std::fs::read(path).map_err(|e| fail(e.to_string()))?;
    let sha256 = sha256_hex(&bytes);
    let text = String::from_utf8(bytes).map_err(|_| fail("not UTF-8 text".into()))?;
    Ok((text, sha256))
}

/// A plan file, of either kind.
#[derive(Debug, Clone)]
pub enum PlanFile {
    Account(Box<SavedPlan>),
    Organization(Box<SavedOrgPlan>),
}

impl PlanFile {
    /// The plan file of an observed run: its plan, what it was made from (`source`,
    /// `options`; for many accounts, how they were reached) and what it observed.
    pub fn of(observed: &crate::run::Observed, source: Source, options: Options) -> PlanFile {
        match observed {
            crate::run::Observed::One(one) => PlanFile::Account(Box::new(SavedPlan::new(
                one.plan.clone(),
                source,
                options,
                &one.snapshot,
            ))),
            crate::run::Observed::Many(many) => {
                PlanFile::Organization(Box::new(SavedOrgPlan::new(
                    many.plan.clone(),
                    source,
                    options,
                    &many.reach,
                    &many.reads.reads,
                )))
            }
        }
    }

    pub fn to_json(&self) -> String {
        match self {
            PlanFile::Account(saved) => saved.to_json(),
            PlanFile::Organization(saved) => saved.to_json(),
        }
    }

    /// Writes the file privately; returns the SHA-256 of what was written.
    pub fn write(&self, path: &Path) -> Result<String> {
        write_private(path, &self.to_json())
    }
}

/// A plan file as read: what it holds, and the SHA-256 of its bytes, which `plan --out`
/// printed when it wrote them.
#[derive(Debug, Clone)]
pub struct Loaded {
    pub plan: PlanFile,
    pub sha256: String,
}

/// Reads a plan file that is the user's own and not writable by others, refusing anything
/// that is not a saved plan of this version.
pub fn read(path: &Path) -> Result<Loaded> {
    let fail = |message: String| Error::SavedPlan {
        path: path.to_path_buf(),
        message,
    };
    let (text, sha256) = read_protected(path)?;
    if text.trim().is_empty() {
        return Err(fail("the file is empty".into()));
    }
    let value: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| fail(format!("not JSON (or truncated): {e}")))?;
    let kind = value.get("kind").and_then(|k| k.as_str());
    if kind != Some(KIND) && kind != Some(ORG_KIND) {
        return Err(fail(format!(
            "not a saved plan (no \"kind\": \"{KIND}\"); write one with `cis-fix plan --out FILE`"
        )));
    }
    check_format_version(&value).map_err(fail)?;
    let plan = if kind == Some(KIND) {
        serde_json::from_value(value)
            .map(|p| PlanFile::Account(Box::new(p)))
            .map_err(|e| fail(format!("not a valid saved plan: {e}")))?
    } else {
        serde_json::from_value(value)
            .map(|p| PlanFile::Organization(Box::new(p)))
            .map_err(|e| fail(format!("not a valid saved organization plan: {e}")))?
    };
    Ok(Loaded { plan, sha256 })
}

/// Refuses a saved plan of another format version before reading it as this one: a field
/// that changed meaning must never be applied as the old one.
fn check_format_version(value: &serde_json::Value) -> std::result::Result<(), String> {
    match value.get("format_version").and_then(|v| v.as_u64()) {
        Some(v) if v == u64::from(SAVED_FORMAT_VERSION) => Ok(()),
        Some(v) => Err(format!(
            "format_version {v} is not supported (this cis-fix reads {SAVED_FORMAT_VERSION}); make the plan again with this cis-fix"
        )),
        None => Err("no format_version".into()),
    }
}

/// A saved organization plan (`plan --org --out FILE`, or `--accounts`): the plan, what it was
/// made from (including which accounts and how to reach them), and per account what it
/// observed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SavedOrgPlan {
    #[schemars(extend("const" = SAVED_FORMAT_VERSION))]
    pub format_version: u32,
    #[schemars(extend("const" = ORG_KIND))]
    pub kind: String,
    pub cis_fix_version: String,
    pub created_at: String,
    pub command: Vec<String>,
    /// The built-in benchmark the plan was made with (`--benchmark`), when not `catalog`.
    pub benchmark: String,
    /// `--catalog FILE`: its path and the SHA-256 of its contents when the plan was made.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub catalog: Option<CatalogFile>,
    /// The control ids the plan covers, as selected.
    pub controls: Vec<String>,
    pub options: Options,
    /// `--org`: every ACTIVE account of the organization, listed again when applied.
    pub org: bool,
    /// `--accounts`: exactly these.
    #[serde(default)]
    pub accounts: Vec<String>,
    pub role: String,
    #[serde(default)]
    pub external_id: Option<String>,
    pub plan: crate::audit::org::OrgPlan,
    /// Account → resource key → digest.
    pub observed: BTreeMap<String, BTreeMap<String, String>>,
}

pub const ORG_KIND: &str = "cis-fix-saved-org-plan";

impl SavedOrgPlan {
    pub fn new(
        plan: crate::audit::org::OrgPlan,
        source: Source,
        options: Options,
        reach: &crate::run::accounts::Reach,
        reads: &[crate::audit::org::AccountRead],
    ) -> SavedOrgPlan {
        let controls = plan
            .accounts
            .iter()
            .find(|a| a.status == crate::audit::org::AccountStatus::Audited)
            .map(|a| a.controls.iter().map(|c| c.id.clone()).collect())
            .unwrap_or_default();
        SavedOrgPlan {
            format_version: SAVED_FORMAT_VERSION,
            kind: ORG_KIND.to_string(),
            cis_fix_version: env!("CARGO_PKG_VERSION").to_string(),
            created_at: now(),
            command: std::env::args().skip(1).collect(),
            benchmark: source.benchmark,
            catalog: source.catalog,
            controls,
            options,
            org: reach.org,
            accounts: reach.accounts.clone(),
            role: reach.role.clone(),
            external_id: reach.external_id.clone(),
            plan,
            observed: reads
                .iter()
                .filter_map(|r| {
                    Some((r.account_id.clone(), fingerprint(r.snapshot.as_ref().ok()?)))
                })
                .collect(),
        }
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// Writes the plan privately; returns the SHA-256 of what was written.
    pub fn write(&self, path: &Path) -> Result<String> {
        write_private(path, &self.to_json())
    }

    /// The accounts to read again, and how: as the plan was made.
    pub fn reach(&self) -> crate::run::accounts::Reach {
        crate::run::accounts::Reach {
            org: self.org,
            accounts: self.accounts.clone(),
            role: self.role.clone(),
            external_id: self.external_id.clone(),
            concurrency: usize::from(crate::run::accounts::DEFAULT_CONCURRENCY),
        }
    }

    /// (the selected controls, the whole benchmark) to make the plan again with.
    pub fn catalogs(&self, path: &Path) -> Result<(Catalog, Catalog)> {
        let source = Source {
            benchmark: self.benchmark.clone(),
            catalog: self.catalog.clone(),
        };
        source.catalogs(path, &self.controls)
    }

    /// Refuses the plan unless `fresh`, made again from the file's options, selection and
    /// accounts on fresh reads, has exactly the file's actions in every account. Says what
    /// differs, and in which accounts something changed since.
    pub fn check_same(
        &self,
        path: &Path,
        fresh: &crate::audit::org::OrgPlan,
        reads: &[crate::audit::org::AccountRead],
    ) -> Result<()> {
        let stale = |message: String| Error::StalePlan {
            path: path.to_path_buf(),
            message,
            command: shown_command(&self.command),
            masked: has_masked_endpoints(&self.command),
        };
        if self.plan.caller_account_id != fresh.caller_account_id {
            return Err(stale(format!(
                "it was made from account {}, but these credentials reach account {}",
                self.plan.caller_account_id, fresh.caller_account_id
            )));
        }
        let mut differs = Vec::new();
        let accounts: std::collections::BTreeSet<&str> = self
            .plan
            .actions
            .iter()
            .chain(&fresh.actions)
            .map(|a| a.account_id.as_str())
            .collect();
        for account in accounts {
            let of = |plan: &crate::audit::org::OrgPlan| -> Vec<Action> {
                plan.actions
                    .iter()
                    .filter(|a| a.account_id == account)
                    .map(|a| a.action.clone())
                    .collect()
            };
            let home = Some((account, fresh.region.as_str()));
            differs.extend(
                differences(home, &of(&self.plan), &of(fresh))
                    .into_iter()
                    .map(|d| format!("account {account}: {d}")),
            );
        }
        if differs.is_empty() && self.plan.actions != fresh.actions {
            differs.push("the same actions with other accounts served".into());
        }
        if differs.is_empty() {
            return Ok(());
        }
        let changed: Vec<String> = reads
            .iter()
            .filter_map(|read| {
                let now = read.snapshot.as_ref().ok()?;
                let found = changes(self.observed.get(&read.account_id)?, now);
                (!found.is_empty())
                    .then(|| format!("account {}: {}", read.account_id, first_few(&found)))
            })
            .collect();
        Err(stale(why_stale(&differs, &changed)))
    }
}

/// What changed between `observed` and `now`; empty when nothing did.
fn changes(observed: &BTreeMap<String, String>, now: &Snapshot) -> Vec<String> {
    {
        let current = fingerprint(now);
        let mut changes = Vec::new();
        for (key, digest) in observed {
            match current.get(key) {
                None => changes.push(format!("{key} went away")),
                Some(d) if d != digest => changes.push(format!("{key} changed")),
                Some(_) => {}
            }
        }
        for key in current.keys().filter(|k| !observed.contains_key(*k)) {
            changes.push(format!("{key} appeared"));
        }
        changes
    }
}

fn digest(value: &impl Serialize) -> String {
    let bytes = serde_json::to_vec(value).unwrap_or_default();
    Sha256::digest(bytes)
        .iter()
        .take(12)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A digest per resource the plan depends on, and nothing else, so that unrelated changes
/// (autoscaling alarms, other teams' topics) do not make a saved plan stale: the trails; the
/// filters on their log groups; the alarms on metrics those filters publish, and any alarm
/// whose name cis-fix would use; the topics involved (cis-fix's own, `--topic-arn`, and those
/// the alarms notify) and their subscriptions. Volatile state (alarm state, timestamps) is
/// left out.
pub fn fingerprint(snapshot: &Snapshot) -> BTreeMap<String, String> {
    let mut observed = BTreeMap::new();
    observed.insert("account".to_string(), snapshot.account_id.clone());
    observed.insert("region".to_string(), snapshot.region.clone());
    for t in &snapshot.trails {
        observed.insert(format!("trail {}", t.arn), digest(t));
    }
    for (region, data) in &snapshot.regions {
        for f in &data.metric_filters {
            observed.insert(
                format!("filter {region} {} {}", f.log_group, f.name),
                digest(f),
            );
        }
        let relevant = |a: &Alarm| {
            a.name.starts_with("cis-fix-")
                || data.metric_filters.iter().any(|f| {
                    a.metric_name.as_deref() == Some(f.metric_name.as_str())
                        && a.namespace.as_deref() == Some(f.metric_namespace.as_str())
                })
        };
        for a in data.alarms.iter().filter(|a| relevant(a)) {
            // Its state changes without anyone touching the chain.
            let seen = Alarm {
                state: None,
                ..a.clone()
            };
            observed.insert(format!("alarm {region} {}", a.name), digest(&seen));
        }
        let involved = |arn: &str| data.topics.iter().any(|t| t.arn == arn);
        for s in data.subscriptions.iter().filter(|s| involved(&s.topic_arn)) {
            // Keyed by topic and endpoint digest, not by ARN: a pending subscription has none.
            let key = format!(
                "subscription {region} {} {} {}",
                s.topic_arn,
                s.protocol,
                digest(&s.endpoint)
            );
            observed.insert(key, digest(&s.arn));
        }
        for t in &data.topics {
            // Extra topics are read only by apply's and backout's reads: digest what every read
            // sees of those it has.
            let seen = (&t.arn, t.exists, &t.delivery);
            observed.insert(format!("topic {}", t.arn), digest(&seen));
        }
        for k in &data.keys {
            observed.insert(format!("key {region} {}", k.reference), digest(k));
        }
        if let Some(t) = &data.transformers {
            observed.insert(format!("transformers {region}"), digest(t));
        }
    }
    observed
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{RegionSnapshot, Subscription};

    fn snapshot() -> Snapshot {
        let mut s = Snapshot {
            account_id: "111122223333".into(),
            region: "us-east-1".into(),
            ..Default::default()
        };
        s.regions.insert(
            "us-east-1".into(),
            RegionSnapshot {
                alarms: vec![Alarm {
                    name: "cis-fix-a".into(),
                    actions_enabled: true,
                    ..Default::default()
                }],
                topics: vec![crate::inventory::Topic {
                    arn: "arn:aws:sns:us-east-1:111122223333:t".into(),
                    exists: true,
                    ..Default::default()
                }],
                subscriptions: vec![Subscription {
                    arn: "PendingConfirmation".into(),
                    topic_arn: "arn:aws:sns:us-east-1:111122223333:t".into(),
                    protocol: "email".into(),
                    endpoint: "secret@example.com".into(),
                }],
                ..Default::default()
            },
        );
        s
    }

    #[test]
    fn fingerprints_change_with_the_account_and_not_otherwise() {
        let base = fingerprint(&snapshot());
        assert_eq!(base, fingerprint(&snapshot()));

        let mut changed = snapshot();
        changed.regions.get_mut("us-east-1").unwrap().alarms[0].actions_enabled = false;
        assert_ne!(base, fingerprint(&changed));

        let mut confirmed = snapshot();
        confirmed
            .regions
            .get_mut("us-east-1")
            .unwrap()
            .subscriptions[0]
            .arn = "arn:aws:sns:us-east-1:111122223333:t:1".into();
        assert_ne!(base, fingerprint(&confirmed));
    }

    #[test]
    fn unrelated_alarms_and_topics_do_not_make_a_plan_stale() {
        let base = fingerprint(&snapshot());
        let mut busy = snapshot();
        let region = busy.regions.get_mut("us-east-1").unwrap();
        // An autoscaling alarm on a metric no filter publishes, changing all the time.
        region.alarms.push(Alarm {
            name: "TargetTracking-cpu-high".into(),
            metric_name: Some("CPUUtilization".into()),
            namespace: Some("AWS/EC2".into()),
            threshold: Some(70.0),
            ..Default::default()
        });
        // Someone else's topic and its subscription.
        region.subscriptions.push(Subscription {
            arn: "arn:aws:sns:us-east-1:111122223333:other:1".into(),
            topic_arn: "arn:aws:sns:us-east-1:111122223333:other".into(),
            protocol: "sqs".into(),
            endpoint: "arn:aws:sqs:us-east-1:111122223333:q".into(),
        });
        assert_eq!(base, fingerprint(&busy));
    }

    #[test]
    fn the_stale_message_shows_the_command_with_endpoints_masked() {
        let mut saved = SavedPlan::new(
            Plan {
                format_version: crate::audit::FORMAT_VERSION,
                account_id: "111122223333".into(),
                region: "us-east-1".into(),
                benchmark: "cis-5.0".into(),
                input_errors: vec![],
                notes: vec![],
                notifications: None,
                trails: vec![],
                controls: vec![],
                actions: vec![],
                summary: Default::default(),
            },
            Source::new("cis-5.0", None).unwrap(),
            Options::default(),
            &snapshot(),
        );
        saved.command = [
            "plan",
            "--notify",
            "https:https://hooks.example.com/T000/B000/secret-token",
            "--notify=email:alice@example.com",
            "--out",
            "my plan.json",
        ]
        .map(String::from)
        .to_vec();
        let shown = saved.shown_command();
        assert!(
            !shown.contains("secret-token") && !shown.contains("alice@"),
            "{shown}"
        );
        assert!(
            shown.starts_with("cis-fix plan --notify https:https://hooks.example.com/****"),
            "{shown}"
        );
        assert!(shown.ends_with("--out 'my plan.json'"), "{shown}");
        assert!(has_masked_endpoints(&saved.command));
        assert!(!has_masked_endpoints(
            &[
                "plan",
                "--notify",
                "sqs:arn:aws:sqs:us-east-1:111122223333:q"
            ]
            .map(String::from)
        ));
        assert!(!saved.cis_fix_version.is_empty() && saved.created_at.ends_with('Z'));
    }

    #[test]
    fn the_stale_command_masks_every_spelling_and_the_external_id() {
        const TOKEN: &str = "XoXb5ecretT0ken";
        let command: Vec<String> = [
            "plan",
            "--org",
            "--notify",
            &format!("HTTPS:https://hooks.example.com/{TOKEN}"),
            &format!("--notify=Email:{TOKEN}@example.com"),
            "--notify",
            &format!(" email:{TOKEN}@example.com"),
            "--notify",
            &format!("https://user:{TOKEN}@hooks.example.com/x"),
            "--external-id",
            TOKEN,
            &format!("--external-id={TOKEN}"),
            "--notify-file",
            "notify.txt",
            "--out",
            "org.json",
        ]
        .map(String::from)
        .to_vec();
        let shown = shown_command(&command);
        assert!(!shown.contains(TOKEN), "{shown}");
        assert!(
            shown.contains("--notify https:https://hooks.example.com/****")
                && shown.contains("--notify=email:X****@example.com")
                && shown.contains("--external-id **** --external-id=****")
                && shown.ends_with("--notify-file notify.txt --out org.json"),
            "{shown}"
        );
        assert!(has_masked_endpoints(&command));
        // The external id alone is enough to say that something must be put back.
        let with_id = ["plan", "--org", "--external-id", "x"].map(String::from);
        assert!(has_masked_endpoints(&with_id));
        // A file of endpoints is named, and nothing in it needs putting back.
        let with_file = ["plan", "--notify-file", "n.txt"].map(String::from);
        assert_eq!(
            shown_command(&with_file),
            "cis-fix plan --notify-file n.txt"
        );
        assert!(!has_masked_endpoints(&with_file));
        let queue = [
            "plan",
            "--notify",
            "SQS:arn:aws:sqs:us-east-1:111122223333:q",
        ];
        assert!(!has_masked_endpoints(&queue.map(String::from)));
    }

    #[test]
    fn fingerprints_do_not_carry_endpoints() {
        let text = serde_json::to_string(&fingerprint(&snapshot())).unwrap();
        assert!(!text.contains("secret@"), "{text}");
    }
}
