//! The hardened catalog: its CIS controls are cis-7.0's, and each of its own controls catches
//! the techniques it names, under every reading, and not a benign neighbour.
//!
//! The records are testdata/hardened-records.jsonl, one a line: `control`, `kind`
//! (`technique`: it must match; `benign`: it must not), `source` and `record`. A `source`
//! starting `real:` names the public record it is (Stratus Red Team's detonation logs,
//! Panther's rule tests, both Apache-2.0, with their commits); one starting `built from the
//! documented call:` names the API reference it was built from, in CloudTrail's shape.

use serde_json::Value;

use super::*;
use crate::pattern::{Reading, Relation};

const RECORDS: &str = include_str!("testdata/hardened-records.jsonl");

struct Case {
    control: String,
    technique: bool,
    source: String,
    record: Value,
}

fn cases() -> Vec<Case> {
    RECORDS
        .lines()
        .map(|line| {
            let v: Value = serde_json::from_str(line).unwrap();
            let text = |k: &str| v[k].as_str().unwrap().to_string();
            Case {
                control: text("control"),
                technique: text("kind") == "technique",
                source: text("source"),
                record: v["record"].clone(),
            }
        })
        .collect()
}

fn own_controls(catalog: &Catalog) -> Vec<&Control> {
    catalog
        .benchmark_controls()
        .iter()
        .filter(|c| c.id.starts_with('H'))
        .collect()
}

#[test]
fn the_cis_controls_are_cis_7_0s_field_for_field() {
    let base = load_builtin("cis-7.0").unwrap();
    let hardened = load_builtin("hardened").unwrap();
    assert_eq!(hardened.extends.as_deref(), Some("cis-7.0"));
    let cis = &hardened.benchmark_controls()[..15];
    assert_eq!(cis.len(), base.benchmark_controls().len());
    for (mine, theirs) in cis.iter().zip(base.benchmark_controls()) {
        // Every field: `Control` prints all of them.
        assert_eq!(format!("{mine:?}"), format!("{theirs:?}"), "{}", theirs.id);
    }
    assert!(own_controls(&hardened)
        .iter()
        .all(|c| c.metric.namespace == "CISBenchmark" && c.alarm == cis[0].alarm));
}

#[test]
fn each_own_control_says_what_it_catches_and_misses() {
    let hardened = load_builtin("hardened").unwrap();
    let own = own_controls(&hardened);
    assert_eq!(own.len(), 13);
    for (n, c) in own.iter().enumerate() {
        assert_eq!(c.id, format!("H{}", n + 1));
        let t = &c.threat;
        assert!(
            t.catches.is_some() && t.cis_gap.is_some() && t.limits.is_some(),
            "{}",
            c.id
        );
        assert!(!t.attack.is_empty(), "{}", c.id);
        assert!(limits::length(&c.pattern_text) <= limits::FILTER_PATTERN.max);
    }
    // The chain-watch control, and the techniques the issue names.
    let chain = hardened
        .clone()
        .select(&["alarm-chain-tampering".into()])
        .unwrap();
    assert_eq!(chain.controls[0].id, "H13");
}

#[test]
fn each_own_control_matches_its_techniques_under_every_reading_and_not_its_neighbours() {
    let hardened = load_builtin("hardened").unwrap();
    let cases = cases();
    for c in own_controls(&hardened) {
        let mine: Vec<&Case> = cases.iter().filter(|k| k.control == c.id).collect();
        assert!(
            mine.iter().any(|k| k.technique),
            "{}: no technique record",
            c.id
        );
        assert!(
            mine.iter().any(|k| !k.technique),
            "{}: no benign record",
            c.id
        );
        for case in mine {
            for reading in Reading::all() {
                assert_eq!(
                    c.pattern.matches_under(&case.record, reading),
                    case.technique,
                    "{} under {reading}: {}",
                    c.id,
                    case.source
                );
            }
        }
    }
}

#[test]
fn each_stratus_technique_named_has_a_real_record_its_control_matches() {
    let hardened = load_builtin("hardened").unwrap();
    let cases = cases();
    for c in own_controls(&hardened) {
        for id in &c.threat.stratus {
            let found = cases.iter().any(|k| {
                k.control == c.id
                    && k.technique
                    && k.source.starts_with("real: Stratus Red Team ")
                    && k.source.contains(&format!("{id} detonation log"))
                    && c.pattern.matches(&k.record)
            });
            assert!(found, "{} {id}", c.id);
        }
    }
    // Every record says where it comes from.
    for k in &cases {
        assert!(
            k.source.starts_with("real: ")
                || k.source.starts_with("built from the documented call: "),
            "{}",
            k.source
        );
    }
}

#[test]
fn each_own_pattern_is_equivalent_to_itself_under_every_reading() {
    let hardened = load_builtin("hardened").unwrap();
    for c in own_controls(&hardened) {
        let checked = crate::audit::accepted::check(&c.pattern, c);
        assert_eq!(
            checked.comparison.relation,
            Relation::Equivalent,
            "{}",
            c.id
        );
        assert_eq!(checked.comparison.per_reading.len(), Reading::ALL.len());
        assert!(
            checked
                .comparison
                .per_reading
                .iter()
                .all(|(_, r)| *r == Relation::Equivalent),
            "{}",
            c.id
        );
    }
}

