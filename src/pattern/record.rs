//! Events that read like the CloudTrail records they stand for.
//!
//! A counterexample or witness is first built minimal: only the fields the patterns test,
//! with the first value that decides them. Shown as it is (`{"eventName":"DetachGroupPolicy"}`,
//! `"MFAUsed":"not-Yes"`), it reads like no record anyone has seen. So the values tried for a
//! field CloudTrail writes start with the ones it really writes (`MFAUsed` `No`, a `Root`
//! identity), and once built the event is dressed with the fields every record carries
//! (`eventVersion`, `userIdentity`, `eventTime`, `eventSource` for the event name's service,
//! …), each kept only if the patterns still decide the event as before: the caller's check
//! runs after every field. Pure and deterministic: the same patterns give the same events.

use serde_json::{Map, Value};

use super::ast::{Selector, Step};

/// The account every dressed record is from (AWS's documentation example).
const ACCOUNT: &str = "123456789012";
/// When it happened: a fixed time, so that the same patterns give the same event.
const EVENT_TIME: &str = "2026-03-14T09:26:53Z";
/// A documentation address (RFC 5737), as CloudTrail's own examples use.
const SOURCE_IP: &str = "192.0.2.44";

/// The service (`eventSource`) of the event names the catalogs and common filters use.
const SOURCES: &[(&str, &[&str])] = &[
    (
        "signin.amazonaws.com",
        &["ConsoleLogin", "CheckMfa", "SwitchRole"],
    ),
    (
        "iam.amazonaws.com",
        &[
            "DeleteGroupPolicy",
            "DeleteRolePolicy",
            "DeleteUserPolicy",
            "PutGroupPolicy",
            "PutRolePolicy",
            "PutUserPolicy",
            "CreatePolicy",
            "DeletePolicy",
            "CreatePolicyVersion",
            "DeletePolicyVersion",
            "SetDefaultPolicyVersion",
            "AttachRolePolicy",
            "DetachRolePolicy",
            "AttachUserPolicy",
            "DetachUserPolicy",
            "AttachGroupPolicy",
            "DetachGroupPolicy",
            "GetUser",
            "CreateUser",
            "CreateAccessKey",
            "CreateLoginProfile",
            "UpdateLoginProfile",
            "CreateServiceSpecificCredential",
            "UploadSSHPublicKey",
            "UpdateAssumeRolePolicy",
            "AddUserToGroup",
            "PutUserPermissionsBoundary",
            "DeleteUserPermissionsBoundary",
            "PutRolePermissionsBoundary",
            "DeleteRolePermissionsBoundary",
            "CreateSAMLProvider",
            "UpdateSAMLProvider",
            "CreateOpenIDConnectProvider",
            "AddClientIDToOpenIDConnectProvider",
        ],
    ),
    (
        "cloudtrail.amazonaws.com",
        &[
            "CreateTrail",
            "UpdateTrail",
            "DeleteTrail",
            "StartLogging",
            "StopLogging",
            "PutEventSelectors",
            "DescribeTrails",
            "DeleteEventDataStore",
            "StopEventDataStoreIngestion",
            "UpdateEventDataStore",
        ],
    ),
    (
        "kms.amazonaws.com",
        &[
            "DisableKey",
            "ScheduleKeyDeletion",
            "DescribeKey",
            "PutKeyPolicy",
        ],
    ),
    (
        "s3.amazonaws.com",
        &[
            "PutBucketAcl",
            "PutBucketPolicy",
            "PutBucketCors",
            "PutBucketLifecycle",
            "PutBucketReplication",
            "DeleteBucketPolicy",
            "DeleteBucketCors",
            "DeleteBucketLifecycle",
            "DeleteBucketReplication",
            "HeadBucket",
            "GetObject",
            "PutObject",
            "ListBuckets",
        ],
    ),
    (
        "config.amazonaws.com",
        &[
            "StopConfigurationRecorder",
            "DeleteDeliveryChannel",
            "PutDeliveryChannel",
            "PutConfigurationRecorder",
            "DescribeConfigRules",
            "DeleteConfigurationRecorder",
        ],
    ),
    (
        "ec2.amazonaws.com",
        &[
            "DescribeInstances",
            "AuthorizeSecurityGroupIngress",
            "AuthorizeSecurityGroupEgress",
            "RevokeSecurityGroupIngress",
            "RevokeSecurityGroupEgress",
            "CreateSecurityGroup",
            "DeleteSecurityGroup",
            "ModifySecurityGroupRules",
            "CreateNetworkAcl",
            "CreateNetworkAclEntry",
            "DeleteNetworkAcl",
            "DeleteNetworkAclEntry",
            "ReplaceNetworkAclEntry",
            "ReplaceNetworkAclAssociation",
            "CreateCustomerGateway",
            "DeleteCustomerGateway",
            "AttachInternetGateway",
            "CreateInternetGateway",
            "DeleteInternetGateway",
            "DetachInternetGateway",
            "CreateRoute",
            "CreateRouteTable",
            "ReplaceRoute",
            "ReplaceRouteTableAssociation",
            "DeleteRouteTable",
            "DeleteRoute",
            "DisassociateRouteTable",
            "CreateVpc",
            "DeleteVpc",
            "ModifyVpcAttribute",
            "AcceptVpcPeeringConnection",
            "CreateVpcPeeringConnection",
            "DeleteVpcPeeringConnection",
            "RejectVpcPeeringConnection",
            "AttachClassicLinkVpc",
            "DetachClassicLinkVpc",
            "DisableVpcClassicLink",
            "EnableVpcClassicLink",
            "StartInstances",
            "StopInstances",
            "DeleteFlowLogs",
            "ModifySnapshotAttribute",
            "ModifyImageAttribute",
        ],
    ),
    (
        "organizations.amazonaws.com",
        &[
            "AcceptHandshake",
            "AttachPolicy",
            "DetachPolicy",
            "CreateAccount",
            "CreateOrganizationalUnit",
            "DeclineHandshake",
            "DeleteOrganization",
            "DeleteOrganizationalUnit",
            "DisablePolicyType",
            "EnablePolicyType",
            "InviteAccountToOrganization",
            "LeaveOrganization",
            "MoveAccount",
            "RemoveAccountFromOrganization",
            "UpdatePolicy",
            "UpdateOrganizationalUnit",
            "DescribeOrganization",
            "DisableAWSServiceAccess",
            "DeregisterDelegatedAdministrator",
            "RegisterDelegatedAdministrator",
        ],
    ),
    (
        "sts.amazonaws.com",
        &["AssumeRole", "GetCallerIdentity", "GetFederationToken"],
    ),
    // The hardened catalog's services. A name two services share (GuardDuty's and Security
    // Hub's DisassociateMembers) is said under the first: an unknown source is worse.
    (
        "route53resolver.amazonaws.com",
        &[
            "DeleteResolverQueryLogConfig",
            "DisassociateResolverQueryLogConfig",
            "ListResolverQueryLogConfigs",
        ],
    ),
    (
        "guardduty.amazonaws.com",
        &[
            "DeleteDetector",
            "UpdateDetector",
            "DisassociateFromMasterAccount",
            "DisassociateFromAdministratorAccount",
            "DisassociateMembers",
            "DeleteMembers",
            "StopMonitoringMembers",
            "DeletePublishingDestination",
            "CreateFilter",
            "UpdateFilter",
            "CreateIPSet",
            "UpdateIPSet",
            "ListDetectors",
        ],
    ),
    (
        "securityhub.amazonaws.com",
        &[
            "DisableSecurityHub",
            "BatchDisableStandards",
            "DisableImportFindingsForProduct",
            "UpdateStandardsControl",
            "DescribeHub",
        ],
    ),
    (
        "access-analyzer.amazonaws.com",
        &[
            "DeleteAnalyzer",
            "CreateArchiveRule",
            "UpdateArchiveRule",
            "ListAnalyzers",
        ],
    ),
    (
        "rolesanywhere.amazonaws.com",
        &["CreateTrustAnchor", "UpdateTrustAnchor", "ListTrustAnchors"],
    ),
    (
        "rds.amazonaws.com",
        &[
            "ModifyDBSnapshotAttribute",
            "ModifyDBClusterSnapshotAttribute",
            "DescribeDBSnapshots",
        ],
    ),
    (
        "lambda.amazonaws.com",
        &[
            "AddPermission20150331v2",
            "AddPermission20150331",
            "AddLayerVersionPermission20181031",
            "CreateFunctionUrlConfig20211031",
            "UpdateFunctionUrlConfig20211031",
            "UpdateFunctionCode20150331v2",
            "UpdateFunctionConfiguration20150331v2",
            "ListFunctions20150331",
        ],
    ),
    (
        "logs.amazonaws.com",
        &[
            "DeleteMetricFilter",
            "PutMetricFilter",
            "DeleteLogGroup",
            "PutRetentionPolicy",
            "DescribeLogGroups",
        ],
    ),
    (
        "monitoring.amazonaws.com",
        &[
            "DeleteAlarms",
            "DisableAlarmActions",
            "PutMetricAlarm",
            "DescribeAlarms",
        ],
    ),
    (
        "sns.amazonaws.com",
        &[
            "Unsubscribe",
            "DeleteTopic",
            "SetTopicAttributes",
            "SetSubscriptionAttributes",
            "RemovePermission",
            "ListTopics",
        ],
    ),
    (
        "events.amazonaws.com",
        &[
            "DeleteRule",
            "DisableRule",
            "RemoveTargets",
            "PutRule",
            "ListRules",
        ],
    ),
];

