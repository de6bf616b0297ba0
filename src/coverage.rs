//! Which attack techniques a catalog's controls catch: each control's pattern evaluated on
//! each technique's CloudTrail records, under every reading AWS's documentation leaves open.
//!
//! Pure: (catalog, technique records) → [`Coverage`]. The records are data
//! (`plans/techniques/stratus-red-team.json`, with their sources in the README beside it);
//! which control catches which technique is never written down, only computed here.
//!
//! - A control *catches* a technique when its pattern matches one of the technique's records
//!   under every reading ([`Reading::ALL`]); a match under some readings only is *ambiguous*
//!   and does not count.
//! - A record with an `errorCode` is a denied (or otherwise failed) call. A technique is
//!   caught *only when the call is denied* when no control would match its records had the
//!   calls been allowed (the same records without `errorCode` and `errorMessage`): an
//!   attacker allowed to make the calls is not seen. It still counts as caught, as the
//!   benchmark's own control for denied calls intends. (A control on the call's name, such
//!   as one on `LeaveOrganization`, catches it denied or not.)
//! - A technique whose activity is not a management event says why (`not_visible`).

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::catalog::{Catalog, Control};
use crate::pattern::Reading;

/// The AWS techniques of Stratus Red Team, with CloudTrail records of their calls.
pub const STRATUS_RED_TEAM: &str = include_str!("../plans/techniques/stratus-red-team.json");

/// The `format_version` of technique files this build reads.
pub const FORMAT_VERSION: u32 = 1;

/// The `format_version` of the coverage document (`coverage --format json`).
pub const COVERAGE_FORMAT_VERSION: u32 = 1;

/// What is wrong with a technique file.
#[derive(Debug, thiserror::Error)]
pub enum CoverageError {
    #[error("the technique records do not parse: {0}")]
    Parse(#[from] serde_json::Error),
    #[error("the technique records have format_version {0}; this cis-fix reads {FORMAT_VERSION}")]
    Version(u32),
    #[error("technique `{0}` is listed twice")]
    Duplicate(String),
    #[error("technique `{0}` has neither CloudTrail records nor a `not_visible` reason")]
    Empty(String),
    #[error("technique `{id}`: record {index} has no string `{field}`")]
    Field {
        id: String,
        /// From 1, as people count.
        index: usize,
        field: &'static str,
    },
}

/// A technique file.
#[derive(Debug, Clone, Deserialize)]
pub struct Techniques {
    pub format_version: u32,
    /// Where the techniques (ids, names, tactics) come from.
    pub techniques_from: Source,
    pub techniques: Vec<Technique>,
}

/// A public repository the data comes from, at one commit.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
pub struct Source {
    pub name: String,
    pub repository: String,
    pub commit: String,
    pub license: String,
}

#[derive(Debug, Clone, Deserialize)]
pub struct Technique {
    pub id: String,
    pub name: String,
    pub tactics: Vec<String>,
    /// ATT&CK ids as the technique's page gives them (AWS's Threat Technique Catalog).
    #[serde(default)]
    pub mitre: Vec<String>,
    #[serde(default)]
    pub events: Vec<Record>,
    /// Why a metric filter on a management-events trail cannot see the technique.
    #[serde(default)]
    pub not_visible: Option<String>,
}

/// One CloudTrail record of a technique's call, and where it comes from.
#[derive(Debug, Clone, Deserialize)]
pub struct Record {
    pub record: Value,
    pub origin: Origin,
    /// The file, commit and test (or document) it was taken or built from.
    pub source: String,
}

/// Where a record comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Origin {
    /// A test record of Panther's public rules (`ExpectedResult: true`).
    Panther,
    /// A raw detonation record from the technique's Stratus Red Team page.
    Stratus,
    /// Built from the call the technique's page documents.
    Built,
}

impl Record {
    /// A string field of the record (`eventSource`, `eventName`).
    fn text(&self, field: &str) -> Option<&str> {
        self.record.get(field).and_then(Value::as_str)
    }

    /// A call that failed: CloudTrail writes an `errorCode` (AccessDenied,
    /// Client.UnauthorizedOperation, …) only then.
    pub fn denied(&self) -> bool {
        self.text("errorCode").is_some_and(|code| !code.is_empty())
    }

    /// The same call had it been allowed: without `errorCode` and `errorMessage`. (An allowed
    /// call's response is not known; no CIS pattern reads `responseElements` of these calls.)
    pub fn permitted(&self) -> Value {
        let mut record = self.record.clone();
        if let Some(fields) = record.as_object_mut() {
            fields.remove("errorCode");
            fields.remove("errorMessage");
        }
        record
    }
}

