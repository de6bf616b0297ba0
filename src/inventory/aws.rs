//! Reads the snapshot from AWS. The only code in cis-fix that reads AWS.
//!
//! The number of calls does not grow with the number of controls: trails are listed once,
//! each trail's status and selectors are read once, and in every region a trail's log group
//! lives in, filters are listed once per such log group, and alarms and subscriptions once
//! (all paginated). Independent calls run concurrently. Delivery reads grow with the number of
//! distinct topics and keys in candidate chains, never with the number of controls: one
//! `GetTopicAttributes` per topic an alarm on a filter's metric notifies (plus cis-fix's own
//! topic), one `DescribeKey` per key those topics name, and one `GetKeyPolicy` per customer
//! managed key among them. Transformer reads (`GetTransformer`, `DescribeAccountPolicies`)
//! are made only for log groups with a filter on transformed logs. EventBridge reads
//! (`ListRules` for cis-fix's names, then `ListTagsForResource` and `ListTargetsByRule` per
//! watch rule found) are made only when the benchmark has a control with a `watch_rule`.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use aws_sdk_cloudwatch::types::AlarmType;
use aws_sdk_cloudwatchlogs::types::PolicyType;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;
use futures::future::try_join_all;

use super::{
    AdvancedEventSelector, Alarm, Arn, CallerIdentity, EventRule, EventSelector, FieldSelector,
    HistoryItem, KeyMetadata, KmsKey, LogGroupRef, MetricFilter, PatternTest, ReadFailure,
    RegionSnapshot, RuleTarget, Snapshot, Subscription, Topic, TopicDelivery, Trail,
    TransformerPolicy, Transformers, WitnessRequest,
};
use crate::error::{Error, Result};
use crate::ownership;
use crate::session::errors::is_denied;
use crate::session::Session;

use crate::session::errors::aws_error;

/// Topics to look at besides those the alarms name: cis-fix's own (`--topic-name`), or
/// `--topic-arn`.
#[derive(Debug, Clone, Copy)]
pub enum TopicsOfInterest<'a> {
    /// The topic cis-fix creates under this name, in each region.
    Own(&'a str),
    /// The user's topic, used as it is.
    Arn(&'a str),
}

impl TopicsOfInterest<'_> {
    /// The topic ARNs to read in `region` of `account`.
    fn arns(&self, region: &str, account: &str) -> Vec<String> {
        match self {
            TopicsOfInterest::Own(name) => vec![super::topic_arn(region, account, name)],
            TopicsOfInterest::Arn(arn) => vec![arn.to_string()],
        }
    }

    /// cis-fix's own topic in `region`, whose every subscription (any account's) is read.
    fn own(&self, region: &str, account: &str) -> Option<String> {
        match self {
            TopicsOfInterest::Own(name) => Some(super::topic_arn(region, account, name)),
            TopicsOfInterest::Arn(_) => None,
        }
    }
}

/// Reads denied so far; shared by the concurrent reads of one snapshot.
type Denied = Mutex<Vec<ReadFailure>>;

/// A denied read is not fatal: it is recorded, and the audit marks what it would have
/// decided as not auditable. Any other error stops the read.
fn tolerate<T: Default>(result: Result<T>, denied: &Denied) -> Result<T> {
    match result {
        Err(Error::Aws {
            operation,
            region,
            message,
        }) if is_denied(&message) => {
            if let Ok(mut list) = denied.lock() {
                list.push(ReadFailure {
                    permission: operation.to_string(),
                    region: region.unwrap_or_default(),
                });
            }
            Ok(T::default())
        }
        other => other,
    }
}

/// How much to read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadMode {
    /// What plan, apply and export need (the same reads, so that a saved plan can be made
    /// again exactly): a number of calls independent of the number of controls, plus one
    /// `ListTagsForResource` per alarm that claims to be cis-fix's.
    Plan,
    /// What backout needs: also the filters and topics that cis-fix's alarms name outside the
    /// trails' log groups, and none of the delivery reads (topic attributes, keys), which only
    /// decide compliance.
    Backout,
}

/// Reads everything the audit needs. `watch_rules` names the controls' watch rules
/// (`cis-fix-SLUG-watch`): with any, the rules and the watch topic are read too. A backout
/// reads every rule named as a watch rule, and the watch topic, whatever the benchmark: it
/// removes what cis-fix created under any.
pub async fn read(
    session: &Session,
    topics_of_interest: TopicsOfInterest<'_>,
    key_of_interest: Option<&str>,
    watch_rules: &[String],
    mode: ReadMode,
) -> Result<Snapshot> {
    let region = session.region.clone();
    let denied = Denied::default();
    let (account_id, listed) = tokio::try_join!(
        account_id(session),
        describe_trails(session, &region, &denied)
    )?;
    let trails = trail_details(session, &region, &account_id, listed, &denied).await?;

    // Regions that matter are those the trails' log groups live in (in this account).
    let mut log_groups: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for trail in &trails {
        if let Some(lg) = trail
            .log_group_arn
            .as_deref()
            .and_then(LogGroupRef::from_arn)
        {
            if lg.account == account_id {
                log_groups.entry(lg.region).or_default().insert(lg.name);
            }
        }
    }
    let regions = log_groups.iter().map(|(region, groups)| {
        read_region(
            session,
            region,
            groups,
            Wanted {
                topics: topics_of_interest.arns(region, &account_id),
                own_topic: topics_of_interest.own(region, &account_id),
                key: key_of_interest,
                watch_rules: match mode {
                    ReadMode::Backout => RuleNames::AnyWatch,
                    _ => RuleNames::These(watch_rules),
                },
                // The watch path's topic is read like cis-fix's own: existence, tags,
                // attributes, and every subscription.
                watch_topic: (mode == ReadMode::Backout || !watch_rules.is_empty())
                    .then(|| super::topic_arn(region, &account_id, ownership::WATCH_TOPIC_NAME)),
            },
            mode,
            &denied,
        )
    });
    let regions = try_join_all(regions).await?;

    let mut unreadable = denied.into_inner().unwrap_or_default();
    unreadable.sort();
    unreadable.dedup();
    Ok(Snapshot {
        account_id,
        region,
        trails,
        regions: log_groups.into_keys().zip(regions).collect(),
        unreadable,
        ..Default::default()
    })
}

