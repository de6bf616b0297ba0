//! One audit across the accounts of an organization, pure: it takes the snapshot of every
//! account read (or why an account could not be read) and resolves cross-account links
//! itself.
//!
//! A member's control is compliant when a qualifying trail that logs the member's events has
//! the full chain, wherever the chain lives: the member's own trail, or the organization trail,
//! whose status and selectors only the management account can read and whose filter, alarm and
//! topic live in the account that owns its log group. A missing link on the organization
//! trail's chain is planned once, in that account, and the plan says how many accounts the
//! action serves; nothing is planned in a member the organization's chain serves.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::plan::{
    finding, Action, AfterApply, ControlReport, Plan, Status, TopicReuse, TrailReport,
};
use super::{audit, Options};
use crate::catalog::Catalog;
use crate::inventory::Snapshot;

/// Version of the organization plan's JSON (documented in the README). 2: as the plan's
/// (`put_metric_filter` names its namespace `namespace`).
pub const ORG_FORMAT_VERSION: u32 = 2;

/// What was read of one account.
#[derive(Debug, Clone)]
pub struct AccountRead {
    pub account_id: String,
    pub name: String,
    /// The snapshot, or why the account could not be read (the role ARN and the error).
    pub snapshot: Result<Snapshot, String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum AccountStatus {
    Audited,
    /// It could not be read (role not assumable, suspended, …): nothing is decided or planned.
    NotAuditable,
}

/// One account's part of an organization plan: as a single-account plan says it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AccountReport {
    pub account_id: String,
    pub name: String,
    pub status: AccountStatus,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// As in a single-account plan: the topic cis-fix did not create that this account's
    /// planned alarms would notify.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notifications: Option<TopicReuse>,
    pub trails: Vec<TrailReport>,
    pub controls: Vec<ControlReport>,
}

