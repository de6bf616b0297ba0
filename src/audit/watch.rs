//! A control's watch path (its `watch_rule`): an EventBridge rule on CloudTrail's management
//! events that notifies `cis-fix-chain-watch`, a topic apart from the metric chain's, so that
//! what the control watches cannot silence it (docs/hardened.md, "A second path").
//!
//! Pure, like the rest of the audit: the snapshot's rules and topics in, one finding per gap
//! out. A control with a watch rule is compliant only when its metric chain is and this path
//! is whole in every region a chain of it lives in.

use crate::catalog::{Control, WatchRule};
use crate::inventory::{topic_arn, EventRule, RegionSnapshot};
use crate::ownership;
use crate::policy::{self, AccountIdentity, Verdict};

use super::code::Code;
use super::options::Options;
use super::plan::{finding, AfterApply, Call, Finding, Mode, RuleCall};
use super::topic::PENDING_PROTOCOLS;

/// EventBridge's service principal, which publishes to a rule's SNS target (EventBridge User
/// Guide, "Using resource-based policies for Amazon EventBridge", Amazon SNS permissions).
pub(crate) const EVENTS: &str = "events.amazonaws.com";

/// The rule states in which EventBridge matches CloudTrail's write events against the rule
/// (the second also matches read-only ones: "Receiving read-only management events").
const MATCHING: &[&str] = &["ENABLED", "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"];

/// Where a watch path is looked at: one region of one account.
pub(crate) struct Place<'a> {
    pub(crate) account: &'a str,
    pub(crate) region: &'a str,
    pub(crate) snapshot: &'a RegionSnapshot,
    /// The metric chain's topic, which the watch path must not share.
    pub(crate) chain_topic: Option<&'a str>,
}

/// What is missing of `control`'s watch path at `place`: nothing when it has no watch rule
/// or the path is whole.
pub(crate) fn gaps(control: &Control, place: &Place) -> Vec<Finding> {
    let Some(rule) = &control.watch_rule else {
        return Vec::new();
    };
    let name = ownership::watch_rule_name(&control.slug);
    let Some(found) = place.snapshot.rule(&name) else {
        return vec![finding(
            Code::WatchRuleMissing,
            format!(
                "no EventBridge rule {name} in {}: the control's own alarm is its only voice, and deleting what it watches (the log group, the filter, the alarm, the topic) silences it",
                place.region
            ),
        )];
    };
    if !is_own_rule(found) {
        return vec![finding(
            Code::WatchRuleNameTaken,
            format!(
                "an EventBridge rule named {name} exists in {} but was not created by cis-fix (it lacks cis-fix's tags), which will not change it; rename or delete it",
                place.region
            ),
        )];
    }
    let mut out = rule_gaps(rule, found);
    out.extend(target_gaps(found, place));
    out
}

/// A rule is cis-fix's when it bears the name cis-fix gives and its tags, read, carry the mark.
pub(crate) fn is_own_rule(rule: &EventRule) -> bool {
    rule.tags.as_ref().is_some_and(ownership::is_managed)
}

fn rule_gaps(rule: &WatchRule, found: &EventRule) -> Vec<Finding> {
    let mut out = Vec::new();
    if !MATCHING.contains(&found.state.as_str()) {
        out.push(finding(
            Code::WatchRuleDisabled,
            format!(
                "EventBridge rule {} is {}: it matches no event",
                found.name, found.state
            ),
        ));
    }
    let same = found
        .event_pattern
        .as_deref()
        .is_some_and(|p| rule.same_pattern(p));
    if !same {
        out.push(finding(
            Code::WatchRulePatternDiffers,
            format!(
                "EventBridge rule {}'s event pattern is not the catalog's: {} instead of {}",
                found.name,
                found.event_pattern.as_deref().unwrap_or("(none)"),
                rule.event_pattern,
            ),
        ));
    }
    out
}

