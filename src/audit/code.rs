//! The finding codes: what a finding is about, as a type. The wire names (`no_trail`, …) are a
//! contract: the JSON plans carry them, the schemas list them, users and scripts key on them,
//! and the documentation lists every one (a test keeps it so). They are written out below, once,
//! beside the variant and its one-line description, so that a rename shows in review as a
//! change of contract.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Declares [`Code`] from one table, so that the variant, its wire name and its description
/// cannot drift apart: the description is the variant's own doc line.
macro_rules! codes {
    ($( #[doc = $doc:literal] $variant:ident = $wire:literal, )+) => {
        /// What a finding is about, by the code the documentation lists.
        #[derive(
            Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize,
            JsonSchema,
        )]
        pub enum Code {
            $( #[doc = $doc] #[serde(rename = $wire)] $variant, )+
        }

        impl Code {
            /// Every code, in the order the table declares them.
            pub const ALL: &'static [Code] = &[$( Code::$variant, )+];

            /// The wire name, as the JSON plans carry it (`no_trail`).
            pub fn as_str(self) -> &'static str {
                match self {
                    $( Code::$variant => $wire, )+
                }
            }

            /// What the code means, in one line (the variant's doc), for the documentation.
            pub fn description(self) -> &'static str {
                match self {
                    $( Code::$variant => $doc.trim(), )+
                }
            }
        }
    };
}

codes! {
    // Trails.
    /// No CloudTrail trail is visible from the region cis-fix runs in.
    NoTrail = "no_trail",
    /// A trail cannot anchor a chain: not multi-region, not logging, not recording all management events, or without a log group in this account.
    TrailNotQualifying = "trail_not_qualifying",
    /// Trails exist, but none qualifies: the control is blocked until one is fixed (cis-fix does not change trails).
    NoQualifyingTrail = "no_qualifying_trail",

    // Filters.
    /// No metric filter on a qualifying trail's log group matches the control's pattern.
    NoCoveringFilter = "no_covering_filter",
    /// A filter that nearly matches the control's pattern but does not cover it, shown as a line diff.
    NearMissFilter = "near_miss_filter",
    /// A filter matches the pattern on a log group that no qualifying trail writes to: it does not count.
    FilterOnUnqualifiedLogGroup = "filter_on_unqualified_log_group",
    /// A filter has fieldSelectionCriteria: it sees only some log sources, so it does not count.
    FilterSelectionCriteria = "filter_selection_criteria",
    /// A filter has emitSystemFieldDimensions: one series per source, and no alarm on one series is proven to see them all.
    FilterSystemDimensions = "filter_system_dimensions",
    /// A filter runs on transformed logs where a transformer may apply: its pattern does not see the CloudTrail record.
    FilterOnTransformedLogs = "filter_on_transformed_logs",
    /// A filter publishes with dimensions taken from each event: one series per value, and no alarm sees them all.
    FilterEventDimensions = "filter_event_dimensions",
    /// AWS's logs:TestMetricFilter does not match an event the control's pattern matches: the filter does not count.
    AwsTestRefutes = "aws_test_refutes",
    /// A filter covers the pattern under some readings of AWS's filter syntax and not under others: it does not count.
    PatternAmbiguous = "pattern_ambiguous",
    /// The log group already has as many metric filters as CloudWatch Logs allows.
    LogGroupFilterLimit = "log_group_filter_limit",

    // Alarms.
    /// A covering filter's metric has no alarm watching it (name and namespace).
    NoAlarm = "no_alarm",
    /// An alarm watches the filter's metric with other dimensions than the filter publishes: it never sees the data.
    AlarmDimensionsMismatch = "alarm_dimensions_mismatch",
    /// An alarm has its actions disabled (ActionsEnabled is false).
    AlarmActionsDisabled = "alarm_actions_disabled",
    /// An alarm has no SNS topic in its AlarmActions.
    AlarmWithoutSnsAction = "alarm_without_sns_action",
    /// The alarm's threshold is not met by one matching event, or is passed by many: it does not fire for every one.
    AlarmThresholdUnreachable = "alarm_threshold_unreachable",
    /// Whether the alarm fires depends on the other traffic (the statistic is diluted by the filter's defaultValue).
    AlarmStatisticUnreliable = "alarm_statistic_unreliable",
    /// With no matching event the alarm is in ALARM anyway, so it never notifies again.
    AlarmStuckInAlarm = "alarm_stuck_in_alarm",
    /// The alarm needs more than one breaching datapoint; one matching event gives one.
    AlarmNeedsSeveralDatapoints = "alarm_needs_several_datapoints",
    /// The alarm's unit is not the unit the filter publishes: it never sees the datapoints.
    AlarmUnitMismatch = "alarm_unit_mismatch",
    /// Whether one matching event makes the alarm fire cannot be decided from its settings.
    AlarmFiringUnverified = "alarm_firing_unverified",
    /// Alarms with the names cis-fix would use exist but were not created by cis-fix.
    AlarmNameTaken = "alarm_name_taken",

    // Topics and delivery.
    /// The topic the alarms notify has no confirmed subscription.
    TopicNotSubscribed = "topic_not_subscribed",
    /// The topic's subscriptions are pending confirmation by their owner.
    SubscriptionPending = "subscription_pending",
    /// No topic with a confirmed subscription to notify: --notify or --topic-arn is needed.
    NeedsSubscriber = "needs_subscriber",
    /// A topic named --topic-name exists but was not created by cis-fix, which will not change it.
    TopicNameTaken = "topic_name_taken",
    /// The topic does not exist (or cannot be read).
    TopicNotFound = "topic_not_found",
    /// --topic-arn names a topic in another region than the alarms'.
    TopicInOtherRegion = "topic_in_other_region",
    /// The topic's KMS key does not let CloudWatch publish to it (the AWS managed key, or a key policy without the grants).
    TopicKeyDeniesCloudwatch = "topic_key_denies_cloudwatch",
    /// The topic's access policy does not let CloudWatch Alarms publish this alarm.
    TopicPolicyDeniesCloudwatch = "topic_policy_denies_cloudwatch",
    /// Delivery to the topic can be neither proven nor disproven; `cis-fix drill` is the proof.
    TopicDeliveryUnverified = "topic_delivery_unverified",

    // The watch path: a control's `watch_rule` (docs/hardened.md, "A second path").
    /// The control's EventBridge watch rule (cis-fix-SLUG-watch) does not exist in the chain's region.
    WatchRuleMissing = "watch_rule_missing",
    /// A rule with the watch rule's name exists but was not created by cis-fix, which will not change it.
    WatchRuleNameTaken = "watch_rule_name_taken",
    /// The watch rule is disabled: it matches no event.
    WatchRuleDisabled = "watch_rule_disabled",
    /// The watch rule's event pattern is not the catalog's (compared as JSON).
    WatchRulePatternDiffers = "watch_rule_pattern_differs",
    /// The watch rule does not notify the watch topic (cis-fix-chain-watch).
    WatchRuleNoTarget = "watch_rule_no_target",
    /// The watch topic is also the metric chain's: deleting it would silence both paths.
    WatchTopicSharesChain = "watch_topic_shares_chain",
    /// The watch rule's topic does not exist.
    WatchTopicNotFound = "watch_topic_not_found",
    /// A topic named cis-fix-chain-watch exists but was not created by cis-fix, which will not change it.
    WatchTopicNameTaken = "watch_topic_name_taken",
    /// The watch topic has no confirmed subscription.
    WatchTopicNotSubscribed = "watch_topic_not_subscribed",
    /// The watch topic's access policy does not let EventBridge publish the rule's events.
    WatchTopicPolicyBlocks = "watch_topic_policy_blocks",
    /// Whether EventBridge may publish to the watch topic can be neither proven nor disproven.
    WatchTopicDeliveryUnverified = "watch_topic_delivery_unverified",

    // Organizations, and what could not be read.
    /// A member alone: the management account's organization trail may satisfy the control, and only its owner can tell.
    OrganizationTrailElsewhere = "organization_trail_elsewhere",
    /// `--org`: the member relies on the organization trail, whose chain is incomplete and is fixed in its owner's account.
    OrganizationChainIncomplete = "organization_chain_incomplete",
    /// `--org`: the organization trail cannot serve the control: the member's own trails decide.
    OrganizationTrailDoesNotServe = "organization_trail_does_not_serve",
    /// A read the audit needed was denied, or the account could not be read: nothing is decided.
    NotAuditable = "not_auditable",
}

