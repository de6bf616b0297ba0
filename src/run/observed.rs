//! The accounts of a run, read and audited: [`Observed::One`] for a single account (the plan
//! its view and JSON document show), [`Observed::Many`] for `--org` / `--accounts` (one audit
//! across them). Every question the commands ask of a run is a method with both arms here, so
//! that no command has a second flow for many accounts.

use super::accounts::{self, Reach, Reads};
use super::Input;
use crate::audit::org::{self, OrgPlan};
use crate::audit::{self, Action, Plan};
use crate::error::{Error, Result};
use crate::inventory::aws::ReadMode;
use crate::inventory::Snapshot;
use crate::session::Session;

/// One account read and audited.
pub struct One {
    pub session: Session,
    pub snapshot: Snapshot,
    pub plan: Plan,
}

/// Many accounts read (a session each) and audited together.
pub struct Many {
    /// The caller's own session (the run's calls are counted on it and its members').
    pub session: Session,
    pub reach: Reach,
    pub reads: Reads,
    pub plan: OrgPlan,
}

pub enum Observed {
    One(Box<One>),
    Many(Box<Many>),
}

/// The actions of one account, with the session that makes them.
pub struct Work<'a> {
    pub account: &'a str,
    pub session: Option<&'a Session>,
    pub actions: Vec<Action>,
}

impl Observed {
    /// Reads the accounts `reach` names (or this one, without it) as `input` needs them, and
    /// audits them. An option naming something missing or unusable stops the run here, before
    /// anything is shown or written.
    pub async fn read(
        input: &Input,
        reach: Option<&Reach>,
        session: Session,
        mode: ReadMode,
    ) -> Result<Observed> {
        let Some(reach) = reach else {
            let snapshot =
                accounts::read_account(&session, &input.options, mode, Some(&input.benchmark))
                    .await?;
            let plan = audit::audit(&input.catalog, &snapshot, &input.options);
            refuse_input_errors(&plan)?;
            return Ok(Observed::One(Box::new(One {
                session,
                snapshot,
                plan,
            })));
        };
        let reads = accounts::read_accounts(
            &session,
            reach,
            &input.options,
            mode,
            Some(&input.benchmark),
        )
        .await?;
        let plan = org::audit_org(
            &input.catalog,
            &reads.caller.account,
            &session.region,
            &reads.reads,
            &input.options,
        );
        refuse_org_input_errors(&plan)?;
        Ok(Observed::Many(Box::new(Many {
            session,
            reach: reach.clone(),
            reads,
            plan,
        })))
    }

    /// The caller's session: where the run's calls are counted (`--stats`).
    pub fn session(&self) -> &Session {
        match self {
            Observed::One(one) => &one.session,
            Observed::Many(many) => &many.session,
        }
    }

    pub fn is_compliant(&self) -> bool {
        match self {
            Observed::One(one) => one.plan.is_compliant(),
            Observed::Many(many) => many.plan.is_compliant(),
        }
    }

