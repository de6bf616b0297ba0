//! How a failed call is worded, for the reader and the writer alike (`aws_error`). A call
//! that never got an answer (no connection, or no reply in time) names the endpoint it tried
//! and why: `cannot reach http://127.0.0.1:9: connection refused`, not the SDK's layers; an
//! error reply from AWS is `Code: message`, and `is_denied` tells a missing permission from
//! any other failure.
//!
//! The bound and the endpoints those sentences name are process-wide: errors are worded where
//! no session is at hand, so `Session::connect` and the watch on each call leave them here.
//! It imports nothing else of the session, which builds on it.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;
use std::time::Duration;

use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::error::Error;

/// Default bound, in seconds, on each call and on resolving credentials (`--timeout`). Here,
/// with the messages that quote the bound, because they may be worded before any session.
pub const DEFAULT_TIMEOUT_SECS: u64 = 30;
/// Bound on making a connection (the call's own bound when that is shorter); here too because
/// a failed connection's message quotes it.
pub(super) const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The bound on each call, for messages about calls that ran out of time.
static TIMEOUT_SECS: AtomicU64 = AtomicU64::new(DEFAULT_TIMEOUT_SECS);

/// Sets the bound messages quote: `--timeout`, as the session was connected with.
pub(super) fn set_timeout(timeout: Duration) {
    TIMEOUT_SECS.store(timeout.as_secs(), Ordering::Relaxed);
}

/// The endpoint each `(operation, region)` last went to. Errors are turned into messages
/// ([`aws_error`]) where no session is at hand, so the watch leaves the endpoint here
/// ([`record_endpoint`]).
static ENDPOINTS: Mutex<BTreeMap<(String, String), String>> = Mutex::new(BTreeMap::new());

/// Records where `operation` in `region` went, for its error message.
pub(super) fn record_endpoint(operation: String, region: String, endpoint: String) {
    if let Ok(mut endpoints) = ENDPOINTS.lock() {
        endpoints.insert((operation, region), endpoint);
    }
}

/// Turns an SDK error into a one-line error naming the call.
pub(crate) fn aws_error<E>(operation: &'static str, region: &str, error: E) -> Error
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    // No connection or no reply: name the endpoint tried rather than the SDK's layers.
    if let Some(unreachable) = transport_error(operation, region, &error) {
        return unreachable;
    }
    let message = match (error.code(), error.message()) {
        (Some(code), Some(message)) => format!("{code}: {message}"),
        (Some(code), None) => code.to_string(),
        _ => first_line(&error),
    };
    Error::Aws {
        operation,
        region: Some(region.to_string()),
        message,
    }
}

/// Error codes AWS services use for a missing permission.
const ACCESS_DENIED: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "AuthorizationError",
    "UnauthorizedOperation",
    "UnauthorizedAccess",
];

/// Whether an error message (`Code: message`) is one of AWS's access-denied codes.
pub(crate) fn is_denied(message: &str) -> bool {
    ACCESS_DENIED
        .iter()
        .any(|code| message == *code || message.starts_with(&format!("{code}:")))
}

/// The errors of `error`'s chain, itself first.
fn chain<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(error), |e| e.source())
}

/// Why a connection failed, in a few words: `connection refused`, `cannot resolve the host
/// name (…)`, `no connection within 5 s`, or the innermost cause.
pub(super) fn transport_reason(error: &ConnectorError) -> String {
    let innermost = chain(error)
        .last()
        .map(|e| e.to_string())
        .unwrap_or_default();
    // "Connection refused (os error 111)" -> "connection refused"
    let innermost = match innermost.find(" (os error") {
        Some(at) => innermost.get(..at).unwrap_or_default().to_string(),
        None => innermost,
    };
    let mut chars = innermost.chars();
    let innermost = chars
        .next()
        .map(|c| c.to_lowercase().chain(chars).collect::<String>())
        .unwrap_or_default();
    if chain(error).any(|e| e.to_string().starts_with("dns error")) {
        format!("cannot resolve the host name ({innermost})")
    } else if error.is_timeout() {
        format!(
            "no connection within {} s",
            CONNECT_TIMEOUT
                .as_secs()
                .min(TIMEOUT_SECS.load(Ordering::Relaxed))
        )
    } else {
        innermost
    }
}

/// Whether no connection could be made at all (refused, unknown host, no answer to connect),
/// as opposed to a connection that broke.
pub(super) fn is_connect_failure(error: &ConnectorError) -> bool {
    error.is_timeout()
        || chain(error).any(|e| {
            e.downcast_ref::<std::io::Error>()
                .is_some_and(|io| io.kind() == std::io::ErrorKind::ConnectionRefused)
                || e.to_string().starts_with("dns error")
        })
}

/// A failed call that never got an answer (no connection, or no reply in time) as a
/// one-line error naming the endpoint tried; `None` for any other error, such as an error
/// reply from AWS.
pub fn transport_error(
    operation: &'static str,
    region: &str,
    error: &(dyn std::error::Error + 'static),
) -> Option<Error> {
    let endpoint = ENDPOINTS
        .lock()
        .ok()
        .and_then(|e| e.get(&(operation.to_string(), region.to_string())).cloned())
        .unwrap_or_else(|| {
            let service = operation.split(':').next().unwrap_or(operation);
            format!("the {service} endpoint")
        });
    // The SDK's error for a call that ran out of time (`SdkError::TimeoutError`) says only this.
    let message = if error.to_string() == "request has timed out" {
        format!(
            "no reply from {endpoint} within {} s; check the endpoint and your network or proxy, or raise --timeout",
            TIMEOUT_SECS.load(Ordering::Relaxed)
        )
    } else {
        let connector = chain(error)
            .find_map(|e| e.downcast_ref::<ConnectorError>())
            .filter(|c| c.is_io() || c.is_timeout())?;
        format!(
            "cannot reach {endpoint}: {}; check the endpoint and your network or proxy",
            transport_reason(connector)
        )
    };
    Some(Error::Aws {
        operation,
        region: Some(region.to_string()),
        message,
    })
}

/// The first line of an error and its causes, for one-line messages.
pub fn first_line(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![error.to_string()];
    let mut source = error.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts
        .join(": ")
        .lines()
        .next()
        .unwrap_or_default()
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_runtime_api::client::result::SdkError;

    #[test]
    fn transport_failures_name_the_endpoint() {
        if let Ok(mut endpoints) = ENDPOINTS.lock() {
            endpoints.insert(
                ("sts:GetCallerIdentity".into(), "test-region-1".into()),
                "http://127.0.0.1:9".into(),
            );
        }
        let refused = std::io::Error::from(std::io::ErrorKind::ConnectionRefused);
        let error: SdkError<std::io::Error, ()> =
            SdkError::dispatch_failure(ConnectorError::io(Box::new(refused)));
        let message = transport_error("sts:GetCallerIdentity", "test-region-1", &error)
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            message.contains("cannot reach http://127.0.0.1:9: connection refused"),
            "{message}"
        );

        // The SDK's timeout error is recognised by its text: this fails if that ever changes.
        let error: SdkError<std::io::Error, ()> = SdkError::timeout_error("slow");
        let message = transport_error("sts:GetCallerIdentity", "test-region-1", &error)
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            message.contains("no reply from http://127.0.0.1:9 within"),
            "{message}"
        );

        // An error reply from AWS is not a transport failure.
        let error: SdkError<std::io::Error, ()> = SdkError::construction_failure("bad input");
        assert!(transport_error("sts:GetCallerIdentity", "test-region-1", &error).is_none());
    }
}
