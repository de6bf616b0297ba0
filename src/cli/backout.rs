//! `cis-fix backout`: remove what cis-fix created, and nothing else, after the same question.

use std::time::Instant;

use clap::Args;

use super::args::{Accounts, Display, Format, Scope};
use super::output::{self, finish};
use super::ExitStatus;
use crate::apply::{self, result, Records};
use crate::audit::options::{parse_topic_name, DEFAULT_TOPIC_NAME};
use crate::audit::{self, Options, TopicChoice};
use crate::error::{Error, Result};
use crate::inventory::aws::ReadMode;
use crate::printer::Printer;
use crate::render;
use crate::run::{self, backout::Ask, backout::Backout, backout::Removed, Step};
use crate::session::Session;

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

    /// Output format. `json` prints on stdout only the result, once the backout has run: each
    /// removal with its outcome, the counts, and the selected controls' status read again
    /// afterwards (`cis-fix schema backout-result`); the list and the progress go to stderr.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    #[command(flatten)]
    pub accounts: Accounts,

    #[command(flatten)]
    pub display: Display,
}

pub(super) async fn run(
    args: BackoutArgs,
    connect: &crate::session::Connect,
) -> Result<ExitStatus> {
    let started = Instant::now();
    let printer = Printer::new(args.format);
    let reach = args.accounts.reach();
    if reach.is_some() && args.format == Format::Json {
        return Err(super::apply::json_across_accounts());
    }
    let slugs = selected_slugs(&args)?;
    // The result names the benchmark and audits its controls afterwards; removals are tagged
    // by its ids: a bad catalog is an input error, found before any AWS call.
    let catalog = args.scope.full_catalog()?;
    let ask = Ask {
        slugs: slugs.as_deref(),
        topic_name: &args.topic_name,
        force: args.force,
        catalog: &catalog,
    };
    let session = Session::connect(args.scope.region.as_deref(), connect).await?;
    let backout = run::backout::read(session, reach.as_ref(), &ask).await?;
    show(&args, &printer, &backout)?;
    let count = backout.count();
    if count == 0 {
        if backout.one && args.format == Format::Json {
            let document = document(&args, &backout, None, controls_after(&args, &backout).await);
            printer.out(&document.to_json())?;
        }
        finish(&args.display, &printer, &backout.session, started)?;
        return unread(&backout);
    }
    printer.say(match backout.one {
        true => "\n",
        false => "",
    })?;
    super::prompt::confirm(&question(&backout, count), args.auto_approve).await?;
    let records = Records {
        quiet: args.display.quiet,
        ..Records::default()
    };
    let mut out = printer.records();
    let mut step = |step: Step| {
        if let (Step::Start(account), false) = (step, backout.one) {
            let _ = printer.say(&format!("\nAccount {account}:\n"));
        }
    };
    let removed = backout.execute(&ask, records, &mut out, &mut step).await;
    drop(out);
    match backout.one {
        true => end_one(&args, &printer, &backout, removed, started).await,
        false => end_many(&args, &printer, &backout, removed, started),
    }
}

/// Each account's list of what will be removed and kept; the accounts not touched.
fn show(args: &BackoutArgs, printer: &Printer, backout: &Backout) -> Result<()> {
    for account in &backout.accounts {
        printer.say(&render::removal_text(
            &account.account_id,
            &account.region,
            &account.removal,
            args.display.text_options(),
        ))?;
        if !backout.one {
            printer.say("\n")?;
        }
    }
    for (account, why) in &backout.unreadable {
        printer.note_raw(&format!(
            "not touched: {}\n",
            crate::term::escape(&format!("{account}: {why}"))
        ));
    }
    Ok(())
}

/// `Remove 27 resources created by cis-fix from account A in us-east-1?`, or `… from N
/// accounts in …`.
fn question(backout: &Backout, count: usize) -> String {
    let resources = format!("{count} resource{}", if count == 1 { "" } else { "s" });
    let regions = output::regions(
        backout
            .work()
            .flat_map(|a| a.removal.removals.iter().map(|r| r.region.as_str())),
    );
    match backout.one {
        true => format!(
            "Remove {resources} created by cis-fix from account {} in {regions}?",
            backout
                .accounts
                .first()
                .map_or("", |a| a.account_id.as_str())
        ),
        false => {
            let accounts = backout.work().count();
            format!(
                "Remove {resources} created by cis-fix from {accounts} account{} in {regions}?",
                if accounts == 1 { "" } else { "s" }
            )
        }
    }
}

