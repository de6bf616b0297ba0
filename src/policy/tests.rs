//! Realistic documents: AWS's defaults, common hand-written policies, and
//! malformed ones.

use serde_json::json;

use super::{evaluate, AccountIdentity, PolicyError, Request, Verdict};

const ACCOUNT: &str = "111122223333";
const TOPIC: &str = "arn:aws:sns:us-east-1:111122223333:cis-alarms";
const KEY: &str = "arn:aws:kms:us-east-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";
const ALARM: &str = "arn:aws:cloudwatch:us-east-1:111122223333:alarm:CIS-4.1-UnauthorizedAPICalls";
const CONTEXT: &[(&str, &str)] = &[
    ("aws:SourceArn", ALARM),
    ("aws:SourceAccount", ACCOUNT),
    ("AWS:SourceOwner", ACCOUNT),
];
const PUBLISH: &[&str] = &["SNS:Publish"];
const KMS: &[&str] = &["kms:Decrypt", "kms:GenerateDataKey"];

fn topic_request() -> Request<'static> {
    Request {
        service: "cloudwatch.amazonaws.com",
        account: ACCOUNT,
        partition: "aws",
        actions: PUBLISH,
        resource: TOPIC,
        context: CONTEXT,
        account_identity: AccountIdentity::Carried,
    }
}

fn key_request() -> Request<'static> {
    Request {
        actions: KMS,
        resource: KEY,
        account_identity: AccountIdentity::NotCarried,
        ..topic_request()
    }
}

fn topic(policy: serde_json::Value) -> Verdict {
    evaluate(&policy.to_string(), &topic_request()).unwrap()
}

fn key(policy: serde_json::Value) -> Verdict {
    evaluate(&policy.to_string(), &key_request()).unwrap()
}

fn unverified_statement(verdict: &Verdict) -> &str {
    match verdict {
        Verdict::Unverified { statement, .. } => statement,
        other => panic!("expected Unverified, got {other:?}"),
    }
}

/// The policy SNS attaches to a new topic.
fn default_topic_policy() -> serde_json::Value {
    json!({
      "Version": "2008-10-17",
      "Id": "__default_policy_ID",
      "Statement": [{
        "Sid": "__default_statement_ID",
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": [
          "SNS:GetTopicAttributes", "SNS:SetTopicAttributes", "SNS:AddPermission",
          "SNS:RemovePermission", "SNS:DeleteTopic", "SNS:Subscribe",
          "SNS:ListSubscriptionsByTopic", "SNS:Publish"
        ],
        "Resource": TOPIC,
        "Condition": {"StringEquals": {"AWS:SourceOwner": ACCOUNT}}
      }]
    })
}

fn cloudwatch_statement(condition: serde_json::Value) -> serde_json::Value {
    json!({
      "Sid": "AllowCloudWatchAlarms",
      "Effect": "Allow",
      "Principal": {"Service": "cloudwatch.amazonaws.com"},
      "Action": "sns:Publish",
      "Resource": TOPIC,
      "Condition": condition
    })
}

#[test]
fn default_topic_policy_allows() {
    assert_eq!(topic(default_topic_policy()), Verdict::Allowed);
}

#[test]
fn default_topic_policy_without_known_source_owner_is_unverified() {
    let request = Request {
        context: &[],
        ..topic_request()
    };
    let verdict = evaluate(&default_topic_policy().to_string(), &request).unwrap();
    assert_eq!(unverified_statement(&verdict), "__default_statement_ID");
    let Verdict::Unverified { reason, .. } = verdict else {
        unreachable!()
    };
    assert!(reason.contains("AWS:SourceOwner"), "{reason}");
}

#[test]
fn publish_only_for_a_role_is_not_allowed() {
    let policy = json!({
      "Version": "2012-10-17",
      "Statement": [{
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:role/x"},
        "Action": "sns:Publish",
        "Resource": TOPIC
      }]
    });
    assert_eq!(
        topic(policy),
        Verdict::NotAllowed {
            action: "SNS:Publish".into()
        }
    );
}

