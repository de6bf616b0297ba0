//! The report on audited fixtures: one account, and an organization of four whose results
//! hold every state. The format modules' tests render these same fixtures.

use super::*;
use crate::audit::tests::{
    account, alarm, audit, catalog, filter, subscription, topic_arn, GROUP, REGION,
};
use crate::audit::Options;

const FAILURES: &str =
    r#"{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }"#;
const ROOT: &str = r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#;

fn context(catalog: &Catalog) -> Context<'_> {
    Context {
        catalog,
        generated_at: "2026-12-07T12:00:00Z".into(),
    }
}

/// The selected controls of the fixtures: cis-5.0's 4.1, 4.3 and 4.6.
pub(crate) fn controls() -> Catalog {
    catalog(&["4.1", "4.3", "4.6"])
}

/// 4.6 compliant through `ops` (confirmed); 4.3's chain whole but for a subscription its
/// owner has not confirmed; 4.1 missing.
fn snapshot() -> crate::inventory::Snapshot {
    let mut s = account();
    let ops = topic_arn("ops");
    let pager = topic_arn("pager");
    let r = s.regions.get_mut(REGION).unwrap();
    r.metric_filters
        .push(filter(GROUP, "failures", FAILURES, "Failures"));
    r.alarms.push(alarm("failures", "Failures", Some(&ops)));
    r.subscriptions
        .push(subscription(&ops, "email", "oncall@example.com", true));
    r.metric_filters.push(filter(GROUP, "root", ROOT, "Root"));
    r.alarms.push(alarm("root", "Root", Some(&pager)));
    r.subscriptions
        .push(subscription(&pager, "email", "pager@example.com", false));
    s
}

/// One account: 4.1 non_compliant, 4.3 awaiting_confirmation, 4.6 compliant.
pub(crate) fn one_account() -> Report {
    let catalog = controls();
    let plan = audit(&catalog, &snapshot(), &Options::default());
    Report::of_plan(&plan, &context(&catalog))
}

/// Four accounts: the one above; one without a trail (every control blocked); one all
/// compliant but 4.1; one that could not be read (every control not_auditable).
pub(crate) fn organization() -> Report {
    let catalog = controls();
    let first = one_account().accounts.remove(0);
    let mut no_trail = account();
    no_trail.account_id = "222233334444".into();
    no_trail.trails.clear();
    let blocked = audit(&catalog, &no_trail, &Options::default());
    let mut second = Report::of_plan(&blocked, &context(&catalog))
        .accounts
        .remove(0);
    second.account_id = "222233334444".into();
    second.name = Some("sandbox".into());
    let mut third = first.clone();
    third.account_id = "333344445555".into();
    third.name = Some("prod".into());
    let unread = AccountEvidence {
        account_id: "444455556666".into(),
        name: Some("legacy".into()),
        readable: false,
        error: Some("AccessDenied assuming OrganizationAccountAccessRole".into()),
        results: unread_results(
            &catalog,
            Some("AccessDenied assuming OrganizationAccountAccessRole"),
        ),
    };
    Report::new(
        &context(&catalog),
        crate::audit::tests::ACCOUNT,
        REGION,
        vec![first, second, third, unread],
    )
}

fn states(report: &Report, account: usize) -> Vec<(&str, State)> {
    report.accounts[account]
        .results
        .iter()
        .map(|r| (r.control.id.as_str(), r.state))
        .collect()
}

#[test]
fn one_account_holds_each_controls_state_and_its_chain_or_findings() {
    let report = one_account();
    assert_eq!(
        states(&report, 0),
        [
            ("4.1", State::NonCompliant),
            ("4.3", State::AwaitingConfirmation),
            ("4.6", State::Compliant)
        ]
    );
    let results = &report.accounts[0].results;
    assert!(results[2].control.chain.is_some());
    assert!(!results[0].control.findings.is_empty());
    assert!(!report.is_compliant());
    assert_eq!(report.summary.compliant, 1);
    assert_eq!(report.summary.awaiting_confirmation, 1);
    // The place code-scanning views show: the control's line in its catalog file.
    let source = report.control("4.1").unwrap().source.clone().unwrap();
    assert_eq!(source.file, "plans/cis-5.0.toml");
    let text = crate::catalog::builtin_source("cis-5.0").unwrap();
    assert_eq!(
        text.lines().nth(source.line - 1).map(str::trim),
        Some("id = \"4.1\"")
    );
}

#[test]
fn an_organization_holds_every_state() {
    let report = organization();
    assert_eq!(report.accounts.len(), 4);
    for state in State::ALL {
        assert!(report.results().any(|(_, r)| r.state == state), "{state:?}");
    }
    assert!(states(&report, 1).iter().all(|(_, s)| *s == State::Blocked));
    assert!(states(&report, 3)
        .iter()
        .all(|(_, s)| *s == State::NotAuditable));
    let s = &report.summary;
    assert_eq!(
        s.compliant + s.non_compliant + s.awaiting_confirmation + s.blocked + s.not_auditable,
        12
    );
}

