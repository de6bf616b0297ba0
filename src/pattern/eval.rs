//! Evaluation of a pattern against one JSON log event.

use serde_json::Value;

use crate::events::fields::Fields;

use super::ast::{Expr, NumOp, Pattern, Pred, Selector, Step};
use super::glob;
use super::reading::Reading;

impl Pattern {
    /// Whether `event` matches under [`Reading::DOCUMENTED`] (semantics in the
    /// module docs).
    pub fn matches(&self, event: &Value) -> bool {
        self.matches_under(event, Reading::DOCUMENTED)
    }

    /// Whether `event` matches when the open questions are read as `reading`.
    pub fn matches_under(&self, event: &Value, reading: Reading) -> bool {
        eval_expr(&self.expr, event, reading)
    }

    /// Adds to `fields` every value the pattern looks at (whole: what each selector names),
    /// so that an event read with only those fields matches exactly when the whole does.
    pub fn keep(&self, fields: &mut Fields) {
        keep_expr(&self.expr, fields);
    }
}

fn keep_expr(expr: &Expr, fields: &mut Fields) {
    match expr {
        Expr::And(children) | Expr::Or(children) => {
            for child in children {
                keep_expr(child, fields);
            }
        }
        Expr::Cmp(cmp) => {
            let mut kept = fields;
            for step in &cmp.selector.0 {
                kept = match step {
                    Step::Field(name) => kept.member(name),
                    Step::Index(i) => kept.item(*i),
                };
            }
            kept.keep_whole();
        }
    }
}

fn eval_expr(expr: &Expr, event: &Value, reading: Reading) -> bool {
    match expr {
        Expr::And(children) => children.iter().all(|c| eval_expr(c, event, reading)),
        Expr::Or(children) => children.iter().any(|c| eval_expr(c, event, reading)),
        Expr::Cmp(cmp) => pred_holds(&cmp.pred, resolve(&cmp.selector, event), reading),
    }
}

/// The value a selector names, or `None` when any step does not apply.
pub(super) fn resolve<'a>(selector: &Selector, event: &'a Value) -> Option<&'a Value> {
    selector
        .0
        .iter()
        .try_fold(event, |value, step| match (step, value) {
            (Step::Field(name), Value::Object(map)) => map.get(name),
            (Step::Index(i), Value::Array(items)) => items.get(*i),
            _ => None,
        })
}

/// Whether the predicate is a `!=` (string, number or regex).
pub(super) fn is_not_equal(pred: &Pred) -> bool {
    matches!(
        pred,
        Pred::Str { negated: true, .. }
            | Pred::Regex { negated: true, .. }
            | Pred::Num { op: NumOp::Ne, .. }
    )
}

