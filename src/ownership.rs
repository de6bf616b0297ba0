//! How cis-fix marks what it creates, so that it can recognise its own resources from any
//! machine, with no local state, and never touch anything else.
//!
//! Each mark is written in the same call that creates the resource, so an apply killed
//! part-way never leaves an unmarked resource behind:
//! - topics: tags, including one per endpoint cis-fix subscribes (subscriptions cannot be
//!   tagged, so the topic records which of its subscriptions are cis-fix's);
//! - alarms: tags, plus a record in the description naming the control and the filter, which
//!   `DescribeAlarms` returns without an extra call per alarm;
//! - metric filters (which cannot be tagged): a name ending in a digest of the account,
//!   region, log group and control, which a user's filter does not carry by accident.
//!
//! A mark is more than a tag: anyone who may tag a resource can copy cis-fix's tags, and
//! anyone who may put an alarm can copy its description. So a resource is cis-fix's only when
//! it also bears a name cis-fix gives (`--topic-name`'s topic; `cis-fix-SLUG` or its digest
//! form for the control its record names), and an alarm only when its tags were read and
//! agree with its description. What a copied mark can and cannot make cis-fix do is in
//! docs/security.md ("The threat model: what the marks can and cannot be made to do").

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

pub const TAG_MANAGED: &str = "cis-fix:managed";
pub const TAG_CONTROL: &str = "cis-fix:control";
/// Set by `cis-fix export` on what a Terraform or CloudFormation deployment creates: that
/// stack or state owns the resource, and backout leaves it to them unless `--force`.
pub const TAG_DEPLOYED_BY: &str = "cis-fix:deployed-by";
/// The tag CloudFormation itself puts on what a stack creates.
const TAG_CLOUDFORMATION_STACK: &str = "aws:cloudformation:stack-name";
const TAG_ENDPOINT_PREFIX: &str = "cis-fix:endpoint:";
const NAME_PREFIX: &str = "cis-fix-";
const RECORD_MARKER: &str = "cis-fix-record:";

/// What a cis-fix alarm's description records about the chain it belongs to.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AlarmRecord {
    /// The control's slug.
    pub control: String,
    /// The metric filter the alarm watches, when cis-fix created that filter.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub filter: Option<FilterRef>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FilterRef {
    pub log_group: String,
    pub name: String,
}

fn digest(parts: &[&str]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    hasher
        .finalize()
        .iter()
        .take(4)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The name cis-fix gives the metric filter for `slug` on this log group.
pub fn filter_name(account: &str, region: &str, log_group: &str, slug: &str) -> String {
    format!(
        "{NAME_PREFIX}{slug}-{}",
        digest(&["filter", account, region, log_group, slug])
    )
}

/// Whether a filter of this name on this log group was created by cis-fix, and for which slug.
pub fn owned_filter_slug<'a>(
    account: &str,
    region: &str,
    log_group: &str,
    name: &'a str,
) -> Option<&'a str> {
    let rest = name.strip_prefix(NAME_PREFIX)?;
    let (slug, _) = rest.rsplit_once('-')?;
    (filter_name(account, region, log_group, slug) == name).then_some(slug)
}

/// Alarm names cis-fix may use for a control, in order of preference: a readable one, and
/// a digest-suffixed one for when a user already has an alarm with the readable name.
pub fn alarm_names(account: &str, region: &str, slug: &str) -> [String; 2] {
    [
        format!("{NAME_PREFIX}{slug}"),
        format!(
            "{NAME_PREFIX}{slug}-{}",
            digest(&["alarm", account, region, slug])
        ),
    ]
}

/// The description of a cis-fix alarm: readable first, then the machine record.
pub fn alarm_description(control_id: &str, title: &str, record: &AlarmRecord) -> String {
    let json = serde_json::to_string(record).unwrap_or_default();
    let mut human = format!("{}: {title}. Managed by cis-fix.", control_name(control_id));
    // CloudWatch caps descriptions (`limits::ALARM_DESCRIPTION`); the record must survive
    // whole, so the readable part gives way. The catalog loader checks that the record fits.
    let budget = crate::limits::ALARM_DESCRIPTION
        .max
        .saturating_sub(crate::limits::length(&json) + RECORD_MARKER.len() + 1);
    if crate::limits::length(&human) > budget {
        human = crate::limits::truncate(&human, budget).to_string();
    }
    format!("{human} {RECORD_MARKER}{json}")
}

