//! A member account on its own: an organization trail of the management account is listed
//! but cannot be read from here, and its chain (filter, alarm, topic) lives in the account that
//! owns its log group. A control that such a trail could satisfy cannot be decided from the
//! member: it is `not_auditable`, naming the account that can decide it, and nothing is
//! planned for it here (the fix, if any, belongs in the owner's account).

use super::plan::{finding, not_auditable, Action, Code, ControlReport};
use crate::inventory::{Snapshot, Trail};

/// The organization trail of another account that may satisfy this account's controls. One
/// without a CloudWatch Logs log group never can (DescribeTrails says so even to a member), so
/// it is not one: the account's own trails decide, and are planned, as for any account.
pub(super) fn organization_trail(snapshot: &Snapshot) -> Option<&Trail> {
    let account = snapshot.account_id.as_str();
    snapshot.trails.iter().find(|t| {
        t.is_organization_trail
            && t.log_group_arn.is_some()
            && t.owner().is_some_and(|o| o != account)
    })
}

/// Marks every control that is not compliant from here, while an organization trail owned by
/// another account may make it so, as `not_auditable`; drops what was planned for it.
pub(super) fn defer_to_owner(
    snapshot: &Snapshot,
    controls: &mut [ControlReport],
    actions: &mut Vec<Action>,
) {
    let account = snapshot.account_id.as_str();
    let Some(trail) = organization_trail(snapshot) else {
        return;
    };
    let owner = trail.owner().unwrap_or_default();
    let why = finding(
        Code::OrganizationTrailElsewhere,
        format!(
            "cannot be audited from account {account}: organization trail `{}` of account {owner} may satisfy it, but only {owner} can read that trail's status and selectors, and its chain lives where its log group is; run `cis-fix plan --org` from the management account {owner} (or with credentials that reach it)",
            trail.name
        ),
    );
    let deferred = not_auditable(controls, &why);
    actions.retain(|a| a.control.as_ref().is_none_or(|c| !deferred.contains(c)));
    // A topic or subscriber is worth creating only for an alarm that is still planned.
    if !actions.iter().any(|a| a.control.is_some()) {
        actions.clear();
    }
}

#[cfg(test)]
mod tests {
    use crate::audit::tests::{account, audit, catalog, REGION};
    use crate::audit::{Code, Options, Status};
    use crate::inventory::Trail;

    /// The organization trail of account 999988887777 as a member's DescribeTrails lists it.
    fn organization_trail(log_group: bool) -> Trail {
        Trail {
            name: "org".into(),
            arn: format!("arn:aws:cloudtrail:{REGION}:999988887777:trail/org"),
            home_region: REGION.into(),
            is_multi_region: true,
            log_group_arn: log_group
                .then(|| format!("arn:aws:logs:{REGION}:999988887777:log-group:org-logs:*")),
            is_organization_trail: true,
            details_hidden: true,
            ..Default::default()
        }
    }

    fn notify() -> Options {
        Options {
            notify: vec!["email:security@example.com".parse().unwrap()],
            ..Options::default()
        }
    }

    #[test]
    fn an_organization_trail_without_a_log_group_defers_nothing() {
        // The member's own trail (`main`, to `ct-logs`) beside it, with no chain yet.
        let mut s = account();
        s.trails.push(organization_trail(false));
        let plan = audit(&catalog(&["4.1", "4.6"]), &s, &notify());
        for c in &plan.controls {
            assert_eq!(c.status, Status::NonCompliant, "{}: {:?}", c.id, c.findings);
            assert!(c
                .findings
                .iter()
                .all(|f| f.code != Code::OrganizationTrailElsewhere));
        }
        // Planned on the member's own trail, as for any account.
        for id in ["4.1", "4.6"] {
            assert!(
                plan.actions
                    .iter()
                    .any(|a| a.control.as_deref() == Some(id)
                        && a.call.name() == "put_metric_filter"),
                "{id}: {:?}",
                plan.actions
            );
        }
        assert_eq!(plan.summary.not_auditable, 0);

        // With a log group, the organization trail may serve: deferred, nothing planned.
        let mut s = account();
        s.trails.push(organization_trail(true));
        let plan = audit(&catalog(&["4.1", "4.6"]), &s, &notify());
        assert!(plan
            .controls
            .iter()
            .all(|c| c.status == Status::NotAuditable
                && c.findings[0].code == Code::OrganizationTrailElsewhere));
        assert!(plan.actions.is_empty());
    }
}