#[test]
fn an_account_principal_covers_the_request_only_when_its_identity_is_carried() {
    let unknown = |policy: &serde_json::Value| {
        let request = Request {
            account_identity: AccountIdentity::Unknown,
            ..topic_request()
        };
        evaluate(&policy.to_string(), &request).unwrap()
    };
    for principal in [json!(ACCOUNT), json!("arn:aws:iam::111122223333:root")] {
        let policy = json!({"Statement": {
            "Sid": "Root", "Effect": "Allow", "Principal": {"AWS": principal},
            "Action": ["sns:Publish", "kms:*"], "Resource": "*"
        }});
        assert_eq!(topic(policy.clone()), Verdict::Allowed);
        assert_eq!(
            key(policy.clone()),
            Verdict::NotAllowed {
                action: "kms:Decrypt".into()
            }
        );
        // Unknown: neither allowed nor a proof of denial, and the statement is named.
        let Verdict::Unverified { statement, reason } = unknown(&policy) else {
            panic!("{:?}", unknown(&policy))
        };
        assert_eq!(statement, "Root");
        assert!(reason.contains("account 111122223333"), "{reason}");
        // A Deny that names only the account may apply too.
        let denied = json!({"Statement": [
            {"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
             "Action": "sns:Publish", "Resource": "*"},
            {"Sid": "NoRoot", "Effect": "Deny", "Principal": {"AWS": principal},
             "Action": "sns:Publish", "Resource": "*"}
        ]});
        assert_eq!(unverified_statement(&unknown(&denied)), "NoRoot");
    }
    // `*` and the service principal need no account identity.
    for principal in [json!("*"), json!({"Service": "cloudwatch.amazonaws.com"})] {
        let policy = json!({"Statement": {
            "Effect": "Allow", "Principal": principal, "Action": "sns:Publish", "Resource": "*"
        }});
        assert_eq!(unknown(&policy), Verdict::Allowed);
    }
    // An account principal whose statement provably does not apply stays a proof.
    let other_alarm = json!({"Statement": {
        "Effect": "Allow", "Principal": {"AWS": ACCOUNT}, "Action": "sns:Publish",
        "Resource": "*", "Condition": {"ArnEquals": {"aws:SourceArn": "arn:aws:cloudwatch:us-east-1:111122223333:alarm:other"}}
    }});
    assert!(matches!(unknown(&other_alarm), Verdict::NotAllowed { .. }));
    // Another account, or the right account in another partition, never counts.
    for principal in ["444455556666", "arn:aws-cn:iam::111122223333:root"] {
        let policy = json!({"Statement": {
            "Effect": "Allow", "Principal": {"AWS": principal},
            "Action": "sns:Publish", "Resource": "*"
        }});
        assert!(matches!(topic(policy.clone()), Verdict::NotAllowed { .. }));
        assert!(matches!(unknown(&policy), Verdict::NotAllowed { .. }));
    }
}

#[test]
fn cloudwatch_service_with_source_arn() {
    let mine = cloudwatch_statement(json!({
        "ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:us-east-1:111122223333:alarm:*"}
    }));
    assert_eq!(topic(json!({"Statement": [mine]})), Verdict::Allowed);

    let other = cloudwatch_statement(json!({
        "ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:us-east-1:111122223333:alarm:other"}
    }));
    assert_eq!(
        topic(json!({"Statement": [other]})),
        Verdict::NotAllowed {
            action: "SNS:Publish".into()
        }
    );

    let equals = cloudwatch_statement(json!({"ArnEquals": {"AWS:SOURCEARN": ALARM}}));
    assert_eq!(topic(json!({"Statement": [equals]})), Verdict::Allowed);

    let account = cloudwatch_statement(json!({"StringEquals": {"aws:SourceAccount": ACCOUNT}}));
    assert_eq!(topic(json!({"Statement": [account]})), Verdict::Allowed);
}