async fn account_id(session: &Session) -> Result<String> {
    if let Some(account) = &session.known_account {
        return Ok(account.clone());
    }
    Ok(caller_identity(session).await?.account)
}

/// Whom the session's credentials belong to (`sts:GetCallerIdentity`).
pub async fn caller_identity(session: &Session) -> Result<CallerIdentity> {
    let out = session
        .sts()
        .get_caller_identity()
        .send()
        .await
        .map_err(|e| aws_error("sts:GetCallerIdentity", &session.region, e))?;
    let account = out.account.ok_or_else(|| Error::Aws {
        operation: "sts:GetCallerIdentity",
        region: Some(session.region.clone()),
        message: "the reply has no account id".into(),
    })?;
    // As AWS states it: `partition_of` guesses from the region, and knows only `aws-cn` and
    // `aws-us-gov` (a `us-iso-` region is in `aws-iso`).
    let arn = out.arn.unwrap_or_default();
    let partition = Arn::parse(&arn).map_or("aws", |a| a.partition).to_string();
    Ok(CallerIdentity { account, partition })
}

/// `DescribeTrails`, shadow trails included (an organization trail shows in every member).
async fn describe_trails(
    session: &Session,
    region: &str,
    denied: &Denied,
) -> Result<Vec<aws_sdk_cloudtrail::types::Trail>> {
    let client = session.cloudtrail(region);
    let out = client
        .describe_trails()
        .include_shadow_trails(true)
        .send()
        .await
        .map(Some)
        .map_err(|e| aws_error("cloudtrail:DescribeTrails", region, e));
    let mut seen = BTreeSet::new();
    let listed: Vec<_> = tolerate(out, denied)?
        .and_then(|out| out.trail_list)
        .unwrap_or_default()
        .into_iter()
        .filter(|t| {
            t.trail_arn
                .as_ref()
                .is_some_and(|arn| seen.insert(arn.clone()))
        })
        .collect();
    Ok(listed)
}

/// Each trail's status and selectors, read in its home region by ARN. AWS lets only the
/// trail's owner read them: a trail of another account (an organization trail seen from a
/// member) is not asked about, and is marked hidden; so is a trail that vanished meanwhile.
async fn trail_details(
    session: &Session,
    region: &str,
    account: &str,
    listed: Vec<aws_sdk_cloudtrail::types::Trail>,
    denied: &Denied,
) -> Result<Vec<Trail>> {
    let details = listed.into_iter().map(|t| {
        let arn = t.trail_arn.clone().unwrap_or_default();
        let home = t.home_region.clone().unwrap_or_else(|| region.to_string());
        let foreign = Arn::parse(&arn).is_some_and(|a| a.account != account);
        async move {
            if foreign {
                return Ok(hidden_trail(t, arn, home));
            }
            // Status and selectors are read in the trail's home region, by ARN, which also
            // works for the shadow copies of multi-region trails.
            let client = session.cloudtrail(&home);
            let (status, selectors) = tokio::try_join!(
                async {
                    // Some(Some(logging)) read; Some(None) gone; None denied (recorded).
                    let status = match client.get_trail_status().name(&arn).send().await {
                        Ok(o) => Ok(Some(Some(o.is_logging.unwrap_or(false)))),
                        Err(e) if e.code() == Some("TrailNotFoundException") => Ok(Some(None)),
                        Err(e) => Err(aws_error("cloudtrail:GetTrailStatus", &home, e)),
                    };
                    tolerate(status, denied)
                },
                async {
                    let selectors = match client.get_event_selectors().trail_name(&arn).send().await
                    {
                        Ok(o) => Ok((o.event_selectors, o.advanced_event_selectors)),
                        Err(e) if e.code() == Some("TrailNotFoundException") => Ok((None, None)),
                        Err(e) => Err(aws_error("cloudtrail:GetEventSelectors", &home, e)),
                    };
                    tolerate(selectors, denied)
                },
            )?;
            let (event_selectors, advanced_event_selectors) = selectors;
            let is_logging = match status {
                Some(Some(logging)) => logging,
                Some(None) => return Ok(hidden_trail(t, arn, home)),
                None => false,
            };
            Ok::<_, Error>(Trail {
                is_organization_trail: t.is_organization_trail.unwrap_or(false),
                details_hidden: false,
                name: t.name.unwrap_or_default(),
                arn,
                home_region: home.clone(),
                is_multi_region: t.is_multi_region_trail.unwrap_or(false),
                is_logging,
                log_group_arn: t.cloud_watch_logs_log_group_arn.filter(|a| !a.is_empty()),
                event_selectors: event_selectors
                    .unwrap_or_default()
                    .into_iter()
                    .map(|s| EventSelector {
                        read_write_type: s
                            .read_write_type
                            .map(|r| r.as_str().to_string())
                            .unwrap_or_else(|| "All".into()),
                        include_management_events: s.include_management_events.unwrap_or(true),
                        exclude_management_event_sources: s
                            .exclude_management_event_sources
                            .unwrap_or_default(),
                    })
                    .collect(),
                advanced_event_selectors: advanced_event_selectors
                    .unwrap_or_default()
                    .into_iter()
                    .map(|s| AdvancedEventSelector {
                        name: s.name,
                        field_selectors: s
                            .field_selectors
                            .into_iter()
                            .map(|f| FieldSelector {
                                field: f.field,
                                equals: f.equals.unwrap_or_default(),
                                not_equals: f.not_equals.unwrap_or_default(),
                                starts_with: f.starts_with.unwrap_or_default(),
                                not_starts_with: f.not_starts_with.unwrap_or_default(),
                                ends_with: f.ends_with.unwrap_or_default(),
                                not_ends_with: f.not_ends_with.unwrap_or_default(),
                            })
                            .collect(),
                    })
                    .collect(),
            })
        }
    });
    let mut trails = try_join_all(details).await?;
    trails.sort_by(|a, b| a.name.cmp(&b.name).then(a.arn.cmp(&b.arn)));
    Ok(trails)
}

