//! Snapshot tests of rendered plans (insta): a half-compliant account, in text and JSON.

use super::*;
use crate::audit::tests::{
    account, alarm, audit, catalog, filter, subscription, topic_arn, trail, GROUP,
};
use crate::audit::Options;
use crate::inventory::Snapshot;

/// One good chain (4.6), one near-miss filter (4.3), one alarm without a subscriber (4.4),
/// a single-region trail beside the qualifying one, and --notify.
fn half_compliant() -> (Snapshot, Options) {
    let mut s = account();
    let mut regional = trail("regional", "regional-logs");
    regional.is_multi_region = false;
    s.trails.push(regional);
    let ops = topic_arn("ops");
    let quiet = topic_arn("quiet");
    let r = s.regions.get_mut("us-east-1").unwrap();
    r.metric_filters.push(filter(
        GROUP,
        "failures",
        r#"{ ($.errorMessage = "Failed authentication") && ($.eventName = ConsoleLogin) }"#,
        "Failures",
    ));
    r.alarms.push(alarm("failures", "Failures", Some(&ops)));
    r.subscriptions
        .push(subscription(&ops, "email", "oncall@example.com", true));
    r.metric_filters.push(filter(
        GROUP,
        "root",
        // Narrower than the control's: only console sign-ins by root.
        r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" && $.eventName = "ConsoleLogin" }"#,
        "Root",
    ));
    r.metric_filters.push(filter(
        GROUP,
        "iam",
        "{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)}",
        "IAM",
    ));
    r.alarms.push(alarm("iam", "IAM", Some(&quiet)));
    let options = Options {
        notify: vec!["email:security@example.com".parse().unwrap()],
        ..Options::default()
    };
    (s, options)
}

#[test]
fn text_plan() {
    let (s, options) = half_compliant();
    let plan = audit(&catalog(&["4.3", "4.4", "4.6"]), &s, &options);
    insta::assert_snapshot!(text(&plan, TextOptions::default()));
}

#[test]
fn json_plan() {
    let (s, options) = half_compliant();
    let plan = audit(&catalog(&["4.3", "4.4", "4.6"]), &s, &options);
    insta::assert_snapshot!(json(&plan, false));
}

#[test]
fn text_without_changes() {
    let (s, _) = half_compliant();
    let plan = audit(&catalog(&["4.6"]), &s, &Options::default());
    let out = text(&plan, TextOptions::default());
    assert!(
        out.contains("No changes. Controls: 1 compliant, 0 non-compliant, 0 blocked."),
        "{out}"
    );
}

#[test]
fn colour_only_when_asked() {
    let (s, options) = half_compliant();
    let plan = audit(&catalog(&["4.3"]), &s, &options);
    assert!(!text(&plan, TextOptions::default()).contains('\u{1b}'));
    assert!(text(
        &plan,
        TextOptions {
            color: true,
            show_endpoints: false
        }
    )
    .contains('\u{1b}'));
}

#[test]
fn endpoints_are_masked_unless_shown() {
    let (s, options) = half_compliant();
    let plan = audit(&catalog(&["4.3"]), &s, &options);
    let masked = text(&plan, TextOptions::default());
    assert!(
        masked.contains("s****@example.com") && !masked.contains("security@"),
        "{masked}"
    );
    let shown = text(
        &plan,
        TextOptions {
            color: false,
            show_endpoints: true,
        },
    );
    assert!(shown.contains("security@example.com"));
}
