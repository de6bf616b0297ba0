//! Command-line interface: the command tree, and one thin file per command.
//!
//! - [`args`]: the option groups every command shares, each declared once;
//! - [`plan`], [`apply`], [`backout`], [`drill`], [`export`], [`pattern`], [`controls`],
//!   [`coverage`], [`schema`], [`iam_policy`], [`shell`] (completions, man): one file per
//!   subcommand, each a short recipe;
//! - [`output`]: printing (a closed pipe is fine), the stats line, shared error checks.

mod apply;
pub mod args;
mod backout;
mod controls;
mod coverage;
mod drill;
mod export;
mod forecast;
mod iam_policy;
mod output;
mod pattern;
mod plan;
mod prompt;
mod report;
mod saved;
mod schema;
pub mod shell;
mod view;
mod window;

use clap::{Parser, Subcommand};

use crate::error::{Error, Result};
pub use apply::ApplyArgs;
pub use args::{ColorChoice, Display, Format, Scope, Selection};
pub use backout::BackoutArgs;
pub use controls::ControlsArgs;
pub use coverage::CoverageArgs;
pub use drill::DrillArgs;
pub use export::{ExportArgs, ExportFormat};
pub use forecast::ForecastArgs;
pub use iam_policy::IamPolicyArgs;
pub use pattern::PatternArgs;
pub use plan::PlanArgs;
pub use report::ReportArgs;
pub use schema::SchemaArgs;
pub use shell::CompletionsArgs;

/// How a run ended; `main` turns it into the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitStatus {
    /// 0: done (and, with --detailed-exitcode, every control compliant).
    Success,
    /// 2: with --detailed-exitcode, some control is not compliant.
    NotCompliant,
}

