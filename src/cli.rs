//! Command-line interface: arguments, and the glue from them to the core.

use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::apply;
use crate::audit::options::{parse_topic_arn, parse_topic_name, DEFAULT_TOPIC_NAME};
use crate::audit::{self, Endpoint, Options, Plan, TopicChoice};
use crate::catalog::{self, Catalog};
use crate::error::{Error, Result};
use crate::inventory::aws::ReadMode;
use crate::inventory::{self, Snapshot};
use crate::render::{self, TextOptions};
use crate::saved::SavedPlan;
use crate::session::Session;

/// How a run ended; `main` turns it into the process exit code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// 0: done (and, with --detailed-exitcode, every control compliant).
    Success,
    /// 2: with --detailed-exitcode, some control is not compliant.
    NotCompliant,
}

impl Outcome {
    pub fn code(self) -> u8 {
        match self {
            Outcome::Success => 0,
            Outcome::NotCompliant => 2,
        }
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "cis-fix",
    version,
    about = "Audit, fix and undo the CIS AWS Foundations Benchmark Monitoring controls",
    long_about = "Audit an AWS account against the Monitoring controls of the CIS AWS Foundations \
Benchmark (CloudTrail -> metric filter -> alarm -> SNS topic with a confirmed subscription) and \
show exactly what is missing.\n\nExit codes: 0 success; 1 error (including bad arguments); \
2 with --detailed-exitcode when a selected control is not compliant."
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,

    /// Attempts per AWS call before giving up (retries back off exponentially; throttling,
    /// 5xx and network errors are retried).
    #[arg(long, global = true, value_name = "N", env = "AWS_MAX_ATTEMPTS", default_value_t = crate::session::DEFAULT_MAX_ATTEMPTS, value_parser = clap::value_parser!(u32).range(1..=50))]
    pub max_attempts: u32,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Audit the account and show what is compliant, what is not and why, and what an apply
    /// would do. Read-only.
    Plan(PlanArgs),
    /// Show the plan, ask for confirmation, then create what is missing. With PLAN_FILE
    /// (from `plan --out`), perform exactly that plan if the account has not changed since.
    Apply(ApplyArgs),
    /// Remove what cis-fix created, and nothing else, after the same confirmation.
    Backout(BackoutArgs),
}

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A saved plan from `cis-fix plan --out FILE`.
    #[arg(value_name = "PLAN_FILE", conflicts_with_all = ["catalog", "controls", "notify", "topic_arn"])]
    pub plan_file: Option<PathBuf>,

    #[command(flatten)]
    pub selection: Selection,

    /// Do not ask for confirmation (for CI). Without a terminal, apply refuses unless given.
    #[arg(long)]
    pub auto_approve: bool,

    #[command(flatten)]
    pub display: Display,
}

#[derive(Debug, Args)]
pub struct BackoutArgs {
    #[command(flatten)]
    pub scope: Scope,

    /// Name of the topic cis-fix created (if you applied with --topic-name).
    #[arg(long, value_name = "NAME", value_parser = parse_topic_name, default_value = DEFAULT_TOPIC_NAME)]
    pub topic_name: String,

    /// Also delete cis-fix's topics that others have subscribed to.
    #[arg(long)]
    pub force: bool,

    /// Do not ask for confirmation (for CI). Without a terminal, backout refuses unless given.
    #[arg(long)]
    pub auto_approve: bool,

    #[command(flatten)]
    pub display: Display,
}

/// Text display options shared by apply and backout.
#[derive(Debug, Args)]
pub struct Display {
    /// Show subscription endpoints in full in text output (they are masked by default).
    #[arg(long)]
    pub show_endpoints: bool,

    /// When to colour text output. `auto` colours on a terminal unless NO_COLOR is set.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,

    /// Print the number of AWS API calls and the wall time to stderr.
    #[arg(long)]
    pub stats: bool,
}

impl Display {
    fn text_options(&self) -> TextOptions {
        TextOptions {
            color: self.color.enabled(),
            show_endpoints: self.show_endpoints,
        }
    }
}

#[derive(Debug, Args)]
pub struct PlanArgs {
    #[command(flatten)]
    pub selection: Selection,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    /// Also write the plan, with what it observed, to FILE for a later `apply FILE`.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,

