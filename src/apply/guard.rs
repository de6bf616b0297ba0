//! The check right before each write: a fresh read of what the write names. A create's name
//! must still be free; whatever a write changes or deletes must still carry cis-fix's marks;
//! and every name must be one cis-fix gives. The same check runs on every write path (one
//! account or many, a fresh plan or a saved one, apply or backout), whatever a plan file says
//! about the action, so neither an edited plan nor a colleague who was quicker at the prompt
//! can make cis-fix write to what it did not create. What remains is the time between this
//! read and the write: one round trip.

use crate::audit::backout::{Removal, RemoveCall};
use crate::audit::{Action, AlarmCall, Call, Mode, RuleCall};
use crate::error::{Error, Result};
use crate::inventory::{aws, Alarm, EventRule, MetricFilter, Subscription, Topic};
use crate::ownership;
use crate::session::Session;

/// Who writes, and what is its own: the account, and the one topic name cis-fix creates.
#[derive(Debug, Clone, Copy)]
pub struct Guard<'a> {
    /// The account the writes go to (cis-fix's names carry a digest of it).
    pub account: &'a str,
    /// The name cis-fix creates its topic under (`--topic-name`); `None` with `--topic-arn`,
    /// when it creates and subscribes nothing.
    pub topic_name: Option<&'a str>,
    /// `backout --force`: delete cis-fix's topic even though others subscribed to it.
    pub force: bool,
}

/// What a write's target is now, as read right before the write.
#[derive(Debug, Clone, PartialEq)]
pub enum Now {
    /// The topic, and (for a delete that is not forced) every subscription to it.
    Topic(Topic, Vec<Subscription>),
    Filter(Option<MetricFilter>),
    /// The alarm of that name (its tags read when it claims to be cis-fix's).
    Alarm(Option<Box<Alarm>>),
    /// The EventBridge rule of that name (tags and targets read), if any.
    Rule(Option<Box<EventRule>>),
    /// Nothing needs reading: the name alone decides.
    NotRead,
}

/// Reads the target of `action` and refuses the write unless it is allowed.
pub async fn check_action(session: &Session, guard: &Guard<'_>, action: &Action) -> Result<()> {
    let now = read_action_target(session, guard, action).await?;
    judge_action(guard, action, &now).map_err(|why| Error::Refused {
        what: what_action(action),
        why,
    })
}

/// Reads the target of `removal` and refuses the delete unless it is allowed.
pub async fn check_removal(session: &Session, guard: &Guard<'_>, removal: &Removal) -> Result<()> {
    let now = read_removal_target(session, guard, removal).await?;
    judge_removal(guard, removal, &now).map_err(|why| Error::Refused {
        what: what_removal(removal),
        why,
    })
}

async fn read_action_target(session: &Session, guard: &Guard<'_>, action: &Action) -> Result<Now> {
    let region = action.region.as_str();
    Ok(match &action.call {
        Call::CreateTopic { topic_arn, .. } | Call::Subscribe { topic_arn, .. } => Now::Topic(
            aws::topic(session, region, topic_arn.clone()).await?,
            vec![],
        ),
        Call::PutMetricFilter(filter) => {
            let (group, name) = (&filter.log_group_name, &filter.filter_name);
            if !own_filter_name(guard, region, group, name) {
                return Ok(Now::NotRead);
            }
            Now::Filter(aws::metric_filter_named(session, region, group, name).await?)
        }
        Call::PutMetricAlarm(alarm) => Now::Alarm(
            aws::alarm_named(session, region, &alarm.alarm_name)
                .await?
                .map(Box::new),
        ),
        Call::PutRule(RuleCall { rule_name, .. }) | Call::PutTargets { rule_name, .. } => {
            read_rule(session, region, rule_name).await?
        }
        Call::SetTopicPolicy { topic_arn, .. } => Now::Topic(
            aws::topic(session, region, topic_arn.clone()).await?,
            vec![],
        ),
    })
}