/// A trail whose status and selectors this account may not read: what `DescribeTrails` says.
fn hidden_trail(t: aws_sdk_cloudtrail::types::Trail, arn: String, home: String) -> Trail {
    Trail {
        name: t.name.unwrap_or_default(),
        arn,
        home_region: home,
        is_multi_region: t.is_multi_region_trail.unwrap_or(false),
        is_logging: false,
        log_group_arn: t.cloud_watch_logs_log_group_arn.filter(|a| !a.is_empty()),
        event_selectors: Vec::new(),
        advanced_event_selectors: Vec::new(),
        is_organization_trail: t.is_organization_trail.unwrap_or(false),
        details_hidden: true,
    }
}

/// What a region's read looks at besides the trails' log groups.
struct Wanted<'a> {
    topics: Vec<String>,
    own_topic: Option<String>,
    key: Option<&'a str>,
    watch_rules: RuleNames<'a>,
    watch_topic: Option<String>,
}

/// Which EventBridge rules a read looks at.
#[derive(Clone, Copy)]
enum RuleNames<'a> {
    /// These names (none: no call at all).
    These(&'a [String]),
    /// Every rule named as some control's watch rule (`cis-fix-SLUG-watch`).
    AnyWatch,
}

impl RuleNames<'_> {
    fn none(self) -> bool {
        matches!(self, RuleNames::These(names) if names.is_empty())
    }

    fn wants(self, name: &str) -> bool {
        match self {
            RuleNames::These(names) => names.iter().any(|n| n == name),
            RuleNames::AnyWatch => ownership::watch_rule_slug(name).is_some(),
        }
    }
}

async fn read_region(
    session: &Session,
    region: &str,
    log_groups: &BTreeSet<String>,
    wanted: Wanted<'_>,
    mode: ReadMode,
    denied: &Denied,
) -> Result<RegionSnapshot> {
    let Wanted {
        mut topics,
        own_topic,
        key: key_of_interest,
        watch_rules,
        watch_topic,
    } = wanted;
    topics.extend(watch_topic.clone());
    let filters = try_join_all(
        log_groups
            .iter()
            .map(|g| async move { tolerate(metric_filters(session, region, g).await, denied) }),
    );
    let topics =
        try_join_all(topics.into_iter().map(|arn| async move {
            tolerate(topic(session, region, arn).await.map(Some), denied)
        }));
    let (filters, alarms, subscriptions, topics, rules) = tokio::try_join!(
        filters,
        async { tolerate(alarms(session, region).await, denied) },
        async { tolerate(subscriptions(session, region).await, denied) },
        topics,
        rules(session, region, watch_rules, denied),
    )?;
    let mut snapshot = RegionSnapshot {
        metric_filters: filters.into_iter().flatten().collect(),
        alarms,
        subscriptions,
        topics: topics.into_iter().flatten().collect(),
        keys: Vec::new(),
        transformers: None,
        rules,
    };
    // Every mode: what cis-fix would change or delete must be proven its own.
    claimed_alarm_tags(session, region, &mut snapshot, denied).await?;
    for arn in own_topic.into_iter().chain(watch_topic) {
        own_topic_subscriptions(session, region, &arn, &mut snapshot, denied).await?;
    }
    if mode == ReadMode::Backout {
        claimed_elsewhere(session, region, log_groups, &mut snapshot, denied).await?;
    }
    if mode != ReadMode::Backout {
        delivery(session, region, key_of_interest, &mut snapshot, denied).await?;
        snapshot.transformers =
            transformers(session, region, &snapshot.metric_filters, denied).await?;
    }
    Ok(snapshot)
}

/// The controls' watch rules on the default bus: one paged `ListRules` for cis-fix's names,
/// then the tags and targets of each rule named as a watch rule (never of anyone else's).
/// Nothing is read when no control has a watch rule, so a CIS catalog's plan makes no such call.
async fn rules(
    session: &Session,
    region: &str,
    names: RuleNames<'_>,
    denied: &Denied,
) -> Result<Vec<EventRule>> {
    if names.none() {
        return Ok(Vec::new());
    }
    let listed = tolerate(list_rules(session, region).await, denied)?;
    let wanted = listed.into_iter().filter(|r| names.wants(&r.name));
    try_join_all(wanted.map(|mut rule| async move {
        let (tags, targets) = tokio::try_join!(
            async { tolerate(rule_tags(session, region, &rule.arn).await, denied) },
            async { tolerate(rule_targets(session, region, &rule.name).await, denied) },
        )?;
        rule.tags = tags;
        rule.targets = targets;
        Ok::<_, Error>(rule)
    }))
    .await
}

