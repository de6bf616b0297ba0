//! The report as OCSF 1.5.0 (the version `py-ocsf-models` 0.10 implements): one Compliance
//! Finding event (class 2003, category 2 Findings) per control and account, one JSON object
//! per line (JSON Lines), as streaming OCSF pipelines ingest events. docs/report.md says how
//! every state maps; tests/emulator/validate_ocsf.py reads the events back.

use serde::Serialize;
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use super::{AccountEvidence, ControlInfo, ControlResult, RenderError, Report, State};
use crate::audit::{AfterApply, Chain, Finding};

/// The schema version the events follow (`metadata.version`).
pub const OCSF_VERSION: &str = "1.5.0";
const CLASS_UID: u32 = 2003;
const CATEGORY_UID: u32 = 2;
/// `Create`: each run states its findings anew; the consumer tracks their workflow.
const ACTIVITY_ID: u32 = 1;
/// The finding's workflow status is the consumer's (OCSF: "set by the consumer"); a
/// producer's finding is `New` until someone reviews it.
const FINDING_STATUS_NEW: u32 = 1;
/// `account.type_id` 10, "AWS Account".
const AWS_ACCOUNT: u32 = 10;

pub fn render(report: &Report) -> Result<String, RenderError> {
    let time = epoch_millis(&report.generated_at)?;
    let mut out = String::new();
    for (account, result) in report.results() {
        let control = report.control(&result.control.id);
        let event = event(report, account, result, control, time);
        let line = serde_json::to_string(&event).map_err(|e| RenderError::Ocsf(e.to_string()))?;
        out.push_str(&line);
        out.push('\n');
    }
    Ok(out)
}

/// OCSF's `timestamp_t`: milliseconds since the epoch.
fn epoch_millis(rfc3339: &str) -> Result<i64, RenderError> {
    let at = OffsetDateTime::parse(rfc3339, &Rfc3339)
        .map_err(|e| RenderError::Ocsf(format!("the report's time {rfc3339:?}: {e}")))?;
    i64::try_from(at.unix_timestamp_nanos() / 1_000_000)
        .map_err(|e| RenderError::Ocsf(format!("the report's time {rfc3339:?}: {e}")))
}

/// The finding's identity across runs: the same account, run region and control (by its
/// slug, which names it across benchmark versions) give the same uid.
pub fn finding_uid(account_id: &str, region: &str, slug: &str) -> String {
    format!("cis-fix:{account_id}:{region}:{slug}")
}

/// `compliance.status_id` (OCSF 1.5.0 dictionary: 1 Pass, 2 Warning, 3 Fail).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComplianceStatus {
    Pass = 1,
    /// "The compliance check did not yield a result due to missing information."
    Warning = 2,
    Fail = 3,
}

impl ComplianceStatus {
    pub fn of(state: State) -> ComplianceStatus {
        match state {
            State::Compliant => ComplianceStatus::Pass,
            // Not proven to notify anyone yet; the missing piece is the owner's confirmation.
            State::AwaitingConfirmation => ComplianceStatus::Warning,
            // The read that decides was denied: no result, for want of information.
            State::NotAuditable => ComplianceStatus::Warning,
            State::NonCompliant | State::Blocked => ComplianceStatus::Fail,
        }
    }

    pub fn id(self) -> u32 {
        self as u32
    }

    pub fn caption(self) -> &'static str {
        match self {
            ComplianceStatus::Pass => "Pass",
            ComplianceStatus::Warning => "Warning",
            ComplianceStatus::Fail => "Fail",
        }
    }

    /// `severity_id`: 1 Informational (nothing to do), 2 Low (a person decides: confirm a
    /// subscription, grant a read), 3 Medium (action required, not yet serious).
    fn severity(self) -> (u32, &'static str) {
        match self {
            ComplianceStatus::Pass => (1, "Informational"),
            ComplianceStatus::Warning => (2, "Low"),
            ComplianceStatus::Fail => (3, "Medium"),
        }
    }
}

