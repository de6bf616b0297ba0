//! A member account on its own: an organization trail of the management account is listed
//! but cannot be read from here, and its chain (filter, alarm, topic) lives in the account that
//! owns its log group. A control that such a trail could satisfy cannot be decided from the
//! member: it is `not_auditable`, naming the account that can decide it, and nothing is
//! planned for it here (the fix, if any, belongs in the owner's account).

use super::plan::{finding, Action, AfterApply, ControlReport, Status};
use crate::inventory::Snapshot;

/// Marks every control that is not compliant from here, while an organization trail owned by
/// another account may make it so, as `not_auditable`; drops what was planned for it.
pub(super) fn defer_to_owner(
    snapshot: &Snapshot,
    controls: &mut [ControlReport],
    actions: &mut Vec<Action>,
) {
    let account = snapshot.account_id.as_str();
    let Some(trail) = snapshot
        .trails
        .iter()
        .find(|t| t.is_organization_trail && t.owner().is_some_and(|o| o != account))
    else {
        return;
    };
    let owner = trail.owner().unwrap_or_default();
    let mut deferred = Vec::new();
    for control in controls
        .iter_mut()
        .filter(|c| c.status != Status::Compliant)
    {
        control.status = Status::NotAuditable;
        control.after_apply = Some(AfterApply::NonCompliant);
        control.findings = vec![finding(
            "organization_trail_elsewhere",
            format!(
                "cannot be audited from account {account}: organization trail `{}` of account {owner} may satisfy it, but only {owner} can read that trail's status and selectors, and its chain lives where its log group is; run `cis-fix plan --org` from the management account {owner} (or with credentials that reach it)",
                trail.name
            ),
        )];
        deferred.push(control.id.clone());
    }
    actions.retain(|a| a.control.as_ref().is_none_or(|c| !deferred.contains(c)));
    // A topic or subscriber is worth creating only for an alarm that is still planned.
    if !actions.iter().any(|a| a.control.is_some()) {
        actions.clear();
    }
}
