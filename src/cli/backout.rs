//! `cis-fix backout`: remove what cis-fix created, and nothing else, after the same question.

use std::time::Instant;

use clap::Args;

use super::args::{Display, Scope};
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
    pub display: Display,
}

pub(super) async fn run(
    args: BackoutArgs,
    connect: &crate::session::Connect,
) -> Result<ExitStatus> {
    let started = Instant::now();
    let slugs = if args.scope.controls.is_empty() {
        None
    } else {
        let selected = args.scope.catalog()?.controls;
        Some(selected.into_iter().map(|c| c.slug).collect::<Vec<_>>())
    };
    let session = Session::connect(args.scope.region.as_deref(), connect).await?;
    let options = Options {
        notify: Vec::new(),
        topic: TopicChoice::Name(args.topic_name.clone()),
        topic_kms_key: None,
    };
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