#[test]
fn csv_has_one_row_per_control_and_account_and_reads_back() {
    let report = organization();
    let text = csv::render(&report).unwrap();
    let mut reader = ::csv::Reader::from_reader(text.as_bytes());
    assert_eq!(
        reader.headers().unwrap().iter().collect::<Vec<_>>(),
        csv::COLUMNS
    );
    let rows: Vec<::csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 12);
    for (row, (account, result)) in rows.iter().zip(report.results()) {
        assert_eq!(&row[0], account.account_id);
        assert_eq!(&row[2], result.control.id);
        assert_eq!(&row[6], result.state.name());
    }
}

/// Each OCSF line of the organization's report, parsed, with the result it states.
fn ocsf_events(report: &Report) -> Vec<serde_json::Value> {
    let text = ocsf::render(report).unwrap();
    assert!(text.ends_with('\n'));
    text.lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect()
}

#[test]
fn ocsf_has_one_compliance_finding_per_control_and_account_with_every_state_mapped() {
    let report = organization();
    let events = ocsf_events(&report);
    assert_eq!(events.len(), 12);
    let expected = |state: State| match state {
        State::Compliant => (1, "Pass", 1),
        State::AwaitingConfirmation | State::NotAuditable => (2, "Warning", 2),
        State::NonCompliant | State::Blocked => (3, "Fail", 3),
    };
    let mut seen = Vec::new();
    for (event, (account, result)) in events.iter().zip(report.results()) {
        let (status_id, status, severity_id) = expected(result.state);
        assert_eq!(event["class_uid"], 2003);
        assert_eq!(event["category_uid"], 2);
        assert_eq!(event["type_uid"], 200301);
        assert_eq!(event["metadata"]["version"], "1.5.0");
        assert_eq!(event["time"], 1_796_644_800_000_i64, "2026-12-07T12:00:00Z");
        assert_eq!(event["cloud"]["account"]["uid"], account.account_id);
        let compliance = &event["compliance"];
        assert_eq!(compliance["control"], result.control.id);
        assert_eq!(compliance["status_id"], status_id, "{event:#}");
        assert_eq!(compliance["status"], status);
        assert_eq!(compliance["status_code"], result.state.name());
        assert_eq!(event["severity_id"], severity_id);
        assert_eq!(event["unmapped"]["state"], result.state.name());
        let codes: Vec<&str> = result
            .control
            .findings
            .iter()
            .map(|f| f.code.as_str())
            .collect();
        let details = compliance["status_details"].as_array().map_or(0, Vec::len);
        assert_eq!(details, codes.len(), "{event:#}");
        seen.push(result.state);
    }
    for state in State::ALL {
        assert!(seen.contains(&state), "{state:?}");
    }
}

#[test]
fn ocsf_states_the_chain_as_evidence_and_its_links_as_resources() {
    let report = one_account();
    let events = ocsf_events(&report);
    let compliant = &events[2];
    assert_eq!(compliant["compliance"]["status"], "Pass");
    let chain = &report.accounts[0].results[2].control.chain;
    let chain = chain.as_ref().unwrap();
    assert_eq!(compliant["evidences"][0]["name"], "chain");
    assert_eq!(compliant["evidences"][0]["data"]["alarm"], chain.alarm);
    let kinds: Vec<&str> = compliant["resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "AWS::CloudTrail::Trail",
            "AWS::Logs::LogGroup",
            "AWS::Logs::MetricFilter",
            "AWS::CloudWatch::Alarm",
            "AWS::SNS::Topic"
        ]
    );
    assert_eq!(compliant["resources"][4]["uid"], chain.topic_arn);
    assert!(compliant.get("remediation").is_none());
    // The missing control has no chain: its findings say why, and the account is the resource.
    let missing = &events[0];
    assert!(missing.get("evidences").is_none());
    assert_eq!(missing["resources"][0]["type"], "AWS::::Account");
    let first = &report.accounts[0].results[0].control.findings[0];
    assert!(missing["finding_info"]["desc"]
        .as_str()
        .unwrap()
        .contains(&first.message));
    assert!(missing["remediation"]["desc"].is_string());
}

#[test]
fn ocsf_finding_uids_are_stable_across_runs_and_unique_per_account_and_control() {
    let report = organization();
    let mut later = organization();
    later.generated_at = "2027-01-01T00:00:00Z".into();
    let uids = |events: &[serde_json::Value]| -> Vec<String> {
        events
            .iter()
            .map(|e| e["finding_info"]["uid"].as_str().unwrap().to_string())
            .collect()
    };
    let (now, then) = (ocsf_events(&report), ocsf_events(&later));
    assert_eq!(uids(&now), uids(&then));
    assert_ne!(now[0]["metadata"]["uid"], then[0]["metadata"]["uid"]);
    assert_ne!(now[0]["time"], then[0]["time"]);
    let mut distinct = uids(&now);
    distinct.sort();
    distinct.dedup();
    assert_eq!(distinct.len(), 12);
    assert_eq!(
        now[0]["finding_info"]["uid"],
        ocsf::finding_uid(
            &report.accounts[0].account_id,
            &report.region,
            &report.accounts[0].results[0].control.slug
        )
    );
}