/// The reason `cis-fix drill` gives `SetAlarmState` for a control's alarm: it shows in the
/// notification a subscriber receives and in the alarm's history, saying who set it and why.
/// (Here, beside the other words cis-fix writes on alarms, so that the catalog can check its
/// length against AWS's limit.)
pub fn drill_reason(control_id: &str, slug: &str) -> String {
    format!(
        "cis-fix drill for {} ({slug}): a test of the notification path, not a real event. cis-fix sets the alarm back to OK at once.",
        control_word(control_id)
    )
}

/// How cis-fix's words on AWS resources name a control: `CIS 5.1` for a benchmark's number,
/// the id alone for one that is not (`H1`, the hardened catalog's own), which no reader
/// should take for a CIS control.
pub fn control_name(control_id: &str) -> String {
    if control_id.starts_with(|c: char| c.is_ascii_digit()) {
        format!("CIS {control_id}")
    } else {
        control_id.to_string()
    }
}

/// [`control_name`] in a sentence: `CIS control 5.1`, `control H1`.
pub fn control_word(control_id: &str) -> String {
    if control_id.starts_with(|c: char| c.is_ascii_digit()) {
        format!("CIS control {control_id}")
    } else {
        format!("control {control_id}")
    }
}

/// The record in an alarm's description, if it is one cis-fix wrote.
pub fn alarm_record(description: Option<&str>) -> Option<AlarmRecord> {
    let (_, json) = description?.rsplit_once(RECORD_MARKER)?;
    serde_json::from_str(json).ok()
}

/// The record of an alarm that is cis-fix's: its description carries the record, its tags were
/// read and carry the mark for the same control, and its name is one cis-fix gives that
/// control's alarm in this account and region. A copied description, copied tags or tags never
/// read are not enough.
pub fn own_alarm_record(
    alarm: &crate::inventory::Alarm,
    account: &str,
    region: &str,
) -> Option<AlarmRecord> {
    let record = alarm_record(alarm.description.as_deref())?;
    let tags = alarm.tags.as_ref()?;
    let marked = is_managed(tags) && tags.get(TAG_CONTROL) == Some(&record.control);
    let named = alarm_names(account, region, &record.control).contains(&alarm.name);
    (marked && named).then_some(record)
}

/// The topic a control's watch rule notifies: one for every control that has a rule, and never
/// the one `--topic-name` names, so that what silences the metric path leaves this one whole.
pub const WATCH_TOPIC_NAME: &str = "cis-fix-chain-watch";

/// The EventBridge rule cis-fix gives a control's `watch_rule` (docs/hardened.md). A plain
/// name, not a digest like a filter's: a rule can be tagged, and `ListTagsForResource` is what
/// makes it cis-fix's, beside this name.
pub fn watch_rule_name(slug: &str) -> String {
    format!("{NAME_PREFIX}{slug}-watch")
}

/// The slug in a name cis-fix gives a watch rule (`cis-fix-SLUG-watch`), if it is one.
pub fn watch_rule_slug(name: &str) -> Option<&str> {
    name.strip_prefix(NAME_PREFIX)?
        .strip_suffix("-watch")
        .filter(|slug| !slug.is_empty())
}

/// Whether a topic is the one cis-fix creates as `topic_name`: that name, and cis-fix's mark.
/// cis-fix never creates a topic under another name, so tags on any other topic were copied.
pub fn is_own_topic(topic: &crate::inventory::Topic, topic_name: &str) -> bool {
    topic.exists && is_managed(&topic.tags) && topic_name_of(&topic.arn) == Some(topic_name)
}

/// The name in a topic ARN (`arn:aws:sns:REGION:ACCOUNT:NAME`).
pub fn topic_name_of(arn: &str) -> Option<&str> {
    crate::inventory::Arn::parse(arn).map(|a| a.resource)
}

/// Who deployed a resource from `cis-fix export`, when one did: the stack or state that owns
/// it (`cloudformation stack NAME`, `terraform workspace NAME`).
pub fn deployed_by(tags: &BTreeMap<String, String>) -> Option<String> {
    tags.get(TAG_DEPLOYED_BY).cloned().or_else(|| {
        tags.get(TAG_CLOUDFORMATION_STACK)
            .map(|stack| format!("cloudformation stack {stack}"))
    })
}

/// Tags cis-fix puts on an alarm it creates.
pub fn alarm_tags(slug: &str) -> BTreeMap<String, String> {
    BTreeMap::from([
        (TAG_MANAGED.to_string(), "true".to_string()),
        (TAG_CONTROL.to_string(), slug.to_string()),
    ])
}

