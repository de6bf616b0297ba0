//! The plan as data: what the audit found per control, and the ordered calls an apply makes.

use std::collections::BTreeMap;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

pub use super::code::Code;
use crate::pattern::Relation;

/// Version of the JSON plan schema (documented in docs/json.md). 2: `put_metric_filter` names
/// its namespace `namespace`, as `put_metric_alarm` does (1 said `metric_namespace`).
pub const FORMAT_VERSION: u32 = 2;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Plan {
    #[schemars(extend("const" = FORMAT_VERSION))]
    pub format_version: u32,
    pub account_id: String,
    pub region: String,
    pub benchmark: String,
    /// Options that name something missing or unusable (`--topic-arn` of a topic that does
    /// not exist, …): the commands refuse such a plan before showing or applying it.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub input_errors: Vec<InputError>,
    /// Things said once about the whole plan (e.g. that AWS's pattern tests were denied).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// The topic cis-fix did not create that the plan's alarms would notify, chosen without
    /// `--notify` or `--topic-arn`: said once, prominently, so that a user (or another team)
    /// does not find new alarms on their topic by surprise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notifications: Option<TopicReuse>,
    pub trails: Vec<TrailReport>,
    pub controls: Vec<ControlReport>,
    pub actions: Vec<Action>,
    pub summary: Summary,
}

/// A topic cis-fix did not create, reused for the alarms it plans.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct TopicReuse {
    pub topic_arn: String,
    /// The controls of the benchmark (selected or not), in catalog order, whose compliant
    /// chain already notifies this topic. Empty when it is the topic of a user's alarm on the
    /// control's own filter, whose chain is not whole.
    pub delivers_for: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct TrailReport {
    pub name: String,
    pub arn: String,
    pub qualifies: bool,
    pub log_group: Option<String>,
    /// Why the trail cannot anchor a chain; empty when it can.
    pub problems: Vec<String>,
    /// For an organization trail: the account that owns it (the management account).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization_owner: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Compliant,
    NonCompliant,
    Blocked,
    /// A read the audit needed was denied: neither compliance nor a fix can be decided.
    NotAuditable,
}

impl Status {
    /// The wire name, as the JSON plans carry it (`non_compliant`).
    pub fn as_str(self) -> &'static str {
        match self {
            Status::Compliant => "compliant",
            Status::NonCompliant => "non_compliant",
            Status::Blocked => "blocked",
            Status::NotAuditable => "not_auditable",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ControlReport {
    pub id: String,
    pub slug: String,
    pub title: String,
    pub level: u8,
    pub status: Status,
    pub findings: Vec<Finding>,
    /// The chain that makes the control compliant.
    pub chain: Option<Chain>,
    /// A chain that is whole but for the proof that its topic delivers
    /// (`topic_delivery_unverified`, or a key policy cis-fix may not read): `cis-fix drill`
    /// can prove it by sending a test notification.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delivery_unproven: Option<Chain>,
    /// For a control that is not compliant: what it will be once the plan is applied.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub after_apply: Option<AfterApply>,
}

/// What a non-compliant control will be once the plan's actions are made.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AfterApply {
    Compliant,
    /// Whole once someone confirms a new email or https subscription.
    AwaitsConfirmation,
    /// Still not compliant: something the plan cannot create or prove (its findings say
    /// what).
    NonCompliant,
}

/// An option that names something missing or unusable.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct InputError {
    pub option: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Finding {
    pub code: Code,
    pub message: String,
    /// A line diff from an existing filter pattern (`-`) to the control's (`+`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diff: Option<String>,
    /// A minimal event the control's pattern matches and the existing filter's misses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub counterexample: Option<serde_json::Value>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Chain {
    /// The account the chain's filter, alarm and topic live in (the log group's account).
    #[serde(default)]
    pub account_id: String,
    pub trail: String,
    pub region: String,
    pub log_group: String,
    pub filter: String,
    pub relation: Relation,
    pub alarm: String,
    pub topic_arn: String,
    pub confirmed_subscriptions: usize,
    /// AWS's `logs:TestMetricFilter` verdict on the control's witness events, when the
    /// filter is not the catalog's own text and AWS was asked.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub evidence: Option<super::witness::Evidence>,
    /// When the filter satisfies the control only through one of the benchmark's alternative
    /// patterns (`also_accept`): that pattern, against which `relation` was judged. Absent
    /// when the control's own pattern decided. (Boxed: rare, and a chain is moved often.)
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub alternative: Option<Box<AcceptedAlternative>>,
}

/// One of the alternative patterns a benchmark itself allows for a control (`also_accept`),
/// narrower than the control's own: a chain through it misses what the note says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct AcceptedAlternative {
    /// Its place in the control's `also_accept` list, from 0.
    pub index: usize,
    /// What the catalog calls it (`SSO-aware alternative`), or `alternative N` (from 1).
    pub name: String,
    /// The pattern as the catalog writes it.
    pub pattern: String,
    /// What it leaves out, from the catalog (`misses root and federated sign-ins …`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Mode {
    Create,
    Change,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Action {
    pub mode: Mode,
    /// The control this action serves; null for a topic or subscription shared by many.
    pub control: Option<String>,
    pub region: String,
    pub reason: String,
    /// For a `change`: each attribute that differs, before and after (the reason says the
    /// same in one line). Empty for a `create`.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub changes: Vec<Change>,
    #[serde(flatten)]
    pub call: Call,
}

/// One attribute a `~ change` sets anew: `threshold: 5 → 1`. A value that is not set reads
/// `(unset)`; a filter pattern is given whole, before and after.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Change {
    pub attribute: String,
    pub before: String,
    pub after: String,
}