impl ExitStatus {
    pub fn code(self) -> u8 {
        match self {
            ExitStatus::Success => 0,
            ExitStatus::NotCompliant => 2,
        }
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "cis-fix",
    version,
    long_version = crate::catalog::long_version(),
    about = "Audit, fix and undo the CIS AWS Foundations Benchmark Monitoring controls",
    long_about = "Audit an AWS account against the Monitoring controls of the CIS AWS Foundations \
Benchmark (CloudTrail -> metric filter -> alarm -> SNS topic with a confirmed subscription) and \
show exactly what is missing.\n\nExit codes, for every command (with --org or --accounts, across \
all the accounts): 0 success; 1 error (including bad arguments, a question not answered `yes`, \
an account that could not be read or failed part-way, a drilled control that did not deliver); \
2 not compliant: `plan --detailed-exitcode` when a selected control is not compliant, `apply` \
when one stays non-compliant after it, `pattern check` when the pattern does not cover the \
control; 130 interrupted (Ctrl-C). docs/exit-codes.md gives them per command."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

/// A command that calls AWS: its own options, then how to reach AWS. Offline commands take
/// no such options, so their `--help` shows only their own.
#[derive(Debug, clap::Args)]
pub struct Online<A: clap::Args> {
    #[command(flatten)]
    pub args: A,

    #[command(flatten)]
    pub connection: args::Connection,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Audit the account and show what is compliant, what is not and why, and what an apply
    /// would do. Read-only.
    #[command(after_help = "Examples:
  cis-fix plan --notify email:security@example.com
  cis-fix plan --controls 5.1,5.6 --format json --detailed-exitcode
  cis-fix plan --org --notify https://hooks.example.com/cis --out org.json
  cis-fix plan --notify-file notify.txt --out plan.json")]
    Plan(Online<PlanArgs>),
    /// Show the plan, ask for confirmation, then create what is missing. With PLAN_FILE
    /// (from `plan --out`), perform exactly that plan, without asking (the saved plan is the
    /// approval), if the account has not changed since.
    #[command(after_help = "Examples:
  cis-fix apply --notify email:security@example.com
  cis-fix plan --notify https://hooks.example.com/cis --out plan.json
  cis-fix apply plan.json
  cis-fix apply --topic-name cis-alerts --auto-approve --format json
  cis-fix apply --notify-file notify.txt")]
    Apply(Online<ApplyArgs>),
    /// Remove what cis-fix created, and nothing else, after the same confirmation.
    #[command(after_help = "Examples:
  cis-fix backout
  cis-fix backout --controls 5.3 --auto-approve
  cis-fix backout --format json --auto-approve
  cis-fix backout --org --role OrganizationAccountAccessRole")]
    Backout(Online<BackoutArgs>),
    /// Prove that each compliant control's alarm really notifies someone: set its alarm to
    /// ALARM (a real notification), read the result from the alarm's history, set it back to
    /// OK. Changes no configuration.
    #[command(after_help = "Examples:
  cis-fix drill
  cis-fix drill --controls 5.1,5.6 --auto-approve")]
    Drill(Online<DrillArgs>),
    /// Write what `apply` would create as Terraform or CloudFormation, for a reviewed
    /// deployment, instead of creating it. Reads the account as `plan` does; never writes to
    /// AWS.
    #[command(after_help = "Examples:
  cis-fix export terraform --notify email:security@example.com > cis.tf
  cis-fix export cloudformation --notify email:sec@example.com --out stacks/
  cis-fix export terraform --org --notify email:sec@example.com --out org/
  cis-fix export terraform --notify-file notify.txt --out cis-fix.tf")]
    Export(Online<ExportArgs>),
    /// State every selected control in every account as evidence: text, JSON, SARIF, OCSF,
    /// ASFF, JUnit, a self-contained HTML page or CSV. Reads as `plan` does; its one write is
    /// `--to-security-hub` (BatchImportFindings).
    #[command(after_help = "Examples:
  cis-fix report --format html --out cis-report.html
  cis-fix report --org --format sarif --out cis.sarif
  cis-fix report --format junit --detailed-exitcode > cis-junit.xml
  cis-fix report --format csv --out cis.csv")]
    Report(Online<ReportArgs>),
    /// Forecast each control's noise before its alarm exists: CloudWatch Logs evaluates the
    /// control's pattern over the trail's log group for a window (FilterLogEvents), and cis-fix
    /// counts the matches per day, the alarm periods that would have been in ALARM, and the
    /// event names, identities and source IPs behind them. Read-only.
    #[command(after_help = "Examples:
  cis-fix forecast
  cis-fix forecast --since 30d --controls 5.1,5.2 --format json
  cis-fix forecast --org --benchmark hardened --max-events 10000")]
    Forecast(Online<ForecastArgs>),
    /// Check a hand-written filter pattern against a control, or backtest one on recorded
    /// events. No credentials, no AWS call.
    #[command(after_help = "Examples:
  cis-fix pattern check --control 5.3 '{ $.userIdentity.type = \"Root\" }'
  cis-fix pattern test --control 5.1 cloudtrail/*.json.gz")]
    Pattern(PatternArgs),
    /// List the catalog: each control's id, slug, level, title, Security Hub id, metric,
    /// alarm settings and filter pattern. No credentials, no AWS call.
    #[command(after_help = "Examples:
  cis-fix controls
  cis-fix controls --benchmark cis-1.4 --controls 4.1,4.3
  cis-fix controls --format json | jq -r '.controls[].pattern'")]
    Controls(ControlsArgs),
    /// Map each AWS attack technique of Stratus Red Team to the controls whose pattern
    /// matches its CloudTrail events, computed by the pattern engine; list what no control
    /// catches, and why. No credentials, no AWS call.
    #[command(after_help = "Examples:
  cis-fix coverage
  cis-fix coverage --benchmark cis-5.0 --format json | jq '.caught'
  cis-fix coverage --catalog my-catalog.toml")]
    Coverage(CoverageArgs),
    /// Print the JSON Schema (2020-12) of a JSON document cis-fix writes.
    #[command(after_help = "Examples:
  cis-fix schema plan > plan.schema.json
  cis-fix schema saved-plan")]
    Schema(SchemaArgs),
    /// Print the minimal IAM policy (JSON) that a command needs: plan, apply, backout, drill,
    /// export, report, forecast, or across an organization the caller (org-management) and
    /// each member's role (org-member). The integration tests check each against every call
    /// its command makes.
    #[command(after_help = "Examples:
  cis-fix iam-policy plan > cis-fix-plan.json
  cis-fix iam-policy org-member")]
    IamPolicy(IamPolicyArgs),
    /// Print a shell completion script, e.g. `cis-fix completions bash >
    /// ~/.local/share/bash-completion/completions/cis-fix`.
    #[command(after_help = "Examples:
  cis-fix completions bash | sudo tee /etc/bash_completion.d/cis-fix
  cis-fix completions fish > ~/.config/fish/completions/cis-fix.fish
  cis-fix completions zsh > \"${fpath[1]}/_cis-fix\"")]
    Completions(CompletionsArgs),
    /// Print the man page (roff), e.g. `cis-fix man > ~/.local/share/man/man1/cis-fix.1`.
    #[command(after_help = "Examples:
  cis-fix man > ~/.local/share/man/man1/cis-fix.1
  cis-fix man | man -l -")]
    Man,
}

pub fn run(cli: Cli) -> Result<ExitStatus> {
    match cli.command {
        Command::Plan(online) => {
            let (args, aws) = start(online)?;
            aws.runtime.block_on(plan::run(args, &aws.connect))
        }
        Command::Apply(online) => {
            let (args, aws) = start(online)?;
            aws.runtime.block_on(apply::run(args, &aws.connect))
        }
        Command::Backout(online) => {
            let (args, aws) = start(online)?;
            aws.runtime.block_on(backout::run(args, &aws.connect))
        }
        Command::Drill(online) => {
            let (args, aws) = start(online)?;
            aws.runtime.block_on(drill::run(args, &aws.connect))
        }
        Command::Export(online) => {
            let (args, aws) = start(online)?;
            aws.runtime.block_on(export::run(args, &aws.connect))
        }
        Command::Report(online) => {
            let (args, aws) = start(online)?;
            aws.runtime.block_on(report::run(args, &aws.connect))
        }
        Command::Forecast(online) => {
            let (args, aws) = start(online)?;
            aws.runtime.block_on(forecast::run(args, &aws.connect))
        }
        // Offline commands need neither AWS nor an async runtime.
        Command::Pattern(args) => pattern::run(args),
        Command::Controls(args) => controls::run(args),
        Command::Coverage(args) => coverage::run(args),
        Command::Schema(args) => schema::run(args),
        Command::IamPolicy(args) => iam_policy::run(args),
        Command::Completions(args) => shell::completions(args),
        Command::Man => shell::man(),
    }
}

/// What an online command does before it connects: read its `--notify-file`, and say whether
/// `-v` logs the calls.
trait Prepare {
    fn prepare(&mut self) -> Result<()> {
        Ok(())
    }
    fn verbose(&self) -> bool;
}

impl Prepare for PlanArgs {
    fn prepare(&mut self) -> Result<()> {
        self.selection.read_notify_file()
    }
    fn verbose(&self) -> bool {
        self.display.verbose
    }
}

impl Prepare for ApplyArgs {
    fn prepare(&mut self) -> Result<()> {
        self.selection.read_notify_file()
    }
    fn verbose(&self) -> bool {
        self.display.verbose
    }
}

impl Prepare for ExportArgs {
    fn prepare(&mut self) -> Result<()> {
        self.selection.read_notify_file()
    }
    fn verbose(&self) -> bool {
        false
    }
}

impl Prepare for ReportArgs {
    fn prepare(&mut self) -> Result<()> {
        self.selection.read_notify_file()
    }
    fn verbose(&self) -> bool {
        self.display.verbose
    }
}

impl Prepare for ForecastArgs {
    fn verbose(&self) -> bool {
        self.verbose
    }
}

impl Prepare for BackoutArgs {
    fn verbose(&self) -> bool {
        self.display.verbose
    }
}

impl Prepare for DrillArgs {
    fn verbose(&self) -> bool {
        self.display.verbose
    }
}

/// An online command's runtime and connection settings.
struct Aws {
    runtime: tokio::runtime::Runtime,
    connect: crate::session::Connect,
}

/// Prepares an online command: before any AWS call, the endpoints of --notify-file join those
/// of --notify, and `-v` is on before the first call, to log every one.
fn start<A: clap::Args + Prepare>(online: Online<A>) -> Result<(A, Aws)> {
    let Online {
        mut args,
        connection,
    } = online;
    args.prepare()?;
    crate::session::set_verbose(args.verbose());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Usage(format!("cannot start the async runtime: {e}")))?;
    let connect = connection.connect();
    Ok((args, Aws { runtime, connect }))
}
