//! The user's choices that shape a plan: who gets notified and through which topic.

use std::fmt;
use std::str::FromStr;

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::inventory::Arn;
use crate::limits;
use crate::redact::{bare_url_scheme, mask_endpoint, mask_notify};

/// The topic cis-fix creates when none is given.
pub const DEFAULT_TOPIC_NAME: &str = "cis-fix-alerts";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Options {
    /// Endpoints to subscribe to the topic cis-fix creates (`--notify`).
    pub notify: Vec<Endpoint>,
    pub topic: TopicChoice,
    /// `--topic-kms-key`: the KMS key cis-fix's own topic is created encrypted with.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub topic_kms_key: Option<String>,
}

impl Options {
    /// Whether the user asked where notifications go (`--notify` or `--topic-arn`): only then
    /// may the plan move an existing cis-fix alarm to another topic.
    pub fn chooses_topic(&self) -> bool {
        !self.notify.is_empty() || matches!(self.topic, TopicChoice::Arn(_))
    }
}

impl Default for Options {
    fn default() -> Self {
        Options {
            notify: Vec::new(),
            topic: TopicChoice::Name(DEFAULT_TOPIC_NAME.to_string()),
            topic_kms_key: None,
        }
    }
}

/// `--topic-kms-key KEY`: a key id, key ARN, alias name (`alias/...`) or alias ARN, in the
/// forms KMS takes (`limits::KMS_KEY_ID`, `limits::KMS_ALIAS_NAME`): refused here rather
/// than by `CreateTopic` half-way through an apply.
pub fn parse_kms_key(s: &str) -> Result<String, String> {
    let key = s.trim();
    let form_ok = match Arn::parse(key) {
        Some(arn) => {
            arn.service == "kms"
                && (arn.resource.strip_prefix("key/").is_some_and(is_key_id)
                    || is_alias_name(arn.resource))
        }
        None => is_key_id(key) || is_alias_name(key),
    };
    if form_ok && limits::KMS_KEY_ID.check(key).is_ok() {
        Ok(key.to_string())
    } else {
        Err(format!(
            "`{s}` is not a KMS key: pass a key id (1234abcd-12ab-34cd-56ef-1234567890ab, or mrk- and 32 hex digits), key ARN, alias/NAME or alias ARN"
        ))
    }
}

/// A KMS key id: `1234abcd-12ab-34cd-56ef-1234567890ab`, or a multi-Region key's `mrk-`
/// followed by 32 hex digits.
fn is_key_id(id: &str) -> bool {
    let hex = |part: &str, digits: usize| {
        part.len() == digits && part.chars().all(|c| c.is_ascii_hexdigit())
    };
    match id.strip_prefix("mrk-") {
        Some(rest) => hex(rest, 32),
        None => {
            let parts: Vec<&str> = id.split('-').collect();
            parts.len() == 5 && parts.iter().zip([8, 4, 4, 4, 12]).all(|(p, n)| hex(p, n))
        }
    }
}

/// `alias/NAME`, as KMS names aliases.
fn is_alias_name(name: &str) -> bool {
    name.strip_prefix("alias/")
        .is_some_and(|rest| !rest.is_empty())
        && limits::KMS_ALIAS_NAME.check(name).is_ok()
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum TopicChoice {
    /// `--topic-arn`: an existing topic, used as it is.
    Arn(String),
    /// `--topic-name`: the topic cis-fix creates (or reuses, if it created it before).
    Name(String),
}

/// `--notify PROTOCOL:ENDPOINT`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, JsonSchema)]
pub struct Endpoint {
    pub protocol: String,
    pub endpoint: String,
}

pub const PROTOCOLS: &[&str] = &["email", "https", "http", "sqs", "lambda", "sms"];

impl FromStr for Endpoint {
    type Err = String;

    /// `PROTOCOL:ENDPOINT`, or a bare `https://…` or `http://…` URL, whose scheme is its
    /// SNS protocol.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (protocol, endpoint) = match bare_url_scheme(s) {
            Some(scheme) => (scheme, s.trim()),
            None => s.split_once(':').ok_or_else(|| {
                format!(
                    "`{}` is not PROTOCOL:ENDPOINT, e.g. email:security@example.com",
                    mask_notify(s)
                )
            })?,
        };
        let protocol = protocol.trim().to_ascii_lowercase();
        let endpoint = endpoint.trim().to_string();
        let valid = match protocol.as_str() {
            "email" => is_email(&endpoint),
            "https" => is_url(&endpoint, "https"),
            "http" => is_url(&endpoint, "http"),
            "sqs" => is_arn_of(&endpoint, "sqs", |r| !r.is_empty() && !r.contains(':')),
            "lambda" => is_arn_of(&endpoint, "lambda", |r| {
                r.strip_prefix("function:").is_some_and(|f| !f.is_empty())
            }),
            "sms" => is_e164(&endpoint),
            _ => {
                return Err(format!(
                    "unknown protocol in `{}`; use one of {}",
                    mask_notify(s),
                    PROTOCOLS.join(", ")
                ))
            }
        };
        if !valid {
            let example = endpoint_example(&protocol);
            // Masked: a mistyped webhook URL still carries its token and credentials.
            return Err(format!(
                "`{}` is not a valid {protocol} endpoint; expected e.g. {example}",
                mask_endpoint(&protocol, &endpoint)
            ));
        }
        Ok(Endpoint { protocol, endpoint })
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.protocol, self.endpoint)
    }
}

fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.rsplit_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !s.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// A URL of this scheme (`https` or `http`) with a host, as SNS takes it for that protocol.
/// The host is what follows any `user:password@`, without its port: `https://bob:pw@/x` and
/// `https://:443/x` have none.
fn is_url(s: &str, scheme: &str) -> bool {
    let head = format!("{scheme}://");
    let Some(authority) = s
        .get(..head.len())
        .filter(|h| h.eq_ignore_ascii_case(&head))
        .and_then(|_| s.get(head.len()..))
        .and_then(|rest| rest.split(['/', '?', '#']).next())
    else {
        return false;
    };
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let host = match host_port.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => host_port.split(':').next().unwrap_or_default(),
    };
    !host.is_empty() && !authority.chars().any(char::is_whitespace)
}

fn is_arn_of(s: &str, service: &str, resource_ok: impl Fn(&str) -> bool) -> bool {
    Arn::parse(s).is_some_and(|arn| {
        arn.service == service
            && !arn.region.is_empty()
            && arn.account.len() == 12
            && arn.account.chars().all(|c| c.is_ascii_digit())
            && resource_ok(arn.resource)
    })
}

fn is_e164(s: &str) -> bool {
    s.strip_prefix('+').is_some_and(|digits| {
        (8..=15).contains(&digits.len()) && digits.chars().all(|c| c.is_ascii_digit())
    })
}

/// Validates `--topic-arn`.
pub fn parse_topic_arn(s: &str) -> Result<String, String> {
    let s = s.trim();
    if is_arn_of(s, "sns", is_topic_name) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "`{s}` is not an SNS topic ARN; expected e.g. arn:aws:sns:us-east-1:111122223333:security-alerts"
        ))
    }
}

/// Validates `--topic-name` (`limits::TOPIC_NAME`: 1 to 256 letters, digits, `-` and `_`;
/// `.fifo` topics cannot take email or SMS subscriptions, so they are refused).
pub fn parse_topic_name(s: &str) -> Result<String, String> {
    if is_topic_name(s) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "`{s}` is not a valid topic name: use 1 to 256 letters, digits, `-` or `_`"
        ))
    }
}

fn is_topic_name(s: &str) -> bool {
    limits::TOPIC_NAME.check(s).is_ok()
}

/// The tags cis-fix's topic is created with for these `--notify` endpoints (its mark, and one
/// per endpoint), within SNS's limits: refused before any call, not by `CreateTopic`.
pub fn check_topic_tags(notify: &[Endpoint]) -> Result<(), String> {
    let tags = crate::ownership::topic_tags(
        notify
            .iter()
            .map(|e| (e.protocol.as_str(), e.endpoint.as_str())),
    );
    if tags.len() > limits::TOPIC_TAGS_MAX {
        return Err(format!(
            "--notify: {} endpoints, but cis-fix records each in a tag on its topic beside its own mark, and SNS takes at most {} tags on a topic: pass at most {}",
            tags.len() - 1,
            limits::TOPIC_TAGS_MAX,
            limits::TOPIC_TAGS_MAX - 1
        ));
    }
    for (key, value) in &tags {
        let problem = limits::TOPIC_TAG_KEY
            .check(key)
            .and(limits::TOPIC_TAG_VALUE.check(value));
        problem.map_err(|p| format!("--notify: the topic tag `{key}` {p}"))?;
    }
    Ok(())
}

