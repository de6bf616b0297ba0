//! The report as one self-contained HTML page (HTML5, written with `maud`, which escapes
//! every value it is given): a header with the run and a count per state, the verdict matrix
//! (accounts x controls), then each control of each account with its chain drawn as trail ->
//! log group -> filter -> alarm -> topic -> subscription, the link its findings break marked.
//! Nothing is loaded at view time: the style is inline, and there is no script.

use std::collections::BTreeSet;

use maud::{html, Markup, PreEscaped, DOCTYPE};

use super::{AccountEvidence, ControlInfo, ControlResult, Report, State};
use crate::audit::{Chain, Code, Finding};

pub fn render(report: &Report) -> String {
    let title = format!("cis-fix report: {}", report.benchmark_title);
    html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                meta name="generator" content={ "cis-fix " (report.version) };
                title { (title) }
                style { (PreEscaped(CSS)) }
            }
            body {
                (header(report))
                main {
                    (matrix(report))
                    @for (index, account) in report.accounts.iter().enumerate() {
                        (account_section(report, index, account))
                    }
                }
                footer {
                    "Written by cis-fix " (report.version) " from what the accounts held at "
                    (report.generated_at) ". It reads as " code { "cis-fix plan" } " does; "
                    code { "cis-fix report --format json" } " holds the same evidence."
                }
            }
        }
    }
    .into_string()
}

/// How a state reads in the page: a symbol and a word, so that it reads without colour.
fn symbol(state: State) -> &'static str {
    match state {
        State::Compliant => "✓",
        State::NonCompliant => "✗",
        State::AwaitingConfirmation => "◐",
        State::Blocked => "⊘",
        State::NotAuditable => "?",
    }
}

/// The matrix's short label.
fn short_label(state: State) -> &'static str {
    match state {
        State::Compliant => "pass",
        State::NonCompliant => "fail",
        State::AwaitingConfirmation => "wait",
        State::Blocked => "blocked",
        State::NotAuditable => "n/a",
    }
}

fn label(state: State) -> &'static str {
    match state {
        State::Compliant => "compliant",
        State::NonCompliant => "non-compliant",
        State::AwaitingConfirmation => "awaiting confirmation",
        State::Blocked => "blocked",
        State::NotAuditable => "not auditable",
    }
}

fn meaning(state: State) -> &'static str {
    match state {
        State::Compliant => "the whole chain is there and delivers",
        State::NonCompliant => "a link of the chain is missing or does not count",
        State::AwaitingConfirmation => "whole but for a subscription its owner has not confirmed",
        State::Blocked => "cis-fix cannot fix it as things stand (e.g. no qualifying trail)",
        State::NotAuditable => "a read was denied: nothing is decided",
    }
}

fn state_class(state: State) -> String {
    format!("s-{}", state.name())
}

fn count(report: &Report, state: State) -> usize {
    let s = &report.summary;
    match state {
        State::Compliant => s.compliant,
        State::NonCompliant => s.non_compliant,
        State::AwaitingConfirmation => s.awaiting_confirmation,
        State::Blocked => s.blocked,
        State::NotAuditable => s.not_auditable,
    }
}

fn plural(n: usize, one: &str, many: &str) -> String {
    format!("{n} {}", if n == 1 { one } else { many })
}

fn header(report: &Report) -> Markup {
    let total = report.summary.accounts * report.summary.controls;
    html! {
        header.top {
            p.kicker { "cis-fix report · " span.bench { (report.benchmark) } }
            h1 { (report.benchmark_title) }
            dl.meta {
                div { dt { "Generated" } dd { time datetime=(report.generated_at) { (report.generated_at) } } }
                div { dt { "cis-fix" } dd { (report.version) } }
                div { dt { "Run as" } dd { (report.caller_account_id) } }
                div { dt { "Region" } dd { (report.region) } }
                div { dt { "Scope" } dd {
                    (plural(report.summary.accounts, "account", "accounts")) " × "
                    (plural(report.summary.controls, "control", "controls"))
                } }
            }
            ul.badges aria-label="results per state" {
                @for state in State::ALL {
                    li class={ "badge " (state_class(state)) @if count(report, state) == 0 { " zero" } }
                        title=(meaning(state)) {
                        span.sym aria-hidden="true" { (symbol(state)) }
                        strong data-count=(state.name()) { (count(report, state)) } " " (label(state))
                    }
                }
            }
            @if total > 0 {
                div.bar role="img" aria-label="share of results per state" {
                    @for state in State::ALL {
                        @let n = count(report, state);
                        @if n > 0 {
                            span class=(state_class(state)) style={ "flex-grow:" (n) }
                                title={ (n) " " (label(state)) } {}
                        }
                    }
                }
            }
        }
    }
}

