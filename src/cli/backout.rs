//! `cis-fix backout`: remove what cis-fix created, and nothing else, after the same question.

use std::time::Instant;

use clap::Args;

use super::args::{Accounts, Display, Scope};
use super::output::{self, denied, finish, print};
use super::ExitStatus;
use crate::apply;
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
    if let Some(reach) = args.accounts.reach() {
        return backout_org(&args, &reach, connect, started).await;
    }
    let slugs = selected_slugs(&args)?;
    let session = Session::connect(args.scope.region.as_deref(), connect).await?;
    let options = read_options(&args);
    let snapshot = output::read(&session, &options, ReadMode::Backout).await?;
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
        "Remove {count} resource{} created by cis-fix from account {} in {}?",
        if count == 1 { "" } else { "s" },
        snapshot.account_id,
        snapshot.region
    );
    print("\n")?;
    super::prompt::confirm(&question, args.auto_approve).await?;
    apply::remove(&session, &removal.removals, &mut std::io::stdout()).await?;
    print(&format!("\nBackout complete: {count} removed.\n"))?;
    finish(&args.display, &session, started)
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
                let removal = audit::backout::plan(snapshot, slugs.as_deref(), args.force);
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
        eprintln!("not touched: {line}");
    }
    let count: usize = removals.iter().map(|(_, r)| r.len()).sum();
    if count > 0 {
        let question = format!(
            "Remove {count} resource{} created by cis-fix from {} account{}?",
            if count == 1 { "" } else { "s" },
            removals.len(),
            if removals.len() == 1 { "" } else { "s" }
        );
        super::prompt::confirm(&question, args.auto_approve).await?;
        let mut failed = Vec::new();
        for (account, list) in &removals {
            let Some(account_session) = reads.sessions.get(account.as_str()) else {
                continue;
            };
            print(&format!("\nAccount {account}:\n"))?;
            match apply::remove(account_session, list, &mut std::io::stdout()).await {
                Ok(_) => {}
                Err(e @ Error::Interrupted { .. }) => return Err(e),
                Err(e) => failed.push(format!("{account}: {e}")),
            }
        }
        print(&format!(
            "\nBackout complete: {count} removed across {} accounts.\n",
            removals.len()
        ))?;
        if !failed.is_empty() {
            return Err(Error::OrgApplyFailed {
                failed: failed.join("; "),
            });
        }
    }
    finish(&args.display, &session, started)?;
    if !unreadable.is_empty() {
        return Err(Error::OrgNotAuditable {
            accounts: unreadable.len(),
            controls: 0,
        });
    }
    Ok(ExitStatus::Success)
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