async fn read_removal_target(
    session: &Session,
    guard: &Guard<'_>,
    removal: &Removal,
) -> Result<Now> {
    let region = removal.region.as_str();
    Ok(match &removal.call {
        RemoveCall::DeleteAlarm { alarm_name } => Now::Alarm(
            aws::alarm_named(session, region, alarm_name)
                .await?
                .map(Box::new),
        ),
        RemoveCall::DeleteMetricFilter { .. } => Now::NotRead,
        RemoveCall::DeleteRule { rule_name, .. } => read_rule(session, region, rule_name).await?,
        RemoveCall::Unsubscribe { topic_arn, .. } => Now::Topic(
            aws::topic(session, region, topic_arn.clone()).await?,
            vec![],
        ),
        RemoveCall::DeleteTopic { topic_arn } => {
            let topic = aws::topic(session, region, topic_arn.clone()).await?;
            let subscriptions = if topic.exists && !guard.force {
                aws::topic_subscriptions(session, region, topic_arn).await?
            } else {
                vec![]
            };
            Now::Topic(topic, subscriptions)
        }
    })
}

/// The watch rule of that name now; not read under a name cis-fix does not give (the judge
/// refuses it by name).
async fn read_rule(session: &Session, region: &str, rule_name: &str) -> Result<Now> {
    if ownership::watch_rule_slug(rule_name).is_none() {
        return Ok(Now::NotRead);
    }
    let rule = aws::rule_named(session, region, rule_name).await?;
    Ok(Now::Rule(rule.map(Box::new)))
}

/// Whether `action` may be made, given what its target is now; otherwise why not.
pub fn judge_action(
    guard: &Guard<'_>,
    action: &Action,
    now: &Now,
) -> std::result::Result<(), String> {
    let region = action.region.as_str();
    let creates = action.mode == Mode::Create;
    match (&action.call, now) {
        (Call::CreateTopic { topic_arn, .. }, Now::Topic(topic, _)) => {
            own_topic_name(guard, topic_arn)?;
            if topic.exists {
                return Err(format!("topic {topic_arn} exists now; someone created it since the plan was made, and cis-fix uses no topic it did not create"));
            }
            Ok(())
        }
        (Call::Subscribe { topic_arn, .. }, Now::Topic(topic, _)) => {
            let name = own_topic_name(guard, topic_arn)?;
            if !ownership::is_own_topic(topic, name) {
                return Err(format!("topic {topic_arn} is not cis-fix's (it does not exist or does not carry cis-fix's tags); cis-fix subscribes endpoints only to the topic it created"));
            }
            Ok(())
        }
        (Call::PutMetricFilter(filter), now) => {
            let (log_group_name, filter_name) = (&filter.log_group_name, &filter.filter_name);
            if !own_filter_name(guard, region, log_group_name, filter_name) {
                return Err(format!("`{filter_name}` is not a name cis-fix gives a metric filter on log group {log_group_name} in account {} and {region}", guard.account));
            }
            match (creates, now) {
                (true, Now::Filter(None)) | (false, Now::Filter(Some(_))) => Ok(()),
                (true, _) => Err(format!("a metric filter named {filter_name} exists on log group {log_group_name} now; it was created since the plan was made")),
                (false, _) => Err(format!("metric filter {filter_name} on log group {log_group_name} is gone since the plan was made")),
            }
        }
        (Call::PutMetricAlarm(alarm), Now::Alarm(existing)) => {
            let alarm_name = &alarm.alarm_name;
            let slug = own_alarm_call(guard, region, alarm)?;
            match (creates, existing) {
                (true, None) => Ok(()),
                (true, Some(_)) => Err(format!("an alarm named {alarm_name} exists now; someone created it since the plan was made")),
                (false, Some(alarm)) if owns_alarm(guard, region, alarm, &slug) => Ok(()),
                (false, Some(_)) => Err(format!("alarm {alarm_name} does not carry cis-fix's marks (a record in its description, and tags that agree)")),
                (false, None) => Err(format!("alarm {alarm_name} is gone since the plan was made")),
            }
        }
        (Call::PutRule(rule), now) => judge_put_rule(rule, creates, now),
        (
            Call::PutTargets {
                rule_name,
                target_arn,
                ..
            },
            now,
        ) => judge_put_targets(rule_name, target_arn, now),
        (Call::SetTopicPolicy { topic_arn, .. }, Now::Topic(topic, _)) => {
            if ownership::topic_name_of(topic_arn) != Some(ownership::WATCH_TOPIC_NAME)
                || !ownership::is_own_topic(topic, ownership::WATCH_TOPIC_NAME)
            {
                return Err(format!("topic {topic_arn} is not cis-fix's watch topic ({}, carrying cis-fix's tags); cis-fix sets the policy of no other", ownership::WATCH_TOPIC_NAME));
            }
            Ok(())
        }
        _ => Err("cis-fix could not read what it would write to".into()),
    }
}

