//! Planning the missing links of a non-compliant control: cis-fix's own filter and alarm,
//! reusing what exists, and changing only what cis-fix created.

use std::collections::BTreeMap;

use super::delivery::{self, Link};
use super::evaluate::Parsed;
use super::firing::{self, Firing};
use super::options::Options;
use super::plan::{
    finding, Action, AfterApply, AlarmCall, Call, Change, Code, FilterCall, Finding, InputError,
    Mode, TopicReuse,
};
use super::trails::Target;
use crate::catalog::Control;
use crate::inventory::{Alarm, Arn, MetricFilter, RegionSnapshot, Snapshot};
use crate::ownership::{self, AlarmRecord, FilterRef};
use crate::pattern::{self, Relation};

/// CloudWatch Logs allows this many metric filters per log group.
const FILTERS_PER_LOG_GROUP: usize = 100;

/// Ends the metric name of cis-fix's filter when another filter already publishes the
/// control's metric: an alarm on a shared metric would fire for the other filter's events
/// too, and cis-fix's events would reach the other filter's alarms.
const OWN_METRIC_SUFFIX: &str = "-cis-fix";

/// What a region's notification topic will be, once the plan is applied.
#[derive(Clone)]
pub(super) struct TopicUse {
    pub(super) arn: String,
    /// Why alarms on it will not notify anyone yet, if so.
    pub(super) caveat: Option<Finding>,
    /// Its only subscriptions will be new ones that wait for their owner's confirmation.
    pub(super) awaits_confirmation: bool,
}

pub(super) struct Planner<'a> {
    pub(super) account: &'a str,
    pub(super) snapshot: &'a Snapshot,
    pub(super) options: &'a Options,
    pub(super) parsed: &'a Parsed,
    pub(super) actions: Vec<Action>,
    /// Per region: the topic alarms will notify, or why there is none.
    pub(super) topics: BTreeMap<String, Result<TopicUse, Finding>>,
    /// Per region: a topic that already delivers for a compliant control.
    pub(super) reusable_topics: BTreeMap<String, String>,
    /// Options that name something missing or unusable.
    pub(super) input_errors: Vec<InputError>,
}

impl<'a> Planner<'a> {
    /// A planner that has planned nothing yet. `reusable` holds, per region, the topic that
    /// already delivers for a compliant control: it may serve the others too.
    pub(super) fn new(
        snapshot: &'a Snapshot,
        options: &'a Options,
        parsed: &'a Parsed,
        reusable: BTreeMap<String, TopicReuse>,
    ) -> Planner<'a> {
        Planner {
            account: &snapshot.account_id,
            snapshot,
            options,
            parsed,
            actions: Vec::new(),
            topics: BTreeMap::new(),
            reusable_topics: reusable
                .into_iter()
                .map(|(region, topic)| (region, topic.topic_arn))
                .collect(),
            input_errors: Vec::new(),
        }
    }
}