/// `--topic-arn` must name a topic that exists, in a region the alarms live in, whether or
/// not this plan needs it: the user asked for it by name.
pub(super) fn check_topic_arn(
    options: &Options,
    snapshot: &crate::inventory::Snapshot,
) -> Vec<super::plan::InputError> {
    let TopicChoice::Arn(arn) = &options.topic else {
        return vec![];
    };
    if snapshot.regions.is_empty() {
        return vec![];
    }
    let region = Arn::parse(arn).map(|a| a.region).unwrap_or("");
    let message = match snapshot.region(region) {
        None => format!(
            "--topic-arn {arn} is in region {region}, but the alarms belong in {} with the trails' log groups; alarms can only notify topics in their own region",
            snapshot.regions.keys().cloned().collect::<Vec<_>>().join(", ")
        ),
        Some(data) if !data.topic(arn).is_some_and(|t| t.exists) => format!(
            "--topic-arn {arn} does not exist (or cannot be read); create it or pass another"
        ),
        Some(_) => return vec![],
    };
    vec![super::plan::InputError {
        option: "--topic-arn".into(),
        message,
    }]
}

/// A valid `--notify` value for `protocol`, for error messages.
pub fn endpoint_example(protocol: &str) -> &'static str {
    match protocol.trim().to_ascii_lowercase().as_str() {
        "email" => "email:security@example.com",
        "https" => "https://hooks.example.com/cis (or https:https://hooks.example.com/cis)",
        "http" => "http://hooks.example.com/cis (or http:http://hooks.example.com/cis)",
        "sqs" => "sqs:arn:aws:sqs:us-east-1:111122223333:alerts",
        "lambda" => "lambda:arn:aws:lambda:us-east-1:111122223333:function:notify",
        _ => "sms:+15555550100",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn valid_endpoints_parse() {
        for ok in [
            "email:security@example.com",
            "EMAIL:a@b.co",
            "https:https://hooks.example.com/x?y=1",
            "sqs:arn:aws:sqs:us-east-1:111122223333:alerts",
            "lambda:arn:aws:lambda:eu-west-1:111122223333:function:notify",
            "sms:+15555550100",
        ] {
            let e: Endpoint = ok.parse().unwrap_or_else(|e| panic!("{ok}: {e}"));
            assert!(PROTOCOLS.contains(&e.protocol.as_str()));
        }
        let e: Endpoint = "email:a@b.co".parse().unwrap();
        assert_eq!(e.to_string(), "email:a@b.co");
    }

    #[test]
    fn a_bare_url_is_its_own_protocol() {
        let parsed = |s: &str| {
            let e: Endpoint = s.parse().unwrap_or_else(|e| panic!("{s}: {e}"));
            (e.protocol, e.endpoint)
        };
        let https = (
            "https".to_string(),
            "https://hooks.example.com/x".to_string(),
        );
        assert_eq!(parsed("https://hooks.example.com/x"), https);
        assert_eq!(parsed("https:https://hooks.example.com/x"), https);
        assert_eq!(parsed(" https://hooks.example.com/x "), https);
        assert_eq!(
            parsed("HTTPS://hooks.example.com/x"),
            (
                "https".to_string(),
                "HTTPS://hooks.example.com/x".to_string()
            )
        );
        // SNS's `http` protocol, bare or spelled out.
        let http = (
            "http".to_string(),
            "http://hooks.example.com/x?y=1".to_string(),
        );
        assert_eq!(parsed("http://hooks.example.com/x?y=1"), http);
        assert_eq!(parsed("http:http://hooks.example.com/x?y=1"), http);
        assert!(PROTOCOLS.contains(&"http"));
        // Each protocol takes only its own scheme, and a URL needs a host.
        for (bad, hint) in [
            (
                "http:https://hooks.example.com/x",
                "http://hooks.example.com/cis",
            ),
            ("https://", "not a valid https endpoint"),
            ("http:///x", "not a valid http endpoint"),
            ("http://has space.example.com", "not a valid http endpoint"),
        ] {
            let err = bad.parse::<Endpoint>().unwrap_err();
            assert!(err.contains(hint), "{bad}: {err}");
        }
        // The other protocols are unchanged.
        assert_eq!(
            parsed("email:security@example.com"),
            ("email".to_string(), "security@example.com".to_string())
        );
        assert_eq!(
            parsed("sqs:arn:aws:sqs:us-east-1:111122223333:alerts"),
            (
                "sqs".to_string(),
                "arn:aws:sqs:us-east-1:111122223333:alerts".to_string()
            )
        );
    }

    #[test]
    fn invalid_endpoints_say_what_is_expected() {
        for (bad, hint) in [
            ("security@example.com", "PROTOCOL:ENDPOINT"),
            ("pager:123", "unknown protocol"),
            ("email:nobody", "email:security@example.com"),
            ("email:a@b", "not a valid email"),
            ("https:http://insecure.example.com", "https:https://"),
            (
                "https:http://insecure.example.com",
                "https://hooks.example.com/cis",
            ),
            ("https:https://", "not a valid https"),
            ("sqs:alerts", "arn:aws:sqs"),
            ("sqs:arn:aws:sns:us-east-1:111122223333:t", "arn:aws:sqs"),
            (
                "lambda:arn:aws:lambda:us-east-1:111122223333:notify",
                "function:",
            ),
            ("sms:5555550100", "+15555550100"),
            ("sms:+1", "+15555550100"),
        ] {
            let err = bad.parse::<Endpoint>().unwrap_err();
            assert!(err.contains(hint), "{bad}: {err}");
        }
    }

    #[test]
    fn topic_arn_and_name_validation() {
        assert!(parse_topic_arn("arn:aws:sns:us-east-1:111122223333:alerts").is_ok());
        for bad in [
            "alerts",
            "arn:aws:sqs:us-east-1:111122223333:alerts",
            "arn:aws:sns:us-east-1:1:alerts",
            "arn:aws:sns:us-east-1:111122223333:",
            "arn:aws:sns:us-east-1:111122223333:a:b",
        ] {
            assert!(parse_topic_arn(bad).is_err(), "{bad}");
        }
        assert!(parse_topic_name("cis-fix_alerts2").is_ok());
        assert!(parse_topic_name(&"a".repeat(256)).is_ok());
        for bad in ["", "has space", "x.fifo", "x:y", &"a".repeat(257)] {
            let err = parse_topic_name(bad).unwrap_err();
            assert!(err.contains("1 to 256 letters, digits"), "{bad}: {err}");
        }
    }

    #[test]
    fn kms_keys_in_the_forms_kms_takes() {
        for ok in [
            "1234abcd-12ab-34cd-56ef-1234567890ab",
            "mrk-1234abcd12ab34cd56ef1234567890ab",
            "arn:aws:kms:us-east-2:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:kms:us-east-2:111122223333:key/mrk-1234abcd12ab34cd56ef1234567890ab",
            "alias/aws/sns",
            "alias/team_alerts-key",
            "arn:aws:kms:us-east-2:111122223333:alias/team/alerts",
            &format!("alias/{}", "a".repeat(250)),
        ] {
            assert_eq!(parse_kms_key(ok).as_deref(), Ok(ok), "{ok}");
        }
        for bad in [
            "",
            "abc",
            "1234abcd-12ab-34cd-56ef",
            "mrk-1234",
            "alias/",
            "alias/has space",
            "alias/a.b",
            &format!("alias/{}", "a".repeat(251)),
            "arn:aws:kms:us-east-2:111122223333:1234abcd-12ab-34cd-56ef-1234567890ab",
            "arn:aws:sns:us-east-2:111122223333:alias/x",
        ] {
            let err = parse_kms_key(bad).unwrap_err();
            assert!(err.contains("is not a KMS key"), "{bad}: {err}");
        }
    }

    #[test]
    fn notify_endpoints_fit_the_topics_tags() {
        let endpoints = |n: usize| -> Vec<Endpoint> {
            (0..n)
                .map(|i| format!("email:sec{i}@example.com").parse().unwrap())
                .collect()
        };
        assert!(check_topic_tags(&[]).is_ok());
        assert!(check_topic_tags(&endpoints(49)).is_ok());
        let err = check_topic_tags(&endpoints(50)).unwrap_err();
        assert!(
            err.starts_with("--notify: 50 endpoints,") && err.ends_with("pass at most 49"),
            "{err}"
        );
        // The same endpoint twice is one tag.
        let mut twice = endpoints(49);
        twice.push(twice[0].clone());
        assert!(check_topic_tags(&twice).is_ok());
    }

    #[test]
    fn a_url_needs_a_host_after_its_credentials() {
        for bad in [
            "https://bob:pw@/TOKEN",
            "https:https://bob:pw@/TOKEN",
            "http://bob:pw@",
            "https://bob@?pw",
            "https://bob:pw@:443/TOKEN",
            "https://:443/TOKEN",
        ] {
            let err = bad.parse::<Endpoint>().unwrap_err();
            assert!(err.contains("not a valid http"), "{bad}: {err}");
            // The value is masked in the error: no credentials, no token.
            assert!(
                !err.contains("pw") && !err.contains("TOKEN") && !err.contains("bob"),
                "{bad}: {err}"
            );
        }
        for good in [
            "https://bob:pw@hooks.example.com/TOKEN",
            "https://hooks.example.com:8443/x",
            "https://[::1]:8443/x",
        ] {
            assert!(good.parse::<Endpoint>().is_ok(), "{good}");
        }
    }
}