/// Parses and checks a technique file: known version, unique ids, every technique with
/// records or a reason, and every record naming its eventSource and eventName.
pub fn load(text: &str) -> Result<Techniques, CoverageError> {
    let techniques: Techniques = serde_json::from_str(text)?;
    if techniques.format_version != FORMAT_VERSION {
        return Err(CoverageError::Version(techniques.format_version));
    }
    let mut seen = std::collections::BTreeSet::new();
    for technique in &techniques.techniques {
        let id = &technique.id;
        if !seen.insert(id.as_str()) {
            return Err(CoverageError::Duplicate(id.clone()));
        }
        if technique.events.is_empty() && technique.not_visible.is_none() {
            return Err(CoverageError::Empty(id.clone()));
        }
        for (index, record) in technique.events.iter().enumerate() {
            for field in ["eventSource", "eventName"] {
                if record.text(field).is_none() {
                    return Err(CoverageError::Field {
                        id: id.clone(),
                        index: index + 1,
                        field,
                    });
                }
            }
        }
    }
    Ok(techniques)
}

/// The built-in Stratus Red Team records.
pub fn stratus_red_team() -> Result<Techniques, CoverageError> {
    load(STRATUS_RED_TEAM)
}

/// What `cis-fix coverage` reports: every technique, with the controls that catch it.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct Coverage {
    /// This document's format: bumped on incompatible changes.
    #[schemars(extend("const" = COVERAGE_FORMAT_VERSION))]
    pub format_version: u32,
    /// The catalog's benchmark name (`cis-7.0`).
    pub benchmark: String,
    pub title: String,
    /// Where the techniques come from.
    pub techniques_from: Source,
    /// How many techniques there are.
    pub total: usize,
    /// Techniques some control catches under every reading, including those caught only as
    /// denied calls.
    pub caught: usize,
    /// Of `caught`, those caught only through records of denied calls.
    pub caught_only_denied: usize,
    /// Techniques some control matches under some readings only, and none under all.
    pub ambiguous: usize,
    /// Techniques a management-events trail cannot show (and no control catches).
    pub not_visible: usize,
    /// Techniques not caught: `total - caught`.
    pub not_caught: usize,
    pub techniques: Vec<TechniqueCoverage>,
}

/// One technique: what it is, its verdict, the controls that match its records, and why it is
/// not caught when it is not.
#[derive(Debug, Clone, PartialEq, Serialize, JsonSchema)]
pub struct TechniqueCoverage {
    /// The Stratus Red Team id (`aws.defense-evasion.cloudtrail-stop`).
    pub id: String,
    pub name: String,
    pub tactics: Vec<String>,
    pub mitre: Vec<String>,
    pub status: Status,
    /// The controls whose pattern matches one of its records under every reading.
    pub caught_by: Vec<Catch>,
    /// The controls whose pattern matches one of its records under some readings only.
    pub ambiguous: Vec<AmbiguousCatch>,
    /// Why it is not caught, or caught only when the call is denied; absent when caught.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Its CloudTrail records, in the data file's order (`records` of a catch index them from 0).
    pub records: Vec<RecordSummary>,
}

/// A technique's verdict.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Some control matches a record of a permitted call under every reading.
    Caught,
    /// Some control matches under every reading, but only because the calls were denied.
    CaughtOnlyDenied,
    /// Some control matches under some readings only.
    Ambiguous,
    /// Its activity is not a management event; no control catches it.
    NotVisible,
    /// No control's pattern matches its CloudTrail records.
    NotCaught,
}

impl Status {
    /// Whether it counts as caught.
    pub fn caught(self) -> bool {
        matches!(self, Status::Caught | Status::CaughtOnlyDenied)
    }
}

/// A control that catches a technique.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct Catch {
    pub control: String,
    pub slug: String,
    /// The records it matches under every reading (indices into `records`).
    pub records: Vec<usize>,
    /// Whether it matches them only because the calls were denied: none of them, without
    /// its `errorCode` and `errorMessage`, still matches under every reading.
    pub only_denied: bool,
}

/// A control that matches a technique's records under some readings only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct AmbiguousCatch {
    pub control: String,
    pub slug: String,
    /// The records it matches under some reading (indices into `records`).
    pub records: Vec<usize>,
    /// The readings under which it matches one of them.
    pub readings: Vec<String>,
}

