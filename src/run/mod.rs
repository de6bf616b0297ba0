//! What each command does, written once for the accounts of the run: one account is a run of
//! one, never a second code path. It takes resolved input, reads through [`crate::inventory`],
//! writes through [`crate::apply`], and returns data. It never parses arguments, never lays out
//! a view and never asks a question: the recipes in [`crate::cli`] do that around it.
//!
//! - [`accounts`]: which accounts, a session each, bounded concurrency, failures as data;
//! - [`observed`]: the accounts read and audited ([`Observed`]: one account, or many);
//! - [`apply`], [`backout`], [`drill`]: each command's work per account, and its result;
//! - [`export`]: the export's source, from an observed run;
//! - [`pattern`]: `pattern test`'s events read and matched;
//! - [`report`]: `report --to-security-hub`'s import, account by account.

pub mod accounts;
pub mod apply;
pub mod backout;
pub mod drill;
pub mod export;
pub mod forecast;
pub mod observed;
pub mod pattern;
pub mod report;

pub use observed::{Observed, Work};

use crate::apply::org_result::{AccountCalls, CallsByAccount};
use crate::apply::Run;
use crate::audit::Options;
use crate::catalog::Catalog;
use crate::error::Error;
use crate::session::Session;

/// What a command works from, resolved once: the selected controls, the whole benchmark they
/// come from (what a control may reuse, and AWS's pattern tests, do not depend on the
/// selection), and the options.
#[derive(Debug, Clone)]
pub struct Input {
    pub catalog: Catalog,
    pub benchmark: Catalog,
    pub options: Options,
}

/// What became of one account's calls: their outcomes, or why none could be made (the
/// account has no session).
pub struct AccountRun<T> {
    pub account: String,
    /// What the calls were made for (the actions, the removals, …).
    pub of: T,
    pub run: Result<Run, String>,
}

/// A moment of a run across accounts that a view may mark: an account's record lines start,
/// or end.
pub enum Step<'a> {
    Start(&'a str),
    End(&'a str, &'a Run),
}

/// Makes each account's calls with that account's session, one account after the other,
/// telling `step` as each starts and ends. An account that fails part-way does not stop the
/// others; Ctrl-C stops after the account it interrupted.
pub async fn each_account<'a, T>(
    items: Vec<(&'a str, Option<&'a Session>, T)>,
    mut calls: impl AsyncFnMut(&'a Session, &'a str, &T) -> Run,
    step: &mut dyn FnMut(Step),
) -> Vec<AccountRun<T>> {
    let mut done = Vec::new();
    for (account, session, of) in items {
        let Some(session) = session else {
            done.push(AccountRun {
                account: account.to_string(),
                of,
                run: Err("no session (it was not read in full)".into()),
            });
            continue;
        };
        step(Step::Start(account));
        let run = calls(session, account, &of).await;
        step(Step::End(account, &run));
        let interrupted = run.interrupted();
        done.push(AccountRun {
            account: account.to_string(),
            of,
            run: Ok(run),
        });
        if interrupted {
            break;
        }
    }
    done
}

/// What stopped each account that did not finish, in order: Ctrl-C, a failed call or a
/// refusal, or no session.
pub fn errors<T>(runs: Vec<AccountRun<T>>) -> Vec<(String, Error)> {
    runs.into_iter()
        .filter_map(|account| {
            let error = match account.run {
                Err(why) => Error::Usage(why),
                Ok(run) => run.into_result().err()?,
            };
            Some((account.account, error))
        })
        .collect()
}

/// Each account's outcomes and what stopped it, for the result documents.
pub fn calls<T>(runs: &[AccountRun<T>]) -> CallsByAccount {
    runs.iter()
        .map(|account| {
            let calls = match &account.run {
                Ok(run) => AccountCalls {
                    outcomes: run.outcomes.clone(),
                    stopped: run.stop.as_ref().map(ToString::to_string),
                },
                Err(why) => AccountCalls {
                    outcomes: vec![],
                    stopped: Some(why.clone()),
                },
            };
            (account.account.clone(), calls)
        })
        .collect()
}

/// How a run of calls across accounts ends.
pub enum Ending {
    Done,
    /// Before the summary: the one account's failure, or Ctrl-C.
    Stopped(Error),
    /// After the summary: the accounts that failed part-way (the others' work stands).
    Failed(Error),
}

/// How `runs` end: one account's failure, or Ctrl-C, stops the run before its summary;
/// accounts that failed part-way among many are said after it.
pub fn ending<T>(runs: Vec<AccountRun<T>>, one: bool) -> Ending {
    let mut errors = errors(runs);
    if let Some(i) = errors
        .iter()
        .position(|(_, e)| one || matches!(e, Error::Interrupted { .. }))
    {
        return Ending::Stopped(errors.swap_remove(i).1);
    }
    if errors.is_empty() {
        return Ending::Done;
    }
    let failed: Vec<String> = errors
        .iter()
        .map(|(account, e)| format!("{account}: {e}"))
        .collect();
    Ending::Failed(Error::OrgApplyFailed {
        failed: failed.join("; "),
    })
}

/// How many accounts did not finish.
pub fn unfinished<T>(runs: &[AccountRun<T>]) -> usize {
    runs.iter()
        .filter(|a| a.run.as_ref().map_or(true, |run| run.stop.is_some()))
        .count()
}
