//! The multi-account layer, beside the commands: which accounts to visit, one session per
//! account (the caller's own credentials for its own account, an assumed role elsewhere), a
//! bounded number of accounts in flight, and per-account failures kept as data, so that one
//! account whose role cannot be assumed does not stop the others. The audit across accounts
//! stays pure ([`crate::audit::org`]).

use std::collections::BTreeMap;
use std::io::IsTerminal;

use futures::stream::{self, BoxStream, StreamExt};

use crate::audit::org::AccountRead;
use crate::audit::{self, Options, TopicChoice};
use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::inventory::aws::ReadMode;
use crate::inventory::{self, Snapshot};
use crate::session::Session;

/// Accounts read at once by default: enough to hide per-call latency, few enough to stay
/// under the per-account API rate limits and this machine's sockets.
pub const DEFAULT_CONCURRENCY: u16 = 16;

/// The role assumed in each other account, as AWS Organizations creates it.
pub const DEFAULT_ROLE: &str = "OrganizationAccountAccessRole";

/// Which accounts, and how to reach them.
#[derive(Debug, Clone)]
pub struct Reach {
    /// `--org`: every ACTIVE account of the organization.
    pub org: bool,
    /// `--accounts`: exactly these.
    pub accounts: Vec<String>,
    pub role: String,
    pub external_id: Option<String>,
    pub concurrency: usize,
}

/// The caller: its account and partition (as STS states them).
pub use crate::inventory::CallerIdentity as Caller;

/// Everything read across the accounts, and a session per account that was read in full.
pub struct Reads {
    pub caller: Caller,
    pub reads: Vec<AccountRead>,
    pub sessions: BTreeMap<String, Session>,
}

/// Reads one account as `options` need it: the topics they name, plus `mode`'s extras, and
/// AWS's own check of the filters written differently from the catalog (for every control of
/// `benchmark`, so the calls do not depend on the selection).
pub async fn read_account(
    session: &Session,
    options: &Options,
    mode: ReadMode,
    benchmark: Option<&Catalog>,
) -> Result<Snapshot> {
    let topics_of_interest = match &options.topic {
        TopicChoice::Arn(arn) => inventory::aws::TopicsOfInterest::Arn(arn),
        TopicChoice::Name(name) => inventory::aws::TopicsOfInterest::Own(name),
    };
    // Every control of the benchmark, not the selection, so the reads do not depend on it.
    let watch_rules: Vec<String> = benchmark
        .map(|b| {
            b.benchmark_controls()
                .iter()
                .filter(|c| c.watch_rule.is_some())
                .map(|c| crate::ownership::watch_rule_name(&c.slug))
                .collect()
        })
        .unwrap_or_default();
    let mut snapshot = inventory::aws::read(
        session,
        topics_of_interest,
        options.topic_kms_key.as_deref(),
        &watch_rules,
        mode,
    )
    .await?;
    if let Some(benchmark) = benchmark {
        let requests = audit::witness::requests(benchmark, &snapshot);
        inventory::aws::test_patterns(session, &requests, &mut snapshot).await?;
    }
    Ok(snapshot)
}

/// Reads every account `reach` names, `reach.concurrency` at a time. An account that cannot be
/// reached or read is recorded with its error; the others carry on.
pub async fn read_accounts(
    session: &Session,
    reach: &Reach,
    options: &Options,
    mode: ReadMode,
    benchmark: Option<&Catalog>,
) -> Result<Reads> {
    let caller = inventory::aws::caller_identity(session).await?;
    // The total is known only once the last page is in: the bar grows as pages arrive.
    let progress = progress_bar(if reach.org { 0 } else { reach.accounts.len() });
    // The terminal's status line: notices (a slow endpoint, Ctrl-C) print above it.
    let ticket = progress.as_ref().map(crate::term::show_status);
    let how = How {
        session,
        caller: &caller,
        reach,
        options,
        mode,
        benchmark,
        progress: progress.as_ref(),
    };
    let results: Vec<Result<Reached>> = targets(session, reach)
        .map(|target| read_target(&how, target))
        .buffer_unordered(reach.concurrency.max(1))
        .collect()
        .await;
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    if let Some(ticket) = ticket {
        crate::term::forget_status(ticket);
    }
    // A ListAccounts page that failed fails the run, as before any account was read: the
    // organization was not listed in full (nothing was written; reads only).
    gather(caller, results.into_iter().collect::<Result<_>>()?)
}

