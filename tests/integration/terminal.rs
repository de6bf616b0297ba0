//! What reaches the terminal (issue 18, item 9): a colleague's filter pattern or name holding
//! `ESC[8m` (conceal) or a bidi override is shown escaped in every text view, so that it hides
//! nothing after it — the question that asks for `yes` included — while the JSON plan keeps the
//! exact pattern.

use aws_sdk_cloudwatchlogs::types::MetricTransformation;
use serde_json::Value;

use crate::harness::{assert_ok, queue, stderr, stdout, Account, TrailSpec};
use crate::prompt::Terminal;

const GROUP: &str = "cloudtrail/management";
const CONCEAL: &str = "\u{1b}[8m";
const OVERRIDE: char = '\u{202e}';
/// A colleague's edit of cis-fix's own 5.6 filter: still a pattern, with a conceal sequence
/// and a right-to-left override in a value.
const EDITED: &str = "{ ($.eventName = ConsoleLogin) && ($.errorMessage = \"Failed\u{1b}[8m authentication\u{202e}\") }";
/// A user's filter of their own, near the control's pattern, named with the same characters.
const NAME: &str = "auth\u{1b}[8m-failures\u{202e}";
const NEAR: &str = "{ ($.eventName = ConsoleLogin) && ($.errorMessage = \"Failed authentication\") && ($.userAgent = \"x\") }";

/// The escape sequences of cis-fix's own colours (and their reset).
const OWN: [&str; 6] = [
    "\u{1b}[0m",
    "\u{1b}[1m",
    "\u{1b}[2m",
    "\u{1b}[31m",
    "\u{1b}[32m",
    "\u{1b}[33m",
];

/// An account whose 5.6 chain cis-fix made, then a colleague edited cis-fix's filter's pattern;
/// and a near-miss filter of a user's own on the same log group.
async fn tampered() -> Account {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    let notify = queue(&account);
    assert_ok(&account.run(&[
        "apply",
        "--controls",
        "5.6",
        "--notify",
        &notify,
        "--auto-approve",
    ]));
    edit_own_filter(&account, EDITED).await;
    account.filter(GROUP, NAME, NEAR, "NearMiss", "Team").await;
    account
}

/// Sets the pattern of cis-fix's own filter on `GROUP`.
async fn edit_own_filter(account: &Account, pattern: &str) {
    let own = account
        .logs()
        .describe_metric_filters()
        .log_group_name(GROUP)
        .filter_name_prefix("cis-fix-")
        .send()
        .await
        .unwrap()
        .metric_filters
        .unwrap()
        .remove(0);
    let metric = own.metric_transformations.unwrap().remove(0);
    account
        .logs()
        .put_metric_filter()
        .log_group_name(GROUP)
        .filter_name(own.filter_name.unwrap())
        .filter_pattern(pattern)
        .metric_transformations(
            MetricTransformation::builder()
                .metric_name(metric.metric_name)
                .metric_namespace(metric.metric_namespace)
                .metric_value(metric.metric_value)
                .build()
                .unwrap(),
        )
        .send()
        .await
        .unwrap();
}

/// No raw ESC, no bidi override: every such character was escaped.
fn assert_inert(what: &str, text: &str) {
    assert!(!text.contains('\u{1b}'), "{what}: raw ESC in {text:?}");
    assert!(
        !text.contains(OVERRIDE),
        "{what}: bidi override in {text:?}"
    );
}

/// cis-fix's own colours only: once they are taken out, nothing is left to a terminal.
fn assert_own_colours_only(what: &str, text: &str) {
    assert!(!text.contains(CONCEAL), "{what}: conceal in {text:?}");
    let mut rest = text.to_string();
    for own in OWN {
        rest = rest.replace(own, "");
    }
    assert_inert(what, &rest);
}

#[tokio::test]
async fn control_characters_from_aws_are_shown_escaped_and_json_keeps_them() {
    let account = tampered().await;

    let out = account.run(&["plan", "--controls", "5.6", "--color", "never"]);
    assert_ok(&out);
    let text = stdout(&out);
    assert_inert("plan", &text);
    assert_inert("plan stderr", &stderr(&out));
    // Shown, visibly: the change back to the catalog's pattern, and the user's near miss.
    assert!(text.contains("~ put_metric_filter"), "{text}");
    assert!(text.contains("Failed\\x1b[8m"), "{text:?}");
    assert!(text.contains("authentication\\u{202e}"), "{text:?}");
    assert!(text.contains("auth\\x1b[8m-failures\\u{202e}"), "{text:?}");

    let out = account.run(&["plan", "--controls", "5.6", "--color", "always"]);
    assert_ok(&out);
    assert_own_colours_only("plan --color always", &stdout(&out));
    assert!(stdout(&out).contains("\u{1b}[31m"), "coloured after all");

    // The JSON plan carries the exact pattern (serde escapes the ESC as \u001b).
    let out = account.run(&["plan", "--controls", "5.6", "--format", "json"]);
    assert_ok(&out);
    assert!(
        stdout(&out).contains("Failed\\u001b[8m authentication\u{202e}"),
        "{}",
        stdout(&out)
    );
    let plan: Value = serde_json::from_slice(&out.stdout).unwrap();
    let change = plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == "put_metric_filter")
        .unwrap_or_else(|| panic!("a change of the filter: {plan:#}"));
    let before = change["changes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["attribute"] == "filter_pattern")
        .unwrap_or_else(|| panic!("the pattern's change: {plan:#}"));
    assert_eq!(before["before"], EDITED, "{plan:#}");

    // apply: the plan, the records and the summary, without colours and with them.
    let out = account.run(&[
        "apply",
        "--controls",
        "5.6",
        "--auto-approve",
        "--color",
        "never",
    ]);
    assert_ok(&out);
    assert_inert("apply", &stdout(&out));
    assert_inert("apply stderr", &stderr(&out));
    assert!(stdout(&out).contains("Apply complete"), "{}", stdout(&out));

    edit_own_filter(&account, EDITED).await;
    let out = account.run(&[
        "apply",
        "--controls",
        "5.6",
        "--auto-approve",
        "--color",
        "always",
    ]);
    assert_ok(&out);
    assert_own_colours_only("apply --color always", &stdout(&out));
    assert_inert("apply --color always stderr", &stderr(&out));
}

