//! Connecting to AWS: the standard configuration chain (profiles, `AWS_REGION`,
//! `AWS_ENDPOINT_URL`, credentials), local checks of that configuration before any call, an
//! early and quick credentials check, a counter of API calls for `--stats`, and notices on
//! stderr while a call waits for an endpoint that does not answer.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_config::profile::ProfileFileCredentialsProvider;
use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::provider::ProvideCredentials;
use aws_smithy_runtime_api::box_error::BoxError;
use aws_smithy_runtime_api::client::interceptors::context::{
    BeforeTransmitInterceptorContextRef, FinalizerInterceptorContextRef,
};
use aws_smithy_runtime_api::client::interceptors::Intercept;
use aws_smithy_runtime_api::client::orchestrator::Metadata;
use aws_smithy_runtime_api::client::result::ConnectorError;
use aws_smithy_runtime_api::client::retries::RequestAttempts;
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_smithy_types::config_bag::{ConfigBag, Storable, StoreReplace};

use crate::error::{Error, Result};
use crate::redact::mask_url_userinfo;

/// Default attempts per call (`--max-attempts`, or `AWS_MAX_ATTEMPTS`).
pub const DEFAULT_MAX_ATTEMPTS: u32 = 8;
/// Default bound, in seconds, on each call and on resolving credentials (`--timeout`).
pub const DEFAULT_TIMEOUT_SECS: u64 = 30;
const INITIAL_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(20);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
/// A call with no answer after this long says on stderr what it is waiting for...
const FIRST_NOTICE: Duration = Duration::from_secs(2);
/// ...and then again at most this often (one line for all the calls waiting at once).
const NOTICE_EVERY: Duration = Duration::from_secs(5);

/// The services cis-fix calls: (short name in operation names, suffix of the service's
/// `AWS_ENDPOINT_URL_<SERVICE>` variable).
const SERVICES: &[(&str, &str)] = &[
    ("sts", "STS"),
    ("cloudtrail", "CLOUDTRAIL"),
    ("logs", "CLOUDWATCH_LOGS"),
    ("cloudwatch", "CLOUDWATCH"),
    ("sns", "SNS"),
    ("kms", "KMS"),
];

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
        other => other.to_ascii_lowercase().replace(' ', ""),
    }
}

/// `-v`: log each AWS call, with its duration, on stderr.
static VERBOSE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

pub fn set_verbose(on: bool) {
    VERBOSE.store(on, Ordering::Relaxed);
}

/// When the attempt in flight started, for `-v`.
#[derive(Debug, Clone, Copy)]
struct Started(Instant);

impl Storable for Started {
    type Storer = StoreReplace<Self>;
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
        TIMEOUT_SECS.store(settings.timeout.as_secs(), Ordering::Relaxed);

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
        Watch {
            service,
            region: region.to_string(),
            max_attempts: self.max_attempts,
            last_notice: self.last_notice.clone(),
        }
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

