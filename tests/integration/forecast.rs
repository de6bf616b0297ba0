//! `cis-fix forecast` (issue 23): real CloudTrail records written into the trail's log group
//! over several days, scanned by the emulator's FilterLogEvents (filter_patterns.py, written
//! apart from the product's evaluator); the counts must equal what that evaluator says of the
//! same messages, computed here in Python, not by the product.

use std::collections::BTreeMap;
use std::process::{Command, Stdio};

use serde_json::Value;

use crate::harness::{
    actions_used, assert_allows, assert_ok, path_in_repo, python, stderr, stdout, validate, Account,
};
use crate::org::{organization_of_one, ORG_GROUP};

/// The demo account's qualifying trail's log group (examples/seed_account.py).
const DEMO_GROUP: &str = "aws-cloudtrail-logs-management";

/// Writes every real record (plans/techniques/*, src/catalog/testdata/*.jsonl) into the log
/// group, spread over the last six days (one PutLogEvents per day and stream, as AWS wants a
/// batch within 24 hours and in order), then prints, for each pattern given on stdin, the
/// matching messages' count and distinct 5-minute periods as filter_patterns.py sees them.
const SEED: &str = r#"
import json, sys, time
sys.path.insert(0, sys.argv[4] + "/tests/emulator")
import boto3, filter_patterns
endpoint, account, group, root = sys.argv[1:5]
records = []
for path in ("plans/techniques/panther-benign.jsonl", "src/catalog/testdata/hardened-records.jsonl"):
    for line in open(f"{root}/{path}", encoding="utf-8"):
        if line.strip():
            item = json.loads(line)
            records.append(item.get("record", item))