/// A record as the coverage names it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct RecordSummary {
    pub event_source: String,
    pub event_name: String,
    /// Present for a denied (or failed) call.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_code: Option<String>,
    pub origin: Origin,
    pub source: String,
}

/// Why a technique is not caught when no record matches.
pub const NO_MATCH: &str = "no control's pattern matches its CloudTrail events";
/// Why a technique caught only through denied calls is not caught when the call is allowed.
pub const ONLY_DENIED: &str = "only when the call is denied";

/// Every technique against every control of `catalog`.
pub fn coverage(catalog: &Catalog, techniques: &Techniques) -> Coverage {
    let rows: Vec<TechniqueCoverage> = techniques
        .techniques
        .iter()
        .map(|t| technique(&catalog.controls, t))
        .collect();
    let count = |wanted: fn(Status) -> bool| rows.iter().filter(|r| wanted(r.status)).count();
    let total = rows.len();
    let caught = count(Status::caught);
    Coverage {
        format_version: COVERAGE_FORMAT_VERSION,
        benchmark: catalog.benchmark.clone(),
        title: catalog.title.clone(),
        techniques_from: techniques.techniques_from.clone(),
        total,
        caught,
        caught_only_denied: count(|s| s == Status::CaughtOnlyDenied),
        ambiguous: count(|s| s == Status::Ambiguous),
        not_visible: count(|s| s == Status::NotVisible),
        not_caught: total - caught,
        techniques: rows,
    }
}

/// One technique against every control.
fn technique(controls: &[Control], technique: &Technique) -> TechniqueCoverage {
    let mut caught_by = Vec::new();
    let mut ambiguous = Vec::new();
    for control in controls {
        let (every, some) = matches(control, &technique.events);
        if !every.is_empty() {
            let only_denied = !every.iter().any(|&i| {
                technique
                    .events
                    .get(i)
                    .is_some_and(|r| every_reading(control, &r.permitted()))
            });
            caught_by.push(Catch {
                control: control.id.clone(),
                slug: control.slug.clone(),
                records: every,
                only_denied,
            });
        } else if let Some((records, readings)) = some {
            ambiguous.push(AmbiguousCatch {
                control: control.id.clone(),
                slug: control.slug.clone(),
                records,
                readings,
            });
        }
    }
    let status = verdict(&caught_by, &ambiguous, technique.not_visible.is_some());
    TechniqueCoverage {
        id: technique.id.clone(),
        name: technique.name.clone(),
        tactics: technique.tactics.clone(),
        mitre: technique.mitre.clone(),
        status,
        reason: reason(status, technique, &ambiguous),
        caught_by,
        ambiguous,
        records: technique.events.iter().map(summary).collect(),
    }
}

/// The records a control matches under some readings only, and those readings.
type Partial = (Vec<usize>, Vec<String>);

/// The records `control` matches under every reading, and those it matches under some
/// reading only, with the readings that match one.
fn matches(control: &Control, records: &[Record]) -> (Vec<usize>, Option<Partial>) {
    let mut every = Vec::new();
    let mut some = Vec::new();
    let mut readings = std::collections::BTreeSet::new();
    for (index, record) in records.iter().enumerate() {
        let matching: Vec<Reading> = Reading::all()
            .filter(|r| control.pattern.matches_under(&record.record, *r))
            .collect();
        if matching.len() == Reading::ALL.len() {
            every.push(index);
        } else if !matching.is_empty() {
            some.push(index);
            readings.extend(matching);
        }
    }
    let ambiguous =
        (!some.is_empty()).then(|| (some, readings.iter().map(Reading::to_string).collect()));
    (every, ambiguous)
}

fn every_reading(control: &Control, record: &Value) -> bool {
    Reading::all().all(|r| control.pattern.matches_under(record, r))
}

fn verdict(caught_by: &[Catch], ambiguous: &[AmbiguousCatch], not_visible: bool) -> Status {
    if caught_by.iter().any(|c| !c.only_denied) {
        Status::Caught
    } else if !caught_by.is_empty() {
        Status::CaughtOnlyDenied
    } else if !ambiguous.is_empty() {
        Status::Ambiguous
    } else if not_visible {
        Status::NotVisible
    } else {
        Status::NotCaught
    }
}