/// The default bus's rules whose names start with cis-fix's prefix.
async fn list_rules(session: &Session, region: &str) -> Result<Vec<EventRule>> {
    let client = session.events(region);
    let mut rules = Vec::new();
    let mut token = None;
    // ListRules has no paginator in the SDK: `NextToken` by hand.
    loop {
        let page = client
            .list_rules()
            .name_prefix("cis-fix-")
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| aws_error("events:ListRules", region, e))?;
        rules.extend(
            page.rules
                .unwrap_or_default()
                .into_iter()
                .map(|r| EventRule {
                    name: r.name.unwrap_or_default(),
                    arn: r.arn.unwrap_or_default(),
                    state: r.state.map(|s| s.as_str().to_string()).unwrap_or_default(),
                    event_pattern: r.event_pattern,
                    tags: None,
                    targets: Vec::new(),
                }),
        );
        token = page.next_token;
        if token.is_none() {
            return Ok(rules);
        }
    }
}

async fn rule_tags(
    session: &Session,
    region: &str,
    arn: &str,
) -> Result<Option<BTreeMap<String, String>>> {
    let out = session
        .events(region)
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| aws_error("events:ListTagsForResource", region, e))?;
    Ok(Some(
        out.tags
            .unwrap_or_default()
            .into_iter()
            .map(|t| (t.key, t.value))
            .collect(),
    ))
}

async fn rule_targets(session: &Session, region: &str, rule: &str) -> Result<Vec<RuleTarget>> {
    let client = session.events(region);
    let mut targets = Vec::new();
    let mut token = None;
    loop {
        let page = client
            .list_targets_by_rule()
            .rule(rule)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| aws_error("events:ListTargetsByRule", region, e))?;
        targets.extend(
            page.targets
                .unwrap_or_default()
                .into_iter()
                .map(|t| RuleTarget {
                    id: t.id,
                    arn: t.arn,
                    role_arn: t.role_arn,
                }),
        );
        token = page.next_token;
        if token.is_none() {
            return Ok(targets);
        }
    }
}

/// The transformers that decide what a filter on transformed logs sees. Read only for the log
/// groups that have such a filter, so an account without one makes no extra call.
async fn transformers(
    session: &Session,
    region: &str,
    filters: &[MetricFilter],
    denied: &Denied,
) -> Result<Option<Transformers>> {
    let groups: BTreeSet<&str> = filters
        .iter()
        .filter(|f| f.apply_on_transformed_logs)
        .map(|f| f.log_group.as_str())
        .collect();
    if groups.is_empty() {
        return Ok(None);
    }
    let (own, policies) = tokio::try_join!(
        try_join_all(groups.iter().map(|group| async move {
            tolerate(
                own_transformer(session, region, group).await.map(Some),
                denied,
            )
        })),
        async {
            tolerate(
                transformer_policies(session, region).await.map(Some),
                denied,
            )
        },
    )?;
    Ok(Some(Transformers {
        own: groups
            .into_iter()
            .zip(own)
            .filter_map(|(group, has)| Some((group.to_string(), has?)))
            .collect(),
        policies,
    }))
}

/// `GetTransformer`: whether the log group has a transformer of its own. AWS answers
/// ResourceNotFoundException for a group without one (and for a group that is gone).
async fn own_transformer(session: &Session, region: &str, log_group: &str) -> Result<bool> {
    match session
        .logs(region)
        .get_transformer()
        .log_group_identifier(log_group)
        .send()
        .await
    {
        // A transformer has at least one processor: an empty one is none.
        Ok(out) => Ok(!out.transformer_config.unwrap_or_default().is_empty()),
        Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(false),
        Err(e) => Err(aws_error("logs:GetTransformer", region, e)),
    }
}

/// `DescribeAccountPolicies` for `TRANSFORMER_POLICY`: the account-level transformers, which
/// apply to the log groups their selection criteria select that have none of their own.
async fn transformer_policies(session: &Session, region: &str) -> Result<Vec<TransformerPolicy>> {
    let client = session.logs(region);
    let mut policies = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let out = client
            .describe_account_policies()
            .policy_type(PolicyType::TransformerPolicy)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| aws_error("logs:DescribeAccountPolicies", region, e))?;
        policies.extend(
            out.account_policies
                .unwrap_or_default()
                .into_iter()
                .map(|p| TransformerPolicy {
                    name: p.policy_name.unwrap_or_default(),
                    selection_criteria: p.selection_criteria.filter(|c| !c.trim().is_empty()),
                }),
        );
        // A token repeated would page forever.
        match out.next_token.filter(|t| !t.is_empty()) {
            Some(next) if token.as_ref() != Some(&next) => token = Some(next),
            _ => break,
        }
    }
    Ok(policies)
}

/// The SNS topics a chain in this region may rely on: those named by the alarms on any
/// filter's metric (whatever the control, so the reads do not depend on the selection), and
/// the topics cis-fix looked at by name or ARN.
fn candidate_topics(region: &str, snapshot: &RegionSnapshot) -> BTreeSet<String> {
    let watched = |a: &Alarm| {
        snapshot.metric_filters.iter().any(|f| {
            a.metric_name.as_deref() == Some(f.metric_name.as_str())
                && a.namespace.as_deref() == Some(f.metric_namespace.as_str())
        })
    };
    let from_alarms = snapshot
        .alarms
        .iter()
        .filter(|a| watched(a))
        .flat_map(|a| a.alarm_actions.iter())
        .filter(|action| {
            Arn::parse(action).is_some_and(|a| a.service == "sns" && a.region == region)
        })
        .cloned();
    let known = snapshot
        .topics
        .iter()
        .filter(|t| t.exists)
        .map(|t| t.arn.clone());
    from_alarms.chain(known).collect()
}