/// One Compliance Finding event, with the `cloud` profile.
#[derive(Debug, Serialize)]
pub struct ComplianceFinding<'a> {
    activity_id: u32,
    activity_name: &'static str,
    category_uid: u32,
    category_name: &'static str,
    class_uid: u32,
    class_name: &'static str,
    type_uid: u32,
    type_name: &'static str,
    time: i64,
    severity_id: u32,
    severity: &'static str,
    status_id: u32,
    status: &'static str,
    message: String,
    metadata: Metadata<'a>,
    finding_info: FindingInfo,
    compliance: Compliance<'a>,
    cloud: Cloud<'a>,
    resources: Vec<Resource>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    evidences: Vec<Evidence<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    remediation: Option<Remediation>,
    unmapped: Unmapped<'a>,
}

#[derive(Debug, Serialize)]
struct Metadata<'a> {
    version: &'static str,
    product: Product,
    profiles: [&'static str; 1],
    /// This event (one finding in one run): the finding's uid and the run's time.
    uid: String,
    event_code: &'a str,
}

#[derive(Debug, Serialize)]
struct Product {
    name: &'static str,
    vendor_name: &'static str,
    version: &'static str,
}

#[derive(Debug, Serialize)]
struct FindingInfo {
    uid: String,
    title: String,
    desc: String,
    created_time: i64,
}

#[derive(Debug, Serialize)]
struct Compliance<'a> {
    control: &'a str,
    standards: [&'a str; 1],
    desc: String,
    status_id: u32,
    status: &'static str,
    /// cis-fix's state: tells `awaiting_confirmation` from `not_auditable` (both Warning).
    status_code: &'static str,
    /// `code: message` of each of the plan's findings.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    status_details: Vec<String>,
    checks: [Check<'a>; 1],
}

#[derive(Debug, Serialize)]
struct Check<'a> {
    uid: &'a str,
    name: &'a str,
    /// The CIS profile level, as the benchmark states it.
    severity: String,
    standards: [&'a str; 1],
    status_id: u32,
    status: &'static str,
}

#[derive(Debug, Serialize)]
struct Cloud<'a> {
    provider: &'static str,
    region: &'a str,
    account: Account<'a>,
}

#[derive(Debug, Serialize)]
struct Account<'a> {
    uid: &'a str,
    /// The organization's name for the account, else its id (py-ocsf-models requires one).
    name: &'a str,
    type_id: u32,
    #[serde(rename = "type")]
    kind: &'static str,
}

#[derive(Debug, Serialize)]
struct Resource {
    uid: String,
    name: String,
    #[serde(rename = "type")]
    kind: &'static str,
    region: String,
    /// Known from the topic ARN; the report does not say an account's partition.
    #[serde(skip_serializing_if = "Option::is_none")]
    cloud_partition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<serde_json::Value>,
}

#[derive(Debug, Serialize)]
struct Evidence<'a> {
    /// `chain` (the control is met through it) or `delivery_unproven` (whole but for the
    /// proof that its topic delivers).
    name: &'static str,
    data: &'a Chain,
}

#[derive(Debug, Serialize)]
struct Remediation {
    desc: String,
}

/// cis-fix's own terms, which OCSF has no attribute for.
#[derive(Debug, Serialize)]
struct Unmapped<'a> {
    state: &'static str,
    plan_status: &'static str,
    benchmark: &'a str,
    slug: &'a str,
    level: u8,
    findings: &'a [Finding],
    #[serde(skip_serializing_if = "Option::is_none")]
    after_apply: Option<AfterApply>,
    account_readable: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_error: Option<&'a str>,
}

