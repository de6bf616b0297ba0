//! Whether an alarm's notification really leaves its SNS topic. Every API listing can look
//! right while every notification fails: when the topic is encrypted with a KMS key whose
//! policy does not let CloudWatch Alarms use it (the AWS managed key `alias/aws/sns` never
//! does), or when the topic's access policy does not let the alarm publish.
//!
//! Sound, like the pattern comparison: a link counts only when it is proven from the topic's
//! attributes, the key's metadata and both policies. What cannot be proven is unproven, and
//! `cis-fix drill` is the proof that remains.

use super::plan::{finding, Code, Finding};
use crate::inventory::{Arn, RegionSnapshot};
use crate::policy::{self, AccountIdentity, Verdict};

/// The principal CloudWatch Alarms acts as when it publishes an alarm's notification.
pub const CLOUDWATCH: &str = "cloudwatch.amazonaws.com";

/// What is known of one alarm → topic link.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Link {
    /// CloudWatch may publish: the key (if any) and the topic policy provably allow it.
    Proven,
    /// Every notification fails; the finding says why and what to change.
    Broken(Finding),
    /// Neither proven nor disproven (a statement with conditions cis-fix cannot evaluate, or
    /// a read AWS denied); the finding says what would prove it.
    Unproven(Finding),
}

/// The key-policy statement that lets CloudWatch Alarms use a topic's key.
pub fn key_statement() -> String {
    format!(
        r#"{{"Sid": "AllowCloudWatchAlarms", "Effect": "Allow", "Principal": {{"Service": "{CLOUDWATCH}"}}, "Action": ["kms:Decrypt", "kms:GenerateDataKey*"], "Resource": "*"}}"#
    )
}

/// The topic-policy statement that lets the account's alarms publish to `topic_arn`.
fn topic_statement(topic_arn: &str, account: &str) -> String {
    format!(
        r#"{{"Sid": "AllowCloudWatchAlarms", "Effect": "Allow", "Principal": {{"Service": "{CLOUDWATCH}"}}, "Action": "sns:Publish", "Resource": "{topic_arn}", "Condition": {{"StringEquals": {{"aws:SourceAccount": "{account}"}}}}}}"#
    )
}

fn unverified(message: String) -> Link {
    Link::Unproven(finding(Code::TopicDeliveryUnverified, message))
}

const DRILL: &str = "`cis-fix drill` proves delivery by sending a test notification";

/// Checks that CloudWatch may publish the alarm `alarm_arn` (of `account`) to `topic_arn`.
pub(super) fn check(
    region: &RegionSnapshot,
    account: &str,
    topic_arn: &str,
    alarm_arn: &str,
) -> Link {
    let Some(topic) = region.topic(topic_arn) else {
        return unverified(format!(
            "topic {topic_arn}: cis-fix did not read its attributes, so it cannot tell whether CloudWatch may publish to it; {DRILL}"
        ));
    };
    if !topic.exists {
        return Link::Broken(finding(
            Code::TopicNotFound,
            format!("topic {topic_arn} does not exist: alarms that notify it notify no one"),
        ));
    }
    let Some(delivery) = &topic.delivery else {
        return unverified(format!(
            "topic {topic_arn}: AWS denied sns:GetTopicAttributes, so cis-fix cannot tell whether its key and policy let CloudWatch publish; grant it, or {DRILL}"
        ));
    };
    let partition = Arn::parse(topic_arn).map_or("aws", |a| a.partition);
    if let Some(reference) = &delivery.kms_master_key_id {
        let subject = format!("topic {topic_arn} is encrypted with KMS key {reference}");
        match check_key(
            region, account, partition, &subject, alarm_arn, reference, false,
        ) {
            Link::Proven => {}
            other => return other,
        }
    }
    let Some(policy) = &delivery.policy else {
        // No policy attribute: AWS's default topic policy, which lets the owner's alarms
        // publish (its `AWS:SourceOwner` condition is the alarm's account).
        return Link::Proven;
    };
    let context = [
        ("aws:SourceArn", alarm_arn),
        ("aws:SourceAccount", account),
        ("AWS:SourceOwner", account),
    ];
    let request = policy::Request {
        service: CLOUDWATCH,
        account,
        partition,
        actions: &["SNS:Publish"],
        resource: topic_arn,
        context: &context,
        // AWS documents CloudWatch Alarms publishing as its service principal; whether an
        // Allow for the account alone lets it publish is not documented. Such a statement is
        // neither a proof of delivery nor of its failure: a drill settles it.
        account_identity: AccountIdentity::Unknown,
    };
    let denies = |why: String| {
        Link::Broken(finding(
            Code::TopicPolicyDeniesCloudwatch,
            format!(
                "topic {topic_arn}'s access policy {why}, so every notification of alarm {alarm} fails (\"not authorized to perform: SNS:Publish\"); add this statement to the topic policy: {}",
                topic_statement(topic_arn, account),
                alarm = alarm_name(alarm_arn),
            ),
        ))
    };
    match policy::evaluate(policy, &request) {
        Ok(Verdict::Allowed) => Link::Proven,
        Ok(Verdict::Denied { statement, .. }) => denies(format!(
            "denies SNS:Publish to CloudWatch Alarms in statement `{statement}`"
        )),
        Ok(Verdict::NotAllowed { .. }) => {
            denies("has no statement that lets CloudWatch Alarms publish".to_string())
        }
        Ok(Verdict::Unverified { statement, reason }) => unverified(format!(
            "topic {topic_arn}'s access policy statement `{statement}` decides whether CloudWatch Alarms may publish, and cis-fix cannot evaluate it: {reason}; {DRILL}, or add this statement, which cis-fix can evaluate: {}",
            topic_statement(topic_arn, account)
        )),
        Err(e) => unverified(format!(
            "topic {topic_arn}'s access policy cannot be judged ({e}); {DRILL}"
        )),
    }
}

