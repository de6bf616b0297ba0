//! `cis-fix backout`: remove what cis-fix created, and nothing else, after the same question.

use std::time::Instant;

use clap::Args;

use super::apply::{records, say, text_only};
use super::args::{Accounts, Display, Format, Scope};
use super::output::{self, denied, finish, print};
use super::ExitStatus;
use crate::apply::{self, result};
use crate::audit::options::{parse_topic_name, DEFAULT_TOPIC_NAME};
use crate::audit::{self, Options, TopicChoice};
use crate::error::{Error, Result};
use crate::inventory::aws::ReadMode;
use crate::render;
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
    let format = args.format;
    if let Some(reach) = args.accounts.reach() {
        text_only(format)?;
        return backout_org(&args, &reach, connect, started).await;
    }
    let slugs = selected_slugs(&args)?;
    // The result names the benchmark and audits its controls afterwards: a bad catalog is an
    // input error, found before any AWS call.
    let benchmark = match format {
        Format::Json => args.scope.catalog()?.benchmark,
        Format::Text => String::new(),
    };
    let session = Session::connect(args.scope.region.as_deref(), connect).await?;
    let options = read_options(&args);
    let snapshot = output::read(&session, &options, ReadMode::Backout).await?;
    if !snapshot.unreadable.is_empty() {
        return Err(Error::Unverifiable {
            permissions: denied(&snapshot),
        });
    }
    let removal = by_id(
        audit::backout::plan(&snapshot, &scope(&args, slugs.as_deref())),
        &args.scope.full_catalog()?,
    );
    say(
        format,
        &render::removal_text(
            &snapshot.account_id,
            &snapshot.region,
            &removal,
            args.display.text_options(),
        ),
    )?;
    let document =
        |outcomes: &[apply::Outcome], interrupted: bool, controls: result::ControlsAfter| {
            result::backout_result(
                result::Backout {
                    account_id: &snapshot.account_id,
                    region: &snapshot.region,
                    benchmark: &benchmark,
                    removal: &removal,
                    outcomes,
                    interrupted,
                    controls,
                },
                args.display.show_endpoints,
            )
        };
    if removal.removals.is_empty() {
        if format == Format::Json {
            let controls = controls_after(&args, &session).await;
            print(&document(&[], false, controls).to_json())?;
        }
        return finish(&args.display, &session, started);
    }
    let count = removal.removals.len();
    let question = format!(
        "Remove {count} resource{} created by cis-fix from account {} in {}?",
        if count == 1 { "" } else { "s" },
        snapshot.account_id,
        output::regions(removal.removals.iter().map(|r| r.region.as_str()))
    );
    say(format, "\n")?;
    super::prompt::confirm(&question, args.auto_approve).await?;
    let shown = apply::Records {
        home: Some((&snapshot.account_id, &snapshot.region)),
        quiet: args.display.quiet,
        ..apply::Records::default()
    };
    let guard = guard(&args, &snapshot.account_id);
    let run = apply::remove(
        &session,
        &guard,
        &removal.removals,
        shown,
        &mut records(format),
    )
    .await;
    if format == Format::Json {
        let controls = if run.interrupted() {
            Err("not read again: Ctrl-C stopped the backout".to_string())
        } else {
            controls_after(&args, &session).await
        };
        print(&document(&run.outcomes, run.interrupted(), controls).to_json())?;
    }
    run.into_result()?;
    say(format, &format!("\nBackout complete: {count} removed.\n"))?;
    finish(&args.display, &session, started)
}

/// The selected controls' status now, for the JSON result: the account read again and audited
/// as `cis-fix plan` does (a plan's reads, whatever the number of controls).
async fn controls_after(args: &BackoutArgs, session: &Session) -> result::ControlsAfter {
    let read = async {
        let catalog = args.scope.catalog()?;
        let benchmark = args.scope.full_catalog()?;
        let options = read_options(args);
        let snapshot =
            crate::org::read_account(session, &options, ReadMode::Plan, Some(&benchmark)).await?;
        Ok::<_, Error>(result::controls_now(&audit::audit(
            &catalog, &snapshot, &options,
        )))
    };
    read.await
        .map_err(|e| format!("the account could not be read again: {e}"))
}

