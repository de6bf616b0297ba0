//! One audit across the accounts of an organization, pure: it takes the snapshot of every
//! account read (or why an account could not be read) and resolves cross-account links
//! itself.
//!
//! A member's control is compliant when a qualifying trail that logs the member's events has
//! the full chain, wherever the chain lives: the member's own trail, or the organization trail,
//! whose status and selectors only the management account can read and whose filter, alarm and
//! topic live in the account that owns its log group. A missing link on the organization
//! trail's chain is planned once, in that account, and the plan says how many accounts the
//! action serves; nothing is planned in a member the organization's chain serves. When the
//! owner's own plan for such a control is on another of its log groups, the organization
//! chain's links replace it (that trail logs the owner's events too), so one apply does.

use std::collections::{BTreeMap, BTreeSet};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use super::plan::{
    finding, Action, AfterApply, Call, Chain, Code, ControlReport, InputError, Plan, Status,
    TopicReuse, TrailReport,
};
use super::{audit, elsewhere, Options};
use crate::catalog::Catalog;
use crate::inventory::{LogGroupRef, Snapshot, Trail};

/// Version of the organization plan's JSON (documented in docs/json.md). 2: as the plan's
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
    /// What the run should know beyond the findings: a selected control that watches the
    /// calls this apply makes ([`super::self_watch`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    /// Each readable account's input errors (an option naming something missing or unusable
    /// there), with the account: the commands refuse such a plan before showing or applying
    /// it, so it is never written out.
    #[serde(skip)]
    pub input_errors: Vec<(String, InputError)>,
}

impl OrgPlan {
    pub fn is_compliant(&self) -> bool {
        self.accounts.iter().all(|a| {
            a.status == AccountStatus::Audited
                && a.controls.iter().all(|c| c.status == Status::Compliant)
        })
    }
}

/// An organization trail as its owner sees it, judged on its own: the owner's snapshot with
/// only that trail, so that its verdicts and planned links are the organization chain's,
/// never those of another trail of the owner that logs only the owner's events.
struct OrgView {
    owner: String,
    trail_arn: String,
    /// Where the trail's chain lives (the owner's account: CloudTrail delivers only to a log
    /// group of the trail's own account).
    log_group: Option<LogGroupRef>,
    /// Why the trail cannot anchor a chain, as the owner reads it; `None` when it can.
    unusable: Option<String>,
    plan: Plan,
}

impl OrgView {
    fn new(catalog: &Catalog, owner: &Snapshot, trail: &Trail, options: &Options) -> OrgView {
        let mut alone = owner.clone();
        alone.trails.retain(|t| t.arn == trail.arn);
        let plan = audit(catalog, &alone, options);
        let unusable = match plan.trails.iter().find(|t| t.arn == trail.arn) {
            None => Some(format!(
                "is not among the trails account {} lists",
                owner.account_id
            )),
            Some(report) if !report.qualifies => Some(report.problems.join("; ")),
            Some(_) => None,
        };
        OrgView {
            owner: owner.account_id.clone(),
            trail_arn: trail.arn.clone(),
            log_group: trail
                .log_group_arn
                .as_deref()
                .and_then(LogGroupRef::from_arn),
            unusable,
            plan,
        }
    }

    fn is_on(&self, region: &str, log_group: &str) -> bool {
        self.log_group
            .as_ref()
            .is_some_and(|lg| lg.region == region && lg.name == log_group)
    }
}

/// What a member's deferred control comes to, once its organization trail's owner was read.
enum Decision {
    /// The owner was not read, or could not read what decides it: stays not auditable.
    Undecided,
    /// The organization trail's chain is whole.
    Compliant(Option<Chain>),
    /// The organization trail's chain is planned in its owner's account.
    Relies(Option<AfterApply>),
    /// The organization trail does not serve it (the reason reads as the end of
    /// "organization trail X of account M …"): the member's own trails decide. `stuck` is the
    /// organization chain's verdict when the trail qualifies but this plan cannot complete its
    /// chain there: a member whose own trails cannot be made compliant either still relies on
    /// it, and is told so, rather than told about its own trails alone.
    Local { why: String, stuck: Option<Status> },
}

/// The log group an action of `account` writes to or watches: a filter's own, an alarm's
/// through the filter of its metric (planned beside it, or existing).
fn log_group_of(action: &Action, planned: &[Action], snapshot: &Snapshot) -> Option<String> {
    match &action.call {
        Call::PutMetricFilter(filter) => Some(filter.log_group_name.clone()),
        Call::PutMetricAlarm(alarm) => planned
            .iter()
            .filter(|a| a.region == action.region)
            .find_map(|a| match &a.call {
                Call::PutMetricFilter(f)
                    if f.metric_name == alarm.metric_name
                        && f.metric_namespace == alarm.namespace =>
                {
                    Some(f.log_group_name.clone())
                }
                _ => None,
            })
            .or_else(|| {
                snapshot
                    .region(&action.region)?
                    .metric_filters
                    .iter()
                    .find(|f| {
                        f.metric_name == alarm.metric_name && f.metric_namespace == alarm.namespace
                    })
                    .map(|f| f.log_group.clone())
            }),
        _ => None,
    }
}

/// Whether `actions` (of the view's owner) plan `control`'s links on the organization trail's
/// log group.
fn planned_on(view: &OrgView, control: &str, actions: &[Action], owner: &Snapshot) -> bool {
    actions
        .iter()
        .filter(|a| a.control.as_deref() == Some(control))
        .any(|a| log_group_of(a, actions, owner).is_some_and(|group| view.is_on(&a.region, &group)))
}

