//! Masking what output must not show in clear: subscription endpoints (an address, a webhook
//! URL with its token, a phone number), `--notify` values as typed, and credentials in a URL.
//!
//! Mask by default: only what is known to be safe is shown (a queue or function ARN, a host,
//! an address's domain); an unknown or oddly spelled protocol's endpoint is masked whole.
//! This module imports nothing from the crate, so that errors, the audit and the views can
//! all use it without a cycle.

/// What stands for a masked part.
pub const MASK: &str = "****";

/// Hides most of an endpoint for output: endpoints can be personal or carry tokens.
/// `protocol` is taken trimmed and in any case, as `--notify` takes it. Only a queue or
/// function ARN (for `sqs` or `lambda`) is shown whole.
pub fn mask_endpoint(protocol: &str, endpoint: &str) -> String {
    let protocol = protocol.trim().to_ascii_lowercase();
    let endpoint = endpoint.trim();
    match protocol.as_str() {
        "email" | "email-json" => mask_email(endpoint),
        "http" | "https" => mask_url(&protocol, endpoint),
        "sms" => mask_phone(endpoint),
        // Queue and function ARNs identify resources, not people.
        "sqs" | "lambda" if is_arn_of(endpoint, &protocol) => endpoint.to_string(),
        _ => MASK.to_string(),
    }
}

/// `s****@example.com`: the first letter of the local part, and the domain if it looks like
/// one.
fn mask_email(endpoint: &str) -> String {
    let Some((local, domain)) = endpoint.rsplit_once('@') else {
        return MASK.to_string();
    };
    let first: String = local
        .chars()
        .take(1)
        .filter(char::is_ascii_alphanumeric)
        .collect();
    let domain = if looks_like_host(domain) && !domain.contains(':') {
        domain
    } else {
        MASK
    };
    format!("{first}{MASK}@{domain}")
}

/// `https://hooks.example.com/****`: the scheme and host only; a path, query or fragment can
/// carry a token, and `user:password@` is as secret.
fn mask_url(protocol: &str, endpoint: &str) -> String {
    // `//host/…`: the rest of a bare URL split at its first `:`.
    let Some((scheme, rest)) = endpoint
        .split_once("://")
        .or_else(|| endpoint.strip_prefix("//").map(|rest| (protocol, rest)))
    else {
        return MASK.to_string();
    };
    let scheme = match scheme.to_ascii_lowercase().as_str() {
        known @ ("http" | "https") => known.to_string(),
        _ => MASK.to_string(),
    };
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    // Everything up to the last `@` is userinfo; what is left is shown only if it looks like
    // a host (a password with a raw `/` would otherwise show its first half as the host).
    let (userinfo, host) = match authority.rsplit_once('@') {
        Some((_, host)) => ("****@", host),
        None => ("", authority),
    };
    let host = if looks_like_host(host) { host } else { MASK };
    format!("{scheme}://{userinfo}{host}/{MASK}")
}

/// `+****23`: the last two digits of a phone number, nothing of anything else.
fn mask_phone(endpoint: &str) -> String {
    let digits = endpoint.strip_prefix('+').unwrap_or(endpoint);
    if digits.len() < 8 || !digits.chars().all(|c| c.is_ascii_digit()) {
        return MASK.to_string();
    }
    format!("+{MASK}{}", digits.get(digits.len() - 2..).unwrap_or(""))
}

/// `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE` of this service, in a 12-digit account.
fn is_arn_of(endpoint: &str, service: &str) -> bool {
    let parts: Vec<&str> = endpoint.splitn(6, ':').collect();
    matches!(
        parts.as_slice(),
        ["arn", partition, s, region, account, resource]
            if *s == service
                && !partition.is_empty()
                && !region.is_empty()
                && account.len() == 12
                && account.chars().all(|c| c.is_ascii_digit())
                && !resource.is_empty()
    ) && !endpoint
        .chars()
        .any(|c| c.is_whitespace() || c.is_control())
}

