//! Views of a plan: terraform-like text for people, versioned JSON for machines.

use std::fmt::Write as _;

use anstyle::{AnsiColor, Style};

use crate::audit::backout::{Removal, RemovalPlan, RemoveCall};
use crate::audit::drill::{DrillTarget, Outcome, Skipped, Stuck};
use crate::audit::{
    Action, AfterApply, AlarmCall, Call, Code, ControlReport, FilterCall, Finding, Mode, Plan,
    Status,
};
use crate::redact::mask_endpoint;
use crate::term::escape;

pub mod across;
pub mod controls;
pub mod coverage;
pub mod forecast;
pub mod group;
pub mod layout;
pub mod org;
pub mod pattern;
pub mod report;

use layout::{Page, Painter};

/// The plan as pretty JSON (the schema is documented in docs/json.md), with subscription
/// endpoints masked unless `show_endpoints`: a webhook URL carries its token, and JSON ends up
/// in CI logs and artifacts.
pub fn json(plan: &Plan, show_endpoints: bool) -> String {
    let mut shown = plan.clone();
    if !show_endpoints {
        for action in &mut shown.actions {
            if let Call::Subscribe {
                protocol, endpoint, ..
            } = &mut action.call
            {
                *endpoint = mask_endpoint(protocol, endpoint);
            }
        }
    }
    // A plan holds only strings, numbers, maps and lists: serialising it cannot fail.
    serde_json::to_string_pretty(&shown).unwrap_or_default()
}

/// How much a text view says: `--quiet` only the verdicts, `-v` every chain too.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Verbosity {
    Quiet,
    #[default]
    Normal,
    Verbose,
}

#[derive(Debug, Clone, Copy)]
pub struct TextOptions {
    pub color: bool,
    /// Show subscription endpoints in full instead of masked.
    pub show_endpoints: bool,
    /// Columns to lay out for.
    pub width: usize,
    pub verbosity: Verbosity,
}

impl Default for TextOptions {
    fn default() -> TextOptions {
        TextOptions {
            color: false,
            show_endpoints: false,
            width: layout::DEFAULT_WIDTH,
            verbosity: Verbosity::Normal,
        }
    }
}

impl Painter {
    fn green(&self, t: &str) -> String {
        self.paint(AnsiColor::Green.on_default(), t)
    }
    fn red(&self, t: &str) -> String {
        self.paint(AnsiColor::Red.on_default(), t)
    }
    fn yellow(&self, t: &str) -> String {
        self.paint(AnsiColor::Yellow.on_default(), t)
    }
    fn bold(&self, t: &str) -> String {
        self.paint(Style::new().bold(), t)
    }
    fn dim(&self, t: &str) -> String {
        self.paint(Style::new().dimmed(), t)
    }
}

const GREEN: Style = AnsiColor::Green.on_default();
const RED: Style = AnsiColor::Red.on_default();
const YELLOW: Style = AnsiColor::Yellow.on_default();
const DIM: Style = Style::new().dimmed();
const BOLD: Style = Style::new().bold();

/// The plan for people, in the order a reviewer reads it: what is wrong and why, what the
/// apply would do, and last (on the final screen) one line per control and the summary.
pub fn text(plan: &Plan, options: TextOptions) -> String {
    let p = Painter(options.color);
    let mut page = Page::new(options.width, p);
    let quiet = options.verbosity == Verbosity::Quiet;
    let verbose = options.verbosity == Verbosity::Verbose;
    page.styled_prefix(
        0,
        4,
        "cis-fix plan:",
        Some(BOLD),
        &format!(
            " account {}, region {}, benchmark {} ({} control{})",
            plan.account_id,
            plan.region,
            plan.benchmark,
            plan.controls.len(),
            if plan.controls.len() == 1 { "" } else { "s" }
        ),
        None,
    );
    for note in &plan.notes {
        page.styled_prefix(0, 6, "note:", Some(YELLOW), &format!(" {note}"), None);
    }

    if !quiet {
        trails(&mut page, plan);
        findings(&mut page, plan, verbose);
    }
    // Said even with --quiet: alarms attached to someone else's topic must never go unseen.
    if let Some(line) = notifications(plan) {
        page.blank();
        page.styled_prefix(0, 4, "Notifications:", Some(BOLD), &line, None);
    }
    if !quiet && !plan.actions.is_empty() {
        page.blank();
        page.line(
            0,
            0,
            &format!("{} ({} create, {} change)", "Actions", "+", "~"),
            Some(BOLD),
        );
        for a in &plan.actions {
            action_lines(&mut page, plan, a, options);
        }
    }

    page.blank();
    control_table(&mut page, plan);
    page.blank();
    page.line(0, 4, &summary(plan), Some(BOLD));
    for line in unplanned(plan) {
        page.line(0, 4, &line, None);
    }
    page.finish()
}