/// A member's control deferred to the organization trail: compliant only through that trail's
/// own chain; relying on it when its missing links are planned on it; otherwise the member's
/// own trails decide.
fn decide(
    view: Option<&OrgView>,
    owner: Option<(&Snapshot, &Plan)>,
    extra: &[Action],
    control: &str,
) -> Decision {
    let (Some(view), Some((owner_snapshot, owner_plan))) = (view, owner) else {
        return Decision::Undecided;
    };
    if let Some(why) = &view.unusable {
        return Decision::Local {
            why: why.clone(),
            stuck: None,
        };
    }
    let Some(on_trail) = view.plan.controls.iter().find(|c| c.id == control) else {
        return Decision::Undecided;
    };
    match on_trail.status {
        Status::NotAuditable => return Decision::Undecided,
        Status::Compliant => return Decision::Compliant(on_trail.chain.clone()),
        Status::NonCompliant | Status::Blocked => {}
    }
    let owners = owner_plan.controls.iter().find(|c| c.id == control);
    if planned_on(view, control, &owner_plan.actions, owner_snapshot) {
        return Decision::Relies(owners.and_then(|c| c.after_apply));
    }
    if planned_on(view, control, extra, owner_snapshot) {
        return Decision::Relies(on_trail.after_apply);
    }
    if owner_plan
        .actions
        .iter()
        .any(|a| a.control.as_deref() == Some(control))
    {
        return Decision::Local {
            why: format!(
                "has an incomplete chain for it, and the plan completes account {}'s chain on another log group, which the organization trail does not write to",
                view.owner
            ),
            stuck: Some(on_trail.status),
        };
    }
    let why = on_trail
        .findings
        .iter()
        .map(|f| f.message.as_str())
        .collect::<Vec<_>>()
        .join("; ");
    Decision::Local {
        why: format!("has an incomplete chain for it that cis-fix cannot complete: {why}"),
        stuck: Some(on_trail.status),
    }
}

/// The organization trail's own planned links for `control`, when its owner's plan does not
/// plan them on that trail's log group (the owner is compliant through another trail of its
/// own, which logs only its own events, or its plan completes such a trail's chain), and the
/// organization chain's plan would complete it; with the topic and subscriber they need.
fn extra_for(view: &OrgView, owner: (&Snapshot, &Plan), control: &str) -> Vec<Action> {
    let (owner_snapshot, owner_plan) = owner;
    let Some(on_trail) = view.plan.controls.iter().find(|c| c.id == control) else {
        return vec![];
    };
    let completes = matches!(
        on_trail.after_apply,
        Some(AfterApply::Compliant | AfterApply::AwaitsConfirmation)
    );
    let owner_plans_it = planned_on(view, control, &owner_plan.actions, owner_snapshot);
    if !completes || owner_plans_it || !matches!(on_trail.status, Status::NonCompliant) {
        return vec![];
    }
    let own: Vec<&Action> = view
        .plan
        .actions
        .iter()
        .filter(|a| a.control.as_deref() == Some(control))
        .collect();
    let notified: Vec<&String> = own
        .iter()
        .filter_map(|a| match &a.call {
            Call::PutMetricAlarm(alarm) => Some(&alarm.alarm_actions),
            _ => None,
        })
        .flatten()
        .collect();
    view.plan
        .actions
        .iter()
        .filter(|a| match (&a.control, &a.call) {
            (Some(c), _) => c == control,
            (None, Call::CreateTopic { topic_arn, .. } | Call::Subscribe { topic_arn, .. }) => {
                notified.contains(&topic_arn)
            }
            (None, _) => false,
        })
        .cloned()
        .collect()
}

/// The member's own audit, with the organization trail known not to serve: its controls and
/// actions as for an account without an organization trail. The trail stays listed (without
/// its log group, which only its owner could use), so that it is not "no trail at all".
fn local_plan(catalog: &Catalog, snapshot: &Snapshot, trail_arn: &str, options: &Options) -> Plan {
    let mut alone = snapshot.clone();
    for t in alone.trails.iter_mut().filter(|t| t.arn == trail_arn) {
        t.log_group_arn = None;
    }
    audit(catalog, &alone, options)
}

/// Audits every account read, resolving organization trails across them: each account alone,
/// then each member's deferred controls decided, each account's report and actions merged
/// from those decisions, and last which accounts each action fixes.
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
    let org = Org::new(catalog, options, &plans);
    let decided = org.decide();
    let (accounts, mut actions) = org.merge(&decided);
    org.fan_out_fixes(&decided.decisions, &mut actions);
    fan_out_shared(&mut actions);
    let summary = summarise(&accounts, &actions);
    let input_errors = input_errors(&plans, &actions);
    let calls: Vec<Action> = actions.iter().map(|a| a.action.clone()).collect();
    let notes = super::self_watch::notes(&catalog.controls, &calls);
    OrgPlan {
        format_version: ORG_FORMAT_VERSION,
        caller_account_id: caller.to_string(),
        region: region.to_string(),
        benchmark: catalog.benchmark.clone(),
        accounts,
        actions,
        summary,
        notes,
        input_errors,
    }
}

/// The accounts of one organization audit, each with its own plan, and each organization
/// trail judged once, in its owner's account, never per member.
struct Org<'r> {
    catalog: &'r Catalog,
    options: &'r Options,
    /// Every account read, with its own plan when it could be read.
    plans: &'r [(&'r AccountRead, Option<Plan>)],
    /// The accounts read, by id.
    readable: BTreeMap<&'r str, (&'r Snapshot, &'r Plan)>,
    views: Vec<OrgView>,
}

