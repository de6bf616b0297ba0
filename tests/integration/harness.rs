//! The test emulator (moto behind the CBOR adapter in `tests/emulator/`), started once per
//! test process on a free loopback port, and per-test AWS accounts in it.
//!
//! Each test gets its own 12-digit account (the emulator maps the access key to it), so
//! tests run in parallel against one server without seeing each other.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, ChildStdout, Command, Output, Stdio};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};

use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_credential_types::Credentials;
use serde_json::Value;

pub const REGION: &str = "us-east-1";

pub struct Emulator {
    pub port: u16,
    // Held so the emulator lives as long as this process: it exits when its stdin closes.
    _stdin: Mutex<ChildStdin>,
    _child: Mutex<Child>,
}

fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The Python that has the emulator's requirements: `CIS_FIX_PYTHON`, or the repo's `.venv`,
/// created on first use by `tests/emulator/setup.sh`.
pub fn python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON
        .get_or_init(|| {
            if let Some(p) = std::env::var_os("CIS_FIX_PYTHON") {
                return PathBuf::from(p);
            }
            let root = repo_root();
            let status = Command::new("bash")
                .arg(root.join("tests/emulator/setup.sh"))
                .status()
                .expect("run tests/emulator/setup.sh");
            assert!(
                status.success(),
                "tests/emulator/setup.sh failed: it needs python3 and access to PyPI"
            );
            root.join(".venv/bin/python")
        })
        .clone()
}

impl Emulator {
    pub fn shared() -> &'static Emulator {
        static EMULATOR: OnceLock<Emulator> = OnceLock::new();
        EMULATOR.get_or_init(Emulator::start)
    }

    fn start() -> Emulator {
        let mut child = Command::new(python())
            .arg(repo_root().join("tests/emulator/emulator.py"))
            .args(["--host", "127.0.0.1", "--port", "0", "--exit-on-stdin-eof"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start the emulator");
        let stdout = child.stdout.take().expect("emulator stdout");
        let mut line = String::new();
        BufReader::new(stdout)
            .read_line(&mut line)
            .expect("read the emulator's PORT line");
        let port = line
            .trim()
            .strip_prefix("PORT ")
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("emulator did not report a port: {line:?}"));
        let stdin = child.stdin.take().expect("emulator stdin");
        Emulator {
            port,
            _stdin: Mutex::new(stdin),
            _child: Mutex::new(child),
        }
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }
}

/// One AWS account in the emulator, with SDK clients to build its state.
pub struct Account {
    pub id: String,
    pub emulator: &'static Emulator,
    pub config: SdkConfig,
}

static NEXT_ACCOUNT: AtomicU64 = AtomicU64::new(0);

impl Account {
    pub async fn new() -> Account {
        let emulator = Emulator::shared();
        // Distinct per process and per test, so reruns against a long-lived server stay apart.
        let n = NEXT_ACCOUNT.fetch_add(1, Ordering::SeqCst);
        let id = format!("{:06}{:06}", std::process::id() % 1_000_000, n + 1);
        let config = aws_config::defaults(BehaviorVersion::latest())
            .region(Region::new(REGION))
            .endpoint_url(emulator.url())
            .credentials_provider(Credentials::new(&id, "test-secret", None, None, "tests"))
            .load()
            .await;
        Account {
            id,
            emulator,
            config,
        }
    }

    pub fn cloudtrail(&self) -> aws_sdk_cloudtrail::Client {
        aws_sdk_cloudtrail::Client::new(&self.config)
    }
    pub fn logs(&self) -> aws_sdk_cloudwatchlogs::Client {
        aws_sdk_cloudwatchlogs::Client::new(&self.config)
    }
    pub fn cloudwatch(&self) -> aws_sdk_cloudwatch::Client {
        aws_sdk_cloudwatch::Client::new(&self.config)
    }
    pub fn sns(&self) -> aws_sdk_sns::Client {
        aws_sdk_sns::Client::new(&self.config)
    }
    pub fn events(&self) -> aws_sdk_eventbridge::Client {
        aws_sdk_eventbridge::Client::new(&self.config)
    }
    pub fn kms(&self) -> aws_sdk_kms::Client {
        aws_sdk_kms::Client::new(&self.config)
    }
    pub fn sqs(&self) -> aws_sdk_sqs::Client {
        aws_sdk_sqs::Client::new(&self.config)
    }

