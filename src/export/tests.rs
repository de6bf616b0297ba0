//! The export on audited plans: snapshots of both formats, references and names, and
//! property tests that every pattern the parser accepts comes back byte for byte.

use proptest::prelude::*;

use super::*;
use crate::audit::tests::{
    account, alarm, audit, catalog, filter, subscription, topic_arn, ACCOUNT, GROUP, REGION,
};
use crate::audit::{Code, Finding, Mode, Options, Plan};
use crate::inventory::Snapshot;

/// 4.6 compliant through the user's `ops` topic; 4.3 reuses the user's covering `root`
/// filter's metric; 4.4 and 4.1 need filters; --notify creates cis-fix's topic.
fn half_compliant() -> (Snapshot, Plan) {
    let mut s = account();
    let ops = topic_arn("ops");
    let r = s.regions.get_mut(REGION).unwrap();
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
        r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#,
        "Root",
    ));
    let options = Options {
        notify: vec!["sqs:arn:aws:sqs:us-east-1:111122223333:alerts"
            .parse()
            .unwrap()],
        ..Options::default()
    };
    let plan = audit(&catalog(&["4.1", "4.3", "4.4", "4.6"]), &s, &options);
    (s, plan)
}

fn source(snapshot: &Snapshot, plan: &Plan) -> Source {
    Source {
        generator: "cis-fix 0.0.0".into(),
        generated_at: "2026-12-02T12:00:00Z".into(),
        benchmark: plan.benchmark.clone(),
        controls: plan.controls.iter().map(|c| c.id.clone()).collect(),
        caller_account: plan.account_id.clone(),
        region: REGION.into(),
        partition: "aws".into(),
        role: None,
        external_id: false,
        accounts: vec![part(snapshot, plan)],
    }
}

fn part(snapshot: &Snapshot, plan: &Plan) -> AccountPart {
    AccountPart {
        account_id: plan.account_id.clone(),
        actions: plan.actions.clone(),
        controls: plan.controls.clone(),
        filters: snapshot
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
            .collect(),
    }
}

/// The same plan, but cis-fix's 4.4 alarm exists with another threshold: a `~ change`.
fn with_change(mut plan: Plan) -> Plan {
    for action in &mut plan.actions {
        if action.control.as_deref() == Some("4.4") {
            if let Call::PutMetricAlarm(_) = action.call {
                action.mode = Mode::Change;
                action.reason = "cis-fix's alarm differs: threshold 5 → 1".into();
            }
        }
    }
    plan
}

#[test]
fn terraform_of_a_half_compliant_account() {
    let (s, plan) = half_compliant();
    insta::assert_snapshot!(terraform::render(&source(&s, &with_change(plan))));
}

#[test]
fn cloudformation_of_a_half_compliant_account() {
    let (s, plan) = half_compliant();
    let templates = cloudformation::render(&source(&s, &with_change(plan))).unwrap();
    assert_eq!(templates.len(), 1);
    assert_eq!(templates[0].file_name(), "111122223333-us-east-1.yaml");
    insta::assert_snapshot!(templates[0].text);
}

#[test]
fn several_accounts_get_a_provider_each_with_the_assumed_role() {
    let (s, plan) = half_compliant();
    let mut other = plan.clone();
    other.account_id = "444455556666".into();
    let mut source = source(&s, &plan);
    source.role = Some("OrganizationAccountAccessRole".into());
    source.external_id = true;
    source.accounts.push(part(&s, &other));
    let text = terraform::render(&source);
    insta::assert_snapshot!(text);
    // The caller's own account is reached directly; the external ID is never written out.
    assert!(!text.contains(&format!("arn:aws:iam::{ACCOUNT}:role")));
    assert!(text.contains("arn:aws:iam::444455556666:role/OrganizationAccountAccessRole"));
    assert!(text.contains("external_id = var.external_id"));
    let templates = cloudformation::render(&source).unwrap();
    let names: Vec<String> = templates.iter().map(|t| t.file_name()).collect();
    assert_eq!(
        names,
        ["111122223333-us-east-1.yaml", "444455556666-us-east-1.yaml"]
    );
}

