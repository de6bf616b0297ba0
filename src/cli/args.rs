//! Option groups shared by the commands, each declared once.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};

use crate::audit::options::{parse_kms_key, parse_topic_arn, parse_topic_name, DEFAULT_TOPIC_NAME};
use crate::audit::{Endpoint, Options, TopicChoice};
use crate::catalog::{self, Catalog};
use crate::error::{Error, Result};
use crate::redact::{is_plain_word, mask_notify};
use crate::render::{TextOptions, Verbosity};

/// Text display options shared by every command.
#[derive(Debug, Args)]
pub struct Display {
    /// Show subscription endpoints in full, in text and JSON output (they are masked by
    /// default; a saved plan always holds them).
    #[arg(long)]
    pub show_endpoints: bool,

    #[command(flatten)]
    pub color: Color,

    /// Print the number of AWS API calls and the wall time to stderr.
    #[arg(long)]
    pub stats: bool,

    /// Print only the per-control table and the summary.
    #[arg(short, long, conflicts_with = "verbose")]
    pub quiet: bool,

    /// Also print every compliant control's chain, and log each AWS call with its duration
    /// to stderr.
    #[arg(short, long)]
    pub verbose: bool,
}

/// `--color`: every command that prints text for people takes it.
#[derive(Debug, Args)]
pub struct Color {
    /// When to colour text output. `auto` colours on a terminal, or anywhere with
    /// CLICOLOR_FORCE set (not 0), unless NO_COLOR is set.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

impl Color {
    /// The painter of a text on stdout.
    pub fn painter(&self) -> crate::render::layout::Painter {
        crate::render::layout::Painter(self.color.enabled())
    }

    /// The painter of a note on stderr.
    pub fn stderr_painter(&self) -> crate::render::layout::Painter {
        crate::render::layout::Painter(self.color.enabled_on_stderr())
    }
}

impl Display {
    pub fn text_options(&self) -> TextOptions {
        TextOptions {
            color: self.color.color.enabled(),
            show_endpoints: self.show_endpoints,
            width: crate::render::layout::stdout_width(),
            verbosity: if self.quiet {
                Verbosity::Quiet
            } else if self.verbose {
                Verbosity::Verbose
            } else {
                Verbosity::Normal
            },
        }
    }
}

/// How to reach AWS: only the commands that call it take these.
#[derive(Debug, Args)]
#[command(next_help_heading = "AWS connection")]
pub struct Connection {
    /// Attempts per AWS call before giving up (retries back off exponentially; throttling,
    /// 5xx and network errors are retried).
    #[arg(long, value_name = "N", env = "AWS_MAX_ATTEMPTS", default_value_t = crate::session::DEFAULT_MAX_ATTEMPTS, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub max_attempts: u32,

    /// Seconds each AWS call may take, retries included, and resolving credentials too. A
    /// call still waiting after 2 seconds says on stderr what it waits for.
    #[arg(long, value_name = "SECS", env = "CIS_FIX_TIMEOUT", default_value_t = crate::session::DEFAULT_TIMEOUT_SECS, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub timeout: u64,

    /// AWS profile to use, from the AWS config and credentials files. Wins over AWS_PROFILE
    /// and over credentials in the environment.
    #[arg(long, value_name = "NAME", value_parser = clap::builder::NonEmptyStringValueParser::new())]
    pub profile: Option<String>,
}

impl Connection {
    pub fn connect(self) -> crate::session::Connect {
        crate::session::Connect {
            profile: self.profile,
            max_attempts: self.max_attempts,
            timeout: std::time::Duration::from_secs(self.timeout),
        }
    }
}

/// The benchmark or catalog file: shared by every command, including the offline ones.
#[derive(Debug, Args)]
pub struct Benchmark {
    /// Built-in benchmark version: cis-1.2, cis-1.4, cis-3.0, cis-5.0, cis-6.0 or cis-7.0 (the
    /// newest, and the default); or hardened (cis-7.0 and cis-fix's own H1-H13).
    #[arg(long, value_name = "NAME", default_value = catalog::DEFAULT_BENCHMARK, value_parser = BenchmarkParser)]
    pub benchmark: String,

