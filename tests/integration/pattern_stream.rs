//! `pattern test` on a copy of a CloudTrail bucket: a directory tree of gzipped log files
//! (an account's trail and an organization trail's), walked in path order, selected by date,
//! stopped at `--max-matches`, counted per control.

use std::io::Write;
use std::path::Path;

use crate::harness::{stderr, stdout};
use crate::verdicts::offline;

/// A gzipped CloudTrail log file at `relative` under `root`, of these records.
fn log_file(root: &Path, relative: &str, records: serde_json::Value) {
    let path = root.join(relative);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    let mut gz = flate2::write::GzEncoder::new(
        std::fs::File::create(&path).unwrap(),
        flate2::Compression::default(),
    );
    gz.write_all(
        serde_json::json!({ "Records": records })
            .to_string()
            .as_bytes(),
    )
    .unwrap();
    gz.finish().unwrap();
}

fn failed_login(id: &str, time: &str) -> serde_json::Value {
    serde_json::json!({"eventTime": time, "eventName": "ConsoleLogin", "eventID": id,
                       "errorMessage": "Failed authentication"})
}

/// Three days of an account's trail and one of an organization trail's, and a digest.
fn bucket() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let account = "AWSLogs/111122223333/CloudTrail/us-east-1/2026/11";
    log_file(
        root,
        &format!("{account}/01/a.json.gz"),
        serde_json::json!([
            failed_login("d1-1", "2026-11-01T08:00:00Z"),
            {"eventTime": "2026-11-01T09:00:00Z", "eventName": "GetObject", "eventID": "d1-2"},
            failed_login("d1-3", "2026-11-01T10:00:00Z"),
        ]),
    );
    log_file(
        root,
        &format!("{account}/05/a.json.gz"),
        serde_json::json!([failed_login("d5-1", "2026-11-05T08:00:00Z"),]),
    );
    log_file(
        root,
        &format!("{account}/09/a.json.gz"),
        serde_json::json!([
            failed_login("d9-1", "2026-11-09T08:00:00Z"),
            {"eventTime": "2026-11-09T09:00:00Z", "eventName": "DeleteTrail", "eventID": "d9-2"},
        ]),
    );
    let org = "AWSLogs/o-abc123/444455556666/CloudTrail/eu-west-1/2026/11/02";
    log_file(
        root,
        &format!("{org}/b.json.gz"),
        serde_json::json!([failed_login("o2-1", "2026-11-02T08:00:00Z"),]),
    );
    let digest = root.join("AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2026/11/01");
    std::fs::create_dir_all(&digest).unwrap();
    std::fs::write(digest.join("d.json.gz"), b"not events").unwrap();
    dir
}

fn ids(text: &str) -> Vec<String> {
    text.lines()
        .filter(|l| l.starts_with("2026-"))
        .filter_map(|l| l.split(' ').nth(2).map(str::to_string))
        .collect()
}

#[test]
fn pattern_test_walks_a_cloudtrail_bucket_in_path_order() {
    let dir = bucket();
    let root = dir.path().to_str().unwrap();
    let out = offline(&["pattern", "test", "--control", "5.6", root], None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    // Path order: the account's days, then the organization's directory (`o-…` sorts after).
    assert_eq!(
        ids(&text),
        ["d1-1", "d1-3", "d5-1", "d9-1", "o2-1"],
        "{text}"
    );
    assert!(text.contains("5 of 7 events match"), "{text}");

    // Dates: files by path with a day's margin, then events by eventTime.
    let window = ["--since", "2026-11-02", "--until", "2026-11-05"];
    let out = offline(
        &[
            &["pattern", "test", "--control", "5.6"][..],
            &window,
            &[root],
        ]
        .concat(),
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let text = stdout(&out);
    assert_eq!(ids(&text), ["d5-1", "o2-1"], "{text}");
    assert!(text.contains("2 of 2 events match"), "{text}");
}

#[test]
fn pattern_test_stops_at_max_matches_and_counts_per_control() {
    let dir = bucket();
    let root = dir.path().to_str().unwrap();
    let args = [
        "pattern",
        "test",
        "--control",
        "5.6",
        "--max-matches",
        "2",
        "--format",
        "json",
        root,
    ];
    let out = offline(&args, None);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(json["format_version"], 2);
    assert_eq!(json["matched"], 2);
    assert_eq!(json["stopped_at_max_matches"], true);
    assert_eq!(json["matches"][1]["event_id"], "d1-3");
    assert_eq!(json["events"], 3);

    let out = offline(
        &[
            "pattern",
            "test",
            "--controls",
            "5.6,5.5",
            "--format",
            "json",
            root,
        ],
        None,
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let counts: Vec<(String, u64)> = json["controls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["control"].as_str().unwrap().to_string(),
                c["matched"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        counts,
        [("5.5".to_string(), 1), ("5.6".to_string(), 5)],
        "{json}"
    );
    assert_eq!(json["events"], 7);
}
