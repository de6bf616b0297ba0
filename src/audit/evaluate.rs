//! Looking for a control's chain: which filters cover it, which alarms watch them, which
//! topics deliver, and what is missing when no chain is whole.

use std::cell::RefCell;
use std::collections::HashMap;

use super::accepted::{self, Judged};
use super::delivery::{self, Link};
use super::fields;
use super::firing::{self, Firing};
use super::near_miss::near_miss;
use super::plan::{finding, Chain, Code, Finding, Status, TrailReport};
use super::trails::{Target, Unqualified};
use super::witness;
use crate::catalog::Control;
use crate::inventory::{Alarm, Arn, MetricFilter, RegionSnapshot, Snapshot};
use crate::pattern::{self, Pattern, Relation};

type FilterKey = (String, String, String);

/// Existing filter patterns, parsed once, and their relation to each control, compared once.
pub(super) struct Parsed {
    patterns: HashMap<FilterKey, Option<Pattern>>,
    relations: RefCell<HashMap<(FilterKey, String), Option<Judged>>>,
}

fn key(region: &str, f: &MetricFilter) -> FilterKey {
    (region.to_string(), f.log_group.clone(), f.name.clone())
}

impl Parsed {
    pub(super) fn new(snapshot: &Snapshot) -> Self {
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

    pub(super) fn get(&self, region: &str, f: &MetricFilter) -> Option<&Pattern> {
        self.patterns.get(&key(region, f)).and_then(Option::as_ref)
    }

    /// How an existing filter relates to the control: the verdict over every pattern the
    /// control accepts ([`accepted::judge`]). `None` when the existing pattern is not a JSON
    /// pattern we parse.
    pub(super) fn relation(
        &self,
        region: &str,
        f: &MetricFilter,
        control: &Control,
    ) -> Option<Relation> {
        self.judged(region, f, control).map(|j| j.relation)
    }

    /// [`Parsed::relation`], and which of the control's patterns decided it.
    pub(super) fn judged(
        &self,
        region: &str,
        f: &MetricFilter,
        control: &Control,
    ) -> Option<Judged> {
        let memo_key = (key(region, f), control.slug.clone());
        if let Some(known) = self.relations.borrow().get(&memo_key) {
            return *known;
        }
        let judged = self
            .get(region, f)
            .map(|existing| accepted::judge(existing, control));
        self.relations.borrow_mut().insert(memo_key, judged);
        judged
    }
}

/// How far an alarm gets toward a working notification.
pub(super) struct AlarmCheck<'a> {
    pub(super) alarm: &'a Alarm,
    pub(super) problems: Vec<Finding>,
    /// SNS topics in the alarm's actions with at least one confirmed subscription, to which
    /// CloudWatch provably may publish.
    pub(super) delivering: Vec<(&'a str, usize)>,
    /// Topics with a confirmed subscription whose delivery link cannot be proven (nor
    /// disproven): only `cis-fix drill` can tell.
    pub(super) unproven: Vec<(&'a str, usize)>,
    /// Whether one matching event puts the alarm in ALARM (proven).
    pub(super) fires: bool,
}

pub(super) fn watches(alarm: &Alarm, filter: &MetricFilter) -> bool {
    alarm.metric_name.as_deref() == Some(filter.metric_name.as_str())
        && alarm.namespace.as_deref() == Some(filter.metric_namespace.as_str())
}

pub(super) fn confirmed(region: &RegionSnapshot, topic_arn: &str) -> (usize, usize) {
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

pub(super) fn check_alarm<'a>(
    alarm: &'a Alarm,
    filter: &MetricFilter,
    region: &'a RegionSnapshot,
    account: &str,
) -> AlarmCheck<'a> {
    let mut problems = Vec::new();
    let mut delivering = Vec::new();
    let mut unproven = Vec::new();
    let mut alarm_dims = alarm.dimensions.clone();
    let mut filter_dims = filter.dimensions.clone();
    alarm_dims.sort();
    filter_dims.sort();
    if !filter.emit_system_field_dimensions.is_empty() {
        problems.push(fields::system_dimensions(alarm, filter));
    } else if !filter_dims.is_empty() {
        problems.push(event_dimensions(alarm, filter, &alarm_dims, &filter_dims));
    } else if alarm_dims != filter_dims {
        problems.push(finding(
            Code::AlarmDimensionsMismatch,
            format!(
                "alarm `{}` watches {}/{} with dimensions [{}], but filter `{}` publishes it with [{}]: the alarm never sees the filter's data",
                alarm.name, filter.metric_namespace, filter.metric_name, alarm_dims.join(", "), filter.name, filter_dims.join(", ")
            ),
        ));
    }
    let fires = match firing::check(filter, alarm) {
        Firing::Fires => true,
        Firing::Never(why) | Firing::Unverified(why) => {
            problems.push(why);
            false
        }
    };
    if !alarm.actions_enabled {
        problems.push(finding(
            Code::AlarmActionsDisabled,
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
            Code::AlarmWithoutSnsAction,
            format!("alarm `{}` has no SNS topic in AlarmActions", alarm.name),
        ));
    }
    for topic in topics {
        let (ok, pending) = confirmed(region, topic);
        if ok > 0 {
            match delivery::check(region, account, topic, &alarm.arn) {
                Link::Proven => delivering.push((topic, ok)),
                Link::Broken(why) => problems.push(why),
                Link::Unproven(why) => {
                    problems.push(why);
                    unproven.push((topic, ok));
                }
            }
        } else if pending > 0 {
            problems.push(finding(
                Code::SubscriptionPending,
                format!("alarm `{}` notifies topic {topic}, whose {pending} subscription(s) are pending confirmation: confirm them (check the inbox or endpoint)", alarm.name),
            ));
        } else {
            problems.push(finding(
                Code::TopicNotSubscribed,
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
        unproven,
        fires,
    }
}

impl AlarmCheck<'_> {
    /// Good, but for a delivery link that cannot be proven either way.
    pub(super) fn is_whole_but_unproven(&self) -> bool {
        self.alarm.actions_enabled
            && self.fires
            && self.delivering.is_empty()
            && !self.unproven.is_empty()
            && !self.problems.iter().any(sees_no_series)
    }

    pub(super) fn is_good(&self) -> bool {
        self.alarm.actions_enabled
            && self.fires
            && !self.delivering.is_empty()
            && !self.problems.iter().any(sees_no_series)
    }
}

/// A filter with dimensions publishes one series per value its dimension fields take in the
/// events ("each different value found for a dimension is treated as a separate metric"),
/// and an alarm watches one series, so it sees one value at most (none without dimensions):
/// never every matching event. (cis-fix does not evaluate metric math.)
fn event_dimensions(
    alarm: &Alarm,
    filter: &MetricFilter,
    alarm_dims: &[String],
    filter_dims: &[String],
) -> Finding {
    let sees = if alarm_dims.is_empty() {
        "none of them".to_string()
    } else {
        format!("one of them ([{}], one value each)", alarm_dims.join(", "))
    };
    finding(
        Code::FilterEventDimensions,
        format!(
            "filter `{}` publishes {}/{} with dimensions [{}] taken from each event: one series per value, and alarm `{}` sees {sees}, so events with other values never reach it; remove the dimensions from the filter, or let cis-fix add its own filter",
            filter.name,
            filter.metric_namespace,
            filter.metric_name,
            filter_dims.join(", "),
            alarm.name
        ),
    )
}

/// A problem that keeps the alarm from seeing the filter's series at all (or all of them).
fn sees_no_series(problem: &Finding) -> bool {
    matches!(
        problem.code,
        Code::AlarmDimensionsMismatch | Code::FilterEventDimensions | Code::FilterSystemDimensions
    )
}

/// The result of looking for a control's chain, before planning.
pub(super) struct Evaluation<'a> {
    pub(super) status: Status,
    pub(super) findings: Vec<Finding>,
    pub(super) chain: Option<Chain>,
    /// The target (index) and satisfying filter the best partial chain runs through.
    pub(super) partial: Option<(usize, &'a MetricFilter)>,
    /// A delivering topic of an alarm on a covering filter whose chain fails elsewhere (the
    /// alarm is disabled, or the trail does not qualify): the user meant it for this control,
    /// so cis-fix's alarm may notify it.
    pub(super) candidate_topic: Option<String>,
    /// A chain that is whole but for the proof that its topic delivers.
    pub(super) delivery_unproven: Option<Chain>,
}

impl Evaluation<'_> {
    fn compliant(chain: Chain) -> Self {
        Evaluation {
            status: Status::Compliant,
            findings: vec![],
            chain: Some(chain),
            partial: None,
            candidate_topic: None,
            delivery_unproven: None,
        }
    }
}

/// Looks for the control's chain (the search, which finds data), then says what keeps it from
/// being whole (the findings, which word it: [`Gap::finding`]).
///
/// `benchmark` is every control of the benchmark, whatever the selection: a filter that
/// serves one of them is that control's, not a near miss of this one.
pub(super) fn evaluate<'a>(
    control: &Control,
    benchmark: &[Control],
    snapshot: &'a Snapshot,
    trail_reports: &[TrailReport],
    targets: &[Target<'a>],
    unqualified: &[Unqualified],
    parsed: &Parsed,
) -> Evaluation<'a> {
    if targets.is_empty() {
        return blocked(snapshot, trail_reports);
    }
    let look = Look {
        control,
        benchmark,
        snapshot,
        parsed,
    };
    let mut found = Found::default();
    for (index, target) in targets.iter().enumerate() {
        if let Some(chain) = found.target(&look, index, target) {
            return Evaluation::compliant(chain);
        }
    }
    // What the findings say, in order: each target's gaps, the near misses, then the covering
    // filters that do not count for their trail.
    let mut gaps = found.gaps;
    gaps.extend(found.near_misses.into_iter().map(Gap::Said));
    gaps.extend(
        look.unqualified_filters(unqualified)
            .map(|(unqualified, filter, _)| Gap::Unqualified {
                filter,
                unqualified,
            }),
    );
    Evaluation {
        status: Status::NonCompliant,
        findings: gaps.into_iter().map(|gap| gap.finding(control)).collect(),
        chain: None,
        partial: found.best.map(|(_, index, filter)| (index, filter)),
        candidate_topic: found
            .candidate_topic
            .or_else(|| look.unqualified_topic(unqualified)),
        delivery_unproven: found.delivery_unproven,
    }
}

/// No qualifying trail: the control is blocked, and the findings say why.
fn blocked<'a>(snapshot: &Snapshot, trail_reports: &[TrailReport]) -> Evaluation<'a> {
    let findings = if snapshot.trails.is_empty() {
        vec![finding(
            Code::NoTrail,
            format!("no CloudTrail trail is visible from {}: create a multi-region trail that logs all management events to CloudWatch Logs (cis-fix does not create trails)", snapshot.region),
        )]
    } else {
        trail_reports
            .iter()
            .map(|t| {
                finding(
                    Code::TrailNotQualifying,
                    format!("trail `{}` {}", t.name, t.problems.join("; ")),
                )
            })
            .chain(std::iter::once(finding(
                Code::NoQualifyingTrail,
                "no trail is multi-region, logging, recording all management events and sending to a CloudWatch Logs log group in this account; fix a trail (cis-fix does not change trails), then run cis-fix again",
            )))
            .collect()
    };
    Evaluation {
        status: Status::Blocked,
        findings,
        chain: None,
        partial: None,
        candidate_topic: None,
        delivery_unproven: None,
    }
}

/// What the search looks with.
struct Look<'s> {
    control: &'s Control,
    benchmark: &'s [Control],
    snapshot: &'s Snapshot,
    parsed: &'s Parsed,
}

