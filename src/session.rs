//! Connecting to AWS: the standard configuration chain (profiles, `AWS_REGION`,
//! `AWS_ENDPOINT_URL`, credentials), an early and quick credentials check, and a counter of
//! API calls for `--stats`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::ProvideCredentials;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::BeforeTransmitInterceptorContextRef;
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::ConfigBag;

use crate::error::{Error, Result};

/// How long resolving credentials may take before cis-fix gives up (instance metadata
/// lookups on a machine without it would otherwise retry for a long time).
const CREDENTIALS_TIMEOUT: Duration = Duration::from_secs(10);

/// Default attempts per call (`--max-attempts`, or `AWS_MAX_ATTEMPTS`).
pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;
const INITIAL_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(20);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const ATTEMPT_TIMEOUT: Duration = Duration::from_secs(30);
const OPERATION_TIMEOUT: Duration = Duration::from_secs(180);

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
        let key = cfg
            .load::<Metadata>()
            .map(|m| format!("{}.{}", m.service(), m.name()))
            .unwrap_or_else(|| "unknown".to_string());
        if let Ok(mut counts) = self.0.lock() {
            *counts.entry(key).or_default() += 1;
        }
        Ok(())
    }
}

/// A client of one SDK crate for one region, counting its calls. (A macro because each SDK
/// crate has its own config and client types.)
macro_rules! regional_client {
    ($sdk:ident, $session:expr, $region:expr) => {{
        let config = $sdk::config::Builder::from(&$session.config)
            .region(Region::new($region.to_string()))
            .interceptor($session.calls.clone())
            .build();
        $sdk::Client::from_conf(config)
    }};
}

/// A connection to one AWS account: configuration plus per-region clients.
#[derive(Clone, Debug)]
pub struct Session {
    config: SdkConfig,
    pub region: String,
    pub calls: CallCounter,
}

impl Session {
    /// Loads the standard AWS configuration and checks that credentials resolve.
    ///
    /// Retries: the SDK's standard mode (exponential backoff with jitter, retrying throttling,
    /// 5xx and transient network errors) with `max_attempts` attempts per call and a short
    /// first backoff, as suits an interactive CLI. Every write cis-fix makes is idempotent
    /// (puts overwrite, create-topic and subscribe return what exists, deletes of what is gone
    /// are treated as done), so retrying after a lost reply is safe. Timeouts bound each
    /// attempt and each call, so nothing hangs.
    pub async fn connect(region: Option<&str>, max_attempts: u32) -> Result<Session> {
        let retry = RetryConfig::standard()
            .with_max_attempts(max_attempts.max(1))
            .with_initial_backoff(INITIAL_BACKOFF)
            .with_max_backoff(MAX_BACKOFF);
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(CONNECT_TIMEOUT)
            .operation_attempt_timeout(ATTEMPT_TIMEOUT)
            .operation_timeout(OPERATION_TIMEOUT)
            .build();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(retry)
            .timeout_config(timeouts);
        if let Some(region) = region {
            loader = loader.region(Region::new(region.to_string()));
        }
        let config = loader.load().await;
        let region = config
            .region()
            .map(|r| r.to_string())
            .filter(|r| !r.is_empty())
            .ok_or(Error::NoRegion)?;
        let provider = config
            .credentials_provider()
            .ok_or_else(|| Error::NoCredentials {
                detail: "no credentials provider is configured".into(),
            })?;
        match tokio::time::timeout(CREDENTIALS_TIMEOUT, provider.provide_credentials()).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                return Err(Error::NoCredentials {
                    detail: first_line(&e),
                })
            }
            Err(_) => {
                return Err(Error::NoCredentials {
                    detail: format!(
                        "none found within {} seconds",
                        CREDENTIALS_TIMEOUT.as_secs()
                    ),
                })
            }
        }
        Ok(Session {
            config,
            region,
            calls: CallCounter::default(),
        })
    }

    pub fn cloudtrail(&self, region: &str) -> aws_sdk_cloudtrail::Client {
        regional_client!(aws_sdk_cloudtrail, self, region)
    }

    pub fn logs(&self, region: &str) -> aws_sdk_cloudwatchlogs::Client {
        regional_client!(aws_sdk_cloudwatchlogs, self, region)
    }

    pub fn cloudwatch(&self, region: &str) -> aws_sdk_cloudwatch::Client {
        regional_client!(aws_sdk_cloudwatch, self, region)
    }

    pub fn sns(&self, region: &str) -> aws_sdk_sns::Client {
        regional_client!(aws_sdk_sns, self, region)
    }

    pub fn kms(&self, region: &str) -> aws_sdk_kms::Client {
        regional_client!(aws_sdk_kms, self, region)
    }

    pub fn sts(&self) -> aws_sdk_sts::Client {
        let config = aws_sdk_sts::config::Builder::from(&self.config)
            .interceptor(self.calls.clone())
            .build();
        aws_sdk_sts::Client::from_conf(config)
    }
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