/// Whether a predicate holds for a resolved value (`None` = missing). The
/// comparator probes this same function, keeping the two consistent.
pub(super) fn pred_holds(pred: &Pred, value: Option<&Value>, reading: Reading) -> bool {
    match (pred, value) {
        (Pred::Str { negated, glob }, Some(Value::String(s))) => {
            glob::value_matches(glob, reading, s) != *negated
        }
        (Pred::Num { op, value: c }, Some(Value::Number(n))) => {
            n.as_f64().is_some_and(|x| op.holds(x, c.value))
        }
        (Pred::Regex { negated, regex }, Some(Value::String(s))) => regex.is_match(s) != *negated,
        (Pred::IsNull, Some(Value::Null)) => true,
        (Pred::IsTrue, Some(Value::Bool(b))) | (Pred::IsFalse, Some(Value::Bool(b))) => {
            *b == matches!(pred, Pred::IsTrue)
        }
        (Pred::NotExists, None) => true,
        (_, None | Some(Value::Null)) if is_not_equal(pred) => reading.not_equal_matches_missing(),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::reading::{MiddleStar, NotEqualOnMissing};
    use super::super::{parse, Reading};
    use serde_json::{json, Value};

    const UNAUTHORIZED_V12: &str =
        r#"{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}"#;
    const UNAUTHORIZED_V4: &str = "{ ($.errorCode =*UnauthorizedOperation) || ($.errorCode =AccessDenied*) && ($.sourceIPAddress!=delivery.logs.amazonaws.com) && ($.eventName!=HeadBucket) }";
    const CONSOLE_FAILURES: &str =
        r#"{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }"#;
    const NO_MFA: &str =
        r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }"#;
    const ROOT: &str = r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#;
    const KMS: &str = "{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }";

    fn m(pattern: &str, event: &Value) -> bool {
        parse(pattern).unwrap().matches(event)
    }

    fn console_login(error: Option<&str>, mfa: &str) -> Value {
        let mut event = json!({
            "eventVersion": "1.08",
            "userIdentity": {"type": "IAMUser", "principalId": "AIDAEXAMPLE", "userName": "alice"},
            "eventTime": "2024-05-01T12:00:00Z",
            "eventSource": "signin.amazonaws.com",
            "eventName": "ConsoleLogin",
            "awsRegion": "us-east-1",
            "sourceIPAddress": "198.51.100.7",
            "requestParameters": null,
            "responseElements": {"ConsoleLogin": if error.is_some() { "Failure" } else { "Success" }},
            "additionalEventData": {"MFAUsed": mfa, "MobileVersion": "No"},
            "eventType": "AwsConsoleSignIn",
        });
        if let (Some(msg), Some(map)) = (error, event.as_object_mut()) {
            map.insert("errorMessage".into(), json!(msg));
        }
        event
    }

    fn s3_access_denied(source_ip: &str, event_name: &str) -> Value {
        json!({
            "eventSource": "s3.amazonaws.com",
            "eventName": event_name,
            "errorCode": "AccessDenied",
            "errorMessage": "Access Denied",
            "sourceIPAddress": source_ip,
            "userIdentity": {"type": "AssumedRole"},
            "resources": [{"type": "AWS::S3::Bucket", "ARN": "arn:aws:s3:::logs"}],
        })
    }

    fn ec2_unauthorized() -> Value {
        json!({
            "eventSource": "ec2.amazonaws.com",
            "eventName": "RunInstances",
            "errorCode": "Client.UnauthorizedOperation",
            "errorMessage": "You are not authorized to perform this operation.",
            "sourceIPAddress": "203.0.113.9",
        })
    }

    fn root_event(invoked_by: Option<&str>, event_type: &str) -> Value {
        let mut identity = json!({"type": "Root", "arn": "arn:aws:iam::111122223333:root"});
        if let (Some(by), Some(map)) = (invoked_by, identity.as_object_mut()) {
            map.insert("invokedBy".into(), json!(by));
        }
        json!({"eventName": "GetAccountSummary", "userIdentity": identity, "eventType": event_type})
    }

    #[test]
    fn console_authentication_failures() {
        assert!(m(
            CONSOLE_FAILURES,
            &console_login(Some("Failed authentication"), "No")
        ));
        assert!(!m(CONSOLE_FAILURES, &console_login(None, "No")));
        assert!(!m(
            CONSOLE_FAILURES,
            &console_login(Some("Failed authentication."), "No")
        ));
    }

    #[test]
    fn console_login_without_mfa() {
        assert!(m(NO_MFA, &console_login(None, "No")));
        assert!(!m(NO_MFA, &console_login(None, "Yes")));
        // MFAUsed missing entirely (e.g. SSO federated login): `!=` needs a string.
        let mut sso = console_login(None, "No");
        if let Some(map) = sso.as_object_mut() {
            map.remove("additionalEventData");
        }
        assert!(!m(NO_MFA, &sso));
    }

    #[test]
    fn unauthorized_api_calls() {
        let ec2 = ec2_unauthorized();
        let s3 = s3_access_denied("203.0.113.9", "GetObject");
        let delivery = s3_access_denied("delivery.logs.amazonaws.com", "HeadBucket");
        let delivery_put = s3_access_denied("delivery.logs.amazonaws.com", "PutObject");
        let ok = json!({"eventName": "DescribeInstances", "sourceIPAddress": "1.2.3.4"});
        for (pattern, expected) in [
            (UNAUTHORIZED_V12, [true, true, true, true, false]),
            (UNAUTHORIZED_V4, [true, true, false, false, false]),
        ] {
            let got: Vec<bool> = [&ec2, &s3, &delivery, &delivery_put, &ok]
                .iter()
                .map(|e| m(pattern, e))
                .collect();
            assert_eq!(got, expected, "{pattern}");
        }
    }

    #[test]
    fn root_usage() {
        assert!(m(ROOT, &root_event(None, "AwsApiCall")));
        assert!(!m(
            ROOT,
            &root_event(Some("support.amazonaws.com"), "AwsApiCall")
        ));
        assert!(!m(ROOT, &root_event(None, "AwsServiceEvent")));
        // A present null still exists.
        let with_null =
            json!({"userIdentity": {"type": "Root", "invokedBy": null}, "eventType": "AwsApiCall"});
        assert!(!m(ROOT, &with_null));
    }

    #[test]
    fn kms_disable_key() {
        let disable = json!({"eventSource": "kms.amazonaws.com", "eventName": "DisableKey",
            "requestParameters": {"keyId": "1234abcd"}});
        assert!(m(KMS, &disable));
        let enable = json!({"eventSource": "kms.amazonaws.com", "eventName": "EnableKey"});
        assert!(!m(KMS, &enable));
        let other = json!({"eventSource": "ec2.amazonaws.com", "eventName": "DisableKey"});
        assert!(!m(KMS, &other));
    }

    #[test]
    fn numbers_nulls_booleans() {
        let e =
            json!({"n": 3, "f": -2.5, "big": 1500, "s": "3", "z": null, "t": true, "f0": false});
        assert!(m("{ $.n = 3 }", &e));
        assert!(m("{ $.n = 3.0 }", &e));
        assert!(m(
            "{ $.n != 4 && $.n > 2 && $.n >= 3 && $.n < 3.5 && $.n <= 3 }",
            &e
        ));
        assert!(m("{ $.f < -2 && $.big > 1e+3 }", &e));
        assert!(!m("{ $.s = 3 }", &e), "string is not a number");
        assert!(!m("{ $.s != 4 }", &e), "string is not a number");
        assert!(m(r#"{ $.s = "3" }"#, &e));
        assert!(!m(r#"{ $.n = "3" }"#, &e), "number is not a string");
        assert!(!m(r#"{ $.n != "x" }"#, &e), "number is not a string");
        assert!(!m("{ $.missing != 1 }", &e));
        assert!(m("{ $.z IS NULL && $.t IS TRUE && $.f0 IS FALSE }", &e));
        assert!(!m(
            "{ $.missing IS NULL || $.t IS FALSE || $.f0 IS TRUE || $.z IS TRUE }",
            &e
        ));
        assert!(m("{ $.missing NOT EXISTS }", &e));
        assert!(!m("{ $.z NOT EXISTS || $.t NOT EXISTS }", &e));
        assert!(!m(r#"{ $.z = "*" || $.z != "x" }"#, &e));
    }

    #[test]
    fn arrays_and_objects() {
        let e = json!({
            "list": [{"id": "a"}, {"id": "b", "tags": ["x", "y"]}],
            "obj": {"k": "v"},
            "matrix": [[1, 2], [3, 4]],
        });
        assert!(m("{ $.list[1].id = b }", &e));
        assert!(m("{ $.list[1].tags[0] = x }", &e));
        assert!(m("{ $.matrix[1][0] = 3 }", &e));
        assert!(m(
            "{ $.list[2] NOT EXISTS && $.list[0].tags NOT EXISTS }",
            &e
        ));
        assert!(m("{ $.obj[0] NOT EXISTS && $.list.id NOT EXISTS }", &e));
        // A selector naming an object or array never matches a comparison.
        assert!(!m(
            r#"{ $.obj = "*" || $.obj != "x" || $.list = "*" || $.list != "x" }"#,
            &e
        ));
        assert!(!m("{ $.obj NOT EXISTS || $.obj IS NULL }", &e));
        assert!(m("{$[0] NOT EXISTS}", &e));
        assert!(m("{$[1] = 2}", &json!([1, 2])));
    }

    #[test]
    fn regexes() {
        let e = json!({"ip": "10.1.2.3", "n": 10});
        assert!(m(r"{ $.ip = %^10\.% }", &e));
        assert!(m(r"{ $.ip = %2\.3% }", &e), "unanchored");
        assert!(m(r"{ $.ip != %^192% }", &e));
        assert!(!m(r"{ $.ip != %^10% }", &e));
        assert!(
            !m(r"{ $.n = %1% || $.n != %x% }", &e),
            "numbers are not strings"
        );
        assert!(!m(r"{ $.missing != %x% }", &e));
    }

    #[test]
    fn globs_are_case_sensitive_and_literal() {
        let e = json!({"a": "Access.Denied", "b": "a*b"});
        assert!(!m("{ $.a = access* }", &e));
        assert!(m("{ $.a = Access.* }", &e));
        assert!(!m("{ $.a = Access?Denied }", &e));
        assert!(m(r#"{ $.b = "a*" }"#, &e));
    }

    /// AWS: "`*Event` will match `PutEvent` and `GetEvent`", "`Event*` will
    /// match `EventId`", "`Ev*ent` will only match the actual string `Ev*ent`".
    #[test]
    fn middle_star_is_literal_in_the_documented_reading() {
        let login = json!({"eventName": "ConsoleLogin"});
        let starred = json!({"eventName": "Console*Login"});
        let p = parse("{ $.eventName = Console*Login }").unwrap();
        assert!(!p.matches(&login) && p.matches(&starred));
        for reading in Reading::all() {
            let wild = reading.middle_star == MiddleStar::Wildcard;
            assert_eq!(p.matches_under(&login, reading), wild, "{reading}");
            assert!(p.matches_under(&starred, reading), "{reading}");
        }
        assert!(m("{ $.e = *Event }", &json!({"e": "PutEvent"})));
        assert!(m("{ $.e = Event* }", &json!({"e": "EventId"})));
        assert!(m("{ $.e = *Event* }", &json!({"e": "GetEventId"})));
        assert!(!m("{ $.e = Ev*ent }", &json!({"e": "Event"})));
        assert!(m("{ $.e != Ev*ent }", &json!({"e": "Event"})));
        let error = |code: &str| json!({"errorCode": code});
        let two = r#"{ $.errorCode = "*Unauthorized*Operation" }"#;
        assert!(!m(two, &error("Client.UnauthorizedOperation")));
        assert!(m(two, &error("Client.Unauthorized*Operation")));
    }

    #[test]
    fn not_equal_on_missing_or_null_follows_the_reading() {
        let events = [json!({}), json!({"a": null}), json!({"b": {"c": 1}})];
        let wrong_type = json!({"a": true, "n": "1", "r": 5});
        for pattern in ["{ $.a != x }", "{ $.a != 1 }", "{ $.a != %x% }"] {
            let p = parse(pattern).unwrap();
            for reading in Reading::all() {
                let expected = reading.not_equal_on_missing == NotEqualOnMissing::Matches;
                for e in &events {
                    assert_eq!(
                        p.matches_under(e, reading),
                        expected,
                        "{pattern} {e} {reading}"
                    );
                }
                assert!(
                    !p.matches_under(&wrong_type, reading),
                    "{pattern} {reading}"
                );
            }
            assert!(!p.matches(&json!({})), "documented: {pattern}");
        }
        // A selector through a non-object resolves to missing.
        let nested = parse("{ $.a.z != x }").unwrap();
        assert!(nested.matches_under(&wrong_type, Reading::ALL[1]));
        assert!(!nested.matches(&wrong_type));
        // Only `!=` changes: `=`, `<` and the keywords never match a missing field.
        let q = parse("{ $.a = * || $.a < 1 || $.a IS TRUE || $.a = %x% }").unwrap();
        assert!(Reading::all().all(|r| !q.matches_under(&json!({}), r)));
    }
}