impl Planner<'_> {
    pub(super) fn push(
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
            changes: Vec::new(),
            call,
        });
    }

    /// A `~ change` of what cis-fix created: the reason says what differs (`what differs:
    /// threshold 5 → 1, …`), and `changes` lists the same attribute by attribute.
    fn push_change(
        &mut self,
        control: &Control,
        region: &str,
        what: &str,
        changes: Vec<Change>,
        call: Call,
    ) {
        let listed: Vec<String> = changes.iter().map(Change::summary).collect();
        self.actions.push(Action {
            mode: Mode::Change,
            control: Some(control.id.clone()),
            region: region.to_string(),
            reason: format!("{what} differs: {}", listed.join(", ")),
            changes,
            call,
        });
    }

    /// Plans the missing links of one non-compliant control; returns findings about the plan,
    /// and what the control will be once it is applied.
    pub(super) fn plan_control(
        &mut self,
        control: &Control,
        targets: &[Target],
        partial: Option<(usize, &MetricFilter)>,
        candidate_topic: Option<&str>,
    ) -> (Vec<Finding>, AfterApply) {
        let mut findings = Vec::new();
        let after = match self.plan_links(control, targets, partial, candidate_topic, &mut findings)
        {
            Ok(after) => after,
            // A link cis-fix cannot plan: the control stays non-compliant, and why is said.
            Err(why) => {
                findings.extend(why);
                AfterApply::NonCompliant
            }
        };
        (findings, after)
    }

    /// The links in order: the topic, the alarm's name, the alarm's right to publish to the
    /// topic, the filter, the alarm. Each step adds what it has to say to `findings`; the
    /// first link that cannot be planned stops with why (when there is something to say).
    fn plan_links(
        &mut self,
        control: &Control,
        targets: &[Target],
        partial: Option<(usize, &MetricFilter)>,
        candidate_topic: Option<&str>,
        findings: &mut Vec<Finding>,
    ) -> Result<AfterApply, Option<Finding>> {
        let (target, existing_filter) = chain_target(targets, partial).ok_or(None)?;
        let region = target.log_group.region.as_str();
        let own_alarm = target.region.alarms.iter().find(|a| {
            ownership::own_alarm_record(a, self.account, region)
                .is_some_and(|r| r.control == control.slug)
        });
        let topic = self
            .alarm_topic(region, own_alarm, candidate_topic)
            .inspect_err(|why| self.input_error(why))?;
        findings.extend(topic.caveat.iter().cloned());
        // Named first, so that nothing is planned for a topic the alarm could not publish to.
        let alarm_name = self.alarm_name(control, target.region, region, own_alarm)?;
        self.publishes(region, &topic.arn, &alarm_name, findings)?;
        let filter = self.alarm_filter(control, target, existing_filter)?;
        self.plan_alarm(control, target, own_alarm, alarm_name, &filter, &topic.arn);
        Ok(after_apply(findings, &topic))
    }

    /// The name of cis-fix's own alarm for the control: the one it has, or the first of its
    /// names that no alarm has.
    fn alarm_name(
        &self,
        control: &Control,
        data: &RegionSnapshot,
        region: &str,
        own_alarm: Option<&Alarm>,
    ) -> Result<String, Finding> {
        if let Some(own) = own_alarm {
            return Ok(own.name.clone());
        }
        ownership::alarm_names(self.account, region, &control.slug)
            .into_iter()
            .find(|name| !data.alarms.iter().any(|a| &a.name == name))
            .ok_or_else(|| finding(
                Code::AlarmNameTaken,
                format!("alarms named `cis-fix-{}…` exist but were not created by cis-fix; cis-fix will not overwrite them: rename or delete them", control.slug),
            ))
    }

    /// The alarm must be able to publish to the topic it will notify. Not disproven, it is
    /// planned, and what is left to prove is said (`cis-fix drill`).
    fn publishes(
        &self,
        region: &str,
        topic_arn: &str,
        alarm_name: &str,
        findings: &mut Vec<Finding>,
    ) -> Result<(), Finding> {
        let alarm_arn = format!(
            "arn:{}:cloudwatch:{region}:{}:alarm:{alarm_name}",
            Arn::parse(topic_arn).map_or("aws", |a| a.partition),
            self.account
        );
        match self.delivery_to(region, topic_arn, &alarm_arn) {
            Link::Proven => Ok(()),
            Link::Broken(why) => Err(why),
            Link::Unproven(why) => {
                findings.push(why);
                Ok(())
            }
        }
    }

    /// The filter the alarm will watch: a covering one whose metric cis-fix's alarm can fire
    /// on, or cis-fix's own, created (or corrected, when it drifted). A user's filter that
    /// publishes 0 or `$.field` would leave cis-fix's alarm as unfireable as the user's.
    fn alarm_filter(
        &mut self,
        control: &Control,
        target: &Target,
        existing_filter: Option<&MetricFilter>,
    ) -> Result<FilterUse, Finding> {
        let region = target.log_group.region.as_str();
        let own_slug = |f: &MetricFilter| {
            ownership::owned_filter_slug(self.account, region, &f.log_group, &f.name)
                .map(|slug| slug.to_string())
        };
        // cis-fix's own filter for the control, where it exists, is corrected rather than
        // passed over: its drift is listed, and the alarm stays on it.
        let own_name =
            ownership::filter_name(self.account, region, &target.log_group.name, &control.slug);
        let own_exists = target
            .region
            .metric_filters
            .iter()
            .any(|f| f.log_group == target.log_group.name && f.name == own_name);
        // cis-fix's alarm has no dimensions: it sees nothing of a filter that publishes with
        // some, and nothing proves a filter that narrows or reshapes what it counts.
        let reusable = existing_filter.filter(|f| {
            !own_exists
                && f.dimensions.is_empty()
                && !f.uses_source_fields()
                && own_slug(f).is_none_or(|slug| slug != control.slug)
                && firing::check(f, &own_alarm_settings(control)) == Firing::Fires
        });
        match reusable {
            Some(f) => Ok(FilterUse {
                name: f.name.clone(),
                metric_name: f.metric_name.clone(),
                metric_namespace: f.metric_namespace.clone(),
                owned: own_slug(f).is_some(),
            }),
            None => self.plan_filter(control, target),
        }
    }

    /// Plans cis-fix's own alarm for the control, on `filter`'s metric, notifying `topic_arn`:
    /// created, or changed where the existing one drifted.
    fn plan_alarm(
        &mut self,
        control: &Control,
        target: &Target,
        own_alarm: Option<&Alarm>,
        alarm_name: String,
        filter: &FilterUse,
        topic_arn: &str,
    ) {
        let region = target.log_group.region.as_str();
        let call = alarm_call(control, alarm_name, filter, target, topic_arn);
        if let Some(existing) = own_alarm {
            let drift = alarm_drift(existing, &call);
            if !drift.is_empty() {
                self.push_change(
                    control,
                    region,
                    "cis-fix's alarm",
                    drift,
                    Call::PutMetricAlarm(call),
                );
            }
            return;
        }
        let (metric_name, namespace) = (&filter.metric_name, &filter.metric_namespace);
        let users: Vec<String> = target
            .region
            .alarms
            .iter()
            .filter(|a| {
                a.metric_name.as_deref() == Some(metric_name.as_str())
                    && a.namespace.as_deref() == Some(namespace.as_str())
            })
            .map(|a| format!("`{}`", a.name))
            .collect();
        let mut reason = format!("alarm on {namespace}/{metric_name} notifying {topic_arn}");
        if !users.is_empty() {
            reason.push_str(&format!(
                "; the existing alarm {} stays as it is (cis-fix does not change what it did not create)",
                users.join(", ")
            ));
        }
        self.push(
            Mode::Create,
            Some(control),
            region,
            reason,
            Call::PutMetricAlarm(call),
        );
    }

    /// The topic a control's alarm will notify: the one cis-fix's own alarm notifies now, unless
    /// the user chose another; else the region's (see [`Planner::topic_for`]); else, when no
    /// topic has a subscriber, the one a user's alarm on the control's filter notifies.
    fn alarm_topic(
        &mut self,
        region: &str,
        own_alarm: Option<&Alarm>,
        candidate_topic: Option<&str>,
    ) -> Result<TopicUse, Finding> {
        if let Some(kept) = self.kept_topic(region, own_alarm) {
            return Ok(kept);
        }
        match (self.topic_for(region), candidate_topic) {
            (Err(why), Some(arn))
                if why.code == Code::NeedsSubscriber
                    && Arn::parse(arn).is_some_and(|a| a.region == region) =>
            {
                Ok(TopicUse {
                    arn: arn.to_string(),
                    caveat: None,
                    awaits_confirmation: false,
                })
            }
            (topic, _) => topic,
        }
    }

    /// The topic cis-fix's own alarm for a control notifies now, kept when nothing asks where
    /// notifications go (no `--notify`, no `--topic-arn`): who gets paged never changes unasked,
    /// not even while cis-fix's topic waits for a confirmation or has lost its subscriber. Its
    /// state is said instead, with what would change it.
    fn kept_topic(&self, region: &str, own_alarm: Option<&Alarm>) -> Option<TopicUse> {
        if self.options.chooses_topic() {
            return None;
        }
        let arn = own_alarm?.alarm_actions.iter().find(|action| {
            Arn::parse(action).is_some_and(|a| a.service == "sns" && a.region == region)
        })?;
        let data = self.snapshot.region(region)?;
        let (ok, pending) = super::evaluate::confirmed(data, arn);
        let name = ownership::topic_name_of(arn).unwrap_or(arn);
        let caveat = match (ok, pending) {
            (0, 0) => Some(finding(
                Code::TopicNotSubscribed,
                format!("cis-fix's alarms notify topic {arn}, which has no subscription (any more): cis-fix keeps them on it; pass --notify PROTOCOL:ENDPOINT to subscribe one to it, or --topic-arn ARN to move them to another topic"),
            )),
            (0, _) => Some(finding(
                Code::SubscriptionPending,
                format!("cis-fix's alarms notify topic {name}, whose subscription is pending confirmation: confirm it (check the inbox or endpoint); cis-fix keeps the alarms on it (pass --topic-arn ARN to move them)"),
            )),
            _ => None,
        };
        Some(TopicUse {
            arn: arn.clone(),
            caveat,
            awaits_confirmation: false,
        })
    }

    /// Whether an alarm named `alarm_arn` will be able to publish to `topic_arn` once the plan
    /// is applied: for a topic that exists, as the audit judges it; for the topic cis-fix will
    /// create, by the key it is created with (its policy is AWS's default, which allows it).
    fn delivery_to(&self, region: &str, topic_arn: &str, alarm_arn: &str) -> Link {
        let empty = RegionSnapshot::default();
        let data = self.snapshot.region(region).unwrap_or(&empty);
        if data.topic(topic_arn).is_some_and(|t| t.exists) {
            return delivery::check(data, self.account, topic_arn, alarm_arn);
        }
        match &self.options.topic_kms_key {
            Some(key) => {
                match delivery::check_own_key(data, self.account, topic_arn, alarm_arn, key) {
                    None => Link::Proven,
                    Some(why) => Link::Broken(why),
                }
            }
            None => Link::Proven,
        }
    }

    /// Records an option that names something missing or unusable, once.
    fn input_error(&mut self, why: &Finding) {
        let option = match why.code {
            Code::TopicNotFound | Code::TopicInOtherRegion => "--topic-arn",
            Code::TopicNameTaken => "--topic-name",
            Code::TopicKeyDeniesCloudwatch if self.options.topic_kms_key.is_some() => {
                "--topic-kms-key"
            }
            _ => return,
        };
        if !self.input_errors.iter().any(|e| e.message == why.message) {
            self.input_errors.push(InputError {
                option: option.to_string(),
                message: why.message.clone(),
            });
        }
    }

    /// Plans cis-fix's own filter for the control.
    fn plan_filter(&mut self, control: &Control, target: &Target) -> Result<FilterUse, Finding> {
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
        let foreign = data.metric_filters.iter().find(|f| {
            f.metric_name == control.metric.name
                && f.metric_namespace == control.metric.namespace
                && ownership::owned_filter_slug(self.account, &region, &f.log_group, &f.name)
                    .is_none()
        });
        // Said on the action line, so that the suffix is never a mystery.
        let mut aside = None;
        let metric_name = match (existing, foreign) {
            (Some(f), _) if f.metric_namespace == control.metric.namespace => f.metric_name.clone(),
            (_, Some(theirs)) => {
                let ours = format!("{}{OWN_METRIC_SUFFIX}", control.metric.name);
                aside = Some(format!(
                    "; metric {ours}, not {}: the filter `{}` (not cis-fix's) publishes that one, and an alarm on it would fire for its events too",
                    control.metric.name, theirs.name
                ));
                ours
            }
            _ => control.metric.name.clone(),
        };
        let call = FilterCall {
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
                        Code::LogGroupFilterLimit,
                        format!("log group `{group}` already has {count} metric filters, the CloudWatch Logs limit; remove unused filters so cis-fix can add one"),
                    ));
                }
                self.push(
                    Mode::Create,
                    Some(control),
                    &region,
                    format!(
                        "metric filter on log group `{group}` (trail {}){}",
                        target.trails.join(", "),
                        aside.unwrap_or_default()
                    ),
                    Call::PutMetricFilter(call),
                );
            }
            Some(f) => {
                let same_pattern = self
                    .parsed
                    .get(&region, f)
                    .is_some_and(|p| pattern::compare(p, &control.pattern) == Relation::Equivalent);
                let drift = filter_drift(f, &call, same_pattern);
                if !drift.is_empty() {
                    self.push_change(
                        control,
                        &region,
                        "cis-fix's filter",
                        drift,
                        Call::PutMetricFilter(call),
                    );
                }
            }
        }
        Ok(FilterUse {
            name,
            metric_name,
            metric_namespace: control.metric.namespace.clone(),
            owned: true,
        })
    }
}

