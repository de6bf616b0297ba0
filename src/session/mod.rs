//! Connecting to AWS: the standard configuration chain (profiles, `AWS_REGION`,
//! `AWS_ENDPOINT_URL`, credentials), an early and quick credentials check, and a client per
//! service and region, every one counted and watched.
//!
//! Around the [`Session`]: `config.rs` checks the configuration locally before any call,
//! `watch.rs` counts and watches each call (`--stats`, `-v`, "still waiting" notices), and
//! [`errors`] words a failed one. None of them imports this file: it builds on them.

mod config;
pub mod errors;
mod watch;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_config::profile::ProfileFileCredentialsProvider;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::ProvideCredentials;

use crate::error::{Error, Result};
use config::{check_configuration, check_region, chosen_profile};
use errors::{first_line, CONNECT_TIMEOUT};
use watch::Watch;

// Defined with the messages that quote the bound, which may be worded before any session.
pub use errors::DEFAULT_TIMEOUT_SECS;
pub use watch::{set_verbose, CallCounter};

/// Default attempts per call (`--max-attempts`, or `AWS_MAX_ATTEMPTS`).
pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;
const INITIAL_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(20);

/// How to connect: the global options of every command that talks to AWS.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Connect {
    /// `--profile`: wins over `AWS_PROFILE` and over credentials in the environment.
    pub profile: Option<String>,
    /// Attempts per call (`--max-attempts`).
    pub max_attempts: u32,
    /// Bound on each call, retries included, and on resolving credentials (`--timeout`).
    pub timeout: Duration,
}

impl Default for Connect {
    fn default() -> Self {
        Connect {
            profile: None,
            max_attempts: DEFAULT_MAX_ATTEMPTS,
            timeout: Duration::from_secs(DEFAULT_TIMEOUT_SECS),
        }
    }
}

/// A client of one SDK crate for one region, counting and watching its calls. (A macro
/// because each SDK crate has its own config and client types.)
macro_rules! regional_client {
    ($sdk:ident, $service:expr, $session:expr, $region:expr) => {{
        let config = $sdk::config::Builder::from(&$session.config)
            .region(Region::new($region.to_string()))
            .interceptor($session.calls.clone())
            .interceptor($session.watch($service, $region))
            .build();
        $sdk::Client::from_conf(config)
    }};
}

/// A connection to one AWS account: configuration plus per-region clients.
#[derive(Clone, Debug)]
pub struct Session {
    config: SdkConfig,
    pub region: String,
    /// The account these credentials reach, when known without asking (an assumed role):
    /// saves a `GetCallerIdentity` per member account.
    pub known_account: Option<String>,
    pub calls: CallCounter,
    max_attempts: u32,
    /// When a waiting notice was last printed, shared by all clients of the session.
    last_notice: Arc<Mutex<Option<Instant>>>,
}