/// A call of each service that changes nothing, for a record whose event name no pattern
/// decides but whose service one does.
const QUIET_CALLS: &[(&str, &str)] = &[
    ("signin.amazonaws.com", "ConsoleLogin"),
    ("iam.amazonaws.com", "GetUser"),
    ("cloudtrail.amazonaws.com", "DescribeTrails"),
    ("kms.amazonaws.com", "DescribeKey"),
    ("s3.amazonaws.com", "ListBuckets"),
    ("config.amazonaws.com", "DescribeConfigRules"),
    ("ec2.amazonaws.com", "DescribeInstances"),
    ("organizations.amazonaws.com", "DescribeOrganization"),
    ("sts.amazonaws.com", "GetCallerIdentity"),
    (
        "route53resolver.amazonaws.com",
        "ListResolverQueryLogConfigs",
    ),
    ("guardduty.amazonaws.com", "ListDetectors"),
    ("securityhub.amazonaws.com", "DescribeHub"),
    ("access-analyzer.amazonaws.com", "ListAnalyzers"),
    ("rolesanywhere.amazonaws.com", "ListTrustAnchors"),
    ("rds.amazonaws.com", "DescribeDBSnapshots"),
    ("lambda.amazonaws.com", "ListFunctions20150331"),
    ("logs.amazonaws.com", "DescribeLogGroups"),
    ("monitoring.amazonaws.com", "DescribeAlarms"),
    ("sns.amazonaws.com", "ListTopics"),
    ("events.amazonaws.com", "ListRules"),
];