/// A watch rule cis-fix would put: a name it gives, the tags it gives that control, and (to
/// change one) a rule that carries them now; to create one, a name still free.
fn judge_put_rule(rule: &RuleCall, creates: bool, now: &Now) -> std::result::Result<(), String> {
    let name = &rule.rule_name;
    let slug = ownership::watch_rule_slug(name);
    if slug.is_none_or(|slug| rule.tags != ownership::alarm_tags(slug)) {
        return Err(format!("`{name}` is not a watch rule cis-fix would put: its name and tags must be cis-fix's for one control"));
    }
    match (creates, now) {
        (true, Now::Rule(None)) => Ok(()),
        (true, _) => Err(format!("an EventBridge rule named {name} exists now; someone created it since the plan was made")),
        (false, Now::Rule(Some(found))) if crate::audit::is_own_rule(found) => Ok(()),
        (false, Now::Rule(Some(_))) => Err(format!("EventBridge rule {name} does not carry cis-fix's tags now")),
        (false, _) => Err(format!("EventBridge rule {name} is gone since the plan was made")),
    }
}

/// A target goes only on cis-fix's own watch rule, and only to cis-fix's watch topic.
fn judge_put_targets(
    rule_name: &str,
    target_arn: &str,
    now: &Now,
) -> std::result::Result<(), String> {
    if ownership::topic_name_of(target_arn) != Some(ownership::WATCH_TOPIC_NAME) {
        return Err(format!(
            "{target_arn} is not cis-fix's watch topic ({})",
            ownership::WATCH_TOPIC_NAME
        ));
    }
    match now {
        Now::Rule(Some(found)) if crate::audit::is_own_rule(found) => Ok(()),
        Now::Rule(Some(_)) => Err(format!(
            "EventBridge rule {rule_name} does not carry cis-fix's tags"
        )),
        _ => Err(format!(
            "EventBridge rule {rule_name} does not exist, or is not a name cis-fix gives"
        )),
    }
}

