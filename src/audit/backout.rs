//! What `cis-fix backout` removes: exactly what cis-fix created, and nothing else. Pure.
//!
//! Order: alarms, then metric filters, then subscriptions, then topics. A resource counts as
//! cis-fix's only by its marks (see [`crate::ownership`]): alarms by their description record
//! *and* tags, filters by their digest name, topics by their tags, subscriptions by the
//! endpoint their topic recorded. What cis-fix reused (a user's filter or topic) stays.

use serde::{Deserialize, Serialize};

use crate::inventory::{Snapshot, Subscription};
use crate::ownership;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Removal {
    /// The control's slug, for alarms and filters; `None` for shared topics and subscriptions.
    pub control: Option<String>,
    pub region: String,
    #[serde(flatten)]
    pub call: RemoveCall,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum RemoveCall {
    DeleteAlarm {
        alarm_name: String,
    },
    DeleteMetricFilter {
        log_group_name: String,
        filter_name: String,
    },
    Unsubscribe {
        subscription_arn: String,
        topic_arn: String,
        protocol: String,
        /// Masked in what cis-fix prints unless `--show-endpoints`.
        endpoint: String,
    },
    DeleteTopic {
        topic_arn: String,
    },
}

impl RemoveCall {
    fn rank(&self) -> u8 {
        match self {
            RemoveCall::DeleteAlarm { .. } => 0,
            RemoveCall::DeleteMetricFilter { .. } => 1,
            RemoveCall::Unsubscribe { .. } => 2,
            RemoveCall::DeleteTopic { .. } => 3,
        }
    }
}

/// A resource cis-fix created but leaves in place, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Kept {
    pub region: String,
    pub resource: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RemovalPlan {
    pub removals: Vec<Removal>,
    pub kept: Vec<Kept>,
}

/// What to remove. `slugs`: only the resources of these controls (`None`: all). `force`:
/// delete cis-fix's topics even when someone else subscribed to them.
pub fn plan(snapshot: &Snapshot, slugs: Option<&[String]>, force: bool) -> RemovalPlan {
    let account = snapshot.account_id.as_str();
    let selected = |slug: &str| slugs.is_none_or(|s| s.iter().any(|x| x == slug));
    let mut plan = RemovalPlan::default();

    for (region, data) in &snapshot.regions {
        let own_alarms: Vec<_> = data
            .alarms
            .iter()
            .filter_map(|a| ownership::own_alarm_record(a).map(|r| (a, r)))
            // Only alarms whose tags were read and carry the mark are deleted.
            .filter(|(a, _)| a.tags.is_some())
            .collect();
        let mut remaining_alarms = Vec::new();
        for (alarm, record) in &own_alarms {
            if selected(&record.control) {
                plan.removals.push(Removal {
                    control: Some(record.control.clone()),
                    region: region.clone(),
                    call: RemoveCall::DeleteAlarm {
                        alarm_name: alarm.name.clone(),
                    },
                });
            } else {
                remaining_alarms.push(*alarm);
            }
        }

        for filter in &data.metric_filters {
            let Some(slug) =
                ownership::owned_filter_slug(account, region, &filter.log_group, &filter.name)
            else {
                continue;
            };
            let already = plan.removals.iter().any(|r| {
                matches!(&r.call, RemoveCall::DeleteMetricFilter { log_group_name, filter_name }
                    if *log_group_name == filter.log_group && *filter_name == filter.name)
            });
            if selected(slug) && !already {
                plan.removals.push(Removal {
                    control: Some(slug.to_string()),
                    region: region.clone(),
                    call: RemoveCall::DeleteMetricFilter {
                        log_group_name: filter.log_group.clone(),
                        filter_name: filter.name.clone(),
                    },
                });
            }
        }

        for topic in data
            .topics
            .iter()
            .filter(|t| t.exists && ownership::is_managed(&t.tags))
        {
            let subscriptions: Vec<_> = data
                .subscriptions
                .iter()
                .filter(|s| s.topic_arn == topic.arn)
                .collect();
            let still_used: Vec<&str> = remaining_alarms
                .iter()
                .filter(|a| a.alarm_actions.contains(&topic.arn))
                .map(|a| a.name.as_str())
                .collect();
            if !still_used.is_empty() {
                plan.kept.push(Kept {
                    region: region.clone(),
                    resource: format!("topic {}", topic.arn),
                    reason: format!(
                        "still notified by cis-fix alarms of other controls: {}",
                        still_used.join(", ")
                    ),
                });
                continue;
            }
            let (own, foreign): (Vec<&Subscription>, Vec<&Subscription>) =
                subscriptions.iter().partition(|s| {
                    ownership::is_own_subscription(&topic.tags, &s.protocol, &s.endpoint)
                });
            for s in own.iter().filter(|s| s.is_confirmed()) {
                plan.removals.push(Removal {
                    control: None,
                    region: region.clone(),
                    call: RemoveCall::Unsubscribe {
                        subscription_arn: s.arn.clone(),
                        topic_arn: topic.arn.clone(),
                        protocol: s.protocol.clone(),
                        endpoint: s.endpoint.clone(),
                    },
                });
            }
            if !foreign.is_empty() && !force {
                plan.kept.push(Kept {
                    region: region.clone(),
                    resource: format!("topic {}", topic.arn),
                    reason: format!(
                        "it has {} subscription{} cis-fix did not make; pass --force to delete it anyway",
                        foreign.len(),
                        if foreign.len() == 1 { "" } else { "s" }
                    ),
                });
                continue;
            }
            plan.removals.push(Removal {
                control: None,
                region: region.clone(),
                call: RemoveCall::DeleteTopic {
                    topic_arn: topic.arn.clone(),
                },
            });
        }
    }
    plan.removals.sort_by_key(|r| r.call.rank());
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::tests::{
        account, alarm, filter, subscription, topic_arn, ACCOUNT, GROUP, REGION,
    };
    use crate::inventory::{Alarm, Topic};
    use crate::ownership::{
        alarm_description, alarm_tags, filter_name, topic_tags, AlarmRecord, FilterRef,
    };

    fn own_alarm(slug: &str, topic: &str, own_filter: Option<&str>) -> Alarm {
        let mut a = alarm(&format!("cis-fix-{slug}"), "M", Some(topic));
        a.description = Some(alarm_description(
            "4.x",
            "t",
            &AlarmRecord {
                control: slug.into(),
                filter: own_filter.map(|name| FilterRef {
                    log_group: GROUP.into(),
                    name: name.into(),
                }),
            },
        ));
        a.tags = Some(alarm_tags(slug));
        a
    }

    /// What an apply of 4.1 and 4.6 with one email endpoint leaves behind.
    fn applied() -> Snapshot {
        let mut s = account();
        let topic = topic_arn("cis-fix-alerts");
        let f41 = filter_name(ACCOUNT, REGION, GROUP, "unauthorized-api-calls");
        let r = s.regions.get_mut(REGION).unwrap();
        r.topics.push(Topic {
            arn: topic.clone(),
            exists: true,
            tags: topic_tags([("email", "sec@example.com")]),
            delivery: Some(Default::default()),
        });
        r.subscriptions
            .push(subscription(&topic, "email", "sec@example.com", true));
        r.metric_filters
            .push(filter(GROUP, &f41, "{ $.a = 1 }", "M"));
        r.metric_filters
            .push(filter(GROUP, "users-own", "{ $.b = 1 }", "N"));
        r.alarms
            .push(own_alarm("unauthorized-api-calls", &topic, Some(&f41)));
        // 4.6 reused the user's filter.
        r.alarms
            .push(own_alarm("console-authentication-failures", &topic, None));
        r.alarms.push(alarm("users-alarm", "N", Some(&topic)));
        s
    }

    fn calls(plan: &RemovalPlan) -> Vec<String> {
        plan.removals
            .iter()
            .map(|r| match &r.call {
                RemoveCall::DeleteAlarm { alarm_name } => format!("alarm {alarm_name}"),
                RemoveCall::DeleteMetricFilter { filter_name, .. } => {
                    format!("filter {filter_name}")
                }
                RemoveCall::Unsubscribe { protocol, .. } => format!("unsubscribe {protocol}"),
                RemoveCall::DeleteTopic { topic_arn } => format!("topic {topic_arn}"),
            })
            .collect()
    }

    #[test]
    fn removes_only_what_cis_fix_created_in_order() {
        let plan = plan(&applied(), None, false);
        let f41 = filter_name(ACCOUNT, REGION, GROUP, "unauthorized-api-calls");
        assert_eq!(
            calls(&plan),
            [
                "alarm cis-fix-unauthorized-api-calls".to_string(),
                "alarm cis-fix-console-authentication-failures".to_string(),
                format!("filter {f41}"),
                "unsubscribe email".to_string(),
                format!("topic {}", topic_arn("cis-fix-alerts")),
            ]
        );
        assert!(plan.kept.is_empty());
    }

    #[test]
    fn a_topic_with_someone_elses_subscription_is_kept_unless_forced() {
        let mut s = applied();
        let topic = topic_arn("cis-fix-alerts");
        s.regions
            .get_mut(REGION)
            .unwrap()
            .subscriptions
            .push(subscription(&topic, "sms", "+15555550100", true));
        let plan_ = plan(&s, None, false);
        assert!(calls(&plan_).contains(&"unsubscribe email".to_string()));
        assert!(!calls(&plan_).iter().any(|c| c.starts_with("topic ")));
        assert!(plan_.kept[0].reason.contains("--force"), "{:?}", plan_.kept);
        let forced = plan(&s, None, true);
        assert!(calls(&forced).iter().any(|c| c.starts_with("topic ")));
        // Never someone else's subscription.
        assert_eq!(
            calls(&forced)
                .iter()
                .filter(|c| c.starts_with("unsubscribe"))
                .count(),
            1
        );
    }

    #[test]
    fn some_controls_only_and_shared_topics_stay_while_used() {
        let plan = plan(
            &applied(),
            Some(&["unauthorized-api-calls".to_string()]),
            false,
        );
        let f41 = filter_name(ACCOUNT, REGION, GROUP, "unauthorized-api-calls");
        assert_eq!(
            calls(&plan),
            [
                "alarm cis-fix-unauthorized-api-calls".to_string(),
                format!("filter {f41}")
            ]
        );
        assert!(plan.kept[0]
            .reason
            .contains("cis-fix-console-authentication-failures"));
    }

    #[test]
    fn forged_or_unverified_marks_are_not_enough() {
        let mut s = applied();
        for a in &mut s.regions.get_mut(REGION).unwrap().alarms {
            // A copied description without the tags, or tags never read.
            a.tags = if a.name.ends_with("api-calls") {
                Some(Default::default())
            } else {
                None
            };
        }
        let r = s.regions.get_mut(REGION).unwrap();
        r.metric_filters.push(filter(
            GROUP,
            "cis-fix-root-account-usage",
            "{ $.c = 1 }",
            "R",
        ));
        r.topics[0].tags.remove(ownership::TAG_MANAGED);
        let plan = plan(&s, None, false);
        let f41 = filter_name(ACCOUNT, REGION, GROUP, "unauthorized-api-calls");
        // Only the digest-named filter is cis-fix's; nothing else carries verified marks.
        assert_eq!(calls(&plan), [format!("filter {f41}")]);
    }

    #[test]
    fn nothing_to_remove_in_an_untouched_account() {
        assert_eq!(plan(&account(), None, false), RemovalPlan::default());
    }
}