/// What one filter on a target's log group is to the control.
enum Seen<'s> {
    /// Nothing to say: another control's filter, or one too far from this control's pattern.
    Nothing,
    NearMiss(Finding),
    /// It would cover the control, but does not count.
    Gap(Gap<'s>),
    /// It covers the control and counts: a chain may run through it.
    Covers(Judged),
}

impl<'s> Look<'s> {
    fn filter(&self, target: &'s Target<'_>, filter: &'s MetricFilter) -> Seen<'s> {
        let region = &target.log_group.region;
        let judged = self.parsed.judged(region, filter, self.control);
        let relation = judged.map(|j| j.relation);
        if !relation.is_some_and(Relation::satisfies) {
            return self.not_covering(region, filter, relation);
        }
        // AWS's own evaluator disagrees with the proof: the filter does not count.
        if let Some(event) = witness::refutation(self.snapshot, region, filter, self.control) {
            return Seen::Gap(Gap::Refuted {
                filter,
                log_group: &target.log_group.name,
                event,
            });
        }
        // It sees only some log sources, or a transformer's output: it proves nothing.
        if let Some(why) = fields::narrowed(filter, target.region) {
            return Seen::Gap(Gap::Said(why));
        }
        judged.map_or(Seen::Nothing, Seen::Covers)
    }

    fn not_covering(
        &self,
        region: &str,
        filter: &'s MetricFilter,
        relation: Option<Relation>,
    ) -> Seen<'s> {
        // Ambiguous for this control whatever else the filter serves: the user may have meant
        // it for this one too, and must hear why it does not count.
        if relation == Some(Relation::Unverified) {
            return match self.parsed.get(region, filter) {
                Some(existing) => Seen::Gap(Gap::Ambiguous { filter, existing }),
                None => Seen::Nothing,
            };
        }
        // A filter that serves another control is that control's, not a near miss.
        let serves_another = self.benchmark.iter().any(|other| {
            other.slug != self.control.slug
                && self
                    .parsed
                    .relation(region, filter, other)
                    .is_some_and(Relation::satisfies)
        });
        if serves_another && relation != Some(Relation::Weaker) {
            return Seen::Nothing;
        }
        near_miss(
            filter,
            relation,
            self.control,
            self.parsed.get(region, filter),
        )
        .map_or(Seen::Nothing, Seen::NearMiss)
    }