#[tokio::test]
async fn the_question_stays_visible_after_a_concealing_pattern() {
    let account = tampered().await;
    // On a real terminal, in colour: the progress line draws with escapes of its own, so only
    // the conceal sequence and the override are looked for.
    let mut terminal = Terminal::start(
        &account,
        &["apply", "--controls", "5.6", "--color", "always"],
    );
    terminal.wait_for_question();
    let asked = terminal.screen();
    assert!(
        asked.contains(&format!(
            "Apply 1 change to account {} in us-east-1? Only 'yes' will be accepted: ",
            account.id
        )),
        "{asked}"
    );
    terminal.type_keys("yes\n");
    let (code, screen) = terminal.finish();
    assert_eq!(code, Some(0), "{screen}");
    assert!(!screen.contains(CONCEAL), "{screen:?}");
    assert!(!screen.contains(OVERRIDE), "{screen:?}");
    assert!(
        screen.contains("Apply complete: 0 created, 1 changed."),
        "{screen}"
    );
}

#[test]
fn events_from_a_file_are_shown_escaped() {
    let event = serde_json::json!({
        "eventName": "ConsoleLogin",
        "errorMessage": "Failed authentication",
        "eventTime": "2026-01-01T00:00:00Z\u{1b}[8m",
        "eventID": "e-1\u{202e}\r\nforged line",
    });
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("events.json");
    std::fs::write(&file, format!("{event}\n")).unwrap();
    let out = crate::verdicts::offline(
        &[
            "pattern",
            "test",
            "--control",
            "5.6",
            file.to_str().unwrap(),
        ],
        None,
    );
    assert_ok(&out);
    let text = stdout(&out);
    assert_inert("pattern test", &text);
    assert_eq!(
        text.lines().next(),
        Some("2026-01-01T00:00:00Z\\x1b[8m ConsoleLogin e-1\\u{202e}\\r\\nforged line"),
        "{text}"
    );
}

/// A catalog of one control whose id, titles and benchmark name hold `ESC[8m`, a bidi
/// override and a newline (TOML's `\u001b`, `\u202e`, `\n`), with `level` as given.
fn catalog(dir: &std::path::Path, level: u8) -> std::path::PathBuf {
    let path = dir.join("catalog.toml");
    std::fs::write(
        &path,
        format!(
            r#"format_version = 1
benchmark = "mine\u001b[8m"
title = "My benchmark\u202e"

[defaults]
namespace = "CISBenchmark"
metric_value = "1"
statistic = "Sum"
period = 300
threshold = 1.0
comparison_operator = "GreaterThanOrEqualToThreshold"
evaluation_periods = 1

[[control]]
id = "9.1\u001b[8m"
slug = "console-authentication-failures"
title = "Failures\nforged line\u202e"
level = {level}
metric_name = "ConsoleAuthenticationFailures"
pattern = '{{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }}'
"#
        ),
    )
    .unwrap();
    path
}

#[test]
fn a_catalog_files_strings_are_shown_escaped_and_so_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let good = catalog(dir.path(), 1);
    let out = crate::verdicts::offline(&["controls", "--catalog", good.to_str().unwrap()], None);
    assert_ok(&out);
    let text = stdout(&out);
    assert_inert("controls", &text);
    assert!(
        text.starts_with("mine\\x1b[8m: My benchmark\\u{202e} (1 control)"),
        "{text:?}"
    );
    assert!(
        text.contains("  Failures\\nforged line\\u{202e}\n"),
        "{text:?}"
    );

    // An error whose message carries the file's text: one line, escaped.
    let bad = catalog(dir.path(), 3);
    let out = crate::verdicts::offline(&["controls", "--catalog", bad.to_str().unwrap()], None);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert_inert("error", &err);
    assert!(
        err.contains("control 9.1\\x1b[8m, field `level`"),
        "{err:?}"
    );
}