/// A URL with its user name and password masked, for any message that shows it:
/// `http://user:pw@localhost:4566` is shown as `http://****@localhost:4566`. Everything up to
/// the last `@` is taken as userinfo, so a password with a raw `@`, `/`, `?` or `#` is masked
/// whole; a value without a scheme (`user:pw@localhost:4566`) is masked the same way. A URL
/// without `@` is returned as it is.
pub fn mask_url_userinfo(url: &str) -> String {
    // Only a plain scheme word is shown: in `user:a://b@host` the `://` is in the password.
    let (scheme, rest) = match url.split_once("://") {
        Some((scheme, rest))
            if !scheme.is_empty()
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c)) =>
        {
            (format!("{scheme}://"), rest)
        }
        _ => (String::new(), url),
    };
    match rest.rsplit_once('@') {
        Some((_, host)) => format!("{scheme}****@{host}"),
        None => url.to_string(),
    }
}

/// `host`, `host:port` or `[v6]:port`: nothing that could be part of a credential.
fn looks_like_host(host: &str) -> bool {
    let (name, port) = match host.rsplit_once(':') {
        Some((name, port)) if !host.ends_with(']') => (name, Some(port)),
        _ => (host, None),
    };
    let name_ok = !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-.[]:".contains(c))
        && (!name.contains(':') || name.starts_with('['));
    name_ok && port.is_none_or(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

/// A `--notify` value as typed, its endpoint masked: `email:s****@example.com`, or a bare URL
/// `https://hooks.example.com/****`. The protocol is shown trimmed and lower-cased, and only if
/// it is a plain word; a value without one is masked whole.
pub fn mask_notify(value: &str) -> String {
    let value = value.trim();
    if let Some(scheme) = bare_url_scheme(value) {
        return mask_endpoint(scheme, value);
    }
    match value.split_once(':') {
        Some((protocol, endpoint)) => {
            let protocol = protocol.trim().to_ascii_lowercase();
            let shown = if is_plain_word(&protocol) {
                protocol.as_str()
            } else {
                MASK
            };
            format!("{shown}:{}", mask_endpoint(&protocol, endpoint))
        }
        None => MASK.to_string(),
    }
}

/// `https` or `http` for a bare `https://…` or `http://…` URL given as a `--notify` value.
pub fn bare_url_scheme(value: &str) -> Option<&'static str> {
    let value = value.trim();
    ["https", "http"].into_iter().find(|scheme| {
        value
            .get(..scheme.len() + 3)
            .is_some_and(|head| head.eq_ignore_ascii_case(&format!("{scheme}://")))
    })
}

/// A short word of letters: safe to show (a token is longer, or has digits).
pub fn is_plain_word(word: &str) -> bool {
    (1..=10).contains(&word.len()) && word.chars().all(|c| c.is_ascii_alphabetic())
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn notify_values_are_masked_as_typed() {
        assert_eq!(
            mask_notify("https://hooks.example.com/T0/secret-token"),
            "https://hooks.example.com/****"
        );
        assert_eq!(
            mask_notify("http://hooks.example.com/secret"),
            "http://hooks.example.com/****"
        );
        assert_eq!(
            mask_notify("https:https://hooks.example.com/T0/secret-token"),
            "https:https://hooks.example.com/****"
        );
        assert_eq!(
            mask_notify("email:alice@example.com"),
            "email:a****@example.com"
        );
        // The rest of a bare URL split at its first `:` keeps its host.
        assert_eq!(
            mask_endpoint("https", "//hooks.example.com/secret"),
            "https://hooks.example.com/****"
        );
    }

    #[test]
    fn other_spellings_of_a_protocol_are_masked_as_it_is() {
        for (value, shown) in [
            (
                "HTTPS:https://hooks.example.com/T0/secret",
                "https:https://hooks.example.com/****",
            ),
            (
                " Https : HTTPS://hooks.example.com/secret ",
                "https:https://hooks.example.com/****",
            ),
            (
                "HTTPS://hooks.example.com/secret",
                "https://hooks.example.com/****",
            ),
            ("Email:alice@example.com", "email:a****@example.com"),
            (" email:alice@example.com", "email:a****@example.com"),
            ("EMAIL: alice@example.com ", "email:a****@example.com"),
            ("SMS:+15555550123", "sms:+****23"),
            (
                "SQS:arn:aws:sqs:us-east-1:111122223333:alerts",
                "sqs:arn:aws:sqs:us-east-1:111122223333:alerts",
            ),
        ] {
            assert_eq!(mask_notify(value), shown, "{value:?}");
        }
        assert_eq!(
            mask_endpoint(" HTTPS ", "https://hooks.example.com/secret"),
            "https://hooks.example.com/****"
        );
    }

    #[test]
    fn what_is_not_known_to_be_safe_is_masked_whole() {
        for (value, shown) in [
            // Unknown protocols, and values without one.
            ("pager:alice-secret", "pager:****"),
            ("email-json:alice@example.com", "****:a****@example.com"),
            ("s3cret:x", "****:****"),
            ("secret-without-protocol", "****"),
            // A known protocol whose endpoint is not of its shape.
            ("https:secret", "https:****"),
            (
                "https:tok3n://hooks.example.com/x",
                "https:****://hooks.example.com/****",
            ),
            ("sqs:secret", "sqs:****"),
            ("sqs:arn:aws:sns:us-east-1:111122223333:secret", "sqs:****"),
            (
                "lambda:arn:aws:sqs:us-east-1:111122223333:secret",
                "lambda:****",
            ),
            ("sms:secret12", "sms:****"),
            ("email:secret", "email:****"),
            ("email:alice@secret:1", "email:a****@****"),
        ] {
            assert_eq!(mask_notify(value), shown, "{value:?}");
        }
        assert_eq!(mask_endpoint("firehose", "arn:aws:firehose:x"), MASK);
        assert_eq!(mask_endpoint("", "anything"), MASK);
    }

    #[test]
    fn credentials_in_a_url_are_masked_with_its_path() {
        for (endpoint, shown) in [
            (
                "https://user:PASS@hooks.example.com/T0/secret",
                "https://****@hooks.example.com/****",
            ),
            (
                "https://PASS@hooks.example.com",
                "https://****@hooks.example.com/****",
            ),
            // An `@` in the password too: everything up to the last one is userinfo.
            (
                "https://user:P@SS@hooks.example.com:8443/x",
                "https://****@hooks.example.com:8443/****",
            ),
            // A raw `/` in the password: no host can be told apart, so none is shown.
            (
                "https://user:PA/SS@hooks.example.com/x",
                "https://****/****",
            ),
            ("https://[::1]:8080/PASS", "https://[::1]:8080/****"),
            (
                "https://hooks.example.com?token=PASS",
                "https://hooks.example.com/****",
            ),
            (
                "https://hooks.example.com#PASS",
                "https://hooks.example.com/****",
            ),
        ] {
            let masked = mask_endpoint("https", endpoint);
            assert_eq!(masked, shown, "{endpoint}");
            assert!(
                !masked.contains("PASS") && !masked.contains("SS"),
                "{masked}"
            );
        }
        assert_eq!(
            mask_notify("https:https://user:PASS@hooks.example.com/x"),
            "https:https://****@hooks.example.com/****"
        );
        assert_eq!(
            mask_notify("http://user:PASS@hooks.example.com/x"),
            "http://****@hooks.example.com/****"
        );
    }

    #[test]
    fn userinfo_is_masked_in_urls() {
        for (url, shown) in [
            (
                "http://user:pw@localhost:4566",
                "http://****@localhost:4566",
            ),
            ("user:pw@localhost:4566", "****@localhost:4566"),
            ("ftp://user:pw@x", "ftp://****@x"),
            ("http://user:pw@", "http://****@"),
            // A raw `/` or `@` in the password, or `://` where no scheme is.
            (
                "http://user:p/w@localhost:4566",
                "http://****@localhost:4566",
            ),
            ("http://user:p@w@localhost", "http://****@localhost"),
            ("user:a://pw@localhost", "****@localhost"),
            ("http://localhost:4566", "http://localhost:4566"),
            ("localhost:4566", "localhost:4566"),
        ] {
            assert_eq!(mask_url_userinfo(url), shown, "{url}");
        }
    }

    #[test]
    fn endpoints_are_masked() {
        assert_eq!(
            mask_endpoint("email", "security@example.com"),
            "s****@example.com"
        );
        assert_eq!(
            mask_endpoint("https", "https://hooks.example.com/T0/secret-token"),
            "https://hooks.example.com/****"
        );
        assert_eq!(mask_endpoint("sms", "+15555550123"), "+****23");
        let queue = "arn:aws:sqs:us-east-1:111122223333:alerts";
        assert_eq!(mask_endpoint("sqs", queue), queue);
        let function = "arn:aws:lambda:us-east-1:111122223333:function:notify";
        assert_eq!(mask_endpoint("lambda", function), function);
    }

    const TOKEN: &str = "XoXb5ecretT0ken";

    /// `protocol` as someone might type it: any case, spaces around.
    fn spelled(protocol: &'static str) -> impl Strategy<Value = String> {
        (
            proptest::collection::vec(any::<bool>(), protocol.len()),
            "[ \t]{0,2}",
            "[ \t]{0,2}",
        )
            .prop_map(move |(upper, before, after)| {
                let word: String = protocol
                    .chars()
                    .zip(upper)
                    .map(|(c, up)| if up { c.to_ascii_uppercase() } else { c })
                    .collect();
                format!("{before}{word}{after}")
            })
    }

    /// An endpoint of each protocol's shape (or not) with the token where it could be.
    fn carrying_the_token() -> impl Strategy<Value = String> {
        prop_oneof![
            Just(format!("https://hooks.example.com/services/{TOKEN}")),
            Just(format!("HTTPS://hooks.example.com/x?token={TOKEN}")),
            Just(format!("http://hooks.example.com#{TOKEN}")),
            Just(format!("https://user:{TOKEN}@hooks.example.com/x")),
            Just(format!("https://{TOKEN}@hooks.example.com")),
            Just(format!("https://user:a/{TOKEN}@hooks.example.com")),
            Just(format!("{TOKEN}@example.com")),
            Just(format!("a{TOKEN}@example.com")),
            Just(format!("+1555{TOKEN}")),
            Just(format!("arn:aws:sns:us-east-1:111122223333:{TOKEN}")),
            Just(TOKEN.to_string()),
        ]
    }

    proptest! {
        #[test]
        fn no_spelling_of_a_protocol_shows_the_token(
            protocol in prop_oneof![
                spelled("email"), spelled("https"), spelled("http"), spelled("sqs"),
                spelled("lambda"), spelled("sms"), spelled("email-json"), "[a-zA-Z ]{0,8}",
            ],
            endpoint in carrying_the_token(),
            space in "[ \t]{0,2}",
        ) {
            let masked = mask_endpoint(&protocol, &endpoint);
            prop_assert!(!masked.contains(TOKEN), "{protocol:?} {endpoint:?}: {masked}");
            let typed = format!("{space}{protocol}:{space}{endpoint}{space}");
            let masked = mask_notify(&typed);
            prop_assert!(!masked.contains(TOKEN), "{typed:?}: {masked}");
        }

        #[test]
        fn queue_and_function_arns_are_shown_whole(
            protocol in prop_oneof![spelled("sqs"), spelled("lambda")],
            name in "[a-zA-Z0-9_-]{1,40}",
        ) {
            let service = protocol.trim().to_ascii_lowercase();
            let resource = if service == "lambda" { format!("function:{name}") } else { name };
            let arn = format!("arn:aws:{service}:eu-west-1:111122223333:{resource}");
            prop_assert_eq!(mask_endpoint(&protocol, &arn), arn.clone());
            prop_assert_eq!(mask_notify(&format!("{protocol}:{arn}")), format!("{service}:{arn}"));
        }
    }
}