/// What decides whether an alarm's notification gets through: each candidate topic's
/// attributes, then the keys they are encrypted with, then the customer managed keys'
/// policies. Denied reads are recorded like any other, and leave the link unproven.
async fn delivery(
    session: &Session,
    region: &str,
    key_of_interest: Option<&str>,
    snapshot: &mut RegionSnapshot,
    denied: &Denied,
) -> Result<()> {
    let arns = candidate_topics(region, snapshot);
    let attributes =
        try_join_all(arns.iter().map(|arn| async move {
            tolerate(topic_attributes(session, region, arn).await, denied)
        }))
        .await?;
    for (arn, read) in arns.into_iter().zip(attributes) {
        let Some((exists, delivery)) = read else {
            continue;
        };
        match snapshot.topics.iter_mut().find(|t| t.arn == arn) {
            Some(topic) => {
                topic.exists = exists;
                topic.delivery = delivery;
            }
            None => snapshot.topics.push(Topic {
                arn,
                exists,
                tags: BTreeMap::new(),
                delivery,
            }),
        }
    }

    let references: BTreeSet<String> = snapshot
        .topics
        .iter()
        .filter_map(|t| t.delivery.as_ref()?.kms_master_key_id.clone())
        .chain(key_of_interest.map(str::to_string))
        .collect();
    // `Some(metadata)` when described (`metadata` is `None` for no such key); `None` when
    // AWS denied the description, which says nothing about whether the key exists.
    let described = try_join_all(references.iter().map(|reference| async move {
        tolerate(
            describe_key(session, region, reference).await.map(Some),
            denied,
        )
    }))
    .await?;
    let policies = try_join_all(references.iter().zip(&described).map(
        |(_, described)| async move {
            match described {
                // An AWS managed key's policy is fixed by AWS: nothing to learn from reading it.
                Some(Some(m)) if m.manager != "AWS" => {
                    tolerate(key_policy(session, region, &m.arn).await, denied)
                }
                _ => Ok(None),
            }
        },
    ))
    .await?;
    // A key whose description was denied is left out: the audit then finds no facts about it
    // and leaves the link unproven (a drill can still prove it), where a listed key without
    // metadata is one that does not exist.
    snapshot.keys = references
        .into_iter()
        .zip(described)
        .zip(policies)
        .filter_map(|((reference, described), policy)| {
            described.map(|metadata| KmsKey {
                reference,
                metadata,
                policy,
            })
        })
        .collect();
    Ok(())
}

/// `GetTopicAttributes`: whether the topic exists, and its key and policy. `None` (by
/// [`tolerate`]'s default) when the read was denied.
async fn topic_attributes(
    session: &Session,
    region: &str,
    arn: &str,
) -> Result<Option<(bool, Option<TopicDelivery>)>> {
    match session
        .sns(region)
        .get_topic_attributes()
        .topic_arn(arn)
        .send()
        .await
    {
        Ok(out) => {
            let mut attributes = out.attributes.unwrap_or_default();
            let kms_master_key_id = attributes
                .remove("KmsMasterKeyId")
                .filter(|k| !k.is_empty());
            Ok(Some((
                true,
                Some(TopicDelivery {
                    kms_master_key_id,
                    policy: attributes.remove("Policy").filter(|p| !p.is_empty()),
                }),
            )))
        }
        Err(e) if matches!(e.code(), Some("NotFound" | "ResourceNotFound")) => {
            Ok(Some((false, None)))
        }
        Err(e) => Err(aws_error("sns:GetTopicAttributes", region, e)),
    }
}

/// `DescribeKey` on a key as a topic names it; `None` when there is no such key.
async fn describe_key(
    session: &Session,
    region: &str,
    reference: &str,
) -> Result<Option<KeyMetadata>> {
    match session
        .kms(region)
        .describe_key()
        .key_id(reference)
        .send()
        .await
    {
        Ok(out) => Ok(out.key_metadata.map(|m| KeyMetadata {
            arn: m.arn.unwrap_or_else(|| m.key_id.clone()),
            manager: m
                .key_manager
                .map(|k| k.as_str().to_string())
                .unwrap_or_default(),
            state: m
                .key_state
                .map(|s| s.as_str().to_string())
                .unwrap_or_default(),
        })),
        Err(e) if e.code() == Some("NotFoundException") => Ok(None),
        Err(e) => Err(aws_error("kms:DescribeKey", region, e)),
    }
}

/// `GetKeyPolicy` (the only key policy name KMS has: `default`).
async fn key_policy(session: &Session, region: &str, key_arn: &str) -> Result<Option<String>> {
    let out = session
        .kms(region)
        .get_key_policy()
        .key_id(key_arn)
        .policy_name("default")
        .send()
        .await
        .map_err(|e| aws_error("kms:GetKeyPolicy", region, e))?;
    Ok(out.policy)
}

