//! Choosing the topic alarms notify: the user's (`--topic-arn`), cis-fix's own (created with
//! `--notify`), or one that already delivers for another control.

use std::collections::BTreeMap;

use super::delivery;
use super::evaluate::confirmed;
use super::options::{Options, TopicChoice};
use super::plan::{finding, Action, Call, Chain, Finding, Mode, TopicReuse};
use super::planner::{Planner, TopicUse};
use crate::inventory::{self, Arn, RegionSnapshot, Snapshot, Subscription};
use crate::ownership;

/// Per region, the topic a control without one may notify: the topic that already delivers
/// for the most controls, ties going to the one that delivers for the earliest control.
/// `chains` are the compliant chains of every control of the benchmark (selected or not),
/// as (control id, chain) in catalog order, so that the choice never depends on the
/// selection.
pub(super) fn reusable(chains: &[(&str, Chain)]) -> BTreeMap<String, TopicReuse> {
    // Per region, topics in the order of the first control they deliver for.
    let mut by_region: BTreeMap<String, Vec<TopicReuse>> = BTreeMap::new();
    for (id, chain) in chains {
        let topics = by_region.entry(chain.region.clone()).or_default();
        match topics.iter_mut().find(|t| t.topic_arn == chain.topic_arn) {
            Some(topic) => topic.delivers_for.push((*id).to_string()),
            None => topics.push(TopicReuse {
                topic_arn: chain.topic_arn.clone(),
                delivers_for: vec![(*id).to_string()],
            }),
        }
    }
    by_region
        .into_iter()
        .filter_map(|(region, topics)| {
            let mut best: Option<TopicReuse> = None;
            for topic in topics {
                if best
                    .as_ref()
                    .is_none_or(|b| topic.delivers_for.len() > b.delivers_for.len())
                {
                    best = Some(topic);
                }
            }
            best.map(|b| (region, b))
        })
        .collect()
}

/// The topic cis-fix did not create, and was not told to use, that the planned alarms would
/// notify: the first in plan order, with the controls it already delivers for.
pub(super) fn relied_on(
    snapshot: &Snapshot,
    options: &Options,
    actions: &[Action],
    chains: &[(&str, Chain)],
) -> Option<TopicReuse> {
    let created = |arn: &str| {
        actions
            .iter()
            .any(|a| matches!(&a.call, Call::CreateTopic { topic_arn, .. } if topic_arn == arn))
    };
    let chosen_by_user = |arn: &str| match &options.topic {
        TopicChoice::Arn(given) => given == arn,
        TopicChoice::Name(_) => false,
    };
    let cis_fixs = |region: &str, arn: &str| {
        let own_name = match &options.topic {
            TopicChoice::Name(name) => inventory::topic_arn(region, &snapshot.account_id, name),
            TopicChoice::Arn(_) => String::new(),
        };
        own_name == arn
            || snapshot
                .region(region)
                .and_then(|data| data.topic(arn))
                .is_some_and(|t| ownership::is_managed(&t.tags))
    };
    let topic_arn = actions.iter().find_map(|a| match &a.call {
        Call::PutMetricAlarm { alarm_actions, .. } => alarm_actions
            .iter()
            .find(|arn| !created(arn) && !chosen_by_user(arn) && !cis_fixs(&a.region, arn))
            .cloned(),
        _ => None,
    })?;
    let delivers_for = chains
        .iter()
        .filter(|(_, chain)| chain.topic_arn == topic_arn)
        .map(|(id, _)| (*id).to_string())
        .collect();
    Some(TopicReuse {
        topic_arn,
        delivers_for,
    })
}

/// Protocols whose subscriptions wait for their owner's confirmation.
const PENDING_PROTOCOLS: &[&str] = &["email", "email-json", "http", "https"];

impl Planner<'_> {
    /// The topic alarms in `region` notify; plans its creation and subscriptions once.
    pub(super) fn topic_for(&mut self, region: &str) -> Result<TopicUse, Finding> {
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
                    awaits_confirmation: false,
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
                        return Ok(TopicUse {
                            arn,
                            caveat: None,
                            awaits_confirmation: false,
                        });
                    }
                    if let Some(reused) = self.reusable_topics.get(region) {
                        return Ok(TopicUse {
                            arn: reused.clone(),
                            caveat: None,
                            awaits_confirmation: false,
                        });
                    }
                    if topic.is_some() && !subscriptions.is_empty() {
                        return Ok(TopicUse {
                            arn: arn.clone(),
                            caveat: Some(finding(
                                "subscription_pending",
                                format!("topic {arn}'s subscriptions are pending confirmation: confirm them (check the inbox or endpoint)"),
                            )),
                            awaits_confirmation: false,
                        });
                    }
                    return Err(finding(
                        "needs_subscriber",
                        "no topic with a confirmed subscription to notify: pass --notify PROTOCOL:ENDPOINT (e.g. --notify email:security@example.com) for cis-fix to create one, or --topic-arn ARN to use an existing topic",
                    ));
                }

                if let (None, Some(key)) = (topic, &self.options.topic_kms_key) {
                    // Refuse a key that would silently drop every alarm before planning the
                    // topic. (Each alarm is checked again by its own ARN when it is planned.)
                    let any_alarm = format!(
                        "arn:{}:cloudwatch:{region}:{}:alarm:cis-fix-*",
                        Arn::parse(&arn).map_or("aws", |a| a.partition),
                        self.account
                    );
                    if let Some(why) =
                        delivery::check_own_key(data, self.account, &arn, &any_alarm, key)
                    {
                        return Err(why);
                    }
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
                            kms_master_key_id: self.options.topic_kms_key.clone(),
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
                // Email and https subscriptions stay pending until their owner confirms them;
                // sqs, lambda and sms ones are confirmed at once.
                let instant = self
                    .options
                    .notify
                    .iter()
                    .any(|e| !PENDING_PROTOCOLS.contains(&e.protocol.as_str()));
                let awaits_confirmation = !any_confirmed && !instant;
                Ok(TopicUse {
                    arn,
                    caveat,
                    awaits_confirmation,
                })
            }
        }
    }
}
