//! Snapshot tests of rendered plans (insta): a half-compliant account, in text and JSON.

use super::*;
use crate::audit::tests::{
    account, alarm, audit, catalog, filter, subscription, topic_arn, trail, GROUP,
};
use crate::audit::Options;
use crate::inventory::Snapshot;

/// One good chain (4.6), one near-miss filter (4.3), one alarm without a subscriber (4.4),
/// a single-region trail beside the qualifying one, and --notify.
fn half_compliant() -> (Snapshot, Options) {
    let mut s = account();
    let mut regional = trail("regional", "regional-logs");
    regional.is_multi_region = false;
    s.trails.push(regional);
    let ops = topic_arn("ops");
    let quiet = topic_arn("quiet");
    let r = s.regions.get_mut("us-east-1").unwrap();
    r.metric_filters.push(filter(
        GROUP,
        "failures",
        r#"{ ($.errorMessage = "Failed authentication") && ($.eventName = ConsoleLogin) }"#,
        "Failures",
    ));
    r.alarms.push(alarm("failures", "Failures", Some(&ops)));
    r.subscriptions
        .push(subscription(&ops, "email", "oncall@example.com", true));
    r.metric_filters.push(filter(
        GROUP,
        "root",
        // Narrower than the control's: only console sign-ins by root.
        r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" && $.eventName = "ConsoleLogin" }"#,
        "Root",
    ));
    r.metric_filters.push(filter(
        GROUP,
        "iam",
        "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)}",
        "IAM",
    ));
    r.alarms.push(alarm("iam", "IAM", Some(&quiet)));
    let options = Options {
        notify: vec!["email:security@example.com".parse().unwrap()],
        ..Options::default()
    };
    (s, options)
}

#[test]
fn text_plan() {
    let (s, options) = half_compliant();
    let plan = audit(&catalog(&["4.3", "4.4", "4.6"]), &s, &options);
    insta::assert_snapshot!(text(&plan, TextOptions::default()));
}

#[test]
fn json_plan() {
    let (s, options) = half_compliant();
    let plan = audit(&catalog(&["4.3", "4.4", "4.6"]), &s, &options);
    insta::assert_snapshot!(json(&plan, false));
}

#[test]
fn text_without_changes() {
    let (s, _) = half_compliant();
    let plan = audit(&catalog(&["4.6"]), &s, &Options::default());
    let out = text(&plan, TextOptions::default());
    assert!(
        out.contains("No changes. Controls: 1 compliant, 0 non-compliant, 0 blocked."),
        "{out}"
    );
}

#[test]
fn colour_only_when_asked() {
    let (s, options) = half_compliant();
    let plan = audit(&catalog(&["4.3"]), &s, &options);
    assert!(!text(&plan, TextOptions::default()).contains('\u{1b}'));
    assert!(text(
        &plan,
        TextOptions {
            color: true,
            show_endpoints: false,
            ..TextOptions::default()
        }
    )
    .contains('\u{1b}'));
}

#[test]
fn endpoints_are_masked_unless_shown() {
    let (s, options) = half_compliant();
    let plan = audit(&catalog(&["4.3"]), &s, &options);
    let masked = text(&plan, TextOptions::default());
    assert!(
        masked.contains("s****@example.com") && !masked.contains("security@"),
        "{masked}"
    );
    let shown = text(
        &plan,
        TextOptions {
            color: false,
            show_endpoints: true,
            ..TextOptions::default()
        },
    );
    assert!(shown.contains("security@example.com"));
}

/// The demo's shape: every control of the benchmark, most non-compliant, --notify.
fn full_plan() -> Plan {
    let (s, options) = half_compliant();
    let ids: Vec<String> = crate::catalog::load_builtin("cis-5.0")
        .unwrap()
        .controls
        .iter()
        .map(|c| c.id.clone())
        .collect();
    let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
    audit(&catalog(&ids), &s, &options)
}

fn at(width: usize) -> TextOptions {
    TextOptions {
        width,
        ..TextOptions::default()
    }
}

#[test]
fn text_plan_at_80_columns() {
    insta::assert_snapshot!(text(&full_plan(), at(80)));
}

#[test]
fn text_plan_at_120_columns() {
    insta::assert_snapshot!(text(&full_plan(), at(120)));
}

#[test]
fn no_line_is_wider_than_the_width_but_for_one_unbreakable_token() {
    let plan = full_plan();
    for width in [60, 80, 100, 120] {
        let out = text(&plan, at(width));
        for line in out.lines() {
            if line.chars().count() > width {
                let words = line.split_whitespace().count();
                assert_eq!(words, 1, "at {width}: {line:?}");
            }
        }
    }
}