/// The rule's target: `cis-fix-chain-watch` in the rule's region, existing and cis-fix's, apart
/// from the metric chain, with a confirmed subscriber, and a policy that lets EventBridge
/// publish for this rule.
fn target_gaps(found: &EventRule, place: &Place) -> Vec<Finding> {
    let arn = watch_topic_arn(place);
    if !found.targets.iter().any(|t| t.arn == arn) {
        return vec![finding(
            Code::WatchRuleNoTarget,
            format!("EventBridge rule {} does not notify {arn}", found.name),
        )];
    }
    if place.chain_topic == Some(arn.as_str()) {
        return vec![finding(
            Code::WatchTopicSharesChain,
            format!("{arn} is also the metric chain's topic: deleting it silences both paths"),
        )];
    }
    let Some(topic) = place.snapshot.topic(&arn).filter(|t| t.exists) else {
        return vec![finding(
            Code::WatchTopicNotFound,
            format!(
                "EventBridge rule {} notifies {arn}, which does not exist",
                found.name
            ),
        )];
    };
    if !ownership::is_managed(&topic.tags) {
        return vec![finding(
            Code::WatchTopicNameTaken,
            format!("topic {arn} exists but was not created by cis-fix, which will not change it"),
        )];
    }
    let mut out = Vec::new();
    let subscribed = place
        .snapshot
        .subscriptions
        .iter()
        .any(|s| s.topic_arn == arn && s.is_confirmed());
    if !subscribed {
        out.push(finding(
            Code::WatchTopicNotSubscribed,
            format!("{arn} has no confirmed subscription: --notify is needed"),
        ));
    }
    let policy = topic.delivery.as_ref().and_then(|d| d.policy.as_deref());
    out.extend(policy_gap(&arn, &found.arn, policy, place.account));
    out
}

/// Whether the topic policy lets EventBridge publish for this rule. No policy attribute is
/// SNS's default policy, whose statements name the owner account only: no service principal.
fn policy_gap(topic: &str, rule_arn: &str, policy: Option<&str>, account: &str) -> Option<Finding> {
    let blocks = |why: &str| {
        finding(
            Code::WatchTopicPolicyBlocks,
            format!("{topic}'s access policy {why}, so EventBridge cannot publish the rule's events to it; cis-fix's statement lets {EVENTS} publish with aws:SourceArn {rule_arn}"),
        )
    };
    let Some(policy) = policy else {
        return Some(blocks("is SNS's default, which names no service"));
    };
    let context = [("aws:SourceArn", rule_arn), ("aws:SourceAccount", account)];
    let partition = crate::inventory::Arn::parse(topic).map_or("aws", |a| a.partition);
    let request = policy::Request {
        service: EVENTS,
        account,
        partition,
        actions: &["SNS:Publish"],
        resource: topic,
        context: &context,
        account_identity: AccountIdentity::Unknown,
    };
    match policy::evaluate(policy, &request) {
        Ok(Verdict::Allowed) => None,
        Ok(Verdict::Denied { statement, .. }) => Some(blocks(&format!(
            "denies SNS:Publish to EventBridge in statement `{statement}`"
        ))),
        Ok(Verdict::NotAllowed { .. }) => Some(blocks("has no statement that lets EventBridge publish")),
        Ok(Verdict::Unverified { statement, reason }) => Some(finding(
            Code::WatchTopicDeliveryUnverified,
            format!("{topic}'s access policy statement `{statement}` decides whether EventBridge may publish, and cis-fix cannot evaluate it: {reason}"),
        )),
        Err(e) => Some(finding(
            Code::WatchTopicDeliveryUnverified,
            format!("{topic}'s access policy cannot be judged ({e})"),
        )),
    }
}

/// `cis-fix-chain-watch` in this place's region and account.
pub(crate) fn watch_topic_arn(place: &Place) -> String {
    topic_arn(place.region, place.account, ownership::WATCH_TOPIC_NAME)
}

/// The topic policy cis-fix gives `cis-fix-chain-watch`: EventBridge may publish for
/// `rule_arn` only (EventBridge User Guide, Amazon SNS permissions, with the aws:SourceArn
/// condition against confused deputies). No statement for the owner account: within the
/// account, IAM policies are enough to manage and publish to a topic, and a statement naming
/// only the account would leave cis-fix unable to prove who else may publish.
pub(crate) fn topic_policy(topic: &str, rule_arn: &str) -> String {
    serde_json::json!({
        "Version": "2012-10-17",
        "Statement": [
            {
                "Sid": "CisFixEventBridgePublish",
                "Effect": "Allow",
                "Principal": {"Service": EVENTS},
                "Action": "SNS:Publish",
                "Resource": topic,
                "Condition": {"ArnEquals": {"aws:SourceArn": rule_arn}}
            }
        ]
    })
    .to_string()
}