/// A version-1 user catalog of one control (the catalog tests' own).
const V1: &str = super::tests::GOOD;

#[test]
fn a_version_1_file_using_version_2_fields_is_refused_by_field_and_version() {
    for (field, line) in [
        ("catches = \"x\"", "line 21"),
        ("attack = [\"T1562\"]", "line 21"),
        ("stratus = []", "line 21"),
    ] {
        let text = format!("{V1}{field}\n");
        let err = parse(&text, "mine.toml").unwrap_err().to_string();
        let name = field.split(' ').next().unwrap();
        assert!(
            err.contains(&format!("mine.toml:{line}"))
                && err.contains(&format!("field `{name}`"))
                && err.contains("needs format_version = 2; the file says 1"),
            "{err}"
        );
    }
    let text = V1.replace(
        "benchmark = \"mine\"",
        "extends = \"cis-7.0\"\nbenchmark = \"mine\"",
    );
    let err = parse(&text, "mine.toml").unwrap_err().to_string();
    assert!(
        err.contains("line 2") && err.contains("field `extends` needs format_version = 2"),
        "{err}"
    );
    // Version 1 as it always was.
    assert!(parse(V1, "mine.toml").unwrap().controls[0]
        .threat
        .is_empty());
}

#[test]
fn a_version_2_file_extends_a_builtin_and_checks_its_ids() {
    let own = "format_version = 2\nextends = \"cis-5.0\"\nbenchmark = \"mine\"\ntitle = \"t\"\n\n[[control]]\nid = \"X1\"\nslug = \"mine\"\ntitle = \"t\"\nlevel = 1\nmetric_name = \"Mine\"\npattern = '{ $.eventName = DeleteDetector }'\nattack = [\"T1562.001\"]\nstratus = [\"aws.defense-evasion.cloudtrail-stop\"]\n";
    let catalog = parse(own, "mine.toml").unwrap();
    assert_eq!(catalog.controls.len(), 16);
    let x = &catalog.controls[15];
    // The base's defaults where the file has none.
    assert_eq!(
        (x.metric.namespace.as_str(), x.alarm.period),
        ("CISBenchmark", 300)
    );
    assert_eq!(x.threat.attack, ["T1562.001"]);
    for (bad, said) in [
        ("extends = \"cis-5.0\"", "extends = \"nist\""),
        ("id = \"X1\"", "id = \"4.1\""),
        ("T1562.001", "T1562.1"),
        ("aws.defense-evasion.cloudtrail-stop", "Stratus"),
        ("extends = \"cis-5.0\"", "extends = \"hardened\""),
    ] {
        let err = parse(&own.replace(bad, said), "mine.toml")
            .unwrap_err()
            .to_string();
        assert!(
            err.starts_with("invalid catalog mine.toml:line "),
            "{said}: {err}"
        );
    }
    // A v2 file without `extends` needs its own controls and defaults.
    let alone = own.replace("extends = \"cis-5.0\"\n", "");
    assert!(parse(&alone, "mine.toml").is_err());
}

#[test]
fn an_h_id_is_named_without_cis_on_what_cis_fix_writes() {
    assert_eq!(crate::ownership::control_name("H1"), "H1");
    assert_eq!(crate::ownership::control_name("5.1"), "CIS 5.1");
    assert!(
        crate::ownership::drill_reason("H13", "alarm-chain-tampering")
            .starts_with("cis-fix drill for control H13 (alarm-chain-tampering): ")
    );
    let record = crate::ownership::AlarmRecord {
        control: "alarm-chain-tampering".into(),
        filter: None,
    };
    let description = crate::ownership::alarm_description("H13", "Ensure x", &record);
    assert!(description.starts_with("H13: Ensure x. Managed by cis-fix."));
    assert_eq!(
        crate::ownership::alarm_record(Some(&description)),
        Some(record)
    );
    // Ids said as ranges; another catalog's own id is named as such.
    let hardened = load_builtin("hardened").unwrap();
    let ids: Vec<&str> = hardened.controls.iter().map(|c| c.id.as_str()).collect();
    assert_eq!(id_ranges(&ids), "5.1–5.15, H1–H13");
    let err = load_builtin("cis-7.0")
        .unwrap()
        .select(&["H1".into()])
        .unwrap_err()
        .to_string();
    assert!(
        err.starts_with("H1 is hardened's numbering (cloudtrail-selectors-and-lake), a control cis-7.0 does not have"),
        "{err}"
    );
    // A CIS id under cis-5.0 is still cis-7.0's numbering, not hardened's.
    let err = load_builtin("cis-5.0")
        .unwrap()
        .select(&["5.1".into()])
        .unwrap_err()
        .to_string();
    assert!(err.starts_with("5.1 is cis-7.0's numbering"), "{err}");
}