    /// The filters that cover the control on a log group no qualifying trail writes to (they
    /// do not count), with that log group's trail and region.
    fn unqualified_filters<'u>(
        &'u self,
        unqualified: &'u [Unqualified<'u>],
    ) -> impl Iterator<Item = (&'u Unqualified<'u>, &'s MetricFilter, &'s RegionSnapshot)> + 'u
    {
        unqualified.iter().flat_map(move |u| {
            let region = self.snapshot.region(&u.log_group.region);
            region
                .into_iter()
                .flat_map(|r| r.metric_filters.iter().map(move |f| (r, f)))
                .filter(move |(_, f)| {
                    f.log_group == u.log_group.name
                        && self
                            .parsed
                            .relation(&u.log_group.region, f, self.control)
                            .is_some_and(Relation::satisfies)
                })
                .map(move |(r, f)| (u, f, r))
        })
    }

    /// A topic that delivers for a good alarm on such a filter: the user meant it for this
    /// control, so cis-fix's alarm may notify it.
    fn unqualified_topic(&self, unqualified: &[Unqualified]) -> Option<String> {
        self.unqualified_filters(unqualified)
            .find_map(|(_, filter, region)| {
                region
                    .alarms
                    .iter()
                    .filter(|a| watches(a, filter))
                    .map(|a| check_alarm(a, filter, region, &self.snapshot.account_id))
                    .find(|check| check.is_good())
                    .and_then(|check| check.delivering.first().map(|(t, _)| t.to_string()))
            })
    }
}