    /// A customer managed KMS key with `policy` (the default key policy when `None`); its ARN.
    pub async fn key(&self, policy: Option<&str>) -> String {
        let mut create = self.kms().create_key();
        if let Some(policy) = policy {
            create = create.policy(policy);
        }
        create
            .send()
            .await
            .expect("create key")
            .key_metadata
            .expect("key metadata")
            .arn
            .expect("key arn")
    }

    /// A topic encrypted with `key` (an alias, key id or ARN).
    pub async fn encrypted_topic(&self, name: &str, key: &str) -> String {
        self.sns()
            .create_topic()
            .name(name)
            .attributes("KmsMasterKeyId", key)
            .send()
            .await
            .expect("create encrypted topic")
            .topic_arn
            .expect("topic arn")
    }

    pub async fn set_topic_policy(&self, topic_arn: &str, policy: &str) {
        self.sns()
            .set_topic_attributes()
            .topic_arn(topic_arn)
            .attribute_name("Policy")
            .attribute_value(policy)
            .send()
            .await
            .expect("set topic policy");
    }

    /// An SQS queue that SNS may deliver to (as SNS requires, its policy lets
    /// `sns.amazonaws.com` send); its (URL, ARN).
    pub async fn queue(&self, name: &str) -> (String, String) {
        let arn = format!("arn:aws:sqs:{REGION}:{}:{name}", self.id);
        let policy = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Principal": {"Service": "sns.amazonaws.com"},
                           "Action": "sqs:SendMessage", "Resource": arn}]
        });
        let url = self
            .sqs()
            .create_queue()
            .queue_name(name)
            .attributes(
                aws_sdk_sqs::types::QueueAttributeName::Policy,
                policy.to_string(),
            )
            .send()
            .await
            .expect("create queue")
            .queue_url
            .expect("queue url");
        (url, arn)
    }

    /// The bodies of the messages waiting in a queue (read with the SDK, as a subscriber would).
    pub async fn receive(&self, queue_url: &str) -> Vec<String> {
        self.sqs()
            .receive_message()
            .queue_url(queue_url)
            .max_number_of_messages(10)
            .send()
            .await
            .expect("receive messages")
            .messages
            .unwrap_or_default()
            .into_iter()
            .filter_map(|m| m.body)
            .collect()
    }

    pub fn log_group_arn(&self, name: &str) -> String {
        format!("arn:aws:logs:{REGION}:{}:log-group:{name}:*", self.id)
    }

    pub fn topic_arn(&self, name: &str) -> String {
        format!("arn:aws:sns:{REGION}:{}:{name}", self.id)
    }

    /// Creates an S3 bucket (CloudTrail needs one) with a plain S3 REST call.
    pub fn bucket(&self, name: &str) {
        let auth = format!(
            "AWS4-HMAC-SHA256 Credential={}/20260101/{REGION}/s3/aws4_request, SignedHeaders=host, Signature=0",
            self.id
        );
        ureq::put(&format!("{}/{name}", self.emulator.url()))
            .header("Authorization", &auth)
            .send_empty()
            .expect("create bucket");
    }

    pub async fn log_group(&self, name: &str) {
        self.logs()
            .create_log_group()
            .log_group_name(name)
            .send()
            .await
            .expect("create log group");
    }

    /// A trail: multi-region and logging unless said otherwise, sending to `log_group`.
    pub async fn trail(&self, spec: TrailSpec<'_>) {
        let bucket = format!("trail-bucket-{}", self.id);
        self.bucket(&bucket);
        let mut create = self
            .cloudtrail()
            .create_trail()
            .name(spec.name)
            .s3_bucket_name(&bucket)
            .is_multi_region_trail(spec.multi_region);
        if let Some(group) = spec.log_group {
            self.log_group(group).await;
            create = create
                .cloud_watch_logs_log_group_arn(self.log_group_arn(group))
                .cloud_watch_logs_role_arn(format!("arn:aws:iam::{}:role/ct-logs", self.id));
        }
        create.send().await.expect("create trail");
        if spec.logging {
            self.cloudtrail()
                .start_logging()
                .name(spec.name)
                .send()
                .await
                .expect("start logging");
        }
    }

    pub async fn filter(
        &self,
        log_group: &str,
        name: &str,
        pattern: &str,
        metric: &str,
        namespace: &str,
    ) {
        self.logs()
            .put_metric_filter()
            .log_group_name(log_group)
            .filter_name(name)
            .filter_pattern(pattern)
            .metric_transformations(
                aws_sdk_cloudwatchlogs::types::MetricTransformation::builder()
                    .metric_name(metric)
                    .metric_namespace(namespace)
                    .metric_value("1")
                    .build()
                    .expect("transformation"),
            )
            .send()
            .await
            .expect("put metric filter");
    }

    pub async fn alarm(
        &self,
        name: &str,
        metric: &str,
        namespace: &str,
        topic_arn: Option<&str>,
        actions_enabled: bool,
    ) {
        use aws_sdk_cloudwatch::types::{ComparisonOperator, Statistic};
        let mut put = self
            .cloudwatch()
            .put_metric_alarm()
            .alarm_name(name)
            .metric_name(metric)
            .namespace(namespace)
            .statistic(Statistic::Sum)
            .period(300)
            .threshold(1.0)
            .comparison_operator(ComparisonOperator::GreaterThanOrEqualToThreshold)
            .evaluation_periods(1)
            .actions_enabled(actions_enabled);
        if let Some(topic) = topic_arn {
            put = put.alarm_actions(topic);
        }
        put.send().await.expect("put metric alarm");
    }

    pub async fn topic(&self, name: &str) -> String {
        self.sns()
            .create_topic()
            .name(name)
            .send()
            .await
            .expect("create topic")
            .topic_arn
            .expect("topic arn")
    }

    /// Subscribes an endpoint. The emulator, like SNS, leaves email and https pending until
    /// confirmed; sqs, lambda and sms are confirmed at once.
    pub async fn subscribe(&self, topic_arn: &str, protocol: &str, endpoint: &str) {
        self.sns()
            .subscribe()
            .topic_arn(topic_arn)
            .protocol(protocol)
            .endpoint(endpoint)
            .send()
            .await
            .expect("subscribe");
    }

    /// Everything backout must restore, as sorted lines: every metric filter, alarm (with
    /// its settings), topic (with its tags) and subscription of the account in `REGION`.
    pub async fn state(&self) -> Vec<String> {
        let mut lines = Vec::new();
        let filters = self
            .logs()
            .describe_metric_filters()
            .send()
            .await
            .expect("filters");
        for f in filters.metric_filters() {
            lines.push(format!(
                "filter {:?} {:?} {:?} {:?}",
                f.log_group_name(),
                f.filter_name(),
                f.filter_pattern(),
                f.metric_transformations()
            ));
        }
        let alarms = self
            .cloudwatch()
            .describe_alarms()
            .send()
            .await
            .expect("alarms");
        for a in alarms.metric_alarms() {
            lines.push(format!(
                "alarm {:?} {:?} {:?} {:?} {:?} {:?} {:?}",
                a.alarm_name(),
                a.metric_name(),
                a.namespace(),
                a.actions_enabled(),
                a.alarm_actions(),
                a.alarm_description(),
                a.threshold()
            ));
        }
        let topics = self.sns().list_topics().send().await.expect("topics");
        for t in topics.topics() {
            let arn = t.topic_arn().unwrap_or_default();
            let tags = self
                .sns()
                .list_tags_for_resource()
                .resource_arn(arn)
                .send()
                .await
                .expect("tags");
            lines.push(format!("topic {arn} {:?}", tags.tags()));
        }
        let subscriptions = self
            .sns()
            .list_subscriptions()
            .send()
            .await
            .expect("subscriptions");
        for s in subscriptions.subscriptions() {
            lines.push(format!(
                "subscription {:?} {:?} {:?} {:?}",
                s.topic_arn(),
                s.protocol(),
                s.endpoint(),
                s.subscription_arn()
            ));
        }
        let rules = self.events().list_rules().send().await.expect("rules");
        for r in rules.rules() {
            let name = r.name().unwrap_or_default();
            let targets = self
                .events()
                .list_targets_by_rule()
                .rule(name)
                .send()
                .await
                .expect("targets");
            let targets: Vec<_> = targets.targets().iter().map(|t| t.arn()).collect();
            lines.push(format!(
                "rule {name} {:?} {:?} {targets:?}",
                r.state(),
                r.event_pattern()
            ));
        }
        lines.sort();
        lines
    }

    /// A new account seeded as `examples/demo.sh` seeds it (`seed_account.py demo`): a
    /// qualifying trail and a single-region one, two good chains, a topic without subscriber,
    /// a near-miss filter.
    pub async fn demo() -> Account {
        let account = Account::new().await;
        let out = Command::new(python())
            .arg(path_in_repo("examples/seed_account.py"))
            .args([account.emulator.url(), account.id.clone(), "demo".into()])
            .output()
            .expect("run seed_account.py");
        assert!(
            out.status.success(),
            "seed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        account
    }

    /// Runs the real `cis-fix` binary against this account.
    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("run cis-fix")
    }

    pub fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_cis-fix"));
        cmd.args(args);
        isolate(&mut cmd);
        cmd.env("AWS_ENDPOINT_URL", self.emulator.url())
            .env("AWS_ACCESS_KEY_ID", &self.id)
            .env("AWS_SECRET_ACCESS_KEY", "test-secret")
            .env("AWS_REGION", REGION);
        cmd
    }

    /// `cis-fix plan --format json` plus `args`; asserts it ran and returns the JSON.
    pub fn plan(&self, args: &[&str]) -> Value {
        let mut all = vec!["plan", "--format", "json"];
        all.extend_from_slice(args);
        let out = self.run(&all);
        assert!(
            out.status.success(),
            "cis-fix {all:?} failed: {}\n{}",
            String::from_utf8_lossy(&out.stderr),
            String::from_utf8_lossy(&out.stdout)
        );
        let plan = serde_json::from_slice(&out.stdout)
            .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&out.stdout)));
        validate(&plan, "plan");
        plan
    }

    /// The AWS calls the emulator saw from this account, as (service, operation).
    pub fn calls(&self) -> Vec<(String, String)> {
        let text = ureq::get(&format!(
            "{}/_emulator/calls?account={}",
            self.emulator.url(),
            self.id
        ))
        .call()
        .expect("read calls")
        .body_mut()
        .read_to_string()
        .expect("read calls body");
        let body: Value = serde_json::from_str(&text).expect("calls JSON");
        body["calls"]
            .as_array()
            .expect("calls list")
            .iter()
            .map(|c| {
                (
                    c["service"].as_str().unwrap_or_default().to_string(),
                    c["operation"].as_str().unwrap_or_default().to_string(),
                )
            })
            .collect()
    }

    pub fn reset_calls(&self) {
        ureq::post(&format!(
            "{}/_emulator/calls/reset?account={}",
            self.emulator.url(),
            self.id
        ))
        .send_empty()
        .expect("reset calls");
    }

    /// Injects faults into this account's calls (see tests/emulator/emulator.py).
    pub fn faults(&self, kinds: &[&str], operations: &[&str], rate: f64) {
        self.faults_with(serde_json::json!({
            "kinds": kinds, "operations": operations, "rate": rate, "seed": 7
        }));
    }

    pub fn faults_with(&self, mut config: Value) {
        config["account"] = Value::from(self.id.as_str());
        ureq::post(&format!("{}/_emulator/faults", self.emulator.url()))
            .header("Content-Type", "application/json")
            .send(config.to_string())
            .expect("set faults");
    }

    pub fn clear_faults(&self) {
        ureq::delete(&format!(
            "{}/_emulator/faults?account={}",
            self.emulator.url(),
            self.id
        ))
        .call()
        .expect("clear faults");
    }

    /// Makes this account the management account of an organization of `members` (each gets
    /// `OrganizationAccountAccessRole` trusting this account, as CreateAccount does).
    pub fn organization(&self, members: &[&Account]) {
        let body = serde_json::json!({
            "management": self.id,
            "management_name": "management",
            "accounts": members
                .iter()
                .enumerate()
                .map(|(i, m)| serde_json::json!({"id": m.id, "name": format!("member-{}", i + 1)}))
                .collect::<Vec<_>>(),
        });
        ureq::post(&format!("{}/_emulator/organization", self.emulator.url()))
            .header("Content-Type", "application/json")
            .send(body.to_string())
            .expect("create organization");
    }

    /// An organization trail in this (management) account, logging to `log_group` here.
    pub async fn organization_trail(&self, name: &str, log_group: &str) {
        let bucket = format!("org-trail-bucket-{}", self.id);
        self.bucket(&bucket);
        self.log_group(log_group).await;
        self.cloudtrail()
            .create_trail()
            .name(name)
            .s3_bucket_name(&bucket)
            .is_multi_region_trail(true)
            .is_organization_trail(true)
            .cloud_watch_logs_log_group_arn(self.log_group_arn(log_group))
            .cloud_watch_logs_role_arn(format!("arn:aws:iam::{}:role/ct-logs", self.id))
            .send()
            .await
            .expect("create organization trail");
        self.cloudtrail()
            .start_logging()
            .name(name)
            .send()
            .await
            .expect("start logging");
    }

    pub fn confirm_topic(&self, topic_arn: &str) {
        ureq::post(&format!("{}/_emulator/confirm", self.emulator.url()))
            .header("Content-Type", "application/json")
            .send(
                serde_json::json!({"account": self.id, "region": REGION, "topic_arn": topic_arn})
                    .to_string(),
            )
            .expect("confirm subscriptions");
    }
}