/// How one account's backout ends: the result document, then the summary.
async fn end_one(
    args: &BackoutArgs,
    printer: &Printer,
    backout: &Backout,
    removed: Removed,
    started: Instant,
) -> Result<ExitStatus> {
    let run = removed.accounts.first().and_then(|a| a.run.as_ref().ok());
    if args.format == Format::Json {
        let interrupted = run.is_some_and(apply::Run::interrupted);
        let controls = match interrupted {
            true => Err("not read again: Ctrl-C stopped the backout".to_string()),
            false => controls_after(args, backout).await,
        };
        let document = document(args, backout, run, controls);
        printer.out(&document.to_json())?;
    }
    if let Some((_, error)) = removed.into_errors().into_iter().next() {
        return Err(error);
    }
    printer.say(&format!(
        "\nBackout complete: {} removed.\n",
        backout.count()
    ))?;
    finish(&args.display, printer, &backout.session, started)
}

/// How a backout across accounts ends: what was removed, then the accounts that failed
/// part-way or could not be read.
fn end_many(
    args: &BackoutArgs,
    printer: &Printer,
    backout: &Backout,
    removed: Removed,
    started: Instant,
) -> Result<ExitStatus> {
    let accounts = removed.accounts.len();
    let done = removed.done();
    let mut errors = removed.into_errors();
    if let Some(i) = errors
        .iter()
        .position(|(_, e)| matches!(e, Error::Interrupted { .. }))
    {
        return Err(errors.swap_remove(i).1);
    }
    printer.say(&format!(
        "\nBackout complete in {} of {accounts} account{}: {done} removed.\n",
        accounts - errors.len(),
        if accounts == 1 { "" } else { "s" }
    ))?;
    if !errors.is_empty() {
        let failed: Vec<String> = errors
            .iter()
            .map(|(account, e)| format!("{account}: {e}"))
            .collect();
        return Err(Error::OrgApplyFailed {
            failed: failed.join("; "),
        });
    }
    finish(&args.display, printer, &backout.session, started)?;
    unread(backout)
}

/// Accounts that could not be read end the run in an error (each was said with its reason).
fn unread(backout: &Backout) -> Result<ExitStatus> {
    if backout.unreadable.is_empty() {
        return Ok(ExitStatus::Success);
    }
    Err(Error::OrgBackoutUnread {
        count: backout.unreadable.len(),
        accounts: backout
            .unreadable
            .iter()
            .map(|(account, _)| account.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// One account's result document.
fn document(
    args: &BackoutArgs,
    backout: &Backout,
    run: Option<&apply::Run>,
    controls: result::ControlsAfter,
) -> result::BackoutResult {
    let empty = Default::default();
    let account = backout.accounts.first();
    result::backout_result(
        result::Backout {
            account_id: account.map_or("", |a| a.account_id.as_str()),
            region: account.map_or("", |a| a.region.as_str()),
            benchmark: &benchmark_name(args),
            removal: account.map_or(&empty, |a| &a.removal),
            outcomes: run.map_or(&[][..], |r| r.outcomes.as_slice()),
            interrupted: run.is_some_and(apply::Run::interrupted),
            controls,
        },
        args.display.show_endpoints,
    )
}

fn benchmark_name(args: &BackoutArgs) -> String {
    args.scope
        .full_catalog()
        .map(|c| c.benchmark)
        .unwrap_or_default()
}

/// The selected controls' status now, for the JSON result: the account read again and audited
/// as `cis-fix plan` does (a plan's reads, whatever the number of controls).
async fn controls_after(args: &BackoutArgs, backout: &Backout) -> result::ControlsAfter {
    let read = async {
        let account = backout.accounts.first().map(|a| a.account_id.as_str());
        let session = account
            .and_then(|a| backout.session_of(a))
            .unwrap_or(&backout.session);
        let catalog = args.scope.catalog()?;
        let benchmark = args.scope.full_catalog()?;
        let options = read_options(args);
        let snapshot =
            run::accounts::read_account(session, &options, ReadMode::Plan, Some(&benchmark))
                .await?;
        Ok::<_, Error>(result::controls_now(&audit::audit(
            &catalog, &snapshot, &options,
        )))
    };
    read.await
        .map_err(|e| format!("the account could not be read again: {e}"))
}

/// `--controls` as slugs (cis-fix's marks name controls by slug); `None` for all.
fn selected_slugs(args: &BackoutArgs) -> Result<Option<Vec<String>>> {
    if args.scope.selected.controls.is_empty() {
        return Ok(None);
    }
    let selected = args.scope.catalog()?.controls;
    Ok(Some(selected.into_iter().map(|c| c.slug).collect()))
}

/// What backout reads: cis-fix's own topic by name, nothing else of the plan's options.
fn read_options(args: &BackoutArgs) -> Options {
    Options {
        notify: Vec::new(),
        topic: TopicChoice::Name(args.topic_name.clone()),
        topic_kms_key: None,
    }
}