fn matrix(report: &Report) -> Markup {
    html! {
        section #matrix {
            h2 { "Verdicts" }
            p.legend {
                @for state in State::ALL {
                    span class={ "key " (state_class(state)) } title=(meaning(state)) {
                        span.sym aria-hidden="true" { (symbol(state)) } " " (label(state))
                    }
                }
            }
            @if report.controls.len() > 4 {
                p.hint { "Swipe the table sideways to see every control." }
            }
            div.scroll tabindex="0" {
                table.matrix {
                    thead { tr {
                        th.corner scope="col" { "Account" }
                        @for control in &report.controls {
                            th scope="col" title={ (control.id) " " (control.title) } { (control.id) }
                        }
                    } }
                    tbody {
                        @for (row, account) in report.accounts.iter().enumerate() {
                            tr { (account_heading_cell(row, account))
                                @for (column, result) in account.results.iter().enumerate() {
                                    (matrix_cell(report, row, column, account, result))
                                }
                            }
                        }
                    }
                }
            }
        }
    }
}

fn account_heading_cell(row: usize, account: &AccountEvidence) -> Markup {
    html! {
        th scope="row" {
            a href={ "#a-" (row) } { (account.account_id) }
            @if let Some(name) = &account.name { span.name { (name) } }
        }
    }
}

fn matrix_cell(
    report: &Report,
    row: usize,
    column: usize,
    account: &AccountEvidence,
    result: &ControlResult,
) -> Markup {
    let c = &result.control;
    let title = report.control(&c.id).map_or(c.title.as_str(), |i| &i.title);
    let codes: Vec<&str> = c.findings.iter().map(|f| f.code.as_str()).collect();
    let tooltip = format!(
        "{} · {} {}: {}{}{}",
        account.account_id,
        c.id,
        title,
        label(result.state),
        if codes.is_empty() { "" } else { " — " },
        codes.join(", ")
    );
    html! {
        td class={ "cell " (state_class(result.state)) } title=(tooltip)
            data-account=(account.account_id) data-control=(c.id) data-state=(result.state.name()) {
            a href={ "#r-" (row) "-" (column) } {
                span.sym aria-hidden="true" { (symbol(result.state)) }
                span.lbl { (short_label(result.state)) }
            }
        }
    }
}

fn account_section(report: &Report, index: usize, account: &AccountEvidence) -> Markup {
    let (passing, failing): (Vec<_>, Vec<_>) = account
        .results
        .iter()
        .enumerate()
        .partition(|(_, r)| r.state == State::Compliant);
    html! {
        section.account id={ "a-" (index) } {
            div.account-head {
                h2 {
                    "Account " (account.account_id)
                    @if let Some(name) = &account.name { " " span.name { (name) } }
                }
                (account_counts(account))
                a.up href="#matrix" { "↑ Verdicts" }
            }
            @if let Some(error) = &account.error {
                p.error { strong { "Not read in full: " } (error) }
            }
            @if !account.readable {
                (unread_controls(report, index, account))
            } @else {
                @if failing.is_empty() {
                    p.allgood { "Every selected control is compliant in this account." }
                }
                @for (column, result) in &failing {
                    (control_card(report, index, *column, account, result))
                }
                @if !passing.is_empty() {
                    details.passing {
                        summary { span.sym { "✓" } " "
                            (plural(passing.len(), "compliant control", "compliant controls")) }
                        @for (column, result) in &passing {
                            (control_card(report, index, *column, account, result))
                        }
                    }
                }
            }
        }
    }
}