#[test]
fn org_condition_is_unverified_and_named() {
    let policy = json!({"Statement": [
        {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::444455556666:root"},
         "Action": "sns:Publish", "Resource": TOPIC},
        {"Effect": "Allow", "Principal": "*", "Action": "sns:Publish", "Resource": TOPIC,
         "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-a1b2c3d4e5"}}}
    ]});
    let verdict = topic(policy);
    assert_eq!(unverified_statement(&verdict), "statement 2");
    let Verdict::Unverified { reason, .. } = verdict else {
        unreachable!()
    };
    assert!(reason.contains("aws:PrincipalOrgID"), "{reason}");
    assert!(reason.contains("policy alone"), "{reason}");
}

#[test]
fn explicit_deny_wins() {
    let policy = json!({"Statement": [
        default_topic_policy()["Statement"][0].clone(),
        {"Sid": "NoPublish", "Effect": "Deny", "Principal": "*", "Action": "sns:Publish",
         "Resource": "*"}
    ]});
    assert_eq!(
        topic(policy),
        Verdict::Denied {
            statement: "NoPublish".into(),
            action: "SNS:Publish".into()
        }
    );
}

#[test]
fn deny_with_unknown_condition_is_unverified() {
    let policy = json!({"Statement": [
        default_topic_policy()["Statement"][0].clone(),
        {"Effect": "Deny", "Principal": {"AWS": "*"}, "Action": "sns:*", "Resource": TOPIC,
         "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
    ]});
    let verdict = topic(policy);
    assert_eq!(unverified_statement(&verdict), "statement 2");
}

#[test]
fn deny_that_provably_excludes_the_request_is_ignored() {
    let policy = json!({"Statement": [
        cloudwatch_statement(json!({"StringEquals": {"aws:SourceAccount": ACCOUNT}})),
        // Denies other accounts' alarms only: ours is known.
        {"Effect": "Deny", "Principal": "*", "Action": "sns:Publish", "Resource": TOPIC,
         "Condition": {"StringNotEquals": {"aws:SourceAccount": [ACCOUNT, "999988887777"]}}},
        // Denies subscriptions only.
        {"Effect": "Deny", "Principal": "*", "Action": "sns:Subscribe", "Resource": TOPIC},
        // Denies everyone but CloudWatch.
        {"Effect": "Deny", "NotPrincipal": {"Service": "cloudwatch.amazonaws.com",
         "AWS": "arn:aws:iam::111122223333:root"}, "Action": "sns:Publish", "Resource": TOPIC},
        // Denies on another topic.
        {"Effect": "Deny", "Principal": "*", "NotAction": "sns:Subscribe", "Resource":
         "arn:aws:sns:us-east-1:111122223333:other"}
    ]});
    assert_eq!(topic(policy), Verdict::Allowed);
}

#[test]
fn not_principal_deny_naming_only_the_service_is_unverified_for_topics() {
    let policy = json!({"Statement": [
        cloudwatch_statement(json!({})),
        {"Effect": "Deny", "NotPrincipal": {"Service": "cloudwatch.amazonaws.com"},
         "Action": "sns:Publish", "Resource": TOPIC}
    ]});
    assert_eq!(unverified_statement(&topic(policy.clone())), "statement 2");
    // When the account identity does not count, the service is the caller's
    // only identity, and the Deny provably exempts it.
    let request = Request {
        account_identity: AccountIdentity::NotCarried,
        ..topic_request()
    };
    assert_eq!(
        evaluate(&policy.to_string(), &request).unwrap(),
        Verdict::Allowed
    );
}

#[test]
fn not_principal_deny_omitting_cloudwatch_denies() {
    let policy = json!({"Statement": [
        cloudwatch_statement(json!({})),
        {"Sid": "OnlyOps", "Effect": "Deny",
         "NotPrincipal": {"AWS": "arn:aws:iam::111122223333:role/ops"},
         "Action": "sns:Publish", "Resource": TOPIC}
    ]});
    assert_eq!(
        topic(policy),
        Verdict::Denied {
            statement: "OnlyOps".into(),
            action: "SNS:Publish".into()
        }
    );
}

/// The key policy KMS gives a new customer managed key.
#[test]
fn default_key_policy_is_not_allowed() {
    let policy = json!({
      "Version": "2012-10-17",
      "Id": "key-default-1",
      "Statement": [{
        "Sid": "Enable IAM User Permissions",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
        "Action": "kms:*",
        "Resource": "*"
      }]
    });
    assert_eq!(
        key(policy),
        Verdict::NotAllowed {
            action: "kms:Decrypt".into()
        }
    );
}

#[test]
fn key_policy_for_cloudwatch() {
    let statement = |actions: serde_json::Value| {
        json!({"Statement": [
            {"Sid": "Enable IAM User Permissions", "Effect": "Allow",
             "Principal": {"AWS": "arn:aws:iam::111122223333:root"}, "Action": "kms:*",
             "Resource": "*"},
            {"Sid": "AllowCloudWatch", "Effect": "Allow",
             "Principal": {"Service": ["events.amazonaws.com", "cloudwatch.amazonaws.com"]},
             "Action": actions, "Resource": "*"}
        ]})
    };
    assert_eq!(
        key(statement(json!(["kms:Decrypt", "kms:GenerateDataKey*"]))),
        Verdict::Allowed
    );
    assert_eq!(
        key(statement(json!("kms:Decrypt"))),
        Verdict::NotAllowed {
            action: "kms:GenerateDataKey".into()
        }
    );
}

/// The policy of the AWS managed key `alias/aws/sns`.
#[test]
fn aws_managed_sns_key_is_never_allowed() {
    let policy = json!({
      "Version": "2012-10-17",
      "Id": "auto-sns-1",
      "Statement": [{
        "Sid": "Allow access through SNS for all principals in the account that are authorized to use SNS",
        "Effect": "Allow",
        "Principal": {"AWS": "*"},
        "Action": ["kms:Decrypt", "kms:GenerateDataKey*", "kms:CreateGrant", "kms:ListGrants",
                   "kms:DescribeKey"],
        "Resource": "*",
        "Condition": {"StringEquals": {
          "kms:ViaService": "sns.us-east-1.amazonaws.com",
          "kms:CallerAccount": ACCOUNT
        }}
      }, {
        "Sid": "Allow direct access to key metadata to the account",
        "Effect": "Allow",
        "Principal": {"AWS": "arn:aws:iam::111122223333:root"},
        "Action": ["kms:Describe*", "kms:Get*", "kms:List*", "kms:RevokeGrant"],
        "Resource": "*"
      }]
    });
    let verdict = key(policy);
    assert!(
        matches!(
            verdict,
            Verdict::Unverified { .. } | Verdict::NotAllowed { .. }
        ),
        "{verdict:?}"
    );
}

#[test]
fn statement_as_single_object_and_case_insensitivity() {
    let policy = json!({"statement": {
        "sid": "lower", "effect": "Allow", "principal": {"Service": "cloudwatch.amazonaws.com"},
        "action": "SNS:PUB*", "resource": TOPIC,
        "condition": {"StringEqualsIgnoreCase": {"AWS:SOURCEACCOUNT": ACCOUNT}}
    }});
    assert_eq!(topic(policy), Verdict::Allowed);
    let policy = json!({"Statement": {
        "Effect": "Allow", "Principal": "*", "Action": "sNs:pU?lIsH", "Resource": TOPIC
    }});
    assert_eq!(topic(policy), Verdict::Allowed);
}

#[test]
fn resource_matching() {
    let with = |resource: serde_json::Value| {
        topic(json!({"Statement": {
            "Effect": "Allow", "Principal": "*", "Action": "sns:Publish", "Resource": resource
        }}))
    };
    assert_eq!(with(json!("*")), Verdict::Allowed);
    assert_eq!(
        with(json!("arn:aws:sns:*:111122223333:cis-*")),
        Verdict::Allowed
    );
    assert_eq!(
        with(json!(["arn:aws:sns:us-east-1:111122223333:other", TOPIC])),
        Verdict::Allowed
    );
    // Resource matching is case-sensitive.
    assert!(matches!(
        with(json!("arn:aws:sns:us-east-1:111122223333:CIS-ALARMS")),
        Verdict::NotAllowed { .. }
    ));
    // A wildcard spanning segments: depends on the matching rule.
    assert!(matches!(
        with(json!("arn:aws:sns:*:cis-alarms")),
        Verdict::Unverified { .. }
    ));
    // A policy variable.
    assert!(matches!(
        with(json!(
            "arn:aws:sns:us-east-1:${aws:PrincipalAccount}:cis-alarms"
        )),
        Verdict::Unverified { .. }
    ));
    // NotResource.
    let policy = json!({"Statement": {
        "Effect": "Allow", "Principal": "*", "Action": "sns:Publish",
        "NotResource": "arn:aws:sns:us-east-1:111122223333:other"
    }});
    assert_eq!(topic(policy), Verdict::Allowed);
    // Neither Resource nor NotResource.
    let policy =
        json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "sns:Publish"}});
    assert!(matches!(topic(policy), Verdict::Unverified { .. }));
}