    /// Exit 2 when any selected control is not compliant (0 when all are, 1 on error).
    #[arg(long)]
    pub detailed_exitcode: bool,

    /// Print the number of AWS API calls and the wall time to stderr.
    #[arg(long)]
    pub stats: bool,

    /// Show subscription endpoints in full in text output (they are masked by default).
    #[arg(long)]
    pub show_endpoints: bool,

    /// When to colour text output. `auto` colours on a terminal unless NO_COLOR is set.
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
}

/// Which controls, in which account view: shared by every command.
#[derive(Debug, Args)]
pub struct Scope {
    /// Built-in benchmark version.
    #[arg(long, value_name = "NAME", default_value = catalog::DEFAULT_BENCHMARK, value_parser = clap::builder::PossibleValuesParser::new(catalog::builtin_names()))]
    pub benchmark: String,

    /// Your own catalog file (same schema as plans/*.toml), instead of --benchmark.
    #[arg(long, value_name = "FILE", conflicts_with = "benchmark")]
    pub catalog: Option<PathBuf>,

    /// Only these controls: ids or slugs, comma-separated (e.g. 4.1,4.6 or
    /// unauthorized-api-calls).
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    pub controls: Vec<String>,

    /// Region to discover trails from (default: the AWS configuration's). Actions go to the
    /// region of each trail's log group.
    #[arg(long, value_name = "REGION")]
    pub region: Option<String>,
}

impl Scope {
    fn catalog(&self) -> Result<Catalog> {
        let catalog = match &self.catalog {
            Some(path) => catalog::load_file(path)?,
            None => catalog::load_builtin(&self.benchmark)?,
        };
        catalog.select(&self.controls)
    }
}

/// What to audit and how to notify: shared by the commands that plan.
#[derive(Debug, Args)]
pub struct Selection {
    #[command(flatten)]
    pub scope: Scope,

    /// Subscribe this endpoint to the topic cis-fix creates. Repeatable. PROTOCOL is one of
    /// email, https, sqs, lambda, sms.
    #[arg(long, value_name = "PROTOCOL:ENDPOINT", value_parser = clap::value_parser!(Endpoint))]
    pub notify: Vec<Endpoint>,

    /// Notify this existing topic, used as it is (cis-fix only subscribes endpoints to topics
    /// it creates, so this excludes --notify).
    #[arg(long, value_name = "ARN", value_parser = parse_topic_arn, conflicts_with_all = ["notify", "topic_name"])]
    pub topic_arn: Option<String>,

    /// Name of the topic cis-fix creates for --notify.
    #[arg(long, value_name = "NAME", value_parser = parse_topic_name, default_value = DEFAULT_TOPIC_NAME)]
    pub topic_name: String,
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
    fn enabled(self) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => {
                std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                    && std::io::stdout().is_terminal()
            }
        }
    }
}

impl Selection {
    fn catalog(&self) -> Result<Catalog> {
        self.scope.catalog()
    }

    fn options(&self) -> Options {
        let mut notify = self.notify.clone();
        notify.sort();
        notify.dedup();
        Options {
            notify,
            topic: match &self.topic_arn {
                Some(arn) => TopicChoice::Arn(arn.clone()),
                None => TopicChoice::Name(self.topic_name.clone()),
            },
        }
    }
}

pub fn run(cli: Cli) -> Result<Outcome> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Usage(format!("cannot start the async runtime: {e}")))?;
    let attempts = cli.max_attempts;
    match cli.command {
        Command::Plan(args) => runtime.block_on(plan(args, attempts)),
        Command::Apply(args) => runtime.block_on(apply(args, attempts)),
        Command::Backout(args) => runtime.block_on(backout(args, attempts)),
    }
}

/// Reads the account and audits it.
async fn observe(
    selection: &Selection,
    session: &Session,
    mode: ReadMode,
) -> Result<(Options, Snapshot, Plan)> {
    let catalog = selection.catalog()?;
    let options = selection.options();
    let snapshot = read(session, &options, mode).await?;
    let plan = audit::audit(&catalog, &snapshot, &options);
    Ok((options, snapshot, plan))
}