/// Whether `removal` may be made, given what its target is now; otherwise why not.
pub fn judge_removal(
    guard: &Guard<'_>,
    removal: &Removal,
    now: &Now,
) -> std::result::Result<(), String> {
    let region = removal.region.as_str();
    match (&removal.call, now) {
        // Already gone: nothing to delete.
        (RemoveCall::DeleteAlarm { .. }, Now::Alarm(None)) => Ok(()),
        (RemoveCall::DeleteAlarm { alarm_name }, Now::Alarm(Some(alarm))) => {
            match ownership::own_alarm_record(alarm, guard.account, region) {
                Some(_) => Ok(()),
                None => Err(format!("alarm {alarm_name} does not carry cis-fix's marks now")),
            }
        }
        (
            RemoveCall::DeleteMetricFilter {
                log_group_name,
                filter_name,
            },
            _,
        ) => match own_filter_name(guard, region, log_group_name, filter_name) {
            true => Ok(()),
            false => Err(format!("`{filter_name}` is not a name cis-fix gives a metric filter on log group {log_group_name}")),
        },
        (
            RemoveCall::Unsubscribe {
                topic_arn,
                protocol,
                endpoint,
                ..
            },
            Now::Topic(topic, _),
        ) => {
            let name = own_topic_name(guard, topic_arn)?;
            if ownership::is_own_topic(topic, name)
                && ownership::is_own_subscription(&topic.tags, protocol, endpoint)
            {
                Ok(())
            } else {
                Err(format!("that subscription to {topic_arn} is not one cis-fix made"))
            }
        }
        (
            RemoveCall::DeleteRule {
                rule_name,
                target_ids,
            },
            now,
        ) => judge_delete_rule(guard, rule_name, target_ids, now),
        (RemoveCall::DeleteTopic { .. }, Now::Topic(topic, _)) if !topic.exists => Ok(()),
        (RemoveCall::DeleteTopic { topic_arn }, Now::Topic(topic, subscriptions)) => {
            let name = own_topic_name(guard, topic_arn)?;
            if !ownership::is_own_topic(topic, name) {
                return Err(format!("topic {topic_arn} does not carry cis-fix's tags now"));
            }
            if guard.force {
                return Ok(());
            }
            let foreign = subscriptions
                .iter()
                .filter(|s| !ownership::is_own_subscription(&topic.tags, &s.protocol, &s.endpoint))
                .count();
            match foreign {
                0 => Ok(()),
                n => Err(format!("{n} subscription{} cis-fix did not make appeared on topic {topic_arn} since the backout was listed; pass --force to delete it anyway", if n == 1 { "" } else { "s" })),
            }
        }
        _ => Err("cis-fix could not read what it would delete".into()),
    }
}

/// A watch rule is deleted only under a name cis-fix gives, carrying its tags now, and (unless
/// forced) with no target beside those listed when the backout was planned.
fn judge_delete_rule(
    guard: &Guard<'_>,
    rule_name: &str,
    target_ids: &[String],
    now: &Now,
) -> std::result::Result<(), String> {
    match now {
        Now::Rule(None) => Ok(()),
        Now::Rule(Some(found)) if !crate::audit::is_own_rule(found) => Err(format!(
            "EventBridge rule {rule_name} does not carry cis-fix's tags now"
        )),
        Now::Rule(Some(found)) => {
            let added: Vec<&str> = found
                .targets
                .iter()
                .filter(|t| !target_ids.contains(&t.id))
                .map(|t| t.arn.as_str())
                .collect();
            match added.is_empty() || guard.force {
                true => Ok(()),
                false => Err(format!("target{} {} appeared on EventBridge rule {rule_name} since the backout was listed; pass --force to delete it anyway", if added.len() == 1 { "" } else { "s" }, added.join(", "))),
            }
        }
        _ => Err(format!(
            "`{rule_name}` is not a name cis-fix gives a watch rule"
        )),
    }
}

/// The topic name in `arn`, when it is the one cis-fix creates; otherwise why not.
fn own_topic_name<'a>(guard: &Guard<'a>, arn: &str) -> std::result::Result<&'a str, String> {
    // The watch path's topic is cis-fix's under a fixed name, whatever --topic-name says.
    if ownership::topic_name_of(arn) == Some(ownership::WATCH_TOPIC_NAME) {
        return Ok(ownership::WATCH_TOPIC_NAME);
    }
    match guard.topic_name {
        Some(name) if ownership::topic_name_of(arn) == Some(name) => Ok(name),
        Some(name) => Err(format!("{arn} is not cis-fix's topic: cis-fix creates its topic only as `{name}` (--topic-name)")),
        None => Err(format!("{arn} is not cis-fix's topic: with --topic-arn, cis-fix creates and subscribes nothing")),
    }
}

fn own_filter_name(guard: &Guard<'_>, region: &str, log_group: &str, name: &str) -> bool {
    ownership::owned_filter_slug(guard.account, region, log_group, name).is_some()
}