/// The service an event name belongs to, when cis-fix knows it: an unknown name gets no
/// `eventSource` rather than a wrong one.
fn source_of(event_name: &str) -> Option<&'static str> {
    SOURCES
        .iter()
        .find(|(_, names)| names.contains(&event_name))
        .map(|(source, _)| *source)
}

/// Values CloudTrail writes at a path, most usual first, and whether every record (of the
/// kind the path belongs to) has the field: for such a field these come before leaving it
/// out, so that a counterexample that must not be `IAMUser` is `Root`, not an identity
/// without a type. Empty for a path cis-fix knows nothing about.
pub(super) fn usual_values(selector: &Selector) -> (&'static [&'static str], bool) {
    let mut names = Vec::with_capacity(2);
    for step in &selector.0 {
        match step {
            Step::Field(name) => names.push(name.as_str()),
            Step::Index(_) => return (&[], false),
        }
    }
    match names.as_slice() {
        ["eventVersion"] => (&["1.08"], true),
        ["eventTime"] => (&[EVENT_TIME], true),
        ["eventName"] => (&["DescribeInstances", "GetObject", "ConsoleLogin"], true),
        ["eventSource"] => (
            &[
                "ec2.amazonaws.com",
                "iam.amazonaws.com",
                "s3.amazonaws.com",
                "signin.amazonaws.com",
            ],
            true,
        ),
        ["awsRegion"] => (&["us-east-1", "eu-west-1"], true),
        ["sourceIPAddress"] => (&[SOURCE_IP, "198.51.100.7"], true),
        ["userAgent"] => (&["signin.amazonaws.com", "console.amazonaws.com"], true),
        ["eventType"] => (
            &[
                "AwsApiCall",
                "AwsConsoleSignIn",
                "AwsServiceEvent",
                "AwsConsoleAction",
            ],
            true,
        ),
        ["recipientAccountId"] | ["userIdentity", "accountId"] => (&[ACCOUNT], true),
        ["userIdentity", "type"] => (
            &[
                "IAMUser",
                "Root",
                "AssumedRole",
                "FederatedUser",
                "AWSService",
            ],
            true,
        ),
        ["additionalEventData", "MFAUsed"] => (&["No", "Yes"], true),
        ["responseElements", "ConsoleLogin"] => (&["Success", "Failure"], true),
        ["errorCode"] => (&["AccessDenied", "Client.UnauthorizedOperation"], false),
        ["errorMessage"] => (&["Failed authentication"], false),
        ["userIdentity", "invokedBy"] => (&["cloudformation.amazonaws.com"], false),
        _ => (&[], false),
    }
}