#[test]
fn the_verdicts_and_summary_come_last_and_fit_the_final_screen() {
    let plan = full_plan();
    let out = text(&plan, at(120));
    let lines: Vec<&str> = out.lines().collect();
    let table = lines.iter().rposition(|l| *l == "Controls").unwrap();
    // The table, a blank line and the summary end the output, within 40 rows.
    assert!(lines.len() - table <= 40, "{}", lines.len() - table);
    // Exactly: the heading, one row per control, a blank line, the summary, and nothing
    // after it but the lines saying what cannot be planned.
    let summary = lines.iter().rposition(|l| l.starts_with("Plan:")).unwrap();
    assert_eq!(summary - table, plan.controls.len() + 2, "{out}");
    assert_eq!(lines[summary - 1], "", "{out}");
    assert!(
        lines[summary + 1..]
            .iter()
            .all(|l| l.starts_with("Nothing can be planned") || l.starts_with("    ")),
        "{out}"
    );
    for c in &plan.controls {
        assert!(
            lines[table..].iter().any(|l| l.contains(&c.slug)),
            "no row for {}",
            c.id
        );
    }
    // --quiet: the table and the summary only.
    let quiet = text(
        &plan,
        TextOptions {
            verbosity: Verbosity::Quiet,
            ..at(120)
        },
    );
    assert!(!quiet.contains("Actions"), "{quiet}");
    assert!(quiet.contains("Controls"), "{quiet}");
    assert!(quiet.lines().count() <= plan.controls.len() + 8, "{quiet}");
}

#[test]
fn a_change_lists_each_attribute_before_and_after_and_diffs_a_pattern() {
    let mut plan = full_plan();
    let alarm = plan
        .actions
        .iter_mut()
        .find(|a| matches!(a.call, Call::PutMetricAlarm(_)))
        .unwrap();
    alarm.mode = Mode::Change;
    alarm.changes = vec![
        crate::audit::Change {
            attribute: "threshold".into(),
            before: "5".into(),
            after: "1".into(),
        },
        crate::audit::Change {
            attribute: "filter_pattern".into(),
            before: "{ $.a = 1 }\n".into(),
            after: "{ $.a = 2 }\n".into(),
        },
    ];
    let out = text(&plan, at(100));
    assert!(out.contains("  ~ put_metric_alarm"), "{out}");
    assert!(out.contains("      threshold: 5 → 1"), "{out}");
    assert!(out.contains("        - { $.a = 1 }"), "{out}");
    assert!(out.contains("        + { $.a = 2 }"), "{out}");
}

fn drilled() -> (Vec<DrillTarget>, Vec<Outcome>) {
    let target = |control: &str, alarm: &str| DrillTarget {
        control: control.into(),
        slug: "slug".into(),
        region: "us-east-1".into(),
        alarm: alarm.into(),
        topic_arn: topic_arn("ops"),
    };
    (
        vec![
            target("4.6", "failures\u{1b}[8m\nok 4.1 delivered"),
            target("4.3", "root"),
        ],
        vec![
            Outcome::Delivered {
                message_id: Some("m-1\u{202e}".into()),
            },
            Outcome::Failed {
                error: "denied \u{1b}[2J".into(),
            },
        ],
    )
}

fn stuck(alarm: &str) -> Stuck {
    Stuck {
        control: "4.6".into(),
        account: "123456789012".into(),
        region: "us-east-1".into(),
        alarm: alarm.into(),
        error: "AWS call cloudwatch:SetAlarmState failed in us-east-1: AccessDenied".into(),
    }
}

#[test]
fn drill_views_show_names_from_aws_escaped() {
    let (targets, outcomes) = drilled();
    let skipped = vec![crate::audit::drill::Skipped {
        control: "4.1".into(),
        reason: "alarm `x\u{1b}[8m` is already in ALARM".into(),
    }];
    let options = TextOptions::default();
    let intro = drill_intro("123456789012", "us-east-1", &targets, &skipped, options);
    let report = drill_report(
        ("123456789012", "us-east-1"),
        &targets,
        &outcomes,
        &[stuck("failures\u{1b}[8m")],
        true,
        options,
    );
    for text in [&intro, &report] {
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{202e}'),
            "{text:?}"
        );
        // A newline in a name does not start a line of its own.
        assert!(!text.lines().any(|l| l.starts_with("ok 4.1")), "{text}");
    }
    assert!(
        intro.contains("set_alarm_state failures\\x1b[8m\\nok 4.1 delivered"),
        "{intro}"
    );
    assert!(report.contains("(message m-1\\u{202e})"), "{report}");
    let words = report.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains("AWS says: denied \\x1b[2J"), "{report}");
}

#[test]
fn a_drill_report_names_each_alarm_left_in_alarm_with_the_command_to_reset_it() {
    let (targets, outcomes) = drilled();
    let left = [stuck("team's failures")];
    for verbosity in [Verbosity::Normal, Verbosity::Quiet] {
        let options = TextOptions {
            width: 60,
            verbosity,
            ..TextOptions::default()
        };
        let report = drill_report(
            ("123456789012", "us-east-1"),
            &targets,
            &outcomes,
            &left,
            true,
            options,
        );
        let words = report.split_whitespace().collect::<Vec<_>>().join(" ");
        assert!(
            words.contains("! 4.6 alarm team's failures in account 123456789012, us-east-1: AWS call cloudwatch:SetAlarmState failed"),
            "{report}"
        );
        // Whole on one line, however narrow the terminal: it is to be copied.
        assert!(
            report
                .lines()
                .any(|l| l.trim() == crate::audit::drill::reset_command(&left[0])),
            "{report}"
        );
        assert!(
            words.ends_with("Drill complete: 1 of 2 delivered; 1 alarm left in ALARM."),
            "{report}"
        );
    }
    // Nothing left in ALARM: nothing said about it.
    let report = drill_report(
        ("123456789012", "us-east-1"),
        &targets,
        &outcomes,
        &[],
        true,
        TextOptions::default(),
    );
    assert!(!report.contains("Left in ALARM"), "{report}");
    assert!(
        report
            .trim_end()
            .ends_with("Drill complete: 1 of 2 delivered."),
        "{report}"
    );
}

