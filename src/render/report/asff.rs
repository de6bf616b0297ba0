//! The report as ASFF, the AWS Security Finding Format (schema version 2018-10-08): a JSON
//! array of findings, one per control and account, as `BatchImportFindings` takes them
//! (`cis-fix report --to-security-hub` imports these same findings, see
//! [`crate::apply::security_hub`]). Each finding is the account's own (its default product,
//! `product/<account>/default`), its `Id` stable across runs so that a second import updates
//! it. Lengths are kept within the limits the Security Hub API model documents.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::{AccountEvidence, ControlResult, Report, State};

pub const SCHEMA_VERSION: &str = "2018-10-08";
/// The finding type Security Hub gives its own CIS checks (namespace/category/classifier).
pub const FINDING_TYPE: &str =
    "Software and Configuration Checks/Industry and Regulatory Standards/CIS AWS Foundations Benchmark";
/// AWS refuses a finding larger than 240 KB (BatchImportFindings).
pub const MAX_FINDING_BYTES: usize = 240 * 1024;

// Limits the Security Hub API model documents (AwsSecurityFinding, in characters).
const MAX_ID: usize = 512;
const MAX_TITLE: usize = 256;
const MAX_DESCRIPTION: usize = 1024;
const MAX_PRODUCT_FIELD_VALUE: usize = 2048;
const MAX_RESOURCE_TYPE: usize = 256;
// Our own bounds, so that a finding stays far below 240 KB whatever the audit said.
const MAX_STATUS_REASONS: usize = 20;
const MAX_REASON_DESCRIPTION: usize = 1024;