    /// Your own catalog file (same schema as plans/*.toml), instead of --benchmark.
    #[arg(long, value_name = "FILE", conflicts_with = "benchmark")]
    pub catalog: Option<PathBuf>,
}

impl Benchmark {
    /// Every control of the benchmark or catalog.
    pub fn full_catalog(&self) -> Result<Catalog> {
        match &self.catalog {
            Some(path) => catalog::load_file(path),
            None => catalog::load_builtin(&self.benchmark),
        }
    }
}

/// Which controls: shared by every command that works on a selection of them.
#[derive(Debug, Args)]
pub struct Controls {
    #[command(flatten)]
    pub source: Benchmark,

    /// Only these controls: ids or slugs, comma-separated (e.g. 5.1,5.6 or
    /// unauthorized-api-calls).
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    pub controls: Vec<String>,
}

impl Controls {
    /// The selected controls of the benchmark or catalog.
    pub fn catalog(&self) -> Result<Catalog> {
        self.full_catalog()?.select(&self.controls)
    }

    /// Every control of the benchmark or catalog, whatever `--controls` selects.
    pub fn full_catalog(&self) -> Result<Catalog> {
        self.source.full_catalog()
    }
}

/// `--benchmark`: a built-in name, with a suggestion for a near miss, and the names listed for
/// shell completions (the default marked as the newest).
#[derive(Debug, Clone, Copy)]
struct BenchmarkParser;

impl clap::builder::TypedValueParser for BenchmarkParser {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> std::result::Result<String, clap::Error> {
        let typed = value.to_string_lossy();
        catalog::parse_benchmark(&typed).map_err(|message| {
            clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!("invalid value '{typed}' for '--benchmark <NAME>': {message}"),
            )
            .format(&mut cmd.clone())
        })
    }

    fn possible_values(
        &self,
    ) -> Option<Box<dyn Iterator<Item = clap::builder::PossibleValue> + '_>> {
        Some(Box::new(catalog::builtin_names().into_iter().map(|name| {
            let value = clap::builder::PossibleValue::new(name);
            if name == catalog::DEFAULT_BENCHMARK {
                value.help("the newest (default)")
            } else if name == "hardened" {
                value.help("cis-7.0 and cis-fix's own controls beyond it")
            } else {
                value
            }
        })))
    }
}

/// Which controls, in which account view: shared by every command that reads AWS.
#[derive(Debug, Args)]
pub struct Scope {
    #[command(flatten)]
    pub selected: Controls,

    /// Region to discover trails from (default: the AWS configuration's). Actions go to the
    /// region of each trail's log group.
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
}

impl Scope {
    /// The selected controls of the benchmark or catalog.
    pub fn catalog(&self) -> Result<Catalog> {
        self.selected.catalog()
    }

    /// Every control of the benchmark or catalog, whatever `--controls` selects.
    pub fn full_catalog(&self) -> Result<Catalog> {
        self.selected.full_catalog()
    }
}

/// What to audit and how to notify: shared by the commands that plan.
#[derive(Debug, Args)]
pub struct Selection {
    #[command(flatten)]
    pub scope: Scope,

    /// Subscribe this endpoint to the topic cis-fix creates. Repeatable. PROTOCOL is one of
    /// email, https, http, sqs, lambda, sms; a bare https:// or http:// URL needs none.
    #[arg(long, value_name = "PROTOCOL:ENDPOINT", value_parser = NotifyParser)]
    pub notify: Vec<Endpoint>,

