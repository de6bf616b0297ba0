//! The audit: (catalog, snapshot, options) → a plan of findings and ordered actions.
//!
//! Pure: no I/O, no clock, no randomness. A control is compliant when one chain exists as
//! the CIS audit procedure requires it:
//! qualifying trail → its log group → a metric filter whose pattern covers the control's →
//! an alarm on that filter's metric (name and namespace), actions enabled, with an SNS topic
//! in `AlarmActions` → that topic has a confirmed subscription.

pub mod backout;
pub mod options;
pub mod trails;

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};

use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, Control};
use crate::inventory::{
    self, Alarm, Arn, LogGroupRef, MetricFilter, RegionSnapshot, Snapshot, Subscription,
};
use crate::ownership::{self, AlarmRecord, FilterRef};
use crate::pattern::{self, Pattern, Relation};
pub use options::{Endpoint, Options, TopicChoice};

/// Version of the JSON plan schema (documented in the README).
pub const FORMAT_VERSION: u32 = 1;

/// CloudWatch Logs allows this many metric filters per log group.
const FILTERS_PER_LOG_GROUP: usize = 100;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Plan {
    pub format_version: u32,
    pub account_id: String,
    pub region: String,
    pub benchmark: String,
    pub trails: Vec<TrailReport>,
    pub controls: Vec<ControlReport>,
    pub actions: Vec<Action>,
    pub summary: Summary,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TrailReport {
    pub name: String,
    pub arn: String,
    pub qualifies: bool,
    pub log_group: Option<String>,
    /// Why the trail cannot anchor a chain; empty when it can.
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Compliant,
    NonCompliant,
    Blocked,
    /// A read the audit needed was denied: neither compliance nor a fix can be decided.
    NotAuditable,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ControlReport {
    pub id: String,
    pub slug: String,
    pub title: String,
    pub level: u8,
    pub status: Status,
    pub findings: Vec<Finding>,
    /// The chain that makes the control compliant.
    pub chain: Option<Chain>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    pub code: String,
    pub message: String,
    /// A line diff from an existing filter pattern (`-`) to the control's (`+`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Chain {
    pub trail: String,
    pub region: String,
    pub log_group: String,
    pub filter: String,
    pub relation: Relation,
    pub alarm: String,
    pub topic_arn: String,
    pub confirmed_subscriptions: usize,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Create,
    Change,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Action {
    pub mode: Mode,
    /// The control this action serves; `None` for a topic or subscription shared by many.
    pub control: Option<String>,
    pub region: String,
    pub reason: String,
    #[serde(flatten)]
    pub call: Call,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Call {
    CreateTopic {
        topic_name: String,
        topic_arn: String,
        tags: BTreeMap<String, String>,
    },
    Subscribe {
        topic_arn: String,
        protocol: String,
        endpoint: String,
    },
    PutMetricFilter {
        log_group_name: String,
        filter_name: String,
        filter_pattern: String,
        metric_name: String,
        metric_namespace: String,
        metric_value: String,
    },
    PutMetricAlarm {
        alarm_name: String,
        alarm_description: String,
        metric_name: String,
        namespace: String,
        statistic: String,
        period: i32,
        threshold: f64,
        comparison_operator: String,
        evaluation_periods: i32,
        alarm_actions: Vec<String>,
        tags: BTreeMap<String, String>,
    },
}

impl Call {
    /// Apply order: topics before subscriptions before filters before alarms, so an alarm
    /// never points at a topic that does not exist yet.
    fn rank(&self) -> u8 {
        match self {
            Call::CreateTopic { .. } => 0,
            Call::Subscribe { .. } => 1,
            Call::PutMetricFilter { .. } => 2,
            Call::PutMetricAlarm { .. } => 3,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Call::CreateTopic { .. } => "create_topic",
            Call::Subscribe { .. } => "subscribe",
            Call::PutMetricFilter { .. } => "put_metric_filter",
            Call::PutMetricAlarm { .. } => "put_metric_alarm",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    pub compliant: usize,
    pub non_compliant: usize,
    pub blocked: usize,
    #[serde(default)]
    pub not_auditable: usize,
    pub to_create: usize,
    pub to_change: usize,
}

impl Plan {
    pub fn is_compliant(&self) -> bool {
        self.controls.iter().all(|c| c.status == Status::Compliant)
    }
}

fn finding(code: &str, message: impl Into<String>) -> Finding {
    Finding {
        code: code.to_string(),
        message: message.into(),
        diff: None,
    }
}

/// A log group that a qualifying trail writes to: where a chain may start.
struct Target<'a> {
    log_group: LogGroupRef,
    trails: Vec<&'a str>,
    region: &'a RegionSnapshot,
}

/// A log group written only by trails that do not qualify, kept to explain near-chains.
struct Unqualified<'a> {
    log_group: LogGroupRef,
    trail: &'a str,
    problems: Vec<String>,
}

type FilterKey = (String, String, String);

/// Existing filter patterns, parsed once, and their relation to each control, compared once.
struct Parsed {
    patterns: HashMap<FilterKey, Option<Pattern>>,
    relations: RefCell<HashMap<(FilterKey, String), Option<Relation>>>,
}

fn key(region: &str, f: &MetricFilter) -> FilterKey {
    (region.to_string(), f.log_group.clone(), f.name.clone())
}

impl Parsed {
    fn new(snapshot: &Snapshot) -> Self {
        let mut patterns = HashMap::new();
        for (region, data) in &snapshot.regions {
            for f in &data.metric_filters {
                patterns.insert(key(region, f), pattern::parse(&f.pattern).ok());
            }
        }
        Parsed {
            patterns,
            relations: RefCell::new(HashMap::new()),
        }
    }

    fn get(&self, region: &str, f: &MetricFilter) -> Option<&Pattern> {
        self.patterns.get(&key(region, f)).and_then(Option::as_ref)
    }

    /// How an existing filter relates to the control: the best verdict over every pattern
    /// the control accepts. `None` when the existing pattern is not a JSON pattern we parse.
    fn relation(&self, region: &str, f: &MetricFilter, control: &Control) -> Option<Relation> {
        let memo_key = (key(region, f), control.slug.clone());
        if let Some(known) = self.relations.borrow().get(&memo_key) {
            return *known;
        }
        let rank = |r: Relation| match r {
            Relation::Equivalent => 3,
            Relation::Covers => 2,
            Relation::Weaker => 1,
            Relation::Different => 0,
        };
        let relation = self.get(region, f).and_then(|existing| {
            control
                .accepted_patterns()
                .map(|accepted| pattern::compare(existing, accepted))
                .max_by_key(|r| rank(*r))
        });
        self.relations.borrow_mut().insert(memo_key, relation);
        relation
    }
}

/// How far an alarm gets toward a working notification.
struct AlarmCheck<'a> {
    alarm: &'a Alarm,
    problems: Vec<Finding>,
    /// SNS topics in the alarm's actions with at least one confirmed subscription.
    delivering: Vec<(&'a str, usize)>,
}

fn watches(alarm: &Alarm, filter: &MetricFilter) -> bool {
    alarm.metric_name.as_deref() == Some(filter.metric_name.as_str())
        && alarm.namespace.as_deref() == Some(filter.metric_namespace.as_str())
}

fn confirmed(region: &RegionSnapshot, topic_arn: &str) -> (usize, usize) {
    let subs = region
        .subscriptions
        .iter()
        .filter(|s| s.topic_arn == topic_arn);
    subs.fold((0, 0), |(ok, pending), s| {
        if s.is_confirmed() {
            (ok + 1, pending)
        } else {
            (ok, pending + 1)
        }
    })
}

fn check_alarm<'a>(
    alarm: &'a Alarm,
    filter: &MetricFilter,
    region: &'a RegionSnapshot,
) -> AlarmCheck<'a> {
    let mut problems = Vec::new();
    let mut delivering = Vec::new();
    let mut alarm_dims = alarm.dimensions.clone();
    let mut filter_dims = filter.dimensions.clone();
    alarm_dims.sort();
    filter_dims.sort();
    if alarm_dims != filter_dims {
        problems.push(finding(
            "alarm_dimensions_mismatch",
            format!(
                "alarm `{}` watches {}/{} with dimensions [{}], but filter `{}` publishes it with [{}]: the alarm never sees the filter's data",
                alarm.name, filter.metric_namespace, filter.metric_name, alarm_dims.join(", "), filter.name, filter_dims.join(", ")
            ),
        ));
    }
    if !alarm.actions_enabled {
        problems.push(finding(
            "alarm_actions_disabled",
            format!(
                "alarm `{}` has its actions disabled (ActionsEnabled is false)",
                alarm.name
            ),
        ));
    }
    let topics: Vec<&str> = alarm
        .alarm_actions
        .iter()
        .filter(|a| Arn::parse(a).is_some_and(|arn| arn.service == "sns"))
        .map(String::as_str)
        .collect();
    if topics.is_empty() {
        problems.push(finding(
            "alarm_without_sns_action",
            format!("alarm `{}` has no SNS topic in AlarmActions", alarm.name),
        ));
    }
    for topic in topics {
        let (ok, pending) = confirmed(region, topic);
        if ok > 0 {
            delivering.push((topic, ok));
        } else if pending > 0 {
            problems.push(finding(
                "subscription_pending",
                format!("alarm `{}` notifies topic {topic}, whose {pending} subscription(s) are pending confirmation: confirm them (check the inbox or endpoint)", alarm.name),
            ));
        } else {
            problems.push(finding(
                "topic_not_subscribed",
                format!(
                    "alarm `{}` notifies topic {topic}, which has no confirmed subscription",
                    alarm.name
                ),
            ));
        }
    }
    AlarmCheck {
        alarm,
        problems,
        delivering,
    }
}

impl AlarmCheck<'_> {
    fn is_good(&self) -> bool {
        self.alarm.actions_enabled
            && !self.delivering.is_empty()
            && !self
                .problems
                .iter()
                .any(|p| p.code == "alarm_dimensions_mismatch")
    }
}

/// The result of looking for a control's chain, before planning.
struct Evaluation<'a> {
    status: Status,
    findings: Vec<Finding>,
    chain: Option<Chain>,
    /// The target (index) and satisfying filter the best partial chain runs through.
    partial: Option<(usize, &'a MetricFilter)>,
    /// A delivering topic of an alarm on a covering filter whose chain fails elsewhere (the
    /// alarm is disabled, or the trail does not qualify): the user meant it for this control,
    /// so cis-fix's alarm may notify it.
    candidate_topic: Option<String>,
}

pub fn audit(catalog: &Catalog, snapshot: &Snapshot, options: &Options) -> Plan {
    let account = snapshot.account_id.as_str();
    let empty = RegionSnapshot::default();

    let mut trail_reports = Vec::new();
    let mut targets: Vec<Target> = Vec::new();
    let mut unqualified: Vec<Unqualified> = Vec::new();
    for trail in &snapshot.trails {
        let mut problems = trails::problems(trail);
        let log_group = trail
            .log_group_arn
            .as_deref()
            .and_then(LogGroupRef::from_arn);
        match (&trail.log_group_arn, &log_group) {
            (None, _) => problems.push("does not send to CloudWatch Logs (no CloudWatchLogsLogGroupArn)".into()),
            (Some(arn), None) => problems.push(format!("has a CloudWatchLogsLogGroupArn cis-fix cannot read: {arn}")),
            (Some(_), Some(lg)) if lg.account != account => problems.push(format!(
                "sends to log group `{}` in account {}, not this account ({account}): audit that account with its credentials",
                lg.name, lg.account
            )),
            _ => {}
        }
        trail_reports.push(TrailReport {
            name: trail.name.clone(),
            arn: trail.arn.clone(),
            qualifies: problems.is_empty(),
            log_group: log_group.as_ref().map(|lg| lg.name.clone()),
            problems: problems.clone(),
        });
        let Some(lg) = log_group.filter(|lg| lg.account == account) else {
            continue;
        };
        if problems.is_empty() {
            match targets.iter_mut().find(|t| t.log_group == lg) {
                Some(t) => t.trails.push(&trail.name),
                None => targets.push(Target {
                    region: snapshot.region(&lg.region).unwrap_or(&empty),
                    log_group: lg,
                    trails: vec![&trail.name],
                }),
            }
        } else {
            unqualified.push(Unqualified {
                log_group: lg,
                trail: &trail.name,
                problems,
            });
        }
    }
    targets.sort_by(|a, b| a.log_group.cmp(&b.log_group));
    // A log group counts as qualified when any qualifying trail writes to it.
    unqualified.retain(|u| !targets.iter().any(|t| t.log_group == u.log_group));

    let parsed = Parsed::new(snapshot);
    let evaluations: Vec<Evaluation> = catalog
        .controls
        .iter()
        .map(|control| {
            evaluate(
                control,
                catalog,
                snapshot,
                &trail_reports,
                &targets,
                &unqualified,
                &parsed,
            )
        })
        .collect();

    let mut planner = Planner {
        account,
        snapshot,
        options,
        parsed: &parsed,
        actions: Vec::new(),
        topics: BTreeMap::new(),
        reusable_topics: BTreeMap::new(),
    };
    // Topics that already deliver for a compliant control may serve the others too.
    for chain in evaluations.iter().filter_map(|e| e.chain.as_ref()) {
        planner
            .reusable_topics
            .entry(chain.region.clone())
            .or_insert_with(|| chain.topic_arn.clone());
    }

    let mut controls = Vec::new();
    for (control, mut evaluation) in catalog.controls.iter().zip(evaluations) {
        if evaluation.status == Status::NonCompliant {
            let extra = planner.plan_control(
                control,
                &targets,
                evaluation.partial,
                evaluation.candidate_topic.as_deref(),
            );
            evaluation.findings.extend(extra);
        }
        controls.push(ControlReport {
            id: control.id.clone(),
            slug: control.slug.clone(),
            title: control.title.clone(),
            level: control.level,
            status: evaluation.status,
            findings: evaluation.findings,
            chain: evaluation.chain,
        });
    }

    let mut actions = planner.actions;
    // What could not be read may hold what the plan would create: decide nothing on it.
    if !snapshot.unreadable.is_empty() {
        let denied: Vec<String> = snapshot
            .unreadable
            .iter()
            .map(ToString::to_string)
            .collect();
        for control in controls
            .iter_mut()
            .filter(|c| c.status != Status::Compliant)
        {
            control.status = Status::NotAuditable;
            control.findings = vec![finding(
                "not_auditable",
                format!(
                    "cannot be audited: AWS denied {}; grant these read permissions (examples/iam-plan.json lists all that plan needs) and run again",
                    denied.join(", ")
                ),
            )];
        }
        actions.clear();
    }
    // Stable: within a kind, actions keep catalog order.
    actions.sort_by_key(|a| a.call.rank());
    let summary = Summary {
        compliant: controls
            .iter()
            .filter(|c| c.status == Status::Compliant)
            .count(),
        non_compliant: controls
            .iter()
            .filter(|c| c.status == Status::NonCompliant)
            .count(),
        blocked: controls
            .iter()
            .filter(|c| c.status == Status::Blocked)
            .count(),
        not_auditable: controls
            .iter()
            .filter(|c| c.status == Status::NotAuditable)
            .count(),
        to_create: actions.iter().filter(|a| a.mode == Mode::Create).count(),
        to_change: actions.iter().filter(|a| a.mode == Mode::Change).count(),
    };
    Plan {
        format_version: FORMAT_VERSION,
        account_id: snapshot.account_id.clone(),
        region: snapshot.region.clone(),
        benchmark: catalog.benchmark.clone(),
        trails: trail_reports,
        controls,
        actions,
        summary,
    }
}

fn evaluate<'a>(
    control: &Control,
    catalog: &Catalog,
    snapshot: &'a Snapshot,
    trail_reports: &[TrailReport],
    targets: &[Target<'a>],
    unqualified: &[Unqualified],
    parsed: &Parsed,
) -> Evaluation<'a> {
    let mut findings = Vec::new();
    if targets.is_empty() {
        if snapshot.trails.is_empty() {
            findings.push(finding(
                "no_trail",
                format!("no CloudTrail trail is visible from {}: create a multi-region trail that logs all management events to CloudWatch Logs (cis-fix does not create trails)", snapshot.region),
            ));
        } else {
            for t in trail_reports {
                findings.push(finding(
                    "trail_not_qualifying",
                    format!("trail `{}` {}", t.name, t.problems.join("; ")),
                ));
            }
            findings.push(finding(
                "no_qualifying_trail",
                "no trail is multi-region, logging, recording all management events and sending to a CloudWatch Logs log group in this account; fix a trail (cis-fix does not change trails), then run cis-fix again",
            ));
        }
        return Evaluation {
            status: Status::Blocked,
            findings,
            chain: None,
            partial: None,
            candidate_topic: None,
        };
    }

    let mut candidate_topic: Option<String> = None;
    // Stage of the best partial chain: 1 = covering filter, 2 = alarm on it, 3 = alarm acting.
    let mut best: Option<(u8, usize, &MetricFilter)> = None;
    let mut near_misses = Vec::new();
    for (index, target) in targets.iter().enumerate() {
        let region = &target.log_group.region;
        let on_group = target
            .region
            .metric_filters
            .iter()
            .filter(|f| f.log_group == target.log_group.name);
        let mut any = false;
        for filter in on_group {
            let relation = parsed.relation(region, filter, control);
            if !relation.is_some_and(Relation::satisfies) {
                // A filter that serves another control is that control's, not a near miss.
                let serves_another = catalog.controls.iter().any(|other| {
                    other.slug != control.slug
                        && parsed
                            .relation(region, filter, other)
                            .is_some_and(Relation::satisfies)
                });
                if serves_another && relation != Some(Relation::Weaker) {
                    continue;
                }
                if let Some(miss) = near_miss(filter, relation, control, parsed.get(region, filter))
                {
                    near_misses.push(miss);
                }
                continue;
            }
            any = true;
            let relation = relation.unwrap_or(Relation::Different);
            let alarms: Vec<AlarmCheck> = target
                .region
                .alarms
                .iter()
                .filter(|a| watches(a, filter))
                .map(|a| check_alarm(a, filter, target.region))
                .collect();
            if let Some(good) = alarms.iter().find(|a| a.is_good()) {
                let (topic, count) = good.delivering.first().copied().unwrap_or(("", 0));
                return Evaluation {
                    status: Status::Compliant,
                    findings: vec![],
                    chain: Some(Chain {
                        trail: target.trails.join(", "),
                        region: region.clone(),
                        log_group: target.log_group.name.clone(),
                        filter: filter.name.clone(),
                        relation,
                        alarm: good.alarm.name.clone(),
                        topic_arn: topic.to_string(),
                        confirmed_subscriptions: count,
                    }),
                    partial: None,
                    candidate_topic: None,
                };
            }
            if candidate_topic.is_none() {
                candidate_topic = alarms
                    .iter()
                    .flat_map(|a| a.delivering.iter())
                    .map(|(topic, _)| topic.to_string())
                    .next();
            }
            let stage = if alarms.iter().any(|a| a.alarm.actions_enabled) {
                3
            } else if alarms.is_empty() {
                1
            } else {
                2
            };
            if best.is_none_or(|(s, _, _)| stage > s) {
                best = Some((stage, index, filter));
            }
            if alarms.is_empty() {
                let mut message = format!(
                    "filter `{}` on log group `{}` matches the pattern ({}), but no alarm watches its metric {}/{}",
                    filter.name,
                    target.log_group.name,
                    relation_word(relation),
                    filter.metric_namespace,
                    filter.metric_name
                );
                let elsewhere: Vec<String> = target
                    .region
                    .alarms
                    .iter()
                    .filter(|a| a.metric_name.as_deref() == Some(filter.metric_name.as_str()))
                    .map(|a| {
                        format!(
                            "`{}` (namespace {})",
                            a.name,
                            a.namespace.as_deref().unwrap_or("none")
                        )
                    })
                    .collect();
                if !elsewhere.is_empty() {
                    message.push_str(&format!(
                        "; alarms on a metric of that name in another namespace do not count: {}",
                        elsewhere.join(", ")
                    ));
                }
                findings.push(finding("no_alarm", message));
            }
            for check in alarms {
                findings.extend(check.problems);
            }
        }
        if !any {
            findings.push(finding(
                "no_covering_filter",
                format!(
                    "no metric filter on log group `{}` (written by trail {}) matches the pattern",
                    target.log_group.name,
                    target
                        .trails
                        .iter()
                        .map(|t| format!("`{t}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ),
            ));
        }
    }
    findings.extend(near_misses);

    // A matching filter on a log group that no qualifying trail writes to does not count.
    for u in unqualified {
        let Some(region) = snapshot.region(&u.log_group.region) else {
            continue;
        };
        for filter in region
            .metric_filters
            .iter()
            .filter(|f| f.log_group == u.log_group.name)
        {
            if parsed
                .relation(&u.log_group.region, filter, control)
                .is_some_and(Relation::satisfies)
            {
                if candidate_topic.is_none() {
                    candidate_topic = region
                        .alarms
                        .iter()
                        .filter(|a| watches(a, filter))
                        .map(|a| check_alarm(a, filter, region))
                        .find(|check| check.is_good())
                        .and_then(|check| check.delivering.first().map(|(t, _)| t.to_string()));
                }
                findings.push(finding(
                    "filter_on_unqualified_log_group",
                    format!(
                        "filter `{}` on log group `{}` matches the pattern, but does not count: that log group is written by trail `{}`, which {}",
                        filter.name, u.log_group.name, u.trail, u.problems.join("; ")
                    ),
                ));
            }
        }
    }

    Evaluation {
        status: Status::NonCompliant,
        findings,
        chain: None,
        partial: best.map(|(_, index, filter)| (index, filter)),
        candidate_topic,
    }
}

fn relation_word(relation: Relation) -> &'static str {
    match relation {
        Relation::Equivalent => "equivalent",
        Relation::Covers => "covers it",
        Relation::Weaker => "weaker",
        Relation::Different => "different",
    }
}

/// A filter that nearly matches: provably weaker, or textually close. Shown with a diff.
fn near_miss(
    filter: &MetricFilter,
    relation: Option<Relation>,
    control: &Control,
    existing: Option<&Pattern>,
) -> Option<Finding> {
    let (old, new) = match existing {
        Some(p) => (diff_lines(p), diff_lines(&control.pattern)),
        None => (filter.pattern.clone(), control.pattern_text.clone()),
    };
    // Similar means most conditions in common: compared line by line, one condition a line.
    let ratio = similar::TextDiff::from_lines(old.as_str(), new.as_str()).ratio();
    let weaker = relation == Some(Relation::Weaker);
    if !weaker && ratio <= 0.5 {
        return None;
    }
    let what = if weaker {
        "is weaker than the control's pattern: it misses some of the events the control must catch"
    } else if existing.is_none() {
        "resembles the control's pattern but is not a JSON filter pattern cis-fix can read"
    } else {
        "resembles the control's pattern but matches different events"
    };
    let diff =
        similar::TextDiff::from_lines(format!("{old}\n").as_str(), format!("{new}\n").as_str())
            .iter_all_changes()
            .map(|change| {
                let sign = match change.tag() {
                    similar::ChangeTag::Delete => "-",
                    similar::ChangeTag::Insert => "+",
                    similar::ChangeTag::Equal => " ",
                };
                format!("{sign} {}", change.value().trim_end_matches('\n'))
            })
            .collect::<Vec<_>>();
    let diff = std::iter::once("  {".to_string())
        .chain(diff)
        .chain(std::iter::once("  }".to_string()))
        .collect::<Vec<_>>()
        .join("\n");
    Some(Finding {
        code: "near_miss_filter".into(),
        message: format!(
            "filter `{}` on log group `{}` {what}",
            filter.name, filter.log_group
        ),
        diff: Some(diff),
    })
}

/// A pattern laid out for a line diff: one `||` operand per line, and each `&&` operand of
/// it on a line of its own, so that a missing or extra condition shows as one line.
fn diff_lines(pattern: &Pattern) -> String {
    let mut lines = Vec::new();
    // The braces are on lines of their own and would make any two patterns look alike.
    for line in pattern
        .display_lines()
        .into_iter()
        .filter(|l| l != "{" && l != "}")
    {
        let mut parts = line.split(" && ");
        if let Some(first) = parts.next() {
            lines.push(first.to_string());
        }
        lines.extend(parts.map(|part| format!("   && {part}")));
    }
    lines.join("\n")
}

/// What a region's notification topic will be, once the plan is applied.
#[derive(Clone)]
struct TopicUse {
    arn: String,
    /// Why alarms on it will not notify anyone yet, if so.
    caveat: Option<Finding>,
}

struct Planner<'a> {
    account: &'a str,
    snapshot: &'a Snapshot,
    options: &'a Options,
    parsed: &'a Parsed,
    actions: Vec<Action>,
    /// Per region: the topic alarms will notify, or why there is none.
    topics: BTreeMap<String, Result<TopicUse, Finding>>,
    /// Per region: a topic that already delivers for a compliant control.
    reusable_topics: BTreeMap<String, String>,
}

impl Planner<'_> {
    fn push(
        &mut self,
        mode: Mode,
        control: Option<&Control>,
        region: &str,
        reason: String,
        call: Call,
    ) {
        self.actions.push(Action {
            mode,
            control: control.map(|c| c.id.clone()),
            region: region.to_string(),
            reason,
            call,
        });
    }

    /// Plans the missing links of one non-compliant control; returns findings about the plan.
    fn plan_control(
        &mut self,
        control: &Control,
        targets: &[Target],
        partial: Option<(usize, &MetricFilter)>,
        candidate_topic: Option<&str>,
    ) -> Vec<Finding> {
        let (target, existing_filter) = match partial {
            Some((index, filter)) => match targets.get(index) {
                Some(t) => (t, Some(filter)),
                None => return vec![],
            },
            None => match targets.first() {
                Some(t) => (t, None),
                None => return vec![],
            },
        };
        let region = target.log_group.region.clone();
        let topic = match (self.topic_for(&region), candidate_topic) {
            (Ok(topic), _) => topic,
            (Err(why), Some(arn))
                if why.code == "needs_subscriber"
                    && Arn::parse(arn).is_some_and(|a| a.region == region) =>
            {
                TopicUse {
                    arn: arn.to_string(),
                    caveat: None,
                }
            }
            (Err(why), _) => return vec![why],
        };
        let mut findings: Vec<Finding> = topic.caveat.iter().cloned().collect();

        // The filter: reuse a covering one, or create (or correct) cis-fix's own.
        let (filter_name, metric_name, metric_namespace, owned_filter) = match existing_filter {
            Some(f) => (
                f.name.clone(),
                f.metric_name.clone(),
                f.metric_namespace.clone(),
                ownership::owned_filter_slug(self.account, &region, &f.log_group, &f.name)
                    .is_some(),
            ),
            None => match self.plan_filter(control, target) {
                Ok(names) => names,
                Err(why) => {
                    findings.push(why);
                    return findings;
                }
            },
        };

        // The alarm: cis-fix's own for this control, created or corrected.
        let record = AlarmRecord {
            control: control.slug.clone(),
            filter: owned_filter.then(|| FilterRef {
                log_group: target.log_group.name.clone(),
                name: filter_name.clone(),
            }),
        };
        let data = target.region;
        let own_alarm = data
            .alarms
            .iter()
            .find(|a| ownership::own_alarm_record(a).is_some_and(|r| r.control == control.slug));
        let alarm_name = match own_alarm {
            Some(a) => a.name.clone(),
            None => {
                let free = ownership::alarm_names(self.account, &region, &control.slug)
                    .into_iter()
                    .find(|name| !data.alarms.iter().any(|a| &a.name == name));
                match free {
                    Some(name) => name,
                    None => {
                        findings.push(finding(
                            "alarm_name_taken",
                            format!("alarms named `cis-fix-{}…` exist but were not created by cis-fix; cis-fix will not overwrite them: rename or delete them", control.slug),
                        ));
                        return findings;
                    }
                }
            }
        };
        let call = Call::PutMetricAlarm {
            alarm_name: alarm_name.clone(),
            alarm_description: ownership::alarm_description(&control.id, &control.title, &record),
            metric_name: metric_name.clone(),
            namespace: metric_namespace.clone(),
            statistic: control.alarm.statistic.clone(),
            period: control.alarm.period,
            threshold: control.alarm.threshold,
            comparison_operator: control.alarm.comparison_operator.clone(),
            evaluation_periods: control.alarm.evaluation_periods,
            alarm_actions: vec![topic.arn.clone()],
            tags: ownership::alarm_tags(&control.slug),
        };
        match own_alarm {
            None => {
                let users: Vec<String> = data
                    .alarms
                    .iter()
                    .filter(|a| {
                        a.metric_name.as_deref() == Some(metric_name.as_str())
                            && a.namespace.as_deref() == Some(metric_namespace.as_str())
                    })
                    .map(|a| format!("`{}`", a.name))
                    .collect();
                let mut reason = format!(
                    "alarm on {metric_namespace}/{metric_name} notifying {}",
                    topic.arn
                );
                if !users.is_empty() {
                    reason.push_str(&format!(
                        "; the existing alarm {} stays as it is (cis-fix does not change what it did not create)",
                        users.join(", ")
                    ));
                }
                self.push(Mode::Create, Some(control), &region, reason, call);
            }
            Some(existing) => {
                let drift = alarm_drift(existing, &call);
                if !drift.is_empty() {
                    self.push(
                        Mode::Change,
                        Some(control),
                        &region,
                        format!("cis-fix's alarm differs: {}", drift.join(", ")),
                        call,
                    );
                }
            }
        }
        findings
    }

    /// Plans cis-fix's own filter for the control; returns (name, metric, namespace, owned).
    fn plan_filter(
        &mut self,
        control: &Control,
        target: &Target,
    ) -> Result<(String, String, String, bool), Finding> {
        let region = target.log_group.region.clone();
        let group = &target.log_group.name;
        let name = ownership::filter_name(self.account, &region, group, &control.slug);
        let data = target.region;
        let existing = data
            .metric_filters
            .iter()
            .find(|f| &f.log_group == group && f.name == name);
        // Keep clear of a metric that someone else's filter already publishes: an alarm on it
        // would fire for their events too, and our events would change their alarms.
        let foreign = |metric: &str| {
            data.metric_filters.iter().any(|f| {
                f.metric_name == metric
                    && f.metric_namespace == control.metric.namespace
                    && ownership::owned_filter_slug(self.account, &region, &f.log_group, &f.name)
                        .is_none()
            })
        };
        let metric_name = match existing {
            Some(f) if f.metric_namespace == control.metric.namespace => f.metric_name.clone(),
            _ if foreign(&control.metric.name) => format!("{}-cis-fix", control.metric.name),
            _ => control.metric.name.clone(),
        };
        let call = Call::PutMetricFilter {
            log_group_name: group.clone(),
            filter_name: name.clone(),
            filter_pattern: control.pattern_text.clone(),
            metric_name: metric_name.clone(),
            metric_namespace: control.metric.namespace.clone(),
            metric_value: control.metric.value.clone(),
        };
        match existing {
            None => {
                let count = data
                    .metric_filters
                    .iter()
                    .filter(|f| &f.log_group == group)
                    .count();
                if count >= FILTERS_PER_LOG_GROUP {
                    return Err(finding(
                        "log_group_filter_limit",
                        format!("log group `{group}` already has {count} metric filters, the CloudWatch Logs limit; remove unused filters so cis-fix can add one"),
                    ));
                }
                self.push(
                    Mode::Create,
                    Some(control),
                    &region,
                    format!(
                        "metric filter on log group `{group}` (trail {})",
                        target.trails.join(", ")
                    ),
                    call,
                );
            }
            Some(f) => {
                let same_pattern = self
                    .parsed
                    .get(&region, f)
                    .is_some_and(|p| pattern::compare(p, &control.pattern) == Relation::Equivalent);
                let same_metric = f.metric_name == metric_name
                    && f.metric_namespace == control.metric.namespace
                    && f.metric_value == control.metric.value;
                if !(same_pattern && same_metric) {
                    self.push(
                        Mode::Change,
                        Some(control),
                        &region,
                        "cis-fix's filter no longer matches the catalog".to_string(),
                        call,
                    );
                }
            }
        }
        Ok((name, metric_name, control.metric.namespace.clone(), true))
    }

    /// The topic alarms in `region` notify; plans its creation and subscriptions once.
    fn topic_for(&mut self, region: &str) -> Result<TopicUse, Finding> {
        if let Some(known) = self.topics.get(region) {
            return known.clone();
        }
        let resolved = self.resolve_topic(region);
        self.topics.insert(region.to_string(), resolved.clone());
        resolved
    }

    fn resolve_topic(&mut self, region: &str) -> Result<TopicUse, Finding> {
        let empty = RegionSnapshot::default();
        let data = self.snapshot.region(region).unwrap_or(&empty);
        let known = |arn: &str| data.topics.iter().find(|t| t.arn == arn);
        match &self.options.topic {
            TopicChoice::Arn(arn) => {
                let topic_region = Arn::parse(arn).map(|a| a.region).unwrap_or("");
                if topic_region != region {
                    return Err(finding(
                        "topic_in_other_region",
                        format!("--topic-arn {arn} is in region {topic_region}, but the alarms belong in {region} with the trail's log group; alarms can only notify topics in their own region"),
                    ));
                }
                if !known(arn).is_some_and(|t| t.exists) {
                    return Err(finding(
                        "topic_not_found",
                        format!("--topic-arn {arn} does not exist (or cannot be read); create it or pass another"),
                    ));
                }
                let (ok, pending) = confirmed(data, arn);
                let caveat = (ok == 0).then(|| finding(
                    "topic_not_subscribed",
                    format!("topic {arn} has no confirmed subscription{}: alarms on it notify no one until you subscribe an endpoint to it (cis-fix only subscribes endpoints to topics it creates)",
                        if pending > 0 { format!(" ({pending} pending confirmation)") } else { String::new() }),
                ));
                Ok(TopicUse {
                    arn: arn.clone(),
                    caveat,
                })
            }
            TopicChoice::Name(name) => {
                let arn = inventory::topic_arn(region, self.account, name);
                let topic = known(&arn).filter(|t| t.exists);
                if let Some(t) = topic {
                    if !ownership::is_managed(&t.tags) {
                        return Err(finding(
                            "topic_name_taken",
                            format!("a topic named `{name}` exists but was not created by cis-fix, which will not change it; pass --topic-arn {arn} to use it as it is, or --topic-name with another name"),
                        ));
                    }
                }
                let subscriptions: Vec<&Subscription> = data
                    .subscriptions
                    .iter()
                    .filter(|s| s.topic_arn == arn)
                    .collect();

                if self.options.notify.is_empty() {
                    if topic.is_some() && subscriptions.iter().any(|s| s.is_confirmed()) {
                        return Ok(TopicUse { arn, caveat: None });
                    }
                    if let Some(reused) = self.reusable_topics.get(region) {
                        return Ok(TopicUse {
                            arn: reused.clone(),
                            caveat: None,
                        });
                    }
                    if topic.is_some() && !subscriptions.is_empty() {
                        return Ok(TopicUse {
                            arn: arn.clone(),
                            caveat: Some(finding(
                                "subscription_pending",
                                format!("topic {arn}'s subscriptions are pending confirmation: confirm them (check the inbox or endpoint)"),
                            )),
                        });
                    }
                    return Err(finding(
                        "needs_subscriber",
                        "no topic with a confirmed subscription to notify: pass --notify PROTOCOL:ENDPOINT (e.g. --notify email:security@example.com) for cis-fix to create one, or --topic-arn ARN to use an existing topic",
                    ));
                }

                if topic.is_none() {
                    let endpoints = self
                        .options
                        .notify
                        .iter()
                        .map(|e| (e.protocol.as_str(), e.endpoint.as_str()));
                    let tags = ownership::topic_tags(endpoints);
                    self.push(
                        Mode::Create,
                        None,
                        region,
                        "SNS topic for the alarms' notifications".into(),
                        Call::CreateTopic {
                            topic_name: name.clone(),
                            topic_arn: arn.clone(),
                            tags,
                        },
                    );
                }
                let mut caveat = None;
                let mut any_confirmed = false;
                for e in &self.options.notify {
                    let existing = subscriptions
                        .iter()
                        .find(|s| s.protocol == e.protocol && s.endpoint == e.endpoint);
                    match existing {
                        Some(s) if s.is_confirmed() => any_confirmed = true,
                        Some(_) => {
                            caveat = Some(finding(
                                "subscription_pending",
                                format!("the {} subscription to {arn} is pending confirmation: confirm it (check the inbox or endpoint)", e.protocol),
                            ));
                        }
                        None => self.push(
                            Mode::Create,
                            None,
                            region,
                            "subscriber for the alarms' notifications".into(),
                            Call::Subscribe {
                                topic_arn: arn.clone(),
                                protocol: e.protocol.clone(),
                                endpoint: e.endpoint.clone(),
                            },
                        ),
                    }
                }
                if any_confirmed {
                    caveat = None;
                }
                Ok(TopicUse { arn, caveat })
            }
        }
    }
}

