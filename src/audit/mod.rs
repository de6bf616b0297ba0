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
mod topic;
pub mod trails;
pub mod witness;

use std::collections::BTreeMap;

use crate::catalog::{Catalog, Control};
use crate::inventory::{RegionSnapshot, Snapshot};
use evaluate::{evaluate, Evaluation, Parsed};
pub use options::{Endpoint, Options, TopicChoice};
use plan::finding;
pub use plan::*;
use planner::Planner;

pub fn audit(catalog: &Catalog, snapshot: &Snapshot, options: &Options) -> Plan {
    let account = snapshot.account_id.as_str();
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
    // The compliant chains of every control of the benchmark, selected or not, in catalog
    // order: what a control may reuse, and the plan says, must not depend on the selection.
    let mut chains: Vec<(&str, Chain)> = Vec::new();
    for control in benchmark {
        let chain = match catalog.controls.iter().position(|c| c.id == control.id) {
            Some(i) => evaluations.get(i).and_then(|e| e.chain.clone()),
            None => evaluate_one(control).chain,
        };
        chains.extend(chain.map(|chain| (control.id.as_str(), chain)));
    }
    let reusable = topic::reusable(&chains);

    let mut planner = Planner {
        account,
        snapshot,
        options,
        parsed: &parsed,
        actions: Vec::new(),
        topics: BTreeMap::new(),
        // Topics that already deliver for a compliant control may serve the others too.
        reusable_topics: reusable
            .into_iter()
            .map(|(region, topic)| (region, topic.topic_arn))
            .collect(),
        input_errors: Vec::new(),
    };

    let mut controls = Vec::new();
    for (control, mut evaluation) in catalog.controls.iter().zip(evaluations) {
        let mut after_apply = match evaluation.status {
            Status::Compliant => None,
            _ => Some(AfterApply::NonCompliant),
        };
        if evaluation.status == Status::NonCompliant {
            let (extra, after) = planner.plan_control(
                control,
                &targets,
                evaluation.partial,
                evaluation.candidate_topic.as_deref(),
            );
            evaluation.findings.extend(extra);
            after_apply = Some(after);
        }
        controls.push(ControlReport {
            id: control.id.clone(),
            slug: control.slug.clone(),
            title: control.title.clone(),
            level: control.level,
            status: evaluation.status,
            findings: evaluation.findings,
            chain: evaluation.chain,
            delivery_unproven: evaluation.delivery_unproven,
            after_apply,
        });
    }
    planner.honour_notify(&controls);
    let mut input_errors = std::mem::take(&mut planner.input_errors);
    if !input_errors.iter().any(|e| e.option == "--topic-arn") {
        input_errors.extend(options::check_topic_arn(options, snapshot));
    }
    input_errors.extend(topic::check_topic_kms_key(options, snapshot));

    let mut actions = planner.actions;
    elsewhere::defer_to_owner(snapshot, &mut controls, &mut actions);
    // What could not be read may hold what the plan would create: decide nothing on it.
    if !snapshot.unreadable.is_empty() {
        let denied: Vec<String> = snapshot
            .unreadable
            .iter()
            .map(ToString::to_string)
            .collect();
        for control in controls
            .iter_mut()
            .filter(|c| c.status != Status::Compliant)
        {
            control.status = Status::NotAuditable;
            control.after_apply = Some(AfterApply::NonCompliant);
            control.findings = vec![finding(
                Code::NotAuditable,
                format!(
                    "cannot be audited: AWS denied {}; grant these read permissions (examples/iam-plan.json lists all that plan needs) and run again",
                    denied.join(", ")
                ),
            )];
        }
        actions.clear();
    }
    // Stable: within a kind, actions keep catalog order.
    actions.sort_by_key(|a| a.call.rank());
    let notifications = topic::relied_on(snapshot, options, &actions, &chains);
    let summary = Summary::count(&controls, &actions);
    let notes = snapshot
        .pattern_tests_denied
        .iter()
        .map(|denied| {
            format!(
                "AWS denied {denied}: verdicts on filters written differently from the catalog rest on cis-fix's proof alone, without AWS's own evaluator to confirm them; grant it (examples/iam-plan.json) to have AWS check them"
            )
        })
        .collect();
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

#[cfg(test)]
pub(crate) mod tests;