    /// Subscribe the endpoints listed in FILE, with any --notify ones: one PROTOCOL:ENDPOINT
    /// per line, as --notify takes it; blank lines and lines starting with # are ignored.
    /// Unlike --notify, it keeps a webhook's token out of the process list (`ps`) and the
    /// shell history.
    #[arg(long, value_name = "FILE")]
    pub notify_file: Option<PathBuf>,

    /// Notify this existing topic, used as it is (cis-fix only subscribes endpoints to topics
    /// it creates, so this excludes --notify and --notify-file).
    #[arg(long, value_name = "ARN", value_parser = parse_topic_arn, conflicts_with_all = ["notify", "notify_file", "topic_name"])]
    pub topic_arn: Option<String>,

    /// Name of the topic cis-fix creates for --notify.
    #[arg(long, value_name = "NAME", value_parser = parse_topic_name, default_value = DEFAULT_TOPIC_NAME)]
    pub topic_name: String,

    /// Create cis-fix's topic encrypted with this KMS key (key id, key ARN, alias/NAME or alias
    /// ARN). The key's policy must let `cloudwatch.amazonaws.com` use it; the plan checks this
    /// and shows the statement to add. The AWS managed key `alias/aws/sns` cannot work.
    #[arg(long, value_name = "KEY", value_parser = parse_kms_key, conflicts_with = "topic_arn")]
    pub topic_kms_key: Option<String>,
}

pub use crate::printer::Format;

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour what goes to stdout.
    pub fn enabled(self) -> bool {
        self.enabled_on(std::io::stdout().is_terminal())
    }

    /// Whether to colour what goes to stderr.
    pub fn enabled_on_stderr(self) -> bool {
        self.enabled_on(std::io::stderr().is_terminal())
    }

    fn enabled_on(self, terminal: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            // NO_COLOR wins; then CLICOLOR_FORCE (any value but 0) colours even a pipe.
            ColorChoice::Auto => {
                let set = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
                set("NO_COLOR").is_none()
                    && (set("CLICOLOR_FORCE").is_some_and(|v| v != "0") || terminal)
            }
        }
    }
}

impl Selection {
    pub fn catalog(&self) -> Result<Catalog> {
        self.scope.catalog()
    }

    /// The catalog (parsed once), the selected controls and the options: what a run works
    /// from.
    pub fn resolve(&self) -> Result<crate::run::Input> {
        let benchmark = self.scope.full_catalog()?;
        let catalog = benchmark.clone().select(&self.scope.selected.controls)?;
        Ok(crate::run::Input {
            catalog,
            benchmark,
            options: self.options(),
        })
    }

    pub fn options(&self) -> Options {
        let mut notify = self.notify.clone();
        notify.sort();
        notify.dedup();
        Options {
            notify,
            topic: match &self.topic_arn {
                Some(arn) => TopicChoice::Arn(arn.clone()),
                None => TopicChoice::Name(self.topic_name.clone()),
            },
            topic_kms_key: self.topic_kms_key.clone(),
        }
    }
}

/// Which accounts: this one (the default), every account of the organization, or a list.
#[derive(Debug, Args, Clone)]
pub struct Accounts {
    /// Every ACTIVE account of the organization (organizations:ListAccounts), from the
    /// management account or a delegated administrator.
    #[arg(long, group = "reach")]
    pub org: bool,

    /// Exactly these accounts (12-digit ids, comma-separated).
    #[arg(long, value_name = "ID,ID", value_delimiter = ',', value_parser = parse_account_id, group = "reach")]
    pub accounts: Vec<String>,

    /// The role assumed in each other account (the caller's own account is read with its own
    /// credentials). With --org or --accounts.
    #[arg(long, value_name = "NAME", default_value = crate::run::accounts::DEFAULT_ROLE, requires = "reach")]
    pub role: String,

    /// External id for the role, if its trust policy asks for one. With --org or --accounts.
    #[arg(long, value_name = "ID", requires = "reach")]
    pub external_id: Option<String>,