/// What the plan makes of one control's watch path in one place: the calls (mode, reason,
/// call), what the path will be once they are made, and why not compliant if so.
#[derive(Debug, Default)]
pub(crate) struct PathPlan {
    pub(crate) calls: Vec<(Mode, String, Call)>,
    /// `None`: nothing stands in the way (compliant once applied).
    pub(crate) after: Option<AfterApply>,
    pub(crate) why_not: Vec<Finding>,
}

impl PathPlan {
    fn stuck(mut self, why: Finding) -> PathPlan {
        self.after = Some(AfterApply::NonCompliant);
        self.why_not.push(why);
        self
    }
}

/// The calls that make `control`'s watch path whole at `place`, creating only what is missing
/// and changing only what is cis-fix's: the topic (with `--notify`), its subscribers, its
/// policy, the rule and its target. A rule or topic of cis-fix's name that is not cis-fix's,
/// or a watch topic that is the chain's, leaves the control non-compliant.
pub(crate) fn plan(control: &Control, place: &Place, options: &Options) -> PathPlan {
    let plan = PathPlan::default();
    let Some(rule) = &control.watch_rule else {
        return plan;
    };
    let topic_arn = watch_topic_arn(place);
    if place.chain_topic == Some(topic_arn.as_str()) {
        return plan.stuck(finding(
            Code::WatchTopicSharesChain,
            format!(
                "the watch path needs its own topic; pass --topic-name with another name than {}",
                ownership::WATCH_TOPIC_NAME
            ),
        ));
    }
    let name = ownership::watch_rule_name(&control.slug);
    let found = place.snapshot.rule(&name);
    if found.is_some_and(|r| !is_own_rule(r)) {
        // Its finding (watch_rule_name_taken) is the audit's already.
        return PathPlan {
            after: Some(AfterApply::NonCompliant),
            ..plan
        };
    }
    let topic = place.snapshot.topic(&topic_arn).filter(|t| t.exists);
    if topic.is_some_and(|t| !ownership::is_managed(&t.tags)) {
        return PathPlan {
            after: Some(AfterApply::NonCompliant),
            ..plan
        };
    }
    let rule_arn = rule_arn(place, &name);
    let mut plan = topic_calls(plan, place, options, &topic_arn, topic.is_some());
    let policy = topic
        .and_then(|t| t.delivery.as_ref())
        .and_then(|d| d.policy.as_deref());
    if topic.is_none() || policy_gap(&topic_arn, &rule_arn, policy, place.account).is_some() {
        plan.calls.push((
            Mode::Create,
            format!(
                "access policy of {}: EventBridge may publish for rule {name} only",
                ownership::WATCH_TOPIC_NAME
            ),
            Call::SetTopicPolicy {
                topic_arn: topic_arn.clone(),
                policy: topic_policy(&topic_arn, &rule_arn),
            },
        ));
    }
    let stale = found.is_some_and(|r| !rule_gaps(rule, r).is_empty());
    if found.is_none() || stale {
        let (mode, why) = match found {
            None => (Mode::Create, "EventBridge rule: a second path for"),
            Some(_) => (
                Mode::Change,
                "cis-fix's EventBridge rule, enabled again with the catalog's pattern, for",
            ),
        };
        plan.calls.push((
            mode,
            format!(
                "{why} {}'s notification that does not depend on its metric chain",
                control.id
            ),
            Call::PutRule(RuleCall {
                rule_name: name.clone(),
                rule_arn,
                event_pattern: rule.event_pattern_text.clone(),
                description: format!("cis-fix: {} watch path (docs/hardened.md)", control.id),
                tags: ownership::alarm_tags(&control.slug),
            }),
        ));
    }
    if !found.is_some_and(|r| {
        r.targets
            .iter()
            .any(|t| t.arn == topic_arn && t.role_arn.is_none())
    }) {
        plan.calls.push((
            Mode::Create,
            format!(
                "target of rule {name}: topic {}",
                ownership::WATCH_TOPIC_NAME
            ),
            Call::PutTargets {
                rule_name: name,
                target_id: WATCH_TARGET_ID.to_string(),
                target_arn: topic_arn,
            },
        ));
    }
    plan
}

/// The id cis-fix gives the watch rule's one target (`PutTargets` `Id`).
pub(crate) const WATCH_TARGET_ID: &str = "cis-fix-chain-watch";