/// A filter an alarm of cis-fix's watches: its name and metric, and whether cis-fix owns it.
struct FilterUse {
    name: String,
    metric_name: String,
    metric_namespace: String,
    owned: bool,
}

/// The target the control's chain will run through: the best partial chain's, with its
/// covering filter, or else the first.
fn chain_target<'t, 'a>(
    targets: &'t [Target<'a>],
    partial: Option<(usize, &'a MetricFilter)>,
) -> Option<(&'t Target<'a>, Option<&'a MetricFilter>)> {
    match partial {
        Some((index, filter)) => targets.get(index).map(|t| (t, Some(filter))),
        None => targets.first().map(|t| (t, None)),
    }
}

/// cis-fix's alarm for the control, on `filter`'s metric, notifying `topic_arn`; its
/// description records the control, and the filter when cis-fix owns it.
fn alarm_call(
    control: &Control,
    alarm_name: String,
    filter: &FilterUse,
    target: &Target,
    topic_arn: &str,
) -> AlarmCall {
    let record = AlarmRecord {
        control: control.slug.clone(),
        filter: filter.owned.then(|| FilterRef {
            log_group: target.log_group.name.clone(),
            name: filter.name.clone(),
        }),
    };
    AlarmCall {
        alarm_name,
        alarm_description: ownership::alarm_description(&control.id, &control.title, &record),
        metric_name: filter.metric_name.clone(),
        namespace: filter.metric_namespace.clone(),
        statistic: control.alarm.statistic.clone(),
        period: control.alarm.period,
        threshold: control.alarm.threshold,
        comparison_operator: control.alarm.comparison_operator.clone(),
        evaluation_periods: control.alarm.evaluation_periods,
        alarm_actions: vec![topic_arn.to_string()],
        tags: ownership::alarm_tags(&control.slug),
    }
}