/// Each trail, whether it qualifies, and why not.
fn trails(page: &mut Page, plan: &Plan) {
    page.blank();
    page.line(0, 0, "Trails", Some(BOLD));
    if plan.trails.is_empty() {
        page.line(2, 4, &format!("(none visible from {})", plan.region), None);
    }
    for t in &plan.trails {
        let target = t
            .log_group
            .as_deref()
            .map(|g| format!(" -> log group {g}"))
            .unwrap_or_default();
        let target = match &t.organization_owner {
            Some(owner) => format!(" (organization trail of account {owner}){target}"),
            None => target,
        };
        let (mark, style) = if t.qualifies {
            ("ok  ", GREEN)
        } else {
            ("no  ", RED)
        };
        page.styled_prefix(
            2,
            7,
            mark,
            Some(style),
            &format!(" {}{target}", t.name),
            None,
        );
        for problem in &t.problems {
            page.line(7, 2, problem, None);
        }
    }
}

/// The plan's last line: what it would do, and the controls' verdicts.
fn summary(plan: &Plan) -> String {
    if plan.actions.is_empty() {
        // "No changes" would read as "all is well": say it only when it is.
        let head = if plan.is_compliant() {
            "No changes."
        } else {
            "Nothing to apply."
        };
        format!("{head} {}", summary_tail(plan))
    } else {
        format!(
            "Plan: {} to create, {} to change. {}",
            plan.summary.to_create,
            plan.summary.to_change,
            summary_tail(plan)
        )
    }
}

/// What is wrong, control by control; a finding that several controls share (a blocked
/// trail, no topic) is said once, naming them all.
fn findings(page: &mut Page, plan: &Plan, verbose: bool) {
    let mut said: Vec<(String, Vec<&str>)> = Vec::new();
    let mut detailed: Vec<(&ControlReport, &Finding)> = Vec::new();
    for c in &plan.controls {
        for f in c.findings.iter().filter(|f| !repeats_trails(f)) {
            if f.diff.is_some() || f.counterexample.is_some() {
                detailed.push((c, f));
            } else {
                match said.iter_mut().find(|(m, _)| *m == f.message) {
                    Some((_, ids)) => ids.push(&c.id),
                    None => said.push((f.message.clone(), vec![&c.id])),
                }
            }
        }
    }
    let chains: Vec<&ControlReport> = plan
        .controls
        .iter()
        .filter(|c| verbose && c.chain.is_some())
        .collect();
    if said.is_empty() && detailed.is_empty() && chains.is_empty() {
        return;
    }
    page.blank();
    page.line(0, 0, "Findings", Some(BOLD));
    for (message, ids) in &said {
        let who = if ids.len() > 1 && ids.len() == plan.controls.len() {
            format!("all {} controls", ids.len())
        } else {
            ids.join(", ")
        };
        page.line(
            2,
            4,
            &format!("{who}: {}", name_topics(plan, message)),
            None,
        );
    }
    for (c, f) in &detailed {
        page.line(
            2,
            4,
            &format!("{}: {}", c.id, name_topics(plan, &f.message)),
            None,
        );
        if let Some(event) = &f.counterexample {
            page.labelled_json(
                6,
                4,
                "counterexample (matched by the control, missed by the filter):",
                &crate::pattern::record_text(event),
            );
        }
        if let Some(diff) = &f.diff {
            for line in diff.lines() {
                let style = match line.chars().next() {
                    Some('-') => Some(RED),
                    Some('+') => Some(GREEN),
                    _ => None,
                };
                page.line(6, 4, line, style);
            }
        }
    }
    for c in chains {
        if let Some(chain) = &c.chain {
            let topic = topic_name(plan, &chain.topic_arn);
            page.line(2, 4, &chain_line(c, chain, topic), Some(DIM));
        }
    }
}

/// A compliant control's chain, link by link (`-v`), its topic named `topic`: one account's
/// plan and an organization's say it alike.
pub(super) fn chain_line(c: &ControlReport, chain: &crate::audit::Chain, topic: &str) -> String {
    format!(
        "{} {}: trail {} -> log group {} -> filter {} ({}{}) -> alarm {} -> topic {} ({} confirmed subscription{})",
        c.id,
        c.slug,
        chain.trail,
        chain.log_group,
        chain.filter,
        chain_relation(&c.id, chain),
        chain.evidence.map(|e| format!("; AWS matched {} of {} witness events", e.matched, e.witnesses)).unwrap_or_default(),
        chain.alarm,
        topic,
        chain.confirmed_subscriptions,
        if chain.confirmed_subscriptions == 1 { "" } else { "s" }
    )
}