/// How many of the account's controls are in each state, the states it has only.
fn account_counts(account: &AccountEvidence) -> Markup {
    html! {
        span.counts {
            @for state in State::ALL {
                @let n = account.results.iter().filter(|r| r.state == state).count();
                @if n > 0 {
                    span class={ "mini " (state_class(state)) } title=(label(state)) {
                        span.sym aria-hidden="true" { (symbol(state)) } " " (n)
                    }
                }
            }
        }
    }
}

/// An account that could not be read: its controls are all not auditable for the one reason
/// above, so they are listed, not drawn.
fn unread_controls(report: &Report, index: usize, account: &AccountEvidence) -> Markup {
    html! {
        ul.unread {
            @for (column, result) in account.results.iter().enumerate() {
                @let title = report.control(&result.control.id).map_or(result.control.title.as_str(), |i| &i.title);
                li id={ "r-" (index) "-" (column) } class=(state_class(result.state))
                    data-account=(account.account_id) data-control=(result.control.id) {
                    span.sym aria-hidden="true" { (symbol(result.state)) } " "
                    strong { (result.control.id) } " " (title)
                }
            }
        }
    }
}

fn control_card(
    report: &Report,
    row: usize,
    column: usize,
    account: &AccountEvidence,
    result: &ControlResult,
) -> Markup {
    let c = &result.control;
    let info = report.control(&c.id);
    html! {
        article class={ "control " (state_class(result.state)) } id={ "r-" (row) "-" (column) }
            data-account=(account.account_id) data-control=(c.id) data-state=(result.state.name()) {
            header {
                span class={ "badge " (state_class(result.state)) } {
                    span.sym aria-hidden="true" { (symbol(result.state)) } " " (label(result.state))
                }
                h3 { span.id { (c.id) } " " (c.title) }
                span.level title="CIS profile level" { "L" (c.level) }
            }
            (chain_diagram(result))
            @if !c.findings.is_empty() {
                ul.findings {
                    @for finding in &c.findings { (finding_item(finding)) }
                }
            }
            (card_footer(result, info))
        }
    }
}

fn card_footer(result: &ControlResult, info: Option<&ControlInfo>) -> Markup {
    let after = result.control.after_apply.map(|a| match a {
        crate::audit::AfterApply::Compliant => "compliant",
        crate::audit::AfterApply::AwaitsConfirmation => "awaiting a subscriber's confirmation",
        crate::audit::AfterApply::NonCompliant => "still not compliant (see the findings)",
    });
    html! {
        div.facts {
            @if let Some(after) = after {
                span { "After " code { "cis-fix apply" } ": " strong { (after) } }
            }
            @if let Some(info) = info {
                @if let Some(source) = &info.source {
                    span { "Defined in " code { (source.file) ":" (source.line) } }
                }
                @if let Some(hub) = &info.security_hub {
                    span { "Security Hub " code { (hub) } }
                }
                span { code { (result.control.slug) } }
            }
        }
        @if let Some(info) = info.filter(|_| result.state != State::Compliant) {
            details.pattern {
                summary { "The pattern the control asks for" }
                pre { (info.pattern) }
            }
        }
    }
}

fn finding_item(finding: &Finding) -> Markup {
    html! {
        li {
            code.code title=(finding.code.description()) { (finding.code.as_str()) }
            " " span.msg { (message(&finding.message)) }
            @if let Some(diff) = &finding.diff {
                p.sub { "From the existing filter's pattern (−) to the control's (+):" }
                pre.diff { @for line in diff.lines() { (diff_line(line)) } }
            }
            @if let Some(event) = &finding.counterexample {
                details.counter open {
                    summary { "Counterexample: an event the control must catch and the filter misses" }
                    pre { (serde_json::to_string_pretty(event).unwrap_or_else(|_| event.to_string())) }
                }
            }
        }
    }
}

fn diff_line(line: &str) -> Markup {
    let class = match line.chars().next() {
        Some('+') => "add",
        Some('-') => "del",
        _ => "ctx",
    };
    html! { span class=(class) { (line) "\n" } }
}

