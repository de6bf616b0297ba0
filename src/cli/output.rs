//! What every command prints the same way: the plan reads, output to stdout (a closed pipe
//! is fine), the stats line, and the errors that end a run after its output was shown.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use super::args::{Display, Selection};
use super::ExitStatus;
use crate::audit::{self, Options, Plan};
use crate::catalog::Catalog;
use crate::error::{Error, Result};
use crate::inventory::aws::ReadMode;
use crate::inventory::Snapshot;
use crate::session::Session;

/// Reads the account and audits it.
pub(super) async fn observe(
    selection: &Selection,
    session: &Session,
    mode: ReadMode,
) -> Result<(Options, Snapshot, Plan)> {
    let catalog = selection.catalog()?;
    let options = selection.options();
    let benchmark = selection.scope.full_catalog()?;
    let (snapshot, plan) = observe_with(&catalog, &benchmark, &options, session, mode).await?;
    Ok((options, snapshot, plan))
}

/// Reads the account and audits it against `catalog`'s controls; `benchmark` is the whole
/// catalog they come from.
pub(super) async fn observe_with(
    catalog: &Catalog,
    benchmark: &Catalog,
    options: &Options,
    session: &Session,
    mode: ReadMode,
) -> Result<(Snapshot, Plan)> {
    let snapshot = crate::org::read_account(session, options, mode, Some(benchmark)).await?;
    let plan = audit::audit(catalog, &snapshot, options);
    Ok((snapshot, plan))
}

/// Reads every account of `reach` (a session each) and audits them together.
pub(super) async fn observe_org(
    selection: &Selection,
    session: &Session,
    reach: &crate::org::Reach,
    mode: ReadMode,
) -> Result<(Options, crate::org::Reads, crate::audit::org::OrgPlan)> {
    let catalog = selection.catalog()?;
    let benchmark = selection.scope.full_catalog()?;
    let options = selection.options();
    let (reads, plan) =
        observe_org_with(&catalog, &benchmark, &options, session, reach, mode).await?;
    Ok((options, reads, plan))
}

/// [`observe_org`] against `catalog`'s controls; refuses a plan with input errors.
pub(super) async fn observe_org_with(
    catalog: &Catalog,
    benchmark: &Catalog,
    options: &Options,
    session: &Session,
    reach: &crate::org::Reach,
    mode: ReadMode,
) -> Result<(crate::org::Reads, crate::audit::org::OrgPlan)> {
    let reads = crate::org::read_accounts(session, reach, options, mode, Some(benchmark)).await?;
    let plan = crate::audit::org::audit_org(
        catalog,
        &reads.caller.account,
        &session.region,
        &reads.reads,
        options,
    );
    refuse_org_input_errors(&plan)?;
    Ok((reads, plan))
}

/// Reads the account as `options` need it (see [`crate::org::read_account`]), without
/// AWS's pattern tests.
pub(super) async fn read(session: &Session, options: &Options, mode: ReadMode) -> Result<Snapshot> {
    crate::org::read_account(session, options, mode, None).await
}

/// The permissions a snapshot was denied, for messages.
pub(super) fn denied(snapshot: &Snapshot) -> String {
    snapshot
        .unreadable
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

/// A plan that could not audit some controls ends in an error, after it was shown.
pub(super) fn not_auditable(plan: &Plan, snapshot: &Snapshot) -> Result<()> {
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

pub(super) fn finish(display: &Display, session: &Session, started: Instant) -> Result<ExitStatus> {
    if display.stats {
        report_stats(session, started);
    }
    Ok(ExitStatus::Success)
}

pub(super) fn report_stats(session: &Session, started: Instant) {
    let calls = session.calls.snapshot();
    let detail: Vec<String> = calls.iter().map(|(op, n)| format!("{op} {n}")).collect();
    eprint!(
        "{}",
        wrapped(&format!(
            "stats: {} AWS API calls in {:.2} s ({})\n",
            session.calls.total(),
            started.elapsed().as_secs_f64(),
            detail.join(", ")
        ))
    );
}

pub(super) fn print(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        // A closed pipe (`cis-fix plan | head`) is not an error worth reporting.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(|source| Error::Write {
            path: PathBuf::from("<stdout>"),
            source,
        }),
    }
}

