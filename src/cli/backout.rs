//! `cis-fix backout`: remove what cis-fix created, and nothing else, after the same question.

use std::time::Instant;

use clap::Args;

use std::collections::BTreeMap;

use super::args::{Accounts, Display, Format, Scope};
use super::output::finish;
use super::{view, ExitStatus};
use crate::apply::result::ControlsAfter;
use crate::apply::Records;
use crate::audit::options::{parse_topic_name, DEFAULT_TOPIC_NAME};
use crate::audit::{Options, TopicChoice};
use crate::error::Result;
use crate::printer::Printer;
use crate::run::backout::{Ask, Backout, Removed};
use crate::run::{self, Ending, Input, Step};
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
    /// afterwards (`cis-fix schema backout-result`; across accounts, one document for all of
    /// them: `cis-fix schema org-backout-result`); the list and the progress go to stderr.
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
    let input = input(&args)?;
    let slugs = selected_slugs(&args, &input);
    let ask = Ask {
        slugs: slugs.as_deref(),
        topic_name: &args.topic_name,
        force: args.force,
        catalog: &input.benchmark,
    };
    let session = Session::connect(args.scope.region.as_deref(), connect).await?;
    let reach = args.accounts.reach();
    let backout = run::backout::read(session, reach.as_ref(), &ask).await?;
    printer.say(&view::removals(&backout, args.display.text_options()))?;
    for (account, why) in &backout.unreadable {
        printer.note_raw(&format!(
            "not touched: {}\n",
            crate::term::escape(&format!("{account}: {why}"))
        ));
    }
    let count = backout.count();
    if count == 0 {
        if args.format == Format::Json {
            let controls = backout.controls_after(&input).await;
            printer.out(&document(&args, &input, &backout, None, controls))?;
        }
        finish(&args.display, &printer, &backout.session, started)?;
        backout.unread()?;
        return Ok(ExitStatus::Success);
    }
    printer.say(&view::notes(
        &backout.watch_notes(&input.benchmark),
        args.display.text_options(),
    ))?;
    printer.say(if backout.one { "\n" } else { "" })?;
    super::prompt::confirm(&view::removal_question(&backout, count), args.auto_approve).await?;
    let quiet = args.display.quiet;
    let records = Records {
        quiet,
        ..Records::default()
    };
    let mut out = printer.records();
    let mut step = |step: Step| {
        if let (Step::Start(account), false, false) = (step, backout.one, quiet) {
            let _ = printer.say(&format!("\nAccount {account}:\n"));
        }
    };
    let removed = backout.execute(&ask, records, &mut out, &mut step).await;
    drop(out);
    if args.format == Format::Json {
        let controls = match removed.interrupted() {
            true => backout.not_read_again(),
            false => backout.controls_after(&input).await,
        };
        printer.out(&document(&args, &input, &backout, Some(&removed), controls))?;
    }
    let summary = view::removed(&backout, &removed);
    let ending = removed.ending(backout.one);
    if let Ending::Stopped(error) = ending {
        return Err(error);
    }
    printer.say(&summary)?;
    finish(&args.display, &printer, &backout.session, started)?;
    if let Ending::Failed(error) = ending {
        return Err(error);
    }
    backout.unread()?;
    Ok(ExitStatus::Success)
}

/// What backout works from: the whole benchmark (the result names it and audits its controls
/// afterwards; removals are tagged by its ids), the selected controls, and cis-fix's topic:
/// a bad catalog is an input error, found before any AWS call.
fn input(args: &BackoutArgs) -> Result<Input> {
    Ok(Input {
        catalog: args.scope.catalog()?,
        benchmark: args.scope.full_catalog()?,
        options: Options {
            notify: Vec::new(),
            topic: TopicChoice::Name(args.topic_name.clone()),
            topic_kms_key: None,
        },
    })
}

/// `--controls` as slugs (cis-fix's marks name controls by slug); `None` for all.
fn selected_slugs(args: &BackoutArgs, input: &Input) -> Option<Vec<String>> {
    if args.scope.selected.controls.is_empty() {
        return None;
    }
    Some(
        input
            .catalog
            .controls
            .iter()
            .map(|c| c.slug.clone())
            .collect(),
    )
}

/// The result document, for one account or many.
fn document(
    args: &BackoutArgs,
    input: &Input,
    backout: &Backout,
    removed: Option<&Removed>,
    controls: BTreeMap<String, ControlsAfter>,
) -> String {
    let benchmark = &input.benchmark.benchmark;
    backout.document(removed, controls, benchmark, args.display.show_endpoints)
}
