//! What cis-fix knows about an account: a plain snapshot, read from AWS by [`aws`] and
//! nothing else. The audit works on this data only, so it is tested without AWS.

pub mod aws;
pub mod logs;
pub mod org;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub account_id: String,
    /// The region trails were discovered from.
    pub region: String,
    pub trails: Vec<Trail>,
    /// Per region that a trail's log group lives in (where filters, alarms and topics must be).
    pub regions: BTreeMap<String, RegionSnapshot>,
    /// Reads that were denied: what is missing from this snapshot, and which permission would
    /// have read it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub unreadable: Vec<ReadFailure>,
    /// AWS's own answers (`logs:TestMetricFilter`) on whether a user's filter pattern matches
    /// the witness events of the controls it seems to cover.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pattern_tests: Vec<PatternTest>,
    /// Set when `logs:TestMetricFilter` was denied: verdicts rest on cis-fix's proof alone.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pattern_tests_denied: Option<ReadFailure>,
}

/// One witness event sent to `logs:TestMetricFilter` with a filter pattern, and AWS's answer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PatternTest {
    pub region: String,
    pub pattern: String,
    /// The event, as the JSON text sent.
    pub event: String,
    pub matched: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
pub struct ReadFailure {
    /// The IAM action that was denied, e.g. `logs:DescribeMetricFilters`.
    pub permission: String,
    pub region: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Trail {
    pub name: String,
    pub arn: String,
    pub home_region: String,
    pub is_multi_region: bool,
    pub is_logging: bool,
    /// `CloudWatchLogsLogGroupArn`, when the trail sends to CloudWatch Logs.
    pub log_group_arn: Option<String>,
    pub event_selectors: Vec<EventSelector>,
    pub advanced_event_selectors: Vec<AdvancedEventSelector>,
    /// `IsOrganizationTrail`: it logs every account of the organization.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub is_organization_trail: bool,
    /// Its status and selectors could not be read: AWS lets only a trail's owner read them, so
    /// an organization trail seen from a member account is listed but hidden.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub details_hidden: bool,
}

impl Trail {
    /// The account that owns the trail (from its ARN).
    pub fn owner(&self) -> Option<&str> {
        Arn::parse(&self.arn).map(|a| a.account)
    }
}

/// A classic event selector (`GetEventSelectors.EventSelectors`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventSelector {
    /// `All`, `ReadOnly` or `WriteOnly`.
    pub read_write_type: String,
    pub include_management_events: bool,
    pub exclude_management_event_sources: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AdvancedEventSelector {
    pub name: Option<String>,
    pub field_selectors: Vec<FieldSelector>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct FieldSelector {
    pub field: String,
    pub equals: Vec<String>,
    pub not_equals: Vec<String>,
    pub starts_with: Vec<String>,
    pub not_starts_with: Vec<String>,
    pub ends_with: Vec<String>,
    pub not_ends_with: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RegionSnapshot {
    /// Metric filters on the log groups that trails write to in this region.
    pub metric_filters: Vec<MetricFilter>,
    pub alarms: Vec<Alarm>,
    pub subscriptions: Vec<Subscription>,
    /// Topics cis-fix looked at: its own (by name), `--topic-arn`, and every topic an alarm
    /// on a filter's metric notifies. Existence, tags and the attributes delivery depends on.
    pub topics: Vec<Topic>,
    /// The KMS keys those topics are encrypted with, and `--topic-kms-key`. A key whose
    /// `DescribeKey` AWS denied is not listed (the denial is in [`Snapshot::unreadable`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub keys: Vec<KmsKey>,
    /// Transformers of the log groups that have a filter on transformed logs; `None` when
    /// no filter runs on transformed logs (nothing was read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transformers: Option<Transformers>,
    /// The EventBridge rules (default bus) named as a control's watch rule
    /// (`cis-fix-SLUG-watch`), read only when the benchmark has a control with one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub rules: Vec<EventRule>,
}

/// An EventBridge rule as `ListRules`, `ListTagsForResource` and `ListTargetsByRule` show it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct EventRule {
    pub name: String,
    pub arn: String,
    /// `ENABLED`, `DISABLED` or `ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS`.
    pub state: String,
    /// The event pattern as EventBridge returns it; `None` for a scheduled rule.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_pattern: Option<String>,
    /// `None` when the read was denied: the rule is then not proven cis-fix's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
    pub targets: Vec<RuleTarget>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct RuleTarget {
    pub id: String,
    pub arn: String,
    /// A role EventBridge assumes to deliver; cis-fix sets none (SNS takes the topic policy).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_arn: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct MetricFilter {
    pub log_group: String,
    pub name: String,
    pub pattern: String,
    /// The first metric transformation (CloudWatch Logs allows exactly one).
    pub metric_name: String,
    pub metric_namespace: String,
    pub metric_value: String,
    /// `defaultValue`: what the filter publishes for a log event it does not match.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default_value: Option<f64>,
    /// `unit` of the published metric; `None` publishes with unit `None`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// Dimension keys the filter publishes its metric with.
    pub dimensions: Vec<String>,
    /// `fieldSelectionCriteria`: only log events whose source (the account or region that
    /// sent them to the log group) it selects reach the filter; `None` when not set.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub field_selection_criteria: Option<String>,
    /// `emitSystemFieldDimensions` (`@aws.account`, `@aws.region`): further dimensions, one
    /// series per source account or region.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub emit_system_field_dimensions: Vec<String>,
    /// `applyOnTransformedLogs`: the pattern runs on the log transformer's output, if the log
    /// group has a transformer.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub apply_on_transformed_logs: bool,
}

impl MetricFilter {
    /// Whether the filter uses a field that narrows or reshapes what it counts; cis-fix's own
    /// filters never do.
    pub fn uses_source_fields(&self) -> bool {
        self.field_selection_criteria.is_some()
            || !self.emit_system_field_dimensions.is_empty()
            || self.apply_on_transformed_logs
    }
}

/// What decides which transformer a log group's events pass through, read only for the log
/// groups that have a filter on transformed logs.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Transformers {
    /// Per log group: whether it has a transformer of its own (`GetTransformer`). A group
    /// whose read was denied is not listed (the denial is in [`Snapshot::unreadable`]).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub own: BTreeMap<String, bool>,
    /// The account's transformer policies (`DescribeAccountPolicies`, `TRANSFORMER_POLICY`);
    /// `None` when the read was denied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policies: Option<Vec<TransformerPolicy>>,
}

/// An account-level transformer policy: it applies to every log group its selection
/// criteria select, unless the group has a transformer of its own.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TransformerPolicy {
    pub name: String,
    /// `selectionCriteria` (`LogGroupNamePrefix IN [...]`); `None` selects every log group.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub selection_criteria: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Alarm {
    pub name: String,
    pub arn: String,
    /// `None` for alarms on metric math or other alarm types.
    pub metric_name: Option<String>,
    pub namespace: Option<String>,
    pub dimensions: Vec<String>,
    pub actions_enabled: bool,
    pub alarm_actions: Vec<String>,
    /// `OKActions` and `InsufficientDataActions`: a topic named only there is notified too.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub other_actions: Vec<String>,
    pub description: Option<String>,
    pub statistic: Option<String>,
    pub period: Option<i32>,
    pub threshold: Option<f64>,
    pub comparison_operator: Option<String>,
    pub evaluation_periods: Option<i32>,
    /// Percentile and other extended statistics (`p99`, `tm90`, …), instead of `statistic`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extended_statistic: Option<String>,
    /// `DatapointsToAlarm` (M of `EvaluationPeriods` N); `None` means N.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub datapoints_to_alarm: Option<i32>,
    /// The unit the alarm's metric must have; `None` for any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unit: Option<String>,
    /// `TreatMissingData`: `missing` (default), `notBreaching`, `breaching` or `ignore`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub treat_missing_data: Option<String>,
    /// `StateValue`: `OK`, `ALARM` or `INSUFFICIENT_DATA`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// The alarm's tags, read for every alarm whose description claims it is cis-fix's (only
    /// the tags can confirm it); `None` when not read, or when the read was denied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tags: Option<BTreeMap<String, String>>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Subscription {
    /// A real ARN, or `PendingConfirmation` (or `Deleted`) as SNS reports it.
    pub arn: String,
    pub topic_arn: String,
    pub protocol: String,
    pub endpoint: String,
}

impl std::fmt::Display for ReadFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} ({})", self.permission, self.region)
    }
}