#[test]
fn references_what_the_export_creates_and_names_what_exists() {
    let (s, plan) = half_compliant();
    let source = source(&s, &plan);
    let targets = source.targets();
    let items = &targets[0].items;
    let alarm_of = |id: &str| {
        items
            .iter()
            .find(|i| {
                i.action.control.as_deref() == Some(id)
                    && matches!(i.action.call, Call::PutMetricAlarm(_))
            })
            .unwrap()
    };
    // 4.4's alarm watches the filter created here; 4.3's the user's filter, named.
    assert_eq!(
        alarm_of("4.4").filter_ref.as_deref(),
        Some("iam_policy_changes")
    );
    assert_eq!(alarm_of("4.3").filter_ref, None);
    assert!(alarm_of("4.3")
        .comments
        .iter()
        .any(|c| c.contains("the existing filter `root`")));
    // Every alarm notifies the topic created here.
    assert!(items
        .iter()
        .filter(|i| matches!(i.action.call, Call::PutMetricAlarm(_)))
        .all(|i| i.topic_refs == [Some("cis_fix_alerts".to_string())]));
    // Names are unique per resource type, and filter and alarm of a control share theirs.
    assert_eq!(
        items
            .iter()
            .filter(|i| i.name == "iam_policy_changes")
            .count(),
        2
    );
}

#[test]
fn a_reused_topic_is_named_with_the_reason() {
    let (s, _) = half_compliant();
    // Without --notify, the topic that already delivers for 4.6 is reused.
    let plan = audit(&catalog(&["4.1", "4.6"]), &s, &Options::default());
    let text = terraform::render(&source(&s, &plan));
    assert!(!text.contains("resource \"aws_sns_topic\""), "{text}");
    assert!(
        text.contains(&format!("alarm_actions       = [\"{}\"]", topic_arn("ops"))),
        "{text}"
    );
    assert!(
        text.contains("reused because it already delivers for 4.6"),
        "{text}"
    );
}

#[test]
fn nothing_to_create_is_a_comment_only_file() {
    let (s, _) = half_compliant();
    let plan = audit(&catalog(&["4.6"]), &s, &Options::default());
    assert!(plan.actions.is_empty());
    let text = terraform::render(&source(&s, &plan));
    assert!(text.lines().all(|l| l.starts_with('#')), "{text}");
    assert!(text.contains("Nothing to create: every selected control is compliant."));
    let templates = cloudformation::render(&source(&s, &plan)).unwrap();
    assert_eq!(templates.len(), 1);
    assert!(templates[0].text.lines().all(|l| l.starts_with('#')));
}

#[test]
fn terraform_aligns_the_equals_of_each_run_of_attributes() {
    let (s, plan) = half_compliant();
    let text = terraform::render(&source(&s, &plan));
    // Within each run of one-line attributes at one depth, every `=` is in one column.
    let mut column: Option<(usize, usize)> = None;
    for line in text.lines() {
        let indent = line.len() - line.trim_start().len();
        let simple = !line.trim_start().starts_with('#')
            && !line.trim_end().ends_with('{')
            && line.contains(" = ");
        if simple {
            let at = line.find(" = ").unwrap();
            match column {
                Some((depth, col)) if depth == indent => assert_eq!(at, col, "{line}"),
                _ => column = Some((indent, at)),
            }
            // Exactly one space before `=` for the longest key of the run.
        } else {
            column = None;
        }
    }
    assert!(text.contains("  alarm_name          = \"cis-fix-unauthorized-api-calls\""));
}

#[test]
fn names_are_safe_identifiers() {
    assert_eq!(snake("cis-fix-alerts"), "cis_fix_alerts");
    assert_eq!(snake("4.1"), "_4_1");
    assert_eq!(camel("cis_fix_alerts"), "CisFixAlerts");
    assert_eq!(camel("_4_1"), "R41");
}

/// Text that puts HCL and YAML escaping to work: quotes, backslashes, template markers,
/// newlines, tabs, YAML indicators and non-ASCII.
fn hostile() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        prop_oneof![
            Just("a".to_string()),
            Just("Z9".to_string()),
            Just("$".to_string()),
            Just("${".to_string()),
            Just("%{".to_string()),
            Just("$${".to_string()),
            Just("%%{".to_string()),
            Just("\r".to_string()),
            Just("\u{7}".to_string()),
            Just("}".to_string()),
            Just("%".to_string()),
            Just("\\\"".to_string()),
            Just("\\\\".to_string()),
            Just("\\n".to_string()),
            Just("\n".to_string()),
            Just("\t".to_string()),
            Just(" ".to_string()),
            Just(": ".to_string()),
            Just("# ".to_string()),
            Just("- ".to_string()),
            Just("'".to_string()),
            Just("*".to_string()),
            Just("é".to_string()),
            Just("日本".to_string()),
        ],
        0..12,
    )
    .prop_map(|parts| parts.concat())
}