#[test]
fn asff_has_one_finding_per_control_and_account_each_the_accounts_own() {
    let report = organization();
    let text = asff::render(&report);
    let findings: Vec<asff::Finding> = serde_json::from_str(&text).unwrap();
    assert_eq!(findings, asff::findings(&report));
    assert_eq!(findings.len(), 12);
    let ids: std::collections::BTreeSet<&str> = findings.iter().map(|f| f.id.as_str()).collect();
    assert_eq!(ids.len(), 12, "each (account, control) has its own Id");
    for (finding, (account, result)) in findings.iter().zip(report.results()) {
        let id = &account.account_id;
        assert_eq!(&finding.aws_account_id, id);
        assert_eq!(
            finding.product_arn,
            format!("arn:aws:securityhub:{REGION}:{id}:product/{id}/default")
        );
        assert_eq!(
            finding.id,
            format!("cis-fix/cis-5.0/{id}/{REGION}/{}", result.control.slug)
        );
        assert_eq!(
            finding.compliance.status,
            asff::compliance_status(result.state)
        );
        assert_eq!(
            finding.compliance.related_requirements,
            [format!(
                "CIS AWS Foundations Benchmark v5.0.0/{}",
                result.control.id
            )]
        );
        assert_eq!(finding.product_fields["cis-fix/State"], result.state.name());
        assert_eq!(finding.resources[0].id, format!("AWS::::Account:{id}"));
        assert_eq!(finding.created_at, "2026-12-07T12:00:00Z");
        assert!(finding.description.chars().count() <= 1024);
        assert!(finding.title.chars().count() <= 256);
    }
    let statuses: std::collections::BTreeSet<&str> = findings
        .iter()
        .map(|f| f.compliance.status.as_str())
        .collect();
    assert_eq!(
        statuses,
        ["FAILED", "NOT_AVAILABLE", "PASSED", "WARNING"].into()
    );
}

#[test]
fn an_asff_pass_names_its_chain_and_a_failure_its_reasons() {
    let findings = asff::findings(&one_account());
    let passed = &findings[2];
    assert_eq!(passed.compliance.status, "PASSED");
    assert_eq!(passed.severity.label, "INFORMATIONAL");
    assert!(passed.remediation.is_none());
    let kinds: Vec<&str> = passed.resources.iter().map(|r| r.kind.as_str()).collect();
    assert_eq!(
        kinds,
        ["AwsAccount", "Other", "AwsCloudWatchAlarm", "AwsSnsTopic"]
    );
    assert_eq!(passed.resources[3].id, topic_arn("ops"));
    assert!(passed.description.contains(GROUP), "{}", passed.description);
    let failed = &findings[0];
    assert_eq!(failed.compliance.status, "FAILED");
    assert_eq!(failed.severity, failed.finding_provider_fields.severity);
    assert!(!failed.compliance.status_reasons.is_empty());
    assert!(failed.remediation.is_some());
    let pending = &findings[1];
    assert_eq!(pending.compliance.status, "WARNING");
    assert_eq!(
        pending.compliance.status_reasons[0].reason_code,
        "subscription_pending"
    );
}

#[test]
fn ocsf_refuses_a_report_time_that_is_not_rfc3339() {
    let mut report = one_account();
    report.generated_at = "yesterday".into();
    assert!(matches!(ocsf::render(&report), Err(RenderError::Ocsf(_))));
}

#[test]
fn asff_keeps_within_the_models_limits_and_its_ids_across_runs() {
    let mut report = one_account();
    let long = "x".repeat(300_000);
    for result in &mut report.accounts[0].results {
        result.control.title = long.clone();
        for finding in &mut result.control.findings {
            finding.message = long.clone();
        }
    }
    let before = asff::findings(&report);
    for finding in &before {
        assert!(asff::size(finding) <= asff::MAX_FINDING_BYTES);
        assert_eq!(finding.title.chars().count(), 256);
        assert!(finding.description.chars().count() <= 1024);
        assert!(finding.description.ends_with('…') || finding.compliance.status == "PASSED");
        assert!(finding
            .product_fields
            .values()
            .all(|v| v.chars().count() <= 2048));
    }
    report.generated_at = "2026-12-08T12:00:00Z".into();
    let after = asff::findings(&report);
    let ids = |f: &[asff::Finding]| f.iter().map(|f| f.id.clone()).collect::<Vec<_>>();
    assert_eq!(ids(&before), ids(&after));
    assert_eq!(after[0].updated_at, "2026-12-08T12:00:00Z");
}

#[test]
fn a_status_is_named_as_the_json_plans_name_it() {
    for status in [
        Status::Compliant,
        Status::NonCompliant,
        Status::Blocked,
        Status::NotAuditable,
    ] {
        assert_eq!(serde_json::to_value(status).unwrap(), status.as_str());
    }
}
