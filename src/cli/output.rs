//! What every command prints the same way: the plan reads, output to stdout (a closed pipe
//! is fine), the stats line, and the errors that end a run after its output was shown.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use super::args::{Display, Selection};
use super::ExitStatus;
use crate::audit::{self, Options, Plan, TopicChoice};
use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::inventory::aws::ReadMode;
use crate::inventory::{self, Snapshot};
use crate::session::Session;

/// Reads the account and audits it.
pub(super) async fn observe(
    selection: &Selection,
    session: &Session,
    mode: ReadMode,
) -> Result<(Options, Snapshot, Plan)> {
    let catalog = selection.catalog()?;
    let options = selection.options();
    let mut snapshot = read(session, &options, mode).await?;
    ask_aws(session, &selection.scope.full_catalog()?, &mut snapshot).await?;
    let plan = audit::audit(&catalog, &snapshot, &options);
    Ok((options, snapshot, plan))
}

/// Has AWS's own evaluator check the filters written differently from the catalog, for every
/// control of the benchmark (not only the selected ones, so the calls do not depend on them).
pub(super) async fn ask_aws(
    session: &Session,
    benchmark: &Catalog,
    snapshot: &mut Snapshot,
) -> Result<()> {
    let requests = audit::witness::requests(benchmark, snapshot);
    inventory::aws::test_patterns(session, &requests, snapshot).await
}

/// Reads the account as `options` need it: the topics they name, plus `mode`'s extras.
pub(super) async fn read(session: &Session, options: &Options, mode: ReadMode) -> Result<Snapshot> {
    let topic = options.topic.clone();
    let topics_of_interest = move |region: &str, account: &str| match &topic {
        TopicChoice::Arn(arn) => vec![arn.clone()],
        TopicChoice::Name(name) => vec![inventory::topic_arn(region, account, name)],
    };
    inventory::aws::read(
        session,
        &topics_of_interest,
        options.topic_kms_key.as_deref(),
        mode,
    )
    .await
}

/// The permissions a snapshot was denied, for messages.
pub(super) fn denied(snapshot: &Snapshot) -> String {
    snapshot
        .unreadable
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A plan that could not audit some controls ends in an error, after it was shown.
pub(super) fn not_auditable(plan: &Plan, snapshot: &Snapshot) -> Result<()> {
    if plan.summary.not_auditable == 0 {
        return Ok(());
    }
    Err(Error::NotAuditable {
        count: plan.summary.not_auditable,
        permissions: denied(snapshot),
    })
}

pub(super) fn finish(display: &Display, session: &Session, started: Instant) -> Result<ExitStatus> {
    if display.stats {
        report_stats(session, started);
    }
    Ok(ExitStatus::Success)
}

pub(super) fn report_stats(session: &Session, started: Instant) {
    let calls = session.calls.snapshot();
    let detail: Vec<String> = calls.iter().map(|(op, n)| format!("{op} {n}")).collect();
    eprintln!(
        "stats: {} AWS API calls in {:.2} s ({})",
        session.calls.total(),
        started.elapsed().as_secs_f64(),
        detail.join(", ")
    );
}

pub(super) fn print(text: &str) -> Result<()> {
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

/// An option that names something missing or unusable stops the run before anything is shown
/// or written: one line naming the option and the value.
pub(super) fn refuse_input_errors(plan: &Plan) -> Result<()> {
    if plan.input_errors.is_empty() {
        return Ok(());
    }
    let messages: Vec<&str> = plan
        .input_errors
        .iter()
        .map(|e| e.message.as_str())
        .collect();
    Err(Error::Usage(format!(
        "{}; nothing was planned or changed",
        messages.join("; ")
    )))
}

/// How an apply ends once its actions are made (or when there were none): 0 when every
/// selected control is compliant or waits only on a subscription confirmation, 2 when some
/// control stays non-compliant (the lines say why and what would fix it).
pub(super) fn after_apply(plan: &Plan) -> Result<ExitStatus> {
    let waiting = crate::render::awaiting_confirmation(plan);
    if waiting > 0 {
        print(&format!(
            "{waiting} control{} wait{} for a subscription to be confirmed (check the inbox or endpoint); then they are compliant.\n",
            if waiting == 1 { "" } else { "s" },
            if waiting == 1 { "s" } else { "" }
        ))?;
    }
    let unplanned = crate::render::unplanned(plan);
    if unplanned.is_empty() {
        return Ok(ExitStatus::Success);
    }
    for line in unplanned {
        eprintln!("{line}");
    }
    Ok(ExitStatus::NotCompliant)
}
