//! The report as SARIF 2.1.0 (OASIS): one run, one rule per selected control, and one result
//! per control and account that is not compliant (docs/report.md, "SARIF"). A compliant
//! control has no result: code-scanning views close an alert whose fingerprint a later run no
//! longer reports, which is what fixing a control should do.

use serde::Serialize;

use super::{AccountEvidence, ControlInfo, ControlResult, RenderError, Report, State};

pub const SCHEMA: &str = "https://json.schemastore.org/sarif-2.1.0.json";
pub const VERSION: &str = "2.1.0";
/// The `partialFingerprints` key: versioned, as SARIF §3.27.16-17 suggest, so that a change
/// of what it holds can be told from the same alert.
pub const FINGERPRINT: &str = "cisFixAccountControl/v1";

pub fn render(report: &Report) -> Result<String, RenderError> {
    let log = Log {
        schema: SCHEMA,
        version: VERSION,
        runs: vec![run(report)],
    };
    let mut text =
        serde_json::to_string_pretty(&log).map_err(|e| RenderError::Sarif(e.to_string()))?;
    text.push('\n');
    Ok(text)
}

#[derive(Serialize)]
struct Log<'a> {
    #[serde(rename = "$schema")]
    schema: &'a str,
    version: &'a str,
    runs: Vec<Run<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Run<'a> {
    tool: Tool<'a>,
    invocations: Vec<Invocation>,
    results: Vec<SarifResult>,
    properties: RunProperties<'a>,
}

#[derive(Serialize)]
struct Tool<'a> {
    driver: Driver<'a>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Driver<'a> {
    name: &'a str,
    version: &'a str,
    semantic_version: &'a str,
    rules: Vec<Rule<'a>>,
}

/// A SARIF `reportingDescriptor` (§3.49): one control.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Rule<'a> {
    id: &'a str,
    name: String,
    short_description: Text,
    full_description: Text,
    help: Text,
    default_configuration: Configuration,
    properties: RuleProperties<'a>,
}

#[derive(Serialize)]
struct Text {
    text: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    markdown: Option<String>,
}

impl Text {
    fn plain(text: impl Into<String>) -> Text {
        Text {
            text: text.into(),
            markdown: None,
        }
    }
}

#[derive(Serialize)]
struct Configuration {
    level: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RuleProperties<'a> {
    /// The CIS profile level (1 or 2).
    level: u8,
    slug: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    security_hub: Option<&'a str>,
    tags: Vec<String>,
}

/// A SARIF `invocation` (§3.20): whether every account was read, and which were not.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Invocation {
    execution_successful: bool,
    end_time_utc: String,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    tool_execution_notifications: Vec<Notification>,
}

#[derive(Serialize)]
struct Notification {
    level: &'static str,
    message: Text,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct RunProperties<'a> {
    benchmark: &'a str,
    benchmark_title: &'a str,
    caller_account_id: &'a str,
    region: &'a str,
    generated_at: &'a str,
    summary: &'a super::ReportSummary,
}

/// A SARIF `result` (§3.27): one control in one account.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: String,
    rule_index: usize,
    kind: &'static str,
    level: &'static str,
    message: Text,
    locations: Vec<Location>,
    partial_fingerprints: std::collections::BTreeMap<&'static str, String>,
    properties: ResultProperties,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    #[serde(skip_serializing_if = "Option::is_none")]
    physical_location: Option<PhysicalLocation>,
    logical_locations: Vec<LogicalLocation>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: ArtifactLocation,
    region: SourceRegion,
}