impl Subscription {
    /// SNS reports unconfirmed subscriptions with a placeholder instead of an ARN.
    pub fn is_confirmed(&self) -> bool {
        self.arn.starts_with("arn:")
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Topic {
    pub arn: String,
    pub exists: bool,
    pub tags: BTreeMap<String, String>,
    /// `GetTopicAttributes`: what decides whether CloudWatch may publish to the topic. `None`
    /// when not read (the read was denied, or the topic does not exist).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery: Option<TopicDelivery>,
}

/// The topic attributes that decide whether an alarm's notification gets through.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TopicDelivery {
    /// `KmsMasterKeyId`: the key the topic is encrypted with, as the topic names it (an alias,
    /// alias ARN, key id or key ARN); `None` when the topic is not encrypted.
    pub kms_master_key_id: Option<String>,
    /// `Policy`: the topic's access policy (JSON). AWS always returns one; `None` means
    /// AWS's default policy.
    pub policy: Option<String>,
}

/// A KMS key as `DescribeKey` and `GetKeyPolicy` show it.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KmsKey {
    /// How a topic (or `--topic-kms-key`) names the key; the lookup key.
    pub reference: String,
    /// `None` when `DescribeKey` found no such key (not when it was denied: such a key is
    /// not listed at all).
    pub metadata: Option<KeyMetadata>,
    /// The key policy named `default`; `None` when not read (an AWS managed key, whose policy
    /// is fixed, or a denied read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub policy: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KeyMetadata {
    pub arn: String,
    /// `AWS` for an AWS managed key (such as `alias/aws/sns`), `CUSTOMER` otherwise.
    pub manager: String,
    /// `Enabled`, `Disabled`, `PendingDeletion`, …
    pub state: String,
}