/// A 4.2 chain that counts only through the benchmark's SSO-aware alternative says so: in the
/// table (cut to the width) and in the `-v` chain line, whole.
#[test]
fn a_chain_through_an_alternative_pattern_says_which() {
    let mut s = account();
    let ops = topic_arn("ops");
    let r = s.regions.get_mut("us-east-1").unwrap();
    r.metric_filters.push(filter(
        GROUP,
        "iam-users-without-mfa",
        r#"{ $.eventName = ConsoleLogin && $.additionalEventData.MFAUsed != Yes && $.userIdentity.type = IAMUser && $.responseElements.ConsoleLogin = Success }"#,
        "NoMfa",
    ));
    r.alarms.push(alarm("no-mfa", "NoMfa", Some(&ops)));
    r.subscriptions
        .push(subscription(&ops, "email", "oncall@example.com", true));
    let plan = audit(&catalog(&["4.2"]), &s, &Options::default());
    let normal = text(&plan, TextOptions::default());
    let row = normal
        .lines()
        .find(|l| l.contains("4.2 console-signin-without-mfa"))
        .unwrap_or_else(|| panic!("{normal}"));
    assert!(
        row.contains("compliant      via the SSO-aware alternative (misses root"),
        "{row}"
    );
    let verbose = text(
        &plan,
        TextOptions {
            verbosity: Verbosity::Verbose,
            ..TextOptions::default()
        },
    );
    let words = verbose.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(
        words.contains("filter iam-users-without-mfa (equivalent to the benchmark's SSO-aware alternative for 4.2 (misses root and federated sign-ins without MFA, and failed ones)) -> alarm no-mfa"),
        "{verbose}"
    );
}

/// A policy statement the user is to paste keeps the topic's full ARN in the text plan (the
/// JSON plan has it too); the prose around it names the topic by its name.
#[test]
fn a_statement_to_paste_keeps_its_arns_and_the_prose_names_the_topic() {
    use crate::audit::tests::ACCOUNT;
    use crate::inventory::{Topic, TopicDelivery};
    let mut s = account();
    let ops = topic_arn("acct-only");
    let r = s.regions.get_mut("us-east-1").unwrap();
    r.metric_filters.push(filter(
        GROUP,
        "failures",
        r#"{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }"#,
        "Failures",
    ));
    r.alarms.push(alarm("failures", "Failures", Some(&ops)));
    r.subscriptions
        .push(subscription(&ops, "email", "oncall@example.com", true));
    let role_only = format!(
        r#"{{"Statement": [{{"Effect": "Allow", "Principal": {{"AWS": "arn:aws:iam::{ACCOUNT}:role/publisher"}}, "Action": "sns:Publish", "Resource": "{ops}"}}]}}"#
    );
    r.topics.push(Topic {
        arn: ops.clone(),
        exists: true,
        delivery: Some(TopicDelivery {
            policy: Some(role_only),
            ..TopicDelivery::default()
        }),
        ..Default::default()
    });
    let plan = audit(&catalog(&["4.6"]), &s, &Options::default());
    let message = &plan.controls[0]
        .findings
        .iter()
        .find(|f| f.code == Code::TopicPolicyDeniesCloudwatch)
        .unwrap_or_else(|| panic!("{plan:#?}"))
        .message;
    let resource = format!(r#""Resource": "{ops}""#);
    assert!(message.contains(&resource), "{message}");
    let shown = text(&plan, TextOptions::default());
    let words = shown.split_whitespace().collect::<Vec<_>>().join(" ");
    assert!(words.contains(&resource), "{shown}");
    assert!(!words.contains(r#""Resource": "acct-only""#), "{shown}");
    // In prose, the name.
    assert!(words.contains("topic acct-only's access policy"), "{shown}");
}

#[test]
fn json_objects_are_cut_out_of_prose_with_nesting_and_strings() {
    assert_eq!(
        json_objects(r#"add {"a": {"b": "}{"}, "c": "\"}"} to x {open"#),
        [
            (false, "add "),
            (true, r#"{"a": {"b": "}{"}, "c": "\"}"}"#),
            (false, " to x "),
            (true, "{open"),
        ]
    );
    assert_eq!(json_objects("plain"), [(false, "plain")]);
    assert_eq!(json_objects("{}"), [(true, "{}")]);
}