/// Keeps the developer's own AWS settings out of a test run.
pub fn isolate(cmd: &mut Command) {
    for var in [
        "AWS_PROFILE",
        "AWS_DEFAULT_PROFILE",
        "AWS_SESSION_TOKEN",
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_REGION",
        "AWS_DEFAULT_REGION",
        "AWS_ENDPOINT_URL",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
    ] {
        cmd.env_remove(var);
    }
    let empty = std::env::temp_dir().join("cis-fix-tests-no-aws-config");
    cmd.env("AWS_CONFIG_FILE", empty.join("config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", empty.join("credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1");
}

pub struct TrailSpec<'a> {
    pub name: &'a str,
    pub multi_region: bool,
    pub logging: bool,
    pub log_group: Option<&'a str>,
}

impl<'a> TrailSpec<'a> {
    /// A trail that qualifies: multi-region, logging, default selectors, to `log_group`.
    pub fn good(name: &'a str, log_group: &'a str) -> Self {
        TrailSpec {
            name,
            multi_region: true,
            logging: true,
            log_group: Some(log_group),
        }
    }
}

/// The control with this id in a JSON plan.
pub fn control<'a>(plan: &'a Value, id: &str) -> &'a Value {
    plan["controls"]
        .as_array()
        .and_then(|cs| cs.iter().find(|c| c["id"] == id))
        .unwrap_or_else(|| panic!("control {id} not in plan: {plan:#}"))
}

