//! What `cis-fix backout` removes: exactly what cis-fix created, and nothing else. Pure.
//!
//! Order: watch rules (first, so that they notify nothing of the rest), then alarms, then
//! metric filters, then subscriptions, then topics. A
//! resource counts as cis-fix's only by its marks (see [`crate::ownership`]): alarms by their
//! description record, tags *and* name, filters by their digest name, watch rules by their
//! name *and* tags, its topics by name (`--topic-name`, or the watch path's
//! `cis-fix-chain-watch`) *and* tags, subscriptions by the endpoint their topic recorded. What cis-fix reused (a user's filter or
//! topic) stays. So does what others still depend on, unless `--force`: a topic another
//! account or a user's alarm relies on, a filter whose metric a user's alarm watches, and what
//! a deployment from `cis-fix export` owns. Each is listed under *Kept*, with why.

use serde::{Deserialize, Serialize};

use crate::inventory::{Alarm, EventRule, RegionSnapshot, Snapshot, Subscription, Topic};
use crate::ownership::{self, AlarmRecord, FilterRef};

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
    /// A control's watch rule (`cis-fix-SLUG-watch`): its targets removed, then the rule
    /// (EventBridge deletes no rule that still has targets).
    DeleteRule {
        rule_name: String,
        /// The targets' ids as listed; the guard refuses when others appeared, unless forced.
        target_ids: Vec<String>,
    },
    DeleteTopic {
        topic_arn: String,
    },
}

impl RemoveCall {
    fn rank(&self) -> u8 {
        match self {
            RemoveCall::DeleteRule { .. } => 0,
            RemoveCall::DeleteAlarm { .. } => 1,
            RemoveCall::DeleteMetricFilter { .. } => 2,
            RemoveCall::Unsubscribe { .. } => 3,
            RemoveCall::DeleteTopic { .. } => 4,
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

/// Which of cis-fix's resources a backout removes.
#[derive(Debug, Clone, Copy)]
pub struct Scope<'a> {
    /// Only the resources of these controls (by slug); `None`: all.
    pub slugs: Option<&'a [String]>,
    /// The name cis-fix created its topic under (`--topic-name`): the only topic it created.
    pub topic_name: &'a str,
    /// Also remove what others still depend on (a subscriber or an alarm cis-fix did not make)
    /// and what a deployment from `cis-fix export` owns.
    pub force: bool,
}

impl Scope<'_> {
    fn selected(&self, slug: &str) -> bool {
        self.slugs.is_none_or(|s| s.iter().any(|x| x == slug))
    }
}

/// What to remove, and what of cis-fix's to keep (and why).
pub fn plan(snapshot: &Snapshot, scope: &Scope) -> RemovalPlan {
    let mut plan = RemovalPlan::default();
    for (region, data) in &snapshot.regions {
        let region = Region {
            account: &snapshot.account_id,
            name: region,
            data,
            scope,
        };
        region.plan(&mut plan);
    }
    plan.removals.sort_by_key(|r| r.call.rank());
    plan
}

/// One region's backout.
struct Region<'a> {
    account: &'a str,
    name: &'a str,
    data: &'a RegionSnapshot,
    scope: &'a Scope<'a>,
}