#[derive(Serialize)]
struct ArtifactLocation {
    uri: String,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct SourceRegion {
    start_line: usize,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct LogicalLocation {
    name: String,
    fully_qualified_name: String,
    kind: &'static str,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct ResultProperties {
    state: &'static str,
    account_id: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    account_name: Option<String>,
    finding_codes: Vec<&'static str>,
}

fn run(report: &Report) -> Run<'_> {
    let results = report
        .results()
        .filter(|(_, r)| r.state != State::Compliant)
        .filter_map(|(account, r)| result(report, account, r))
        .collect();
    Run {
        tool: Tool {
            driver: Driver {
                name: &report.tool,
                version: &report.version,
                semantic_version: &report.version,
                rules: report.controls.iter().map(|c| rule(report, c)).collect(),
            },
        },
        invocations: vec![invocation(report)],
        results,
        properties: RunProperties {
            benchmark: &report.benchmark,
            benchmark_title: &report.benchmark_title,
            caller_account_id: &report.caller_account_id,
            region: &report.region,
            generated_at: &report.generated_at,
            summary: &report.summary,
        },
    }
}

fn rule<'a>(report: &'a Report, control: &'a ControlInfo) -> Rule<'a> {
    let mut tags = vec!["security".to_string(), "cis-aws-foundations".to_string()];
    tags.push(report.benchmark.clone());
    Rule {
        id: &control.id,
        name: pascal_case(&control.slug),
        short_description: Text::plain(&control.title),
        full_description: Text::plain(format!(
            "{} CloudTrail must deliver to CloudWatch Logs, where a metric filter with the \
             control's pattern feeds an alarm that notifies an SNS topic with a confirmed \
             subscription.",
            sentence(&control.title)
        )),
        help: help(control),
        default_configuration: Configuration { level: "error" },
        properties: RuleProperties {
            level: control.level,
            slug: &control.slug,
            security_hub: control.security_hub.as_deref(),
            tags,
        },
    }
}

/// The rule's help: the title, the pattern the metric filter must hold, the Security Hub id.
fn help(control: &ControlInfo) -> Text {
    let hub = match &control.security_hub {
        Some(id) => format!("\n\nSecurity Hub control: {id}."),
        None => String::new(),
    };
    let fence = fence_for(&control.pattern);
    Text {
        text: format!(
            "{}\n\nMetric filter pattern:\n{}{hub}",
            sentence(&control.title),
            control.pattern
        ),
        markdown: Some(format!(
            "**{}**\n\nA CloudWatch Logs metric filter on the trail's log group with this \
             pattern, an alarm on its metric, and an SNS topic with a confirmed subscription:\
             \n\n{fence}\n{}\n{fence}{hub}",
            sentence(&control.title),
            control.pattern
        )),
    }
}

/// A Markdown code fence longer than any run of backticks in `text` (CommonMark §4.5).
fn fence_for(text: &str) -> String {
    let longest = text.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    "`".repeat(longest.max(2) + 1)
}

fn sentence(title: &str) -> String {
    match title.ends_with('.') {
        true => title.to_string(),
        false => format!("{title}."),
    }
}

/// `unauthorized-api-calls` -> `UnauthorizedApiCalls` (a rule's `name`, SARIF §3.49.7).
pub fn pascal_case(slug: &str) -> String {
    slug.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|word| !word.is_empty())
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect()
}

fn invocation(report: &Report) -> Invocation {
    let tool_execution_notifications = report
        .accounts
        .iter()
        .filter(|a| !a.readable)
        .map(|a| Notification {
            level: "error",
            message: Text::plain(format!(
                "Account {} could not be read: {}",
                account_label(a),
                a.error.as_deref().unwrap_or("no reason given")
            )),
        })
        .collect();
    Invocation {
        execution_successful: report.accounts.iter().all(|a| a.readable),
        end_time_utc: report.generated_at.clone(),
        tool_execution_notifications,
    }
}

/// SARIF §3.27.9 and §3.27.10: `fail` with a level for a control found wanting; `open` (the
/// rule was evaluated, but there was not enough information to decide) for one that could
/// not be audited, whose level must then be `none`.
pub fn kind_and_level(state: State) -> (&'static str, &'static str) {
    match state {
        State::Compliant => ("pass", "none"),
        State::NonCompliant | State::Blocked => ("fail", "error"),
        State::AwaitingConfirmation => ("fail", "warning"),
        State::NotAuditable => ("open", "none"),
    }
}

/// The stable id of one control in one account, the same in every run.
pub fn fingerprint(account_id: &str, control_id: &str) -> String {
    format!("{account_id}/{control_id}")
}

fn result(report: &Report, account: &AccountEvidence, r: &ControlResult) -> Option<SarifResult> {
    let c = &r.control;
    let rule_index = report.controls.iter().position(|info| info.id == c.id)?;
    let (kind, level) = kind_and_level(r.state);
    let mut partial_fingerprints = std::collections::BTreeMap::new();
    partial_fingerprints.insert(FINGERPRINT, fingerprint(&account.account_id, &c.id));
    Some(SarifResult {
        rule_id: c.id.clone(),
        rule_index,
        kind,
        level,
        message: Text::plain(message(account, r)),
        locations: vec![location(report, account, r)],
        partial_fingerprints,
        properties: ResultProperties {
            state: r.state.name(),
            account_id: account.account_id.clone(),
            account_name: account.name.clone(),
            finding_codes: c.findings.iter().map(|f| f.code.as_str()).collect(),
        },
    })
}