pub fn status<'a>(plan: &'a Value, id: &str) -> &'a str {
    control(plan, id)["status"].as_str().unwrap_or_default()
}

/// Finding codes of a control, to assert which link the plan says is missing.
pub fn codes(plan: &Value, id: &str) -> Vec<String> {
    control(plan, id)["findings"]
        .as_array()
        .map(|fs| {
            fs.iter()
                .filter_map(|f| f["code"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// Actions for a control (or shared ones with `None`), as action names.
pub fn actions(plan: &Value, control: Option<&str>) -> Vec<String> {
    plan["actions"]
        .as_array()
        .map(|acts| {
            acts.iter()
                .filter(|a| a["control"].as_str() == control)
                .filter_map(|a| a["action"].as_str().map(str::to_string))
                .collect()
        })
        .unwrap_or_default()
}

/// An SQS endpoint for `--notify`: confirmed at once, so a chain through it is complete.
pub fn queue(account: &Account) -> String {
    format!("sqs:arn:aws:sqs:{REGION}:{}:security-alerts", account.id)
}

/// Calls that changed something, as the emulator saw them.
pub fn writes(account: &Account) -> Vec<String> {
    account
        .calls()
        .into_iter()
        .map(|(_, op)| op)
        .filter(|op| {
            // Reads, and calls that change nothing (a role session, a pattern test).
            !["Get", "Describe", "List", "AssumeRole", "TestMetricFilter"]
                .iter()
                .any(|p| op.starts_with(p))
        })
        .collect()
}

pub fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "exit {:?}\nstderr: {}\nstdout: {}",
        out.status.code(),
        stderr(out),
        stdout(out)
    );
}

/// The first action of this kind (`put_metric_alarm`, …) in a JSON plan.
pub fn first_action(plan: &Value, action: &str) -> Value {
    plan["actions"]
        .as_array()
        .and_then(|acts| acts.iter().find(|a| a["action"] == action))
        .cloned()
        .unwrap_or_else(|| panic!("no {action} in plan: {plan:#}"))
}

/// `text` as its words, one space apart: what it says, however it is wrapped.
pub fn words(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

pub fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

pub fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[allow(dead_code)]
pub fn path_in_repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(rel)
}

/// Asserts that `document`, a JSON document cis-fix wrote, matches its published schema,
/// `schemas/{schema}.schema.json` (`plan`, `saved-plan`, `org-plan`, `saved-org-plan`), as
/// Python's `jsonschema` reads it (`tests/emulator/validate_json.py`): a validator other than
/// the schemars that wrote the schema, so the two check each other.
pub fn validate(document: &Value, schema: &str) {
    let file = path_in_repo(&format!("schemas/{schema}.schema.json"));
    assert!(file.is_file(), "no schema {}", file.display());
    let request = serde_json::json!({"schema": file, "document": document});
    let answer = {
        // One validator for the whole run (a process per document costs ~0.4 s of CPU each).
        let mut validator = Validator::shared()
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        validator.ask(&request)
    };
    let errors = answer["errors"].as_array().expect("the validator's errors");
    assert!(
        errors.is_empty(),
        "a {schema} document cis-fix wrote does not match {}:\n{}\n{document:#}",
        file.display(),
        errors
            .iter()
            .map(|e| format!("  {}", e.as_str().unwrap_or_default()))
            .collect::<Vec<_>>()
            .join("\n"),
    );
}

/// `validate_json.py --serve`, started on first use; it exits when its stdin closes, with
/// this process.
struct Validator {
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
    _child: Child,
}

impl Validator {
    fn shared() -> &'static Mutex<Validator> {
        static VALIDATOR: OnceLock<Mutex<Validator>> = OnceLock::new();
        VALIDATOR.get_or_init(|| {
            let mut child = Command::new(python())
                .arg(path_in_repo("tests/emulator/validate_json.py"))
                .arg("--serve")
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .expect("start tests/emulator/validate_json.py --serve");
            Mutex::new(Validator {
                stdin: child.stdin.take().expect("validator stdin"),
                stdout: BufReader::new(child.stdout.take().expect("validator stdout")),
                _child: child,
            })
        })
    }

    /// Sends one request line, reads one answer line.
    fn ask(&mut self, request: &Value) -> Value {
        use std::io::Write as _;
        writeln!(self.stdin, "{request}")
            .and_then(|()| self.stdin.flush())
            .expect("send the document to the validator");
        let mut line = String::new();
        self.stdout
            .read_line(&mut line)
            .expect("read the validator's answer");
        serde_json::from_str(&line)
            .unwrap_or_else(|e| panic!("the validator answered {line:?}: {e}"))
    }
}

/// The IAM actions of the calls the emulator saw from `account` since its last reset, sorted
/// and without repeats.
pub fn actions_used(account: &Account) -> Vec<String> {
    let mut used: Vec<String> = account
        .calls()
        .into_iter()
        .map(|(service, op)| format!("{service}:{op}"))
        .collect();
    used.sort();
    used.dedup();
    used
}

/// Asserts that the policy `cis-fix iam-policy COMMAND` prints allows every action in `used`.
pub fn assert_allows(command: &str, used: &[String]) {
    let policy = allowed(command);
    for action in used {
        assert!(
            policy.contains(action),
            "`cis-fix iam-policy {command}` lacks {action}"
        );
    }
}

/// The policy `cis-fix iam-policy COMMAND` prints, parsed.
pub fn iam_policy(command: &str) -> Value {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cis-fix"));
    isolate(&mut cmd);
    let out = cmd
        .args(["iam-policy", command])
        .output()
        .expect("run cis-fix iam-policy");
    assert!(out.status.success(), "{}", stderr(&out));
    serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("`cis-fix iam-policy {command}` is not JSON: {e}"))
}

/// The IAM actions the policy of `command` allows.
pub fn allowed(command: &str) -> Vec<String> {
    iam_policy(command)["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|s| s["Action"].as_array().unwrap().iter())
        .map(|a| a.as_str().unwrap().to_string())
        .collect()
}
