//! apply's work, for the accounts of a run: each account's actions with that account's own
//! session, each call checked right before it is made ([`crate::apply::guard`]).

use std::io::Write;

use super::{each_account, ending, AccountRun, Ending, Observed, Step, Work};
use crate::apply::org_result::{self, CallsByAccount};
use crate::apply::result;
use crate::apply::{self, Guard, Records};
use crate::audit::{Action, Mode};

/// What an apply did, account by account, in the order they were applied.
pub struct Applied {
    pub accounts: Vec<AccountRun<Vec<Action>>>,
}

/// Makes each account's calls (see [`each_account`]), writing each call's record line to
/// `out` as it completes.
pub async fn execute(
    work: Vec<Work<'_>>,
    topic_name: Option<&str>,
    records: Records<'_>,
    out: &mut dyn Write,
    step: &mut dyn FnMut(Step),
) -> Applied {
    let items = work
        .into_iter()
        .map(|w| (w.account, w.session, w.actions))
        .collect();
    let accounts = each_account(
        items,
        async |session, account, actions: &Vec<Action>| {
            let guard = Guard {
                account,
                topic_name,
                force: false,
            };
            let shown = Records {
                home: actions.first().map(|a| (account, a.region.as_str())),
                ..records
            };
            apply::apply(session, &guard, actions, shown, &mut *out).await
        },
        step,
    )
    .await;
    Applied { accounts }
}

impl Applied {
    /// (created, changed): the calls made, by the mode of their action.
    pub fn counts(&self) -> (usize, usize) {
        let mut counts = (0, 0);
        for account in &self.accounts {
            let Ok(run) = &account.run else { continue };
            for (action, outcome) in account.of.iter().zip(&run.outcomes) {
                if *outcome == apply::Outcome::Done {
                    match action.mode {
                        Mode::Create => counts.0 += 1,
                        Mode::Change => counts.1 += 1,
                    }
                }
            }
        }
        counts
    }

    /// Each account's outcomes and what stopped it, for the organization's result document.
    pub fn calls(&self) -> CallsByAccount {
        super::calls(&self.accounts)
    }

    /// Whether Ctrl-C stopped the run.
    pub fn interrupted(&self) -> bool {
        self.accounts
            .iter()
            .any(|a| a.run.as_ref().is_ok_and(apply::Run::interrupted))
    }

    /// How many accounts did not finish.
    pub fn unfinished(&self) -> usize {
        super::unfinished(&self.accounts)
    }

    /// How the run ends (see [`ending`]).
    pub fn ending(self, one: bool) -> Ending {
        ending(self.accounts, one)
    }
}

/// The result document (`--format json`) of an apply that ended as `applied` (`None`: nothing
/// to do): one account's, or every account's.
pub fn document(observed: &Observed, applied: Option<&Applied>, show_endpoints: bool) -> String {
    let interrupted = applied.is_some_and(Applied::interrupted);
    match observed {
        Observed::One(one) => {
            let outcomes = applied
                .and_then(|a| a.accounts.first())
                .and_then(|a| a.run.as_ref().ok())
                .map_or(&[][..], |run| run.outcomes.as_slice());
            result::apply_result(&one.plan, outcomes, interrupted, show_endpoints).to_json()
        }
        Observed::Many(many) => {
            let calls = applied.map(Applied::calls).unwrap_or_default();
            org_result::org_apply_result(&many.plan, &calls, interrupted, show_endpoints).to_json()
        }
    }
}