/// Reads the account as `options` need it: the topics they name, plus `mode`'s extras.
async fn read(session: &Session, options: &Options, mode: ReadMode) -> Result<Snapshot> {
    let topic = options.topic.clone();
    let topics_of_interest = move |region: &str, account: &str| match &topic {
        TopicChoice::Arn(arn) => vec![arn.clone()],
        TopicChoice::Name(name) => vec![inventory::topic_arn(region, account, name)],
    };
    inventory::aws::read(session, &topics_of_interest, mode).await
}

async fn plan(args: PlanArgs, attempts: u32) -> Result<Outcome> {
    let started = Instant::now();
    // Fail on a bad catalog or control list before touching AWS.
    args.selection.catalog()?;
    let session = Session::connect(args.selection.scope.region.as_deref(), attempts).await?;
    let (options, snapshot, plan) = observe(&args.selection, &session, ReadMode::Plan).await?;

    let rendered = match args.format {
        Format::Json => render::json(&plan) + "\n",
        Format::Text => render::text(
            &plan,
            TextOptions {
                color: args.color.enabled(),
                show_endpoints: args.show_endpoints,
            },
        ),
    };
    print(&rendered)?;
    if let Some(path) = &args.out {
        SavedPlan::new(plan.clone(), options, &snapshot).write(path)?;
        if args.format == Format::Text {
            print(&format!(
                "\nSaved this plan to {}. To perform exactly these actions, run: cis-fix apply {}\n",
                path.display(),
                path.display()
            ))?;
        }
    }
    if args.stats {
        report_stats(&session, started);
    }
    not_auditable(&plan, &snapshot)?;
    Ok(if args.detailed_exitcode && !plan.is_compliant() {
        Outcome::NotCompliant
    } else {
        Outcome::Success
    })
}

async fn apply(args: ApplyArgs, attempts: u32) -> Result<Outcome> {
    let started = Instant::now();
    let (plan, snapshot, session) = match &args.plan_file {
        Some(path) => {
            let saved = SavedPlan::read(path)?;
            let region = args
                .selection
                .scope
                .region
                .clone()
                .unwrap_or_else(|| saved.plan.region.clone());
            let session = Session::connect(Some(&region), attempts).await?;
            let snapshot = read(&session, &saved.options, ReadMode::Verify).await?;
            check_fresh(path, &saved, &snapshot)?;
            check_owned(path, &saved.plan, &snapshot)?;
            (saved.plan, snapshot, session)
        }
        None => {
            args.selection.catalog()?;
            let session =
                Session::connect(args.selection.scope.region.as_deref(), attempts).await?;
            let (_, snapshot, plan) = observe(&args.selection, &session, ReadMode::Verify).await?;
            (plan, snapshot, session)
        }
    };
    print(&render::text(&plan, args.display.text_options()))?;
    not_auditable(&plan, &snapshot)?;
    if !snapshot.unreadable.is_empty() {
        // A saved plan's actions were decided on full reads, but cis-fix cannot now verify
        // what it would change.
        return Err(Error::Unverifiable {
            permissions: denied(&snapshot),
        });
    }
    if plan.actions.is_empty() {
        print("Nothing to apply.\n")?;
        return finish(&args.display, &session, started);
    }
    let count = plan.actions.len();
    let question = format!(
        "Apply these {count} change{}?",
        if count == 1 { "" } else { "s" }
    );
    print("\n")?;
    if !apply::confirm(&question, args.auto_approve)? {
        return Err(Error::Cancelled("apply cancelled".into()));
    }
    apply::apply(&session, &plan.actions, &mut std::io::stdout()).await?;
    print(&format!(
        "\nApply complete: {} created, {} changed.\n",
        plan.summary.to_create, plan.summary.to_change
    ))?;
    finish(&args.display, &session, started)
}

/// Refuses a saved plan when the account, the region or anything it observed has changed.
fn check_fresh(path: &Path, saved: &SavedPlan, now: &Snapshot) -> Result<()> {
    let stale = |message: String| Error::StalePlan {
        path: path.to_path_buf(),
        message,
    };
    if saved.plan.account_id != now.account_id || saved.plan.region != now.region {
        return Err(stale(format!(
            "it was made for account {} in {}, but these credentials and settings reach account {} in {}",
            saved.plan.account_id, saved.plan.region, now.account_id, now.region
        )));
    }
    let changes = saved.changes_since(now);
    if !changes.is_empty() {
        let shown: Vec<&str> = changes.iter().take(3).map(String::as_str).collect();
        let more = changes.len().saturating_sub(shown.len());
        return Err(stale(format!(
            "the account changed since it was made ({}{})",
            shown.join("; "),
            if more > 0 {
                format!("; and {more} more")
            } else {
                String::new()
            }
        )));
    }
    Ok(())
}