    /// Every planned action, in apply order, per account with its session. An account's
    /// actions are planned only when it was read in full.
    pub fn work(&self) -> Vec<Work<'_>> {
        match self {
            Observed::One(one) if one.plan.actions.is_empty() => vec![],
            Observed::One(one) => vec![Work {
                account: &one.plan.account_id,
                session: Some(&one.session),
                actions: one.plan.actions.clone(),
            }],
            Observed::Many(many) => org::actions_by_account(&many.plan)
                .into_iter()
                .filter_map(|(account, actions)| {
                    let (id, session) = many.reads.sessions.get_key_value(&account)?;
                    Some(Work {
                        account: id,
                        session: Some(session),
                        actions,
                    })
                })
                .chain(self.unreached())
                .collect(),
        }
    }

    /// Accounts with planned actions but no session (never, as actions are planned only for
    /// accounts read in full): said as a failure rather than dropped.
    fn unreached(&self) -> Vec<Work<'_>> {
        let Observed::Many(many) = self else {
            return vec![];
        };
        many.plan
            .actions
            .iter()
            .map(|a| a.account_id.as_str())
            .filter(|a| !many.reads.sessions.contains_key(*a))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .map(|account| Work {
                account,
                session: None,
                actions: vec![],
            })
            .collect()
    }

    /// A run that could not audit some controls (or accounts) ends in an error, after
    /// everything was shown.
    pub fn not_auditable(&self) -> Result<()> {
        match self {
            Observed::One(one) => not_auditable(&one.plan, &one.snapshot),
            Observed::Many(many) => org_not_auditable(&many.plan),
        }
    }

    /// Whether an apply may go ahead once the plan is shown: one account's plan with a
    /// control it could not audit, or a read that was denied, is not applied (what it would
    /// change cannot be verified); across accounts, those accounts have no actions and the
    /// others' apply (the run ends in an error after).
    pub fn refuse_apply(&self) -> Result<()> {
        match self {
            Observed::One(_) => {
                self.not_auditable()?;
                self.unverifiable()
            }
            Observed::Many(_) => Ok(()),
        }
    }

    /// No write on a snapshot some read of which was denied: the plan's actions were decided
    /// on full reads, but cis-fix cannot verify now what it would change.
    pub fn unverifiable(&self) -> Result<()> {
        match self {
            Observed::One(one) if !one.snapshot.unreadable.is_empty() => Err(Error::Unverifiable {
                permissions: denied(&one.snapshot),
            }),
            _ => Ok(()),
        }
    }
}

/// The permissions a snapshot was denied, for messages.
pub fn denied(snapshot: &Snapshot) -> String {
    snapshot
        .unreadable
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A plan that could not audit some controls ends in an error, after it was shown.
fn not_auditable(plan: &Plan, snapshot: &Snapshot) -> Result<()> {
    if plan.summary.not_auditable == 0 {
        return Ok(());
    }
    if snapshot.unreadable.is_empty() {
        if let Some(trail) = snapshot
            .trails
            .iter()
            .find(|t| t.is_organization_trail && t.owner() != Some(snapshot.account_id.as_str()))
        {
            return Err(Error::OrganizationTrailElsewhere {
                count: plan.summary.not_auditable,
                account: snapshot.account_id.clone(),
                trail: trail.name.clone(),
                owner: trail.owner().unwrap_or_default().to_string(),
            });
        }
    }
    Err(Error::NotAuditable {
        count: plan.summary.not_auditable,
        permissions: denied(snapshot),
    })
}

/// An organization plan that could not audit some accounts or controls ends in an error.
fn org_not_auditable(plan: &OrgPlan) -> Result<()> {
    let s = &plan.summary;
    if s.accounts_not_auditable == 0 && s.not_auditable == 0 {
        return Ok(());
    }
    Err(Error::OrgNotAuditable {
        accounts: s.accounts_not_auditable,
        controls: s.not_auditable,
    })
}

/// An option that names something missing or unusable stops the run before anything is shown
/// or written: one line naming the option and the value.
fn refuse_input_errors(plan: &Plan) -> Result<()> {
    if plan.input_errors.is_empty() {
        return Ok(());
    }
    Err(Error::InputErrors(
        plan.input_errors
            .iter()
            .map(|e| e.message.clone())
            .collect(),
    ))
}

/// The same across accounts: each error is said once, with the accounts it was found in.
fn refuse_org_input_errors(plan: &OrgPlan) -> Result<()> {
    let mut found: Vec<(&str, Vec<&str>)> = Vec::new();
    for (account, error) in &plan.input_errors {
        match found.iter_mut().find(|(m, _)| *m == error.message) {
            Some((_, accounts)) => accounts.push(account),
            None => found.push((&error.message, vec![account])),
        }
    }
    if found.is_empty() {
        return Ok(());
    }
    Err(Error::InputErrors(
        found
            .into_iter()
            .map(|(message, accounts)| {
                let shown: Vec<&str> = accounts.iter().take(5).copied().collect();
                let more = accounts.len() - shown.len();
                format!(
                    "{message} (account{} {}{})",
                    if accounts.len() == 1 { "" } else { "s" },
                    shown.join(", "),
                    if more > 0 {
                        format!(" and {more} more")
                    } else {
                        String::new()
                    }
                )
            })
            .collect(),
    ))
}