/// After the apply: whole, whole once someone confirms a subscription, or still missing a
/// subscriber or a proof of delivery that the apply cannot give.
fn after_apply(findings: &[Finding], topic: &TopicUse) -> AfterApply {
    if findings
        .iter()
        .any(|f| f.code == Code::TopicNotSubscribed || f.code == Code::TopicDeliveryUnverified)
    {
        AfterApply::NonCompliant
    } else if topic.awaits_confirmation
        || findings.iter().any(|f| f.code == Code::SubscriptionPending)
    {
        AfterApply::AwaitsConfirmation
    } else {
        AfterApply::Compliant
    }
}

/// The alarm cis-fix would put on a filter's metric, as far as firing depends on it.
fn own_alarm_settings(control: &Control) -> Alarm {
    let spec = &control.alarm;
    Alarm {
        name: format!("cis-fix-{}", control.slug),
        statistic: Some(spec.statistic.clone()),
        period: Some(spec.period),
        threshold: Some(spec.threshold),
        comparison_operator: Some(spec.comparison_operator.clone()),
        evaluation_periods: Some(spec.evaluation_periods),
        ..Alarm::default()
    }
}

/// `attribute: before → after` when the values differ; an absent value reads `(unset)`.
fn changed(attribute: &str, before: Option<String>, after: Option<String>) -> Option<Change> {
    (before != after).then(|| Change {
        attribute: attribute.to_string(),
        before: before.unwrap_or_else(|| UNSET.to_string()),
        after: after.unwrap_or_else(|| UNSET.to_string()),
    })
}