impl<'r> Org<'r> {
    fn new(
        catalog: &'r Catalog,
        options: &'r Options,
        plans: &'r [(&'r AccountRead, Option<Plan>)],
    ) -> Org<'r> {
        let readable: BTreeMap<&str, (&Snapshot, &Plan)> = plans
            .iter()
            .filter_map(|(r, p)| match (&r.snapshot, p) {
                (Ok(s), Some(p)) => Some((r.account_id.as_str(), (s, p))),
                _ => None,
            })
            .collect();
        let mut views: Vec<OrgView> = Vec::new();
        for (read, _) in plans {
            let Some(trail) = read
                .snapshot
                .as_ref()
                .ok()
                .and_then(elsewhere::organization_trail)
            else {
                continue;
            };
            let Some((owner, _)) = trail.owner().and_then(|o| readable.get(o)) else {
                continue;
            };
            if !views.iter().any(|v| v.trail_arn == trail.arn) {
                views.push(OrgView::new(catalog, owner, trail, options));
            }
        }
        Org {
            catalog,
            options,
            plans,
            readable,
            views,
        }
    }

    fn owner_of(&self, account: &str) -> Option<(&'r Snapshot, &'r Plan)> {
        self.readable.get(account).copied()
    }

    fn view_of(&self, trail: &Trail) -> Option<&OrgView> {
        self.views.iter().find(|v| v.trail_arn == trail.arn)
    }

    /// Every member's deferred controls decided; the organization chain's own links planned in
    /// its owner's account when the owner's plan has none for a control members rely on.
    fn decide(&self) -> Decided {
        let mut decided = Decided::default();
        for (read, plan) in self.plans {
            let (Ok(snapshot), Some(plan)) = (&read.snapshot, plan) else {
                continue;
            };
            let Some(trail) = elsewhere::organization_trail(snapshot) else {
                continue;
            };
            let view = self.view_of(trail);
            let owner = trail.owner().and_then(|o| self.owner_of(o));
            for control in plan.controls.iter().filter(|c| deferred(c)) {
                if let (Some(view), Some(owner)) = (view, owner) {
                    decided.plan_extra(view, owner, &control.id);
                }
                let owner_extra = trail
                    .owner()
                    .and_then(|o| decided.extra.get(o))
                    .map(Vec::as_slice)
                    .unwrap_or_default();
                let decision = decide(view, owner, owner_extra, &control.id);
                let key = (read.account_id.clone(), control.id.clone());
                decided.decisions.insert(key, decision);
            }
        }
        decided
    }

    /// Every account's report and actions: a member's deferred controls as decided, an
    /// owner's actions with the organization chain's links in place of its own.
    fn merge(&self, decided: &Decided) -> (Vec<AccountReport>, Vec<OrgAction>) {
        let mut accounts = Vec::new();
        let mut actions = Vec::new();
        for (read, plan) in self.plans {
            let (Ok(snapshot), Some(plan)) = (&read.snapshot, plan) else {
                accounts.push(unreadable(self.catalog, read));
                continue;
            };
            let (report, own) = self.merge_account(read, snapshot, plan, decided);
            accounts.push(report);
            actions.extend(own);
        }
        (accounts, actions)
    }

    fn merge_account(
        &self,
        read: &AccountRead,
        snapshot: &Snapshot,
        plan: &Plan,
        decided: &Decided,
    ) -> (AccountReport, Vec<OrgAction>) {
        let account = read.account_id.as_str();
        let mut controls = plan.controls.clone();
        let mut own_actions = plan.actions.clone();
        let mut notifications = plan.notifications.clone();
        if let Some(mut member) = self.member(account, snapshot) {
            for control in controls.iter_mut().filter(|c| deferred(c)) {
                let key = (account.to_string(), control.id.clone());
                if let Some(decision) = decided.decisions.get(&key) {
                    member.rewrite(control, decision);
                }
            }
            if let Some((planned, local_notifications)) = member.local_actions() {
                own_actions.extend(planned);
                notifications = local_notifications;
            }
        }
        decided.give_way(account, &mut controls, &mut own_actions);
        let actions = org_actions(account, own_actions, &controls);
        let report = AccountReport {
            account_id: account.to_string(),
            name: read.name.clone(),
            status: AccountStatus::Audited,
            error: None,
            notifications,
            trails: plan.trails.clone(),
            controls,
        };
        (report, actions)
    }

    /// The account as a member of another account's organization trail, if it is one.
    fn member<'m>(&'m self, account: &'m str, snapshot: &'m Snapshot) -> Option<Member<'m>> {
        let trail = elsewhere::organization_trail(snapshot)?;
        let owner = trail.owner().unwrap_or_default();
        Some(Member {
            catalog: self.catalog,
            options: self.options,
            account,
            snapshot,
            trail,
            owner,
            owner_read: self.owner_of(owner).is_some(),
            view: self.view_of(trail),
            local_plan: None,
            local: Vec::new(),
        })
    }

    /// A fix to an organization trail's chain serves the members that rely on that chain: only
    /// an action on that trail's own log group, never one on another trail of its owner.
    fn fan_out_fixes(
        &self,
        decisions: &BTreeMap<(String, String), Decision>,
        actions: &mut [OrgAction],
    ) {
        let relying = self.relying(decisions);
        let planned_by: BTreeMap<String, Vec<Action>> =
            actions_by_account_of(actions).into_iter().collect();
        for action in actions.iter_mut() {
            let Some(control) = action.action.control.as_deref() else {
                continue;
            };
            let Some(members) = relying.get(&(action.account_id.as_str(), control)) else {
                continue;
            };
            let (Some((owner_snapshot, _)), Some(planned)) = (
                self.owner_of(&action.account_id),
                planned_by.get(&action.account_id),
            ) else {
                continue;
            };
            let Some(group) = log_group_of(&action.action, planned, owner_snapshot) else {
                continue;
            };
            for (member, view) in members {
                if view.is_on(&action.action.region, &group)
                    && !action.fixes.iter().any(|f| f == member)
                {
                    action.fixes.push(member.to_string());
                }
            }
        }
    }

    /// Per (owner, control): the members relying on an organization chain of that owner for
    /// the control, with the view of their organization trail.
    fn relying<'d>(
        &'d self,
        decisions: &'d BTreeMap<(String, String), Decision>,
    ) -> BTreeMap<(&'d str, &'d str), Vec<(&'d str, &'d OrgView)>> {
        let mut relying: BTreeMap<(&str, &str), Vec<(&str, &OrgView)>> = BTreeMap::new();
        for ((member, control), decision) in decisions {
            let view = self
                .readable
                .get(member.as_str())
                .and_then(|(s, _)| elsewhere::organization_trail(s))
                .and_then(|trail| self.view_of(trail));
            if let (Decision::Relies(_), Some(view)) = (decision, view) {
                relying
                    .entry((view.owner.as_str(), control.as_str()))
                    .or_default()
                    .push((member.as_str(), view));
            }
        }
        relying
    }
}

/// What the members' deferred controls come to, and what the organization chains need
/// planned in their owners' accounts for it. Keyed maps: a thousand members must not make
/// this quadratic.
#[derive(Default)]
struct Decided {
    /// Per (member, control).
    decisions: BTreeMap<(String, String), Decision>,
    /// Per owner: the organization chain's own links, for controls its own plan has none on
    /// the organization trail's log group.
    extra: BTreeMap<String, Vec<Action>>,
    /// (trail, control) whose links were looked for: once, whatever the number of members.
    extra_done: BTreeSet<(String, String)>,
    /// (owner, control) whose own planned links, on another of its log groups, give way to
    /// the organization chain's (that trail logs the owner's events too, so it serves the
    /// owner as well, and both plans would put an alarm of the same name); with what the
    /// owner's control will be after the apply.
    replaced: BTreeMap<(String, String), Option<AfterApply>>,
}