impl Region<'_> {
    fn plan(&self, plan: &mut RemovalPlan) {
        let own_alarms: Vec<(&Alarm, AlarmRecord)> = self
            .data
            .alarms
            .iter()
            .filter_map(|a| ownership::own_alarm_record(a, self.account, self.name).map(|r| (a, r)))
            .collect();
        let removed = self.alarms(&own_alarms, plan);
        // Alarms that stay: users', and cis-fix's that are not removed.
        let staying: Vec<&Alarm> = self
            .data
            .alarms
            .iter()
            .filter(|a| !removed.contains(&a.name.as_str()))
            .collect();
        let own_names: Vec<&str> = own_alarms.iter().map(|(a, _)| a.name.as_str()).collect();
        let deployed_filters: Vec<&FilterRef> = own_alarms
            .iter()
            .filter(|(a, _)| self.deployment(a).is_some())
            .filter_map(|(_, r)| r.filter.as_ref())
            .collect();
        self.filters(&staying, &own_names, &deployed_filters, plan);
        let staying_rules = self.rules(plan);
        self.topics(&staying, &own_names, &staying_rules, plan);
    }

    fn remove(&self, plan: &mut RemovalPlan, control: Option<&str>, call: RemoveCall) {
        plan.removals.push(Removal {
            control: control.map(str::to_string),
            region: self.name.to_string(),
            call,
        });
    }

    fn keep(&self, plan: &mut RemovalPlan, resource: String, reason: String) {
        plan.kept.push(Kept {
            region: self.name.to_string(),
            resource,
            reason,
        });
    }

    /// Who deployed an alarm from `cis-fix export`, if one did (its tags say).
    fn deployment(&self, alarm: &Alarm) -> Option<String> {
        alarm.tags.as_ref().and_then(ownership::deployed_by)
    }

    /// Deletes the selected controls' alarms; returns the names of those it deletes.
    fn alarms<'b>(&self, own: &[(&'b Alarm, AlarmRecord)], plan: &mut RemovalPlan) -> Vec<&'b str> {
        let mut removed = Vec::new();
        for (alarm, record) in own.iter().filter(|(_, r)| self.scope.selected(&r.control)) {
            match self.deployment(alarm) {
                Some(owner) if !self.scope.force => self.keep(
                    plan,
                    format!("alarm {}", alarm.name),
                    deployed_reason(&owner),
                ),
                _ => {
                    removed.push(alarm.name.as_str());
                    self.remove(
                        plan,
                        Some(&record.control),
                        RemoveCall::DeleteAlarm {
                            alarm_name: alarm.name.clone(),
                        },
                    );
                }
            }
        }
        removed
    }

    /// Deletes the selected controls' filters (named by cis-fix's digest) that no staying
    /// alarm watches, unless forced.
    fn filters(
        &self,
        staying: &[&Alarm],
        own_names: &[&str],
        deployed: &[&FilterRef],
        plan: &mut RemovalPlan,
    ) {
        for filter in &self.data.metric_filters {
            let Some(slug) = ownership::owned_filter_slug(
                self.account,
                self.name,
                &filter.log_group,
                &filter.name,
            ) else {
                continue;
            };
            if !self.scope.selected(slug) {
                continue;
            }
            let resource = format!(
                "metric filter {} on log group {}",
                filter.name, filter.log_group
            );
            let watchers: Vec<&Alarm> = staying
                .iter()
                .copied()
                .filter(|a| a.watches(&filter.metric_namespace, &filter.metric_name))
                .collect();
            let (own, users) = split_alarms(&watchers, own_names);
            let is_deployed = deployed
                .iter()
                .any(|f| f.log_group == filter.log_group && f.name == filter.name);
            let metric = format!("{}/{}", filter.metric_namespace, filter.metric_name);
            let reason = if !own.is_empty() {
                Some(format!(
                    "its metric {metric} is still watched by cis-fix's alarm {}",
                    own.join(", ")
                ))
            } else if is_deployed && !self.scope.force {
                Some("its alarm was deployed from `cis-fix export`, which owns it too; remove it with that deployment, or pass --force to delete it here".to_string())
            } else if !users.is_empty() && !self.scope.force {
                Some(format!(
                    "alarm{} {} (not created by cis-fix) watch{} its metric {metric} and would get no data; pass --force to delete it anyway",
                    plural(users.len()),
                    quoted(&users),
                    if users.len() == 1 { "es" } else { "" }
                ))
            } else {
                None
            };
            match reason {
                Some(reason) => self.keep(plan, resource, reason),
                None => self.remove(
                    plan,
                    Some(slug),
                    RemoveCall::DeleteMetricFilter {
                        log_group_name: filter.log_group.clone(),
                        filter_name: filter.name.clone(),
                    },
                ),
            }
        }
    }

    /// Deletes the selected controls' watch rules (cis-fix's name and tags), unless a target
    /// cis-fix did not add is on one or a deployment owns it (then kept, unless forced).
    /// Returns the names of cis-fix's rules that stay, whose topic stays with them.
    fn rules(&self, plan: &mut RemovalPlan) -> Vec<&str> {
        let mut staying = Vec::new();
        for rule in &self.data.rules {
            let Some(slug) = ownership::watch_rule_slug(&rule.name) else {
                continue;
            };
            if !crate::audit::is_own_rule(rule) {
                continue;
            }
            if !self.scope.selected(slug) {
                staying.push(rule.name.as_str());
                continue;
            }
            if let Some(reason) = self.rule_kept(rule) {
                staying.push(rule.name.as_str());
                self.keep(plan, format!("EventBridge rule {}", rule.name), reason);
                continue;
            }
            self.remove(
                plan,
                Some(slug),
                RemoveCall::DeleteRule {
                    rule_name: rule.name.clone(),
                    target_ids: rule.targets.iter().map(|t| t.id.clone()).collect(),
                },
            );
        }
        staying
    }

    /// Why cis-fix's watch rule stays: a deployment owns it, or it notifies more than the
    /// watch topic (someone added a target, which deleting the rule would silence).
    fn rule_kept(&self, rule: &EventRule) -> Option<String> {
        if self.scope.force {
            return None;
        }
        if let Some(owner) = rule.tags.as_ref().and_then(ownership::deployed_by) {
            return Some(deployed_reason(&owner));
        }
        let foreign: Vec<&str> = rule
            .targets
            .iter()
            .filter(|t| ownership::topic_name_of(&t.arn) != Some(ownership::WATCH_TOPIC_NAME))
            .map(|t| t.arn.as_str())
            .collect();
        (!foreign.is_empty()).then(|| format!(
            "it has target{} cis-fix did not add ({}), which deleting the rule would silence; pass --force to delete it anyway",
            plural(foreign.len()),
            foreign.join(", ")
        ))
    }

    /// cis-fix's topics (by name and mark: `--topic-name`'s, and the watch path's): their own
    /// subscriptions unsubscribed, then the topic deleted, unless something still depends on
    /// it. Any other topic that carries cis-fix's tags is listed as kept: cis-fix did not
    /// create it.
    fn topics(
        &self,
        staying: &[&Alarm],
        own_names: &[&str],
        staying_rules: &[&str],
        plan: &mut RemovalPlan,
    ) {
        for topic in self
            .data
            .topics
            .iter()
            .filter(|t| t.exists && ownership::is_managed(&t.tags))
        {
            let resource = format!("topic {}", topic.arn);
            let watch_topic = ownership::is_own_topic(topic, ownership::WATCH_TOPIC_NAME);
            if !watch_topic && !ownership::is_own_topic(topic, self.scope.topic_name) {
                let name = ownership::topic_name_of(&topic.arn).unwrap_or_default();
                self.keep(plan, resource, format!(
                    "it carries cis-fix's tags, but cis-fix creates its topic only as `{}` (--topic-name), so it did not create this one (its tags may have been copied); not touched, even with --force. If cis-fix did create it with --topic-name {name}, run backout with that option",
                    self.scope.topic_name
                ));
                continue;
            }
            let reason = match watch_topic {
                true => self.watch_topic_kept(topic, staying_rules),
                false => None,
            };
            if let Some(reason) = reason.or_else(|| self.topic_kept(topic, staying, own_names)) {
                self.keep(plan, resource, reason);
                continue;
            }
            for s in self.subscriptions(topic).filter(|s| {
                s.is_confirmed()
                    && ownership::is_own_subscription(&topic.tags, &s.protocol, &s.endpoint)
            }) {
                self.remove(
                    plan,
                    None,
                    RemoveCall::Unsubscribe {
                        subscription_arn: s.arn.clone(),
                        topic_arn: topic.arn.clone(),
                        protocol: s.protocol.clone(),
                        endpoint: s.endpoint.clone(),
                    },
                );
            }
            if let Some(reason) = self.foreign_subscribers(topic) {
                self.keep(plan, resource, reason);
                continue;
            }
            self.remove(
                plan,
                None,
                RemoveCall::DeleteTopic {
                    topic_arn: topic.arn.clone(),
                },
            );
        }
    }

    fn subscriptions<'b>(&'b self, topic: &'b Topic) -> impl Iterator<Item = &'b Subscription> {
        self.data
            .subscriptions
            .iter()
            .filter(move |s| s.topic_arn == topic.arn)
    }

    /// Why cis-fix's topic stays whole, subscriptions and all: a staying alarm notifies it, or
    /// a deployment owns it.
    fn topic_kept(&self, topic: &Topic, staying: &[&Alarm], own_names: &[&str]) -> Option<String> {
        let notifying: Vec<&Alarm> = staying
            .iter()
            .copied()
            .filter(|a| a.notifies(&topic.arn))
            .collect();
        let (own, users) = split_alarms(&notifying, own_names);
        if !own.is_empty() {
            return Some(format!(
                "still notified by cis-fix alarms that stay: {}",
                own.join(", ")
            ));
        }
        if self.scope.force {
            return None;
        }
        if let Some(owner) = ownership::deployed_by(&topic.tags) {
            return Some(deployed_reason(&owner));
        }
        (!users.is_empty()).then(|| format!(
            "alarm{} {} (not created by cis-fix) notif{} it; deleting it (or unsubscribing cis-fix's endpoints) would silence {}. Pass --force to unsubscribe cis-fix's endpoints and delete it anyway",
            plural(users.len()),
            quoted(&users),
            if users.len() == 1 { "ies" } else { "y" },
            if users.len() == 1 { "it" } else { "them" }
        ))
    }

    /// Why the watch topic stays whole: a watch rule of cis-fix's that stays notifies it.
    fn watch_topic_kept(&self, topic: &Topic, staying_rules: &[&str]) -> Option<String> {
        let notifying: Vec<&str> = staying_rules
            .iter()
            .copied()
            .filter(|name| {
                self.data
                    .rule(name)
                    .is_some_and(|r| r.targets.iter().any(|t| t.arn == topic.arn))
            })
            .collect();
        (!notifying.is_empty()).then(|| {
            format!(
                "still the target of cis-fix's watch rule{} that stay{}: {}",
                plural(notifying.len()),
                if notifying.len() == 1 { "s" } else { "" },
                notifying.join(", ")
            )
        })
    }

    /// Why cis-fix's topic stays once its own subscriptions are gone: others subscribed to it.
    fn foreign_subscribers(&self, topic: &Topic) -> Option<String> {
        let foreign = self
            .subscriptions(topic)
            .filter(|s| !ownership::is_own_subscription(&topic.tags, &s.protocol, &s.endpoint))
            .count();
        (foreign > 0 && !self.scope.force).then(|| format!(
            "it has {foreign} subscription{} cis-fix did not make (from any account); pass --force to delete it anyway",
            plural(foreign)
        ))
    }
}