/// How a chain's filter relates to the control: `covers`, or `covers the benchmark's SSO-aware
/// alternative for 4.2 (misses …)` when only an alternative pattern decided.
fn chain_relation(id: &str, chain: &crate::audit::Chain) -> String {
    match &chain.alternative {
        Some(alternative) => {
            crate::audit::accepted::through_alternative(chain.relation, id, alternative)
        }
        None => crate::audit::accepted::relation_name(chain.relation).to_string(),
    }
}

/// The table's word on a compliant control: nothing, unless its chain counts only through one
/// of the benchmark's alternative patterns, which is narrower than the control's own.
fn compliant_reason(c: &ControlReport) -> String {
    let Some(alternative) = c
        .chain
        .as_ref()
        .and_then(|chain| chain.alternative.as_ref())
    else {
        return String::new();
    };
    let note = alternative
        .note
        .as_deref()
        .map(|n| format!(" ({n})"))
        .unwrap_or_default();
    // Short: the row is cut to the width, and `-v` gives the chain line in full.
    format!("via the {}{note}", alternative.name)
}

/// A trail's problem as a control's finding: the Trails section already says it, once.
fn repeats_trails(finding: &Finding) -> bool {
    finding.code == Code::TrailNotQualifying
}

/// The one prominent line about whose topic the alarms will notify.
fn notifications(plan: &Plan) -> Option<String> {
    let reuse = plan.notifications.as_ref()?;
    let why = if reuse.delivers_for.is_empty() {
        "an existing alarm on the control's metric notifies it".to_string()
    } else {
        format!("already delivers for {}", reuse.delivers_for.join(", "))
    };
    Some(format!(
        " reusing topic {} ({why}); pass --notify or --topic-arn to choose",
        topic_name(plan, &reuse.topic_arn)
    ))
}

fn action_lines(page: &mut Page, plan: &Plan, a: &Action, options: TextOptions) {
    let (sign, style) = match a.mode {
        Mode::Create => ("+ ", GREEN),
        Mode::Change => ("~ ", YELLOW),
    };
    let mut line = describe_in(plan, a, options.show_endpoints);
    line.push_str(&control_suffix(a.control.as_deref()));
    page.styled_prefix(2, 4, sign, Some(style), &line, None);
    if a.mode == Mode::Change && !a.changes.is_empty() {
        for change in &a.changes {
            if change.before.contains('\n')
                || change.after.contains('\n')
                || change.attribute == "filter_pattern"
            {
                page.line(6, 4, &format!("{}:", change.attribute), None);
                let diff = similar::TextDiff::from_lines(&change.before, &change.after);
                for op in diff.iter_all_changes() {
                    let (mark, style) = match op.tag() {
                        similar::ChangeTag::Delete => ("-", Some(RED)),
                        similar::ChangeTag::Insert => ("+", Some(GREEN)),
                        similar::ChangeTag::Equal => (" ", None),
                    };
                    page.line(8, 4, &format!("{mark} {}", op.value().trim_end()), style);
                }
            } else {
                page.line(
                    6,
                    4,
                    &format!(
                        "{}: {} → {}",
                        change.attribute,
                        name_topics(plan, &change.before),
                        name_topics(plan, &change.after)
                    ),
                    None,
                );
            }
        }
    } else if let Some(extra) = extra_reason(a) {
        page.line(6, 4, &extra, Some(DIM));
    }
}

/// What the reason adds to the action line, if anything: most reasons repeat it.
pub(super) fn extra_reason(a: &Action) -> Option<String> {
    match &a.call {
        Call::CreateTopic { .. }
        | Call::Subscribe { .. }
        | Call::SetTopicPolicy { .. }
        | Call::PutTargets { .. } => None,
        Call::PutMetricFilter(_) | Call::PutMetricAlarm(_) | Call::PutRule(_) => {
            a.reason.split_once("; ").map(|(_, rest)| rest.to_string())
        }
    }
    .or_else(|| (a.mode == Mode::Change).then(|| a.reason.clone()))
}

/// A topic by its name where that is unambiguous: in the plan's account and region (SNS
/// names are unique there); its ARN anywhere else.
fn topic_name<'a>(plan: &Plan, arn: &'a str) -> &'a str {
    topic_name_in(&plan.account_id, &plan.region, arn)
}

/// [`topic_name`] seen from `account` and `region`.
pub(super) fn topic_name_in<'a>(account: &str, region: &str, arn: &'a str) -> &'a str {
    match crate::inventory::Arn::parse(arn) {
        Some(a) if a.account == account && a.region == region => {
            arn.rsplit(':').next().unwrap_or(arn)
        }
        _ => arn,
    }
}