    /// Accounts read at once (default 16). With --org or --accounts.
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u16).range(1..=256), requires = "reach")]
    pub concurrency: Option<u16>,
}

impl Accounts {
    /// `None` for a single-account run.
    pub fn reach(&self) -> Option<crate::run::accounts::Reach> {
        (self.org || !self.accounts.is_empty()).then(|| crate::run::accounts::Reach {
            org: self.org,
            accounts: self.accounts.clone(),
            role: self.role.clone(),
            external_id: self.external_id.clone(),
            concurrency: usize::from(
                self.concurrency
                    .unwrap_or(crate::run::accounts::DEFAULT_CONCURRENCY),
            ),
        })
    }
}

fn parse_account_id(s: &str) -> std::result::Result<String, String> {
    let id = s.trim();
    if id.len() == 12 && id.chars().all(|c| c.is_ascii_digit()) {
        Ok(id.to_string())
    } else {
        Err(format!("`{s}` is not a 12-digit AWS account id"))
    }
}

/// `--notify`: parsed as [`Endpoint`], but a value that fails is never echoed as typed (clap's
/// default): a mistyped webhook URL still carries its token, and errors end up in CI logs.
#[derive(Debug, Clone, Copy)]
struct NotifyParser;

impl clap::builder::TypedValueParser for NotifyParser {
    type Value = Endpoint;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> std::result::Result<Endpoint, clap::Error> {
        let text = value.to_string_lossy();
        text.parse::<Endpoint>().map_err(|_| {
            let message = format!(
                "invalid value '{}' for '--notify <PROTOCOL:ENDPOINT>' (masked): {}",
                mask_notify(&text),
                notify_problem(&text)
            );
            clap::Error::raw(clap::error::ErrorKind::ValueValidation, message)
                .format(&mut cmd.clone())
        })
    }
}

impl Selection {
    /// Adds the endpoints of `--notify-file` to those of `--notify`, and checks that the
    /// topic's tags for them stay within SNS's limits. Called before any AWS call: an
    /// unreadable file, a bad line or too many endpoints stops the run in one line.
    pub fn read_notify_file(&mut self) -> Result<()> {
        self.add_notify_file()?;
        crate::audit::options::check_topic_tags(&self.notify).map_err(Error::Usage)
    }

    fn add_notify_file(&mut self) -> Result<()> {
        let Some(path) = &self.notify_file else {
            return Ok(());
        };
        let fail = |line, message| Error::NotifyFile {
            path: path.clone(),
            line,
            message,
        };
        let text = read_bounded(path).map_err(|message| fail(None, message))?;
        let endpoints = parse_notify_lines(&text).map_err(|(line, e)| fail(line, e))?;
        self.notify.extend(endpoints);
        Ok(())
    }
}

/// A `--notify-file` is a short list: more than this is not one.
const NOTIFY_FILE_LIMIT: u64 = 1 << 20;

fn read_bounded(path: &Path) -> std::result::Result<String, String> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|file| file.take(NOTIFY_FILE_LIMIT + 1).read_to_string(&mut text))
        .map_err(|e| format!("cannot read it ({e}): pass a file of PROTOCOL:ENDPOINT lines"))?;
    if text.len() as u64 > NOTIFY_FILE_LIMIT {
        return Err("it is larger than 1 MiB: pass a file of PROTOCOL:ENDPOINT lines".into());
    }
    Ok(text)
}

/// The endpoints of a `--notify-file`, each line parsed as `--notify` parses its value; the
/// first bad line's number and its problem, the value masked, otherwise.
fn parse_notify_lines(text: &str) -> std::result::Result<Vec<Endpoint>, (Option<usize>, String)> {
    let mut endpoints = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let endpoint = line.parse::<Endpoint>().map_err(|_| {
            let problem = format!("'{}' (masked): {}", mask_notify(line), notify_problem(line));
            (Some(index + 1), problem)
        })?;
        endpoints.push(endpoint);
    }
    if endpoints.is_empty() {
        return Err((
            None,
            "it lists no endpoint: write one PROTOCOL:ENDPOINT per line (lines starting with # are comments)".into(),
        ));
    }
    Ok(endpoints)
}

