//! backout's work, for the accounts of a run: what cis-fix created in each, and nothing else
//! (see [`crate::audit::backout`]), removed with that account's session, each delete checked
//! right before it is made. An account that was not read in full is not touched.

use std::collections::BTreeMap;
use std::io::Write;

use super::accounts::{self, Reach};
use super::{each_account, ending, AccountRun, Ending, Input, Observed, Step};
use crate::apply::org_result::{self, CallsByAccount};
use crate::apply::result::{self, ControlsAfter};
use crate::apply::{self, Guard, Records};
use crate::audit::backout::{self, Removal, RemovalPlan, Scope};
use crate::audit::org::AccountStatus;
use crate::audit::{Options, TopicChoice};
use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::inventory::aws::ReadMode;
use crate::session::Session;

/// What a backout asks of the run.
pub struct Ask<'a> {
    /// The controls selected (by slug), or all.
    pub slugs: Option<&'a [String]>,
    pub topic_name: &'a str,
    pub force: bool,
    /// The benchmark whose ids tag the removals.
    pub catalog: &'a Catalog,
}

/// One account's part: what it will remove and keep.
pub struct AccountBackout {
    pub account_id: String,
    /// The region trails were read from (the view's home).
    pub region: String,
    pub removal: RemovalPlan,
}

/// The accounts of a backout, read: each one's removals, the accounts that could not be read
/// in full (not touched), and a session for each account read.
pub struct Backout {
    /// The caller's session (the run's calls are counted on it and its members').
    pub session: Session,
    /// The caller's account.
    pub caller: String,
    /// Which accounts, when many: read again, for the controls after.
    reach: Option<Reach>,
    /// One account (its own view), or many.
    pub one: bool,
    pub accounts: Vec<AccountBackout>,
    /// (account, why): not read in full, so not touched.
    pub unreadable: Vec<(String, String)>,
    sessions: BTreeMap<String, Session>,
}

impl Backout {
    /// What the controls of `catalog` that watch cis-fix's own calls (the hardened catalog's
    /// H13) will make of this backout's removals ([`crate::audit::self_watch`]).
    pub fn watch_notes(&self, catalog: &crate::catalog::Catalog) -> Vec<String> {
        let removals: Vec<&crate::audit::backout::Removal> = self
            .accounts
            .iter()
            .flat_map(|a| &a.removal.removals)
            .collect();
        crate::audit::self_watch::removal_notes(&catalog.controls, &removals)
    }
}

/// Reads the accounts `reach` names (or this one) as backout needs them, and plans each
/// one's removals. One account whose reads were denied stops the run (it cannot tell what
/// cis-fix created); among many, such an account is left untouched and said.
pub async fn read(session: Session, reach: Option<&Reach>, ask: &Ask<'_>) -> Result<Backout> {
    let options = Options {
        notify: Vec::new(),
        topic: TopicChoice::Name(ask.topic_name.to_string()),
        topic_kms_key: None,
    };
    let Some(reach) = reach else {
        let snapshot = accounts::read_account(&session, &options, ReadMode::Backout, None).await?;
        if !snapshot.unreadable.is_empty() {
            return Err(Error::Unverifiable {
                permissions: super::observed::denied(&snapshot),
            });
        }
        let account = AccountBackout {
            account_id: snapshot.account_id.clone(),
            region: snapshot.region.clone(),
            removal: plan(&snapshot, ask),
        };
        let sessions = BTreeMap::from([(snapshot.account_id.clone(), session.clone())]);
        return Ok(Backout {
            session,
            caller: snapshot.account_id.clone(),
            reach: None,
            one: true,
            accounts: vec![account],
            unreadable: vec![],
            sessions,
        });
    };
    let reads = accounts::read_accounts(&session, reach, &options, ReadMode::Backout, None).await?;
    let mut backout = Backout {
        session,
        caller: reads.caller.account.clone(),
        reach: Some(reach.clone()),
        one: false,
        accounts: vec![],
        unreadable: vec![],
        sessions: reads.sessions,
    };
    for read in &reads.reads {
        match &read.snapshot {
            Ok(snapshot) if snapshot.unreadable.is_empty() => {
                backout.accounts.push(AccountBackout {
                    account_id: snapshot.account_id.clone(),
                    region: snapshot.region.clone(),
                    removal: plan(snapshot, ask),
                });
            }
            Ok(snapshot) => backout.unreadable.push((
                read.account_id.clone(),
                format!("AWS denied {}", super::observed::denied(snapshot)),
            )),
            Err(e) => backout
                .unreadable
                .push((read.account_id.clone(), e.to_string())),
        }
    }
    Ok(backout)
}

