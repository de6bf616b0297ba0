//! `cis-fix apply [PLAN_FILE]`: show the plan, ask, then create what is missing, in one account
//! or many (`--org`, `--accounts`, or a saved organization plan): the same recipe.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;

use super::args::{Accounts, Display, Format, Selection};
use super::output::{after_apply, finish};
use super::{view, ExitStatus};
use crate::apply::Records;
use crate::audit::{Options, TopicChoice};
use crate::error::Result;
use crate::inventory::aws::ReadMode;
use crate::printer::Printer;
use crate::run::{self, Ending, Observed, Step};
use crate::session::Session;

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A saved plan from `cis-fix plan --out FILE`. The saved plan is the approval: it is
    /// applied without asking, if the account has not changed since it was made. Options that
    /// would change the plan cannot be given with it; `--org` or `--accounts`, if given, must
    /// name the accounts it was made for, and `--concurrency` is honoured.
    #[arg(value_name = "PLAN_FILE", conflicts_with_all = ["benchmark", "catalog", "controls", "notify", "notify_file", "topic_arn", "topic_name", "topic_kms_key", "role", "external_id"])]
    pub plan_file: Option<PathBuf>,

    #[command(flatten)]
    pub selection: Selection,

    /// Do not ask for confirmation (for CI). Without a terminal, apply refuses unless given.
    #[arg(long)]
    pub auto_approve: bool,

    /// Output format. `json` prints on stdout only the result, once the apply has run: each
    /// action with its outcome, the counts and the controls' status afterwards (`cis-fix
    /// schema apply-result`; across accounts, one document for all of them: `cis-fix schema
    /// org-apply-result`); the plan and the progress go to stderr.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    #[command(flatten)]
    pub accounts: Accounts,

    #[command(flatten)]
    pub display: Display,
}

pub(super) async fn run(args: ApplyArgs, connect: &crate::session::Connect) -> Result<ExitStatus> {
    let started = Instant::now();
    let printer = Printer::new(args.format);
    let (observed, options, approved) = match &args.plan_file {
        Some(path) => {
            let (observed, options) =
                super::saved::recompute(path, &args.selection, &args.accounts, &printer, connect)
                    .await?;
            // The saved plan is the approval (Terraform's contract): reviewed when it was made.
            (observed, options, true)
        }
        None => {
            let input = args.selection.resolve()?;
            let session = Session::connect(args.selection.scope.region.as_deref(), connect).await?;
            let reach = args.accounts.reach();
            let observed = Observed::read(&input, reach.as_ref(), session, ReadMode::Plan).await?;
            (observed, input.options, args.auto_approve)
        }
    };
    apply(&args, &printer, &observed, &options, approved, started).await
}

/// Shows the plan, asks (unless `approved`), then makes its calls, each checked right before
/// it is made ([`crate::apply::guard`]), and says how it ended.
async fn apply(
    args: &ApplyArgs,
    printer: &Printer,
    observed: &Observed,
    options: &Options,
    approved: bool,
    started: Instant,
) -> Result<ExitStatus> {
    let shown = args.display.show_endpoints;
    printer.say(&view::plan(observed, args.display.text_options()))?;
    observed.refuse_apply()?;
    let work = observed.work();
    if work.is_empty() {
        if args.format == Format::Json {
            printer.out(&run::apply::document(observed, None, shown))?;
        }
        finish(&args.display, printer, observed.session(), started)?;
        return after_apply(observed, printer);
    }
    printer.say("\n")?;
    super::prompt::confirm(&view::apply_question(observed, &work), approved).await?;
    let quiet = args.display.quiet;
    let records = Records {
        quiet,
        ..Records::default()
    };
    let mut out = printer.records();
    let mut step = |step: Step| {
        if let Some(line) = view::account_step(observed, step).filter(|_| !quiet) {
            let _ = printer.say(&line);
        }
    };
    let topic = own_topic_name(options);
    let applied = run::apply::execute(work, topic, records, &mut out, &mut step).await;
    drop(out);
    if args.format == Format::Json {
        printer.out(&run::apply::document(observed, Some(&applied), shown))?;
    }
    let summary = view::applied(observed, &applied, args.display.text_options());
    let ending = applied.ending(matches!(observed, Observed::One(_)));
    if let Ending::Stopped(error) = ending {
        return Err(error);
    }
    printer.say(&summary)?;
    finish(&args.display, printer, observed.session(), started)?;
    let status = after_apply(observed, printer);
    match ending {
        Ending::Failed(error) => Err(error),
        _ => status,
    }
}

/// The topic name cis-fix creates and subscribes to, for the guard: none with `--topic-arn`.
fn own_topic_name(options: &Options) -> Option<&str> {
    match &options.topic {
        TopicChoice::Name(name) => Some(name),
        TopicChoice::Arn(_) => None,
    }
}