/// The tags of every alarm whose description claims it is cis-fix's (one call each): a
/// description anyone may copy, so only the tags, read, can confirm it. An alarm whose tags
/// cannot be read keeps `tags: None` and is never treated as cis-fix's.
async fn claimed_alarm_tags(
    session: &Session,
    region: &str,
    snapshot: &mut RegionSnapshot,
    denied: &Denied,
) -> Result<()> {
    let claimed: Vec<(usize, String)> = snapshot
        .alarms
        .iter()
        .enumerate()
        .filter(|(_, a)| ownership::alarm_record(a.description.as_deref()).is_some())
        .map(|(i, a)| (i, a.arn.clone()))
        .collect();
    let tags = try_join_all(claimed.iter().map(|(_, arn)| async move {
        tolerate(alarm_tags(session, region, arn).await.map(Some), denied)
    }))
    .await?;
    for ((i, _), tags) in claimed.iter().zip(tags) {
        if let Some(alarm) = snapshot.alarms.get_mut(*i) {
            alarm.tags = tags;
        }
    }
    Ok(())
}

/// Every subscription to cis-fix's own topic, whichever account made it: `ListSubscriptions`
/// shows only the caller's own, so a central security account's queue subscribed to the topic
/// would be invisible, and the topic judged (or deleted) without it. Read only when the topic
/// exists and carries cis-fix's mark; replaces what `ListSubscriptions` gave for it.
async fn own_topic_subscriptions(
    session: &Session,
    region: &str,
    arn: &str,
    snapshot: &mut RegionSnapshot,
    denied: &Denied,
) -> Result<()> {
    let marked = snapshot
        .topic(arn)
        .is_some_and(|t| t.exists && ownership::is_managed(&t.tags));
    if !marked {
        return Ok(());
    }
    let Some(all) = tolerate(
        topic_subscriptions(session, region, arn).await.map(Some),
        denied,
    )?
    else {
        return Ok(());
    };
    snapshot.subscriptions.retain(|s| s.topic_arn != arn);
    snapshot.subscriptions.extend(all);
    Ok(())
}

/// The extra reads of [`ReadMode::Backout`], for the alarms that claim to be cis-fix's: the
/// filters their records name on log groups no trail writes to (any more), and the topics they
/// notify.
async fn claimed_elsewhere(
    session: &Session,
    region: &str,
    log_groups: &BTreeSet<String>,
    snapshot: &mut RegionSnapshot,
    denied: &Denied,
) -> Result<()> {
    let mut extra_groups = BTreeSet::new();
    let mut extra_topics = BTreeSet::new();
    for alarm in &snapshot.alarms {
        let Some(record) = ownership::alarm_record(alarm.description.as_deref()) else {
            continue;
        };
        if let Some(filter) = record.filter {
            if !log_groups.contains(&filter.log_group) {
                extra_groups.insert(filter.log_group);
            }
        }
        for action in &alarm.alarm_actions {
            let in_region =
                Arn::parse(action).is_some_and(|a| a.service == "sns" && a.region == region);
            if in_region && !snapshot.topics.iter().any(|t| &t.arn == action) {
                extra_topics.insert(action.clone());
            }
        }
    }
    let (filters, topics) =
        tokio::try_join!(
            try_join_all(extra_groups.iter().map(|g| async move {
                tolerate(metric_filters(session, region, g).await, denied)
            })),
            try_join_all(extra_topics.into_iter().map(|arn| async move {
                tolerate(topic(session, region, arn).await.map(Some), denied)
            })),
        )?;
    snapshot
        .metric_filters
        .extend(filters.into_iter().flatten());
    snapshot.topics.extend(topics.into_iter().flatten());
    Ok(())
}

async fn alarm_tags(
    session: &Session,
    region: &str,
    arn: &str,
) -> Result<BTreeMap<String, String>> {
    let out = session
        .cloudwatch(region)
        .list_tags_for_resource()
        .resource_arn(arn)
        .send()
        .await
        .map_err(|e| aws_error("cloudwatch:ListTagsForResource", region, e))?;
    Ok(out
        .tags
        .unwrap_or_default()
        .into_iter()
        .filter_map(|t| Some((t.key?, t.value?)))
        .collect())
}

async fn metric_filters(
    session: &Session,
    region: &str,
    log_group: &str,
) -> Result<Vec<MetricFilter>> {
    let client = session.logs(region);
    let mut pages = client
        .describe_metric_filters()
        .log_group_name(log_group)
        .into_paginator()
        .send();
    let mut filters = Vec::new();
    while let Some(page) = pages.next().await {
        let page = match page {
            Ok(page) => page,
            // A trail may name a log group that was deleted since: it simply has no filters.
            Err(e) if e.code() == Some("ResourceNotFoundException") => break,
            Err(e) => return Err(aws_error("logs:DescribeMetricFilters", region, e)),
        };
        filters.extend(
            page.metric_filters
                .unwrap_or_default()
                .into_iter()
                .filter_map(|f| metric_filter(f, log_group)),
        );
    }
    Ok(filters)
}

/// A metric filter as the audit reads it; `None` without a metric transformation.
fn metric_filter(
    f: aws_sdk_cloudwatchlogs::types::MetricFilter,
    log_group: &str,
) -> Option<MetricFilter> {
    let t = f
        .metric_transformations
        .unwrap_or_default()
        .into_iter()
        .next()?;
    let mut dimensions: Vec<String> = t.dimensions.unwrap_or_default().into_keys().collect();
    dimensions.sort();
    let mut emitted = f.emit_system_field_dimensions.unwrap_or_default();
    emitted.sort();
    emitted.dedup();
    Some(MetricFilter {
        log_group: f.log_group_name.unwrap_or_else(|| log_group.to_string()),
        name: f.filter_name.unwrap_or_default(),
        pattern: f.filter_pattern.unwrap_or_default(),
        metric_name: t.metric_name,
        metric_namespace: t.metric_namespace,
        metric_value: t.metric_value,
        default_value: t.default_value,
        unit: t.unit.map(|u| u.as_str().to_string()),
        dimensions,
        // cis-fix clears the criteria with "" (see `apply::perform`): that selects nothing out.
        field_selection_criteria: f.field_selection_criteria.filter(|c| !c.is_empty()),
        emit_system_field_dimensions: emitted,
        apply_on_transformed_logs: f.apply_on_transformed_logs,
    })
}