/// What the search found on the targets' log groups, short of a whole chain.
#[derive(Default)]
struct Found<'s, 'a> {
    /// What keeps each target's chain from being whole, in the order the findings say it.
    gaps: Vec<Gap<'s>>,
    /// Filters close to the control's pattern: said after every target's gaps.
    near_misses: Vec<Finding>,
    /// The best partial chain, as (stage, target index, covering filter): stage 1 is a
    /// covering filter, 2 an alarm on it, 3 an alarm acting.
    best: Option<(u8, usize, &'a MetricFilter)>,
    /// A delivering topic of an alarm on a covering filter (see [`Evaluation`]).
    candidate_topic: Option<String>,
    delivery_unproven: Option<Chain>,
}

impl<'s, 'a: 's> Found<'s, 'a> {
    /// Looks at every filter on the target's log group; returns the chain as soon as one is
    /// whole.
    fn target(&mut self, look: &Look<'s>, index: usize, target: &'s Target<'a>) -> Option<Chain> {
        let on_group = target
            .region
            .metric_filters
            .iter()
            .filter(|f| f.log_group == target.log_group.name);
        let mut covered = false;
        for filter in on_group {
            match look.filter(target, filter) {
                Seen::Nothing => {}
                Seen::NearMiss(miss) => self.near_misses.push(miss),
                Seen::Gap(gap) => self.gaps.push(gap),
                Seen::Covers(judged) => {
                    covered = true;
                    let chain = self.covering(look, index, target, filter, judged);
                    if chain.is_some() {
                        return chain;
                    }
                }
            }
        }
        if !covered {
            self.gaps.push(Gap::Uncovered(target));
        }
        None
    }