/// AWS's text in the alarm history when CloudWatch may not use a topic's key.
const KEY_FAILURE: &str =
    "CloudWatch Alarms does not have authorization to access the SNS topic encryption key";

/// The key half of [`check`]: CloudWatch must be allowed `kms:Decrypt` and
/// `kms:GenerateDataKey*` on the topic's key. `subject` starts every message; `own` is set
/// for `--topic-kms-key`, whose refusal is one input-error line that names its code (there is
/// no control to hang the finding on).
fn check_key(
    region: &RegionSnapshot,
    account: &str,
    partition: &str,
    subject: &str,
    alarm_arn: &str,
    reference: &str,
    own: bool,
) -> Link {
    const CODE: Code = Code::TopicKeyDeniesCloudwatch;
    // `advice` is a sentence without its full stop.
    let broken = |why: String, advice: String| {
        let message = if own {
            format!(
                "{subject}, {why}, so every notification would fail (\"{KEY_FAILURE}\"). {advice} ({CODE})"
            )
        } else {
            format!("{subject}, {why}, so every notification fails (\"{KEY_FAILURE}\"). {advice}.")
        };
        Link::Broken(finding(CODE, message))
    };
    let add_statement = || format!("Add this statement to the key policy: {}", key_statement());
    let Some(key) = region.key(reference) else {
        // The inventory lists every key it described: one missing is one whose description
        // AWS denied, which proves nothing either way (a missing key is listed, without
        // metadata).
        return unverified(format!(
            "{subject}, which cis-fix may not describe (AWS denied kms:DescribeKey), so it cannot tell which key it is or whether CloudWatch may use it; grant kms:DescribeKey, or {DRILL}"
        ));
    };
    let Some(metadata) = &key.metadata else {
        return broken(
            "which does not exist in this region".to_string(),
            if own {
                "Pass a key that exists in this region".to_string()
            } else {
                "Encrypt the topic with a key that exists".to_string()
            },
        );
    };
    if key.is_aws_managed() {
        return broken(
            "an AWS managed key, whose key policy does not let CloudWatch Alarms use it and cannot be changed".to_string(),
            if own {
                format!("Pass a customer managed key whose policy has {}", key_statement())
            } else {
                format!(
                    "Encrypt the topic with a customer managed key whose policy has {}, or let cis-fix create its own topic (--notify, with --topic-kms-key for such a key)",
                    key_statement()
                )
            },
        );
    }
    if metadata.state != "Enabled" {
        return broken(
            format!("whose state is {}", metadata.state),
            "Enable the key".to_string(),
        );
    }
    let Some(policy) = &key.policy else {
        return unverified(format!(
            "{subject}, whose key policy cis-fix may not read (AWS denied kms:GetKeyPolicy), so it cannot tell whether CloudWatch may use the key; grant kms:GetKeyPolicy, or {DRILL}"
        ));
    };
    let context = [("aws:SourceArn", alarm_arn), ("aws:SourceAccount", account)];
    let request = policy::Request {
        service: CLOUDWATCH,
        account,
        partition,
        actions: &["kms:Decrypt", "kms:GenerateDataKey"],
        resource: &metadata.arn,
        context: &context,
        // A key policy's account principal delegates to IAM, which cannot grant anything to a
        // service principal.
        account_identity: AccountIdentity::NotCarried,
    };
    match policy::evaluate(policy, &request) {
        Ok(Verdict::Allowed) => Link::Proven,
        Ok(Verdict::Denied { statement, action }) => broken(
            format!(
                "whose key policy denies {action} to CloudWatch Alarms in statement `{statement}`"
            ),
            format!("Remove that Deny for {CLOUDWATCH}"),
        ),
        Ok(Verdict::NotAllowed { action }) => broken(
            format!("whose key policy does not allow {CLOUDWATCH} {action}"),
            add_statement(),
        ),
        Ok(Verdict::Unverified { statement, reason }) => unverified(format!(
            "{subject}, whose key policy statement `{statement}` decides whether CloudWatch may use the key, and cis-fix cannot evaluate it: {reason}; {DRILL}"
        )),
        Err(e) => unverified(format!(
            "{subject}, whose key policy cannot be judged ({e}); {DRILL}"
        )),
    }
}