/// An action in one account, and how many accounts it makes compliant (more than one for a
/// fix to the organization trail's chain).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OrgAction {
    pub account_id: String,
    /// The accounts whose controls this action serves.
    pub fixes: Vec<String>,
    #[serde(flatten)]
    pub action: Action,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OrgSummary {
    pub accounts: usize,
    pub accounts_not_auditable: usize,
    pub compliant: usize,
    pub non_compliant: usize,
    pub blocked: usize,
    pub not_auditable: usize,
    pub to_create: usize,
    pub to_change: usize,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct OrgPlan {
    #[schemars(extend("const" = ORG_FORMAT_VERSION))]
    pub format_version: u32,
    /// The account the run was made from (the management account or a delegated admin).
    pub caller_account_id: String,
    pub region: String,
    pub benchmark: String,
    pub accounts: Vec<AccountReport>,
    /// In apply order within each account; accounts in the order of `accounts`.
    pub actions: Vec<OrgAction>,
    pub summary: OrgSummary,
}

impl OrgPlan {
    pub fn is_compliant(&self) -> bool {
        self.accounts.iter().all(|a| {
            a.status == AccountStatus::Audited
                && a.controls.iter().all(|c| c.status == Status::Compliant)
        })
    }
}

/// Audits every account read, resolving organization trails across them.
pub fn audit_org(
    catalog: &Catalog,
    caller: &str,
    region: &str,
    reads: &[AccountRead],
    options: &Options,
) -> OrgPlan {
    // Each account on its own first: its own trails and chains.
    let plans: Vec<(&AccountRead, Option<Plan>)> = reads
        .iter()
        .map(|read| {
            let plan = read
                .snapshot
                .as_ref()
                .ok()
                .map(|snapshot| audit(catalog, snapshot, options));
            (read, plan)
        })
        .collect();
    let plan_of = |account: &str| {
        plans
            .iter()
            .find(|(r, _)| r.account_id == account)
            .and_then(|(_, p)| p.as_ref())
    };

    let mut accounts = Vec::new();
    let mut actions: Vec<OrgAction> = Vec::new();
    for (read, plan) in &plans {
        let (Ok(snapshot), Some(plan)) = (&read.snapshot, plan) else {
            let error = read.snapshot.as_ref().err().cloned();
            accounts.push(AccountReport {
                account_id: read.account_id.clone(),
                name: read.name.clone(),
                status: AccountStatus::NotAuditable,
                error: error.clone(),
                notifications: None,
                trails: vec![],
                controls: catalog
                    .controls
                    .iter()
                    .map(|c| ControlReport {
                        id: c.id.clone(),
                        slug: c.slug.clone(),
                        title: c.title.clone(),
                        level: c.level,
                        status: Status::NotAuditable,
                        findings: vec![finding(
                            "not_auditable",
                            format!(
                                "account {} could not be read: {}",
                                read.account_id,
                                error.as_deref().unwrap_or("unknown error")
                            ),
                        )],
                        chain: None,
                        delivery_unproven: None,
                        after_apply: Some(AfterApply::NonCompliant),
                    })
                    .collect(),
            });
            continue;
        };
        let mut controls = plan.controls.clone();
        // A control deferred to the organization trail's owner takes the owner's verdict.
        let owner = snapshot
            .trails
            .iter()
            .find(|t| t.is_organization_trail && t.details_hidden)
            .and_then(|t| t.owner().map(str::to_string));
        if let Some(owner) = &owner {
            for control in controls
                .iter_mut()
                .filter(|c| c.status == Status::NotAuditable && snapshot.unreadable.is_empty())
            {
                resolve(control, owner, plan_of(owner), read.account_id.as_str());
            }
        }
        accounts.push(AccountReport {
            account_id: read.account_id.clone(),
            name: read.name.clone(),
            status: AccountStatus::Audited,
            error: None,
            notifications: plan.notifications.clone(),
            trails: plan.trails.clone(),
            controls,
        });
        for action in &plan.actions {
            actions.push(OrgAction {
                account_id: read.account_id.clone(),
                fixes: vec![read.account_id.clone()],
                action: action.clone(),
            });
        }
    }
    // Each fix to an organization trail's chain serves the members that rely on it too.
    for action in &mut actions {
        let Some(control) = action.action.control.clone() else {
            continue;
        };
        for report in &accounts {
            let relies = report.account_id != action.account_id
                && report.controls.iter().any(|c| {
                    c.id == control
                        && c.status != Status::Compliant
                        && c.findings.iter().any(|f| {
                            f.code == "organization_chain_incomplete"
                                && f.message.contains(&action.account_id)
                        })
                });
            if relies {
                action.fixes.push(report.account_id.clone());
            }
        }
    }
    // A topic or subscriber serves every account its account's alarms serve.
    let served: Vec<(String, Vec<String>)> = actions
        .iter()
        .filter(|a| a.action.control.is_some())
        .map(|a| (a.account_id.clone(), a.fixes.clone()))
        .collect();
    for action in actions.iter_mut().filter(|a| a.action.control.is_none()) {
        for (account, fixes) in &served {
            if *account == action.account_id {
                for fixed in fixes {
                    if !action.fixes.contains(fixed) {
                        action.fixes.push(fixed.clone());
                    }
                }
            }
        }
    }
    let summary = summarise(&accounts, &actions);
    OrgPlan {
        format_version: ORG_FORMAT_VERSION,
        caller_account_id: caller.to_string(),
        region: region.to_string(),
        benchmark: catalog.benchmark.clone(),
        accounts,
        actions,
        summary,
    }
}

/// A member's control that only the organization trail could satisfy: compliant when the
/// owner's chain for it is, otherwise not compliant with the owner's fix to come.
fn resolve(control: &mut ControlReport, owner: &str, owner_plan: Option<&Plan>, member: &str) {
    let Some(owner_control) =
        owner_plan.and_then(|p| p.controls.iter().find(|c| c.id == control.id))
    else {
        // The owner was not read: stays not auditable, as the single-account audit said.
        return;
    };
    match owner_control.status {
        Status::Compliant => {
            control.status = Status::Compliant;
            control.findings.clear();
            control.chain = owner_control.chain.clone().map(|mut chain| {
                chain.account_id = owner.to_string();
                chain
            });
            control.after_apply = None;
        }
        Status::NotAuditable => {}
        _ => {
            control.status = Status::NonCompliant;
            control.after_apply = owner_control.after_apply;
            control.findings = vec![finding(
                "organization_chain_incomplete",
                format!(
                    "account {member} relies on the organization trail of account {owner}, whose chain for this control is incomplete; it is fixed in account {owner}, once for every member"
                ),
            )];
        }
    }
}

fn summarise(accounts: &[AccountReport], actions: &[OrgAction]) -> OrgSummary {
    let mut s = OrgSummary {
        accounts: accounts.len(),
        ..Default::default()
    };
    for a in accounts {
        if a.status == AccountStatus::NotAuditable {
            s.accounts_not_auditable += 1;
        }
        for c in &a.controls {
            match c.status {
                Status::Compliant => s.compliant += 1,
                Status::NonCompliant => s.non_compliant += 1,
                Status::Blocked => s.blocked += 1,
                Status::NotAuditable => s.not_auditable += 1,
            }
        }
    }
    for a in actions {
        match a.action.mode {
            super::Mode::Create => s.to_create += 1,
            super::Mode::Change => s.to_change += 1,
        }
    }
    s
}

/// The plan's actions grouped by account, in plan order, for applying with each account's
/// own session.
pub fn actions_by_account(plan: &OrgPlan) -> Vec<(String, Vec<Action>)> {
    let mut groups: Vec<(String, Vec<Action>)> = Vec::new();
    for a in &plan.actions {
        match groups
            .iter_mut()
            .find(|(account, _)| *account == a.account_id)
        {
            Some((_, actions)) => actions.push(a.action.clone()),
            None => groups.push((a.account_id.clone(), vec![a.action.clone()])),
        }
    }
    groups
}