/// A finding's message, with the names it quotes in backticks set as code.
fn message(text: &str) -> Markup {
    let parts: Vec<&str> = text.split('`').collect();
    if parts.len() % 2 == 0 {
        // An unpaired backtick: the text as it is.
        return html! { (text) };
    }
    html! {
        @for (i, part) in parts.iter().enumerate() {
            @if i % 2 == 1 { code { (part) } } @else { (part) }
        }
    }
}

/// A link of the chain a control needs, in the order events travel it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Link {
    Trail,
    LogGroup,
    Filter,
    Alarm,
    Topic,
    Subscription,
}

impl Link {
    pub(crate) const ALL: [Link; 6] = [
        Link::Trail,
        Link::LogGroup,
        Link::Filter,
        Link::Alarm,
        Link::Topic,
        Link::Subscription,
    ];

    /// Its name in the page's `data-link`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Link::Trail => "trail",
            Link::LogGroup => "log_group",
            Link::Filter => "filter",
            Link::Alarm => "alarm",
            Link::Topic => "topic",
            Link::Subscription => "subscription",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Link::Trail => "CloudTrail trail",
            Link::LogGroup => "Log group",
            Link::Filter => "Metric filter",
            Link::Alarm => "Alarm",
            Link::Topic => "SNS topic",
            Link::Subscription => "Subscription",
        }
    }
}

/// The link a finding says is broken; `None` for a finding about no one link of the metric
/// chain (the watch path, the organization's chain as a whole, a denied read). Written out
/// for every code, so that a new code is placed here when it is added.
pub(crate) fn broken_link(code: Code) -> Option<Link> {
    use Code::*;
    match code {
        NoTrail | TrailNotQualifying | NoQualifyingTrail => Some(Link::Trail),
        OrganizationTrailElsewhere | OrganizationTrailDoesNotServe => Some(Link::Trail),
        // The filter exists, but where it is (or how full that log group is) is the fault.
        FilterOnUnqualifiedLogGroup | LogGroupFilterLimit => Some(Link::LogGroup),
        NoCoveringFilter
        | NearMissFilter
        | FilterSelectionCriteria
        | FilterSystemDimensions
        | FilterOnTransformedLogs
        | FilterEventDimensions
        | AwsTestRefutes
        | PatternAmbiguous => Some(Link::Filter),
        // An alarm without an SNS action is the alarm's own setting: the fix is on the alarm.
        NoAlarm
        | AlarmDimensionsMismatch
        | AlarmActionsDisabled
        | AlarmWithoutSnsAction
        | AlarmThresholdUnreachable
        | AlarmStatisticUnreliable
        | AlarmStuckInAlarm
        | AlarmNeedsSeveralDatapoints
        | AlarmUnitMismatch
        | AlarmFiringUnverified
        | AlarmNameTaken => Some(Link::Alarm),
        TopicNameTaken
        | TopicNotFound
        | TopicInOtherRegion
        | TopicKeyDeniesCloudwatch
        | TopicPolicyDeniesCloudwatch
        | TopicDeliveryUnverified => Some(Link::Topic),
        TopicNotSubscribed | SubscriptionPending | NeedsSubscriber => Some(Link::Subscription),
        WatchRuleMissing
        | WatchRuleNameTaken
        | WatchRuleDisabled
        | WatchRulePatternDiffers
        | WatchRuleNoTarget
        | WatchTopicSharesChain
        | WatchTopicNotFound
        | WatchTopicNameTaken
        | WatchTopicNotSubscribed
        | WatchTopicPolicyBlocks
        | WatchTopicDeliveryUnverified => None,
        OrganizationChainIncomplete | NotAuditable => None,
    }
}

/// How one link is drawn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mark {
    /// There and counted (or, before a broken link, not in question).
    Ok,
    Broken,
    /// A subscription waiting for its owner's confirmation.
    Pending,
    /// After a broken link: not looked at.
    Unreached,
    /// Nothing known of it (a finding about the chain as a whole, and no chain).
    Unknown,
}