impl Decided {
    /// Plans the organization chain's own links for `control` in its owner's account, once
    /// per trail and control ([`extra_for`]); when they replace the owner's own links for the
    /// control, says so.
    fn plan_extra(&mut self, view: &OrgView, owner: (&Snapshot, &Plan), control: &str) {
        if !self
            .extra_done
            .insert((view.trail_arn.clone(), control.to_string()))
        {
            return;
        }
        let (_, owner_plan) = owner;
        let added = extra_for(view, owner, control);
        let replaces = !added.is_empty()
            && owner_plan
                .actions
                .iter()
                .any(|a| a.control.as_deref() == Some(control));
        if replaces {
            let after_apply = view
                .plan
                .controls
                .iter()
                .find(|c| c.id == control)
                .and_then(|c| c.after_apply);
            self.replaced
                .insert((view.owner.clone(), control.to_string()), after_apply);
        }
        let planned = self.extra.entry(view.owner.clone()).or_default();
        for action in added {
            // The owner's links for a replaced control are dropped: never "known".
            let known = owner_plan
                .actions
                .iter()
                .filter(|a| !replaces || a.control.as_deref() != Some(control))
                .chain(planned.iter())
                .any(|a| a.call == action.call);
            if !known {
                planned.push(action);
            }
        }
    }

    /// The organization chain's links planned in `account` for the members that rely on it,
    /// in place of this account's own links for the same control on another log group.
    fn give_way(&self, account: &str, controls: &mut [ControlReport], actions: &mut Vec<Action>) {
        let replaced = |c: &str| self.replaced.get(&(account.to_string(), c.to_string()));
        actions.retain(|a| a.control.as_deref().is_none_or(|c| replaced(c).is_none()));
        for control in controls.iter_mut() {
            if let Some(after_apply) = replaced(&control.id) {
                if control.status != Status::Compliant {
                    control.after_apply = *after_apply;
                }
            }
        }
        actions.extend(self.extra.get(account).into_iter().flatten().cloned());
    }
}

/// A member of another account's organization trail, whose deferred controls are rewritten
/// as decided.
struct Member<'m> {
    catalog: &'m Catalog,
    options: &'m Options,
    account: &'m str,
    snapshot: &'m Snapshot,
    trail: &'m Trail,
    /// The account that owns the trail.
    owner: &'m str,
    /// Whether the owner was read in this run.
    owner_read: bool,
    /// The trail as its owner sees it, when the owner was read.
    view: Option<&'m OrgView>,
    /// The member's own plan with the organization trail known not to serve, made when a
    /// control is first left to it.
    local_plan: Option<Plan>,
    /// The controls the member's own trails decide.
    local: Vec<String>,
}

impl Member<'_> {
    fn rewrite(&mut self, control: &mut ControlReport, decision: &Decision) {
        let (account, owner) = (self.account, self.owner);
        match decision {
            Decision::Undecided => {
                // The owner was read in this very run, so "run `plan --org`" would be no
                // advice: what it could not read is among its own findings.
                if self.owner_read {
                    control.findings = vec![finding(
                        Code::NotAuditable,
                        format!(
                            "account {account} depends on organization trail `{}` of account {owner}, whose chain for this control could not be audited there (see account {owner}'s findings)",
                            self.trail.name
                        ),
                    )];
                }
            }
            Decision::Compliant(chain) => {
                control.status = Status::Compliant;
                control.findings.clear();
                control.chain = chain.clone();
                control.after_apply = None;
            }
            Decision::Relies(after_apply) => {
                control.status = Status::NonCompliant;
                control.after_apply = *after_apply;
                control.delivery_unproven = self.unproven(&control.id);
                control.findings = vec![finding(
                    Code::OrganizationChainIncomplete,
                    format!(
                        "account {account} relies on the organization trail of account {owner}, whose chain for this control is incomplete; it is fixed in account {owner}, once for every member"
                    ),
                )];
            }
            Decision::Local { why, stuck } => self.local(control, why, *stuck),
        }
    }

    /// The organization chain whose only gap is proof of delivery: `cis-fix drill` proves it
    /// once, in the owner's account, for every member relying on it.
    fn unproven(&self, control: &str) -> Option<Chain> {
        self.view?
            .plan
            .controls
            .iter()
            .find(|c| c.id == control)
            .and_then(|c| c.delivery_unproven.clone())
    }

    /// A control the organization trail does not serve: the member's own trails decide it,
    /// unless they cannot make it compliant either and the organization chain is `stuck`.
    fn local(&mut self, control: &mut ControlReport, why: &str, stuck: Option<Status>) {
        let (account, owner, trail) = (self.account, self.owner, self.trail);
        let (catalog, snapshot, options) = (self.catalog, self.snapshot, self.options);
        let own = self
            .local_plan
            .get_or_insert_with(|| local_plan(catalog, snapshot, &trail.arn, options));
        let Some(mine) = own.controls.iter().find(|c| c.id == control.id).cloned() else {
            return;
        };
        let completes = mine.status == Status::Compliant
            || matches!(
                mine.after_apply,
                Some(AfterApply::Compliant | AfterApply::AwaitsConfirmation)
            );
        if let (Some(status), false) = (stuck, completes) {
            // Its own trails cannot help: the organization chain is still the way, and what
            // blocks it is in the owner's account.
            control.status = status;
            control.after_apply = Some(AfterApply::NonCompliant);
            control.delivery_unproven = self.unproven(&control.id);
            control.findings = vec![finding(
                Code::OrganizationChainIncomplete,
                format!(
                    "account {account} relies on the organization trail `{}` of account {owner}, which {why}; fix it in account {owner}",
                    trail.name
                ),
            )];
            return;
        }
        *control = mine;
        // The organization trail is said once, with why it does not serve.
        let about = format!("trail `{}` ", trail.name);
        control
            .findings
            .retain(|f| !(f.code == Code::TrailNotQualifying && f.message.starts_with(&about)));
        control.findings.insert(
            0,
            finding(
                Code::OrganizationTrailDoesNotServe,
                format!(
                    "organization trail `{}` of account {owner} {why}: it cannot serve this control, so this account's own trails decide it",
                    trail.name
                ),
            ),
        );
        self.local.push(control.id.clone());
    }

    /// What the member's own trails need for the controls they decide, with the topic and
    /// subscriber those need, and what their plan says of notifications; `None` when they need
    /// nothing.
    fn local_actions(&self) -> Option<(Vec<Action>, Option<TopicReuse>)> {
        let own = self.local_plan.as_ref()?;
        let planned: Vec<Action> = own
            .actions
            .iter()
            .filter(|a| a.control.as_ref().is_some_and(|c| self.local.contains(c)))
            .cloned()
            .collect();
        if planned.is_empty() {
            return None;
        }
        let shared = own.actions.iter().filter(|a| a.control.is_none()).cloned();
        Some((
            planned.into_iter().chain(shared).collect(),
            own.notifications.clone(),
        ))
    }
}