fn event<'a>(
    report: &'a Report,
    account: &'a AccountEvidence,
    result: &'a ControlResult,
    control: Option<&'a ControlInfo>,
    time: i64,
) -> ComplianceFinding<'a> {
    let c = &result.control;
    let status = ComplianceStatus::of(result.state);
    let (severity_id, severity) = status.severity();
    let uid = finding_uid(&account.account_id, &report.region, &c.slug);
    let chain = c.chain.as_ref().or(c.delivery_unproven.as_ref());
    ComplianceFinding {
        activity_id: ACTIVITY_ID,
        activity_name: "Create",
        category_uid: CATEGORY_UID,
        category_name: "Findings",
        class_uid: CLASS_UID,
        class_name: "Compliance Finding",
        type_uid: CLASS_UID * 100 + ACTIVITY_ID,
        type_name: "Compliance Finding: Create",
        time,
        severity_id,
        severity,
        status_id: FINDING_STATUS_NEW,
        status: "New",
        message: format!(
            "{} {} in account {}: {}",
            c.id,
            result.state.name(),
            account.account_id,
            c.title
        ),
        metadata: Metadata {
            version: OCSF_VERSION,
            product: Product {
                name: "cis-fix",
                vendor_name: "cis-fix",
                version: env!("CARGO_PKG_VERSION"),
            },
            profiles: ["cloud"],
            uid: format!("{uid}@{}", report.generated_at),
            event_code: &c.id,
        },
        finding_info: FindingInfo {
            title: format!("{} {}", c.id, c.title),
            desc: finding_desc(result),
            uid,
            created_time: time,
        },
        compliance: compliance(report, result, control, status),
        cloud: Cloud {
            provider: "AWS",
            region: chain.map_or(report.region.as_str(), |ch| ch.region.as_str()),
            account: Account {
                uid: &account.account_id,
                name: account.name.as_deref().unwrap_or(&account.account_id),
                type_id: AWS_ACCOUNT,
                kind: "AWS Account",
            },
        },
        resources: resources(report, account, result),
        evidences: evidences(result),
        remediation: remediation(result),
        unmapped: Unmapped {
            state: result.state.name(),
            plan_status: c.status.as_str(),
            benchmark: &report.benchmark,
            slug: &c.slug,
            level: c.level,
            findings: &c.findings,
            after_apply: c.after_apply,
            account_readable: account.readable,
            account_error: account.error.as_deref(),
        },
    }
}

fn compliance<'a>(
    report: &'a Report,
    result: &'a ControlResult,
    control: Option<&'a ControlInfo>,
    status: ComplianceStatus,
) -> Compliance<'a> {
    let c = &result.control;
    let standard = report.benchmark_title.as_str();
    Compliance {
        control: &c.id,
        standards: [standard],
        desc: criteria(control.map(|i| i.pattern.as_str())),
        status_id: status.id(),
        status: status.caption(),
        status_code: result.state.name(),
        status_details: c
            .findings
            .iter()
            .map(|f| format!("{}: {}", f.code.as_str(), f.message))
            .collect(),
        checks: [Check {
            uid: &c.id,
            name: &c.title,
            severity: format!("Level {}", c.level),
            standards: [standard],
            status_id: status.id(),
            status: status.caption(),
        }],
    }
}

/// What every monitoring control asks for (`compliance.desc`, "the criteria of a control").
fn criteria(pattern: Option<&str>) -> String {
    let filter = match pattern {
        Some(p) => format!("a CloudWatch Logs metric filter with the pattern {p}"),
        None => "a CloudWatch Logs metric filter with the control's pattern".to_string(),
    };
    format!(
        "A multi-region CloudTrail trail delivering to a CloudWatch Logs log group; on it, \
         {filter}; a CloudWatch alarm on the filter's metric; and an SNS topic, the alarm's \
         action, with at least one confirmed subscription."
    )
}

/// What was found: the chain that meets the control, or the findings that say why not.
fn finding_desc(result: &ControlResult) -> String {
    let c = &result.control;
    if let (State::Compliant, Some(ch)) = (result.state, &c.chain) {
        return format!(
            "Compliant: trail {} delivers to log group {} in {}; metric filter {} ({}) feeds \
             alarm {}, which notifies topic {} ({} confirmed subscription(s)).",
            ch.trail,
            ch.log_group,
            ch.region,
            ch.filter,
            relation_name(ch),
            ch.alarm,
            ch.topic_arn,
            ch.confirmed_subscriptions
        );
    }
    match c.findings.is_empty() {
        true => format!("{}: {}", result.state.name(), c.title),
        false => c
            .findings
            .iter()
            .map(|f| f.message.as_str())
            .collect::<Vec<_>>()
            .join("\n"),
    }
}

