//! `cis-fix apply [PLAN_FILE]`: show the plan, ask, then create what is missing, in one account
//! or many (`--org`, `--accounts`, or a saved organization plan): the same recipe.

use std::path::PathBuf;
use std::time::Instant;

use clap::Args;

use super::args::{Accounts, Display, Format, Selection};
use super::output::{after_apply, finish};
use super::{view, ExitStatus};
use crate::apply::{org_result, result, Records};
use crate::audit::{Options, TopicChoice};
use crate::error::{Error, Result};
use crate::inventory::aws::ReadMode;
use crate::printer::Printer;
use crate::render;
use crate::run::apply::Applied;
use crate::run::Observed;
use crate::run::Step;
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
    printer.say(&view::plan(observed, args.display.text_options()))?;
    if let Observed::One(_) = observed {
        observed.not_auditable()?;
        observed.unverifiable()?;
    }
    let work = observed.work();
    if work.is_empty() {
        if args.format == Format::Json {
            printer.out(&document(observed, None, args.display.show_endpoints))?;
        }
        finish(&args.display, printer, observed.session(), started)?;
        return after_apply(observed, printer);
    }
    printer.say("\n")?;
    super::prompt::confirm(&view::apply_question(observed, &work), approved).await?;
    let records = Records {
        quiet: args.display.quiet,
        ..Records::default()
    };
    let mut out = printer.records();
    let mut step = |step: Step| {
        if args.display.quiet {
            return;
        }
        let line = match step {
            Step::Start(account) => view::account_start(observed, account),
            Step::End(_, run) => view::account_end(observed, run),
        };
        if let Some(line) = line {
            let _ = printer.say(&line);
        }
    };
    let applied =
        crate::run::apply::execute(work, own_topic_name(options), records, &mut out, &mut step)
            .await;
    drop(out);
    match observed {
        Observed::One(_) => end_one(args, printer, observed, applied, started),
        Observed::Many(_) => end_many(args, printer, observed, applied, started),
    }
}

/// How one account's apply ends: the result document, the verdicts after it, the summary.
fn end_one(
    args: &ApplyArgs,
    printer: &Printer,
    observed: &Observed,
    applied: Applied,
    started: Instant,
) -> Result<ExitStatus> {
    let Observed::One(one) = observed else {
        return Ok(ExitStatus::Success);
    };
    if args.format == Format::Json {
        printer.out(&document(
            observed,
            Some(&applied),
            args.display.show_endpoints,
        ))?;
    }
    if let Some((_, error)) = applied.into_errors().into_iter().next() {
        return Err(error);
    }
    if !args.display.quiet {
        // The verdicts last, once the calls have scrolled the plan's table away.
        let table = render::after_apply_table(&one.plan, args.display.text_options());
        printer.say(&format!("\n{table}"))?;
    }
    printer.say(&format!(
        "\nApply complete: {} created, {} changed.\n",
        one.plan.summary.to_create, one.plan.summary.to_change
    ))?;
    finish(&args.display, printer, observed.session(), started)?;
    after_apply(observed, printer)
}

/// How an apply across accounts ends: what was done (counted from the calls made, not from
/// the plan), then as one account's; an account that failed part-way is an error (1).
fn end_many(
    args: &ApplyArgs,
    printer: &Printer,
    observed: &Observed,
    applied: Applied,
    started: Instant,
) -> Result<ExitStatus> {
    if args.format == Format::Json {
        printer.out(&document(
            observed,
            Some(&applied),
            args.display.show_endpoints,
        ))?;
    }
    let accounts = applied.accounts.len();
    let (created, changed) = applied.counts();
    let mut errors = applied.into_errors();
    // Ctrl-C stopped everything: said as it is, nothing more.
    if let Some(i) = errors
        .iter()
        .position(|(_, e)| matches!(e, Error::Interrupted { .. }))
    {
        return Err(errors.swap_remove(i).1);
    }
    finish(&args.display, printer, observed.session(), started)?;
    printer.say(&format!(
        "\nApply complete in {} of {accounts} account{}: {created} created, {changed} changed.\n",
        accounts - errors.len(),
        if accounts == 1 { "" } else { "s" },
    ))?;
    if !errors.is_empty() {
        // Still say what stays undone elsewhere, then the failure decides the exit code.
        let _ = after_apply(observed, printer);
        let failed: Vec<String> = errors
            .iter()
            .map(|(account, e)| format!("{account}: {e}"))
            .collect();
        return Err(Error::OrgApplyFailed {
            failed: failed.join("; "),
        });
    }
    after_apply(observed, printer)
}

/// The result document (`--format json`) of an apply that ended as `applied` (`None`: nothing
/// to do): one account's, or every account's.
fn document(observed: &Observed, applied: Option<&Applied>, show_endpoints: bool) -> String {
    let interrupted = applied.is_some_and(Applied::interrupted);
    match observed {
        Observed::One(one) => {
            let outcomes = applied
                .and_then(|a| a.accounts.first())
                .and_then(|a| a.run.as_ref().ok())
                .map_or(&[][..], |run| run.outcomes.as_slice());
            result::apply_result(&one.plan, outcomes, interrupted, show_endpoints).to_json()
        }
        Observed::Many(many) => {
            let calls = applied.map(Applied::calls).unwrap_or_default();
            org_result::org_apply_result(&many.plan, &calls, interrupted, show_endpoints).to_json()
        }
    }
}

/// The topic name cis-fix creates and subscribes to, for the guard: none with `--topic-arn`.
fn own_topic_name(options: &Options) -> Option<&str> {
    match &options.topic {
        TopicChoice::Name(name) => Some(name),
        TopicChoice::Arn(_) => None,
    }
}