/// How a `~ change` shows a value that is not set.
const UNSET: &str = "(unset)";

fn shown<T: ToString>(value: Option<&T>) -> Option<String> {
    value.map(ToString::to_string)
}

/// How cis-fix's existing alarm differs from what it should be, attribute by attribute
/// (`threshold 5 → 1`). PutMetricAlarm replaces the whole alarm, so settings cis-fix does not
/// send (unit, extended statistic, datapoints to alarm) are reset too and listed.
fn alarm_drift(existing: &Alarm, desired: &AlarmCall) -> Vec<Change> {
    let AlarmCall {
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
    } = desired;
    let metric = |ns: Option<&String>, name: Option<&String>| {
        Some(format!(
            "{}/{}",
            ns.map_or("-", String::as_str),
            name.map_or("-", String::as_str)
        ))
    };
    [
        changed(
            "metric",
            metric(existing.namespace.as_ref(), existing.metric_name.as_ref()),
            metric(Some(namespace), Some(metric_name)),
        ),
        (!existing.dimensions.is_empty()).then(|| Change {
            attribute: "dimensions".into(),
            before: format!("[{}]", existing.dimensions.join(", ")),
            after: "[]".into(),
        }),
        (!existing.actions_enabled).then(|| Change {
            attribute: "actions_enabled".into(),
            before: "false".into(),
            after: "true".into(),
        }),
        changed(
            "alarm_actions",
            Some(existing.alarm_actions.join(", ")),
            Some(alarm_actions.join(", ")),
        ),
        changed(
            "statistic",
            existing
                .statistic
                .clone()
                .or_else(|| existing.extended_statistic.clone()),
            Some(statistic.clone()),
        ),
        changed(
            "period",
            shown(existing.period.as_ref()),
            Some(period.to_string()),
        ),
        changed(
            "threshold",
            shown(existing.threshold.as_ref()),
            Some(threshold.to_string()),
        ),
        changed(
            "comparison_operator",
            existing.comparison_operator.clone(),
            Some(comparison_operator.clone()),
        ),
        changed(
            "evaluation_periods",
            shown(existing.evaluation_periods.as_ref()),
            Some(evaluation_periods.to_string()),
        ),
        existing
            .datapoints_to_alarm
            .filter(|m| m != evaluation_periods)
            .and_then(|m| changed("datapoints_to_alarm", Some(m.to_string()), None)),
        existing
            .unit
            .as_ref()
            .and_then(|u| changed("unit", Some(u.clone()), None)),
        existing
            .treat_missing_data
            .as_ref()
            .filter(|t| t.as_str() != "missing")
            .and_then(|t| {
                changed(
                    "treat_missing_data",
                    Some(t.clone()),
                    Some("missing".into()),
                )
            }),
        description_drift(existing.description.as_deref(), alarm_description),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The description counts only by its record (the control's slug and cis-fix's filter): its
/// readable part names the control by the number of the benchmark version it was applied
/// under (`CIS 4.3: …`), which another version numbers differently (`5.3`), and that is no
/// reason to rewrite the alarm.
fn description_drift(existing: Option<&str>, desired: &str) -> Option<Change> {
    let same = ownership::alarm_record(existing).is_some()
        && ownership::alarm_record(existing) == ownership::alarm_record(Some(desired));
    (!same).then(|| Change {
        attribute: "description".into(),
        before: existing.unwrap_or(UNSET).to_string(),
        after: desired.to_string(),
    })
}

/// How cis-fix's existing filter differs from the catalog, attribute by attribute. A pattern
/// that differs only in layout (the same by meaning) is not a change.
fn filter_drift(existing: &MetricFilter, desired: &FilterCall, same_pattern: bool) -> Vec<Change> {
    let FilterCall {
        filter_pattern,
        metric_name,
        metric_namespace,
        metric_value,
        ..
    } = desired;
    [
        (!same_pattern).then(|| Change {
            attribute: "filter_pattern".into(),
            before: existing.pattern.clone(),
            after: filter_pattern.clone(),
        }),
        changed(
            "metric_name",
            Some(existing.metric_name.clone()),
            Some(metric_name.clone()),
        ),
        changed(
            "namespace",
            Some(existing.metric_namespace.clone()),
            Some(metric_namespace.clone()),
        ),
        changed(
            "metric_value",
            Some(existing.metric_value.clone()),
            Some(metric_value.clone()),
        ),
        existing
            .default_value
            .and_then(|d| changed("default_value", Some(d.to_string()), None)),
        existing
            .unit
            .as_ref()
            .and_then(|u| changed("unit", Some(u.clone()), None)),
        // cis-fix's filters never set these (apply clears each one listed here).
        existing
            .field_selection_criteria
            .as_ref()
            .and_then(|c| changed("field_selection_criteria", Some(c.clone()), None)),
        (!existing.emit_system_field_dimensions.is_empty()).then(|| Change {
            attribute: "emit_system_field_dimensions".into(),
            before: existing.emit_system_field_dimensions.join(", "),
            after: UNSET.into(),
        }),
        existing
            .apply_on_transformed_logs
            .then(|| changed("apply_on_transformed_logs", Some("true".into()), None))
            .flatten(),
    ]
    .into_iter()
    .flatten()
    .collect()
}