fn relation_name(chain: &Chain) -> String {
    serde_json::to_value(chain.relation)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

/// The resources the control was judged on: the chain's five links, or the account itself
/// when there is no chain to name.
fn resources(report: &Report, account: &AccountEvidence, result: &ControlResult) -> Vec<Resource> {
    let c = &result.control;
    match c.chain.as_ref().or(c.delivery_unproven.as_ref()) {
        Some(chain) => chain_resources(chain, &account.account_id),
        None => vec![Resource {
            uid: account.account_id.clone(),
            name: account
                .name
                .clone()
                .unwrap_or_else(|| account.account_id.clone()),
            kind: "AWS::::Account",
            region: report.region.clone(),
            cloud_partition: None,
            data: None,
        }],
    }
}

fn chain_resources(chain: &Chain, account_id: &str) -> Vec<Resource> {
    // The chain's links live in the log group's account, which may be another (an
    // organization trail's); the partition is the topic ARN's.
    let owner = Some(chain.account_id.as_str())
        .filter(|a| !a.is_empty())
        .unwrap_or(account_id);
    let partition = chain.topic_arn.split(':').nth(1).unwrap_or("aws");
    let arn = |service: &str, rest: &str| {
        format!("arn:{partition}:{service}:{}:{owner}:{rest}", chain.region)
    };
    let link = |uid: String, name: &str, kind, data| Resource {
        uid,
        name: name.to_string(),
        kind,
        region: chain.region.clone(),
        cloud_partition: Some(partition.to_string()),
        data,
    };
    vec![
        link(
            chain.trail.clone(),
            &chain.trail,
            "AWS::CloudTrail::Trail",
            None,
        ),
        link(
            arn("logs", &format!("log-group:{}", chain.log_group)),
            &chain.log_group,
            "AWS::Logs::LogGroup",
            None,
        ),
        link(
            format!("{}/{}", chain.log_group, chain.filter),
            &chain.filter,
            "AWS::Logs::MetricFilter",
            Some(serde_json::json!({ "relation": relation_name(chain) })),
        ),
        link(
            arn("cloudwatch", &format!("alarm:{}", chain.alarm)),
            &chain.alarm,
            "AWS::CloudWatch::Alarm",
            None,
        ),
        link(
            chain.topic_arn.clone(),
            chain
                .topic_arn
                .rsplit(':')
                .next()
                .unwrap_or(&chain.topic_arn),
            "AWS::SNS::Topic",
            Some(serde_json::json!({
                "confirmed_subscriptions": chain.confirmed_subscriptions
            })),
        ),
    ]
}

/// The chain as the plan states it: the evidence that the control is met, or would be but
/// for the proof of delivery.
fn evidences(result: &ControlResult) -> Vec<Evidence<'_>> {
    let c = &result.control;
    let chain = c.chain.as_ref().map(|ch| Evidence {
        name: "chain",
        data: ch,
    });
    let unproven = c.delivery_unproven.as_ref().map(|ch| Evidence {
        name: "delivery_unproven",
        data: ch,
    });
    chain.into_iter().chain(unproven).collect()
}

fn remediation(result: &ControlResult) -> Option<Remediation> {
    let desc = match result.state {
        State::Compliant => return None,
        State::NonCompliant => match result.control.after_apply {
            Some(AfterApply::NonCompliant) => {
                "`cis-fix apply` alone cannot make it compliant: the findings say what else must change."
            }
            Some(AfterApply::AwaitsConfirmation) => {
                "Run `cis-fix plan`, then `cis-fix apply`; then the new subscription's owner confirms it."
            }
            _ => "Run `cis-fix plan`, then `cis-fix apply`, to create what the findings say is missing.",
        },
        State::AwaitingConfirmation => {
            "The owner of the pending subscription confirms it, from the message SNS sent to the endpoint."
        }
        State::Blocked => {
            "cis-fix cannot fix it as things stand: the findings say what must change first."
        }
        State::NotAuditable => {
            "Grant the reads the findings name (`cis-fix iam-policy plan`), then report again."
        }
    };
    Some(Remediation {
        desc: desc.to_string(),
    })
}