/// The identity's ARN for its type, as CloudTrail writes it.
fn arn_of(identity_type: &str) -> Option<String> {
    let arn = match identity_type {
        "IAMUser" => format!("arn:aws:iam::{ACCOUNT}:user/alice"),
        "Root" => format!("arn:aws:iam::{ACCOUNT}:root"),
        "AssumedRole" => format!("arn:aws:sts::{ACCOUNT}:assumed-role/Admin/alice"),
        "FederatedUser" => format!("arn:aws:sts::{ACCOUNT}:federated-user/alice"),
        _ => return None,
    };
    Some(arn)
}

/// A string at `path` of `event`, if there is one.
fn text_at<'e>(event: &'e Value, path: &[&str]) -> Option<&'e str> {
    path.iter()
        .try_fold(event, |value, key| value.get(key))
        .and_then(Value::as_str)
}

/// A field a record carries: its path, and its value computed from the event as dressed so
/// far; `None` when nothing fits (an event name cis-fix does not know).
type Field = (&'static [&'static str], fn(&Value) -> Option<String>);

/// The fields a record carries, in CloudTrail's order, each computed from the event as
/// dressed so far (the ARN from the identity's type, the service from the event name, the
/// agent from who signed in).
fn next_fields() -> [Field; 11] {
    [
        (&["eventVersion"], |_| Some("1.08".into())),
        (&["userIdentity", "type"], |_| Some("IAMUser".into())),
        (&["userIdentity", "arn"], |e| {
            arn_of(text_at(e, &["userIdentity", "type"])?)
        }),
        (&["userIdentity", "accountId"], |e| {
            arn_of(text_at(e, &["userIdentity", "type"])?).map(|_| ACCOUNT.into())
        }),
        (&["eventTime"], |_| Some(EVENT_TIME.into())),
        (&["eventName"], |e| match text_at(e, &["eventSource"]) {
            Some(source) => QUIET_CALLS
                .iter()
                .find(|(s, _)| *s == source)
                .map(|(_, name)| (*name).into()),
            None => Some("DescribeInstances".into()),
        }),
        (&["eventSource"], |e| {
            source_of(text_at(e, &["eventName"])?).map(Into::into)
        }),
        (&["awsRegion"], |_| Some("us-east-1".into())),
        (&["sourceIPAddress"], |_| Some(SOURCE_IP.into())),
        // The agents CloudTrail's record reference gives for the console: an IAM user's, and
        // the root user's. (A browser's agent would read as well, but its spaces are written
        // `\u0020` in a one-line counterexample too long for the terminal.)
        (&["userAgent"], |e| {
            Some(match text_at(e, &["userIdentity", "type"]) {
                Some("Root") => "console.amazonaws.com".into(),
                _ => "signin.amazonaws.com".into(),
            })
        }),
        (&["eventType"], |e| {
            Some(match text_at(e, &["eventName"]) {
                Some("ConsoleLogin") => "AwsConsoleSignIn".into(),
                _ => "AwsApiCall".into(),
            })
        }),
    ]
}