/// `text` with the ARNs of topics in the plan's account and region replaced by the topics'
/// names, as the action lines name them: in prose only. A JSON object in the text (a policy
/// statement the user is to paste, which the JSON plan carries with the topic's ARN) keeps
/// its ARNs whole, or the pasted statement would name no resource.
fn name_topics(plan: &Plan, text: &str) -> String {
    let prefixes: Vec<String> = ["aws", "aws-cn", "aws-us-gov"]
        .iter()
        .map(|partition| format!("arn:{partition}:sns:{}:{}:", plan.region, plan.account_id))
        .collect();
    json_objects(text)
        .into_iter()
        .map(|(object, part)| {
            if object {
                part.to_string()
            } else {
                prefixes
                    .iter()
                    .fold(part.to_string(), |named, prefix| named.replace(prefix, ""))
            }
        })
        .collect()
}

/// `text` cut, in order, into prose (`false`) and JSON objects (`true`): each object from a
/// `{` to its matching `}`, braces inside JSON strings ignored. An object left open runs to
/// the end (kept whole, which is never wrong).
fn json_objects(text: &str) -> Vec<(bool, &str)> {
    let mut parts = Vec::new();
    let (mut start, mut depth) = (0, 0usize);
    let (mut in_string, mut escaped) = (false, false);
    for (i, c) in text.char_indices() {
        if in_string {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
            continue;
        }
        match c {
            '{' => {
                if depth == 0 && start < i {
                    parts.push((false, text.get(start..i).unwrap_or_default()));
                    start = i;
                }
                depth += 1;
            }
            '}' if depth > 0 => {
                depth -= 1;
                if depth == 0 {
                    let end = i + c.len_utf8();
                    parts.push((true, text.get(start..end).unwrap_or_default()));
                    start = end;
                }
            }
            '"' if depth > 0 => in_string = true,
            _ => {}
        }
    }
    if start < text.len() {
        parts.push((depth > 0, text.get(start..).unwrap_or_default()));
    }
    parts
}

/// The per-control verdicts, last: one line each, cut to the width.
fn control_table(page: &mut Page, plan: &Plan) {
    table(page, plan, "Controls", |c| {
        let (status, style) = match c.status {
            Status::Compliant => ("compliant", GREEN),
            Status::NonCompliant => ("non-compliant", RED),
            Status::Blocked => ("blocked", YELLOW),
            Status::NotAuditable => ("not auditable", YELLOW),
        };
        let reason = match (c.status, c.after_apply) {
            (Status::Compliant, _) => compliant_reason(c),
            (_, Some(AfterApply::Compliant)) => "fixed by the plan".to_string(),
            (_, Some(AfterApply::AwaitsConfirmation)) => "fixed on confirmation".to_string(),
            _ => table_reason(plan, c),
        };
        (status, style, reason)
    });
}

/// Each control's verdict once the apply's calls are made: what a reviewer reads last after
/// the calls scrolled by.
pub fn after_apply_table(plan: &Plan, options: TextOptions) -> String {
    let mut page = Page::new(options.width, Painter(options.color));
    table(&mut page, plan, "Controls after the apply", |c| {
        match (c.status, c.after_apply) {
            (Status::Compliant, _) | (_, Some(AfterApply::Compliant)) => {
                ("compliant", GREEN, String::new())
            }
            (_, Some(AfterApply::AwaitsConfirmation)) => (
                "pending",
                YELLOW,
                "compliant once the subscription is confirmed".to_string(),
            ),
            (Status::NotAuditable, _) => ("not auditable", YELLOW, table_reason(plan, c)),
            (Status::Blocked, _) => ("blocked", YELLOW, table_reason(plan, c)),
            (Status::NonCompliant, _) => ("non-compliant", RED, table_reason(plan, c)),
        }
    });
    page.finish()
}

/// A control's first finding, in one line for the table.
fn table_reason(plan: &Plan, c: &ControlReport) -> String {
    c.findings
        .iter()
        .find(|f| !repeats_trails(f))
        .map(|f| match f.code {
            // The long reason is under Findings; the table points there.
            Code::NoTrail | Code::NoQualifyingTrail => {
                "no qualifying trail (see Trails)".to_string()
            }
            _ => name_topics(plan, &f.message),
        })
        .unwrap_or_default()
}