/// The names of `alarms`, split into cis-fix's own and everyone else's.
fn split_alarms<'a>(alarms: &[&'a Alarm], own_names: &[&str]) -> (Vec<&'a str>, Vec<&'a str>) {
    alarms
        .iter()
        .map(|a| a.name.as_str())
        .partition(|name| own_names.contains(name))
}

fn deployed_reason(owner: &str) -> String {
    format!(
        "deployed from `cis-fix export` and owned by {owner}: remove it with that deployment (delete the stack, or `terraform destroy`), or pass --force to delete it here"
    )
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

fn quoted(names: &[&str]) -> String {
    names
        .iter()
        .map(|n| format!("`{n}`"))
        .collect::<Vec<_>>()
        .join(", ")
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

    const TOPIC: &str = "cis-fix-alerts";

    fn own_alarm(slug: &str, metric: &str, topic: &str, own_filter: Option<&str>) -> Alarm {
        let mut a = alarm(&format!("cis-fix-{slug}"), metric, Some(topic));
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

    /// What an apply of 4.1 and 4.6 with one email endpoint leaves behind, beside a user's
    /// own filter and alarm.
    fn applied() -> Snapshot {
        let mut s = account();
        let topic = topic_arn(TOPIC);
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
            .push(own_alarm("unauthorized-api-calls", "M", &topic, Some(&f41)));
        // 4.6 reused the user's filter.
        r.alarms.push(own_alarm(
            "console-authentication-failures",
            "N",
            &topic,
            None,
        ));
        r.alarms.push(alarm("users-alarm", "N", None));
        s
    }

    fn region(s: &mut Snapshot) -> &mut RegionSnapshot {
        s.regions.get_mut(REGION).unwrap()
    }

    fn plan_of(s: &Snapshot, slugs: Option<&[String]>, force: bool) -> RemovalPlan {
        plan(
            s,
            &Scope {
                slugs,
                topic_name: TOPIC,
                force,
            },
        )
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
                RemoveCall::DeleteRule { rule_name, .. } => format!("rule {rule_name}"),
                RemoveCall::DeleteTopic { topic_arn } => format!("topic {topic_arn}"),
            })
            .collect()
    }

    fn kept(plan: &RemovalPlan) -> Vec<String> {
        plan.kept
            .iter()
            .map(|k| format!("{}: {}", k.resource, k.reason))
            .collect()
    }

    #[test]
    fn removes_only_what_cis_fix_created_in_order() {
        let plan = plan_of(&applied(), None, false);
        let f41 = filter_name(ACCOUNT, REGION, GROUP, "unauthorized-api-calls");
        assert_eq!(
            calls(&plan),
            [
                "alarm cis-fix-unauthorized-api-calls".to_string(),
                "alarm cis-fix-console-authentication-failures".to_string(),
                format!("filter {f41}"),
                "unsubscribe email".to_string(),
                format!("topic {}", topic_arn(TOPIC)),
            ]
        );
        assert!(plan.kept.is_empty(), "{:?}", plan.kept);
    }

    #[test]
    fn a_topic_with_someone_elses_subscription_is_kept_unless_forced() {
        let mut s = applied();
        let topic = topic_arn(TOPIC);
        region(&mut s)
            .subscriptions
            .push(subscription(&topic, "sms", "+15555550100", true));
        let plan_ = plan_of(&s, None, false);
        assert!(calls(&plan_).contains(&"unsubscribe email".to_string()));
        assert!(!calls(&plan_).iter().any(|c| c.starts_with("topic ")));
        assert!(plan_.kept[0].reason.contains("--force"), "{:?}", plan_.kept);
        let forced = plan_of(&s, None, true);
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
        let plan = plan_of(
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
        for a in &mut region(&mut s).alarms {
            // A copied description without the tags, or tags never read.
            a.tags = if a.name.ends_with("api-calls") {
                Some(Default::default())
            } else {
                None
            };
        }
        let r = region(&mut s);
        r.metric_filters.push(filter(
            GROUP,
            "cis-fix-root-account-usage",
            "{ $.c = 1 }",
            "R",
        ));
        r.topics[0].tags.remove(ownership::TAG_MANAGED);
        // A team's alarm with cis-fix's description *and* tags, but a name cis-fix never gives.
        let mut team = own_alarm("root-account-usage", "R", "x", None);
        team.name = "team-root-alarm".into();
        r.alarms.push(team);
        // Only the digest-named filter is cis-fix's; nothing else carries verified marks. (The
        // alarm on its metric that lost its marks is no longer cis-fix's: it takes --force.)
        let f41 = filter_name(ACCOUNT, REGION, GROUP, "unauthorized-api-calls");
        assert_eq!(calls(&plan_of(&s, None, false)), Vec::<String>::new());
        assert_eq!(calls(&plan_of(&s, None, true)), [format!("filter {f41}")]);
    }

    #[test]
    fn a_tagged_topic_of_another_name_is_kept_and_said_even_forced() {
        let mut s = applied();
        let team = topic_arn("team-pager");
        let r = region(&mut s);
        // Someone with only sns:TagResource copied cis-fix's tags, the endpoint's too.
        r.topics.push(Topic {
            arn: team.clone(),
            exists: true,
            tags: topic_tags([("https", "https://pager.example.com/x")]),
            delivery: None,
        });
        r.subscriptions.push(subscription(
            &team,
            "https",
            "https://pager.example.com/x",
            true,
        ));
        for force in [false, true] {
            let plan = plan_of(&s, None, force);
            assert!(
                !plan.removals.iter().any(|r| matches!(&r.call,
                    RemoveCall::Unsubscribe { topic_arn, .. } | RemoveCall::DeleteTopic { topic_arn }
                        if *topic_arn == team)),
                "{:?}",
                plan.removals
            );
            let said = kept(&plan).join("\n");
            assert!(
                said.contains(&format!("topic {team}: it carries cis-fix's tags"))
                    && said.contains("--topic-name team-pager"),
                "{said}"
            );
        }
    }

    #[test]
    fn a_topic_a_users_alarm_notifies_is_kept_whole_unless_forced() {
        let mut s = applied();
        let topic = topic_arn(TOPIC);
        let mut users = alarm("billing-high", "Spend", None);
        // Named only in its OK actions: it depends on the topic all the same.
        users.other_actions = vec![topic.clone()];
        region(&mut s).alarms.push(users);
        let plan = plan_of(&s, None, false);
        assert!(
            !calls(&plan)
                .iter()
                .any(|c| c.starts_with("topic ") || c.starts_with("unsubscribe")),
            "{:?}",
            calls(&plan)
        );
        let said = kept(&plan).join("\n");
        assert!(
            said.contains("`billing-high` (not created by cis-fix)") && said.contains("--force"),
            "{said}"
        );
        let forced = plan_of(&s, None, true);
        let forced_calls = calls(&forced);
        assert!(forced_calls.contains(&"unsubscribe email".to_string()));
        assert!(forced_calls.contains(&format!("topic {topic}")));
    }

    #[test]
    fn a_filter_whose_metric_a_users_alarm_watches_is_kept_unless_forced() {
        let mut s = applied();
        let f41 = filter_name(ACCOUNT, REGION, GROUP, "unauthorized-api-calls");
        // The user's alarm on cis-fix's filter's metric (namespace CISBenchmark, metric M).
        region(&mut s)
            .alarms
            .push(alarm("soc-unauthorized", "M", None));
        let plan = plan_of(&s, None, false);
        assert!(!calls(&plan).contains(&format!("filter {f41}")));
        let said = kept(&plan).join("\n");
        assert!(
            said.contains(&format!("metric filter {f41}"))
                && said.contains(
                    "`soc-unauthorized` (not created by cis-fix) watches its metric CISBenchmark/M"
                ),
            "{said}"
        );
        assert!(calls(&plan_of(&s, None, true)).contains(&format!("filter {f41}")));
    }

    #[test]
    fn what_a_deployment_owns_is_kept_unless_forced() {
        let mut s = applied();
        let r = region(&mut s);
        for a in &mut r.alarms {
            if let Some(tags) = a.tags.as_mut() {
                tags.insert(
                    ownership::TAG_DEPLOYED_BY.into(),
                    "cloudformation stack cis".into(),
                );
            }
        }
        r.topics[0]
            .tags
            .insert("aws:cloudformation:stack-name".into(), "cis".into());
        let plan = plan_of(&s, None, false);
        assert!(plan.removals.is_empty(), "{:?}", calls(&plan));
        let said = kept(&plan).join("\n");
        assert_eq!(plan.kept.len(), 4, "{said}");
        assert!(
            said.contains("owned by cloudformation stack cis") && said.contains("--force"),
            "{said}"
        );
        assert_eq!(
            plan_of(&s, None, true),
            plan_of(&applied(), None, false),
            "forced, it is removed as anything else of cis-fix's"
        );
    }

    #[test]
    fn nothing_to_remove_in_an_untouched_account() {
        assert_eq!(plan_of(&account(), None, false), RemovalPlan::default());
    }

    const WATCH_SLUG: &str = "chain-tampering";

    /// `applied()` plus what a hardened apply adds for one control with a watch rule: its rule,
    /// targeting cis-fix-chain-watch, and that topic with one email endpoint.
    fn applied_with_watch_path() -> Snapshot {
        let mut s = applied();
        let watch = topic_arn(ownership::WATCH_TOPIC_NAME);
        let r = region(&mut s);
        r.topics.push(Topic {
            arn: watch.clone(),
            exists: true,
            tags: topic_tags([("email", "sec@example.com")]),
            delivery: Some(Default::default()),
        });
        r.subscriptions
            .push(subscription(&watch, "email", "sec@example.com", true));
        r.rules.push(watch_rule(WATCH_SLUG, &watch));
        s
    }

    fn watch_rule(slug: &str, target: &str) -> EventRule {
        EventRule {
            name: ownership::watch_rule_name(slug),
            arn: format!("arn:aws:events:{REGION}:{ACCOUNT}:rule/cis-fix-{slug}-watch"),
            state: "ENABLED".into(),
            event_pattern: Some("{}".into()),
            tags: Some(alarm_tags(slug)),
            targets: vec![crate::inventory::RuleTarget {
                id: "chain-watch".into(),
                arn: target.into(),
                role_arn: None,
            }],
        }
    }

    #[test]
    fn the_watch_path_goes_with_the_rest_rule_before_its_topic() {
        let plan = plan_of(&applied_with_watch_path(), None, false);
        let watch = topic_arn(ownership::WATCH_TOPIC_NAME);
        let rule = ownership::watch_rule_name(WATCH_SLUG);
        let calls = calls(&plan);
        let at = |c: &str| calls.iter().position(|x| x == c).unwrap_or(usize::MAX);
        assert!(
            at(&format!("rule {rule}")) < at(&format!("topic {watch}")),
            "{calls:?}"
        );
        assert!(
            calls.contains(&format!("topic {}", topic_arn(TOPIC))),
            "{calls:?}"
        );
        assert_eq!(
            calls.iter().filter(|c| *c == "unsubscribe email").count(),
            2,
            "{calls:?}"
        );
        let removal = plan
            .removals
            .iter()
            .find(|r| matches!(r.call, RemoveCall::DeleteRule { .. }));
        assert_eq!(removal.and_then(|r| r.control.as_deref()), Some(WATCH_SLUG));
        assert!(
            matches!(&removal.unwrap().call, RemoveCall::DeleteRule { target_ids, .. } if target_ids == &["chain-watch"])
        );
    }

    #[test]
    fn a_rule_without_cis_fixs_tags_or_name_is_not_touched() {
        let mut s = applied_with_watch_path();
        let watch = topic_arn(ownership::WATCH_TOPIC_NAME);
        region(&mut s).rules[0].tags = Some(Default::default());
        let mut users = watch_rule("x", &watch);
        users.name = "users-rule".into();
        region(&mut s).rules.push(users);
        let calls = calls(&plan_of(&s, None, true));
        assert!(!calls.iter().any(|c| c.starts_with("rule ")), "{calls:?}");
    }

    #[test]
    fn a_rule_that_stays_keeps_the_watch_topic() {
        let s = applied_with_watch_path();
        let only = ["unauthorized-api-calls".to_string()];
        let plan = plan_of(&s, Some(&only), false);
        let watch = topic_arn(ownership::WATCH_TOPIC_NAME);
        assert!(!calls(&plan).contains(&format!("topic {watch}")));
        assert!(
            kept(&plan)
                .iter()
                .any(|k| k.contains(&watch)
                    && k.contains("still the target of cis-fix's watch rule")),
            "{:?}",
            kept(&plan)
        );
    }

    #[test]
    fn a_target_cis_fix_did_not_add_keeps_the_rule_unless_forced() {
        let mut s = applied_with_watch_path();
        let pager = "arn:aws:sns:us-east-1:111122223333:pager";
        region(&mut s).rules[0]
            .targets
            .push(crate::inventory::RuleTarget {
                id: "theirs".into(),
                arn: pager.into(),
                role_arn: None,
            });
        let rule = ownership::watch_rule_name(WATCH_SLUG);
        let kept_plan = plan_of(&s, None, false);
        assert!(!calls(&kept_plan).contains(&format!("rule {rule}")));
        assert!(
            kept(&kept_plan).iter().any(|k| k.contains(pager)),
            "{:?}",
            kept(&kept_plan)
        );
        // The watch topic stays with the rule that notifies it.
        let watch = topic_arn(ownership::WATCH_TOPIC_NAME);
        assert!(!calls(&kept_plan).contains(&format!("topic {watch}")));
        let forced = plan_of(&s, None, true);
        assert!(calls(&forced).contains(&format!("rule {rule}")));
        assert!(calls(&forced).contains(&format!("topic {watch}")));
    }
}