/// `backout --org` / `--accounts`: what cis-fix created in every account, and nothing else.
/// An account that was not read in full is not touched.
async fn backout_org(
    args: &BackoutArgs,
    reach: &crate::org::Reach,
    connect: &crate::session::Connect,
    started: Instant,
) -> Result<ExitStatus> {
    let slugs = selected_slugs(args)?;
    let session = Session::connect(args.scope.region.as_deref(), connect).await?;
    let options = read_options(args);
    let reads =
        crate::org::read_accounts(&session, reach, &options, ReadMode::Backout, None).await?;
    let mut removals = Vec::new();
    let mut unreadable = Vec::new();
    for read in &reads.reads {
        match &read.snapshot {
            Ok(snapshot) if snapshot.unreadable.is_empty() => {
                let removal = by_id(
                    audit::backout::plan(snapshot, &scope(args, slugs.as_deref())),
                    &args.scope.full_catalog()?,
                );
                print(&render::removal_text(
                    &snapshot.account_id,
                    &snapshot.region,
                    &removal,
                    args.display.text_options(),
                ))?;
                print("\n")?;
                if !removal.removals.is_empty() {
                    removals.push((read.account_id.clone(), removal.removals));
                }
            }
            Ok(snapshot) => unreadable.push(format!(
                "{}: AWS denied {}",
                read.account_id,
                denied(snapshot)
            )),
            Err(e) => unreadable.push(format!("{}: {e}", read.account_id)),
        }
    }
    for line in &unreadable {
        eprintln!("not touched: {}", crate::term::escape(line));
    }
    let count: usize = removals.iter().map(|(_, r)| r.len()).sum();
    if count > 0 {
        let question = format!(
            "Remove {count} resource{} created by cis-fix from {} account{} in {}?",
            if count == 1 { "" } else { "s" },
            removals.len(),
            if removals.len() == 1 { "" } else { "s" },
            output::regions(
                removals
                    .iter()
                    .flat_map(|(_, list)| list.iter().map(|r| r.region.as_str()))
            )
        );
        super::prompt::confirm(&question, args.auto_approve).await?;
        let (removed, failed) = remove_per_account(args, &removals, &reads.sessions).await?;
        print(&format!(
            "\nBackout complete in {} of {} account{}: {removed} removed.\n",
            removals.len() - failed.len(),
            removals.len(),
            if removals.len() == 1 { "" } else { "s" }
        ))?;
        if !failed.is_empty() {
            return Err(Error::OrgApplyFailed {
                failed: failed.join("; "),
            });
        }
    }
    finish(&args.display, &session, started)?;
    if !unreadable.is_empty() {
        return Err(Error::OrgBackoutUnread {
            count: unreadable.len(),
            // Each was said above with its reason (`not touched: …`): the ids are enough.
            accounts: unreadable
                .iter()
                .filter_map(|line| line.split(':').next())
                .collect::<Vec<_>>()
                .join(", "),
        });
    }
    Ok(ExitStatus::Success)
}

/// Removes each account's resources with that account's session; returns how many were removed
/// and one line per account that failed part-way. Ctrl-C stops everything.
async fn remove_per_account(
    args: &BackoutArgs,
    removals: &[(String, Vec<audit::backout::Removal>)],
    sessions: &std::collections::BTreeMap<String, Session>,
) -> Result<(usize, Vec<String>)> {
    let mut failed = Vec::new();
    let mut removed = 0;
    for (account, list) in removals {
        let Some(account_session) = sessions.get(account.as_str()) else {
            failed.push(format!("{account}: no session (it was not read in full)"));
            continue;
        };
        print(&format!("\nAccount {account}:\n"))?;
        let shown = apply::Records {
            home: list.first().map(|r| (account.as_str(), r.region.as_str())),
            quiet: args.display.quiet,
            ..apply::Records::default()
        };
        let guard = guard(args, account);
        let run = apply::remove(account_session, &guard, list, shown, &mut std::io::stdout()).await;
        // What was removed, not what was listed: an account may fail part-way.
        removed += run.done();
        match run.into_result() {
            Ok(_) => {}
            Err(e @ Error::Interrupted { .. }) => return Err(e),
            Err(e) => failed.push(format!("{account}: {e}")),
        }
    }
    Ok((removed, failed))
}

/// `--controls` as slugs (cis-fix's marks name controls by slug); `None` for all.
fn selected_slugs(args: &BackoutArgs) -> Result<Option<Vec<String>>> {
    if args.scope.selected.controls.is_empty() {
        return Ok(None);
    }
    let selected = args.scope.catalog()?.controls;
    Ok(Some(selected.into_iter().map(|c| c.slug).collect()))
}

/// What of cis-fix's a backout removes.
fn scope<'a>(args: &'a BackoutArgs, slugs: Option<&'a [String]>) -> audit::backout::Scope<'a> {
    audit::backout::Scope {
        slugs,
        topic_name: &args.topic_name,
        force: args.force,
    }
}

/// The check right before each delete, in `account`.
fn guard<'a>(args: &'a BackoutArgs, account: &'a str) -> apply::Guard<'a> {
    apply::Guard {
        account,
        topic_name: Some(&args.topic_name),
        force: args.force,
    }
}

/// What backout reads: cis-fix's own topic by name, nothing else of the plan's options.
fn read_options(args: &BackoutArgs) -> Options {
    Options {
        notify: Vec::new(),
        topic: TopicChoice::Name(args.topic_name.clone()),
        topic_kms_key: None,
    }
}

/// The removals tagged by control id (`[4.1]`), as plan and apply tag their actions. cis-fix
/// records the slug on what it creates (stable across benchmark versions); the id is the
/// selected benchmark's. A slug it does not have stays a slug.
fn by_id(
    mut plan: audit::backout::RemovalPlan,
    catalog: &crate::catalog::Catalog,
) -> audit::backout::RemovalPlan {
    for removal in &mut plan.removals {
        if let Some(control) = removal
            .control
            .as_deref()
            .and_then(|slug| catalog.controls.iter().find(|c| c.slug == slug))
        {
            removal.control = Some(control.id.clone());
        }
    }
    plan
}