#[test]
fn condition_operators() {
    let with = |condition: serde_json::Value| {
        topic(json!({"Statement": [cloudwatch_statement(condition)]}))
    };
    let allowed = [
        json!({"StringLike": {"aws:SourceArn": "arn:aws:cloudwatch:*:111122223333:alarm:CIS-*"}}),
        json!({"StringNotLike": {"aws:SourceArn": "*:alarm:Other*"}}),
        json!({"StringEqualsIfExists": {"aws:SourceAccount": ACCOUNT}}),
        json!({"StringEquals": {"aws:SourceAccount": 111122223333u64}}),
        json!({"ArnNotEquals": {"aws:SourceArn": "arn:aws:cloudwatch:us-east-1:444455556666:alarm:*"}}),
        json!({"Null": {"aws:SourceArn": "false"}}),
        json!({"Null": {"aws:SourceArn": false}}),
        json!({"StringEquals": {"aws:SourceAccount": ["444455556666", ACCOUNT]},
               "ArnLike": {"aws:SourceArn": ALARM}}),
    ];
    for condition in allowed {
        assert_eq!(with(condition.clone()), Verdict::Allowed, "{condition}");
    }
    let not_allowed = [
        json!({"StringEquals": {"aws:SourceAccount": "444455556666"}}),
        json!({"StringEquals": {"aws:sourceaccount": ACCOUNT, "aws:SourceArn": "x"}}),
        json!({"Null": {"aws:SourceArn": "true"}}),
        // A known false clause decides, even next to an unknown one.
        json!({"StringEquals": {"aws:SourceAccount": "444455556666"},
               "StringEqualsIfExists": {"aws:PrincipalOrgID": "o-1"}}),
        json!({"StringNotEquals": {"aws:SourceAccount": ["444455556666", ACCOUNT]}}),
    ];
    for condition in not_allowed {
        assert!(
            matches!(with(condition.clone()), Verdict::NotAllowed { .. }),
            "{condition}"
        );
    }
    let unverified = [
        json!({"ForAnyValue:StringEquals": {"aws:SourceAccount": ACCOUNT}}),
        json!({"NumericEquals": {"aws:SourceAccount": 111122223333u64}}),
        json!({"StringEquals": {"aws:SourceAccount": "${aws:PrincipalAccount}"}}),
        json!({"StringEqualsIfExists": {"aws:SourceVpce": "vpce-1"}}),
        json!({"Null": {"aws:SourceVpce": "true"}}),
        json!({"NullIfExists": {"aws:SourceArn": "false"}}),
        json!({"stringequals": {"aws:SourceAccount": ACCOUNT}}),
        json!({"ArnLike": {"aws:SourceArn": "arn:*:alarm:CIS-4.1-UnauthorizedAPICalls"}}),
    ];
    for condition in unverified {
        assert!(
            matches!(with(condition.clone()), Verdict::Unverified { .. }),
            "{condition}"
        );
    }
}