impl Mark {
    fn class(self) -> &'static str {
        match self {
            Mark::Ok => "ok",
            Mark::Broken => "broken",
            Mark::Pending => "pending",
            Mark::Unreached => "unreached",
            Mark::Unknown => "unknown",
        }
    }

    /// What a link without a name says of itself.
    fn word(self) -> Option<&'static str> {
        match self {
            Mark::Ok => None,
            Mark::Broken => None,
            Mark::Pending => Some("awaiting confirmation"),
            Mark::Unreached => Some("not reached"),
            Mark::Unknown => Some("not decided"),
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            Mark::Ok => "✓",
            Mark::Broken => "✗",
            Mark::Pending => "◐",
            Mark::Unreached => "–",
            Mark::Unknown => "?",
        }
    }
}

/// Each link's mark, and whether some finding is about the chain as a whole.
fn marks(result: &ControlResult, chain: Option<&Chain>) -> ([Mark; 6], bool) {
    let findings = &result.control.findings;
    let broken: BTreeSet<Link> = findings
        .iter()
        .filter(|f| f.code != Code::SubscriptionPending)
        .filter_map(|f| broken_link(f.code))
        .collect();
    let pending = findings.iter().any(|f| f.code == Code::SubscriptionPending);
    let general = findings.iter().any(|f| broken_link(f.code).is_none());
    let first = broken
        .iter()
        .next()
        .copied()
        .or(pending.then_some(Link::Subscription));
    let whole = result.state == State::Compliant || chain.is_some();
    let marks = Link::ALL.map(|link| match first {
        _ if broken.contains(&link) => Mark::Broken,
        _ if pending && link == Link::Subscription => Mark::Pending,
        Some(first) if link > first => Mark::Unreached,
        Some(_) => Mark::Ok,
        None if whole => Mark::Ok,
        None => Mark::Unknown,
    });
    (marks, general)
}

fn chain_diagram(result: &ControlResult) -> Markup {
    let c = &result.control;
    let chain = c.chain.as_ref().or(c.delivery_unproven.as_ref());
    let (marks, general) = marks(result, chain);
    html! {
        div class={ "chain" @if general { " general" } } {
            @if let Some(chain) = chain {
                p.where { "Account " (chain.account_id) " · " (chain.region) }
            }
            ol {
                @for (link, mark) in Link::ALL.iter().zip(marks) {
                    (link_box(*link, mark, chain, &c.findings))
                }
            }
            @if general { p.note { (general_note(&c.findings)) } }
            @if let Some(evidence) = chain.and_then(|ch| ch.evidence.as_ref()) {
                p.note { "AWS's TestMetricFilter matched " (evidence.matched) " of the control's "
                    (evidence.witnesses) " witness events." }
            }
        }
    }
}

fn general_note(findings: &[Finding]) -> &'static str {
    let unplaced = findings.iter().filter(|f| broken_link(f.code).is_none());
    if unplaced.clone().all(|f| f.code.is_watch_path()) {
        "The second path, the control's EventBridge watch rule, is not whole: see the findings."
    } else {
        "The findings are about the chain as a whole, not one link of it."
    }
}

fn link_box(link: Link, mark: Mark, chain: Option<&Chain>, findings: &[Finding]) -> Markup {
    let codes: Vec<&str> = findings
        .iter()
        .filter(|f| broken_link(f.code) == Some(link))
        .map(|f| f.code.as_str())
        .collect();
    let (name, detail, full) = chain.map_or((None, None, None), |ch| link_names(link, ch));
    let tooltip = match codes.is_empty() {
        true => full.clone().or_else(|| name.clone()),
        false => Some(codes.join(", ")),
    };
    html! {
        li class={ "link " (mark.class()) } data-link=(link.name()) data-mark=(mark.class())
            title=[tooltip] {
            span.role { (link.label()) }
            span.mark aria-hidden="true" { (mark.symbol()) }
            @if let Some(name) = &name { span.name { (name) } }
            @else if let Some(word) = mark.word() { span.detail { (word) } }
            @if let Some(detail) = &detail { span.detail { (detail) } }
            @if !codes.is_empty() {
                span.codes { @for code in &codes { code { (code) } " " } }
            }
        }
    }
}