/// A table of one row per control, cut to the width; `verdict` gives each row's status word,
/// its colour and a reason.
fn table(
    page: &mut Page,
    plan: &Plan,
    heading: &str,
    verdict: impl Fn(&ControlReport) -> (&'static str, Style, String),
) {
    let p = page.painter;
    page.line(0, 0, heading, Some(BOLD));
    let width = plan
        .controls
        .iter()
        .map(|c| c.id.len() + 1 + c.slug.len())
        .max()
        .unwrap_or(0);
    for c in &plan.controls {
        let (status, style, reason) = verdict(c);
        let label = format!("{} {}", c.id, c.slug);
        let plain = format!("  {label:<width$}  {status:<13}  {reason}");
        let plain = plain.trim_end().to_string();
        page.row(&plain, |fitted| {
            // Colour only the status word, which the cut never reaches before the reason.
            match fitted.find(status) {
                Some(at) if p.0 => format!(
                    "{}{}{}",
                    &fitted[..at],
                    p.paint(style, status),
                    &fitted[at + status.len()..]
                ),
                _ => fitted.to_string(),
            }
        });
    }
}

/// Why some non-compliant controls stay so after an apply, and what would fix it: one line per
/// reason, e.g. "Nothing can be planned for 13 non-compliant controls: no topic to notify
/// (pass --notify PROTOCOL:ENDPOINT or --topic-arn ARN)."
pub fn unplanned(plan: &Plan) -> Vec<String> {
    let mut reasons: Vec<(&'static str, Vec<Status>)> = Vec::new();
    for c in &plan.controls {
        if c.after_apply != Some(AfterApply::NonCompliant) {
            continue;
        }
        let reason = c
            .findings
            .iter()
            .find_map(|f| unplanned_reason(f.code))
            .unwrap_or("see each control's findings above");
        match reasons.iter_mut().find(|(r, _)| *r == reason) {
            Some((_, statuses)) => statuses.push(c.status),
            None => reasons.push((reason, vec![c.status])),
        }
    }
    reasons
        .into_iter()
        .map(|(reason, statuses)| {
            format!(
                "Nothing can be planned for {}: {reason}.",
                counted_controls(&statuses)
            )
        })
        .collect()
}

/// "13 non-compliant controls", "15 blocked controls", or "3 controls" when they differ: the
/// word must agree with the control table above it.
pub(crate) fn counted_controls(statuses: &[Status]) -> String {
    let n = statuses.len();
    let word = match statuses.first() {
        Some(first) if statuses.iter().all(|s| s == first) => match first {
            Status::Compliant => "compliant ",
            Status::NonCompliant => "non-compliant ",
            Status::Blocked => "blocked ",
            Status::NotAuditable => "not auditable ",
        },
        _ => "",
    };
    format!("{n} {word}control{}", if n == 1 { "" } else { "s" })
}

/// Controls that will be whole once someone confirms a new subscription.
pub fn awaiting_confirmation(plan: &Plan) -> usize {
    plan.controls
        .iter()
        .filter(|c| c.after_apply == Some(AfterApply::AwaitsConfirmation))
        .count()
}

pub(super) fn unplanned_reason(code: Code) -> Option<&'static str> {
    Some(match code {
        Code::NeedsSubscriber => {
            "no topic to notify (pass --notify PROTOCOL:ENDPOINT or --topic-arn ARN)"
        }
        Code::NoTrail | Code::NoQualifyingTrail => {
            "no qualifying trail (fix a trail as its findings say; cis-fix does not change trails)"
        }
        Code::NotAuditable => "AWS denied reads (grant the permissions named above)",
        Code::OrganizationChainIncomplete => {
            "they rely on the organization trail's chain, which cannot be completed (see the management account's reasons)"
        }
        Code::OrganizationTrailElsewhere => {
            "an organization trail of another account may satisfy them (run `cis-fix plan --org` from the management account)"
        }
        Code::TopicNotSubscribed => {
            "the topic has no confirmed subscription (subscribe an endpoint to it and confirm it)"
        }
        Code::TopicDeliveryUnverified => {
            "delivery to the topic cannot be proven (`cis-fix drill` proves it)"
        }
        Code::TopicKeyDeniesCloudwatch | Code::TopicPolicyDeniesCloudwatch => {
            "the topic's key or policy blocks CloudWatch (see the findings)"
        }
        Code::AlarmNameTaken => "cis-fix's alarm names are taken by alarms it did not create",
        Code::LogGroupFilterLimit => "the log group has 100 metric filters, the limit",
        Code::TopicNotFound | Code::TopicInOtherRegion | Code::TopicNameTaken => {
            "the topic option names a topic cis-fix cannot use (see the findings)"
        }
        _ => return None,
    })
}

fn summary_tail(plan: &Plan) -> String {
    let s = &plan.summary;
    let not_auditable = if s.not_auditable > 0 {
        format!(", {} not auditable", s.not_auditable)
    } else {
        String::new()
    };
    format!(
        "Controls: {} compliant, {} non-compliant, {} blocked{not_auditable}.",
        s.compliant, s.non_compliant, s.blocked
    )
}

/// [`describe_within`] the plan's own account and region: topics there by name, and the
/// region only where it is not the plan's.
fn describe_in(plan: &Plan, action: &Action, show_endpoints: bool) -> String {
    describe_within(
        Some((&plan.account_id, &plan.region)),
        action,
        show_endpoints,
    )
}

/// One line per action (the call and what it names), seen from `home` (account, region) when
/// there is one: there, the region goes without saying and a topic is named by its name,
/// unique in its account and region.
pub(crate) fn describe_within(
    home: Option<(&str, &str)>,
    action: &Action,
    show_endpoints: bool,
) -> String {
    let region = region_unless_home(home, &action.region);
    let topic = |arn: &str| topic_from(home, arn);
    let line = match &action.call {
        Call::CreateTopic {
            topic_name,
            kms_master_key_id,
            ..
        } => match kms_master_key_id {
            Some(key) => format!("create_topic {topic_name}{region}, encrypted with {key}"),
            None => format!("create_topic {topic_name}{region}"),
        },
        Call::Subscribe {
            topic_arn,
            protocol,
            endpoint,
        } => {
            let shown = shown_endpoint(protocol, endpoint, show_endpoints);
            format!("subscribe {protocol} {shown} to {}", topic(topic_arn))
        }
        Call::PutMetricFilter(FilterCall {
            log_group_name,
            filter_name,
            metric_namespace,
            metric_name,
            ..
        }) => format!(
            "put_metric_filter {filter_name} on log group {log_group_name} -> {metric_namespace}/{metric_name}{region}"
        ),
        Call::PutMetricAlarm(AlarmCall {
            alarm_name,
            namespace,
            metric_name,
            alarm_actions,
            ..
        }) => {
            let topics: Vec<String> = alarm_actions.iter().map(|t| topic(t)).collect();
            format!(
                "put_metric_alarm {alarm_name} on {namespace}/{metric_name} -> {}{region}",
                topics.join(", ")
            )
        }
        // The pattern is the catalog's, long: `cis-fix pattern` and the JSON plan show it.
        Call::PutRule(rule) => format!(
            "put_rule {} (ENABLED, the catalog's event pattern){region}",
            rule.rule_name
        ),
        Call::PutTargets {
            rule_name,
            target_arn,
            ..
        } => format!("put_targets {rule_name} -> {}{region}", topic(target_arn)),
        Call::SetTopicPolicy { topic_arn, .. } => format!(
            "set_topic_policy {}: events.amazonaws.com may publish for its rule only",
            topic(topic_arn)
        ),
    };
    one_line(line)
}

/// `line`, made of names from AWS, with any control character or bidi override in them (a
/// newline too) escaped: every view, record and progress line shows it as one line.
fn one_line(line: String) -> String {
    match escape(&line) {
        std::borrow::Cow::Borrowed(_) => line,
        std::borrow::Cow::Owned(escaped) => escaped,
    }
}

/// ` (eu-west-1)` after a call made outside `home`'s region; nothing inside it.
fn region_unless_home(home: Option<(&str, &str)>, region: &str) -> String {
    match home {
        Some((_, here)) if here == region => String::new(),
        _ => format!(" ({region})"),
    }
}

/// A topic seen from `home`: by name in its own account and region (SNS names are unique
/// there), by ARN anywhere else.
fn topic_from(home: Option<(&str, &str)>, arn: &str) -> String {
    let shown = match (home, crate::inventory::Arn::parse(arn)) {
        (Some((account, here)), Some(a)) if a.account == account && a.region == here => {
            arn.rsplit(':').next().unwrap_or(arn)
        }
        _ => arn,
    };
    escape(shown).into_owned()
}

/// ` [4.1]` after an action that serves one control.
pub(crate) fn control_suffix(control: Option<&str>) -> String {
    control.map(|c| format!(" [{c}]")).unwrap_or_default()
}

/// Endpoints are masked unless the user asked to see them.
fn shown_endpoint(protocol: &str, endpoint: &str, show: bool) -> String {
    if show {
        endpoint.to_string()
    } else {
        mask_endpoint(protocol, endpoint)
    }
}

/// One line per removal, seen from `home` (account, region), as [`describe_within`] does.
pub(crate) fn describe_removal_within(
    home: Option<(&str, &str)>,
    removal: &Removal,
    show_endpoints: bool,
) -> String {
    let region = region_unless_home(home, &removal.region);
    let line = match &removal.call {
        RemoveCall::DeleteAlarm { alarm_name } => format!("delete_alarm {alarm_name}{region}"),
        RemoveCall::DeleteMetricFilter {
            log_group_name,
            filter_name,
        } => format!("delete_metric_filter {filter_name} on log group {log_group_name}{region}"),
        RemoveCall::Unsubscribe {
            topic_arn,
            protocol,
            endpoint,
            ..
        } => {
            let shown = shown_endpoint(protocol, endpoint, show_endpoints);
            format!(
                "unsubscribe {protocol} {shown} from {}",
                topic_from(home, topic_arn)
            )
        }
        RemoveCall::DeleteRule {
            rule_name,
            target_ids,
        } => match target_ids.len() {
            0 => format!("delete_rule {rule_name}{region}"),
            n => format!(
                "delete_rule {rule_name}{region} (its {n} target{} first)",
                if n == 1 { "" } else { "s" }
            ),
        },
        RemoveCall::DeleteTopic { topic_arn } => {
            format!("delete_topic {}", topic_from(home, topic_arn))
        }
    };
    one_line(line)
}

/// What a backout will remove and keep, terraform-style.
pub fn removal_text(
    account: &str,
    region: &str,
    plan: &RemovalPlan,
    options: TextOptions,
) -> String {
    heading(
        "cis-fix backout:",
        &format!("account {account}, region {region}"),
        options,
    ) + &removal_body(account, region, plan, options)
}

/// A command's heading line (`cis-fix backout: account A, region R`) and a blank line.
pub fn heading(command: &str, subject: &str, options: TextOptions) -> String {
    let p = Painter(options.color);
    layout::wrap_painted(
        &format!("{} {subject}\n\n", p.bold(command)),
        options.width,
        p,
    )
}

/// What backout will remove from one account and keep, under its heading.
pub fn removal_body(
    account: &str,
    region: &str,
    plan: &RemovalPlan,
    options: TextOptions,
) -> String {
    let p = Painter(options.color);
    let mut out = String::new();
    if options.verbosity == Verbosity::Quiet {
        // The summary alone; what is kept, and why, is the normal view's.
        let kept = match plan.kept.len() {
            0 => String::new(),
            n => format!(" {n} kept (run without --quiet to see why)."),
        };
        let _ = writeln!(
            out,
            "{}{kept}",
            p.bold(&format!("Plan: {} to destroy.", plan.removals.len()))
        );
        return layout::wrap_painted(&out, options.width, p);
    }
    if !plan.kept.is_empty() {
        let _ = writeln!(out, "{}", p.bold("Kept"));
        for k in &plan.kept {
            let _ = writeln!(
                out,
                "  {}: {}",
                one_line(match k.resource.split_once(' ') {
                    Some((kind, arn)) =>
                        format!("{kind} {}", topic_from(Some((account, region)), arn)),
                    None => k.resource.clone(),
                }),
                escape(&k.reason)
            );
        }
        out.push('\n');
    }
    if plan.removals.is_empty() {
        let _ = writeln!(
            out,
            "{}",
            match plan.kept.is_empty() {
                true => "Nothing to remove: no resource created by cis-fix was found.",
                false => "Nothing to remove: what cis-fix created here is kept, as said above.",
            }
        );
        return layout::wrap_painted(&out, options.width, p);
    }
    let _ = writeln!(out, "{} ({} destroy)", p.bold("Actions"), p.red("-"));
    for r in &plan.removals {
        let control = control_suffix(r.control.as_deref());
        let _ = writeln!(
            out,
            "  {} {}{control}",
            p.red("-"),
            describe_removal_within(Some((account, region)), r, options.show_endpoints)
        );
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "{}",
        p.bold(&format!("Plan: {} to destroy.", plan.removals.len()))
    );
    layout::wrap_painted(&out, options.width, p)
}

/// What a drill will do, before it asks.
pub fn drill_intro(
    account: &str,
    region: &str,
    targets: &[DrillTarget],
    skipped: &[Skipped],
    options: TextOptions,
) -> String {
    heading(
        "cis-fix drill:",
        &format!("account {account}, region {region}"),
        options,
    ) + &drill_body(account, region, targets, skipped, options)
}

/// What a drill will do in one account, and skip, under its heading.
pub fn drill_body(
    account: &str,
    region: &str,
    targets: &[DrillTarget],
    skipped: &[Skipped],
    options: TextOptions,
) -> String {
    let p = Painter(options.color);
    let mut out = String::new();
    if options.verbosity == Verbosity::Quiet {
        // The counts, and the warning: a drill pages people, however quiet the output.
        let skips = match skipped.len() {
            0 => String::new(),
            n => format!(" {n} skipped."),
        };
        let _ = writeln!(
            out,
            "{}{skips}",
            p.bold(&format!(
                "Drill: {} alarm{} set to ALARM, then back to OK.",
                targets.len(),
                if targets.len() == 1 { "" } else { "s" }
            ))
        );
        if !targets.is_empty() {
            let _ = writeln!(out, "Each notification goes to every subscriber of its topic: real people may be paged.");
        }
        return layout::wrap_painted(&out, options.width, p);
    }
    if !skipped.is_empty() {
        let _ = writeln!(out, "{}", p.bold("Skipped"));
        // One line per reason, naming every control it skips.
        let mut reasons: Vec<(&str, Vec<&str>)> = Vec::new();
        for s in skipped {
            match reasons.iter_mut().find(|(r, _)| *r == s.reason) {
                Some((_, ids)) => ids.push(&s.control),
                None => reasons.push((&s.reason, vec![&s.control])),
            }
        }
        for (reason, ids) in reasons {
            let _ = writeln!(out, "  {}: {}", escape(&ids.join(", ")), escape(reason));
        }
    }
    if targets.is_empty() {
        return layout::wrap_painted(&out, options.width, p);
    }
    if !skipped.is_empty() {
        out.push('\n');
    }
    let _ = writeln!(
        out,
        "{} ({} set to ALARM, then back to OK)",
        p.bold("Drill"),
        p.yellow("!")
    );
    for t in targets {
        let _ = writeln!(
            out,
            "  {} set_alarm_state {} ALARM -> OK{} [{}]",
            p.yellow("!"),
            escape(&t.alarm),
            region_unless_home(Some((account, region)), &t.region),
            escape(&t.control)
        );
        let _ = writeln!(
            out,
            "      {}",
            p.dim(&format!(
                "notifies {}",
                topic_from(Some((account, region)), &t.topic_arn)
            ))
        );
    }
    out.push('\n');
    let _ = writeln!(
        out,
        "Each alarm's notification goes to every subscriber of its topic: real people may be paged. Setting it back to OK runs its OK actions, if it has any. No alarm's configuration is changed."
    );
    layout::wrap_painted(&out, options.width, p)
}

/// What became of each drilled control's notification, the alarms left in ALARM (`stuck`),
/// and the tally (`tally`: an organization's drill gives one across all its accounts instead).
pub fn drill_report(
    (account, region): (&str, &str),
    targets: &[DrillTarget],
    outcomes: &[Outcome],
    stuck: &[Stuck],
    tally: bool,
    options: TextOptions,
) -> String {
    let p = Painter(options.color);
    let mut out = String::new();
    let home = Some((account, region));
    for (t, outcome) in targets.iter().zip(outcomes) {
        if options.verbosity == Verbosity::Quiet && matches!(outcome, Outcome::Delivered { .. }) {
            continue;
        }
        let topic = topic_from(home, &t.topic_arn);
        let (control, alarm) = (escape(&t.control), escape(&t.alarm));
        let line = match outcome {
            Outcome::Delivered { message_id } => format!(
                "  {} {control} delivered: alarm {alarm} published to {}{}",
                p.green("ok"),
                topic,
                message_id
                    .as_deref()
                    .map(|id| format!(" (message {})", escape(id)))
                    .unwrap_or_default()
            ),
            Outcome::Failed { error } => format!(
                "  {} {control} not delivered: alarm {alarm} could not notify {}. AWS says: {}",
                p.red("FAILED"),
                topic,
                escape(error)
            ),
            Outcome::NoResult { waited_seconds } => format!(
                "  {} {control} no result: alarm {alarm} showed no action for {} within {waited_seconds} s (raise --wait, or look at the alarm's history)",
                p.red("FAILED"),
                topic
            ),
        };
        let _ = writeln!(out, "{line}");
    }
    let mut text = layout::wrap_painted(&out, options.width, p);
    text.push_str(&left_in_alarm(stuck, options));
    if tally {
        let delivered = outcomes
            .iter()
            .filter(|o| matches!(o, Outcome::Delivered { .. }))
            .count();
        let mut page = Page::new(options.width, p);
        page.blank();
        page.line(
            0,
            4,
            &format!(
                "Drill complete: {delivered} of {} delivered{}.",
                outcomes.len(),
                stuck_note(stuck.len())
            ),
            Some(BOLD),
        );
        text.push_str(&page.finish());
    }
    text
}

/// `; 2 alarms left in ALARM` after a drill's tally, or nothing.
pub fn stuck_note(stuck: usize) -> String {
    match stuck {
        0 => String::new(),
        1 => "; 1 alarm left in ALARM".to_string(),
        n => format!("; {n} alarms left in ALARM"),
    }
}

/// The alarms a drill set to ALARM and could not set back to OK, each with the command that
/// resets it (on one line, to copy). Said even with `--quiet`: until reset, they send nothing.
fn left_in_alarm(stuck: &[Stuck], options: TextOptions) -> String {
    if stuck.is_empty() {
        return String::new();
    }
    let mut page = Page::new(options.width, Painter(options.color));
    page.blank();
    page.line(
        0,
        4,
        "Left in ALARM: setting these alarms back to OK failed, and until they are reset they send nothing for a real event",
        Some(BOLD),
    );
    for s in stuck {
        page.styled_prefix(
            2,
            4,
            "!",
            Some(RED),
            &format!(
                " {} alarm {} in account {}, {}: {}",
                s.control, s.alarm, s.account, s.region, s.error
            ),
            None,
        );
        page.whole(6, &crate::audit::drill::reset_command(s));
    }
    page.finish()
}

#[cfg(test)]
mod tests;