/// Checks a key for the topic cis-fix would create with `--topic-kms-key`, for the alarms it
/// plans; `None` when the key lets them publish.
pub(super) fn check_own_key(
    region: &RegionSnapshot,
    account: &str,
    topic_arn: &str,
    alarm_arn: &str,
    reference: &str,
) -> Option<Finding> {
    let partition = Arn::parse(topic_arn).map_or("aws", |a| a.partition);
    let subject = format!("--topic-kms-key {reference}, the key for cis-fix's topic {topic_arn}");
    match check_key(
        region, account, partition, &subject, alarm_arn, reference, true,
    ) {
        Link::Proven => None,
        Link::Broken(f) | Link::Unproven(f) => Some(f),
    }
}

fn alarm_name(alarm_arn: &str) -> &str {
    alarm_arn
        .rsplit_once(":alarm:")
        .map_or(alarm_arn, |(_, name)| name)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::{KeyMetadata, KmsKey, Topic, TopicDelivery};

    const ACCOUNT: &str = "111122223333";
    const TOPIC: &str = "arn:aws:sns:us-east-1:111122223333:ops";
    const ALARM: &str = "arn:aws:cloudwatch:us-east-1:111122223333:alarm:a";
    const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    fn region(key: Option<&str>, policy: Option<&str>) -> RegionSnapshot {
        RegionSnapshot {
            topics: vec![Topic {
                arn: TOPIC.into(),
                exists: true,
                delivery: Some(TopicDelivery {
                    kms_master_key_id: key.map(str::to_string),
                    policy: policy.map(str::to_string),
                }),
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    fn with_key(mut r: RegionSnapshot, manager: &str, policy: Option<&str>) -> RegionSnapshot {
        let reference = r.topics[0]
            .delivery
            .as_ref()
            .unwrap()
            .kms_master_key_id
            .clone()
            .unwrap();
        r.keys.push(KmsKey {
            reference,
            metadata: Some(KeyMetadata {
                arn: KEY.into(),
                manager: manager.into(),
                state: "Enabled".into(),
            }),
            policy: policy.map(str::to_string),
        });
        r
    }

    fn code(link: &Link) -> &str {
        match link {
            Link::Proven => "proven",
            Link::Broken(f) | Link::Unproven(f) => f.code.as_str(),
        }
    }

    #[test]
    fn default_policy_and_no_key_deliver() {
        assert_eq!(
            check(&region(None, None), ACCOUNT, TOPIC, ALARM),
            Link::Proven
        );
    }

    #[test]
    fn aws_managed_key_is_broken_whatever_its_policy_says() {
        let r = with_key(region(Some("alias/aws/sns"), None), "AWS", None);
        let link = check(&r, ACCOUNT, TOPIC, ALARM);
        assert_eq!(code(&link), "topic_key_denies_cloudwatch");
        let Link::Broken(f) = link else { panic!() };
        assert!(f.message.contains("AWS managed key"), "{}", f.message);
        assert!(
            f.message.contains("cloudwatch.amazonaws.com"),
            "{}",
            f.message
        );
    }

    #[test]
    fn customer_key_must_allow_cloudwatch() {
        let allows = format!(
            r#"{{"Statement": [{{"Effect": "Allow", "Principal": {{"AWS": "arn:aws:iam::{ACCOUNT}:root"}}, "Action": "kms:*", "Resource": "*"}}, {}]}}"#,
            key_statement()
        );
        let r = with_key(region(Some(KEY), None), "CUSTOMER", Some(&allows));
        assert_eq!(check(&r, ACCOUNT, TOPIC, ALARM), Link::Proven);

        let default_only = format!(
            r#"{{"Statement": [{{"Effect": "Allow", "Principal": {{"AWS": "arn:aws:iam::{ACCOUNT}:root"}}, "Action": "kms:*", "Resource": "*"}}]}}"#
        );
        let r = with_key(region(Some(KEY), None), "CUSTOMER", Some(&default_only));
        let link = check(&r, ACCOUNT, TOPIC, ALARM);
        assert_eq!(code(&link), "topic_key_denies_cloudwatch");
        let Link::Broken(f) = link else { panic!() };
        assert!(f.message.contains(&key_statement()), "{}", f.message);
    }

    #[test]
    fn unreadable_key_facts_are_unproven_naming_the_denied_read() {
        // Policy not read (kms:GetKeyPolicy denied): unproven, naming the permission.
        let r = with_key(region(Some(KEY), None), "CUSTOMER", None);
        let link = check(&r, ACCOUNT, TOPIC, ALARM);
        let Link::Unproven(f) = link else {
            panic!("{link:?}")
        };
        assert_eq!(f.code, Code::TopicDeliveryUnverified);
        assert!(f.message.contains("kms:GetKeyPolicy"), "{}", f.message);
        assert!(f.message.contains("drill"), "{}", f.message);
        // Key not described (kms:DescribeKey denied: the inventory leaves it out): unproven,
        // naming that permission, never "does not exist".
        let link = check(&region(Some(KEY), None), ACCOUNT, TOPIC, ALARM);
        let Link::Unproven(f) = link else {
            panic!("{link:?}")
        };
        assert_eq!(f.code, Code::TopicDeliveryUnverified);
        assert!(f.message.contains("kms:DescribeKey"), "{}", f.message);
        assert!(!f.message.contains("does not exist"), "{}", f.message);
        assert!(f.message.contains("drill"), "{}", f.message);
    }

    #[test]
    fn missing_or_disabled_keys_are_broken() {
        // Key gone: DescribeKey answered NotFound.
        let mut r = region(Some(KEY), None);
        r.keys.push(KmsKey {
            reference: KEY.into(),
            metadata: None,
            policy: None,
        });
        let link = check(&r, ACCOUNT, TOPIC, ALARM);
        let Link::Broken(f) = link else {
            panic!("{link:?}")
        };
        assert_eq!(f.code, Code::TopicKeyDeniesCloudwatch);
        assert!(f.message.contains("does not exist"), "{}", f.message);
        // Disabled.
        let mut r = with_key(
            region(Some(KEY), None),
            "CUSTOMER",
            Some(&format!(r#"{{"Statement": {}}}"#, key_statement())),
        );
        assert_eq!(check(&r, ACCOUNT, TOPIC, ALARM), Link::Proven);
        r.keys[0].metadata.as_mut().unwrap().state = "Disabled".into();
        assert_eq!(
            code(&check(&r, ACCOUNT, TOPIC, ALARM)),
            "topic_key_denies_cloudwatch"
        );
    }

    #[test]
    fn a_refused_own_key_names_its_code_in_one_sentence_line() {
        let r = with_key(region(Some("alias/aws/sns"), None), "AWS", None);
        let f = check_own_key(&r, ACCOUNT, TOPIC, ALARM, "alias/aws/sns").unwrap();
        assert_eq!(f.code, Code::TopicKeyDeniesCloudwatch);
        assert!(
            f.message.starts_with("--topic-kms-key alias/aws/sns"),
            "{}",
            f.message
        );
        // The CLI appends "; nothing was planned or changed": no full stop before it.
        assert!(
            f.message.ends_with("(topic_key_denies_cloudwatch)"),
            "{}",
            f.message
        );
        assert!(f.message.contains(&key_statement()), "{}", f.message);
        // It does not advise --topic-kms-key to the user who just passed it.
        assert!(!f.message.contains("with --topic-kms-key"), "{}", f.message);
        assert!(!f.message.contains('\n'));
    }

    #[test]
    fn topic_policy_must_let_the_alarm_publish() {
        let role_only = format!(
            r#"{{"Statement": [{{"Effect": "Allow", "Principal": {{"AWS": "arn:aws:iam::{ACCOUNT}:role/publisher"}}, "Action": "sns:Publish", "Resource": "{TOPIC}"}}]}}"#
        );
        assert_eq!(
            code(&check(
                &region(None, Some(&role_only)),
                ACCOUNT,
                TOPIC,
                ALARM
            )),
            "topic_policy_denies_cloudwatch"
        );
        let source_arn = |arn: &str| {
            format!(
                r#"{{"Statement": [{{"Effect": "Allow", "Principal": {{"Service": "cloudwatch.amazonaws.com"}}, "Action": "sns:Publish", "Resource": "{TOPIC}", "Condition": {{"ArnLike": {{"aws:SourceArn": "{arn}"}}}}}}]}}"#
            )
        };
        let r = region(None, Some(&source_arn(ALARM)));
        assert_eq!(check(&r, ACCOUNT, TOPIC, ALARM), Link::Proven);
        let r = region(
            None,
            Some(&source_arn(
                "arn:aws:cloudwatch:us-east-1:111122223333:alarm:other",
            )),
        );
        assert_eq!(
            code(&check(&r, ACCOUNT, TOPIC, ALARM)),
            "topic_policy_denies_cloudwatch"
        );
        let org = format!(
            r#"{{"Statement": [{{"Sid": "Org", "Effect": "Allow", "Principal": "*", "Action": "sns:Publish", "Resource": "{TOPIC}", "Condition": {{"StringEquals": {{"aws:PrincipalOrgID": "o-abc"}}}}}}]}}"#
        );
        let link = check(&region(None, Some(&org)), ACCOUNT, TOPIC, ALARM);
        assert_eq!(code(&link), "topic_delivery_unverified");
        let Link::Unproven(f) = link else { panic!() };
        assert!(
            f.message.contains("`Org`") && f.message.contains("drill"),
            "{}",
            f.message
        );
    }

    #[test]
    fn an_allow_for_the_account_alone_is_unproven_never_compliant_or_denied() {
        for principal in [
            format!(r#"{{"AWS": "{ACCOUNT}"}}"#),
            format!(r#"{{"AWS": "arn:aws:iam::{ACCOUNT}:root"}}"#),
        ] {
            let policy = format!(
                r#"{{"Statement": [{{"Sid": "AccountOnly", "Effect": "Allow", "Principal": {principal}, "Action": "sns:Publish", "Resource": "{TOPIC}"}}]}}"#
            );
            let link = check(&region(None, Some(&policy)), ACCOUNT, TOPIC, ALARM);
            let Link::Unproven(f) = link else {
                panic!("{link:?}")
            };
            assert_eq!(f.code, Code::TopicDeliveryUnverified);
            assert!(
                f.message.contains("`AccountOnly`") && f.message.contains("drill"),
                "{}",
                f.message
            );
            // It shows a statement that would prove delivery.
            assert!(
                f.message.contains(&topic_statement(TOPIC, ACCOUNT)),
                "{}",
                f.message
            );
        }
        // Another account's root proves nothing for this one: a definite deny.
        let other = format!(
            r#"{{"Statement": [{{"Effect": "Allow", "Principal": {{"AWS": "arn:aws:iam::444455556666:root"}}, "Action": "sns:Publish", "Resource": "{TOPIC}"}}]}}"#
        );
        assert_eq!(
            code(&check(&region(None, Some(&other)), ACCOUNT, TOPIC, ALARM)),
            "topic_policy_denies_cloudwatch"
        );
    }

    #[test]
    fn aws_default_topic_policy_delivers() {
        let default = format!(
            r#"{{"Version":"2008-10-17","Id":"__default_policy_ID","Statement":[{{"Sid":"__default_statement_ID","Effect":"Allow","Principal":{{"AWS":"*"}},"Action":["SNS:GetTopicAttributes","SNS:SetTopicAttributes","SNS:AddPermission","SNS:RemovePermission","SNS:DeleteTopic","SNS:Subscribe","SNS:ListSubscriptionsByTopic","SNS:Publish"],"Resource":"{TOPIC}","Condition":{{"StringEquals":{{"AWS:SourceOwner":"{ACCOUNT}"}}}}}}]}}"#
        );
        assert_eq!(
            check(&region(None, Some(&default)), ACCOUNT, TOPIC, ALARM),
            Link::Proven
        );
    }

    #[test]
    fn unread_topics_are_never_proven() {
        let r = RegionSnapshot::default();
        assert_eq!(
            code(&check(&r, ACCOUNT, TOPIC, ALARM)),
            "topic_delivery_unverified"
        );
        let mut r = region(None, None);
        r.topics[0].delivery = None;
        assert_eq!(
            code(&check(&r, ACCOUNT, TOPIC, ALARM)),
            "topic_delivery_unverified"
        );
    }
}