/// One ASFF finding (`AwsSecurityFinding`), with the members cis-fix sets.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Finding {
    pub schema_version: String,
    pub id: String,
    pub product_arn: String,
    pub product_name: String,
    pub generator_id: String,
    pub aws_account_id: String,
    pub region: String,
    pub types: Vec<String>,
    pub created_at: String,
    pub updated_at: String,
    pub severity: Severity,
    pub title: String,
    pub description: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub remediation: Option<Remediation>,
    pub product_fields: BTreeMap<String, String>,
    pub resources: Vec<Resource>,
    pub compliance: Compliance,
    pub record_state: String,
    /// Where a finding provider sets severity and types so that later imports may change
    /// them (Security Hub keeps the top-level ones once customers may have edited them).
    pub finding_provider_fields: FindingProviderFields,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Severity {
    pub label: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct FindingProviderFields {
    pub severity: Severity,
    pub types: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Remediation {
    pub recommendation: Recommendation,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Recommendation {
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Resource {
    #[serde(rename = "Type")]
    pub kind: String,
    pub id: String,
    pub partition: String,
    pub region: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Compliance {
    pub status: String,
    pub related_requirements: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub status_reasons: Vec<StatusReason>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StatusReason {
    pub reason_code: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
}

pub fn render(report: &Report) -> String {
    // Strings, lists and maps only: serialising cannot fail.
    serde_json::to_string_pretty(&findings(report)).unwrap_or_default() + "\n"
}

/// Every finding of the report: accounts in order, controls in catalog order.
pub fn findings(report: &Report) -> Vec<Finding> {
    report
        .results()
        .map(|(account, result)| finding(report, account, result))
        .collect()
}

/// ASFF's compliance status of each state. An `awaiting_confirmation` control is whole but
/// for a subscription its owner has not confirmed: not a failure of configuration, not yet a
/// pass, which is what ASFF's WARNING is for. A `blocked` control is not compliant (cis-fix
/// cannot fix it as things stand, but the benchmark is not met): FAILED. A `not_auditable` one
/// could not be checked (a read was denied): NOT_AVAILABLE, "check could not be performed".
pub fn compliance_status(state: State) -> &'static str {
    match state {
        State::Compliant => "PASSED",
        State::NonCompliant | State::Blocked => "FAILED",
        State::AwaitingConfirmation => "WARNING",
        State::NotAuditable => "NOT_AVAILABLE",
    }
}

/// LOW for a control that is not met, as Security Hub rates its own checks of these same
/// chains (CloudWatch.1 to .14); INFORMATIONAL for a pass and for what could not be checked.
fn severity(state: State) -> &'static str {
    match state {
        State::NonCompliant | State::Blocked | State::AwaitingConfirmation => "LOW",
        State::Compliant | State::NotAuditable => "INFORMATIONAL",
    }
}

/// The finding's `Id`: one per (benchmark, account, region, control), the same every run.
pub fn finding_id(benchmark: &str, account: &str, region: &str, slug: &str) -> String {
    truncate(
        &format!("cis-fix/{benchmark}/{account}/{region}/{slug}"),
        MAX_ID,
    )
}

/// The account's own default product: the only one it may import into without a partner
/// integration.
pub fn product_arn(region: &str, account: &str) -> String {
    let partition = crate::inventory::partition_of(region);
    format!("arn:{partition}:securityhub:{region}:{account}:product/{account}/default")
}

fn finding(report: &Report, account: &AccountEvidence, result: &ControlResult) -> Finding {
    let c = &result.control;
    let region = report.region.as_str();
    let account_id = account.account_id.as_str();
    let severity = Severity {
        label: severity(result.state).to_string(),
    };
    let types = vec![FINDING_TYPE.to_string()];
    Finding {
        schema_version: SCHEMA_VERSION.to_string(),
        id: finding_id(&report.benchmark, account_id, region, &c.slug),
        product_arn: product_arn(region, account_id),
        product_name: report.tool.clone(),
        generator_id: truncate(&format!("cis-fix/{}/{}", report.benchmark, c.id), MAX_ID),
        aws_account_id: account_id.to_string(),
        region: region.to_string(),
        types: types.clone(),
        created_at: report.generated_at.clone(),
        updated_at: report.generated_at.clone(),
        severity: severity.clone(),
        title: truncate(
            &non_empty(&format!("{} {}", c.id, c.title), &c.id),
            MAX_TITLE,
        ),
        description: truncate(&description(account_id, result), MAX_DESCRIPTION),
        remediation: remediation(result),
        product_fields: product_fields(report, account, result),
        resources: resources(region, account_id, result),
        compliance: Compliance {
            status: compliance_status(result.state).to_string(),
            related_requirements: vec![requirement(&report.benchmark_title, &c.id)],
            status_reasons: status_reasons(result),
        },
        record_state: "ACTIVE".to_string(),
        finding_provider_fields: FindingProviderFields { severity, types },
    }
}

/// `CIS AWS Foundations Benchmark v7.0.0/5.1`, as Security Hub names its own requirements
/// (the catalogs' titles spell out "Amazon Web Services").
fn requirement(benchmark_title: &str, control: &str) -> String {
    let title = benchmark_title.replace("Amazon Web Services", "AWS");
    truncate(&format!("{title}/{control}"), MAX_PRODUCT_FIELD_VALUE)
}

/// What the control's state rests on: the chain that proves it, or the findings.
fn description(account: &str, result: &ControlResult) -> String {
    let c = &result.control;
    if let (State::Compliant, Some(chain)) = (result.state, &c.chain) {
        return format!(
            "Compliant in account {account}: trail {} delivers to log group {}; metric filter {} feeds alarm {}, which notifies topic {} ({} confirmed subscription{}).",
            chain.trail,
            chain.log_group,
            chain.filter,
            chain.alarm,
            chain.topic_arn,
            chain.confirmed_subscriptions,
            if chain.confirmed_subscriptions == 1 { "" } else { "s" }
        );
    }
    let lead = match result.state {
        State::Compliant => "Compliant",
        State::NonCompliant => "Not compliant",
        State::AwaitingConfirmation => "Awaiting confirmation of a subscription",
        State::Blocked => "Blocked: cis-fix cannot make it compliant as things stand",
        State::NotAuditable => "Not auditable",
    };
    let messages: Vec<&str> = c.findings.iter().map(|f| f.message.as_str()).collect();
    match messages.is_empty() {
        true => format!("{lead} in account {account}."),
        false => format!("{lead} in account {account}: {}", messages.join("; ")),
    }
}

fn remediation(result: &ControlResult) -> Option<Remediation> {
    let id = &result.control.id;
    let text = match result.state {
        State::Compliant => return None,
        State::NonCompliant => format!(
            "Run `cis-fix plan --controls {id}` to see the changes that would make it compliant, then `cis-fix apply --controls {id}`."
        ),
        State::AwaitingConfirmation => "The owner of the pending email or https subscription confirms it (the link in the confirmation message SNS sent).".to_string(),
        State::Blocked => "Provide what cis-fix cannot create (the status reasons say what: e.g. a multi-region trail that delivers to CloudWatch Logs), then run `cis-fix plan` again.".to_string(),
        State::NotAuditable => "Grant the reads `cis-fix iam-policy plan` lists (in a member account, to the role cis-fix assumes), then run again.".to_string(),
    };
    Some(Remediation {
        recommendation: Recommendation { text },
    })
}

fn product_fields(
    report: &Report,
    account: &AccountEvidence,
    result: &ControlResult,
) -> BTreeMap<String, String> {
    let c = &result.control;
    let info = report.control(&c.id);
    let codes: Vec<&str> = c.findings.iter().map(|f| f.code.as_str()).collect();
    let fields = [
        ("ProviderName", Some(report.tool.clone())),
        ("ProviderVersion", Some(report.version.clone())),
        ("cis-fix/State", Some(result.state.name().to_string())),
        ("cis-fix/ControlId", Some(c.id.clone())),
        ("cis-fix/Slug", Some(c.slug.clone())),
        ("cis-fix/Level", Some(c.level.to_string())),
        ("cis-fix/Benchmark", Some(report.benchmark.clone())),
        ("cis-fix/FindingCodes", Some(codes.join(","))),
        ("cis-fix/AccountName", account.name.clone()),
        (
            "cis-fix/SecurityHubControl",
            info.and_then(|i| i.security_hub.clone()),
        ),
        (
            "cis-fix/CatalogSource",
            info.and_then(|i| i.source.as_ref())
                .map(|s| format!("{}:{}", s.file, s.line)),
        ),
    ];
    fields
        .into_iter()
        .filter_map(|(key, value)| {
            // Every value must hold a non-blank character: empty ones are left out.
            let value = value.filter(|v| !v.trim().is_empty())?;
            Some((key.to_string(), truncate(&value, MAX_PRODUCT_FIELD_VALUE)))
        })
        .collect()
}

/// The account, and the chain's log group, alarm and topic where the audit found them (in
/// the account that holds the chain: an organization trail's is the management account's).
fn resources(region: &str, account: &str, result: &ControlResult) -> Vec<Resource> {
    let partition = crate::inventory::partition_of(region);
    let resource = |kind: &str, id: String, region: &str| Resource {
        kind: truncate(kind, MAX_RESOURCE_TYPE),
        id,
        partition: partition.to_string(),
        region: region.to_string(),
    };
    let mut all = vec![resource(
        "AwsAccount",
        format!("AWS::::Account:{account}"),
        region,
    )];
    let c = &result.control;
    let Some(chain) = c.chain.as_ref().or(c.delivery_unproven.as_ref()) else {
        return all;
    };
    let owner = Some(chain.account_id.as_str())
        .filter(|a| !a.is_empty())
        .unwrap_or(account);
    let at = chain.region.as_str();
    if !chain.log_group.trim().is_empty() {
        let arn = format!(
            "arn:{partition}:logs:{at}:{owner}:log-group:{}",
            chain.log_group
        );
        // ASFF has no log group type: `Other` is its documented type for those.
        all.push(resource("Other", arn, at));
    }
    if !chain.alarm.trim().is_empty() {
        let arn = format!(
            "arn:{partition}:cloudwatch:{at}:{owner}:alarm:{}",
            chain.alarm
        );
        all.push(resource("AwsCloudWatchAlarm", arn, at));
    }
    if !chain.topic_arn.trim().is_empty() {
        all.push(resource("AwsSnsTopic", chain.topic_arn.clone(), at));
    }
    all
}

fn status_reasons(result: &ControlResult) -> Vec<StatusReason> {
    result
        .control
        .findings
        .iter()
        .take(MAX_STATUS_REASONS)
        .map(|f| StatusReason {
            reason_code: f.code.as_str().to_string(),
            description: Some(f.message.as_str())
                .filter(|m| !m.trim().is_empty())
                .map(|m| truncate(m, MAX_REASON_DESCRIPTION)),
        })
        .collect()
}

fn non_empty(text: &str, otherwise: &str) -> String {
    match text.trim().is_empty() {
        true => otherwise.to_string(),
        false => text.to_string(),
    }
}

/// At most `max` characters, ending in `…` when cut.
fn truncate(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        return text.to_string();
    }
    let kept: String = text.chars().take(max.saturating_sub(1)).collect();
    kept + "…"
}

/// The finding's size as AWS counts it (its JSON), against the 240 KB limit.
pub fn size(finding: &Finding) -> usize {
    serde_json::to_vec(finding).map_or(usize::MAX, |bytes| bytes.len())
}