/// An option that names something missing or unusable stops the run before anything is shown
/// or written: one line naming the option and the value.
pub(super) fn refuse_input_errors(plan: &Plan) -> Result<()> {
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
/// Called before anything is shown or written.
fn refuse_org_input_errors(plan: &crate::audit::org::OrgPlan) -> Result<()> {
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

/// How an apply ends once its actions are made (or when there were none): 0 when every
/// selected control is compliant or waits only on a subscription confirmation, 2 when some
/// control stays non-compliant (the lines say why and what would fix it). What waits goes
/// with the text on stdout, what stays undone on stderr; with `--format json` (`json`), whose
/// stdout is the result document, both go to stderr.
pub(super) fn after_apply(plan: &Plan, json: bool) -> Result<ExitStatus> {
    let waiting = crate::render::awaiting_confirmation(plan);
    if waiting > 0 {
        let line = wrapped(&format!(
            "{waiting} control{} wait{} for a subscription to be confirmed (check the inbox or endpoint); then they are compliant.\n",
            if waiting == 1 { "" } else { "s" },
            if waiting == 1 { "s" } else { "" }
        ));
        if json {
            eprint!("{line}");
        } else {
            print(&line)?;
        }
    }
    let unplanned = crate::render::unplanned(plan);
    for line in &unplanned {
        eprint!("{}", wrapped(&format!("{line}\n")));
    }
    Ok(if unplanned.is_empty() {
        ExitStatus::Success
    } else {
        ExitStatus::NotCompliant
    })
}

/// How an organization apply ends, by the rules of [`after_apply`] over every audited
/// account. Accounts or controls that could not be audited end in an error (1).
pub(super) fn after_org_apply(plan: &crate::audit::org::OrgPlan) -> Result<ExitStatus> {
    let status = after_apply(&audited_controls(plan), false)?;
    org_not_auditable(plan)?;
    Ok(status)
}

/// The controls of an organization plan's audited accounts, as one plan, for the
/// single-account summaries (what waits on a confirmation, what cannot be planned).
fn audited_controls(plan: &crate::audit::org::OrgPlan) -> Plan {
    Plan {
        format_version: crate::audit::FORMAT_VERSION,
        account_id: plan.caller_account_id.clone(),
        region: plan.region.clone(),
        benchmark: plan.benchmark.clone(),
        input_errors: vec![],
        notes: vec![],
        notifications: None,
        trails: vec![],
        controls: plan
            .accounts
            .iter()
            .filter(|a| a.status == crate::audit::org::AccountStatus::Audited)
            .flat_map(|a| a.controls.iter().cloned())
            .collect(),
        actions: vec![],
        summary: Default::default(),
    }
}

/// An organization plan that could not audit some accounts or controls ends in an error, after
/// everything was shown.
pub(super) fn org_not_auditable(plan: &crate::audit::org::OrgPlan) -> Result<()> {
    let s = &plan.summary;
    if s.accounts_not_auditable == 0 && s.not_auditable == 0 {
        return Ok(());
    }
    Err(Error::OrgNotAuditable {
        accounts: s.accounts_not_auditable,
        controls: s.not_auditable,
    })
}

/// Human text laid out as the views are: wrapped to the terminal's width (100 columns off
/// one), continuation lines indented.
pub(super) fn wrapped(text: &str) -> String {
    crate::render::layout::wrap_lines(text, crate::render::layout::stdout_width())
}

/// The regions a question's calls go to, named in order: `us-east-1`, `eu-west-1 and
/// us-east-1`. A question names where its writes go, not where the trails were read from.
pub(super) fn regions<'a>(of: impl IntoIterator<Item = &'a str>) -> String {
    let set: std::collections::BTreeSet<&str> = of.into_iter().collect();
    let list: Vec<&str> = set.into_iter().collect();
    match list.as_slice() {
        [] => String::new(),
        [init @ .., last] if !init.is_empty() => format!("{} and {last}", init.join(", ")),
        all => all.join(""),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn regions_are_named_once_each_in_order() {
        assert_eq!(super::regions(["us-east-1"]), "us-east-1");
        assert_eq!(
            super::regions(["us-east-1", "eu-west-1", "us-east-1"]),
            "eu-west-1 and us-east-1"
        );
        assert_eq!(super::regions(["c", "a", "b"]), "a, b and c");
    }
}
