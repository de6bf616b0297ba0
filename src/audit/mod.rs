//! The audit: (catalog, snapshot, options) → a plan of findings and ordered actions.
//!
//! Pure: no I/O, no clock, no randomness. A control is compliant when one chain exists as
//! the CIS audit procedure requires it:
//! qualifying trail → its log group → a metric filter whose pattern covers the control's →
//! an alarm on that filter's metric (name and namespace), actions enabled, with an SNS topic
//! in `AlarmActions` → that topic has a confirmed subscription.

pub mod accepted;
pub mod backout;
mod code;
pub mod delivery;
pub mod drill;
mod elsewhere;
mod evaluate;
mod fields;
mod firing;
mod near_miss;
pub mod options;
pub mod org;
mod plan;
mod planner;
pub mod self_watch;
mod topic;
pub mod trails;
mod watch;
pub(crate) use watch::is_own_rule;
pub mod witness;

use crate::catalog::{Catalog, Control};
use crate::inventory::{RegionSnapshot, Snapshot};
use evaluate::{evaluate, Evaluation, Parsed};
pub use options::{Endpoint, Options, TopicChoice};
pub(crate) use plan::finding;
use plan::not_auditable;
pub use plan::*;
use planner::Planner;
use trails::Target;

pub fn audit(catalog: &Catalog, snapshot: &Snapshot, options: &Options) -> Plan {
    let empty = RegionSnapshot::default();
    let (trail_reports, targets, unqualified) = trails::targets(snapshot, &empty);

    let parsed = Parsed::new(snapshot);
    let benchmark = catalog.benchmark_controls();
    let evaluate_one = |control: &Control| {
        evaluate(
            control,
            benchmark,
            snapshot,
            &trail_reports,
            &targets,
            &unqualified,
            &parsed,
        )
    };
    let evaluations: Vec<Evaluation> = catalog.controls.iter().map(evaluate_one).collect();
    let chains = compliant_chains(catalog, &evaluations, |c| evaluate_one(c).chain);

    let mut planner = Planner::new(snapshot, options, &parsed, topic::reusable(&chains));
    let mut controls: Vec<ControlReport> = catalog
        .controls
        .iter()
        .zip(evaluations)
        .map(|(control, evaluation)| report(&mut planner, control, evaluation, &targets))
        .collect();
    planner.honour_notify(&controls);
    let place = (snapshot, options, targets.as_slice());
    watch_paths(catalog, place, &mut controls, &mut planner.actions);
    let mut input_errors = std::mem::take(&mut planner.input_errors);
    if !input_errors.iter().any(|e| e.option == "--topic-arn") {
        input_errors.extend(options::check_topic_arn(options, snapshot));
    }
    input_errors.extend(topic::check_topic_kms_key(options, snapshot));

    let mut actions = planner.actions;
    elsewhere::defer_to_owner(snapshot, &mut controls, &mut actions);
    // What could not be read may hold what the plan would create: decide nothing on it.
    if !snapshot.unreadable.is_empty() {
        not_auditable(&mut controls, &denied(snapshot));
        actions.clear();
    }
    // Stable: within a kind, actions keep catalog order.
    actions.sort_by_key(|a| a.call.rank());
    let notifications = topic::relied_on(snapshot, options, &actions, &chains);
    let summary = Summary::count(&controls, &actions);
    let mut notes = notes(snapshot);
    notes.extend(self_watch::notes(&catalog.controls, &actions));
    Plan {
        format_version: FORMAT_VERSION,
        input_errors,
        notes,
        notifications,
        account_id: snapshot.account_id.clone(),
        region: snapshot.region.clone(),
        benchmark: catalog.benchmark.clone(),
        trails: trail_reports,
        controls,
        actions,
        summary,
    }
}

/// The compliant chains of every control of the benchmark, selected or not, in catalog
/// order: what a control may reuse, and the plan says, must not depend on the selection.
/// (A control that is not selected is evaluated here only, by `chain_of`.)
fn compliant_chains<'c>(
    catalog: &'c Catalog,
    evaluations: &[Evaluation],
    chain_of: impl Fn(&Control) -> Option<Chain>,
) -> Vec<(&'c str, Chain)> {
    let mut chains = Vec::new();
    for control in catalog.benchmark_controls() {
        let chain = match catalog.controls.iter().position(|c| c.id == control.id) {
            Some(i) => evaluations.get(i).and_then(|e| e.chain.clone()),
            None => chain_of(control),
        };
        chains.extend(chain.map(|chain| (control.id.as_str(), chain)));
    }
    chains
}