fn reason(status: Status, technique: &Technique, ambiguous: &[AmbiguousCatch]) -> Option<String> {
    match status {
        Status::Caught => None,
        Status::CaughtOnlyDenied => Some(ONLY_DENIED.to_string()),
        Status::Ambiguous => {
            let ids: Vec<&str> = ambiguous.iter().map(|a| a.control.as_str()).collect();
            Some(format!(
                "{} match{} its CloudTrail events only under some of the readings AWS's documentation leaves open",
                ids.join(", "),
                if ids.len() == 1 { "es" } else { "" }
            ))
        }
        Status::NotVisible => technique.not_visible.clone(),
        Status::NotCaught => Some(NO_MATCH.to_string()),
    }
}

fn summary(record: &Record) -> RecordSummary {
    let text = |field: &str| record.text(field).unwrap_or_default().to_string();
    RecordSummary {
        event_source: text("eventSource"),
        event_name: text("eventName"),
        error_code: record
            .text("errorCode")
            .filter(|c| !c.is_empty())
            .map(str::to_string),
        origin: record.origin,
        source: record.source.clone(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two controls: one on a call's name, one on denied calls whose `!=` leaves a missing
    /// field open, and one with a middle star (a wildcard in some readings only).
    const CATALOG: &str = r#"
format_version = 1
benchmark = "tiny"
title = "Tiny"

[defaults]
namespace = "Tiny"
metric_value = "1"
statistic = "Sum"
period = 300
threshold = 1
comparison_operator = "GreaterThanOrEqualToThreshold"
evaluation_periods = 1

[[control]]
id = "T1"
slug = "trail-stopped"
title = "Trail stopped"
level = 1
metric_name = "TrailStopped"
pattern = '{ $.eventName = StopLogging }'

[[control]]
id = "T2"
slug = "denied"
title = "Denied calls"
level = 1
metric_name = "Denied"
pattern = '{ ($.errorCode = "AccessDenied*") && ($.sourceIPAddress != "delivery.logs.amazonaws.com") }'

[[control]]
id = "T3"
slug = "star"
title = "A middle star"
level = 1
metric_name = "Star"
pattern = '{ $.eventName = "Put*Selectors" }'
"#;

    fn catalog() -> Catalog {
        crate::catalog::parse(CATALOG, "tiny").unwrap()
    }

    fn techniques(list: Value) -> Techniques {
        let document = serde_json::json!({
            "format_version": 1,
            "techniques_from": {"name": "test", "repository": "o/r", "commit": "c", "license": "MIT"},
            "techniques": list,
        });
        load(&document.to_string()).unwrap()
    }

    fn record(fields: Value) -> Value {
        let mut record = serde_json::json!({"eventSource": "cloudtrail.amazonaws.com", "sourceIPAddress": "203.0.113.1"});
        if let (Some(r), Some(f)) = (record.as_object_mut(), fields.as_object()) {
            r.extend(f.clone());
        }
        serde_json::json!({"record": record, "origin": "built", "source": "test"})
    }

    fn one(list: Value) -> TechniqueCoverage {
        coverage(&catalog(), &techniques(list)).techniques.remove(0)
    }

    #[test]
    fn a_matching_record_catches_and_a_technique_without_one_says_why() {
        let found = coverage(
            &catalog(),
            &techniques(serde_json::json!([
                {"id": "stop", "name": "Stop", "tactics": ["Defense Evasion"],
                 "events": [record(serde_json::json!({"eventName": "DescribeTrails"})),
                            record(serde_json::json!({"eventName": "StopLogging"}))]},
                {"id": "quiet", "name": "Quiet", "tactics": ["Discovery"],
                 "events": [record(serde_json::json!({"eventName": "ListBuckets"}))]},
                {"id": "data", "name": "Data", "tactics": ["Impact"], "events": [],
                 "not_visible": "data events"},
            ])),
        );
        let [stop, quiet, data] = &found.techniques[..] else {
            panic!("{found:?}")
        };
        assert_eq!(stop.status, Status::Caught);
        assert_eq!(stop.caught_by.len(), 1);
        assert_eq!(stop.caught_by[0].control, "T1");
        assert_eq!(stop.caught_by[0].records, vec![1]);
        assert_eq!(stop.reason, None);
        assert_eq!(quiet.status, Status::NotCaught);
        assert_eq!(quiet.reason.as_deref(), Some(NO_MATCH));
        assert_eq!(data.status, Status::NotVisible);
        assert_eq!(data.reason.as_deref(), Some("data events"));
        assert_eq!(
            (
                found.total,
                found.caught,
                found.not_visible,
                found.not_caught
            ),
            (3, 1, 1, 2)
        );
    }

    #[test]
    fn a_technique_caught_only_through_denied_calls_says_so() {
        let denied = one(serde_json::json!([
            {"id": "denied", "name": "Denied", "tactics": ["Discovery"],
             "events": [record(serde_json::json!({"eventName": "GetPasswordData", "errorCode": "AccessDenied"}))]},
        ]));
        assert_eq!(denied.status, Status::CaughtOnlyDenied);
        assert!(denied.status.caught());
        assert!(denied.caught_by[0].only_denied);
        assert_eq!(denied.reason.as_deref(), Some(ONLY_DENIED));
        assert_eq!(
            denied.records[0].error_code.as_deref(),
            Some("AccessDenied")
        );

        // A control on the call's name catches it denied or not: caught outright.
        let named = one(serde_json::json!([
            {"id": "named", "name": "Named", "tactics": ["Defense Evasion"],
             "events": [record(serde_json::json!({"eventName": "StopLogging", "errorCode": "AccessDenied"}))]},
        ]));
        assert_eq!(named.status, Status::Caught);
        assert_eq!(named.reason, None);
        let only: Vec<(&str, bool)> = named
            .caught_by
            .iter()
            .map(|c| (c.control.as_str(), c.only_denied))
            .collect();
        assert_eq!(only, [("T1", false), ("T2", true)]);
    }

    #[test]
    fn a_match_under_some_readings_only_is_ambiguous_not_caught() {
        // A middle star: literal as documented, a wildcard in another reading.
        let star = one(serde_json::json!([
            {"id": "star", "name": "Star", "tactics": ["Defense Evasion"],
             "events": [record(serde_json::json!({"eventName": "PutEventSelectors"}))]},
        ]));
        assert_eq!(star.status, Status::Ambiguous);
        assert!(star.caught_by.is_empty());
        assert_eq!(star.ambiguous[0].control, "T3");
        assert_eq!(star.ambiguous[0].readings.len(), 2);
        assert!(star.reason.as_deref().unwrap().starts_with("T3 matches"));

        // `!=` on a missing sourceIPAddress: whether it matches is not documented.
        let missing = one(serde_json::json!([
            {"id": "missing", "name": "Missing", "tactics": ["Discovery"],
             "events": [{"record": {"eventSource": "ec2.amazonaws.com", "eventName": "RunInstances", "errorCode": "AccessDenied"},
                         "origin": "panther", "source": "test"}]},
        ]));
        assert_eq!(missing.status, Status::Ambiguous);
        assert_eq!(missing.ambiguous[0].control, "T2");
        let all = coverage(&catalog(), &techniques(serde_json::json!([]))).total;
        assert_eq!(all, 0);
    }

    #[test]
    fn bad_technique_files_are_refused_with_the_reason() {
        let file = |techniques: Value| {
            serde_json::json!({
                "format_version": 1,
                "techniques_from": {"name": "t", "repository": "o/r", "commit": "c", "license": "MIT"},
                "techniques": techniques,
            })
            .to_string()
        };
        let plain = serde_json::json!({"id": "a", "name": "A", "tactics": [], "events": [record(serde_json::json!({"eventName": "X"}))]});
        assert!(matches!(
            load(&file(serde_json::json!([plain, plain]))),
            Err(CoverageError::Duplicate(id)) if id == "a"
        ));
        assert!(matches!(
            load(&file(serde_json::json!([{"id": "e", "name": "E", "tactics": []}]))),
            Err(CoverageError::Empty(id)) if id == "e"
        ));
        let nameless = serde_json::json!([{"id": "n", "name": "N", "tactics": [],
            "events": [{"record": {"eventSource": "s3.amazonaws.com"}, "origin": "built", "source": "x"}]}]);
        let error = load(&file(nameless)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "technique `n`: record 1 has no string `eventName`"
        );
        assert!(matches!(load("{"), Err(CoverageError::Parse(_))));
        assert!(matches!(
            load(
                &file(serde_json::json!([]))
                    .replace("\"format_version\":1", "\"format_version\":9")
            ),
            Err(CoverageError::Version(9))
        ));
    }

    #[test]
    fn a_catalog_catches_what_its_controls_catch_one_by_one() {
        let techniques = stratus_red_team().unwrap();
        for name in crate::catalog::builtin_names() {
            let catalog = crate::catalog::load_builtin(name).unwrap();
            let whole = coverage(&catalog, &techniques);
            assert_eq!(whole.caught + whole.not_caught, whole.total, "{name}");
            let caught = |c: &Coverage| -> std::collections::BTreeSet<String> {
                c.techniques
                    .iter()
                    .filter(|t| t.status.caught())
                    .map(|t| t.id.clone())
                    .collect()
            };
            let mut union = std::collections::BTreeSet::new();
            for control in &catalog.controls {
                let alone = catalog
                    .clone()
                    .select(std::slice::from_ref(&control.id))
                    .unwrap();
                union.extend(caught(&coverage(&alone, &techniques)));
            }
            assert_eq!(union, caught(&whole), "{name}");
            for technique in &whole.techniques {
                assert_eq!(technique.status.caught(), !technique.caught_by.is_empty());
                assert_eq!(
                    technique.reason.is_none(),
                    technique.status == Status::Caught
                );
            }
        }
    }

    #[test]
    fn the_stratus_red_team_records_are_complete() {
        let techniques = stratus_red_team().unwrap();
        assert_eq!(techniques.techniques.len(), 44);
        assert_eq!(techniques.techniques_from.license, "Apache-2.0");
        for technique in &techniques.techniques {
            assert!(technique.id.starts_with("aws."), "{}", technique.id);
            assert!(!technique.name.is_empty() && !technique.tactics.is_empty());
            assert!(!technique.events.is_empty() || technique.not_visible.is_some());
            for record in &technique.events {
                assert_eq!(
                    record.record["eventSource"]
                        .as_str()
                        .map(|s| s.ends_with(".amazonaws.com")),
                    Some(true)
                );
                assert!(!record.source.is_empty());
            }
        }
    }

    #[test]
    fn cis_5_0_catches_12_of_44_stratus_techniques_3_only_as_denied_calls() {
        let techniques = stratus_red_team().unwrap();
        for benchmark in ["cis-5.0", "cis-7.0"] {
            let catalog = crate::catalog::load_builtin(benchmark).unwrap();
            let found = coverage(&catalog, &techniques);
            let caught: Vec<&str> = found
                .techniques
                .iter()
                .filter(|t| t.status.caught())
                .map(|t| t.id.as_str())
                .collect();
            assert_eq!(
                (found.total, found.caught),
                (44, 12),
                "{benchmark}: {caught:#?}"
            );
            assert_eq!(found.ambiguous, 0, "{benchmark}");
            let denied: Vec<&str> = found
                .techniques
                .iter()
                .filter(|t| t.status == Status::CaughtOnlyDenied)
                .map(|t| t.id.as_str())
                .collect();
            assert_eq!(
                denied,
                [
                    "aws.credential-access.ec2-get-password-data",
                    "aws.discovery.ec2-download-user-data",
                    "aws.execution.ec2-launch-unusual-instances",
                ],
                "{benchmark}"
            );
            assert_eq!(found.caught_only_denied, 3, "{benchmark}");
            // Stratus's LeaveOrganization is denied too, but the organizations control
            // matches the call by name.
            assert!(caught.contains(&"aws.defense-evasion.organizations-leave"));
            assert_eq!(found.not_visible, 4, "{benchmark}");
        }
    }

    /// The hardened catalog's own claims agree with what coverage computes: every Stratus
    /// technique an H control lists is caught by that control, on a permitted call, under
    /// every reading (the claims are data, the verdicts are computed).
    #[test]
    fn every_technique_a_hardened_control_claims_is_caught_by_it() {
        let catalog = crate::catalog::load_builtin("hardened").unwrap();
        let techniques = stratus_red_team().unwrap();
        let found = coverage(&catalog, &techniques);
        let known: Vec<&str> = techniques
            .techniques
            .iter()
            .map(|t| t.id.as_str())
            .collect();
        let mut claims = 0;
        for control in catalog.controls.iter().filter(|c| c.id.starts_with('H')) {
            for id in &control.threat.stratus {
                assert!(
                    known.contains(&id.as_str()),
                    "{}: unknown Stratus id {id}",
                    control.id
                );
                let technique = found.techniques.iter().find(|t| &t.id == id).unwrap();
                let catch = technique.caught_by.iter().find(|c| c.control == control.id);
                assert!(
                    catch.is_some_and(|c| !c.only_denied),
                    "{} claims {id}, but coverage says: {technique:#?}",
                    control.id
                );
                claims += 1;
            }
        }
        assert!(claims >= 10, "only {claims} claims");
        // And the figures the docs state.
        assert_eq!(
            (found.total, found.caught, found.caught_only_denied),
            (44, 27, 3)
        );
    }
}