#[test]
fn principal_oddities_are_unverified() {
    for principal in [
        json!({"Service": "CloudWatch.amazonaws.com"}),
        json!({"Service": "*"}),
        json!({"AWS": "arn:aws:iam::*:root"}),
        json!({"Mystery": "cloudwatch.amazonaws.com"}),
        json!("arn:aws:iam::111122223333:root"),
        json!({}),
    ] {
        let policy = json!({"Statement": {
            "Effect": "Allow", "Principal": principal, "Action": "sns:Publish", "Resource": TOPIC
        }});
        assert!(
            matches!(topic(policy.clone()), Verdict::Unverified { .. }),
            "{policy}"
        );
    }
    let policy =
        json!({"Statement": {"Effect": "Allow", "Action": "sns:Publish", "Resource": TOPIC}});
    assert!(matches!(topic(policy), Verdict::Unverified { .. }));
    for principal in [
        json!({"Federated": "cognito-identity.amazonaws.com"}),
        json!({"CanonicalUser": "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"}),
        json!({"Service": "events.amazonaws.com"}),
    ] {
        let policy = json!({"Statement": {
            "Effect": "Allow", "Principal": principal, "Action": "sns:Publish", "Resource": TOPIC
        }});
        assert!(matches!(topic(policy), Verdict::NotAllowed { .. }));
    }
}

