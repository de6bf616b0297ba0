//! Saved plans (`plan --out FILE`): the plan plus a fingerprint of everything it observed,
//! so that a later `apply FILE` can tell whether the account changed in between.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::audit::{Options, Plan, FORMAT_VERSION};
use crate::error::{Error, Result};
use crate::inventory::{Alarm, Snapshot};

pub const KIND: &str = "cis-fix-saved-plan";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SavedPlan {
    pub format_version: u32,
    pub kind: String,
    /// The control ids the plan covers, as selected.
    pub controls: Vec<String>,
    pub options: Options,
    pub plan: Plan,
    /// Resource key → digest of what was observed, for staleness checks.
    pub observed: BTreeMap<String, String>,
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
        }
    }

    pub fn write(&self, path: &Path) -> Result<()> {
        let text = serde_json::to_string_pretty(self).unwrap_or_default();
        // Write then rename, so a crash never leaves a truncated plan behind.
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text + "\n")
            .and_then(|()| std::fs::rename(&tmp, path))
            .map_err(|source| Error::Write {
                path: path.to_path_buf(),
                source,
            })
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
        match value.get("format_version").and_then(|v| v.as_u64()) {
            Some(v) if v == u64::from(FORMAT_VERSION) => {}
            Some(v) => {
                return Err(fail(format!(
                    "format_version {v} is not supported (this cis-fix reads {FORMAT_VERSION})"
                )))
            }
            None => return Err(fail("no format_version".into())),
        }
        serde_json::from_value(value).map_err(|e| fail(format!("not a valid saved plan: {e}")))
    }

    /// What changed between what this plan observed and `now`; empty when nothing did.
    pub fn changes_since(&self, now: &Snapshot) -> Vec<String> {
        let current = fingerprint(now);
        let mut changes = Vec::new();
        for (key, digest) in &self.observed {
            match current.get(key) {
                None => changes.push(format!("{key} went away")),
                Some(d) if d != digest => changes.push(format!("{key} changed")),
                Some(_) => {}
            }
        }
        for key in current.keys().filter(|k| !self.observed.contains_key(*k)) {
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

/// A digest per observed resource. Volatile state (alarm state, timestamps) is left out, so
/// only real changes show up.
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
        for a in &data.alarms {
            // Tags are read only by apply and backout; what the plan saw is the rest.
            let seen = Alarm {
                tags: None,
                state: None,
                ..a.clone()
            };
            observed.insert(format!("alarm {region} {}", a.name), digest(&seen));
        }
        for s in &data.subscriptions {
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
            observed.insert(format!("topic {}", t.arn), digest(t));
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
                    name: "a".into(),
                    actions_enabled: true,
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
    fn fingerprints_do_not_carry_endpoints() {
        let text = serde_json::to_string(&fingerprint(&snapshot())).unwrap();
        assert!(!text.contains("secret@"), "{text}");
    }
}