impl Code {
    /// Whether the code is about a control's watch path (`watch_rule`), apart from its metric
    /// chain: a control with only such findings has a whole metric chain, which a drill tests.
    pub fn is_watch_path(self) -> bool {
        self.as_str().starts_with("watch_")
    }
}

impl std::fmt::Display for Code {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// Where the documentation lists the finding codes.
    const CODES_DOC: &str = "docs/findings.md";

    #[test]
    fn wire_names_are_unique_and_are_what_serde_writes() {
        let names: BTreeSet<&str> = Code::ALL.iter().map(|c| c.as_str()).collect();
        assert_eq!(names.len(), Code::ALL.len(), "a wire name is used twice");
        for &code in Code::ALL {
            assert_eq!(
                serde_json::to_value(code).unwrap(),
                serde_json::Value::String(code.as_str().to_string())
            );
            let back: Code = serde_json::from_value(serde_json::json!(code.as_str())).unwrap();
            assert_eq!(back, code);
            // snake_case, as every wire name of the plan is.
            assert!(
                code.as_str()
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c == '_'),
                "{code}"
            );
            assert!(!code.description().is_empty(), "{code}");
        }
    }

    #[test]
    fn the_documentation_lists_every_code() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(CODES_DOC);
        let doc = std::fs::read_to_string(&path).unwrap();
        let missing: Vec<&str> = Code::ALL
            .iter()
            .map(|c| c.as_str())
            .filter(|name| !doc.contains(&format!("`{name}`")))
            .collect();
        assert!(
            missing.is_empty(),
            "{CODES_DOC} does not list the finding codes {missing:?}"
        );
    }
}