/// A link's name in the chain, a detail under it, and its full name when shortened.
fn link_names(link: Link, chain: &Chain) -> (Option<String>, Option<String>, Option<String>) {
    match link {
        Link::Trail => (Some(chain.trail.clone()), None, None),
        Link::LogGroup => (Some(chain.log_group.clone()), None, None),
        Link::Filter => {
            let relation = serde_json::to_value(chain.relation)
                .ok()
                .and_then(|v| v.as_str().map(|s| s.replace('_', " ")));
            let detail = match &chain.alternative {
                Some(alt) => Some(format!("through {}", alt.name)),
                None => relation,
            };
            (Some(chain.filter.clone()), detail, None)
        }
        Link::Alarm => (Some(chain.alarm.clone()), None, None),
        Link::Topic => {
            let short = chain
                .topic_arn
                .rsplit(':')
                .next()
                .unwrap_or(&chain.topic_arn);
            (Some(short.to_string()), None, Some(chain.topic_arn.clone()))
        }
        Link::Subscription => (
            Some(format!("{} confirmed", chain.confirmed_subscriptions)),
            None,
            None,
        ),
    }
}

/// The page's style: system fonts, no external resource; the matrix scrolls sideways on a
/// narrow screen and the chain stacks.
const CSS: &str = r#"
:root{--fg:#1f2328;--muted:#59636e;--line:#d1d9e0;--bg:#f6f8fa;--card:#fff;
--ok:#1a7f37;--ok-bg:#dafbe1;--bad:#cf222e;--bad-bg:#ffebe9;--wait:#9a6700;--wait-bg:#fff8c5;
--blk:#8250df;--blk-bg:#fbefff;--na:#59636e;--na-bg:#eaeef2}
*{box-sizing:border-box}
body{margin:0;font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);background:var(--bg)}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:.86em}
main,footer,.top>*{max-width:1200px;margin-left:auto;margin-right:auto}
.top{background:#0d1b2a;color:#e6edf3;padding:28px 24px 24px}
.kicker{margin-top:0;margin-bottom:0;color:#9fb3c8;font-size:13px;letter-spacing:.04em;text-transform:uppercase}
.bench{background:#1f3a56;color:#fff;border-radius:4px;padding:1px 6px;text-transform:none;font-weight:600}
h1{margin:6px auto 14px;font-size:26px;line-height:1.25}
.meta{display:flex;flex-wrap:wrap;gap:8px 28px;margin-top:0;margin-bottom:18px}
.meta div{min-width:0}.meta dt{font-size:12px;color:#9fb3c8;text-transform:uppercase;letter-spacing:.04em}
.meta dd{margin:0;font-weight:600;overflow-wrap:anywhere}
.badges{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:8px;margin-top:0;margin-bottom:14px}
.badge{display:inline-flex;align-items:center;gap:6px;border-radius:999px;padding:3px 12px;font-size:14px;white-space:nowrap;border:1px solid transparent}
.badge strong{font-size:15px}.badge.zero{background:transparent;color:#9fb3c8;border-color:#3a5068}
.hint{display:none;font-size:12px;color:var(--muted);margin:0 0 6px}
.sym{font-weight:700}
.s-compliant{--c:var(--ok);--cb:var(--ok-bg)}.s-non_compliant{--c:var(--bad);--cb:var(--bad-bg)}
.s-awaiting_confirmation{--c:var(--wait);--cb:var(--wait-bg)}.s-blocked{--c:var(--blk);--cb:var(--blk-bg)}
.s-not_auditable{--c:var(--na);--cb:var(--na-bg)}
.badge{background:var(--cb);color:var(--c);border-color:var(--c)}
.bar{display:flex;height:10px;border-radius:5px;overflow:hidden;background:#2b3d52}
.bar span{background:var(--c);min-width:3px}
.bar .s-not_auditable{background:repeating-linear-gradient(45deg,#8c959f 0 4px,#c4ccd4 4px 8px)}
main{padding:8px 24px 24px}
h2{font-size:20px;margin:28px 0 10px}
.legend{display:flex;flex-wrap:wrap;gap:6px 16px;font-size:13px;color:var(--muted);margin:0 0 10px}
.key .sym{display:inline-block;width:1.5em;text-align:center;border-radius:4px;background:var(--c);color:#fff}
.key.s-awaiting_confirmation .sym{background:#d4a72c;color:#1f2328}
.scroll{overflow-x:auto;border:1px solid var(--line);border-radius:8px;background:var(--card);-webkit-overflow-scrolling:touch}
.matrix{border-collapse:separate;border-spacing:3px;padding:4px}
.matrix th{font-size:13px;font-weight:600;color:var(--muted);padding:4px 6px;white-space:nowrap}
.matrix thead th{text-align:center;vertical-align:bottom}
.matrix tbody th{text-align:left;position:sticky;left:0;background:var(--card);z-index:1;padding-right:12px;border-right:1px solid var(--line)}
.matrix tbody th a{color:var(--fg);text-decoration:none;font-family:ui-monospace,Menlo,Consolas,"DejaVu Sans Mono",monospace}
.matrix th .name{display:block;font-weight:400;font-size:12px}
.corner{text-align:left!important;position:sticky;left:0;background:var(--card);z-index:2}
.cell{padding:0;min-width:58px;border-radius:5px;background:var(--c);text-align:center}
.cell a{display:flex;flex-direction:column;align-items:center;padding:5px 4px;color:#fff;text-decoration:none;line-height:1.1}
.cell .sym{font-size:17px}.cell .lbl{font-size:11px;text-transform:uppercase;letter-spacing:.04em}
.cell.s-awaiting_confirmation{background:#d4a72c}.cell.s-awaiting_confirmation a{color:#1f2328}
.cell.s-not_auditable{background:repeating-linear-gradient(45deg,#6e7781 0 5px,#8c959f 5px 10px)}
.cell a:hover,.cell a:focus{outline:3px solid #0969da;outline-offset:1px;border-radius:5px}
.account{margin-top:8px}
.account-head{display:flex;flex-wrap:wrap;align-items:baseline;gap:4px 14px;margin:28px 0 4px;padding-bottom:6px;border-bottom:1px solid var(--line)}
.account-head h2{margin:0}
.counts{display:flex;gap:6px}
.mini{background:var(--cb);color:var(--c);border-radius:4px;padding:0 7px;font-size:13px;font-weight:600}
.up{margin-left:auto;font-size:13px;color:#0969da;text-decoration:none}
.account h2 .name,.name{color:var(--muted);font-weight:400}
.error{background:var(--na-bg);border-left:4px solid var(--na);padding:8px 12px;border-radius:4px;overflow-wrap:anywhere}
.allgood{color:var(--ok);font-weight:600}
.unread{list-style:none;padding:0;display:flex;flex-wrap:wrap;gap:6px}
.unread li{background:var(--cb);color:var(--c);border-radius:6px;padding:3px 10px;font-size:14px}
.control{background:var(--card);border:1px solid var(--line);border-left:5px solid var(--c);border-radius:8px;padding:14px 16px;margin:12px 0;scroll-margin-top:12px}
.control:target{box-shadow:0 0 0 3px #0969da55}
.control>header{display:flex;flex-wrap:wrap;align-items:center;gap:6px 12px}
.control h3{margin:0;font-size:16px;flex:1 1 300px}
.control h3 .id{font-family:ui-monospace,Menlo,Consolas,"DejaVu Sans Mono",monospace;color:var(--muted)}
.level{font-size:12px;border:1px solid var(--line);border-radius:4px;padding:0 6px;color:var(--muted)}
.chain{margin:12px 0 6px}
.chain.general ol{outline:2px dashed var(--bad);outline-offset:4px;border-radius:6px}
.chain .where{margin:0 0 6px;font-size:12px;color:var(--muted)}
.chain ol{list-style:none;margin:0;padding:0;display:flex;align-items:stretch;gap:22px}
.link{position:relative;flex:1 1 0;min-width:0;border:1px solid var(--line);border-radius:6px;padding:6px 8px 7px;background:#fff;display:flex;flex-direction:column;gap:1px}
.link:not(:last-child)::after{content:"→";position:absolute;right:-19px;top:50%;transform:translateY(-50%);color:var(--muted);font-weight:700}
.link .role{font-size:11px;text-transform:uppercase;letter-spacing:.04em;color:var(--muted);padding-right:18px}
.link .mark{position:absolute;top:4px;right:7px;font-weight:700}
.link .name{font-family:ui-monospace,Menlo,Consolas,"DejaVu Sans Mono",monospace;font-size:12.5px;color:var(--fg);overflow-wrap:anywhere}
.link .detail{font-size:11px;color:var(--muted)}
.link .codes code{font-size:11px;color:var(--bad);overflow-wrap:anywhere}
.link.ok{border-color:#8ddb9f;background:#f3fcf5}.link.ok .mark{color:var(--ok)}
.link.broken{border:2px solid var(--bad);background:var(--bad-bg);box-shadow:0 0 0 3px #cf222e22}.link.broken .mark{color:var(--bad)}
.link.broken .role{color:var(--bad);font-weight:700}
.link.pending{border:2px dashed var(--wait);background:var(--wait-bg)}.link.pending .mark,.link.pending .codes code{color:var(--wait)}
.link.unreached{border-style:dashed;background:transparent;opacity:.6}
.link.unknown{border-style:dotted;background:var(--na-bg)}
.link.broken:not(:last-child)::after,.link.unreached:not(:last-child)::after{content:"⇢";color:#afb8c1}
.note{margin:8px 0 0;font-size:13px;color:var(--muted)}
.findings{margin:12px 0 4px;padding-left:18px}
.findings li{margin:6px 0}
.findings .code{background:var(--bad-bg);color:var(--bad);border-radius:4px;padding:1px 5px;font-weight:600}
.s-awaiting_confirmation .findings .code{background:var(--wait-bg);color:var(--wait)}
.s-not_auditable .findings .code,.s-blocked .findings .code{background:var(--cb);color:var(--c)}
.msg code{background:var(--bg);border-radius:3px;padding:0 3px}
.msg{overflow-wrap:anywhere}
.sub{margin:6px 0 2px;font-size:13px;color:var(--muted)}
pre{background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:8px 10px;overflow-x:auto;margin:4px 0}
.diff .add{color:var(--ok);background:var(--ok-bg);display:block}.diff .del{color:var(--bad);background:var(--bad-bg);display:block}
.diff .ctx{display:block;color:var(--muted)}
details summary{cursor:pointer;color:#0969da;font-size:14px}
.counter{margin-top:6px}
.facts{display:flex;flex-wrap:wrap;gap:4px 18px;font-size:12.5px;color:var(--muted);margin-top:8px}
.pattern{margin-top:6px}.pattern pre{white-space:pre-wrap;overflow-wrap:anywhere}
.passing{margin:12px 0}.passing>summary{font-weight:600;color:var(--ok);font-size:15px;padding:6px 0}
footer{padding:8px 24px 32px;font-size:12.5px;color:var(--muted)}
@media (max-width:760px){
.top{padding:18px 14px}h1{font-size:20px;margin-bottom:10px}main{padding:4px 10px 16px}
.meta{gap:4px 18px;margin-bottom:12px}.meta dt{font-size:11px}.meta dd{font-size:14px}
.badges{gap:6px}.badge{font-size:13px;padding:2px 9px}.badge strong{font-size:13px}
h2{font-size:18px}.hint{display:block}
.chain ol{flex-direction:column;gap:18px}
.link:not(:last-child)::after{content:"↓";right:auto;left:50%;top:auto;bottom:-19px;transform:translateX(-50%)}
.link.broken:not(:last-child)::after,.link.unreached:not(:last-child)::after{content:"⇣"}
.control{padding:12px}.control h3{flex-basis:100%}
}
@media print{.top{background:#fff;color:#000}.scroll{overflow:visible}}
"#;

#[cfg(test)]
mod tests;