/// What to remove in one account, tagged by the benchmark's control ids.
fn plan(snapshot: &crate::inventory::Snapshot, ask: &Ask<'_>) -> RemovalPlan {
    let scope = Scope {
        slugs: ask.slugs,
        topic_name: ask.topic_name,
        force: ask.force,
    };
    by_id(backout::plan(snapshot, &scope), ask.catalog)
}

/// The removals tagged by control id (`[4.1]`), as plan and apply tag their actions. cis-fix
/// records the slug on what it creates (stable across benchmark versions); the id is the
/// selected benchmark's. A slug it does not have stays a slug.
fn by_id(mut plan: RemovalPlan, catalog: &Catalog) -> RemovalPlan {
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

/// What a backout did, account by account.
pub struct Removed {
    pub accounts: Vec<AccountRun<Vec<Removal>>>,
}

impl Backout {
    /// The accounts with something to remove.
    pub fn work(&self) -> impl Iterator<Item = &AccountBackout> {
        self.accounts
            .iter()
            .filter(|a| !a.removal.removals.is_empty())
    }

    /// The number of removals across the accounts.
    pub fn count(&self) -> usize {
        self.work().map(|a| a.removal.removals.len()).sum()
    }

    /// Removes each account's resources (see [`each_account`]), writing each call's record
    /// line to `out` as it completes.
    pub async fn execute(
        &self,
        ask: &Ask<'_>,
        records: Records<'_>,
        out: &mut dyn Write,
        step: &mut dyn FnMut(Step),
    ) -> Removed {
        let one = self.one;
        let items = self
            .work()
            .map(|a| {
                let session = self.sessions.get(&a.account_id);
                (a.account_id.as_str(), session, a)
            })
            .collect();
        let runs = each_account(
            items,
            async |session, account, part: &&AccountBackout| {
                let guard = Guard {
                    account,
                    topic_name: Some(ask.topic_name),
                    force: ask.force,
                };
                // One account's records are read from where its trails are; many, from
                // where each account's first removal is.
                let home = match one {
                    true => Some((account, part.region.as_str())),
                    false => part
                        .removal
                        .removals
                        .first()
                        .map(|r| (account, r.region.as_str())),
                };
                let shown = Records { home, ..records };
                apply::remove(session, &guard, &part.removal.removals, shown, &mut *out).await
            },
            step,
        )
        .await;
        Removed {
            accounts: runs
                .into_iter()
                .map(|r| AccountRun {
                    account: r.account,
                    of: r.of.removal.removals.clone(),
                    run: r.run,
                })
                .collect(),
        }
    }

    /// The selected controls' status now, per account: the accounts read again and audited
    /// as `cis-fix plan` does (a plan's reads: backout's own skip the topics' delivery). An
    /// account that cannot be read says why.
    pub async fn controls_after(&self, input: &Input) -> BTreeMap<String, ControlsAfter> {
        let ids = self.accounts.iter().map(|a| a.account_id.clone());
        let observed = Observed::read(
            input,
            self.reach.as_ref(),
            self.session_for_reading(),
            ReadMode::Plan,
        )
        .await;
        let observed = match observed {
            Ok(observed) => observed,
            Err(e) => {
                let why = format!("the account could not be read again: {e}");
                return ids.map(|id| (id, Err(why.clone()))).collect();
            }
        };
        match &observed {
            Observed::One(one) => ids
                .map(|id| (id, Ok(result::controls_now(&one.plan))))
                .collect(),
            Observed::Many(many) => ids
                .map(|id| {
                    let report = many.plan.accounts.iter().find(|a| a.account_id == id);
                    let controls = match report {
                        Some(a) if a.status == AccountStatus::Audited => {
                            Ok(a.controls.iter().map(result::control_now).collect())
                        }
                        Some(a) => Err(format!(
                            "the account could not be read again: {}",
                            a.error.as_deref().unwrap_or("unknown error")
                        )),
                        None => Err("the account is no longer among those reached".into()),
                    };
                    (id, controls)
                })
                .collect(),
        }
    }

    /// After Ctrl-C, the controls are not read again.
    pub fn not_read_again(&self) -> BTreeMap<String, ControlsAfter> {
        let why = "not read again: Ctrl-C stopped the backout".to_string();
        self.accounts
            .iter()
            .map(|a| (a.account_id.clone(), Err(why.clone())))
            .collect()
    }

    /// Accounts that could not be read end the run in an error (each was said with its
    /// reason).
    pub fn unread(&self) -> Result<()> {
        if self.unreadable.is_empty() {
            return Ok(());
        }
        Err(Error::OrgBackoutUnread {
            count: self.unreadable.len(),
            accounts: self
                .unreadable
                .iter()
                .map(|(account, _)| account.as_str())
                .collect::<Vec<_>>()
                .join(", "),
        })
    }

    /// One account's own session (it was read with it), or the caller's for many.
    fn session_for_reading(&self) -> Session {
        match (self.one, self.accounts.first()) {
            (true, Some(a)) => self
                .sessions
                .get(&a.account_id)
                .unwrap_or(&self.session)
                .clone(),
            _ => self.session.clone(),
        }
    }

    /// The result document (`--format json`) of a backout that ended as `removed` (`None`:
    /// nothing to remove), with the controls after it.
    pub fn document(
        &self,
        removed: Option<&Removed>,
        mut controls: BTreeMap<String, ControlsAfter>,
        benchmark: &str,
        show_endpoints: bool,
    ) -> String {
        let calls = removed.map(Removed::calls).unwrap_or_default();
        let interrupted = removed.is_some_and(Removed::interrupted);
        let mut controls_of = |id: &str| {
            controls
                .remove(id)
                .unwrap_or_else(|| Err("not read again".to_string()))
        };
        if self.one {
            let empty = RemovalPlan::default();
            let account = self.accounts.first();
            let id = account.map_or("", |a| a.account_id.as_str());
            let outcomes = calls.get(id).map_or(&[][..], |c| c.outcomes.as_slice());
            return result::backout_result(
                result::Backout {
                    account_id: id,
                    region: account.map_or("", |a| a.region.as_str()),
                    benchmark,
                    removal: account.map_or(&empty, |a| &a.removal),
                    outcomes,
                    interrupted,
                    controls: controls_of(id),
                },
                show_endpoints,
            )
            .to_json();
        }
        let accounts = self
            .accounts
            .iter()
            .map(|a| org_result::AccountBackout {
                account_id: &a.account_id,
                removal: &a.removal,
                calls: calls.get(&a.account_id),
                controls: controls_of(&a.account_id),
            })
            .collect();
        org_result::org_backout_result(
            org_result::OrgBackout {
                caller_account_id: &self.caller,
                region: &self.session.region,
                benchmark,
                interrupted,
                accounts,
                not_touched: &self.unreadable,
            },
            show_endpoints,
        )
        .to_json()
    }
}

impl Removed {
    /// How many resources were removed (not how many were listed: an account may fail
    /// part-way).
    pub fn done(&self) -> usize {
        self.accounts
            .iter()
            .filter_map(|a| a.run.as_ref().ok())
            .map(apply::Run::done)
            .sum()
    }

    /// Each account's outcomes and what stopped it.
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
