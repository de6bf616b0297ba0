//! Watching the calls of every client: the counter of HTTP attempts for `--stats`, the `-v`
//! log of each call on stderr, and notices on stderr while a call waits for an endpoint that
//! refuses or does not answer (`waiting for sts:GetCallerIdentity at http://127.0.0.1:9:
//! connection refused, attempt 2 of 8`). Both print above the status line ([`crate::term`]).

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

use super::errors::{first_line, is_connect_failure, record_endpoint, transport_reason};
use crate::redact::mask_url_userinfo;

/// A call with no answer after this long says on stderr what it is waiting for...
const FIRST_NOTICE: Duration = Duration::from_secs(2);
/// ...and then again at most this often (one line for all the calls waiting at once).
const NOTICE_EVERY: Duration = Duration::from_secs(5);

/// Counts HTTP attempts per `service.Operation`, retries included.
#[derive(Debug, Clone, Default)]
pub struct CallCounter(Arc<Mutex<BTreeMap<String, usize>>>);

impl CallCounter {
    pub fn total(&self) -> usize {
        self.snapshot().values().sum()
    }

    pub fn snapshot(&self) -> BTreeMap<String, usize> {
        self.0.lock().map(|m| m.clone()).unwrap_or_default()
    }
}

impl Intercept for CallCounter {
    fn name(&self) -> &'static str {
        "CallCounter"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        // Named as errors name them (`logs:DescribeMetricFilters`), so the two read alike.
        let key = cfg
            .load::<Metadata>()
            .map(|m| format!("{}:{}", short_service(m.service()), m.name()))
            .unwrap_or_else(|| "unknown".to_string());
        if let Ok(mut counts) = self.0.lock() {
            *counts.entry(key).or_default() += 1;
        }
        Ok(())
    }
}

/// The short service name of IAM actions and of cis-fix's messages, from the SDK's name.
fn short_service(sdk_name: &str) -> String {
    match sdk_name {
        "CloudWatch Logs" => "logs".to_string(),
        // IAM's prefix for EventBridge is `events`, as its CloudTrail eventSource is.
        "EventBridge" => "events".to_string(),
        other => other.to_ascii_lowercase().replace(' ', ""),
    }
}

/// `-v`: log each AWS call, with its duration, on stderr.
static VERBOSE: AtomicBool = AtomicBool::new(false);

pub fn set_verbose(on: bool) {
    VERBOSE.store(on, Ordering::Relaxed);
}

/// When the attempt in flight started, for `-v`.
#[derive(Debug, Clone, Copy)]
struct Started(Instant);

impl Storable for Started {
    type Storer = StoreReplace<Self>;
}

/// Watches the calls of one client: prints a notice on stderr while a call waits (for an
/// endpoint that refuses or does not answer), and records the endpoint each call went to.
#[derive(Debug, Clone)]
pub(super) struct Watch {
    /// Short service name, as in operation names (`sts`, `logs`, …).
    service: &'static str,
    region: String,
    max_attempts: u32,
    last_notice: Arc<Mutex<Option<Instant>>>,
}

/// How far one call got, shared with its notice timer.
#[derive(Debug, Default)]
struct Progress {
    attempt: u32,
    endpoint: Option<String>,
    /// Why the last attempt failed, if it did.
    failure: Option<String>,
}

/// One call's notice timer, kept in the call's config bag: when the call ends, or is
/// dropped by the operation timeout, the bag drops it and the timer stops.
#[derive(Debug)]
struct Timer {
    progress: Arc<Mutex<Progress>>,
    task: tokio::task::AbortHandle,
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl Storable for Timer {
    type Storer = StoreReplace<Self>;
}

impl Watch {
    /// The watch on the calls of one client of `service` in `region`; `last_notice` is shared
    /// by all clients of a session, so that many calls waiting at once print one notice.
    pub(super) fn new(
        service: &'static str,
        region: &str,
        max_attempts: u32,
        last_notice: Arc<Mutex<Option<Instant>>>,
    ) -> Watch {
        Watch {
            service,
            region: region.to_string(),
            max_attempts,
            last_notice,
        }
    }

    fn operation(&self, cfg: &ConfigBag) -> String {
        let name = cfg.load::<Metadata>().map_or("call", |m| m.name());
        format!("{}:{name}", self.service)
    }

    fn progress(cfg: &ConfigBag, update: impl FnOnce(&mut Progress)) {
        if let Some(mut progress) = cfg.load::<Timer>().and_then(|t| t.progress.lock().ok()) {
            update(&mut progress);
        }
    }
}

impl Intercept for Watch {
    fn name(&self) -> &'static str {
        "Watch"
    }

    fn read_before_attempt(
        &self,
        _context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        cfg.interceptor_state().store_put(Started(Instant::now()));
        if cfg.load::<Timer>().is_some() {
            return Ok(());
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return Ok(());
        };
        let progress = Arc::new(Mutex::new(Progress::default()));
        let task = runtime.spawn(notices(
            self.operation(cfg),
            progress.clone(),
            self.max_attempts,
            self.last_notice.clone(),
        ));
        cfg.interceptor_state().store_put(Timer {
            progress,
            task: task.abort_handle(),
        });
        Ok(())
    }