async fn alarms(session: &Session, region: &str) -> Result<Vec<Alarm>> {
    let client = session.cloudwatch(region);
    let mut pages = client
        .describe_alarms()
        .alarm_types(AlarmType::MetricAlarm)
        .max_records(100)
        .into_paginator()
        .send();
    let mut alarms = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| aws_error("cloudwatch:DescribeAlarms", region, e))?;
        alarms.extend(
            page.metric_alarms
                .unwrap_or_default()
                .into_iter()
                .map(alarm),
        );
    }
    Ok(alarms)
}

fn alarm(a: aws_sdk_cloudwatch::types::MetricAlarm) -> Alarm {
    let mut dimensions: Vec<String> = a
        .dimensions
        .unwrap_or_default()
        .into_iter()
        .filter_map(|d| d.name)
        .collect();
    dimensions.sort();
    let mut other_actions = a.ok_actions.unwrap_or_default();
    other_actions.extend(a.insufficient_data_actions.unwrap_or_default());
    Alarm {
        name: a.alarm_name.unwrap_or_default(),
        arn: a.alarm_arn.unwrap_or_default(),
        metric_name: a.metric_name,
        namespace: a.namespace,
        dimensions,
        actions_enabled: a.actions_enabled.unwrap_or(false),
        alarm_actions: a.alarm_actions.unwrap_or_default(),
        other_actions,
        description: a.alarm_description,
        statistic: a.statistic.map(|s| s.as_str().to_string()),
        period: a.period,
        threshold: a.threshold,
        comparison_operator: a.comparison_operator.map(|c| c.as_str().to_string()),
        evaluation_periods: a.evaluation_periods,
        extended_statistic: a.extended_statistic,
        datapoints_to_alarm: a.datapoints_to_alarm,
        unit: a.unit.map(|u| u.as_str().to_string()),
        treat_missing_data: a.treat_missing_data,
        state: a.state_value.map(|s| s.as_str().to_string()),
        tags: None,
    }
}

/// The metric alarm of this name as it is now, with its tags when it has a cis-fix record (for
/// the check right before a write); `None` when there is none.
/// The default bus's rule of that name, with its tags and targets, for the write guard; `None`
/// when there is none (DescribeRule's ResourceNotFoundException).
pub async fn rule_named(session: &Session, region: &str, name: &str) -> Result<Option<EventRule>> {
    let out = match session
        .events(region)
        .describe_rule()
        .name(name)
        .send()
        .await
    {
        Ok(out) => out,
        Err(e) if e.code() == Some("ResourceNotFoundException") => return Ok(None),
        Err(e) => return Err(aws_error("events:DescribeRule", region, e)),
    };
    let arn = out.arn.unwrap_or_default();
    Ok(Some(EventRule {
        name: out.name.unwrap_or_default(),
        tags: rule_tags(session, region, &arn).await?,
        targets: rule_targets(session, region, name).await?,
        arn,
        state: out
            .state
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        event_pattern: out.event_pattern,
    }))
}

pub async fn alarm_named(session: &Session, region: &str, name: &str) -> Result<Option<Alarm>> {
    let out = session
        .cloudwatch(region)
        .describe_alarms()
        .alarm_names(name)
        // Without AlarmTypes, DescribeAlarms returns metric alarms only.
        .alarm_types(AlarmType::MetricAlarm)
        .alarm_types(AlarmType::CompositeAlarm)
        .send()
        .await
        .map_err(|e| aws_error("cloudwatch:DescribeAlarms", region, e))?;
    let found = out
        .metric_alarms
        .unwrap_or_default()
        .into_iter()
        .map(alarm)
        .find(|a| a.name == name);
    // A composite alarm of that name takes the name too.
    let composite = out
        .composite_alarms
        .unwrap_or_default()
        .iter()
        .any(|a| a.alarm_name.as_deref() == Some(name));
    let Some(mut found) = found else {
        return Ok(composite.then(|| Alarm {
            name: name.to_string(),
            ..Alarm::default()
        }));
    };
    if ownership::alarm_record(found.description.as_deref()).is_some() {
        found.tags = Some(alarm_tags(session, region, &found.arn).await?);
    }
    Ok(Some(found))
}

/// The metric filter of this name on `log_group` as it is now; `None` when there is none.
pub async fn metric_filter_named(
    session: &Session,
    region: &str,
    log_group: &str,
    name: &str,
) -> Result<Option<MetricFilter>> {
    let out = session
        .logs(region)
        .describe_metric_filters()
        .log_group_name(log_group)
        .filter_name_prefix(name)
        .send()
        .await;
    let out = match out {
        Ok(out) => out,
        Err(e) if e.code() == Some("ResourceNotFoundException") => return Ok(None),
        Err(e) => return Err(aws_error("logs:DescribeMetricFilters", region, e)),
    };
    Ok(out
        .metric_filters
        .unwrap_or_default()
        .into_iter()
        .filter_map(|f| metric_filter(f, log_group))
        .find(|f| f.name == name))
}