    pub fn kms(&self, region: &str) -> aws_sdk_kms::Client {
        regional_client!(aws_sdk_kms, "kms", self, region)
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
            message: crate::inventory::aws::aws_error("sts:AssumeRole", &self.region, e)
                .to_string(),
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

// ---------------------------------------------------------------------------------------
// Local checks of the configuration, before any call.

/// Whether `region` has the shape of an AWS region name: a 2–4 letter prefix, one or more
/// words, a number (`us-east-1`, `us-gov-west-1`, `cn-north-1`, `us-iso-east-1`,
/// `eusc-de-east-1`). An availability zone (`us-east-1a`) or a made-up name is not.
fn is_region_name(region: &str) -> bool {
    let lower = |s: &&str| !s.is_empty() && s.chars().all(|c| c.is_ascii_lowercase());
    let parts: Vec<&str> = region.split('-').collect();
    let Some((number, words)) = parts.split_last() else {
        return false;
    };
    let Some((prefix, rest)) = words.split_first() else {
        return false;
    };
    (2..=4).contains(&prefix.len())
        && lower(prefix)
        && !rest.is_empty()
        && rest.iter().all(lower)
        && (1..=2).contains(&number.len())
        && number.chars().all(|c| c.is_ascii_digit())
}

fn check_region(region: &str) -> Result<()> {
    if is_region_name(region) {
        Ok(())
    } else {
        Err(Error::BadRegion {
            region: region.to_string(),
        })
    }
}

/// Why `value` cannot be an endpoint URL (an absolute http or https URL with a host), or
/// `None` if it can.
fn endpoint_problem(value: &str) -> Option<String> {
    if value.is_empty() {
        return Some("it is empty".into());
    }
    if value.chars().any(char::is_whitespace) {
        return Some("it contains spaces".into());
    }
    let Some((scheme, rest)) = value.split_once("://") else {
        return Some("it has no http:// or https:// scheme".into());
    };
    if !scheme.eq_ignore_ascii_case("http") && !scheme.eq_ignore_ascii_case("https") {
        // Not quoted unless a plain word: in `user:pw://…@host` it would be the password.
        return Some(if scheme.chars().all(|c| c.is_ascii_alphanumeric()) {
            format!("its scheme is `{scheme}`, not http or https")
        } else {
            "it has no http:// or https:// scheme".into()
        });
    }
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if !authority.contains('@') && rest.contains('@') {
        // `http://user:p/w@host`: the SDK would take `user` for the host and `p` for the port,
        // and quoting either would show part of the password.
        return Some(
            "it has an `@` after its host; percent-encode any `/`, `?` or `#` in its user name or password"
                .into(),
        );
    }
    let host_port = authority.rsplit('@').next().unwrap_or_default();
    let (host, port) = match host_port.strip_prefix('[') {
        // An IPv6 literal: [::1]:4566
        Some(v6) => match v6.split_once(']') {
            Some((address, after)) => (address, after.strip_prefix(':')),
            None => return Some(format!("its host `{host_port}` has no closing `]`")),
        },
        None => match host_port.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (host_port, None),
        },
    };
    if host.is_empty() {
        return Some("it has no host".into());
    }
    if !host
        .chars()
        .all(|c| c.is_alphanumeric() || matches!(c, '-' | '.' | '_' | ':' | '%'))
    {
        return Some(format!(
            "its host `{host}` is not a host name or IP address"
        ));
    }
    match port {
        Some(port) if !port.parse::<u16>().is_ok_and(|p| p > 0) => {
            Some(format!("its port `{port}` is not a number from 1 to 65535"))
        }
        _ => None,
    }
}

fn check_endpoint(setting: &str, value: &str, place: &str) -> Result<()> {
    let Some(problem) = endpoint_problem(value) else {
        return Ok(());
    };
    // `localhost:4566` is the usual slip: suggest the URL meant, when it would be one.
    let meant = format!("http://{value}");
    let fix = if endpoint_problem(&meant).is_none() {
        format!(
            "write {} (or {})",
            mask_url_userinfo(&meant),
            mask_url_userinfo(&format!("https://{value}"))
        )
    } else {
        "write a full URL such as https://HOST or http://HOST:PORT".into()
    };
    Err(Error::BadEndpoint {
        setting: setting.to_string(),
        value: value.to_string(),
        place: place.to_string(),
        reason: format!("{problem}; {fix}, or unset it to use AWS's own endpoints"),
    })
}

/// The profile chosen by `--profile` or `AWS_PROFILE`, and by which.
struct ChosenProfile {
    name: String,
    by: &'static str,
}

fn chosen_profile(flag: Option<&str>) -> Option<ChosenProfile> {
    match flag {
        Some(name) => Some(ChosenProfile {
            name: name.to_string(),
            by: "--profile",
        }),
        None => std::env::var("AWS_PROFILE")
            .ok()
            .filter(|name| !name.is_empty())
            .map(|name| ChosenProfile {
                name,
                by: "AWS_PROFILE",
            }),
    }
}

/// One of the two AWS configuration files, as the SDK finds it.
struct ProfileFile {
    path: PathBuf,
    /// The variable that chose the path, or `None` for the default under the home directory.
    set_by: Option<&'static str>,
    /// `None` when the file does not exist; the read error when it cannot be read.
    text: Result<Option<String>, std::io::Error>,
    /// The config file names profiles `[profile NAME]`; the credentials file `[NAME]`.
    is_config: bool,
}

impl ProfileFile {
    fn load(variable: &'static str, default: &str, is_config: bool) -> ProfileFile {
        let home = std::env::var_os("HOME")
            .or_else(|| std::env::var_os("USERPROFILE"))
            .map(PathBuf::from);
        let set = std::env::var_os(variable).filter(|v| !v.is_empty());
        let written = set
            .clone()
            .map(PathBuf::from)
            .unwrap_or_else(|| PathBuf::from("~").join(".aws").join(default));
        // The SDK expands a leading `~` (in the variable too) to the home directory.
        let path = match (written.strip_prefix("~"), &home) {
            (Ok(rest), Some(home)) => home.join(rest),
            _ => written,
        };
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => Ok(Some(text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        };
        ProfileFile {
            path,
            set_by: set.map(|_| variable),
            text,
            is_config,
        }
    }

    /// The profiles of this file, each with its settings, as the SDK reads them: sections
    /// and `key = value` lines (indented sub-settings are skipped).
    fn profiles(&self) -> Vec<(String, BTreeMap<String, String>)> {
        let Ok(Some(text)) = &self.text else {
            return Vec::new();
        };
        let mut profiles: Vec<(String, BTreeMap<String, String>)> = Vec::new();
        let mut current: Option<usize> = None;
        for line in text.lines() {
            let trimmed = line.trim();
            if trimmed.is_empty() || trimmed.starts_with(['#', ';']) {
                continue;
            }
            if let Some(header) = trimmed.strip_prefix('[') {
                let section = header.split(']').next().unwrap_or_default().trim();
                current = self.profile_name(section).map(|name| {
                    profiles.push((name, BTreeMap::new()));
                    profiles.len() - 1
                });
                continue;
            }
            if line.starts_with(char::is_whitespace) {
                continue;
            }
            let Some((key, value)) = trimmed.split_once('=') else {
                continue;
            };
            let value = value
                .split_whitespace()
                .take_while(|word| !word.starts_with(['#', ';']))
                .collect::<Vec<_>>()
                .join(" ");
            if let Some((_, settings)) = current.and_then(|i| profiles.get_mut(i)) {
                settings.insert(key.trim().to_string(), value);
            }
        }
        profiles
    }

    fn profile_name(&self, section: &str) -> Option<String> {
        let prefixed = section
            .strip_prefix("profile")
            .filter(|rest| rest.starts_with(char::is_whitespace))
            .map(|rest| rest.trim().to_string());
        match (self.is_config, prefixed) {
            (true, Some(name)) => Some(name),
            (true, None) => (section == "default").then(|| section.to_string()),
            (false, Some(_)) => None,
            (false, None) => Some(section.to_string()),
        }
    }

    fn describe(&self) -> String {
        let origin = self.set_by.unwrap_or("default location");
        let state = match &self.text {
            Ok(Some(_)) => String::new(),
            Ok(None) => ", which does not exist".into(),
            Err(e) => format!(", which cannot be read: {e}"),
        };
        format!("{} ({origin}{state})", self.path.display())
    }
}

/// Checks the endpoint URLs and the chosen profile before anything is loaded or called.
fn check_configuration(flag: Option<&str>) -> Result<()> {
    let ignore_endpoints =
        |value: Option<&str>| value.is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let env_ignores = ignore_endpoints(
        std::env::var("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS")
            .ok()
            .as_deref(),
    );
    if !env_ignores {
        let variables = std::iter::once("AWS_ENDPOINT_URL".to_string()).chain(
            SERVICES
                .iter()
                .map(|(_, suffix)| format!("AWS_ENDPOINT_URL_{suffix}")),
        );
        for variable in variables {
            // Set but empty (`AWS_ENDPOINT_URL= cis-fix …`) means unset.
            if let Some(value) = std::env::var(&variable).ok().filter(|v| !v.is_empty()) {
                check_endpoint(&variable, &value, "")?;
            }
        }
    }

    let config = ProfileFile::load("AWS_CONFIG_FILE", "config", true);
    let credentials = ProfileFile::load("AWS_SHARED_CREDENTIALS_FILE", "credentials", false);
    let config_profiles = config.profiles();
    let credentials_profiles = credentials.profiles();
    let chosen = chosen_profile(flag);
    let name = chosen.as_ref().map_or("default", |c| c.name.as_str());
    let defined = |profiles: &[(String, BTreeMap<String, String>)]| {
        profiles.iter().any(|(profile, _)| profile == name)
    };
    if let Some(chosen) = &chosen {
        // Like the AWS CLI, a missing `default` is no error: it is what applies unless
        // another is chosen.
        if chosen.name != "default" && !defined(&config_profiles) && !defined(&credentials_profiles)
        {
            let mut available: Vec<&str> = config_profiles
                .iter()
                .chain(&credentials_profiles)
                .map(|(profile, _)| profile.as_str())
                .collect();
            available.sort_unstable();
            available.dedup();
            return Err(Error::MissingProfile {
                profile: chosen.name.clone(),
                chosen_by: chosen.by,
                files: format!("{} or {}", config.describe(), credentials.describe()),
                available: if available.is_empty() {
                    "no profile is defined there".into()
                } else {
                    format!("defined there: {}", available.join(", "))
                },
            });
        }
    }

    // The profile's own endpoint_url, which the environment's overrides.
    let settings: BTreeMap<&str, &str> = config_profiles
        .iter()
        .filter(|(profile, _)| profile == name)
        .flat_map(|(_, settings)| settings)
        .map(|(key, value)| (key.as_str(), value.as_str()))
        .collect();
    let profile_ignores =
        ignore_endpoints(settings.get("ignore_configured_endpoint_urls").copied());
    if !env_ignores && !profile_ignores && std::env::var_os("AWS_ENDPOINT_URL").is_none() {
        if let Some(value) = settings.get("endpoint_url") {
            check_endpoint(
                "endpoint_url",
                value,
                &format!(" in profile `{name}` of {}", config.path.display()),
            )?;
        }
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Watching calls: notices while waiting, and the endpoint each call went to.

/// The bound on each call, for messages about calls that ran out of time.
static TIMEOUT_SECS: AtomicU64 = AtomicU64::new(DEFAULT_TIMEOUT_SECS);

/// The endpoint each `(operation, region)` last went to. Errors are turned into messages
/// (`aws_error`) where no session is at hand, so the watch leaves the endpoint here.
static ENDPOINTS: Mutex<BTreeMap<(String, String), String>> = Mutex::new(BTreeMap::new());

/// Watches the calls of one client: prints a notice on stderr while a call waits (for an
/// endpoint that refuses or does not answer), and records the endpoint each call went to.
#[derive(Debug, Clone)]
struct Watch {
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
        if let Ok(mut endpoints) = ENDPOINTS.lock() {
            endpoints.insert((self.operation(cfg), self.region.clone()), endpoint.clone());
        }
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
            crate::term::suspend(|| eprintln!("{line}"));
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
            use std::io::Write;
            let line = crate::term::escape(line);
            crate::term::suspend(|| {
                let _ = writeln!(std::io::stderr(), "{line}");
            });
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

/// The errors of `error`'s chain, itself first.
fn chain<'a>(
    error: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(error), |e| e.source())
}

/// Why a connection failed, in a few words: `connection refused`, `cannot resolve the host
/// name (…)`, `no connection within 5 s`, or the innermost cause.
fn transport_reason(error: &ConnectorError) -> String {
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
fn is_connect_failure(error: &ConnectorError) -> bool {
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
    fn region_names_are_checked_for_shape() {
        for good in [
            "us-east-1",
            "eu-west-3",
            "ap-southeast-7",
            "us-gov-west-1",
            "cn-north-1",
            "us-iso-east-1",
            "us-isob-east-1",
            "eu-isoe-west-1",
            "eusc-de-east-1",
        ] {
            assert!(is_region_name(good), "{good}");
        }
        for bad in [
            "moon-1",
            "us-east-1a",
            "US-EAST-1",
            "us-east",
            "useast1",
            "",
            "us--1",
            "us-east-100",
            "us east 1",
        ] {
            assert!(!is_region_name(bad), "{bad}");
        }
    }

    #[test]
    fn endpoint_urls_must_be_absolute_http_urls_with_a_host() {
        for good in [
            "http://localhost:4566",
            "https://sts.us-east-1.amazonaws.com",
            "http://127.0.0.1:9/",
            "HTTP://[::1]:4566",
            "https://proxy.example.com/aws",
        ] {
            assert_eq!(endpoint_problem(good), None, "{good}");
        }
        let cases = [
            ("localhost:4566", "it has no http:// or https:// scheme"),
            ("ftp://host", "its scheme is `ftp`, not http or https"),
            ("http://", "it has no host"),
            ("http://:4566", "it has no host"),
            (
                "http://host:0",
                "its port `0` is not a number from 1 to 65535",
            ),
            (
                "http://host:port",
                "its port `port` is not a number from 1 to 65535",
            ),
            ("http://ho st", "it contains spaces"),
            ("", "it is empty"),
            ("/just/a/path", "it has no http:// or https:// scheme"),
        ];
        for (bad, reason) in cases {
            assert_eq!(endpoint_problem(bad).as_deref(), Some(reason), "{bad}");
        }
    }

    #[test]
    fn a_bad_endpoint_is_named_with_a_fix() {
        let message = |value| {
            check_endpoint("AWS_ENDPOINT_URL", value, "")
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        assert_eq!(
            message("localhost:4566"),
            "AWS_ENDPOINT_URL=\"localhost:4566\" is not a valid endpoint URL: it has no http:// or https:// scheme; write http://localhost:4566 (or https://localhost:4566), or unset it to use AWS's own endpoints"
        );
        assert!(
            message("ftp://x")
                .contains("write a full URL such as https://HOST or http://HOST:PORT"),
            "{}",
            message("ftp://x")
        );
        assert_eq!(message("https://x"), "");
    }

    #[test]
    fn credentials_in_an_endpoint_url_are_never_shown() {
        let message = |value| {
            check_endpoint("AWS_ENDPOINT_URL", value, "")
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default()
        };
        for (value, shown) in [
            ("user:pw@localhost:4566", "write http://****@localhost:4566"),
            ("ftp://user:pw@x", "AWS_ENDPOINT_URL=\"ftp://****@x\""),
            ("http://user:pw@", "AWS_ENDPOINT_URL=\"http://****@\""),
            (
                "http://user:p/pw@localhost:4566",
                "percent-encode any `/`, `?` or `#` in its user name or password",
            ),
            (
                "user:pw://x@localhost",
                "it has no http:// or https:// scheme",
            ),
        ] {
            let text = message(value);
            assert!(text.contains(shown), "{value}: {text}");
            assert!(!text.contains("pw"), "{value}: {text}");
        }
        assert_eq!(
            endpoint_of("http://user:pw@localhost:4566/path?x=1"),
            "http://****@localhost:4566"
        );
        assert_eq!(
            endpoint_of("https://sts.amazonaws.com/"),
            "https://sts.amazonaws.com"
        );
    }

    #[test]
    fn profile_files_are_read_as_the_sdk_reads_them() {
        let file = |text: &str, is_config| ProfileFile {
            path: PathBuf::from("x"),
            set_by: None,
            text: Ok(Some(text.to_string())),
            is_config,
        };
        let config = file(
            "[default]\nregion = us-east-1\n[profile dev] # mine\nendpoint_url = http://x:1 ; note\ns3 =\n  addressing_style = path\n[sso-session s]\n[prod]\n",
            true,
        );
        let profiles = config.profiles();
        let names: Vec<&str> = profiles.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["default", "dev"]);
        assert_eq!(
            profiles
                .get(1)
                .and_then(|(_, s)| s.get("endpoint_url"))
                .map(String::as_str),
            Some("http://x:1")
        );
        let credentials = file("[prod]\naws_access_key_id = a\n[profile x]\n", false);
        let names: Vec<String> = credentials.profiles().into_iter().map(|(n, _)| n).collect();
        assert_eq!(names, ["prod"]);
    }

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