/// Tags cis-fix puts on a topic it creates: the mark, and one per endpoint it subscribes.
pub fn topic_tags<'a>(
    endpoints: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> BTreeMap<String, String> {
    let mut tags = BTreeMap::from([(TAG_MANAGED.to_string(), "true".to_string())]);
    for (protocol, endpoint) in endpoints {
        tags.insert(endpoint_tag_key(protocol, endpoint), protocol.to_string());
    }
    tags
}

/// The tag key recording that cis-fix subscribed this endpoint. A digest, not the endpoint:
/// tags are visible to anyone who can list them, and endpoints may be private.
pub fn endpoint_tag_key(protocol: &str, endpoint: &str) -> String {
    format!(
        "{TAG_ENDPOINT_PREFIX}{}",
        digest(&["endpoint", protocol, endpoint])
    )
}

pub fn is_managed(tags: &BTreeMap<String, String>) -> bool {
    tags.get(TAG_MANAGED).is_some_and(|v| v == "true")
}

/// Whether a subscription on a cis-fix topic is one cis-fix made.
pub fn is_own_subscription(
    topic_tags: &BTreeMap<String, String>,
    protocol: &str,
    endpoint: &str,
) -> bool {
    is_managed(topic_tags) && topic_tags.contains_key(&endpoint_tag_key(protocol, endpoint))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filter_names_carry_a_digest_that_only_fits_their_place() {
        let name = filter_name("111122223333", "us-east-1", "ct-logs", "root-account-usage");
        assert!(name.starts_with("cis-fix-root-account-usage-"), "{name}");
        assert_eq!(
            owned_filter_slug("111122223333", "us-east-1", "ct-logs", &name),
            Some("root-account-usage")
        );
        // The same name anywhere else, or cis-fix's naming without the digest, is not ours.
        assert_eq!(
            owned_filter_slug("111122223333", "us-east-1", "other", &name),
            None
        );
        assert_eq!(
            owned_filter_slug("999999999999", "us-east-1", "ct-logs", &name),
            None
        );
        assert_eq!(
            owned_filter_slug(
                "111122223333",
                "us-east-1",
                "ct-logs",
                "cis-fix-root-account-usage"
            ),
            None
        );
        assert_eq!(owned_filter_slug("1", "r", "g", "cis-fix-"), None);
    }

    #[test]
    fn alarm_records_round_trip_through_the_description() {
        let record = AlarmRecord {
            control: "unauthorized-api-calls".into(),
            filter: Some(FilterRef {
                log_group: "/aws/cloudtrail/x".into(),
                name: "cis-fix-unauthorized-api-calls-00ff00ff".into(),
            }),
        };
        let text = alarm_description(
            "4.1",
            "Ensure unauthorized API calls are monitored",
            &record,
        );
        assert!(text.starts_with("CIS 4.1: Ensure"));
        assert!(text.len() <= 1024);
        assert_eq!(alarm_record(Some(&text)), Some(record.clone()));
        assert_eq!(alarm_record(Some("a user's alarm")), None);
        assert_eq!(alarm_record(Some("cis-fix-record:{not json")), None);
        assert_eq!(alarm_record(None), None);
        let long = alarm_description("4.1", &"x".repeat(2000), &record);
        assert!(long.len() <= 1024, "{}", long.len());
        assert_eq!(alarm_record(Some(&long)), Some(record.clone()));
        // A title of characters that take more than one UTF-16 unit (as AWS may count them):
        // still within the limit, counted in units as in characters.
        for wide in ["é", "𝄞"] {
            let text = alarm_description("4.1", &wide.repeat(2000), &record);
            let units = crate::limits::length(&text);
            assert!((1000..=1024).contains(&units), "{wide}: {units}");
            assert_eq!(alarm_record(Some(&text)), Some(record.clone()));
        }
    }

    #[test]
    fn topic_tags_record_endpoints_by_digest() {
        let tags = topic_tags([("email", "sec@example.com")]);
        assert!(is_managed(&tags));
        assert!(is_own_subscription(&tags, "email", "sec@example.com"));
        assert!(!is_own_subscription(&tags, "email", "other@example.com"));
        assert!(!is_own_subscription(&tags, "https", "sec@example.com"));
        assert!(!tags.values().any(|v| v.contains("sec@")));
        assert!(!tags.keys().any(|k| k.contains("sec@")));
        // A user's topic with the same endpoint tag but without the managed mark is not ours.
        let mut forged = tags.clone();
        forged.remove(TAG_MANAGED);
        assert!(!is_own_subscription(&forged, "email", "sec@example.com"));
    }
}