    fn read_before_transmit(
        &self,
        context: &BeforeTransmitInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let endpoint = endpoint_of(context.request().uri());
        record_endpoint(self.operation(cfg), self.region.clone(), endpoint.clone());
        let attempt = cfg.load::<RequestAttempts>().map_or(1, |a| a.attempts());
        Watch::progress(cfg, |p| {
            p.attempt = attempt;
            p.endpoint = Some(endpoint);
        });
        Ok(())
    }

    fn read_after_attempt(
        &self,
        context: &FinalizerInterceptorContextRef<'_>,
        _runtime_components: &RuntimeComponents,
        cfg: &mut ConfigBag,
    ) -> Result<(), BoxError> {
        let mut connect_failed = false;
        let failure = match context.output_or_error() {
            Some(Err(error)) => Some(if let Some(connector) = error.as_connector_error() {
                connect_failed = is_connect_failure(connector);
                transport_reason(connector)
            } else if error.is_timeout_error() {
                "no reply".to_string()
            } else if let Some(response) = context.response() {
                format!("HTTP {} reply", response.status().as_u16())
            } else {
                first_line(error)
            }),
            _ => None,
        };
        let attempt = cfg.load::<RequestAttempts>().map_or(1, |a| a.attempts());
        let operation = self.operation(cfg);
        if VERBOSE.load(Ordering::Relaxed) {
            // Operation, region, attempt and outcome only: never a request's content, which
            // may hold a subscription endpoint.
            let took = cfg
                .load::<Started>()
                .map(|s| format!("{} ms", s.0.elapsed().as_millis()))
                .unwrap_or_default();
            let outcome = failure
                .as_deref()
                .map(|f| format!(", {f}"))
                .unwrap_or_default();
            let retry = if attempt > 1 {
                format!(", attempt {attempt}")
            } else {
                String::new()
            };
            let line = format!("aws {operation} ({}): {took}{retry}{outcome}", self.region);
            let line = crate::term::escape(&line);
            crate::term::suspend(|| crate::term::to_stderr(&format!("{line}\n")));
        }
        let mut retry_line = None;
        Watch::progress(cfg, |p| {
            p.failure = failure;
            // No connection at all is worth saying at once (a reply lost on a connection
            // that worked is retried quietly): the next attempt is about to wait for it.
            if connect_failed && attempt < self.max_attempts {
                retry_line = Some(p.line(&operation, attempt + 1, self.max_attempts));
            }
        });
        if let Some(line) = retry_line {
            notice(&self.last_notice, &line);
        }
        Ok(())
    }
}

impl Progress {
    /// `waiting for sts:GetCallerIdentity at http://127.0.0.1:9: connection refused, attempt
    /// 2 of 8`
    fn line(&self, operation: &str, attempt: u32, max_attempts: u32) -> String {
        let at = self
            .endpoint
            .as_deref()
            .map(|e| format!(" at {e}"))
            .unwrap_or_default();
        let why = self.failure.as_deref().unwrap_or("no reply yet");
        format!(
            "waiting for {operation}{at}: {why}, attempt {} of {max_attempts}",
            attempt.max(1)
        )
    }
}

/// Prints a notice on stderr, unless one was printed less than [`NOTICE_EVERY`] ago (by
/// any call): one line, not one per call, while many wait.
fn notice(last_notice: &Mutex<Option<Instant>>, line: &str) {
    if let Ok(mut last) = last_notice.lock() {
        if last.is_none_or(|at| at.elapsed() >= NOTICE_EVERY) {
            *last = Some(Instant::now());
            // A notice, not output: a closed stderr is no reason to fail.
            let line = crate::term::escape(line);
            crate::term::suspend(|| crate::term::to_stderr(&format!("{line}\n")));
        }
    }
}

/// The notices of one call: a first one after [`FIRST_NOTICE`], then one every
/// [`NOTICE_EVERY`], unless another call printed one meanwhile.
async fn notices(
    operation: String,
    progress: Arc<Mutex<Progress>>,
    max_attempts: u32,
    last_notice: Arc<Mutex<Option<Instant>>>,
) {
    tokio::time::sleep(FIRST_NOTICE).await;
    loop {
        let line = progress
            .lock()
            .ok()
            .map(|p| p.line(&operation, p.attempt, max_attempts));
        if let Some(line) = line {
            notice(&last_notice, &line);
        }
        tokio::time::sleep(NOTICE_EVERY).await;
    }
}

/// `scheme://host[:port]` of a request URI, any user name and password masked
/// (`http://****@localhost:4566`): it is shown in notices and errors, which end up in logs.
fn endpoint_of(uri: &str) -> String {
    let endpoint = match uri.split_once("://") {
        Some((scheme, rest)) => {
            let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
            format!("{scheme}://{authority}")
        }
        None => uri.to_string(),
    };
    mask_url_userinfo(&endpoint)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_in_a_call_endpoint_are_never_shown() {
        assert_eq!(
            endpoint_of("http://user:pw@localhost:4566/path?x=1"),
            "http://****@localhost:4566"
        );
        assert_eq!(
            endpoint_of("https://sts.amazonaws.com/"),
            "https://sts.amazonaws.com"
        );
    }
}
