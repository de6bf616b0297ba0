//! `cis-fix report`: evidence of every selected control's state in every account of a run,
//! in the formats auditors and security teams read (docs/report.md). Pure: the run's audited
//! plan in, one [`Report`] out, and each format a view of that one document, so that every
//! format says the same thing control by control.

pub mod asff;
pub mod csv;
pub mod html;
pub mod junit;
pub mod ocsf;
pub mod sarif;
pub mod text;

use schemars::JsonSchema;
use serde::Serialize;

use crate::audit::org::{AccountStatus, OrgPlan};
use crate::audit::{Code, ControlReport, Plan, Status};
use crate::catalog::Catalog;

/// The version of the `report` JSON document (`cis-fix schema report`).
pub const REPORT_FORMAT_VERSION: u32 = 1;

/// The formats `cis-fix report --format` writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ReportFormat {
    Text,
    Json,
    /// SARIF 2.1.0: one rule per control, one result per failing control and account.
    Sarif,
    /// OCSF 1.5.0 Compliance Finding (class 2003), one per control and account (JSON lines).
    Ocsf,
    /// AWS Security Finding Format, one finding per control and account (a JSON array).
    Asff,
    /// JUnit XML: one test case per control and account.
    Junit,
    /// One self-contained HTML page.
    Html,
    /// One row per control and account.
    Csv,
}

/// The evidence of one run.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Report {
    #[schemars(extend("const" = REPORT_FORMAT_VERSION))]
    pub format_version: u32,
    /// `cis-fix`.
    pub tool: String,
    /// cis-fix's version.
    pub version: String,
    /// When the accounts were read, in UTC (RFC 3339).
    pub generated_at: String,
    /// The benchmark (`cis-7.0`, `hardened`) or the `--catalog` file's benchmark name.
    pub benchmark: String,
    pub benchmark_title: String,
    /// The account cis-fix ran as.
    pub caller_account_id: String,
    /// The region trails were discovered from.
    pub region: String,
    /// The selected controls, in catalog order.
    pub controls: Vec<ControlInfo>,
    /// Every account of the run, in the run's order; one for a single-account run.
    pub accounts: Vec<AccountEvidence>,
    pub summary: ReportSummary,
}

/// A control as the catalog defines it: what the formats name rules, checks and test cases by.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ControlInfo {
    pub id: String,
    pub slug: String,
    pub title: String,
    pub level: u8,
    /// The CloudWatch Logs filter pattern the control asks for.
    pub pattern: String,
    /// The catalog file that defines the control (`plans/cis-7.0.toml`) and the line of its
    /// `id`, where cis-fix knows it (a built-in catalog); a place code-scanning views can show.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<SourceLine>,
    /// The Security Hub control id, where Security Hub has one (`CloudWatch.1`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security_hub: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, JsonSchema)]
pub struct SourceLine {
    /// Relative to the repository root.
    pub file: String,
    /// From 1.
    pub line: usize,
}

/// One account's evidence.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct AccountEvidence {
    pub account_id: String,
    /// The account's name in the organization, when the run listed it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// Whether the account was read in full; when not, every control is `not_auditable`.
    pub readable: bool,
    /// Why it was not read in full.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// One per selected control, in catalog order.
    pub results: Vec<ControlResult>,
}

/// One control in one account: its state, and the chain that proves it or the findings that
/// explain it (the plan's control report, as `plan --format json` has it).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ControlResult {
    pub state: State,
    #[serde(flatten)]
    pub control: ControlReport,
}

/// What every format maps: the plan's status, with a control whose only gap is a
/// subscription its owner has not yet confirmed told apart (docs/report.md, "States").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Compliant,
    NonCompliant,
    /// Whole but for a subscription pending confirmation by its owner.
    AwaitingConfirmation,
    /// Cannot be made compliant by cis-fix as things stand (e.g. no qualifying trail).
    Blocked,
    /// A read the audit needed was denied, or the account could not be read.
    NotAuditable,
}

impl State {
    pub fn of(control: &ControlReport) -> State {
        match control.status {
            Status::Compliant => State::Compliant,
            Status::Blocked => State::Blocked,
            Status::NotAuditable => State::NotAuditable,
            Status::NonCompliant if awaits_confirmation(control) => State::AwaitingConfirmation,
            Status::NonCompliant => State::NonCompliant,
        }
    }

    /// The name in every format: `compliant`, `non_compliant`, ….
    pub fn name(self) -> &'static str {
        match self {
            State::Compliant => "compliant",
            State::NonCompliant => "non_compliant",
            State::AwaitingConfirmation => "awaiting_confirmation",
            State::Blocked => "blocked",
            State::NotAuditable => "not_auditable",
        }
    }

    pub const ALL: [State; 5] = [
        State::Compliant,
        State::NonCompliant,
        State::AwaitingConfirmation,
        State::Blocked,
        State::NotAuditable,
    ];
}

/// Whether the control's only findings are subscriptions awaiting their owner's confirmation.
fn awaits_confirmation(control: &ControlReport) -> bool {
    !control.findings.is_empty()
        && control
            .findings
            .iter()
            .all(|f| f.code == Code::SubscriptionPending)
}

/// How many results are in each state, across accounts.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, JsonSchema)]
pub struct ReportSummary {
    pub accounts: usize,
    pub controls: usize,
    pub compliant: usize,
    pub non_compliant: usize,
    pub awaiting_confirmation: usize,
    pub blocked: usize,
    pub not_auditable: usize,
}

