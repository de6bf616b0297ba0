//! drill's work, for the accounts of a run: each whole chain's alarm set to ALARM once, in the
//! account that owns it (a member relying on the organization trail is served by the drill of
//! the trail's chain in its owner's account), its notification read from the alarm's history,
//! the alarm set back to OK.

use std::time::Duration;

use super::Observed;
use crate::apply::drill::{self as drilling, Drilled, Job};
use crate::audit::drill::{self, AccountDrill};
use crate::audit::org::AccountStatus;
use crate::error::Result;

/// The accounts of a drill, and the accounts that could not be read (not drilled).
pub struct Drill {
    pub accounts: Vec<AccountDrill>,
    /// `account A could not be read: …`, one line each.
    pub unreadable: Vec<String>,
}

/// What each account drills and skips.
pub fn plan(observed: &Observed) -> Drill {
    match observed {
        Observed::One(one) => {
            let (targets, skipped) = drill::targets(&one.plan, &one.snapshot);
            Drill {
                accounts: vec![AccountDrill {
                    account_id: one.snapshot.account_id.clone(),
                    region: one.snapshot.region.clone(),
                    targets,
                    skipped,
                }],
                unreadable: vec![],
            }
        }
        Observed::Many(many) => {
            let mut accounts = Vec::new();
            let mut unreadable = Vec::new();
            for report in &many.plan.accounts {
                let snapshot = many
                    .reads
                    .reads
                    .iter()
                    .find(|r| r.account_id == report.account_id)
                    .and_then(|r| r.snapshot.as_ref().ok());
                match (report.status, snapshot) {
                    (AccountStatus::Audited, Some(snapshot)) => {
                        let (targets, skipped) = drill::targets_in(&report.controls, snapshot);
                        accounts.push(AccountDrill {
                            account_id: report.account_id.clone(),
                            region: many.session.region.clone(),
                            targets,
                            skipped,
                        });
                    }
                    _ => unreadable.push(format!(
                        "account {} could not be read: {}",
                        report.account_id,
                        crate::term::escape(report.error.as_deref().unwrap_or("unknown error"))
                    )),
                }
            }
            drill::across(&many.plan, &mut accounts);
            Drill {
                accounts,
                unreadable,
            }
        }
    }
}

impl Drill {
    /// The alarms to drill, across the accounts.
    pub fn alarms(&self) -> usize {
        self.accounts.iter().map(|d| d.targets.len()).sum()
    }

    /// The accounts that drill something.
    pub fn drilling(&self) -> impl Iterator<Item = &AccountDrill> {
        self.accounts.iter().filter(|d| !d.targets.is_empty())
    }

    /// Drills every account's alarms at once, each with its own session: per account that
    /// drills something, in order, what became of its notifications. `Err` only for Ctrl-C,
    /// once every alarm set to ALARM is back to OK or named.
    pub async fn execute(
        &self,
        observed: &Observed,
        wait: Duration,
    ) -> Result<Vec<(&AccountDrill, Drilled)>> {
        let with_session: Vec<(&AccountDrill, &crate::session::Session)> = self
            .drilling()
            .filter_map(|d| session_of(observed, &d.account_id).map(|s| (d, s)))
            .collect();
        let jobs: Vec<Job> = with_session
            .iter()
            .map(|(d, session)| Job {
                session,
                account: &d.account_id,
                targets: &d.targets,
            })
            .collect();
        let results = drilling::drill_accounts(&jobs, wait).await?;
        Ok(with_session
            .into_iter()
            .map(|(d, _)| d)
            .zip(results)
            .collect())
    }
}

/// The session of an account read in full.
fn session_of<'a>(observed: &'a Observed, account: &str) -> Option<&'a crate::session::Session> {
    match observed {
        Observed::One(one) => Some(&one.session),
        Observed::Many(many) => many.reads.sessions.get(account),
    }
}