/// An account's actions as the organization plan lists them: each call once, in apply order,
/// fixing the account itself when its control is not compliant (the members an action also
/// fixes are added later).
fn org_actions(
    account: &str,
    mut actions: Vec<Action>,
    controls: &[ControlReport],
) -> Vec<OrgAction> {
    let mut seen: Vec<Call> = Vec::new();
    actions.retain(|a| {
        let fresh = !seen.contains(&a.call);
        seen.push(a.call.clone());
        fresh
    });
    // Stable: within a kind, actions keep their order; an alarm never precedes its topic.
    actions.sort_by_key(|a| a.call.rank());
    actions
        .into_iter()
        .map(|action| {
            // An action serves its own account when that account's control is not compliant.
            let serves_self = action.control.as_ref().is_none_or(|c| {
                controls
                    .iter()
                    .any(|r| &r.id == c && r.status != Status::Compliant)
            });
            OrgAction {
                account_id: account.to_string(),
                fixes: if serves_self {
                    vec![account.to_string()]
                } else {
                    vec![]
                },
                action,
            }
        })
        .collect()
}

/// A topic or subscriber serves every account its account's alarms serve.
fn fan_out_shared(actions: &mut [OrgAction]) {
    let mut served: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for a in actions.iter().filter(|a| a.action.control.is_some()) {
        served
            .entry(a.account_id.clone())
            .or_default()
            .extend(a.fixes.iter().cloned());
    }
    for action in actions.iter_mut().filter(|a| a.action.control.is_none()) {
        let Some(fixes) = served.get(&action.account_id) else {
            continue;
        };
        let mut known: BTreeSet<String> = action.fixes.iter().cloned().collect();
        for fixed in fixes {
            if known.insert(fixed.clone()) {
                action.fixes.push(fixed.clone());
            }
        }
    }
}

/// Each readable account's input errors, with the account. `--notify` is honoured across the
/// run when any account subscribes the endpoints (the organization chain's, or a member's
/// own): an account whose controls are all compliant on a topic cis-fix did not create then
/// simply needs none. Refused only when no account would subscribe them.
fn input_errors(
    plans: &[(&AccountRead, Option<Plan>)],
    actions: &[OrgAction],
) -> Vec<(String, InputError)> {
    let subscribes = actions
        .iter()
        .any(|a| matches!(a.action.call, Call::Subscribe { .. }));
    plans
        .iter()
        .filter_map(|(read, plan)| Some((read, plan.as_ref()?)))
        .flat_map(|(read, plan)| {
            plan.input_errors
                .iter()
                .filter(|e| e.option != "--notify" || !subscribes)
                .map(|e| (read.account_id.clone(), e.clone()))
        })
        .collect()
}

/// A control the member's own audit left to the organization trail's owner.
fn deferred(control: &ControlReport) -> bool {
    control.status == Status::NotAuditable
        && control
            .findings
            .first()
            .is_some_and(|f| f.code == Code::OrganizationTrailElsewhere)
}

/// An account that could not be read: every control not auditable, with why.
fn unreadable(catalog: &Catalog, read: &AccountRead) -> AccountReport {
    let error = read.snapshot.as_ref().err().cloned();
    AccountReport {
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
                    Code::NotAuditable,
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
    }
}