/// The first line says what and where (SARIF §3.11.4: shown alone when space is short);
/// one line per finding follows.
fn message(account: &AccountEvidence, r: &ControlResult) -> String {
    let c = &r.control;
    let what = match r.state {
        State::Compliant => "is compliant",
        State::NonCompliant => "is not compliant",
        State::AwaitingConfirmation => "awaits the confirmation of a subscription",
        State::Blocked => "is not compliant, and cis-fix cannot fix it as things stand",
        State::NotAuditable => "could not be audited",
    };
    let mut text = format!(
        "{} {} in account {} {what}.",
        c.id,
        c.slug,
        account_label(account)
    );
    for finding in &c.findings {
        text.push_str(&format!("\n{}: {}", finding.code.as_str(), finding.message));
    }
    text
}

fn account_label(account: &AccountEvidence) -> String {
    match &account.name {
        Some(name) => format!("{} ({name})", account.account_id),
        None => account.account_id.clone(),
    }
}

/// Where the control is defined (its catalog line, when cis-fix knows it) and where it was
/// audited: the account, and the region of the chain that was read (or the run's).
fn location(report: &Report, account: &AccountEvidence, r: &ControlResult) -> Location {
    let physical_location = report.control(&r.control.id).and_then(|info| {
        info.source.as_ref().map(|source| PhysicalLocation {
            artifact_location: ArtifactLocation {
                uri: source.file.clone(),
            },
            region: SourceRegion {
                start_line: source.line,
            },
        })
    });
    let chain = r
        .control
        .chain
        .as_ref()
        .or(r.control.delivery_unproven.as_ref());
    let region = chain.map_or(report.region.as_str(), |ch| ch.region.as_str());
    let account_path = format!("aws/{}", account.account_id);
    Location {
        physical_location,
        logical_locations: vec![
            LogicalLocation {
                name: account.account_id.clone(),
                fully_qualified_name: account_path.clone(),
                kind: "namespace",
            },
            LogicalLocation {
                name: region.to_string(),
                fully_qualified_name: format!("{account_path}/{region}"),
                kind: "module",
            },
        ],
    }
}

#[cfg(test)]
mod tests {
    use serde_json::Value;

    use super::super::tests::{one_account, organization};
    use super::super::State;
    use super::*;

    fn sarif(report: &Report) -> Value {
        serde_json::from_str(&render(report).unwrap()).unwrap()
    }

    fn results(log: &Value) -> &Vec<Value> {
        log["runs"][0]["results"].as_array().unwrap()
    }

    #[test]
    fn one_rule_per_control_named_from_its_slug_with_its_pattern_in_the_help() {
        let report = one_account();
        let log = sarif(&report);
        assert_eq!(log["$schema"], SCHEMA);
        assert_eq!(log["version"], "2.1.0");
        let driver = &log["runs"][0]["tool"]["driver"];
        assert_eq!(driver["name"], "cis-fix");
        assert_eq!(driver["version"], report.version);
        let rules = driver["rules"].as_array().unwrap();
        assert_eq!(rules.len(), report.controls.len());
        for (rule, control) in rules.iter().zip(&report.controls) {
            assert_eq!(rule["id"], control.id);
            assert_eq!(rule["shortDescription"]["text"], control.title);
            assert_eq!(rule["properties"]["slug"], control.slug);
            let help = rule["help"]["markdown"].as_str().unwrap();
            assert!(
                help.contains(&format!("```\n{}\n```", control.pattern)),
                "{help}"
            );
        }
        assert_eq!(rules[0]["name"], "UnauthorizedApiCalls");
        assert_eq!(rules[1]["properties"]["securityHub"], "CloudWatch.1");
    }

