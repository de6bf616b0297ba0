//! Choosing the topic alarms notify: the user's (`--topic-arn`), cis-fix's own (created with
//! `--notify`), or one that already delivers for another control.

use std::collections::BTreeMap;

use super::delivery;
use super::evaluate::confirmed;
use super::options::{Options, TopicChoice};
use super::plan::{finding, Action, Call, Chain, Code, Finding, Mode, TopicReuse};
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
    // cis-fix's topic is the one it creates under `--topic-name`: tags on any other topic
    // may have been copied, and make it no less someone else's.
    let cis_fixs = |region: &str, arn: &str| match &options.topic {
        TopicChoice::Name(name) => inventory::topic_arn(region, &snapshot.account_id, name) == arn,
        TopicChoice::Arn(_) => false,
    };
    let topic_arn = actions.iter().find_map(|a| match &a.call {
        Call::PutMetricAlarm(alarm) => alarm
            .alarm_actions
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

/// `--topic-kms-key` sets the key only when cis-fix creates its topic: where cis-fix's topic
/// already exists unencrypted or under another key, the option would be silently ignored, so
/// it is an input error, whether or not this plan needs the topic (the user asked for the
/// key by name). Two references agree when they are the same text or resolve to the same key.
pub(super) fn check_topic_kms_key(
    options: &Options,
    snapshot: &Snapshot,
) -> Vec<super::plan::InputError> {
    let (TopicChoice::Name(name), Some(wanted)) = (&options.topic, &options.topic_kms_key) else {
        return vec![];
    };
    let resolved = |data: &RegionSnapshot, reference: &str| {
        data.key(reference)
            .and_then(|k| k.metadata.as_ref())
            .map(|m| m.arn.clone())
    };
    let mut errors = Vec::new();
    for (region, data) in &snapshot.regions {
        let arn = inventory::topic_arn(region, &snapshot.account_id, name);
        let Some(topic) = data
            .topic(&arn)
            .filter(|t| t.exists && ownership::is_managed(&t.tags))
        else {
            continue;
        };
        // Attributes not read (a denied read): the plan is not auditable anyway.
        let Some(delivery) = &topic.delivery else {
            continue;
        };
        let existing = delivery.kms_master_key_id.as_deref();
        let same = existing.is_some_and(|key| {
            key == wanted.as_str()
                || resolved(data, key).is_some_and(|a| Some(a) == resolved(data, wanted))
        });
        if same {
            continue;
        }
        let encrypted = match existing {
            Some(key) => format!("encrypted with {key}"),
            None => "not encrypted".to_string(),
        };
        errors.push(super::plan::InputError {
            option: "--topic-kms-key".into(),
            message: format!(
                "--topic-kms-key {wanted}: cis-fix's topic {name} ({arn}) already exists, {encrypted}; the key is set only when cis-fix creates its topic (run `cis-fix backout` first, or drop --topic-kms-key)"
            ),
        });
    }
    errors
}

/// Protocols whose subscriptions wait for their owner's confirmation.
pub(super) const PENDING_PROTOCOLS: &[&str] = &["email", "email-json", "http", "https"];

impl Planner<'_> {
    /// `--notify` is a request of its own: in a region where nothing was planned (every
    /// selected control compliant), it subscribes the endpoints to the topic the alarms notify
    /// when cis-fix created that topic, and is otherwise refused (an input error), never
    /// dropped without a word.
    pub(super) fn honour_notify(&mut self, controls: &[super::plan::ControlReport]) {
        let TopicChoice::Name(name) = &self.options.topic else {
            return;
        };
        if self.options.notify.is_empty() {
            return;
        }
        let mut by_region: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
        for chain in controls.iter().filter_map(|c| c.chain.as_ref()) {
            let topics = by_region.entry(chain.region.as_str()).or_default();
            if !topics.contains(&chain.topic_arn.as_str()) {
                topics.push(&chain.topic_arn);
            }
        }
        for (region, topics) in by_region {
            if self.topics.contains_key(region) {
                continue;
            }
            let own = inventory::topic_arn(region, self.account, name);
            if topics.contains(&own.as_str()) {
                // Plans the subscription of every endpoint not yet subscribed.
                let _ = self.topic_for(region);
                continue;
            }
            let shown: Vec<&str> = topics
                .iter()
                .map(|arn| ownership::topic_name_of(arn).unwrap_or(arn))
                .collect();
            self.input_errors.push(super::plan::InputError {
                option: "--notify".into(),
                message: format!(
                    "--notify: every selected control in {region} is compliant, and its alarms notify {}, which cis-fix did not create; cis-fix subscribes endpoints only to the topic it creates ({name}). Subscribe the endpoint to {} yourself, or drop --notify",
                    shown.join(", "),
                    if shown.len() == 1 { "it" } else { "them" }
                ),
            });
        }
    }

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
        match &self.options.topic {
            TopicChoice::Arn(arn) => given_topic(data, region, arn),
            TopicChoice::Name(name) => self.own_topic(data, region, name),
        }
    }

    /// cis-fix's own topic, `--topic-name`: reused as it is without `--notify`; with it,
    /// created if need be, and each endpoint subscribed that is not yet.
    fn own_topic(
        &mut self,
        data: &RegionSnapshot,
        region: &str,
        name: &str,
    ) -> Result<TopicUse, Finding> {
        let arn = inventory::topic_arn(region, self.account, name);
        let topic = data.topic(&arn).filter(|t| t.exists);
        if topic.is_some_and(|t| !ownership::is_managed(&t.tags)) {
            return Err(finding(
                Code::TopicNameTaken,
                format!("a topic named `{name}` exists but was not created by cis-fix, which will not change it; pass --topic-arn {arn} to use it as it is, or --topic-name with another name"),
            ));
        }
        let subscriptions: Vec<&Subscription> = data
            .subscriptions
            .iter()
            .filter(|s| s.topic_arn == arn)
            .collect();
        if self.options.notify.is_empty() {
            return self.without_notify(region, arn, topic.is_some(), &subscriptions);
        }
        if topic.is_none() {
            self.check_new_topic_key(data, region, &arn)?;
            self.plan_topic(region, name, &arn);
        }
        let (caveat, any_confirmed) = self.plan_subscriptions(region, &arn, &subscriptions);
        // Email and https subscriptions stay pending until their owner confirms them; sqs,
        // lambda and sms ones are confirmed at once.
        let instant = self
            .options
            .notify
            .iter()
            .any(|e| !PENDING_PROTOCOLS.contains(&e.protocol.as_str()));
        Ok(TopicUse {
            arn,
            caveat,
            awaits_confirmation: !any_confirmed && !instant,
        })
    }

    /// Without `--notify`: cis-fix's topic when it has a confirmed subscriber, else one that
    /// already delivers for a compliant control, else cis-fix's topic while its subscriptions
    /// wait for confirmation; else there is no one to notify.
    fn without_notify(
        &self,
        region: &str,
        arn: String,
        exists: bool,
        subscriptions: &[&Subscription],
    ) -> Result<TopicUse, Finding> {
        let quiet = |arn: String| TopicUse {
            arn,
            caveat: None,
            awaits_confirmation: false,
        };
        if exists && subscriptions.iter().any(|s| s.is_confirmed()) {
            return Ok(quiet(arn));
        }
        if let Some(reused) = self.reusable_topics.get(region) {
            return Ok(quiet(reused.clone()));
        }
        if exists && !subscriptions.is_empty() {
            return Ok(TopicUse {
                caveat: Some(finding(
                    Code::SubscriptionPending,
                    format!("topic {arn}'s subscriptions are pending confirmation: confirm them (check the inbox or endpoint)"),
                )),
                ..quiet(arn)
            });
        }
        Err(finding(
            Code::NeedsSubscriber,
            "no topic with a confirmed subscription to notify: pass --notify PROTOCOL:ENDPOINT (e.g. --notify email:security@example.com) for cis-fix to create one, or --topic-arn ARN to use an existing topic",
        ))
    }

    /// Refuses a `--topic-kms-key` that would silently drop every alarm before planning the
    /// topic. (Each alarm is checked again by its own ARN when it is planned.)
    fn check_new_topic_key(
        &self,
        data: &RegionSnapshot,
        region: &str,
        arn: &str,
    ) -> Result<(), Finding> {
        let Some(key) = &self.options.topic_kms_key else {
            return Ok(());
        };
        let any_alarm = format!(
            "arn:{}:cloudwatch:{region}:{}:alarm:cis-fix-*",
            Arn::parse(arn).map_or("aws", |a| a.partition),
            self.account
        );
        match delivery::check_own_key(data, self.account, arn, &any_alarm, key) {
            Some(why) => Err(why),
            None => Ok(()),
        }
    }

    /// Plans cis-fix's topic, tagged with the endpoints it will subscribe.
    fn plan_topic(&mut self, region: &str, name: &str, arn: &str) {
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
                topic_name: name.to_string(),
                topic_arn: arn.to_string(),
                tags,
                kms_master_key_id: self.options.topic_kms_key.clone(),
            },
        );
    }

    /// Plans a subscription for each `--notify` endpoint not yet subscribed; returns the
    /// caveat when one waits for confirmation and none is confirmed, and whether one is.
    fn plan_subscriptions(
        &mut self,
        region: &str,
        arn: &str,
        subscriptions: &[&Subscription],
    ) -> (Option<Finding>, bool) {
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
                        Code::SubscriptionPending,
                        format!("the {} subscription to {arn} is pending confirmation: confirm it (check the inbox or endpoint)", e.protocol),
                    ));
                }
                None => self.push(
                    Mode::Create,
                    None,
                    region,
                    "subscriber for the alarms' notifications".into(),
                    Call::Subscribe {
                        topic_arn: arn.to_string(),
                        protocol: e.protocol.clone(),
                        endpoint: e.endpoint.clone(),
                    },
                ),
            }
        }
        (caveat.filter(|_| !any_confirmed), any_confirmed)
    }
}