/// The rule's ARN on the default bus (EventBridge ARN format `rule/NAME`).
fn rule_arn(place: &Place, name: &str) -> String {
    let topic = watch_topic_arn(place);
    let partition = crate::inventory::Arn::parse(&topic).map_or("aws", |a| a.partition);
    format!(
        "arn:{partition}:events:{}:{}:rule/{name}",
        place.region, place.account
    )
}

/// The watch topic, created with `--notify`, and each endpoint subscribed that is not yet:
/// the same endpoints as the chain's topic, tagged the same way, so backout knows them. No
/// `--topic-kms-key`: EventBridge could publish to an encrypted topic only with a key policy
/// cis-fix does not manage.
fn topic_calls(
    mut plan: PathPlan,
    place: &Place,
    options: &Options,
    arn: &str,
    exists: bool,
) -> PathPlan {
    let subscriptions: Vec<_> = place
        .snapshot
        .subscriptions
        .iter()
        .filter(|s| s.topic_arn == arn)
        .collect();
    let confirmed = subscriptions.iter().any(|s| s.is_confirmed());
    if options.notify.is_empty() {
        if !exists || !confirmed {
            return plan.stuck(finding(
                Code::WatchTopicNotSubscribed,
                format!("no one to notify through {}: pass --notify PROTOCOL:ENDPOINT for cis-fix to create and subscribe it", ownership::WATCH_TOPIC_NAME),
            ));
        }
        return plan;
    }
    if !exists {
        let endpoints = options
            .notify
            .iter()
            .map(|e| (e.protocol.as_str(), e.endpoint.as_str()));
        plan.calls.push((
            Mode::Create,
            "SNS topic for the watch rules' notifications, apart from the alarms'".into(),
            Call::CreateTopic {
                topic_name: ownership::WATCH_TOPIC_NAME.to_string(),
                topic_arn: arn.to_string(),
                tags: ownership::topic_tags(endpoints),
                kms_master_key_id: None,
            },
        ));
    }
    let mut instant = false;
    for e in &options.notify {
        let existing = subscriptions
            .iter()
            .find(|s| s.protocol == e.protocol && s.endpoint == e.endpoint);
        if existing.is_none() {
            instant |= !PENDING_PROTOCOLS.contains(&e.protocol.as_str());
            plan.calls.push((
                Mode::Create,
                "subscriber for the watch rules' notifications".into(),
                Call::Subscribe {
                    topic_arn: arn.to_string(),
                    protocol: e.protocol.clone(),
                    endpoint: e.endpoint.clone(),
                },
            ));
        }
    }
    if !confirmed && !instant {
        plan.after = Some(AfterApply::AwaitsConfirmation);
    }
    plan
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::inventory::{RuleTarget, Subscription, Topic, TopicDelivery};

    const ACCOUNT: &str = "123456789012";
    const REGION: &str = "us-east-1";
    const RULE_ARN: &str =
        "arn:aws:events:us-east-1:123456789012:rule/cis-fix-alarm-chain-tampering-watch";

    fn h13() -> Control {
        crate::catalog::load_builtin("hardened")
            .expect("loads")
            .select(&["H13".to_string()])
            .expect("H13")
            .controls
            .remove(0)
    }

    fn mark() -> BTreeMap<String, String> {
        BTreeMap::from([(ownership::TAG_MANAGED.to_string(), "true".to_string())])
    }

    /// A region where H13's watch path is whole.
    fn whole(control: &Control) -> RegionSnapshot {
        let topic = topic_arn(REGION, ACCOUNT, ownership::WATCH_TOPIC_NAME);
        let pattern = control
            .watch_rule
            .as_ref()
            .map(|r| r.event_pattern.to_string());
        RegionSnapshot {
            rules: vec![EventRule {
                name: ownership::watch_rule_name(&control.slug),
                arn: RULE_ARN.into(),
                state: "ENABLED".into(),
                event_pattern: pattern,
                tags: Some(mark()),
                targets: vec![RuleTarget {
                    id: "chain-watch".into(),
                    arn: topic.clone(),
                    role_arn: None,
                }],
            }],
            topics: vec![Topic {
                arn: topic.clone(),
                exists: true,
                tags: mark(),
                delivery: Some(TopicDelivery {
                    kms_master_key_id: None,
                    policy: Some(topic_policy(&topic, RULE_ARN)),
                }),
            }],
            subscriptions: vec![Subscription {
                arn: format!("{topic}:1"),
                topic_arn: topic,
                protocol: "sqs".into(),
                endpoint: "arn:aws:sqs:us-east-1:123456789012:q".into(),
            }],
            ..Default::default()
        }
    }

    fn codes(control: &Control, snapshot: &RegionSnapshot) -> Vec<Code> {
        let place = Place {
            account: ACCOUNT,
            region: REGION,
            snapshot,
            chain_topic: Some("arn:aws:sns:us-east-1:123456789012:cis-fix-alerts"),
        };
        gaps(control, &place).into_iter().map(|f| f.code).collect()
    }

    #[test]
    fn a_whole_path_has_no_gap_and_a_control_without_a_rule_has_none_to_check() {
        let control = h13();
        assert_eq!(codes(&control, &whole(&control)), []);
        let mut cis = control.clone();
        cis.watch_rule = None;
        assert_eq!(codes(&cis, &RegionSnapshot::default()), []);
    }

    #[test]
    fn each_gap_has_its_code() {
        let control = h13();
        let broken = |edit: fn(&mut RegionSnapshot)| {
            let mut s = whole(&control);
            edit(&mut s);
            codes(&control, &s)
        };
        assert_eq!(broken(|s| s.rules.clear()), [Code::WatchRuleMissing]);
        assert_eq!(
            broken(|s| s.rules[0].tags = Some(BTreeMap::new())),
            [Code::WatchRuleNameTaken]
        );
        assert_eq!(
            broken(|s| s.rules[0].tags = None),
            [Code::WatchRuleNameTaken]
        );
        assert_eq!(
            broken(|s| s.rules[0].state = "DISABLED".into()),
            [Code::WatchRuleDisabled]
        );
        assert_eq!(
            broken(|s| s.rules[0].event_pattern = Some(r#"{"source":["aws.sns"]}"#.into())),
            [Code::WatchRulePatternDiffers]
        );
        assert_eq!(
            broken(|s| s.rules[0].targets.clear()),
            [Code::WatchRuleNoTarget]
        );
        assert_eq!(broken(|s| s.topics.clear()), [Code::WatchTopicNotFound]);
        assert_eq!(
            broken(|s| s.topics[0].tags.clear()),
            [Code::WatchTopicNameTaken]
        );
        assert_eq!(
            broken(|s| s.subscriptions.clear()),
            [Code::WatchTopicNotSubscribed]
        );
        assert_eq!(
            broken(|s| s.subscriptions[0].arn = "PendingConfirmation".into()),
            [Code::WatchTopicNotSubscribed]
        );
        assert_eq!(
            broken(|s| s.topics[0].delivery = Some(TopicDelivery::default())),
            [Code::WatchTopicPolicyBlocks]
        );
    }

    #[test]
    fn the_pattern_is_compared_as_json_and_the_all_events_state_counts() {
        let control = h13();
        let mut s = whole(&control);
        let text = control
            .watch_rule
            .as_ref()
            .map(|r| r.event_pattern_text.clone());
        s.rules[0].event_pattern = text;
        s.rules[0].state = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS".into();
        assert_eq!(codes(&control, &s), []);
    }

    #[test]
    fn the_policy_lets_eventbridge_publish_for_this_rule_only() {
        let topic = topic_arn(REGION, ACCOUNT, ownership::WATCH_TOPIC_NAME);
        let policy = topic_policy(&topic, RULE_ARN);
        assert!(policy_gap(&topic, RULE_ARN, Some(&policy), ACCOUNT).is_none());
        let other = "arn:aws:events:us-east-1:123456789012:rule/someone-else";
        let gap = policy_gap(&topic, other, Some(&policy), ACCOUNT).map(|f| f.code);
        assert_eq!(gap, Some(Code::WatchTopicPolicyBlocks));
    }

    #[test]
    fn the_metric_chains_topic_is_not_a_second_path() {
        let control = h13();
        let s = whole(&control);
        let topic = topic_arn(REGION, ACCOUNT, ownership::WATCH_TOPIC_NAME);
        let place = Place {
            account: ACCOUNT,
            region: REGION,
            snapshot: &s,
            chain_topic: Some(&topic),
        };
        let codes: Vec<Code> = gaps(&control, &place).into_iter().map(|f| f.code).collect();
        assert_eq!(codes, [Code::WatchTopicSharesChain]);
    }
}