/// `event` with each field a record carries added where it has none, in CloudTrail's order,
/// each addition kept only if `still` holds of the result (the patterns decide the event as
/// before). An event that is not an object (a pattern on `$[0]`) is returned as it is.
pub(super) fn dress(event: Value, still: &dyn Fn(&Value) -> bool) -> Value {
    let mut event = event;
    if !event.is_object() {
        return event;
    }
    for (path, value) in next_fields() {
        let Some(value) = value(&event) else { continue };
        let mut candidate = event.clone();
        if insert_absent(&mut candidate, path, Value::String(value)) && still(&candidate) {
            event = candidate;
        }
    }
    event
}

/// Sets `path` to `value` when nothing is there (objects made on the way); `false` when
/// something is, or a step on the way is not an object.
fn insert_absent(event: &mut Value, path: &[&str], value: Value) -> bool {
    let Some((last, parents)) = path.split_last() else {
        return false;
    };
    let mut here = event;
    for key in parents {
        let Value::Object(map) = here else {
            return false;
        };
        here = map
            .entry(key.to_string())
            .or_insert_with(|| Value::Object(Map::new()));
    }
    match here {
        Value::Object(map) if !map.contains_key(*last) => {
            map.insert(last.to_string(), value);
            true
        }
        _ => false,
    }
}

/// Where CloudTrail puts a top-level field in a record, and a `userIdentity` field in its
/// object; other fields follow, by name.
fn rank(parent: Option<&str>, key: &str) -> usize {
    const TOP: &[&str] = &[
        "eventVersion",
        "userIdentity",
        "eventTime",
        "eventSource",
        "eventName",
        "awsRegion",
        "sourceIPAddress",
        "userAgent",
        "errorCode",
        "errorMessage",
        "requestParameters",
        "responseElements",
        "additionalEventData",
        "eventType",
    ];
    const IDENTITY: &[&str] = &["type", "principalId", "arn", "accountId", "userName"];
    let order = match parent {
        None => TOP,
        Some("userIdentity") => IDENTITY,
        Some(_) => &[],
    };
    order.iter().position(|k| *k == key).unwrap_or(order.len())
}

/// `event` as compact one-line JSON with its fields in CloudTrail's order (`eventVersion`,
/// `userIdentity`, `eventTime`, `eventSource`, `eventName`, …), as a record reads: the same
/// JSON value as `event.to_string()`, in another order.
pub fn record_text(event: &Value) -> String {
    let mut out = String::new();
    write_value(&mut out, None, event, true);
    out
}