impl Session {
    /// Checks what can be checked locally (region shape, endpoint URLs, the chosen profile),
    /// loads the standard AWS configuration and checks that credentials resolve.
    ///
    /// Retries: the SDK's standard mode (exponential backoff with jitter, retrying throttling,
    /// 5xx and transient network errors) with `max_attempts` attempts per call and a short
    /// first backoff, as suits an interactive CLI. Every write cis-fix makes is idempotent
    /// (puts overwrite, create-topic and subscribe return what exists, deletes of what is gone
    /// are treated as done), so retrying after a lost reply is safe. `timeout` bounds each
    /// call, retries included, so nothing hangs; a call kept waiting says so on stderr.
    pub async fn connect(region: Option<&str>, settings: &Connect) -> Result<Session> {
        // A typo in the configuration fails here, in one line and at once, rather than as a
        // raw SDK error (or a long wait) at the first call.
        if let Some(region) = region {
            check_region(region)?;
        }
        check_configuration(settings.profile.as_deref())?;
        errors::set_timeout(settings.timeout);

        let retry = RetryConfig::standard()
            .with_max_attempts(settings.max_attempts.max(1))
            .with_initial_backoff(INITIAL_BACKOFF)
            .with_max_backoff(MAX_BACKOFF);
        let timeouts = TimeoutConfig::builder()
            .connect_timeout(CONNECT_TIMEOUT.min(settings.timeout))
            .operation_attempt_timeout(settings.timeout)
            .operation_timeout(settings.timeout)
            .build();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .retry_config(retry)
            .timeout_config(timeouts);
        if let Some(profile) = &settings.profile {
            // As with the AWS CLI, an explicit --profile also wins over credentials in the
            // environment: they may well belong to another account.
            loader = loader.profile_name(profile).credentials_provider(
                ProfileFileCredentialsProvider::builder()
                    .profile_name(profile)
                    .build(),
            );
        }
        if let Some(region) = region {
            loader = loader.region(Region::new(region.to_string()));
        }
        let config = loader.load().await;
        let region = config
            .region()
            .map(|r| r.to_string())
            .filter(|r| !r.is_empty())
            .ok_or(Error::NoRegion)?;
        check_region(&region)?;
        let profile = chosen_profile(settings.profile.as_deref()).map(|p| p.name);
        let provider = config
            .credentials_provider()
            .ok_or_else(|| Error::NoCredentials {
                profile: profile.clone(),
                detail: "no credentials provider is configured".into(),
            })?;
        match tokio::time::timeout(settings.timeout, provider.provide_credentials()).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => {
                return Err(Error::NoCredentials {
                    profile,
                    detail: first_line(&e),
                })
            }
            Err(_) => {
                return Err(Error::NoCredentials {
                    profile,
                    detail: format!(
                        "none found within {} seconds (--timeout)",
                        settings.timeout.as_secs()
                    ),
                })
            }
        }
        Ok(Session {
            config,
            region,
            known_account: None,
            calls: CallCounter::default(),
            max_attempts: settings.max_attempts.max(1),
            last_notice: Arc::default(),
        })
    }

    fn watch(&self, service: &'static str, region: &str) -> Watch {
        Watch::new(service, region, self.max_attempts, self.last_notice.clone())
    }

    pub fn cloudtrail(&self, region: &str) -> aws_sdk_cloudtrail::Client {
        regional_client!(aws_sdk_cloudtrail, "cloudtrail", self, region)
    }

    pub fn logs(&self, region: &str) -> aws_sdk_cloudwatchlogs::Client {
        regional_client!(aws_sdk_cloudwatchlogs, "logs", self, region)
    }

    pub fn cloudwatch(&self, region: &str) -> aws_sdk_cloudwatch::Client {
        regional_client!(aws_sdk_cloudwatch, "cloudwatch", self, region)
    }

    pub fn sns(&self, region: &str) -> aws_sdk_sns::Client {
        regional_client!(aws_sdk_sns, "sns", self, region)
    }

    pub fn events(&self, region: &str) -> aws_sdk_eventbridge::Client {
        regional_client!(aws_sdk_eventbridge, "events", self, region)
    }

    pub fn kms(&self, region: &str) -> aws_sdk_kms::Client {
        regional_client!(aws_sdk_kms, "kms", self, region)
    }

    /// Security Hub, where `report --to-security-hub` imports its findings.
    pub fn securityhub(&self, region: &str) -> aws_sdk_securityhub::Client {
        regional_client!(aws_sdk_securityhub, "securityhub", self, region)
    }

    pub fn organizations(&self) -> aws_sdk_organizations::Client {
        // Organizations is a global service, served from us-east-1 in the aws partition.
        regional_client!(aws_sdk_organizations, "organizations", self, &self.region)
    }

    /// A session in `account` through the role `role_name` (the caller's partition), with
    /// temporary credentials from `sts:AssumeRole`. It shares this session's call counter.
    pub async fn assume(
        &self,
        partition: &str,
        account: &str,
        role_name: &str,
        external_id: Option<&str>,
    ) -> Result<Session> {
        let role_arn = format!("arn:{partition}:iam::{account}:role/{role_name}");
        let mut request = self
            .sts()
            .assume_role()
            .role_arn(&role_arn)
            .role_session_name("cis-fix");
        if let Some(id) = external_id {
            request = request.external_id(id);
        }
        let out = request.send().await.map_err(|e| Error::AssumeRole {
            role_arn: role_arn.clone(),
            message: errors::aws_error("sts:AssumeRole", &self.region, e).to_string(),
        })?;
        let credentials = out.credentials.ok_or_else(|| Error::AssumeRole {
            role_arn: role_arn.clone(),
            message: "the reply has no credentials".into(),
        })?;
        let credentials = aws_credential_types::Credentials::new(
            credentials.access_key_id,
            credentials.secret_access_key,
            Some(credentials.session_token),
            None,
            "cis-fix-assume-role",
        );
        let config = self
            .config
            .to_builder()
            .credentials_provider(
                aws_credential_types::provider::SharedCredentialsProvider::new(credentials),
            )
            .build();
        Ok(Session {
            config,
            region: self.region.clone(),
            known_account: Some(account.to_string()),
            calls: self.calls.clone(),
            max_attempts: self.max_attempts,
            last_notice: self.last_notice.clone(),
        })
    }

    pub fn sts(&self) -> aws_sdk_sts::Client {
        let config = aws_sdk_sts::config::Builder::from(&self.config)
            .interceptor(self.calls.clone())
            .interceptor(self.watch("sts", &self.region))
            .build();
        aws_sdk_sts::Client::from_conf(config)
    }
}
