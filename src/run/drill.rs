//! drill's work, for the accounts of a run: each whole chain's alarm set to ALARM once, in the
//! account that owns it (a member relying on the organization trail is served by the drill of
//! the trail's chain in its owner's account), its notification read from the alarm's history,
//! the alarm set back to OK.

use std::time::Duration;

use super::Observed;
use crate::apply::drill::{self as drilling, Drilled, Job};
use crate::audit::drill::{self, AccountDrill};
use crate::audit::org::AccountStatus;
use crate::error::{Error, Result};

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

/// What became of the notifications, counted across the accounts.
pub struct Tally {
    pub delivered: usize,
    pub failed: usize,
    pub stuck: Vec<drill::Stuck>,
    /// What stopped one account's drill (said above its report), as an error.
    pub error: Option<Error>,
}

impl Tally {
    /// Counts each account's outcomes; an account whose drill could not run counts every
    /// alarm of it as not delivered (nothing was proven).
    pub fn of(drilled: &[(&AccountDrill, Drilled)], one: bool) -> Tally {
        let mut tally = Tally {
            delivered: 0,
            failed: 0,
            stuck: vec![],
            error: None,
        };
        for (d, drilled) in drilled {
            match &drilled.outcomes {
                Ok(outcomes) => {
                    let missed = undelivered(outcomes);
                    tally.failed += missed;
                    tally.delivered += outcomes.len() - missed;
                }
                Err(e) => {
                    tally.failed += d.targets.len();
                    if one {
                        tally.error = Some(Error::Usage(e.to_string()));
                    }
                }
            }
            tally.stuck.extend(drilled.stuck.iter().cloned());
        }
        tally
    }

    /// How the drill ends: alarms left in ALARM first (until reset they send nothing), then
    /// what stopped one account's drill, the notifications not delivered, and the accounts
    /// that could not be read.
    pub fn into_result(self, drill: &Drill, controls: usize) -> Result<()> {
        left_in_alarm(&self.stuck)?;
        if let Some(error) = self.error {
            return Err(error);
        }
        if self.failed > 0 {
            return Err(Error::DrillFailed {
                failed: self.failed,
                drilled: drill.alarms(),
            });
        }
        if !drill.unreadable.is_empty() {
            return Err(Error::OrgNotAuditable {
                accounts: drill.unreadable.len(),
                controls: drill.unreadable.len() * controls,
            });
        }
        Ok(())
    }
}

/// The error for alarms a drill could not set back to OK, naming them (the report above gives
/// the command that resets each).
fn left_in_alarm(stuck: &[drill::Stuck]) -> Result<()> {
    if stuck.is_empty() {
        return Ok(());
    }
    let alarms: Vec<String> = stuck
        .iter()
        .map(|s| {
            format!(
                "alarm `{}` (account {}, {})",
                crate::term::escape(&s.alarm),
                s.account,
                s.region
            )
        })
        .collect();
    Err(Error::DrillResetFailed {
        count: stuck.len(),
        alarms: alarms.join(", "),
    })
}

fn undelivered(outcomes: &[drill::Outcome]) -> usize {
    outcomes
        .iter()
        .filter(|o| !matches!(o, drill::Outcome::Delivered { .. }))
        .count()
}