fn write_value(out: &mut String, parent: Option<&str>, value: &Value, top: bool) {
    match value {
        Value::Object(map) => {
            let mut keys: Vec<&String> = map.keys().collect();
            let context = if top { None } else { parent };
            keys.sort_by_key(|k| (rank(context, k), k.as_str()));
            out.push('{');
            for (i, key) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                out.push_str(&Value::String(key.clone()).to_string());
                out.push(':');
                if let Some(inner) = map.get(key) {
                    write_value(out, Some(key), inner, false);
                }
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_value(out, parent, item, false);
            }
            out.push(']');
        }
        leaf => out.push_str(&leaf.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_minimal_event_is_dressed_as_a_record_of_its_service() {
        let dressed = dress(json!({"eventName": "DetachGroupPolicy"}), &|_| true);
        assert_eq!(
            dressed,
            json!({
                "eventVersion": "1.08",
                "userIdentity": {
                    "type": "IAMUser",
                    "arn": "arn:aws:iam::123456789012:user/alice",
                    "accountId": "123456789012"
                },
                "eventTime": EVENT_TIME,
                "eventSource": "iam.amazonaws.com",
                "eventName": "DetachGroupPolicy",
                "awsRegion": "us-east-1",
                "sourceIPAddress": SOURCE_IP,
                "userAgent": "signin.amazonaws.com",
                "eventType": "AwsApiCall"
            })
        );
        assert_eq!(
            record_text(&dressed),
            r#"{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/alice","accountId":"123456789012"},"eventTime":"2026-03-14T09:26:53Z","eventSource":"iam.amazonaws.com","eventName":"DetachGroupPolicy","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.44","userAgent":"signin.amazonaws.com","eventType":"AwsApiCall"}"#
        );
    }

    #[test]
    fn what_the_event_has_decides_the_rest() {
        let root = dress(
            json!({"userIdentity": {"type": "Root"}, "eventName": "ConsoleLogin"}),
            &|_| true,
        );
        assert_eq!(
            root["userIdentity"]["arn"],
            "arn:aws:iam::123456789012:root"
        );
        assert_eq!(root["eventSource"], "signin.amazonaws.com");
        assert_eq!(root["userAgent"], "console.amazonaws.com");
        assert_eq!(root["eventType"], "AwsConsoleSignIn");
        // A service and no event name: a quiet call of that service.
        let kms = dress(json!({"eventSource": "kms.amazonaws.com"}), &|_| true);
        assert_eq!(kms["eventName"], "DescribeKey");
        // An event name cis-fix does not know: no service rather than a wrong one.
        let odd = dress(json!({"eventName": "Frobnicate"}), &|_| true);
        assert!(odd.get("eventSource").is_none(), "{odd}");
        // An identity type without an ARN form: none made up.
        let service = dress(json!({"userIdentity": {"type": "AWSService"}}), &|_| true);
        assert_eq!(service["userIdentity"], json!({"type": "AWSService"}));
    }

    #[test]
    fn a_field_is_added_only_if_the_check_still_holds() {
        // As if a pattern said `$.eventVersion NOT EXISTS && $.awsRegion = x`.
        let still = |e: &Value| e.get("eventVersion").is_none();
        let dressed = dress(json!({"awsRegion": "x"}), &still);
        assert!(dressed.get("eventVersion").is_none(), "{dressed}");
        assert_eq!(dressed["awsRegion"], "x");
        assert_eq!(dressed["eventName"], "DescribeInstances");
        // Present values, null included, are never replaced; a leaf is never made an object.
        let kept = dress(json!({"eventVersion": null, "userIdentity": "x"}), &|_| {
            true
        });
        assert_eq!(kept["eventVersion"], Value::Null);
        assert_eq!(kept["userIdentity"], "x");
        // Not an object: as it is.
        assert_eq!(dress(json!([1]), &|_| true), json!([1]));
    }

    #[test]
    fn record_text_is_the_same_json_in_cloudtrails_order() {
        let event = json!({
            "zeta": [{"b": 1, "a": 2}],
            "eventName": "x\"y",
            "userIdentity": {"accountId": "1", "type": "Root", "invokedBy": "z"},
            "additionalEventData": {"MFAUsed": "No"},
            "eventVersion": "1.08"
        });
        let text = record_text(&event);
        assert_eq!(
            text,
            r#"{"eventVersion":"1.08","userIdentity":{"type":"Root","accountId":"1","invokedBy":"z"},"eventName":"x\"y","additionalEventData":{"MFAUsed":"No"},"zeta":[{"a":2,"b":1}]}"#
        );
        assert_eq!(serde_json::from_str::<Value>(&text).unwrap(), event);
    }

    #[test]
    fn every_event_name_of_the_catalogs_has_its_service() {
        let named = regex::Regex::new(r#"eventName\s*!?=\s*"?([A-Za-z0-9]+)"#).unwrap();
        let mut seen = 0;
        for name in crate::catalog::builtin_names() {
            for control in crate::catalog::load_builtin(name).unwrap().controls {
                for found in named.captures_iter(&control.pattern_text) {
                    let event_name = &found[1];
                    assert!(
                        source_of(event_name).is_some(),
                        "{name} {}: {event_name}",
                        control.id
                    );
                    seen += 1;
                }
            }
        }
        assert!(seen > 100, "{seen}");
    }
}