impl ReportSummary {
    fn of(accounts: &[AccountEvidence], controls: usize) -> ReportSummary {
        let mut summary = ReportSummary {
            accounts: accounts.len(),
            controls,
            ..ReportSummary::default()
        };
        for result in accounts.iter().flat_map(|a| &a.results) {
            *match result.state {
                State::Compliant => &mut summary.compliant,
                State::NonCompliant => &mut summary.non_compliant,
                State::AwaitingConfirmation => &mut summary.awaiting_confirmation,
                State::Blocked => &mut summary.blocked,
                State::NotAuditable => &mut summary.not_auditable,
            } += 1;
        }
        summary
    }
}

/// What a report is made with besides the plan.
#[derive(Debug, Clone)]
pub struct Context<'a> {
    /// The selected controls.
    pub catalog: &'a Catalog,
    pub generated_at: String,
}

impl Report {
    /// A single account's report.
    pub fn of_plan(plan: &Plan, cx: &Context<'_>) -> Report {
        let account = AccountEvidence {
            account_id: plan.account_id.clone(),
            name: None,
            readable: true,
            error: None,
            results: plan.controls.iter().map(result).collect(),
        };
        Report::new(cx, &plan.account_id, &plan.region, vec![account])
    }

    /// An organization's (or `--accounts`) report: every account, read or not.
    pub fn of_org(plan: &OrgPlan, cx: &Context<'_>) -> Report {
        let accounts = plan
            .accounts
            .iter()
            .map(|a| {
                let readable = a.status == AccountStatus::Audited;
                let results = match readable {
                    true => a.controls.iter().map(result).collect(),
                    false => unread_results(cx.catalog, a.error.as_deref()),
                };
                AccountEvidence {
                    account_id: a.account_id.clone(),
                    name: Some(a.name.clone()).filter(|n| !n.is_empty()),
                    readable,
                    error: a.error.clone(),
                    results,
                }
            })
            .collect();
        Report::new(cx, &plan.caller_account_id, &plan.region, accounts)
    }

    fn new(cx: &Context<'_>, caller: &str, region: &str, accounts: Vec<AccountEvidence>) -> Report {
        let controls: Vec<ControlInfo> = cx
            .catalog
            .controls
            .iter()
            .map(|c| control_info(cx.catalog, c))
            .collect();
        Report {
            format_version: REPORT_FORMAT_VERSION,
            tool: "cis-fix".to_string(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            generated_at: cx.generated_at.clone(),
            benchmark: cx.catalog.benchmark.clone(),
            benchmark_title: cx.catalog.title.clone(),
            caller_account_id: caller.to_string(),
            region: region.to_string(),
            summary: ReportSummary::of(&accounts, controls.len()),
            controls,
            accounts,
        }
    }

    /// Whether every control is compliant in every account (`--detailed-exitcode`).
    pub fn is_compliant(&self) -> bool {
        self.accounts
            .iter()
            .flat_map(|a| &a.results)
            .all(|r| r.state == State::Compliant)
    }

    /// The catalog's definition of control `id`.
    pub fn control(&self, id: &str) -> Option<&ControlInfo> {
        self.controls.iter().find(|c| c.id == id)
    }

    /// Every (account, result) pair, accounts in order, controls in catalog order.
    pub fn results(&self) -> impl Iterator<Item = (&AccountEvidence, &ControlResult)> {
        self.accounts
            .iter()
            .flat_map(|a| a.results.iter().map(move |r| (a, r)))
    }
}

fn result(control: &ControlReport) -> ControlResult {
    ControlResult {
        state: State::of(control),
        control: control.clone(),
    }
}

/// An account that could not be read: every control `not_auditable`, with why.
fn unread_results(catalog: &Catalog, error: Option<&str>) -> Vec<ControlResult> {
    catalog
        .controls
        .iter()
        .map(|c| ControlResult {
            state: State::NotAuditable,
            control: ControlReport {
                id: c.id.clone(),
                slug: c.slug.clone(),
                title: c.title.clone(),
                level: c.level,
                status: Status::NotAuditable,
                findings: vec![crate::audit::finding(
                    Code::NotAuditable,
                    format!(
                        "the account could not be read: {}",
                        error.unwrap_or("no reason given")
                    ),
                )],
                chain: None,
                delivery_unproven: None,
                after_apply: None,
            },
        })
        .collect()
}

fn control_info(catalog: &Catalog, control: &crate::catalog::Control) -> ControlInfo {
    let source =
        crate::catalog::source_line(&catalog.benchmark, catalog.extends.as_deref(), &control.id)
            .map(|(file, line)| SourceLine { file, line });
    ControlInfo {
        id: control.id.clone(),
        slug: control.slug.clone(),
        title: control.title.clone(),
        level: control.level,
        pattern: control.pattern_text.clone(),
        source,
        security_hub: control.security_hub.clone(),
    }
}

/// The report in `format`.
pub fn render(report: &Report, format: ReportFormat) -> Result<String, RenderError> {
    Ok(match format {
        ReportFormat::Text => text::render(report),
        // Strings, numbers, maps and lists only: serialising cannot fail.
        ReportFormat::Json => serde_json::to_string_pretty(report).unwrap_or_default() + "\n",
        ReportFormat::Sarif => sarif::render(report)?,
        ReportFormat::Ocsf => ocsf::render(report)?,
        ReportFormat::Asff => asff::render(report),
        ReportFormat::Junit => junit::render(report)?,
        ReportFormat::Html => html::render(report),
        ReportFormat::Csv => csv::render(report)?,
    })
}

/// A format that could not be written.
#[derive(Debug, thiserror::Error)]
pub enum RenderError {
    #[error("writing CSV: {0}")]
    Csv(String),
    #[error("writing OCSF: {0}")]
    Ocsf(String),
    #[error("writing SARIF: {0}")]
    Sarif(String),
    #[error("writing JUnit XML: {0}")]
    Junit(String),
}

#[cfg(test)]
pub(crate) mod tests;