/// The user's topic, `--topic-arn`: it must exist in the alarms' region; used as it is, with
/// a caveat when no one is subscribed to it.
fn given_topic(data: &RegionSnapshot, region: &str, arn: &str) -> Result<TopicUse, Finding> {
    let topic_region = Arn::parse(arn).map(|a| a.region).unwrap_or("");
    if topic_region != region {
        return Err(finding(
            Code::TopicInOtherRegion,
            format!("--topic-arn {arn} is in region {topic_region}, but the alarms belong in {region} with the trail's log group; alarms can only notify topics in their own region"),
        ));
    }
    if !data.topic(arn).is_some_and(|t| t.exists) {
        return Err(finding(
            Code::TopicNotFound,
            format!(
                "--topic-arn {arn} does not exist (or cannot be read); create it or pass another"
            ),
        ));
    }
    let (ok, pending) = confirmed(data, arn);
    let caveat = (ok == 0).then(|| finding(
        Code::TopicNotSubscribed,
        format!("topic {arn} has no confirmed subscription{}: alarms on it notify no one until you subscribe an endpoint to it (cis-fix only subscribes endpoints to topics it creates)",
            if pending > 0 { format!(" ({pending} pending confirmation)") } else { String::new() }),
    ));
    Ok(TopicUse {
        arn: arn.to_string(),
        caveat,
        awaits_confirmation: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::options::DEFAULT_TOPIC_NAME;
    use crate::audit::tests::{account, audit, catalog, topic_arn, REGION};
    use crate::inventory::{KeyMetadata, KmsKey, Topic, TopicDelivery};

    const KEY_ARN: &str =
        "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    /// An account whose cis-fix topic exists, encrypted with `key` (as the topic names it).
    fn with_own_topic(key: Option<&str>) -> Snapshot {
        let mut s = account();
        let r = s.regions.get_mut(REGION).unwrap();
        r.topics.push(Topic {
            arn: topic_arn(DEFAULT_TOPIC_NAME),
            exists: true,
            tags: ownership::topic_tags([]),
            delivery: Some(TopicDelivery {
                kms_master_key_id: key.map(str::to_string),
                policy: None,
            }),
        });
        // Both ways of naming the key resolve to it.
        for reference in ["alias/alerts", KEY_ARN] {
            r.keys.push(KmsKey {
                reference: reference.into(),
                metadata: Some(KeyMetadata {
                    arn: KEY_ARN.into(),
                    manager: "CUSTOMER".into(),
                    state: "Enabled".into(),
                }),
                policy: None,
            });
        }
        s
    }

    fn with_key(key: &str) -> Options {
        Options {
            topic_kms_key: Some(key.into()),
            ..Options::default()
        }
    }

    #[test]
    fn a_key_for_an_existing_own_topic_must_be_the_one_it_has() {
        // Unencrypted, or under another key: the option would be ignored, so it is refused.
        for (existing, says) in [
            (None, "not encrypted"),
            (Some("alias/other"), "encrypted with alias/other"),
        ] {
            let plan = audit(
                &catalog(&["4.6"]),
                &with_own_topic(existing),
                &with_key("alias/alerts"),
            );
            assert_eq!(plan.input_errors.len(), 1, "{:?}", plan.input_errors);
            let error = &plan.input_errors[0];
            assert_eq!(error.option, "--topic-kms-key");
            assert!(
                error.message.starts_with("--topic-kms-key alias/alerts: ")
                    && error.message.contains(says)
                    && error.message.contains("cis-fix backout"),
                "{}",
                error.message
            );
        }
        // The same key, however it is named: fine.
        for (existing, given) in [
            ("alias/alerts", "alias/alerts"),
            (KEY_ARN, "alias/alerts"),
            ("alias/alerts", KEY_ARN),
        ] {
            let plan = audit(
                &catalog(&["4.6"]),
                &with_own_topic(Some(existing)),
                &with_key(given),
            );
            assert!(plan.input_errors.is_empty(), "{:?}", plan.input_errors);
        }
        // A topic of that name that is not cis-fix's is --topic-name's problem, not this one's.
        let mut s = with_own_topic(None);
        s.regions.get_mut(REGION).unwrap().topics[0].tags.clear();
        let errors = check_topic_kms_key(&with_key("alias/alerts"), &s);
        assert!(errors.is_empty(), "{errors:?}");
        // No topic yet: the key is checked when the topic is planned.
        let errors = check_topic_kms_key(&with_key("alias/alerts"), &account());
        assert!(errors.is_empty(), "{errors:?}");
    }
}