    /// A covering filter: the chain through its first good alarm, or how far its alarms get.
    fn covering(
        &mut self,
        look: &Look<'s>,
        index: usize,
        target: &'s Target<'a>,
        filter: &'a MetricFilter,
        judged: Judged,
    ) -> Option<Chain> {
        let alarms: Vec<AlarmCheck> = target
            .region
            .alarms
            .iter()
            .filter(|a| watches(a, filter))
            .map(|a| check_alarm(a, filter, target.region, &look.snapshot.account_id))
            .collect();
        let chain_to = |check: &AlarmCheck, (topic, count): (&str, usize)| {
            let to = (check.alarm.name.as_str(), topic, count);
            chain_through(look.snapshot, target, filter, look.control, judged, to)
        };
        if let Some(good) = alarms.iter().find(|a| a.is_good()) {
            let delivering = good.delivering.first().copied().unwrap_or(("", 0));
            return Some(chain_to(good, delivering));
        }
        if self.delivery_unproven.is_none() {
            self.delivery_unproven = alarms
                .iter()
                .find(|a| a.is_whole_but_unproven())
                .and_then(|a| Some(chain_to(a, a.unproven.first().copied()?)));
        }
        if self.candidate_topic.is_none() {
            self.candidate_topic = alarms
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
        if self.best.is_none_or(|(s, _, _)| stage > s) {
            self.best = Some((stage, index, filter));
        }
        if alarms.is_empty() {
            // Alarms on a metric of that name in another namespace, which do not count.
            let elsewhere = target
                .region
                .alarms
                .iter()
                .filter(|a| a.metric_name.as_deref() == Some(filter.metric_name.as_str()))
                .collect();
            self.gaps.push(Gap::Unwatched {
                filter,
                log_group: &target.log_group.name,
                judged,
                elsewhere,
            });
        }
        let problems = alarms.into_iter().flat_map(|check| check.problems);
        self.gaps.extend(problems.map(Gap::Said));
        None
    }
}

/// What keeps a chain from being whole, as the search found it; [`Gap::finding`] says it.
enum Gap<'s> {
    /// A filter that covers the control under some readings only.
    Ambiguous {
        filter: &'s MetricFilter,
        existing: &'s Pattern,
    },
    /// A covering filter that AWS's logs:TestMetricFilter refutes with this event.
    Refuted {
        filter: &'s MetricFilter,
        log_group: &'s str,
        event: String,
    },
    /// A covering filter whose metric no alarm watches.
    Unwatched {
        filter: &'s MetricFilter,
        log_group: &'s str,
        judged: Judged,
        /// Alarms on a metric of that name in another namespace.
        elsewhere: Vec<&'s Alarm>,
    },
    /// A target's log group without a covering filter.
    Uncovered(&'s Target<'s>),
    /// A covering filter on a log group that no qualifying trail writes to.
    Unqualified {
        filter: &'s MetricFilter,
        unqualified: &'s Unqualified<'s>,
    },
    /// Worded where it was found: a filter that is narrowed, an alarm's problem, a near miss.
    Said(Finding),
}