#[test]
fn unknown_statement_element_is_unverified() {
    let policy = json!({"Statement": {
        "Effect": "Allow", "Principal": "*", "Action": "sns:Publish", "Resource": TOPIC,
        "Condtion": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}
    }});
    assert!(matches!(topic(policy), Verdict::Unverified { .. }));
}

#[test]
fn precedence() {
    let allow = json!({"Effect": "Allow", "Principal": "*", "Action": "sns:*", "Resource": "*"});
    let unknown_deny = json!({"Sid": "U", "Effect": "Deny", "Principal": "*", "Action": "*",
        "Resource": "*", "Condition": {"Bool": {"aws:SecureTransport": "false"}}});
    let deny = json!({"Sid": "D", "Effect": "Deny", "Principal": "*", "Action": "*",
        "Resource": "*"});
    // Denied beats an earlier unknown Deny.
    assert_eq!(
        topic(json!({"Statement": [allow, unknown_deny, deny]})),
        Verdict::Denied {
            statement: "D".into(),
            action: "SNS:Publish".into()
        }
    );
    // NotAllowed (a proof) beats an unknown Deny.
    assert_eq!(
        key(json!({"Statement": [allow, unknown_deny]})),
        Verdict::NotAllowed {
            action: "kms:Decrypt".into()
        }
    );
    // An unknown Deny blocks an otherwise proven Allow.
    assert_eq!(
        unverified_statement(&topic(json!({"Statement": [allow, unknown_deny]}))),
        "U"
    );
    // Empty Statement: implicit deny.
    assert!(matches!(
        topic(json!({"Statement": []})),
        Verdict::NotAllowed { .. }
    ));
}