stratus = json.load(open(f"{root}/plans/techniques/stratus-red-team.json", encoding="utf-8"))
records += [e["record"] for t in stratus["techniques"] for e in t["events"]]
day = 86_400_000
start = (int(time.time() * 1000) // day - 6) * day + 3_600_000
step = (5 * day) // len(records)
# Every seventh record comes a second after the one before it, in its 5-minute period most
# often, so that periods and matches differ.
events = [(start + (i - (i % 7 == 1)) * step + (i % 7 == 1) * 1000, json.dumps(r, separators=(",", ":")))
          for i, r in enumerate(records)]
logs = boto3.client("logs", endpoint_url=endpoint, region_name="us-east-1",
                    aws_access_key_id=account, aws_secret_access_key="x")
for stream in ("s1", "s2"):
    logs.create_log_stream(logGroupName=group, logStreamName=stream)
by_day = {}
for n, (t, m) in enumerate(events):
    by_day.setdefault((t // day, "s1" if n % 2 else "s2"), []).append((t, m))
for (_, stream), batch in sorted(by_day.items()):
    logs.put_log_events(logGroupName=group, logStreamName=stream,
                        logEvents=[{"timestamp": t, "message": m} for t, m in sorted(batch)])
answer = {}
for control, pattern in json.load(sys.stdin).items():
    compiled = filter_patterns.compile_pattern(pattern)
    hits = [t for t, m in events if compiled.matches(m)]
    answer[control] = {"matches": len(hits), "periods": len({t // 300_000 for t in hits})}
print(json.dumps(answer))
"#;

/// Each control's pattern as the catalog writes it (`cis-fix controls --format json`).
fn patterns(account: &Account, benchmark: &str) -> BTreeMap<String, String> {
    let out = account.run(&["controls", "--format", "json", "--benchmark", benchmark]);
    assert_ok(&out);
    let catalog: Value = serde_json::from_slice(&out.stdout).expect("controls JSON");
    catalog["controls"]
        .as_array()
        .expect("controls")
        .iter()
        .map(|c| {
            let text = |k: &str| c[k].as_str().unwrap_or_default().to_string();
            (text("id"), text("pattern"))
        })
        .collect()
}

/// Seeds `group` of `account` and returns, per control of `benchmark`, the independent
/// evaluator's (matches, distinct 5-minute periods).
fn seed(account: &Account, group: &str, benchmark: &str) -> BTreeMap<String, (u64, u64)> {
    let patterns = serde_json::to_string(&patterns(account, benchmark)).expect("patterns");
    let mut child = Command::new(python())
        .args(["-c", SEED, &account.emulator.url(), &account.id, group])
        .arg(path_in_repo(""))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run the seeding script");
    {
        use std::io::Write as _;
        let mut stdin = child.stdin.take().expect("stdin");
        stdin.write_all(patterns.as_bytes()).expect("send patterns");
    }
    let out = child.wait_with_output().expect("seed");
    assert!(out.status.success(), "seed: {}", stderr(&out));
    let answer: Value = serde_json::from_slice(&out.stdout).expect("seed answer");
    answer
        .as_object()
        .expect("answer object")
        .iter()
        .map(|(id, v)| {
            let n = |k: &str| v[k].as_u64().unwrap_or_default();
            (id.clone(), (n("matches"), n("periods")))
        })
        .collect()
}

/// FilterLogEvents pages of at most `events` events in `account` (the emulator's test switch).
fn page_size(account: &Account, events: u64) {
    ureq::post(&format!(
        "{}/_emulator/filter-log-events",
        account.emulator.url()
    ))
    .header("Content-Type", "application/json")
    .send(serde_json::json!({"account": account.id, "page_events": events}).to_string())
    .expect("set the page size");
}

/// `cis-fix forecast --format json ARGS`: its exit code and document (checked against the
/// published schema).
fn forecast(account: &Account, args: &[&str]) -> (Option<i32>, Value) {
    let mut all = vec!["forecast", "--format", "json"];
    all.extend_from_slice(args);
    let out = account.run(&all);
    let document: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}): {} {}", stdout(&out), stderr(&out)));
    validate(&document, "forecast");
    (out.status.code(), document)
}

/// Each control's (matches, periods in ALARM) in a forecast.
fn figures(document: &Value) -> BTreeMap<String, (u64, u64)> {
    document["controls"]
        .as_array()
        .expect("controls")
        .iter()
        .map(|c| {
            let id = c["id"].as_str().unwrap_or_default().to_string();
            let periods = c["alarm"]["periods_in_alarm"].as_u64().unwrap_or(u64::MAX);
            (id, (c["matches"].as_u64().unwrap_or(u64::MAX), periods))
        })
        .collect()
}

/// The operations `account` made, each once.
fn operations(account: &Account) -> Vec<String> {
    let mut ops: Vec<String> = account.calls().into_iter().map(|(_, op)| op).collect();
    ops.sort();
    ops.dedup();
    ops
}

/// Asserts that every call was a read (nothing written), and that the forecast policy
/// allows each.
fn only_reads(account: &Account) {
    for op in operations(account) {
        assert!(
            ["Get", "Describe", "List", "Filter", "Test", "AssumeRole"]
                .iter()
                .any(|read| op.starts_with(read)),
            "forecast made a call that is not a read: {op}"
        );
    }
    let used = actions_used(account);
    assert_allows("forecast", &used);
    // And no more: what the policy adds to the plan's reads was used.
    let reads = crate::harness::allowed("plan");
    for action in crate::harness::allowed("forecast") {
        assert!(
            reads.contains(&action) || used.contains(&action),
            "`cis-fix iam-policy forecast` allows {action}, which forecast did not use"
        );
    }
}

#[tokio::test]
async fn forecast_counts_what_the_independent_evaluator_counts_over_several_pages() {
    let account = Account::demo().await;
    let expected = seed(&account, DEMO_GROUP, "cis-7.0");
    assert!(
        expected.values().filter(|(n, _)| *n > 0).count() >= 4,
        "the records should match several controls: {expected:?}"
    );
    assert!(
        expected.values().any(|(n, periods)| periods < n),
        "some control should have two matches in one period: {expected:?}"
    );
    page_size(&account, 7);
    account.reset_calls();
    let (code, document) = forecast(&account, &["--since", "8d"]);
    assert_eq!(code, Some(0), "{document:#}");
    assert_eq!(figures(&document), expected, "{document:#}");
    assert_eq!(document["log_group"]["name"], DEMO_GROUP);
    assert_eq!(document["complete"], true);
    only_reads(&account);
    // Pages: one call per page, and some control took several.
    let pages: u64 = document["controls"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["pages"].as_u64().unwrap())
        .sum();
    let calls = account
        .calls()
        .iter()
        .filter(|(_, op)| op == "FilterLogEvents")
        .count();
    assert_eq!(calls as u64, pages);
    assert!(
        document["controls"]
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["pages"].as_u64().unwrap() >= 3),
        "{document:#}"
    );
    // Per day adds up to the matches, and the top values are named.
    for control in document["controls"].as_array().unwrap() {
        let days: u64 = control["per_day"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["matches"].as_u64().unwrap())
            .sum();
        assert_eq!(days, control["matches"].as_u64().unwrap(), "{control:#}");
        if control["matches"].as_u64().unwrap() > 0 {
            assert!(!control["top"]["event_names"].as_array().unwrap().is_empty());
        }
    }
}

#[tokio::test]
async fn forecast_runs_the_hardened_benchmark() {
    let account = Account::demo().await;
    let expected = seed(&account, DEMO_GROUP, "hardened");
    assert!(
        expected.keys().any(|id| id.starts_with('H')),
        "{expected:?}"
    );
    account.reset_calls();
    let (code, document) = forecast(&account, &["--benchmark", "hardened"]);
    assert_eq!(code, Some(0), "{document:#}");
    assert_eq!(figures(&document), expected, "{document:#}");
    assert_eq!(document["benchmark"], "hardened");
    only_reads(&account);
}

#[tokio::test]
async fn forecast_retries_a_throttled_scan() {
    let account = Account::demo().await;
    let expected = seed(&account, DEMO_GROUP, "cis-7.0");
    account.reset_calls();
    account.faults_with(serde_json::json!({
        "kinds": ["throttle"], "operations": ["FilterLogEvents"], "rate": 1.0, "count": 4
    }));
    let (code, document) = forecast(&account, &["--controls", "5.1,5.3,5.4"]);
    account.clear_faults();
    assert_eq!(code, Some(0), "{document:#}");
    let wanted: BTreeMap<String, (u64, u64)> = expected
        .into_iter()
        .filter(|(id, _)| ["5.1", "5.3", "5.4"].contains(&id.as_str()))
        .collect();
    assert_eq!(figures(&document), wanted);
    let throttled = account
        .calls()
        .iter()
        .filter(|(_, op)| op == "FilterLogEvents")
        .count();
    // Four throttled attempts, then one call per page (one page each here).
    assert_eq!(throttled, 4 + 3);
}

#[tokio::test]
async fn max_events_gives_at_least_and_the_retention_is_said() {
    let account = Account::demo().await;
    let expected = seed(&account, DEMO_GROUP, "cis-7.0");
    account
        .logs()
        .put_retention_policy()
        .log_group_name(DEMO_GROUP)
        .retention_in_days(3)
        .send()
        .await
        .expect("put retention");
    page_size(&account, 2);
    let (code, document) = forecast(&account, &["--max-events", "3"]);
    assert_eq!(code, Some(0), "{document:#}");
    assert_eq!(document["complete"], false);
    assert_eq!(document["log_group"]["retention_days"], 3);
    let notes = document["notes"].to_string();
    assert!(
        notes.contains("past the log group's retention (3 days)"),
        "{notes}"
    );
    for control in document["controls"].as_array().unwrap() {
        let id = control["id"].as_str().unwrap();
        let (all, _) = expected[id];
        let counted = control["matches"].as_u64().unwrap();
        assert_eq!(counted, all.min(3), "{id}");
        // Past 3 the count is short; under 3 it is whole (at exactly 3, more may remain).
        if all != 3 {
            assert_eq!(control["complete"], all < 3, "{id}: {control:#}");
        }
    }
    let out = account.run(&["forecast", "--max-events", "3"]);
    assert_ok(&out);
    let text = stdout(&out);
    assert!(text.contains("at least 3 matching events"), "{text}");
    assert!(text.contains("cis-fix pattern sql --control"), "{text}");
    assert!(text.contains("--since reaches past"), "{text}");
}

#[tokio::test]
async fn forecast_org_scans_the_organization_trails_log_group() {
    let (management, member) = organization_of_one().await;
    let expected = seed(&management, ORG_GROUP, "cis-7.0");
    management.reset_calls();
    member.reset_calls();
    let (code, document) = forecast(&management, &["--org"]);
    // The trail is the caller's own: no member is read to find it.
    assert_eq!(operations(&member), Vec::<String>::new());
    assert_eq!(code, Some(0), "{document:#}");
    assert_eq!(document["log_group"]["name"], ORG_GROUP);
    assert_eq!(document["log_group"]["organization"], true);
    assert_eq!(document["log_group"]["account_id"], management.id.as_str());
    assert_eq!(figures(&document), expected);
    for op in operations(&management) {
        assert!(!op.starts_with("Put") && !op.starts_with("Create"), "{op}");
    }
    assert_allows("org-management", &actions_used(&management));
}

#[tokio::test]
async fn forecast_without_a_trail_log_group_says_what_to_do() {
    let account = Account::new().await;
    let out = account.run(&["forecast"]);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    let error = stderr(&out);
    assert!(
        error.contains("no qualifying trail of account") && error.contains("cis-fix plan"),
        "{error}"
    );
}