impl Gap<'_> {
    fn finding(self, control: &Control) -> Finding {
        match self {
            Gap::Ambiguous { filter, existing } => ambiguous(filter, existing, control),
            Gap::Refuted { filter, log_group, event } => finding(
                Code::AwsTestRefutes,
                format!(
                    "filter `{}` on log group `{log_group}` seems to cover the pattern, but AWS's logs:TestMetricFilter says it does not match this event, which the control's pattern matches: {event}",
                    filter.name
                ),
            ),
            Gap::Unwatched {
                filter,
                log_group,
                judged,
                elsewhere,
            } => unwatched(control, filter, log_group, judged, &elsewhere),
            Gap::Uncovered(target) => finding(
                Code::NoCoveringFilter,
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
            ),
            Gap::Unqualified { filter, unqualified: u } => finding(
                Code::FilterOnUnqualifiedLogGroup,
                format!(
                    "filter `{}` on log group `{}` matches the pattern, but does not count: that log group is written by trail `{}`, which {}",
                    filter.name, u.log_group.name, u.trail, u.problems.join("; ")
                ),
            ),
            Gap::Said(finding) => finding,
        }
    }
}

/// A covering filter whose metric no alarm watches; alarms on a metric of that name in
/// another namespace are named, since they look like they should count.
fn unwatched(
    control: &Control,
    filter: &MetricFilter,
    log_group: &str,
    judged: Judged,
    elsewhere: &[&Alarm],
) -> Finding {
    let mut message = format!(
        "filter `{}` on log group `{log_group}` matches the pattern ({}), but no alarm watches its metric {}/{}",
        filter.name,
        relation_phrase(control, judged),
        filter.metric_namespace,
        filter.metric_name
    );
    if !elsewhere.is_empty() {
        let named: Vec<String> = elsewhere
            .iter()
            .map(|a| {
                format!(
                    "`{}` (namespace {})",
                    a.name,
                    a.namespace.as_deref().unwrap_or("none")
                )
            })
            .collect();
        message.push_str(&format!(
            "; alarms on a metric of that name in another namespace do not count: {}",
            named.join(", ")
        ));
    }
    finding(Code::NoAlarm, message)
}

/// The chain through `filter` on `target`'s log group to (alarm, topic, confirmed
/// subscriptions).
fn chain_through(
    snapshot: &Snapshot,
    target: &Target<'_>,
    filter: &MetricFilter,
    control: &Control,
    judged: Judged,
    (alarm, topic, confirmed): (&str, &str, usize),
) -> Chain {
    let region = &target.log_group.region;
    Chain {
        account_id: snapshot.account_id.clone(),
        trail: target.trails.join(", "),
        region: region.clone(),
        log_group: target.log_group.name.clone(),
        filter: filter.name.clone(),
        relation: judged.relation,
        alarm: alarm.to_string(),
        topic_arn: topic.to_string(),
        confirmed_subscriptions: confirmed,
        evidence: witness::evidence(snapshot, region, filter, control),
        alternative: accepted::chain_alternative(control, judged.decider).map(Box::new),
    }
}

/// How a satisfying filter relates to the control, for a message: `covers it`, or `covers the
/// benchmark's SSO-aware alternative for 4.2 (misses …)` when only an alternative decided.
fn relation_phrase(control: &Control, judged: Judged) -> String {
    match accepted::chain_alternative(control, judged.decider) {
        Some(alternative) => {
            accepted::through_alternative(judged.relation, &control.id, &alternative)
        }
        None => accepted::relation_word(judged.relation).to_string(),
    }
}

/// A filter that covers the control under some readings AWS's documentation leaves open, and
/// not under others: it does not count, and the finding names the terms that decide.
fn ambiguous(filter: &MetricFilter, existing: &Pattern, control: &Control) -> Finding {
    // The comparison with the accepted pattern that gave `unverified`.
    let (comparison, _) = accepted::judge_detailed(existing, control);
    let terms: Vec<String> = comparison
        .ambiguous
        .iter()
        .map(|a| format!("`{}`: {}", a.term, a.reason))
        .collect();
    let mut f = finding(
        Code::PatternAmbiguous,
        format!(
            "filter `{}` on log group `{}` covers the control's pattern under some readings of AWS's filter syntax and not under others, so it does not count: {}",
            filter.name,
            filter.log_group,
            if terms.is_empty() { "the readings disagree".to_string() } else { terms.join("; ") }
        ),
    );
    f.counterexample = comparison.counterexample;
    f
}