#[test]
fn every_action_must_be_allowed_and_labels_are_first_in_order() {
    let policy = json!({"Statement": [
        {"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
         "Action": "kms:GenerateDataKey*", "Resource": "*"},
        {"Effect": "Allow", "Principal": {"Service": "cloudwatch.amazonaws.com"},
         "Action": "kms:Decrypt", "Resource": "*",
         "Condition": {"StringEquals": {"kms:EncryptionContext:aws:sns:topicArn": TOPIC}}},
        {"Effect": "Allow", "Principal": "*", "Action": "kms:Decrypt", "Resource": "*",
         "Condition": {"StringEquals": {"aws:PrincipalOrgID": "o-1"}}}
    ]});
    assert_eq!(unverified_statement(&key(policy)), "statement 2");
}

#[test]
fn malformed_documents_are_errors() {
    let request = topic_request();
    let bad = |text: &str| evaluate(text, &request).unwrap_err();
    assert!(matches!(bad("{"), PolicyError::NotJson(_)));
    assert!(matches!(bad("not json"), PolicyError::NotJson(_)));
    assert!(matches!(bad("[]"), PolicyError::NotAnObject));
    assert!(matches!(
        bad(r#"{"Version": "2012-10-17"}"#),
        PolicyError::NoStatement
    ));
    let duplicate = r#"{"Statement": {"Effect": "Deny", "Effect": "Allow", "Principal": "*",
        "Action": "sns:Publish", "Resource": "*"}}"#;
    assert!(matches!(bad(duplicate), PolicyError::NotJson(m) if m.contains("duplicate")));
    let cases = [
        (json!({"Statement": "x"}), "Statement"),
        (json!({"Statement": [1]}), "statement 1"),
        (
            json!({"Statement": {"Effect": "Permit", "Principal": "*", "Action": "a"}}),
            "Effect",
        ),
        (
            json!({"Statement": {"Principal": "*", "Action": "a", "Resource": "*"}}),
            "no Effect",
        ),
        (
            json!({"Statement": {"Effect": "Allow", "Principal": "*", "Resource": "*"}}),
            "no Action",
        ),
        (
            json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "a",
                "NotAction": "b", "Resource": "*"}}),
            "both Action and NotAction",
        ),
        (
            json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": [],
                "Resource": "*"}}),
            "empty",
        ),
        (
            json!({"Statement": {"Sid": "S", "Effect": "Allow", "Principal": "*",
                "Action": [1], "Resource": "*"}}),
            "S Action",
        ),
        (
            json!({"Statement": {"Effect": "Allow", "effect": "Deny", "Principal": "*",
                "Action": "a", "Resource": "*"}}),
            "Effect is given twice",
        ),
        (
            json!({"Statement": {"Effect": "Allow", "Principal": {"AWS": 5}, "Action": "a",
                "Resource": "*"}}),
            "Principal AWS",
        ),
        (
            json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "a",
                "Resource": "*", "Condition": {"StringEquals": {"k": null}}}}),
            "Condition StringEquals k",
        ),
        (
            json!({"Statement": {"Effect": "Allow", "Principal": "*", "Action": "a",
                "Resource": "*", "Condition": {"StringEquals": "k"}}}),
            "Condition StringEquals",
        ),
    ];
    for (policy, expected) in cases {
        let error = bad(&policy.to_string());
        assert!(
            error.to_string().contains(expected),
            "{policy}: {error} lacks {expected:?}"
        );
    }
    let no_actions = Request {
        actions: &[],
        ..topic_request()
    };
    assert_eq!(
        evaluate(&default_topic_policy().to_string(), &no_actions),
        Err(PolicyError::NoAction)
    );
}

#[test]
fn verdicts_display_and_serialize() {
    let denied = Verdict::Denied {
        statement: "D".into(),
        action: "SNS:Publish".into(),
    };
    assert_eq!(
        denied.to_string(),
        "denied: D explicitly denies SNS:Publish"
    );
    assert_eq!(
        serde_json::to_value(&denied).unwrap(),
        json!({"verdict": "denied", "statement": "D", "action": "SNS:Publish"})
    );
    assert!(Verdict::Allowed.is_allowed());
}