fn actions_by_account_of(actions: &[OrgAction]) -> Vec<(String, Vec<Action>)> {
    let mut groups: Vec<(String, Vec<Action>)> = Vec::new();
    for a in actions {
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
    actions_by_account_of(&plan.actions)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::audit::tests::{alarm, catalog, filter, subscription, REGION};
    use crate::audit::{AlarmCall, FilterCall};
    use crate::inventory::{RegionSnapshot, Topic, TopicDelivery};

    pub(crate) const MANAGEMENT: &str = "999988887777";
    const MEMBER: &str = "111111111111";
    pub(crate) const ORG_GROUP: &str = "aws-controltower/CloudTrailLogs";
    const LOCAL_GROUP: &str = "local-logs";
    pub(crate) const FAILURES: &str =
        r#"{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }"#;

    pub(crate) fn org_trail(hidden: bool, logging: bool, log_group: bool) -> Trail {
        Trail {
            name: "org".into(),
            arn: format!("arn:aws:cloudtrail:{REGION}:{MANAGEMENT}:trail/org"),
            home_region: REGION.into(),
            is_multi_region: true,
            is_logging: logging && !hidden,
            log_group_arn: log_group
                .then(|| format!("arn:aws:logs:{REGION}:{MANAGEMENT}:log-group:{ORG_GROUP}:*")),
            is_organization_trail: true,
            details_hidden: hidden,
            ..Default::default()
        }
    }

    /// A qualifying trail of `account`'s own, named `name`, writing to `group`.
    pub(crate) fn own_trail(account: &str, name: &str, group: &str) -> Trail {
        Trail {
            name: name.into(),
            arn: format!("arn:aws:cloudtrail:{REGION}:{account}:trail/{name}"),
            home_region: REGION.into(),
            is_multi_region: true,
            is_logging: true,
            log_group_arn: Some(format!(
                "arn:aws:logs:{REGION}:{account}:log-group:{group}:*"
            )),
            ..Default::default()
        }
    }

    pub(crate) fn snapshot(account: &str, trails: Vec<Trail>) -> Snapshot {
        let mut s = Snapshot {
            account_id: account.into(),
            region: REGION.into(),
            trails,
            ..Default::default()
        };
        s.regions.insert(REGION.into(), RegionSnapshot::default());
        s
    }

    /// 4.6 whole on `group`: filter → alarm → topic with a confirmed subscription.
    pub(crate) fn chain_46(s: &mut Snapshot, group: &str) {
        let topic = format!("arn:aws:sns:{REGION}:{}:ops", s.account_id);
        let queue = format!("arn:aws:sqs:{REGION}:{}:alerts", s.account_id);
        let Some(r) = s.regions.get_mut(REGION) else {
            panic!("no region")
        };
        r.metric_filters
            .push(filter(group, "failures", FAILURES, "Failures"));
        r.alarms.push(alarm("failures", "Failures", Some(&topic)));
        r.subscriptions
            .push(subscription(&topic, "sqs", &queue, true));
        r.topics.push(Topic {
            arn: topic,
            exists: true,
            delivery: Some(TopicDelivery::default()),
            ..Default::default()
        });
    }

    pub(crate) fn notify() -> Options {
        Options {
            notify: vec!["email:security@example.com".parse().unwrap()],
            ..Options::default()
        }
    }

    fn org(management: Snapshot, members: Vec<Snapshot>, ids: &[&str]) -> OrgPlan {
        let mut reads = vec![AccountRead {
            account_id: MANAGEMENT.into(),
            name: "management".into(),
            snapshot: Ok(management),
        }];
        reads.extend(members.into_iter().map(|s| AccountRead {
            account_id: s.account_id.clone(),
            name: String::new(),
            snapshot: Ok(s),
        }));
        audit_org(&catalog(ids), MANAGEMENT, REGION, &reads, &notify())
    }

    fn control<'a>(plan: &'a OrgPlan, account: &str, id: &str) -> &'a ControlReport {
        plan.accounts
            .iter()
            .find(|a| a.account_id == account)
            .and_then(|a| a.controls.iter().find(|c| c.id == id))
            .unwrap()
    }

    fn codes(report: &ControlReport) -> Vec<Code> {
        report.findings.iter().map(|f| f.code).collect()
    }

    /// The audit's reproduction: the management account's 4.6 chain runs on a local trail,
    /// which logs only the management account's events; the organization trail is not
    /// logging, or has no log group. The member must not be compliant through it.
    #[test]
    fn a_member_is_never_compliant_through_the_owners_local_trail() {
        for (logging, log_group) in [(false, true), (true, false)] {
            let mut management = snapshot(
                MANAGEMENT,
                vec![
                    own_trail(MANAGEMENT, "local", LOCAL_GROUP),
                    org_trail(false, logging, log_group),
                ],
            );
            chain_46(&mut management, LOCAL_GROUP);
            let member = snapshot(MEMBER, vec![org_trail(true, logging, log_group)]);
            let plan = org(management, vec![member], &["4.6"]);
            let case = format!("logging {logging}, log group {log_group}");
            assert_eq!(
                control(&plan, MANAGEMENT, "4.6").status,
                Status::Compliant,
                "{case}"
            );
            let report = control(&plan, MEMBER, "4.6");
            assert_ne!(report.status, Status::Compliant, "{case}: {report:#?}");
            assert!(report.chain.is_none(), "{case}");
            assert_eq!(report.after_apply, Some(AfterApply::NonCompliant), "{case}");
            assert!(!plan.is_compliant());
            // Nothing is planned that would claim to fix the member.
            assert!(
                plan.actions
                    .iter()
                    .all(|a| !a.fixes.contains(&MEMBER.into())),
                "{case}: {:#?}",
                plan.actions
            );
            if logging {
                // Without a log group the member never deferred: its own trails decided.
                assert!(
                    !codes(report).contains(&Code::OrganizationChainIncomplete),
                    "{case}"
                );
            } else {
                assert_eq!(
                    codes(report).first(),
                    Some(&Code::OrganizationTrailDoesNotServe),
                    "{case}"
                );
                assert!(report.findings[0].message.contains("not logging"), "{case}");
            }
        }
    }

    /// The organization trail qualifies but has no chain for 4.6, while the management
    /// account's local trail has one: the organization chain is planned in the management
    /// account, for the member only.
    #[test]
    fn the_organization_chain_is_planned_even_when_the_owner_is_compliant_elsewhere() {
        let mut management = snapshot(
            MANAGEMENT,
            vec![
                own_trail(MANAGEMENT, "local", LOCAL_GROUP),
                org_trail(false, true, true),
            ],
        );
        chain_46(&mut management, LOCAL_GROUP);
        let member = snapshot(MEMBER, vec![org_trail(true, true, true)]);
        let plan = org(management, vec![member], &["4.6"]);
        assert_eq!(control(&plan, MANAGEMENT, "4.6").status, Status::Compliant);
        let report = control(&plan, MEMBER, "4.6");
        assert_eq!(report.status, Status::NonCompliant);
        assert_eq!(codes(report), [Code::OrganizationChainIncomplete]);
        assert_eq!(report.after_apply, Some(AfterApply::AwaitsConfirmation));
        let filter = plan
            .actions
            .iter()
            .find(|a| a.action.call.name() == "put_metric_filter")
            .unwrap();
        let Call::PutMetricFilter(FilterCall { log_group_name, .. }) = &filter.action.call else {
            panic!()
        };
        assert_eq!(log_group_name, ORG_GROUP);
        // The management account is compliant already: the fix is the member's alone.
        assert_eq!(filter.fixes, [MEMBER]);
        assert!(plan.actions.iter().all(|a| a.account_id == MANAGEMENT));
        let alarm = plan
            .actions
            .iter()
            .find(|a| a.action.call.name() == "put_metric_alarm")
            .unwrap();
        assert_eq!(alarm.fixes, [MEMBER]);
    }

    /// Both of the owner's trails whole for 4.6: the member's chain is the organization
    /// trail's, in the owner's account.
    #[test]
    fn the_member_inherits_the_organization_trails_chain() {
        let mut management = snapshot(
            MANAGEMENT,
            vec![
                own_trail(MANAGEMENT, "local", LOCAL_GROUP),
                org_trail(false, true, true),
            ],
        );
        chain_46(&mut management, ORG_GROUP);
        let member = snapshot(MEMBER, vec![org_trail(true, true, true)]);
        let plan = org(management, vec![member], &["4.6"]);
        let report = control(&plan, MEMBER, "4.6");
        assert_eq!(report.status, Status::Compliant);
        let chain = report.chain.as_ref().unwrap();
        assert_eq!(
            (
                chain.account_id.as_str(),
                chain.trail.as_str(),
                chain.log_group.as_str()
            ),
            (MANAGEMENT, "org", ORG_GROUP)
        );
        assert!(plan.actions.is_empty(), "{:#?}", plan.actions);
    }

    /// The owner's plan completes its chain on its local trail's log group (a partial chain
    /// is there), and this plan cannot complete the organization chain (its log group is at
    /// the filter limit): that fix serves the owner, not the members, whose own trails decide.
    #[test]
    fn a_fix_on_another_log_group_of_the_owner_fixes_no_member() {
        let mut management = snapshot(
            MANAGEMENT,
            vec![
                own_trail(MANAGEMENT, "local", LOCAL_GROUP),
                org_trail(false, true, true),
            ],
        );
        if let Some(r) = management.regions.get_mut(REGION) {
            // A covering filter with no alarm yet: the plan completes this chain.
            r.metric_filters
                .push(filter(LOCAL_GROUP, "failures", FAILURES, "Failures"));
            r.metric_filters.extend(
                (0..100).map(|i| filter(ORG_GROUP, &format!("other-{i}"), "ERROR", "Other")),
            );
        }
        let member = snapshot(
            MEMBER,
            vec![
                org_trail(true, true, true),
                own_trail(MEMBER, "local", "member-logs"),
            ],
        );
        let plan = org(management, vec![member], &["4.6"]);
        let owner_actions: Vec<&OrgAction> = plan
            .actions
            .iter()
            .filter(|a| a.account_id == MANAGEMENT && a.action.control.is_some())
            .collect();
        assert!(!owner_actions.is_empty());
        for a in &owner_actions {
            assert_eq!(a.fixes, [MANAGEMENT], "{a:#?}");
        }
        let report = control(&plan, MEMBER, "4.6");
        assert_eq!(report.status, Status::NonCompliant, "{report:#?}");
        assert_eq!(codes(report)[0], Code::OrganizationTrailDoesNotServe);
        assert!(
            !codes(report).contains(&Code::TrailNotQualifying),
            "{report:#?}"
        );
        // The member's own trail is planned, in the member, for the member.
        let mine: Vec<&OrgAction> = plan
            .actions
            .iter()
            .filter(|a| a.account_id == MEMBER)
            .collect();
        assert!(
            mine.iter()
                .any(|a| matches!(&a.action.call, Call::PutMetricFilter(FilterCall { log_group_name, .. }) if log_group_name == "member-logs")),
            "{mine:#?}"
        );
        assert!(mine.iter().all(|a| a.fixes == [MEMBER]));
    }

    /// The owner's plan would complete its chain on its local trail's log group (a covering
    /// filter, no alarm), and the organization chain has nothing: the organization chain's
    /// links replace the owner's own (the organization trail logs the owner's events too), so
    /// one apply serves the owner and every member, with one alarm of cis-fix's name.
    #[test]
    fn the_organization_chain_replaces_the_owners_fix_on_another_log_group() {
        let mut management = snapshot(
            MANAGEMENT,
            vec![
                own_trail(MANAGEMENT, "local", LOCAL_GROUP),
                org_trail(false, true, true),
            ],
        );
        if let Some(r) = management.regions.get_mut(REGION) {
            r.metric_filters
                .push(filter(LOCAL_GROUP, "failures", FAILURES, "Failures"));
        }
        const OWN: &str = "222222222222";
        let bare = snapshot(MEMBER, vec![org_trail(true, true, true)]);
        let own = snapshot(
            OWN,
            vec![
                org_trail(true, true, true),
                own_trail(OWN, "local", "member-logs"),
            ],
        );
        let plan = org(management, vec![bare, own], &["4.6"]);
        assert!(
            plan.actions.iter().all(|a| a.account_id == MANAGEMENT),
            "{:#?}",
            plan.actions
        );
        let alarms: Vec<&OrgAction> = plan
            .actions
            .iter()
            .filter(|a| a.action.call.name() == "put_metric_alarm")
            .collect();
        assert_eq!(alarms.len(), 1, "{alarms:#?}");
        let filters: Vec<&OrgAction> = plan
            .actions
            .iter()
            .filter(|a| a.action.call.name() == "put_metric_filter")
            .collect();
        assert_eq!(filters.len(), 1, "{filters:#?}");
        let Call::PutMetricFilter(FilterCall {
            log_group_name,
            metric_name,
            ..
        }) = &filters[0].action.call
        else {
            panic!()
        };
        assert_eq!(log_group_name, ORG_GROUP);
        let Call::PutMetricAlarm(AlarmCall {
            metric_name: watched,
            ..
        }) = &alarms[0].action.call
        else {
            panic!()
        };
        // The alarm watches the organization chain's filter, not the local one.
        assert_eq!(watched, metric_name);
        for a in plan.actions.iter() {
            let mut fixes = a.fixes.clone();
            fixes.sort();
            assert_eq!(fixes, [MEMBER, OWN, MANAGEMENT], "{a:#?}");
        }
        let owners = control(&plan, MANAGEMENT, "4.6");
        assert_eq!(owners.status, Status::NonCompliant);
        assert_eq!(owners.after_apply, Some(AfterApply::AwaitsConfirmation));
        for member in [MEMBER, OWN] {
            let report = control(&plan, member, "4.6");
            assert_eq!(
                codes(report),
                [Code::OrganizationChainIncomplete],
                "{member}: {report:#?}"
            );
            assert_eq!(report.after_apply, Some(AfterApply::AwaitsConfirmation));
        }
    }

    /// The organization chain is whole but for proof of delivery (its topic's policy has a
    /// condition cis-fix cannot evaluate): the member relying on it carries that chain, in
    /// the owner's account, so that `drill --org` says it is drilled there.
    #[test]
    fn a_member_relying_on_an_unproven_organization_chain_is_told_where_it_is_drilled() {
        for options in [notify(), Options::default()] {
            let mut management = snapshot(MANAGEMENT, vec![org_trail(false, true, true)]);
            chain_46(&mut management, ORG_GROUP);
            let topic = format!("arn:aws:sns:{REGION}:{MANAGEMENT}:ops");
            let policy = format!(
                r#"{{"Statement": [{{"Sid": "OrgOnly", "Effect": "Allow", "Principal": "*", "Action": "sns:Publish", "Resource": "{topic}", "Condition": {{"StringEquals": {{"aws:PrincipalOrgID": "o-abc"}}}}}}]}}"#
            );
            if let Some(t) = management
                .regions
                .get_mut(REGION)
                .and_then(|r| r.topics.iter_mut().find(|t| t.arn == topic))
            {
                t.delivery = Some(TopicDelivery {
                    policy: Some(policy),
                    ..Default::default()
                });
            }
            let member = snapshot(MEMBER, vec![org_trail(true, true, true)]);
            let reads = [(MANAGEMENT, management), (MEMBER, member.clone())]
                .into_iter()
                .map(|(id, s)| AccountRead {
                    account_id: id.into(),
                    name: String::new(),
                    snapshot: Ok(s),
                })
                .collect::<Vec<_>>();
            let plan = audit_org(&catalog(&["4.6"]), MANAGEMENT, REGION, &reads, &options);
            let case = format!("notify {:?}", options.notify);
            let owners = control(&plan, MANAGEMENT, "4.6");
            assert!(
                codes(owners).contains(&Code::TopicDeliveryUnverified),
                "{case}: {owners:#?}"
            );
            let report = control(&plan, MEMBER, "4.6");
            assert_eq!(
                codes(report),
                [Code::OrganizationChainIncomplete],
                "{case}: {report:#?}"
            );
            let unproven = report.delivery_unproven.as_ref().unwrap();
            assert_eq!(unproven.account_id, MANAGEMENT, "{case}");
            assert_eq!(Some(unproven), owners.delivery_unproven.as_ref(), "{case}");
            let (targets, skipped) =
                crate::audit::drill::targets_in(std::slice::from_ref(report), &member);
            assert!(targets.is_empty(), "{case}");
            assert_eq!(
                skipped[0].reason,
                crate::audit::drill::elsewhere(MANAGEMENT, "failures"),
                "{case}"
            );
        }
    }

    /// The organization trail's owner was not read: the member's deferred control stays not
    /// auditable, naming the owner.
    #[test]
    fn without_the_owner_the_member_stays_not_auditable() {
        let member = snapshot(MEMBER, vec![org_trail(true, true, true)]);
        let reads = vec![AccountRead {
            account_id: MEMBER.into(),
            name: String::new(),
            snapshot: Ok(member),
        }];
        let plan = audit_org(&catalog(&["4.6"]), MEMBER, REGION, &reads, &notify());
        let report = control(&plan, MEMBER, "4.6");
        assert_eq!(report.status, Status::NotAuditable);
        assert!(report.findings[0].message.contains(MANAGEMENT));
        assert!(plan.actions.is_empty());
    }

    /// The owner was read, but what decides the organization chain was denied to it: the
    /// member stays not auditable, pointing at the owner's findings rather than telling the
    /// `--org` run to run `--org`; the run's error does not mention 0 unread accounts.
    #[test]
    fn a_member_whose_organization_chain_could_not_be_audited_points_at_the_owner() {
        let mut management = snapshot(MANAGEMENT, vec![org_trail(false, true, true)]);
        management.unreadable.push(crate::inventory::ReadFailure {
            permission: "sns:GetTopicAttributes".into(),
            region: REGION.into(),
        });
        let member = snapshot(MEMBER, vec![org_trail(true, true, true)]);
        let plan = org(management, vec![member], &["4.6"]);
        assert_eq!(
            control(&plan, MANAGEMENT, "4.6").status,
            Status::NotAuditable
        );
        let report = control(&plan, MEMBER, "4.6");
        assert_eq!(report.status, Status::NotAuditable);
        assert_eq!(codes(report), [Code::NotAuditable], "{report:#?}");
        let message = &report.findings[0].message;
        assert!(
            message.contains(&format!(
                "organization trail `org` of account {MANAGEMENT}, whose chain for this control could not be audited there (see account {MANAGEMENT}'s findings)"
            )),
            "{message}"
        );
        assert!(!message.contains("--org"), "{message}");
        assert!(plan.actions.is_empty(), "{:#?}", plan.actions);

        let error = crate::error::Error::OrgNotAuditable {
            accounts: plan.summary.accounts_not_auditable,
            controls: plan.summary.not_auditable,
        }
        .to_string();
        assert!(
            error.starts_with(
                "2 control verdicts could not be decided (see above): grant the permissions named"
            ),
            "{error}"
        );
        let error = crate::error::Error::OrgNotAuditable {
            accounts: 1,
            controls: 3,
        }
        .to_string();
        assert!(
            error.starts_with("1 account could not be read and 3 control verdicts"),
            "{error}"
        );
    }

    /// Many members behind one organization trail: each fix to its chain says it fixes all of
    /// them, once, and nothing is planned in any member.
    #[test]
    fn one_fix_serves_every_member() {
        let management = snapshot(MANAGEMENT, vec![org_trail(false, true, true)]);
        let members: Vec<Snapshot> = (0..200u64)
            .map(|i| {
                snapshot(
                    &format!("{:012}", 100_000_000_000 + i),
                    vec![org_trail(true, true, true)],
                )
            })
            .collect();
        let plan = org(management, members, &["4.1", "4.6"]);
        assert!(!plan.actions.is_empty());
        for a in &plan.actions {
            assert_eq!(a.account_id, MANAGEMENT);
            assert_eq!(a.fixes.len(), 201, "{:?}", a.action.call.name());
            assert_eq!(a.fixes[0], MANAGEMENT);
        }
    }

    /// The organization chain cannot be completed by this plan (no topic, no `--notify`) and
    /// the member has no trail of its own: it still relies on the organization trail, with the
    /// owner's verdict, and is told to fix it there.
    #[test]
    fn a_member_without_trails_of_its_own_shares_a_stuck_organization_chain() {
        let management = snapshot(MANAGEMENT, vec![org_trail(false, true, true)]);
        let member = snapshot(MEMBER, vec![org_trail(true, true, true)]);
        let reads = [(MANAGEMENT, management), (MEMBER, member)]
            .into_iter()
            .map(|(id, s)| AccountRead {
                account_id: id.into(),
                name: String::new(),
                snapshot: Ok(s),
            })
            .collect::<Vec<_>>();
        let plan = audit_org(
            &catalog(&["4.6"]),
            MANAGEMENT,
            REGION,
            &reads,
            &Options::default(),
        );
        let owners = control(&plan, MANAGEMENT, "4.6");
        let report = control(&plan, MEMBER, "4.6");
        assert_ne!(owners.status, Status::Compliant);
        assert_eq!(report.status, owners.status);
        assert_eq!(codes(report), [Code::OrganizationChainIncomplete]);
        assert!(report.findings[0]
            .message
            .contains(&format!("fix it in account {MANAGEMENT}")));
        assert_eq!(report.after_apply, Some(AfterApply::NonCompliant));
        assert!(plan.actions.is_empty(), "{:#?}", plan.actions);
    }
}
