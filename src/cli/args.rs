//! Option groups shared by the commands, each declared once.

use std::io::IsTerminal;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use crate::audit::options::{parse_kms_key, parse_topic_arn, parse_topic_name, DEFAULT_TOPIC_NAME};
use crate::audit::{Endpoint, Options, TopicChoice};
use crate::catalog::{self, Catalog};
use crate::error::Result;
use crate::render::{TextOptions, Verbosity};

/// Text display options shared by every command.
#[derive(Debug, Args)]
pub struct Display {
    /// Show subscription endpoints in full in text output (they are masked by default).
    #[arg(long)]
    pub show_endpoints: bool,

    /// When to colour text output. `auto` colours on a terminal, or anywhere with
    /// CLICOLOR_FORCE set (not 0), unless NO_COLOR is set.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

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

impl Display {
    pub fn text_options(&self) -> TextOptions {
        TextOptions {
            color: self.color.enabled(),
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

/// Which controls: shared by every command, including the offline ones.
#[derive(Debug, Args)]
pub struct Controls {
    /// Built-in benchmark version: cis-1.2, cis-1.4, cis-3.0 or cis-5.0.
    #[arg(long, value_name = "NAME", default_value = catalog::DEFAULT_BENCHMARK, value_parser = catalog::parse_benchmark)]
    pub benchmark: String,

    /// Your own catalog file (same schema as plans/*.toml), instead of --benchmark.
    #[arg(long, value_name = "FILE", conflicts_with = "benchmark")]
    pub catalog: Option<PathBuf>,

    /// Only these controls: ids or slugs, comma-separated (e.g. 4.1,4.6 or
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
        match &self.catalog {
            Some(path) => catalog::load_file(path),
            None => catalog::load_builtin(&self.benchmark),
        }
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
    #[arg(long, value_name = "PROTOCOL:ENDPOINT", value_parser = clap::value_parser!(Endpoint))]
    pub notify: Vec<Endpoint>,

    /// Notify this existing topic, used as it is (cis-fix only subscribes endpoints to topics
    /// it creates, so this excludes --notify).
    #[arg(long, value_name = "ARN", value_parser = parse_topic_arn, conflicts_with_all = ["notify", "topic_name"])]
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

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    pub fn enabled(self) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            // NO_COLOR wins; then CLICOLOR_FORCE (any value but 0) colours even a pipe.
            ColorChoice::Auto => {
                let set = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
                set("NO_COLOR").is_none()
                    && (set("CLICOLOR_FORCE").is_some_and(|v| v != "0")
                        || std::io::stdout().is_terminal())
            }
        }
    }
}

impl Selection {
    pub fn catalog(&self) -> Result<Catalog> {
        self.scope.catalog()
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
    #[arg(long, conflicts_with = "accounts")]
    pub org: bool,

    /// Exactly these accounts (12-digit ids, comma-separated).
    #[arg(long, value_name = "ID,ID", value_delimiter = ',', value_parser = parse_account_id)]
    pub accounts: Vec<String>,

    /// The role assumed in each other account (the caller's own account is read with its own
    /// credentials).
    #[arg(long, value_name = "NAME", default_value = crate::org::DEFAULT_ROLE)]
    pub role: String,

    /// External id for the role, if its trust policy asks for one.
    #[arg(long, value_name = "ID")]
    pub external_id: Option<String>,

    /// Accounts read at once.
    #[arg(long, value_name = "N", default_value_t = crate::org::DEFAULT_CONCURRENCY, value_parser = clap::value_parser!(u16).range(1..=256))]
    pub concurrency: u16,
}

impl Accounts {
    /// `None` for a single-account run.
    pub fn reach(&self) -> Option<crate::org::Reach> {
        (self.org || !self.accounts.is_empty()).then(|| crate::org::Reach {
            org: self.org,
            accounts: self.accounts.clone(),
            role: self.role.clone(),
            external_id: self.external_id.clone(),
            concurrency: usize::from(self.concurrency),
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