/// The control slug of an alarm cis-fix would put: its tags are cis-fix's for that control,
/// its description records the same control, and its name is one cis-fix gives it here.
fn own_alarm_call(
    guard: &Guard<'_>,
    region: &str,
    alarm: &AlarmCall,
) -> std::result::Result<String, String> {
    let AlarmCall {
        alarm_name,
        alarm_description,
        tags,
        ..
    } = alarm;
    let refused = || {
        format!("`{alarm_name}` is not an alarm cis-fix would put: its name, tags and description must all be cis-fix's for one control")
    };
    let slug = tags.get(ownership::TAG_CONTROL).ok_or_else(refused)?;
    let recorded = ownership::alarm_record(Some(alarm_description)).map(|r| r.control);
    let ok = *tags == ownership::alarm_tags(slug)
        && recorded.as_ref() == Some(slug)
        && ownership::alarm_names(guard.account, region, slug).contains(alarm_name);
    ok.then(|| slug.clone()).ok_or_else(refused)
}

fn owns_alarm(guard: &Guard<'_>, region: &str, alarm: &Alarm, slug: &str) -> bool {
    ownership::own_alarm_record(alarm, guard.account, region).is_some_and(|r| r.control == slug)
}

/// "create alarm X", for the refusal line.
fn what_action(action: &Action) -> String {
    let verb = match action.mode {
        Mode::Create => "create",
        Mode::Change => "change",
    };
    match &action.call {
        Call::CreateTopic { topic_name, .. } => format!("create topic {topic_name}"),
        Call::Subscribe { topic_arn, .. } => format!("subscribe an endpoint to {topic_arn}"),
        Call::PutMetricFilter(filter) => format!("{verb} metric filter {}", filter.filter_name),
        Call::PutMetricAlarm(alarm) => format!("{verb} alarm {}", alarm.alarm_name),
        Call::PutRule(rule) => format!("{verb} EventBridge rule {}", rule.rule_name),
        Call::PutTargets { rule_name, .. } => {
            format!("set the target of EventBridge rule {rule_name}")
        }
        Call::SetTopicPolicy { topic_arn, .. } => format!("set the access policy of {topic_arn}"),
    }
}

