//! Saved plans (`plan --out FILE`): the plan plus a fingerprint of everything it observed,
//! so that a later `apply FILE` can tell whether the account changed in between.

use std::collections::BTreeMap;
use std::path::Path;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::audit::{Options, Plan, FORMAT_VERSION};
use crate::error::{Error, Result};
use crate::inventory::{Alarm, Snapshot};

pub const KIND: &str = "cis-fix-saved-plan";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SavedPlan {
    #[schemars(extend("const" = FORMAT_VERSION))]
    pub format_version: u32,
    #[schemars(extend("const" = KIND))]
    pub kind: String,
    /// The control ids the plan covers, as selected.
    pub controls: Vec<String>,
    pub options: Options,
    pub plan: Plan,
    /// Resource key → digest of what was observed, for staleness checks.
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

impl SavedPlan {
    pub fn new(plan: Plan, options: Options, snapshot: &Snapshot) -> SavedPlan {
        SavedPlan {
            format_version: FORMAT_VERSION,
            kind: KIND.to_string(),
            controls: plan.controls.iter().map(|c| c.id.clone()).collect(),
            options,
            plan,
            observed: fingerprint(snapshot),
            cis_fix_version: env!("CARGO_PKG_VERSION").to_string(),
            created_at: now(),
            command: std::env::args().skip(1).collect(),
        }
    }

    /// The plan as the file holds it. It must keep subscription endpoints in clear (apply
    /// subscribes them), which is why [`SavedPlan::write`] makes the file private.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_default() + "\n"
    }

    /// Writes the plan to `path`, readable by its owner only (mode 0600): it holds the
    /// subscription endpoints, and a webhook URL carries its token.
    pub fn write(&self, path: &Path) -> Result<()> {
        crate::outfile::write_atomic(
            path,
            self.to_json().as_bytes(),
            crate::outfile::Access::Private,
        )
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
    /// Refuses to apply this plan when the account changed since it was made, or when it would
    /// change an alarm that does not carry cis-fix's marks. Checked where the plan is loaded,
    /// before any write.
    pub fn check(&self, path: &Path, now: &Snapshot) -> Result<()> {
        self.check_fresh(path, now)?;
        self.check_owned(path, now)
    }

    /// Refuses a saved plan when the account, the region or anything it observed has changed.
    fn check_fresh(&self, path: &Path, now: &Snapshot) -> Result<()> {
        let saved = self;
        let stale = |message: String| Error::StalePlan {
            path: path.to_path_buf(),
            message,
            command: self.shown_command(),
            masked: has_masked_endpoints(&self.command),
        };
        if saved.plan.account_id != now.account_id || saved.plan.region != now.region {
            return Err(stale(format!(
                "it was made for account {} in {}, but these credentials and settings reach account {} in {}",
                saved.plan.account_id, saved.plan.region, now.account_id, now.region
            )));
        }
        let changes = saved.changes_since(now);
        if !changes.is_empty() {
            let shown: Vec<&str> = changes.iter().take(3).map(String::as_str).collect();
            let more = changes.len().saturating_sub(shown.len());
            return Err(stale(format!(
                "the account changed since it was made ({}{})",
                shown.join("; "),
                if more > 0 {
                    format!("; and {more} more")
                } else {
                    String::new()
                }
            )));
        }
        Ok(())
    }

    /// A saved plan was made without reading alarm tags: before it changes an alarm, check that
    /// the alarm really carries cis-fix's marks.
    fn check_owned(&self, path: &Path, now: &Snapshot) -> Result<()> {
        let plan = &self.plan;
        for action in plan
            .actions
            .iter()
            .filter(|a| a.mode == crate::audit::Mode::Change)
        {
            let crate::audit::Call::PutMetricAlarm { alarm_name, .. } = &action.call else {
                continue;
            };
            let owned = now
                .region(&action.region)
                .and_then(|r| r.alarms.iter().find(|a| &a.name == alarm_name))
                .is_some_and(|a| {
                    a.tags.is_some() && crate::ownership::own_alarm_record(a).is_some()
                });
            if !owned {
                return Err(Error::SavedPlan {
                    path: path.to_path_buf(),
                    message: format!("it changes alarm {alarm_name}, which does not carry cis-fix's marks; nothing was changed"),
                });
            }
        }
        Ok(())
    }
}

impl SavedPlan {
    /// Reads a saved plan, refusing anything that is not one this cis-fix wrote.
    pub fn read(path: &Path) -> Result<SavedPlan> {
        let fail = |message: String| Error::SavedPlan {
            path: path.to_path_buf(),
            message,
        };
        let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
        if text.trim().is_empty() {
            return Err(fail("the file is empty".into()));
        }
        let value: serde_json::Value = serde_json::from_str(&text)
            .map_err(|e| fail(format!("not JSON (or truncated): {e}")))?;
        if value.get("kind").and_then(|k| k.as_str()) != Some(KIND) {
            return Err(fail(format!(
                "not a saved plan (no \"kind\": \"{KIND}\"); write one with `cis-fix plan --out FILE`"
            )));
        }
        check_format_version(&value).map_err(fail)?;
        serde_json::from_value(value).map_err(|e| fail(format!("not a valid saved plan: {e}")))
    }

    /// What changed between what this plan observed and `now`; empty when nothing did.
    pub fn changes_since(&self, now: &Snapshot) -> Vec<String> {
        changes(&self.observed, now)
    }
}

/// Refuses a saved plan of another format version before reading it as this one: a field
/// that changed meaning must never be applied as the old one.
fn check_format_version(value: &serde_json::Value) -> std::result::Result<(), String> {
    match value.get("format_version").and_then(|v| v.as_u64()) {
        Some(v) if v == u64::from(FORMAT_VERSION) => Ok(()),
        Some(v) => Err(format!(
            "format_version {v} is not supported (this cis-fix reads {FORMAT_VERSION}); make the plan again with this cis-fix"
        )),
        None => Err("no format_version".into()),
    }
}

/// A saved organization plan (`plan --org --out FILE`): the plan, and per account what it
/// observed, so `apply FILE` can check each account it writes to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct SavedOrgPlan {
    #[schemars(extend("const" = FORMAT_VERSION))]
    pub format_version: u32,
    #[schemars(extend("const" = ORG_KIND))]
    pub kind: String,
    pub cis_fix_version: String,
    pub created_at: String,
    pub command: Vec<String>,
    pub options: Options,
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
        options: Options,
        reach: &crate::org::Reach,
        reads: &[crate::audit::org::AccountRead],
    ) -> SavedOrgPlan {
        SavedOrgPlan {
            format_version: FORMAT_VERSION,
            kind: ORG_KIND.to_string(),
            cis_fix_version: env!("CARGO_PKG_VERSION").to_string(),
            created_at: now(),
            command: std::env::args().skip(1).collect(),
            options,
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

    pub fn write(&self, path: &Path) -> Result<()> {
        crate::outfile::write_atomic(
            path,
            self.to_json().as_bytes(),
            crate::outfile::Access::Private,
        )
    }

    /// Reads a saved organization plan, or `None` when the file is a single-account one.
    pub fn read(path: &Path) -> Result<Option<SavedOrgPlan>> {
        let Ok(text) = std::fs::read_to_string(path) else {
            return Ok(None);
        };
        let Ok(value) = serde_json::from_str::<serde_json::Value>(&text) else {
            return Ok(None);
        };
        if value.get("kind").and_then(|k| k.as_str()) != Some(ORG_KIND) {
            return Ok(None);
        }
        let fail = |message: String| Error::SavedPlan {
            path: path.to_path_buf(),
            message,
        };
        check_format_version(&value).map_err(fail)?;
        serde_json::from_value(value)
            .map(Some)
            .map_err(|e| fail(format!("not a valid saved organization plan: {e}")))
    }

    /// Refuses the plan when an account it writes to changed since it was made.
    pub fn check(&self, path: &Path, account: &str, now: &Snapshot) -> Result<()> {
        let observed = self.observed.get(account).cloned().unwrap_or_default();
        let found = changes(&observed, now);
        if found.is_empty() {
            return Ok(());
        }
        Err(Error::StalePlan {
            path: path.to_path_buf(),
            message: format!(
                "account {account} changed since it was made ({})",
                found.into_iter().take(3).collect::<Vec<_>>().join("; ")
            ),
            command: shown_command(&self.command),
            masked: has_masked_endpoints(&self.command),
        })
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
            // Tags are read only by apply and backout; what the plan saw is the rest.
            let seen = Alarm {
                tags: None,
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
            // Tags are read for some topics only in apply's reads: digest what every read sees.
            let seen = (&t.arn, t.exists, &t.delivery);
            observed.insert(format!("topic {}", t.arn), digest(&seen));
        }
        for k in &data.keys {
            observed.insert(format!("key {region} {}", k.reference), digest(k));
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
                format_version: FORMAT_VERSION,
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