/// Why a `--notify` value did not parse, without repeating it.
fn notify_problem(value: &str) -> String {
    let protocols = crate::audit::options::PROTOCOLS.join(", ");
    let Some((protocol, _)) = value.trim().split_once(':') else {
        return "not PROTOCOL:ENDPOINT, e.g. email:security@example.com or https://hooks.example.com/cis".into();
    };
    if !is_known_protocol(protocol) {
        let protocol = protocol.trim().to_ascii_lowercase();
        let shown = if is_plain_word(&protocol) {
            protocol.as_str()
        } else {
            crate::redact::MASK
        };
        return format!(
            "unknown protocol `{shown}`; use one of {protocols}, or a bare https:// URL"
        );
    }
    let example = crate::audit::options::endpoint_example(protocol);
    format!(
        "not a valid {} endpoint; expected e.g. {example}",
        protocol.trim().to_ascii_lowercase()
    )
}

fn is_known_protocol(protocol: &str) -> bool {
    crate::audit::options::PROTOCOLS.contains(&protocol.trim().to_ascii_lowercase().as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notify_value_that_does_not_parse_is_masked_in_its_error() {
        const TOKEN: &str = "XoXb5ecretT0ken";
        for value in [
            format!("htps://hooks.example.com/{TOKEN}"),
            format!("https:{TOKEN}"),
            format!("https:ftp://user:{TOKEN}@hooks.example.com/{TOKEN}"),
            format!("sqs:{TOKEN}"),
            format!("email:{TOKEN}"),
            TOKEN.to_string(),
            format!("{TOKEN}:x"),
        ] {
            let shown = format!("{} {}", mask_notify(&value), notify_problem(&value));
            assert!(!shown.contains(TOKEN), "{value}: {shown}");
        }
        assert_eq!(mask_notify("htps://hooks.example.com/x"), "htps:****");
        let cmd = clap::Command::new("cis-fix");
        let error = clap::builder::TypedValueParser::parse_ref(
            &NotifyParser,
            &cmd,
            None,
            std::ffi::OsStr::new("https:XoXb5ecretT0ken"),
        )
        .unwrap_err()
        .to_string();
        assert!(
            !error.contains(TOKEN) && error.contains("https:****"),
            "{error}"
        );
    }

    /// The error of `--notify VALUE`, as clap prints it.
    fn notify_error(value: &str) -> String {
        let cmd = clap::Command::new("cis-fix");
        let value = std::ffi::OsStr::new(value);
        clap::builder::TypedValueParser::parse_ref(&NotifyParser, &cmd, None, value)
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn an_upper_case_protocol_is_no_reason_to_show_the_value() {
        const TOKEN: &str = "XoXb5ecretT0ken";
        for value in [
            format!("HTTPS:http://hooks.example.com/{TOKEN}"),
            format!("Https:http://hooks.example.com/{TOKEN}"),
            format!(" HTTPS : ftp://user:{TOKEN}@hooks.example.com/x"),
            format!("Email:{TOKEN}"),
            format!(" EMAIL:{TOKEN}@"),
            format!("SQS:{TOKEN}"),
            format!("SMS:+1{TOKEN}"),
            format!("Pager:{TOKEN}"),
        ] {
            let error = notify_error(&value);
            assert!(!error.contains(TOKEN), "{value}: {error}");
            assert!(error.contains("(masked)"), "{value}: {error}");
        }
        // An https endpoint that is an http URL: the message says which it was.
        let error = notify_error(&format!("HTTPS:http://hooks.example.com/{TOKEN}"));
        assert!(
            error.contains("'https:http://hooks.example.com/****'"),
            "{error}"
        );
    }

    #[test]
    fn notify_file_lines_parse_as_notify_values() {
        let text = "# the team's pager\n\n  https://hooks.example.com/T0/secret  \n\
                    Email:security@example.com\r\n\t# indented comment\n\
                    sqs:arn:aws:sqs:us-east-1:111122223333:alerts\n";
        let endpoints = parse_notify_lines(text).unwrap();
        // Exactly what --notify makes of the same values.
        let as_notify: Vec<Endpoint> = [
            "https://hooks.example.com/T0/secret",
            "Email:security@example.com",
            "sqs:arn:aws:sqs:us-east-1:111122223333:alerts",
        ]
        .iter()
        .map(|v| v.parse().unwrap())
        .collect();
        assert_eq!(endpoints, as_notify);
        assert_eq!(endpoints[1].to_string(), "email:security@example.com");
    }

    #[test]
    fn a_bad_notify_file_line_is_named_by_number_and_masked() {
        const TOKEN: &str = "XoXb5ecretT0ken";
        for (text, line, hint) in [
            (
                format!("# ok\nemail:a@example.com\nhtps://hooks.example.com/{TOKEN}\n"),
                3,
                "'htps:****' (masked): unknown protocol `htps`",
            ),
            (
                format!("\n\nHTTPS:https://user:{TOKEN}@/x"),
                3,
                "'https:https://****@****/****' (masked): not a valid https endpoint",
            ),
            (
                TOKEN.to_string(),
                1,
                "'****' (masked): not PROTOCOL:ENDPOINT",
            ),
            (
                format!("email:{TOKEN} # an inline comment"),
                1,
                "not a valid email endpoint",
            ),
        ] {
            let (number, message) = parse_notify_lines(&text).unwrap_err();
            assert_eq!(number, Some(line), "{text}: {message}");
            assert!(message.contains(hint), "{text}: {message}");
            assert!(!message.contains(TOKEN), "{text}: {message}");
        }
        let (number, message) = parse_notify_lines("# nothing yet\n\n").unwrap_err();
        assert_eq!(number, None);
        assert!(message.contains("lists no endpoint"), "{message}");
    }

    #[test]
    fn a_notify_file_is_read_whole_or_refused_in_one_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("notify.txt");
        std::fs::write(&path, "sqs:arn:aws:sqs:us-east-1:111122223333:q\n").unwrap();
        assert_eq!(read_bounded(&path).unwrap().lines().count(), 1);
        let missing = read_bounded(&dir.path().join("missing")).unwrap_err();
        assert!(
            missing.starts_with("cannot read it") && !missing.contains('\n'),
            "{missing}"
        );
        std::fs::write(&path, vec![b'#'; 2 << 20]).unwrap();
        let big = read_bounded(&path).unwrap_err();
        assert!(big.contains("larger than 1 MiB"), "{big}");
        let error = Error::NotifyFile {
            path: path.clone(),
            line: Some(3),
            message: "'htps:****' (masked): unknown protocol".into(),
        }
        .to_string();
        assert!(
            error.starts_with(&format!(
                "--notify-file {}, line 3: 'htps:****'",
                path.display()
            )),
            "{error}"
        );
    }

    #[test]
    fn a_notify_url_without_a_host_is_refused_masked() {
        let cmd = clap::Command::new("cis-fix");
        for value in [
            "https://bob:pw@/TOKEN",
            "https:https://bob:pw@/TOKEN",
            "http://bob:pw@",
        ] {
            let error = clap::builder::TypedValueParser::parse_ref(
                &NotifyParser,
                &cmd,
                None,
                std::ffi::OsStr::new(value),
            )
            .unwrap_err()
            .to_string();
            assert!(error.contains("not a valid http"), "{value}: {error}");
            assert!(
                !error.contains("pw") && !error.contains("TOKEN") && !error.contains("bob"),
                "{value}: {error}"
            );
        }
    }
}