fn what_removal(removal: &Removal) -> String {
    match &removal.call {
        RemoveCall::DeleteAlarm { alarm_name } => format!("delete alarm {alarm_name}"),
        RemoveCall::DeleteMetricFilter { filter_name, .. } => {
            format!("delete metric filter {filter_name}")
        }
        RemoveCall::Unsubscribe { topic_arn, .. } => {
            format!("unsubscribe an endpoint from {topic_arn}")
        }
        RemoveCall::DeleteRule { rule_name, .. } => {
            format!("delete EventBridge rule {rule_name}")
        }
        RemoveCall::DeleteTopic { topic_arn } => format!("delete topic {topic_arn}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::tests::{alarm, subscription, topic_arn, ACCOUNT, GROUP, REGION};
    use crate::audit::FilterCall;
    use crate::ownership::{alarm_description, alarm_tags, filter_name, topic_tags, AlarmRecord};

    const GUARD: Guard<'static> = Guard {
        account: ACCOUNT,
        topic_name: Some("cis-fix-alerts"),
        force: false,
    };
    const SLUG: &str = "root-account-usage";

    fn action(mode: Mode, call: Call) -> Action {
        Action {
            mode,
            control: Some("4.3".into()),
            region: REGION.into(),
            reason: String::new(),
            changes: vec![],
            call,
        }
    }

    fn description() -> String {
        alarm_description(
            "4.3",
            "t",
            &AlarmRecord {
                control: SLUG.into(),
                filter: None,
            },
        )
    }

    fn put_alarm(mode: Mode, name: &str) -> Action {
        action(
            mode,
            Call::PutMetricAlarm(AlarmCall {
                alarm_name: name.into(),
                alarm_description: description(),
                metric_name: "RootAccountUsage".into(),
                namespace: "CISBenchmark".into(),
                statistic: "Sum".into(),
                period: 300,
                threshold: 1.0,
                comparison_operator: "GreaterThanOrEqualToThreshold".into(),
                evaluation_periods: 1,
                alarm_actions: vec![topic_arn("cis-fix-alerts")],
                tags: alarm_tags(SLUG),
            }),
        )
    }

    fn own_alarm(name: &str) -> Option<Box<Alarm>> {
        let mut a = alarm(name, "RootAccountUsage", None);
        a.description = Some(description());
        a.tags = Some(alarm_tags(SLUG));
        Some(Box::new(a))
    }

    fn topic(name: &str, tags: bool) -> Topic {
        Topic {
            arn: topic_arn(name),
            exists: true,
            tags: if tags {
                topic_tags([("email", "sec@example.com")])
            } else {
                Default::default()
            },
            delivery: None,
        }
    }

    fn judged(action: &Action, now: Now) -> std::result::Result<(), String> {
        judge_action(&GUARD, action, &now)
    }

    #[test]
    fn an_alarm_is_created_only_under_a_free_name_cis_fix_gives_it() {
        let readable = "cis-fix-root-account-usage";
        assert_eq!(
            judged(&put_alarm(Mode::Create, readable), Now::Alarm(None)),
            Ok(())
        );
        let taken = judged(
            &put_alarm(Mode::Create, readable),
            Now::Alarm(Some(Box::new(alarm(readable, "X", None)))),
        );
        assert!(taken.unwrap_err().contains("exists now"));
        // A plan file that points the create at a user's alarm name.
        let edited = judged(&put_alarm(Mode::Create, "team-root"), Now::Alarm(None));
        assert!(edited
            .unwrap_err()
            .contains("is not an alarm cis-fix would put"));
        // Tags for another control than the description records.
        let mut mixed = put_alarm(Mode::Create, readable);
        if let Call::PutMetricAlarm(AlarmCall { tags, .. }) = &mut mixed.call {
            *tags = alarm_tags("unauthorized-api-calls");
        }
        assert!(judged(&mixed, Now::Alarm(None)).is_err());
    }

    #[test]
    fn an_alarm_is_changed_only_when_its_marks_are_cis_fixs_now() {
        let name = "cis-fix-root-account-usage";
        assert_eq!(
            judged(&put_alarm(Mode::Change, name), Now::Alarm(own_alarm(name))),
            Ok(())
        );
        for tags in [None, Some(Default::default())] {
            let mut forged = own_alarm(name).unwrap();
            forged.tags = tags;
            let refused = judged(&put_alarm(Mode::Change, name), Now::Alarm(Some(forged)));
            assert!(refused
                .unwrap_err()
                .contains("does not carry cis-fix's marks"));
        }
        assert!(judged(&put_alarm(Mode::Change, name), Now::Alarm(None))
            .unwrap_err()
            .contains("is gone"));
    }

    #[test]
    fn filters_topics_and_subscriptions_are_cis_fixs_by_name_and_mark() {
        let own = filter_name(ACCOUNT, REGION, GROUP, SLUG);
        let put = |mode, name: &str| {
            action(
                mode,
                Call::PutMetricFilter(FilterCall {
                    log_group_name: GROUP.into(),
                    filter_name: name.into(),
                    filter_pattern: "{ $.a = 1 }".into(),
                    metric_name: "M".into(),
                    metric_namespace: "CISBenchmark".into(),
                    metric_value: "1".into(),
                }),
            )
        };
        assert_eq!(judged(&put(Mode::Create, &own), Now::Filter(None)), Ok(()));
        assert!(judged(&put(Mode::Create, "team-filter"), Now::NotRead).is_err());
        let subscribe = |topic: &str| {
            action(
                Mode::Create,
                Call::Subscribe {
                    topic_arn: topic_arn(topic),
                    protocol: "https".into(),
                    endpoint: "https://example.com/hook".into(),
                },
            )
        };
        let own_topic = Now::Topic(topic("cis-fix-alerts", true), vec![]);
        assert_eq!(judged(&subscribe("cis-fix-alerts"), own_topic), Ok(()));
        // The team's topic, even with cis-fix's tags copied onto it.
        let team = Now::Topic(topic("team-pager", true), vec![]);
        assert!(judged(&subscribe("team-pager"), team).is_err());
        let untagged = Now::Topic(topic("cis-fix-alerts", false), vec![]);
        assert!(judged(&subscribe("cis-fix-alerts"), untagged).is_err());
        let create = action(
            Mode::Create,
            Call::CreateTopic {
                topic_name: "cis-fix-alerts".into(),
                topic_arn: topic_arn("cis-fix-alerts"),
                tags: topic_tags([]),
                kms_master_key_id: None,
            },
        );
        let taken = Now::Topic(topic("cis-fix-alerts", false), vec![]);
        assert!(judged(&create, taken).unwrap_err().contains("exists now"));
        let with_topic_arn = Guard {
            topic_name: None,
            ..GUARD
        };
        let mut free = topic("cis-fix-alerts", false);
        free.exists = false;
        assert!(judge_action(&with_topic_arn, &create, &Now::Topic(free, vec![])).is_err());
    }

    #[test]
    fn a_topic_is_deleted_only_without_others_subscribers_unless_forced() {
        let delete = Removal {
            control: None,
            region: REGION.into(),
            call: RemoveCall::DeleteTopic {
                topic_arn: topic_arn("cis-fix-alerts"),
            },
        };
        let now = |subscribers| Now::Topic(topic("cis-fix-alerts", true), subscribers);
        let own = subscription(
            &topic_arn("cis-fix-alerts"),
            "email",
            "sec@example.com",
            false,
        );
        let central = subscription(
            &topic_arn("cis-fix-alerts"),
            "sqs",
            "arn:aws:sqs:us-east-1:999999999999:central",
            true,
        );
        assert_eq!(
            judge_removal(&GUARD, &delete, &now(vec![own.clone()])),
            Ok(())
        );
        let refused = judge_removal(&GUARD, &delete, &now(vec![own, central.clone()]));
        assert!(refused.unwrap_err().contains("--force"));
        let forced = Guard {
            force: true,
            ..GUARD
        };
        assert_eq!(judge_removal(&forced, &delete, &now(vec![central])), Ok(()));
        let gone = Removal {
            call: RemoveCall::DeleteAlarm {
                alarm_name: "cis-fix-root-account-usage".into(),
            },
            ..delete
        };
        assert_eq!(judge_removal(&GUARD, &gone, &Now::Alarm(None)), Ok(()));
    }

    fn own_rule(slug: &str, targets: &[(&str, &str)]) -> Now {
        Now::Rule(Some(Box::new(EventRule {
            name: ownership::watch_rule_name(slug),
            arn: format!("arn:aws:events:{REGION}:{ACCOUNT}:rule/cis-fix-{slug}-watch"),
            state: "ENABLED".into(),
            event_pattern: None,
            tags: Some(alarm_tags(slug)),
            targets: targets
                .iter()
                .map(|(id, arn)| crate::inventory::RuleTarget {
                    id: id.to_string(),
                    arn: arn.to_string(),
                    role_arn: None,
                })
                .collect(),
        })))
    }

    fn put_rule(mode: Mode, name: &str, slug: &str) -> Action {
        action(
            mode,
            Call::PutRule(RuleCall {
                rule_name: name.into(),
                rule_arn: format!("arn:aws:events:{REGION}:{ACCOUNT}:rule/{name}"),
                event_pattern: "{}".into(),
                description: String::new(),
                tags: alarm_tags(slug),
            }),
        )
    }

    #[test]
    fn a_watch_rule_is_put_only_under_cis_fixs_name_and_tags() {
        let name = ownership::watch_rule_name(SLUG);
        let create = put_rule(Mode::Create, &name, SLUG);
        assert_eq!(judged(&create, Now::Rule(None)), Ok(()));
        assert!(
            judged(&create, own_rule(SLUG, &[])).is_err(),
            "taken since the plan"
        );
        let change = put_rule(Mode::Change, &name, SLUG);
        assert_eq!(judged(&change, own_rule(SLUG, &[])), Ok(()));
        let mut untagged = own_rule(SLUG, &[]);
        if let Now::Rule(Some(rule)) = &mut untagged {
            rule.tags = Some(Default::default());
        }
        assert!(judged(&change, untagged).is_err());
        assert!(
            judged(&change, Now::Rule(None)).is_err(),
            "gone since the plan"
        );
        // Another control's tags, or a name cis-fix does not give.
        assert!(judged(&put_rule(Mode::Create, &name, "other"), Now::Rule(None)).is_err());
        assert!(judged(&put_rule(Mode::Create, "users-rule", SLUG), Now::Rule(None)).is_err());
    }

    #[test]
    fn a_target_and_a_topic_policy_go_only_to_the_watch_topic() {
        let name = ownership::watch_rule_name(SLUG);
        let targets = |arn: &str| {
            action(
                Mode::Create,
                Call::PutTargets {
                    rule_name: name.clone(),
                    target_id: "chain-watch".into(),
                    target_arn: arn.into(),
                },
            )
        };
        let watch = topic_arn(ownership::WATCH_TOPIC_NAME);
        assert_eq!(judged(&targets(&watch), own_rule(SLUG, &[])), Ok(()));
        assert!(judged(&targets(&topic_arn("pager")), own_rule(SLUG, &[])).is_err());
        assert!(judged(&targets(&watch), Now::Rule(None)).is_err());
        let policy = |arn: &str| {
            action(
                Mode::Create,
                Call::SetTopicPolicy {
                    topic_arn: arn.into(),
                    policy: "{}".into(),
                },
            )
        };
        let now = |name: &str, tags| Now::Topic(topic(name, tags), vec![]);
        let watch_policy = policy(&watch);
        assert_eq!(
            judged(&watch_policy, now(ownership::WATCH_TOPIC_NAME, true)),
            Ok(())
        );
        assert!(judged(&watch_policy, now(ownership::WATCH_TOPIC_NAME, false)).is_err());
        let alerts_policy = policy(&topic_arn("cis-fix-alerts"));
        assert!(judged(&alerts_policy, now("cis-fix-alerts", true)).is_err());
    }

    #[test]
    fn a_watch_rule_is_deleted_only_while_cis_fixs_with_the_targets_listed() {
        let name = ownership::watch_rule_name(SLUG);
        let delete = Removal {
            control: Some(SLUG.into()),
            region: REGION.into(),
            call: RemoveCall::DeleteRule {
                rule_name: name.clone(),
                target_ids: vec!["chain-watch".into()],
            },
        };
        let watch = topic_arn(ownership::WATCH_TOPIC_NAME);
        let listed = own_rule(SLUG, &[("chain-watch", &watch)]);
        assert_eq!(judge_removal(&GUARD, &delete, &listed), Ok(()));
        assert_eq!(judge_removal(&GUARD, &delete, &Now::Rule(None)), Ok(()));
        let added = own_rule(
            SLUG,
            &[
                ("chain-watch", &watch),
                ("theirs", "arn:aws:sns:us-east-1:1:x"),
            ],
        );
        let refused = judge_removal(&GUARD, &delete, &added).unwrap_err();
        assert!(
            refused.contains("arn:aws:sns:us-east-1:1:x") && refused.contains("--force"),
            "{refused}"
        );
        let forced = Guard {
            force: true,
            ..GUARD
        };
        assert_eq!(judge_removal(&forced, &delete, &added), Ok(()));
        let mut untagged = listed.clone();
        if let Now::Rule(Some(rule)) = &mut untagged {
            rule.tags = None;
        }
        assert!(
            judge_removal(&forced, &delete, &untagged).is_err(),
            "even forced"
        );
        assert!(judge_removal(&GUARD, &delete, &Now::NotRead).is_err());
    }
}