/// How cis-fix's existing alarm differs from what it should be.
fn alarm_drift(existing: &Alarm, desired: &Call) -> Vec<String> {
    let Call::PutMetricAlarm {
        metric_name,
        namespace,
        statistic,
        period,
        threshold,
        comparison_operator,
        evaluation_periods,
        alarm_actions,
        alarm_description,
        ..
    } = desired
    else {
        return vec![];
    };
    let mut drift = Vec::new();
    if existing.metric_name.as_ref() != Some(metric_name)
        || existing.namespace.as_ref() != Some(namespace)
    {
        drift.push(format!(
            "metric (now {}/{})",
            existing.namespace.as_deref().unwrap_or("-"),
            existing.metric_name.as_deref().unwrap_or("-")
        ));
    }
    if !existing.dimensions.is_empty() {
        drift.push("dimensions".into());
    }
    if !existing.actions_enabled {
        drift.push("actions disabled".into());
    }
    if existing.alarm_actions != *alarm_actions {
        drift.push("alarm actions".into());
    }
    if existing.statistic.as_ref() != Some(statistic)
        || existing.period != Some(*period)
        || existing.threshold != Some(*threshold)
        || existing.comparison_operator.as_ref() != Some(comparison_operator)
        || existing.evaluation_periods != Some(*evaluation_periods)
    {
        drift.push("alarm settings".into());
    }
    if existing.description.as_ref() != Some(alarm_description) {
        drift.push("description".into());
    }
    drift
}

#[cfg(test)]
pub(crate) mod tests;