impl KmsKey {
    pub fn is_aws_managed(&self) -> bool {
        self.metadata.as_ref().is_some_and(|m| m.manager == "AWS")
    }
}

impl RegionSnapshot {
    pub fn topic(&self, arn: &str) -> Option<&Topic> {
        self.topics.iter().find(|t| t.arn == arn)
    }

    pub fn key(&self, reference: &str) -> Option<&KmsKey> {
        self.keys.iter().find(|k| k.reference == reference)
    }

    pub fn rule(&self, name: &str) -> Option<&EventRule> {
        self.rules.iter().find(|r| r.name == name)
    }
}

impl Alarm {
    /// Whether any of the alarm's actions (ALARM, OK or INSUFFICIENT_DATA) notifies `arn`.
    pub fn notifies(&self, arn: &str) -> bool {
        self.alarm_actions
            .iter()
            .chain(&self.other_actions)
            .any(|a| a == arn)
    }

    /// Whether the alarm watches this metric.
    pub fn watches(&self, namespace: &str, metric_name: &str) -> bool {
        self.namespace.as_deref() == Some(namespace)
            && self.metric_name.as_deref() == Some(metric_name)
    }
}

impl Snapshot {
    pub fn region(&self, region: &str) -> Option<&RegionSnapshot> {
        self.regions.get(region)
    }
}

/// One `logs:TestMetricFilter` call to make: the audit says which (`audit::witness::requests`),
/// the reader asks ([`aws::test_patterns`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessRequest {
    pub region: String,
    pub pattern: String,
    pub events: Vec<String>,
}

/// One `Action` item of an alarm's history (`DescribeAlarmHistory`), read for `cis-fix drill`
/// ([`aws::alarm_action_history`]).
#[derive(Debug, Clone, PartialEq)]
pub struct HistoryItem {
    pub summary: String,
    /// `HistoryData`: a JSON document.
    pub data: String,
}