    #[test]
    fn one_result_per_control_and_account_not_compliant_with_the_spec_s_kind_and_level() {
        let report = organization();
        let log = sarif(&report);
        let results = results(&log);
        let failing: Vec<_> = report
            .results()
            .filter(|(_, r)| r.state != State::Compliant)
            .collect();
        assert_eq!(results.len(), failing.len());
        assert_eq!(results.len(), 12 - report.summary.compliant);
        for (result, (account, r)) in results.iter().zip(&failing) {
            assert_eq!(result["ruleId"], r.control.id);
            let index = result["ruleIndex"].as_u64().unwrap() as usize;
            assert_eq!(report.controls[index].id, r.control.id);
            assert_eq!(result["properties"]["state"], r.state.name());
            assert_eq!(result["properties"]["accountId"], account.account_id);
            let (kind, level) = (result["kind"].as_str(), result["level"].as_str());
            // SARIF §3.27.10: a result whose kind is not `fail` has level `none`.
            if kind != Some("fail") {
                assert_eq!(level, Some("none"), "{result:#}");
            }
        }
        let by_state = |state: State| {
            results
                .iter()
                .filter(|r| r["properties"]["state"] == state.name())
                .map(|r| (r["kind"].as_str().unwrap(), r["level"].as_str().unwrap()))
                .collect::<Vec<_>>()
        };
        // Two accounts with 4.1 missing, one without a trail, one unread.
        assert_eq!(by_state(State::NonCompliant), [("fail", "error"); 2]);
        assert_eq!(
            by_state(State::AwaitingConfirmation),
            [("fail", "warning"); 2]
        );
        assert_eq!(by_state(State::Blocked), [("fail", "error"); 3]);
        assert_eq!(by_state(State::NotAuditable), [("open", "none"); 3]);
        assert!(by_state(State::Compliant).is_empty());
    }

    #[test]
    fn a_result_is_located_at_its_catalog_line_in_its_account_and_region() {
        let report = one_account();
        let log = sarif(&report);
        let first = &results(&log)[0];
        let source = report.control("4.1").unwrap().source.clone().unwrap();
        let physical = &first["locations"][0]["physicalLocation"];
        assert_eq!(physical["artifactLocation"]["uri"], "plans/cis-5.0.toml");
        assert_eq!(physical["region"]["startLine"], source.line);
        let account = &report.accounts[0].account_id;
        let logical = &first["locations"][0]["logicalLocations"];
        assert_eq!(logical[0]["fullyQualifiedName"], format!("aws/{account}"));
        assert_eq!(
            logical[1]["fullyQualifiedName"],
            format!("aws/{account}/{}", report.region)
        );
        let message = first["message"]["text"].as_str().unwrap();
        let finding = &report.accounts[0].results[0].control.findings[0];
        assert!(
            message.contains(&format!("{}: {}", finding.code.as_str(), finding.message)),
            "{message}"
        );
    }

    #[test]
    fn fingerprints_are_one_per_account_and_control_and_the_same_in_every_run() {
        let report = organization();
        let first = sarif(&report);
        let fingerprints: Vec<&str> = results(&first)
            .iter()
            .map(|r| r["partialFingerprints"][FINGERPRINT].as_str().unwrap())
            .collect();
        let unique: std::collections::BTreeSet<_> = fingerprints.iter().collect();
        assert_eq!(unique.len(), fingerprints.len());
        assert_eq!(fingerprints[0], "111122223333/4.1");
        // A later run (another time, the same state) tracks the same alerts.
        let mut later = organization();
        later.generated_at = "2027-01-01T00:00:00Z".into();
        let again: Vec<String> = results(&sarif(&later))
            .iter()
            .map(|r| r["partialFingerprints"][FINGERPRINT].to_string())
            .collect();
        let quoted: Vec<String> = fingerprints.iter().map(|f| format!("\"{f}\"")).collect();
        assert_eq!(again, quoted);
    }

    #[test]
    fn an_unread_account_fails_the_invocation_with_a_notification() {
        let log = sarif(&organization());
        let invocation = &log["runs"][0]["invocations"][0];
        assert_eq!(invocation["executionSuccessful"], false);
        let notes = invocation["toolExecutionNotifications"].as_array().unwrap();
        assert_eq!(notes.len(), 1);
        assert!(notes[0]["message"]["text"]
            .as_str()
            .unwrap()
            .contains("444455556666 (legacy) could not be read: AccessDenied"));
        let log = sarif(&one_account());
        assert_eq!(
            log["runs"][0]["invocations"][0]["executionSuccessful"],
            true
        );
    }

    #[test]
    fn names_and_fences() {
        assert_eq!(pascal_case("root-account-usage"), "RootAccountUsage");
        assert_eq!(pascal_case("s3_bucket--policy"), "S3BucketPolicy");
        assert_eq!(fence_for("{ $.a = 1 }"), "```");
        assert_eq!(fence_for("a ```` b"), "`````");
    }
}