/// Patterns of every shape the language has, with hostile text where it can go.
fn pattern_text() -> impl Strategy<Value = String> {
    prop_oneof![
        hostile().prop_map(|v| format!("{{ $.eventName = \"{v}\" }}")),
        (hostile(), hostile()).prop_map(|(a, b)| format!(
            "{{ ($.errorCode = \"{a}*\") || ($.userIdentity.type != \"{b}\") }}"
        )),
        hostile().prop_map(|v| format!("\"{v}\" ERROR")),
        hostile().prop_map(|v| format!("[ip, user = \"{v}\", ...]")),
        hostile().prop_map(|v| format!("{{ $.a = %{}% }}", v.replace('%', "\\%"))),
        hostile().prop_map(|v| format!("{{\n  $.x = \"{v}\"\n}}")),
    ]
}

/// A plan with one filter to create, whose pattern is `pattern`.
fn one_filter(pattern: &str) -> Source {
    let (s, mut plan) = half_compliant();
    plan.actions
        .retain(|a| matches!(a.call, Call::PutMetricFilter(_)));
    plan.actions.truncate(1);
    if let Call::PutMetricFilter(FilterCall { filter_pattern, .. }) = &mut plan.actions[0].call {
        *filter_pattern = pattern.to_string();
    }
    source(&s, &plan)
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn every_accepted_pattern_survives_terraform(pattern in pattern_text()) {
        prop_assume!(crate::pattern::parse(&pattern).is_ok());
        let text = terraform::render(&one_filter(&pattern));
        // Read back by hcl-rs, evaluated as Terraform would: `$${` is `${` again.
        let body = hcl::parse(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let block = body
            .blocks()
            .find(|b| b.identifier() == "resource")
            .ok_or_else(|| TestCaseError::fail("no resource"))?;
        let expr = block
            .body()
            .attributes()
            .find(|a| a.key() == "pattern")
            .ok_or_else(|| TestCaseError::fail("no pattern"))?
            .expr()
            .clone();
        let value = hcl::eval::Evaluate::evaluate(&expr, &hcl::eval::Context::new())
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(value.as_str(), Some(pattern.as_str()), "{}", text);
    }

    #[test]
    fn every_accepted_pattern_survives_cloudformation(pattern in pattern_text()) {
        prop_assume!(crate::pattern::parse(&pattern).is_ok());
        let templates = cloudformation::render(&one_filter(&pattern)).unwrap();
        let text = &templates[0].text;
        let doc: serde_norway::Value = serde_norway::from_str(text)
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let back = doc["Resources"]
            .as_mapping()
            .and_then(|resources| resources.values().next())
            .and_then(|r| r["Properties"]["FilterPattern"].as_str());
        prop_assert_eq!(back, Some(pattern.as_str()), "{}", text);
    }
}

/// `n` accounts of the half-compliant plan, every control waiting only on a confirmation.
fn many_awaiting(n: usize) -> Source {
    let (s, plan) = half_compliant();
    let mut source = source(&s, &plan);
    source.accounts = (0..n)
        .map(|i| {
            let mut plan = plan.clone();
            plan.account_id = format!("{}", 100_000_000_000u64 + i as u64);
            for control in &mut plan.controls {
                control.status = Status::NonCompliant;
                control.after_apply = Some(AfterApply::AwaitsConfirmation);
            }
            part(&s, &plan)
        })
        .collect();
    source
}

const AWAITS: &str =
    "compliant once the new subscription is confirmed (AWS sends the endpoint a confirmation).";

#[test]
fn the_header_says_a_situation_many_accounts_share_once() {
    let mut source = many_awaiting(200);
    let header = source.header("terraform");
    assert_eq!(
        header[1],
        "Generated by cis-fix 0.0.0 at 2026-12-02T12:00:00Z from 200 accounts (100000000000, 100000000001, 100000000002, 100000000003, 100000000004, … and 195 more), benchmark cis-5.0, controls 4.1, 4.3, 4.4, 4.6."
    );
    assert_eq!(
        header[4..],
        [format!("all 200 accounts, all 4 controls: {AWAITS}")]
    );

    // Three accounts whose 4.6 is blocked, each for a reason naming itself.
    for part in source.accounts.iter_mut().skip(10).take(3) {
        let id = part.account_id.clone();
        let control = part.controls.iter_mut().find(|c| c.id == "4.6").unwrap();
        control.status = Status::Blocked;
        control.after_apply = None;
        control.findings = vec![Finding {
            code: Code::TrailNotQualifying,
            message: format!(
                "trail arn:aws:cloudtrail:us-east-1:{id}:trail/main is not multi-region"
            ),
            diff: None,
            counterexample: None,
        }];
    }
    let header = source.header("terraform");
    assert_eq!(
        header[4..],
        [
            format!("all 200 accounts, 4.1, 4.3 and 4.4: {AWAITS}"),
            format!("197 accounts (100000000000, 100000000001, 100000000002, 100000000003, 100000000004, … and 192 more), 4.6 (console-authentication-failures): {AWAITS}"),
            "3 accounts (100000000010, 100000000011, 100000000012), 4.6 (console-authentication-failures): still blocked, which code cannot fix: trail arn:aws:cloudtrail:us-east-1:<account>:trail/main is not multi-region".to_string(),
        ]
    );
}

#[test]
fn one_account_names_its_controls_without_an_account() {
    let mut source = many_awaiting(1);
    assert_eq!(
        source.header("terraform")[4..],
        [format!("all 4 controls: {AWAITS}")]
    );
    let control = &mut source.accounts[0].controls[0];
    control.after_apply = Some(AfterApply::Compliant);
    assert_eq!(
        source.header("terraform")[4..],
        [format!("4.3, 4.4 and 4.6: {AWAITS}")]
    );
    // Alone, an account's situation names it as it is.
    source.accounts[0].controls[1].status = Status::NotAuditable;
    source.accounts[0].controls[1].after_apply = None;
    source.accounts[0].controls[1].findings = vec![Finding {
        code: Code::TrailNotQualifying,
        message: "account 100000000000 cannot be read".into(),
        diff: None,
        counterexample: None,
    }];
    // In the order the controls come.
    assert_eq!(
        source.header("terraform")[4..],
        [
            "4.3 (root-account-usage): still not auditable, which code cannot fix: account 100000000000 cannot be read".to_string(),
            format!("4.4 and 4.6: {AWAITS}"),
        ]
    );
}

/// H13 of the hardened catalog on an untouched account: its chain and its watch path.
fn watch_path_plan() -> (Snapshot, Plan) {
    let mut hardened = crate::catalog::load_builtin("hardened").expect("hardened loads");
    hardened.controls.retain(|c| c.id == "H13");
    let options = Options {
        notify: vec!["sqs:arn:aws:sqs:us-east-1:111122223333:alerts"
            .parse()
            .unwrap()],
        ..Options::default()
    };
    let s = account();
    let plan = audit(&hardened, &s, &options);
    (s, plan)
}

#[test]
fn a_watch_path_is_declared_whole_by_reference() {
    let (s, plan) = watch_path_plan();
    let source = source(&s, &plan);
    assert_eq!(unexported(&source), None);
    let tf = terraform::render(&source);
    for expected in [
        "resource \"aws_cloudwatch_event_rule\" \"cis_fix_alarm_chain_tampering_watch\"",
        "rule      = aws_cloudwatch_event_rule.cis_fix_alarm_chain_tampering_watch.name",
        "arn       = aws_sns_topic.cis_fix_chain_watch.arn",
        "resource \"aws_sns_topic_policy\" \"cis_fix_chain_watch\"",
    ] {
        assert!(tf.contains(expected), "{expected}:\n{tf}");
    }
    let cfn = cloudformation::render(&source).expect("renders");
    let [template] = &cfn[..] else {
        panic!("one template, not {}", cfn.len());
    };
    let template = &template.text;
    // The target is inside the rule, not a resource of its own.
    assert_eq!(
        template.matches("Type: AWS::Events::Rule").count(),
        1,
        "{template}"
    );
    assert!(
        template.contains(
            "Targets:\n      - Id: cis-fix-chain-watch\n        Arn: !Ref CisFixChainWatchTopic"
        ),
        "{template}"
    );
}

#[test]
fn a_watch_rule_to_change_or_without_its_rule_is_left_to_apply() {
    let (s, plan) = watch_path_plan();
    let mut changed = plan.clone();
    for action in &mut changed.actions {
        if matches!(action.call, Call::PutRule(_)) {
            action.mode = Mode::Change;
        }
    }
    let why = unexported(&source(&s, &changed)).expect("refused");
    assert!(
        why.contains("cis-fix-alarm-chain-tampering-watch in account")
            && why.contains("cis-fix apply"),
        "{why}"
    );
    let mut orphan = plan;
    orphan
        .actions
        .retain(|a| !matches!(a.call, Call::PutRule(_)));
    assert!(unexported(&source(&s, &orphan)).is_some());
}