/// An account read (or not), with its session when it was read in full.
type Reached = (AccountRead, Option<Session>);

/// What every account of a run is read with.
struct How<'a> {
    session: &'a Session,
    caller: &'a Caller,
    reach: &'a Reach,
    options: &'a Options,
    mode: ReadMode,
    benchmark: Option<&'a Catalog>,
    progress: Option<&'a indicatif::ProgressBar>,
}

/// The accounts to read, as (id, name). With --org, as ListAccounts pages arrive, not once
/// every page is in: a thousand accounts are fifty pages, and their reads need not wait for
/// the last one.
fn targets<'a>(session: &'a Session, reach: &Reach) -> BoxStream<'a, Result<(String, String)>> {
    if reach.org {
        return Box::pin(
            inventory::org::accounts(session)
                .filter(|a| std::future::ready(a.as_ref().map_or(true, |a| a.status == "ACTIVE")))
                .map(|a| a.map(|a| (a.id, a.name))),
        );
    }
    Box::pin(stream::iter(
        reach
            .accounts
            .iter()
            .map(|id| Ok((id.clone(), String::new())))
            .collect::<Vec<_>>(),
    ))
}

/// Reaches one account (its own with the caller's credentials, another through the role) and
/// reads it; a failure is the account's, not the run's.
async fn read_target(how: &How<'_>, target: Result<(String, String)>) -> Result<Reached> {
    let (account, name) = target?;
    if let (Some(bar), true) = (how.progress, how.reach.org) {
        bar.inc_length(1);
    }
    let reached = if account == how.caller.account {
        // Its own account, with its own credentials; the id is already known.
        let mut own = how.session.clone();
        own.known_account = Some(account.clone());
        Ok(own)
    } else {
        let reach = how.reach;
        let external_id = reach.external_id.as_deref();
        let partition = &how.caller.partition;
        how.session
            .assume(partition, &account, &reach.role, external_id)
            .await
    };
    let read = match reached {
        Ok(s) => read_account(&s, how.options, how.mode, how.benchmark)
            .await
            .map(|snapshot| (snapshot, s)),
        Err(e) => Err(e),
    };
    if let Some(bar) = how.progress {
        bar.inc(1);
    }
    let (snapshot, session) = match read {
        Ok((snapshot, s)) => (Ok(snapshot), Some(s)),
        Err(e) => (Err(e.to_string()), None),
    };
    let read = AccountRead {
        account_id: account,
        name,
        snapshot,
    };
    Ok((read, session))
}

/// The reads in a stable order (the caller first, then by account id, whatever finished
/// first), and the session of each account read in full.
fn gather(caller: Caller, results: Vec<Reached>) -> Result<Reads> {
    if results.is_empty() {
        return Err(Error::Organization {
            message: "no ACTIVE account was found".into(),
        });
    }
    let mut reads = Vec::new();
    let mut sessions = BTreeMap::new();
    for (read, s) in results {
        if let Some(s) = s {
            sessions.insert(read.account_id.clone(), s);
        }
        reads.push(read);
    }
    reads.sort_by(|a, b| {
        (a.account_id != caller.account, &a.account_id)
            .cmp(&(b.account_id != caller.account, &b.account_id))
    });
    Ok(Reads {
        caller,
        reads,
        sessions,
    })
}

/// Progress on stderr, only on a terminal: never into stdout or a log.
fn progress_bar(total: usize) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(u64::try_from(total).unwrap_or(u64::MAX));
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("reading accounts {pos}/{len} {wide_bar}")
    {
        bar.set_style(style);
    }
    Some(bar)
}