/// Every subscription to a topic, whichever account made it (`ListSubscriptionsByTopic`, which
/// shows the topic's owner all of them).
pub async fn topic_subscriptions(
    session: &Session,
    region: &str,
    arn: &str,
) -> Result<Vec<Subscription>> {
    let client = session.sns(region);
    let mut pages = client
        .list_subscriptions_by_topic()
        .topic_arn(arn)
        .into_paginator()
        .send();
    let mut subscriptions = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| aws_error("sns:ListSubscriptionsByTopic", region, e))?;
        // Asked by topic: each is that topic's, whatever the reply leaves out.
        subscriptions.extend(page.subscriptions.unwrap_or_default().into_iter().map(|s| {
            Subscription {
                topic_arn: arn.to_string(),
                ..subscription(s)
            }
        }));
    }
    Ok(subscriptions)
}

async fn subscriptions(session: &Session, region: &str) -> Result<Vec<Subscription>> {
    let client = session.sns(region);
    let mut pages = client.list_subscriptions().into_paginator().send();
    let mut subscriptions = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| aws_error("sns:ListSubscriptions", region, e))?;
        subscriptions.extend(
            page.subscriptions
                .unwrap_or_default()
                .into_iter()
                .map(subscription),
        );
    }
    Ok(subscriptions)
}

fn subscription(s: aws_sdk_sns::types::Subscription) -> Subscription {
    Subscription {
        arn: s.subscription_arn.unwrap_or_default(),
        topic_arn: s.topic_arn.unwrap_or_default(),
        protocol: s.protocol.unwrap_or_default(),
        endpoint: s.endpoint.unwrap_or_default(),
    }
}

/// Whether a topic exists, and its tags (cis-fix's ownership marks), in one call.
pub async fn topic(session: &Session, region: &str, arn: String) -> Result<Topic> {
    let client = session.sns(region);
    match client
        .list_tags_for_resource()
        .resource_arn(&arn)
        .send()
        .await
    {
        Ok(out) => Ok(Topic {
            arn,
            exists: true,
            delivery: None,
            tags: out
                .tags
                .unwrap_or_default()
                .into_iter()
                .map(|t| (t.key, t.value))
                .collect(),
        }),
        Err(e)
            if matches!(
                e.code(),
                Some("ResourceNotFound" | "NotFound" | "ResourceNotFoundException")
            ) =>
        {
            Ok(Topic {
                arn,
                exists: false,
                tags: BTreeMap::new(),
                delivery: None,
            })
        }
        Err(e) => Err(aws_error("sns:ListTagsForResource", region, e)),
    }
}

/// An alarm's `Action` history items since `since` (for `cis-fix drill`), newest first.
pub async fn alarm_action_history(
    session: &Session,
    region: &str,
    alarm_name: &str,
    since: std::time::SystemTime,
) -> Result<Vec<HistoryItem>> {
    use aws_sdk_cloudwatch::types::{HistoryItemType, ScanBy};
    let client = session.cloudwatch(region);
    let mut pages = client
        .describe_alarm_history()
        .alarm_name(alarm_name)
        .history_item_type(HistoryItemType::Action)
        .start_date(aws_smithy_types::DateTime::from(since))
        .scan_by(ScanBy::TimestampDescending)
        .into_paginator()
        .send();
    let mut items = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| aws_error("cloudwatch:DescribeAlarmHistory", region, e))?;
        for item in page.alarm_history_items.unwrap_or_default() {
            items.push(HistoryItem {
                summary: item.history_summary.unwrap_or_default(),
                data: item.history_data.unwrap_or_default(),
            });
        }
    }
    Ok(items)
}

/// Asks AWS's own evaluator (`logs:TestMetricFilter`) whether each pattern matches its
/// witness events; records the answers in the snapshot. A denied call is noted once, and the
/// verdicts then rest on cis-fix's proof alone; it does not make anything not auditable.
pub async fn test_patterns(
    session: &Session,
    requests: &[WitnessRequest],
    snapshot: &mut Snapshot,
) -> Result<()> {
    let results = try_join_all(requests.iter().map(|request| async move {
        let region = request.region.as_str();
        let out = session
            .logs(region)
            .test_metric_filter()
            .filter_pattern(&request.pattern)
            .set_log_event_messages(Some(request.events.clone()))
            .send()
            .await;
        match out {
            Ok(out) => {
                let matched: BTreeSet<i64> = out
                    .matches
                    .unwrap_or_default()
                    .iter()
                    .map(|m| m.event_number)
                    .collect();
                let tests = request
                    .events
                    .iter()
                    .enumerate()
                    .map(|(i, event)| PatternTest {
                        region: region.to_string(),
                        pattern: request.pattern.clone(),
                        event: event.clone(),
                        matched: i64::try_from(i + 1).is_ok_and(|n| matched.contains(&n)),
                    })
                    .collect();
                Ok(Ok(tests))
            }
            Err(e) => {
                let error = aws_error("logs:TestMetricFilter", region, e);
                match &error {
                    Error::Aws { message, .. } if is_denied(message) => Ok(Err(ReadFailure {
                        permission: "logs:TestMetricFilter".into(),
                        region: region.to_string(),
                    })),
                    // AWS rejects a pattern it would not accept today: no evidence either way.
                    Error::Aws { message, .. }
                        if message.starts_with("InvalidParameterException") =>
                    {
                        Ok(Ok(Vec::new()))
                    }
                    _ => Err(error),
                }
            }
        }
    }))
    .await?;
    for result in results {
        match result {
            Ok(tests) => snapshot.pattern_tests.extend(tests),
            Err(denied) => {
                snapshot.pattern_tests_denied.get_or_insert(denied);
            }
        }
    }
    Ok(())
}