/// A control's report: its evaluation, with the links planned for it when it is not
/// compliant, and what it will be once they are made.
fn report(
    planner: &mut Planner,
    control: &Control,
    mut evaluation: Evaluation,
    targets: &[Target],
) -> ControlReport {
    let mut after_apply = match evaluation.status {
        Status::Compliant => None,
        _ => Some(AfterApply::NonCompliant),
    };
    if evaluation.status == Status::NonCompliant {
        let (extra, after) = planner.plan_control(
            control,
            targets,
            evaluation.partial,
            evaluation.candidate_topic.as_deref(),
        );
        evaluation.findings.extend(extra);
        after_apply = Some(after);
    }
    ControlReport {
        id: control.id.clone(),
        slug: control.slug.clone(),
        title: control.title.clone(),
        level: control.level,
        status: evaluation.status,
        findings: evaluation.findings,
        chain: evaluation.chain,
        delivery_unproven: evaluation.delivery_unproven,
        after_apply,
    }
}

/// A control with a watch rule is compliant only when its watch path is whole too, in every
/// region of this account a chain of it may live in (the qualifying trails' log groups); the
/// plan creates what is missing there ([`watch::plan`]). Its metric chain, when whole, stays
/// in the report: it is still what the alarm goes through.
fn watch_paths(
    catalog: &Catalog,
    (snapshot, options, targets): (&Snapshot, &Options, &[Target]),
    controls: &mut [ControlReport],
    actions: &mut Vec<Action>,
) {
    let mut regions: Vec<(&str, &RegionSnapshot)> = targets
        .iter()
        .filter(|t| t.log_group.account == snapshot.account_id)
        .map(|t| (t.log_group.region.as_str(), t.region))
        .collect();
    regions.sort_by_key(|(r, _)| *r);
    regions.dedup_by_key(|(r, _)| *r);
    for (control, report) in catalog.controls.iter().zip(controls.iter_mut()) {
        if control.watch_rule.is_none() || report.status == Status::Blocked {
            continue;
        }
        let chain_topic = report.chain.as_ref().map(|c| c.topic_arn.clone());
        let mut gaps = Vec::new();
        let mut after = None;
        for (region, region_snapshot) in &regions {
            let place = watch::Place {
                account: &snapshot.account_id,
                region,
                snapshot: region_snapshot,
                chain_topic: chain_topic.as_deref(),
            };
            let found = watch::gaps(control, &place);
            if found.is_empty() {
                continue;
            }
            gaps.extend(found);
            let planned = watch::plan(control, &place, options);
            after = worse(after, planned.after.or(Some(AfterApply::Compliant)));
            gaps.extend(planned.why_not);
            push_new(actions, control, region, planned.calls);
        }
        if gaps.is_empty() {
            continue;
        }
        report.after_apply = match report.status {
            Status::Compliant => after,
            _ => worse(report.after_apply, after),
        };
        report.status = Status::NonCompliant;
        report.findings.extend(gaps);
    }
}

/// The later of two outcomes after apply: compliant, then awaiting confirmation, then not.
fn worse(a: Option<AfterApply>, b: Option<AfterApply>) -> Option<AfterApply> {
    let rank = |x: &Option<AfterApply>| match x {
        None => 0,
        Some(AfterApply::Compliant) => 1,
        Some(AfterApply::AwaitsConfirmation) => 2,
        Some(AfterApply::NonCompliant) => 3,
    };
    if rank(&a) >= rank(&b) {
        a
    } else {
        b
    }
}

/// Adds the watch path's calls, once each: the watch topic and its subscribers serve every
/// control with a watch rule in the region, and are planned for the first.
fn push_new(
    actions: &mut Vec<Action>,
    control: &Control,
    region: &str,
    calls: Vec<(Mode, String, Call)>,
) {
    for (mode, reason, call) in calls {
        if actions.iter().any(|a| a.region == region && a.call == call) {
            continue;
        }
        let shared = matches!(call, Call::CreateTopic { .. } | Call::Subscribe { .. });
        actions.push(Action {
            mode,
            control: (!shared).then(|| control.id.clone()),
            region: region.to_string(),
            reason,
            changes: Vec::new(),
            call,
        });
    }
}

/// The finding of every control a denied read leaves undecided.
fn denied(snapshot: &Snapshot) -> Finding {
    let denied: Vec<String> = snapshot
        .unreadable
        .iter()
        .map(ToString::to_string)
        .collect();
    finding(
        Code::NotAuditable,
        format!(
            "cannot be audited: AWS denied {}; grant these read permissions (examples/iam-plan.json lists all that plan needs) and run again",
            denied.join(", ")
        ),
    )
}

/// Said once about the whole plan: a denied `logs:TestMetricFilter`.
fn notes(snapshot: &Snapshot) -> Vec<String> {
    snapshot
        .pattern_tests_denied
        .iter()
        .map(|denied| {
            format!(
                "AWS denied {denied}: verdicts on filters written differently from the catalog rest on cis-fix's proof alone, without AWS's own evaluator to confirm them; grant it (examples/iam-plan.json) to have AWS check them"
            )
        })
        .collect()
}

#[cfg(test)]
pub(crate) mod tests;