/// Whom the credentials belong to (`sts:GetCallerIdentity`, read by [`aws::caller_identity`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallerIdentity {
    pub account: String,
    /// From the caller's own ARN (`aws`, `aws-cn`, `aws-us-gov`): the partition of the roles
    /// assumed from these credentials.
    pub partition: String,
}

/// The parts of an ARN cis-fix needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arn<'a> {
    pub partition: &'a str,
    pub service: &'a str,
    pub region: &'a str,
    pub account: &'a str,
    pub resource: &'a str,
}

impl<'a> Arn<'a> {
    pub fn parse(arn: &'a str) -> Option<Arn<'a>> {
        let mut parts = arn.splitn(6, ':');
        if parts.next()? != "arn" {
            return None;
        }
        let arn = Arn {
            partition: parts.next()?,
            service: parts.next()?,
            region: parts.next()?,
            account: parts.next()?,
            resource: parts.next()?,
        };
        (!arn.partition.is_empty() && !arn.service.is_empty()).then_some(arn)
    }
}

/// A log group named by a trail's `CloudWatchLogsLogGroupArn`
/// (`arn:aws:logs:REGION:ACCOUNT:log-group:NAME:*`).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct LogGroupRef {
    pub region: String,
    pub account: String,
    pub name: String,
}

impl LogGroupRef {
    pub fn from_arn(arn: &str) -> Option<LogGroupRef> {
        let parsed = Arn::parse(arn)?;
        if parsed.service != "logs" {
            return None;
        }
        let name = parsed.resource.strip_prefix("log-group:")?;
        let name = name.strip_suffix(":*").unwrap_or(name);
        (!name.is_empty() && !parsed.region.is_empty()).then(|| LogGroupRef {
            region: parsed.region.to_string(),
            account: parsed.account.to_string(),
            name: name.to_string(),
        })
    }
}

/// The AWS partition of a region (`aws`, `aws-cn`, `aws-us-gov`).
pub fn partition_of(region: &str) -> &'static str {
    if region.starts_with("cn-") {
        "aws-cn"
    } else if region.starts_with("us-gov-") {
        "aws-us-gov"
    } else {
        "aws"
    }
}

/// The ARN a topic of this name has (or will have once created).
pub fn topic_arn(region: &str, account: &str, name: &str) -> String {
    format!("arn:{}:sns:{region}:{account}:{name}", partition_of(region))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_group_arns_parse() {
        let lg = LogGroupRef::from_arn(
            "arn:aws:logs:eu-west-1:111122223333:log-group:aws-cloudtrail-logs-x:*",
        )
        .unwrap();
        assert_eq!(lg.region, "eu-west-1");
        assert_eq!(lg.account, "111122223333");
        assert_eq!(lg.name, "aws-cloudtrail-logs-x");
        // Names may contain '/', and the trailing `:*` is optional.
        let lg = LogGroupRef::from_arn("arn:aws:logs:us-east-1:1:log-group:/org/ct/logs").unwrap();
        assert_eq!(lg.name, "/org/ct/logs");
        for bad in [
            "",
            "arn:aws:sns:us-east-1:1:t",
            "arn:aws:logs:us-east-1:1:stream:x",
            "nope",
        ] {
            assert_eq!(LogGroupRef::from_arn(bad), None, "{bad}");
        }
    }

    #[test]
    fn topic_arns_follow_the_partition() {
        assert_eq!(
            topic_arn("us-east-1", "1", "t"),
            "arn:aws:sns:us-east-1:1:t"
        );
        assert_eq!(
            topic_arn("cn-north-1", "1", "t"),
            "arn:aws-cn:sns:cn-north-1:1:t"
        );
        assert_eq!(
            topic_arn("us-gov-west-1", "1", "t"),
            "arn:aws-us-gov:sns:us-gov-west-1:1:t"
        );
    }

    #[test]
    fn pending_subscriptions_are_not_confirmed() {
        let mut s = Subscription {
            arn: "PendingConfirmation".into(),
            ..Default::default()
        };
        assert!(!s.is_confirmed());
        s.arn = "arn:aws:sns:us-east-1:1:t:5f0e".into();
        assert!(s.is_confirmed());
    }
}