/// A saved plan was made without reading alarm tags: before it changes an alarm, check that
/// the alarm really carries cis-fix's marks.
fn check_owned(path: &Path, plan: &Plan, now: &Snapshot) -> Result<()> {
    for action in plan
        .actions
        .iter()
        .filter(|a| a.mode == audit::Mode::Change)
    {
        let audit::Call::PutMetricAlarm { alarm_name, .. } = &action.call else {
            continue;
        };
        let owned = now
            .region(&action.region)
            .and_then(|r| r.alarms.iter().find(|a| &a.name == alarm_name))
            .is_some_and(|a| a.tags.is_some() && crate::ownership::own_alarm_record(a).is_some());
        if !owned {
            return Err(Error::SavedPlan {
                path: path.to_path_buf(),
                message: format!("it changes alarm {alarm_name}, which does not carry cis-fix's marks; nothing was changed"),
            });
        }
    }
    Ok(())
}

async fn backout(args: BackoutArgs, attempts: u32) -> Result<Outcome> {
    let started = Instant::now();
    let slugs = if args.scope.controls.is_empty() {
        None
    } else {
        let selected = args.scope.catalog()?.controls;
        Some(selected.into_iter().map(|c| c.slug).collect::<Vec<_>>())
    };
    let session = Session::connect(args.scope.region.as_deref(), attempts).await?;
    let options = Options {
        notify: Vec::new(),
        topic: TopicChoice::Name(args.topic_name.clone()),
    };
    let snapshot = read(&session, &options, ReadMode::Verify).await?;
    if !snapshot.unreadable.is_empty() {
        return Err(Error::Unverifiable {
            permissions: denied(&snapshot),
        });
    }
    let removal = audit::backout::plan(&snapshot, slugs.as_deref(), args.force);
    print(&render::removal_text(
        &snapshot.account_id,
        &snapshot.region,
        &removal,
        args.display.text_options(),
    ))?;
    if removal.removals.is_empty() {
        return finish(&args.display, &session, started);
    }
    let count = removal.removals.len();
    let question = format!(
        "Remove these {count} resource{}?",
        if count == 1 { "" } else { "s" }
    );
    print("\n")?;
    if !apply::confirm(&question, args.auto_approve)? {
        return Err(Error::Cancelled("backout cancelled".into()));
    }
    apply::remove(&session, &removal.removals, &mut std::io::stdout()).await?;
    print(&format!("\nBackout complete: {count} removed.\n"))?;
    finish(&args.display, &session, started)
}

/// The permissions a snapshot was denied, for messages.
fn denied(snapshot: &Snapshot) -> String {
    snapshot
        .unreadable
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A plan that could not audit some controls ends in an error, after it was shown.
fn not_auditable(plan: &Plan, snapshot: &Snapshot) -> Result<()> {
    if plan.summary.not_auditable == 0 {
        return Ok(());
    }
    Err(Error::NotAuditable {
        count: plan.summary.not_auditable,
        permissions: denied(snapshot),
    })
}

fn finish(display: &Display, session: &Session, started: Instant) -> Result<Outcome> {
    if display.stats {
        report_stats(session, started);
    }
    Ok(Outcome::Success)
}

fn report_stats(session: &Session, started: Instant) {
    let calls = session.calls.snapshot();
    let detail: Vec<String> = calls.iter().map(|(op, n)| format!("{op} {n}")).collect();
    eprintln!(
        "stats: {} AWS API calls in {:.2} s ({})",
        session.calls.total(),
        started.elapsed().as_secs_f64(),
        detail.join(", ")
    );
}

fn print(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        // A closed pipe (`cis-fix plan | head`) is not an error worth reporting.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(|source| Error::Write {
            path: PathBuf::from("<stdout>"),
            source,
        }),
    }
}