impl Change {
    /// `threshold 5 → 1`, as the reason line lists it (a description, long, by name only).
    pub fn summary(&self) -> String {
        if self.attribute == "description" {
            return self.attribute.clone();
        }
        format!("{} {} → {}", self.attribute, self.before, self.after)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Call {
    CreateTopic {
        topic_name: String,
        topic_arn: String,
        tags: BTreeMap<String, String>,
        /// `--topic-kms-key`: the `KmsMasterKeyId` attribute the topic is created with.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        kms_master_key_id: Option<String>,
    },
    Subscribe {
        topic_arn: String,
        protocol: String,
        endpoint: String,
    },
    PutMetricFilter(FilterCall),
    PutMetricAlarm(AlarmCall),
    /// A control's watch rule on the default event bus (docs/hardened.md, "A second path"):
    /// created, or made again `ENABLED` with the catalog's pattern (`PutRule` overwrites a
    /// rule of that name, which the guard has proven cis-fix's).
    PutRule(RuleCall),
    /// The watch rule's one target: the watch topic, with no role (SNS takes the topic
    /// policy, and EventBridge's guide says not to set one for SNS).
    PutTargets {
        rule_name: String,
        target_id: String,
        target_arn: String,
    },
    /// The access policy of cis-fix's own watch topic (`SetTopicAttributes` `Policy`): lets
    /// EventBridge publish for the watch rule only. Never planned for another topic.
    SetTopicPolicy {
        topic_arn: String,
        policy: String,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(inline)]
pub struct RuleCall {
    pub rule_name: String,
    /// The ARN the rule has (or will have): the topic policy's `aws:SourceArn`.
    pub rule_arn: String,
    pub event_pattern: String,
    pub description: String,
    pub tags: BTreeMap<String, String>,
}

// The two calls with many arguments are structs of their own, so that their consumers name
// the argument they need (`alarm.threshold`) instead of destructuring every one. Without a
// `///` doc, and inlined, their schema is the variant's as it was: the wire is the same.

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(inline)]
pub struct FilterCall {
    pub log_group_name: String,
    pub filter_name: String,
    pub filter_pattern: String,
    pub metric_name: String,
    /// The metric's namespace, named as in `put_metric_alarm` (format version 1 called
    /// it `metric_namespace`).
    #[serde(rename = "namespace", alias = "metric_namespace")]
    pub metric_namespace: String,
    pub metric_value: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[schemars(inline)]
pub struct AlarmCall {
    pub alarm_name: String,
    pub alarm_description: String,
    pub metric_name: String,
    pub namespace: String,
    pub statistic: String,
    pub period: i32,
    pub threshold: f64,
    pub comparison_operator: String,
    pub evaluation_periods: i32,
    pub alarm_actions: Vec<String>,
    pub tags: BTreeMap<String, String>,
}

impl Call {
    /// Apply order: topics before subscriptions before filters before alarms, so an alarm
    /// never points at a topic that does not exist yet; then the watch topic's policy before
    /// its rule, and the rule before its target, so the rule's first match can be delivered.
    pub(super) fn rank(&self) -> u8 {
        match self {
            Call::CreateTopic { .. } => 0,
            Call::Subscribe { .. } => 1,
            Call::PutMetricFilter(_) => 2,
            Call::PutMetricAlarm(_) => 3,
            Call::SetTopicPolicy { .. } => 4,
            Call::PutRule(_) => 5,
            Call::PutTargets { .. } => 6,
        }
    }

    /// Whether the call builds a control's watch path (rule, target, watch topic policy).
    pub fn is_watch_rule(&self) -> bool {
        matches!(
            self,
            Call::PutRule(_) | Call::PutTargets { .. } | Call::SetTopicPolicy { .. }
        )
    }

    pub fn name(&self) -> &'static str {
        match self {
            Call::CreateTopic { .. } => "create_topic",
            Call::Subscribe { .. } => "subscribe",
            Call::PutMetricFilter(_) => "put_metric_filter",
            Call::PutMetricAlarm(_) => "put_metric_alarm",
            Call::PutRule(_) => "put_rule",
            Call::PutTargets { .. } => "put_targets",
            Call::SetTopicPolicy { .. } => "set_topic_policy",
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Summary {
    pub compliant: usize,
    pub non_compliant: usize,
    pub blocked: usize,
    #[serde(default)]
    pub not_auditable: usize,
    pub to_create: usize,
    pub to_change: usize,
}

impl Plan {
    pub fn is_compliant(&self) -> bool {
        self.controls.iter().all(|c| c.status == Status::Compliant)
    }
}

impl Summary {
    /// Counts the verdicts of `controls` and the kinds of `actions`.
    pub(super) fn count(controls: &[ControlReport], actions: &[Action]) -> Summary {
        Summary {
            compliant: controls
                .iter()
                .filter(|c| c.status == Status::Compliant)
                .count(),
            non_compliant: controls
                .iter()
                .filter(|c| c.status == Status::NonCompliant)
                .count(),
            blocked: controls
                .iter()
                .filter(|c| c.status == Status::Blocked)
                .count(),
            not_auditable: controls
                .iter()
                .filter(|c| c.status == Status::NotAuditable)
                .count(),
            to_create: actions.iter().filter(|a| a.mode == Mode::Create).count(),
            to_change: actions.iter().filter(|a| a.mode == Mode::Change).count(),
        }
    }
}

pub(crate) fn finding(code: Code, message: impl Into<String>) -> Finding {
    Finding {
        code,
        message: message.into(),
        diff: None,
        counterexample: None,
    }
}

/// Marks every control that is not compliant as not auditable, `why` its only finding; returns
/// their ids. Nothing is decided for them, so whatever was planned for them is moot.
pub(super) fn not_auditable(controls: &mut [ControlReport], why: &Finding) -> Vec<String> {
    let mut marked = Vec::new();
    for control in controls
        .iter_mut()
        .filter(|c| c.status != Status::Compliant)
    {
        control.status = Status::NotAuditable;
        control.after_apply = Some(AfterApply::NonCompliant);
        control.findings = vec![why.clone()];
        marked.push(control.id.clone());
    }
    marked
}
