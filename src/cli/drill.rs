//! `cis-fix drill`: prove that each whole chain's notification really goes out, by setting
//! its alarm to ALARM and reading the result from the alarm's history.

use std::time::{Duration, Instant};

use clap::Args;

use super::args::{Accounts, Display, Scope};
use super::output::{finish, print, report_stats};
use super::ExitStatus;
use crate::apply;
use crate::apply::drill::Job;
use crate::audit::org::AccountStatus;
use crate::audit::{self, drill, Options};
use crate::error::{Error, Result};
use crate::inventory::aws::ReadMode;
use crate::render;
use crate::session::Session;

#[derive(Debug, Args)]
pub struct DrillArgs {
    #[command(flatten)]
    pub scope: Scope,

    /// Do not ask for confirmation (for CI). Without a terminal, drill refuses unless given.
    #[arg(long)]
    pub auto_approve: bool,

    /// Seconds to wait for each notification's result in the alarm's history.
    #[arg(long, value_name = "SECS", default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=900))]
    pub wait: u64,

    #[command(flatten)]
    pub accounts: Accounts,

    #[command(flatten)]
    pub display: Display,
}

pub(super) async fn run(args: DrillArgs, connect: &crate::session::Connect) -> Result<ExitStatus> {
    let started = Instant::now();
    let catalog = args.scope.catalog()?;
    let session = Session::connect(args.scope.region.as_deref(), connect).await?;
    if let Some(reach) = args.accounts.reach() {
        return drill_org(&args, &reach, &session, started).await;
    }
    // The chains as they are: no --notify, no topic of cis-fix's to create.
    let options = Options::default();
    let benchmark = args.scope.full_catalog()?;
    let snapshot =
        crate::org::read_account(&session, &options, ReadMode::Plan, Some(&benchmark)).await?;
    let plan = audit::audit(&catalog, &snapshot, &options);
    let (targets, skipped) = drill::targets(&plan, &snapshot);
    let text = args.display.text_options();
    print(&render::drill_intro(
        &snapshot.account_id,
        &snapshot.region,
        &targets,
        &skipped,
        text,
    ))?;
    if targets.is_empty() {
        return Err(Error::NothingToDrill);
    }
    let count = targets.len();
    let question = format!(
        "Send {} for {count} control{} in account {} in {}?",
        notifications(count),
        if count == 1 { "" } else { "s" },
        snapshot.account_id,
        super::output::regions(targets.iter().map(|t| t.region.as_str()))
    );
    print("\n")?;
    super::prompt::confirm(&question, args.auto_approve).await?;
    let wait = Duration::from_secs(args.wait);
    let drilled = apply::drill::drill(&session, &snapshot.account_id, &targets, wait).await?;
    if !args.auto_approve {
        // A blank line after the answered question; without one, the line before it stands.
        print("\n")?;
    }
    let home = (snapshot.account_id.as_str(), snapshot.region.as_str());
    let outcomes = match drilled.outcomes {
        Ok(outcomes) => outcomes,
        Err(e) => {
            // Alarms left in ALARM are named, whatever stopped the drill.
            print(&render::drill_report(
                home,
                &[],
                &[],
                &drilled.stuck,
                false,
                text,
            ))?;
            return Err(e);
        }
    };
    print(&render::drill_report(
        home,
        &targets,
        &outcomes,
        &drilled.stuck,
        true,
        text,
    ))?;
    let failed = undelivered(&outcomes);
    finish(&args.display, &session, started)?;
    left_in_alarm(&drilled.stuck)?;
    if failed > 0 {
        return Err(Error::DrillFailed {
            failed,
            drilled: count,
        });
    }
    Ok(ExitStatus::Success)
}

fn notifications(count: usize) -> &'static str {
    if count == 1 {
        "a test notification"
    } else {
        "test notifications"
    }
}

/// The error for alarms a drill could not set back to OK, naming them (the report above gives
/// the command that resets each).
fn left_in_alarm(stuck: &[drill::Stuck]) -> Result<()> {
    if stuck.is_empty() {
        return Ok(());
    }
    let alarms: Vec<String> = stuck
        .iter()
        .map(|s| {
            format!(
                "alarm `{}` (account {}, {})",
                crate::term::escape(&s.alarm),
                s.account,
                s.region
            )
        })
        .collect();
    Err(Error::DrillResetFailed {
        count: stuck.len(),
        alarms: alarms.join(", "),
    })
}

fn undelivered(outcomes: &[drill::Outcome]) -> usize {
    outcomes
        .iter()
        .filter(|o| !matches!(o, drill::Outcome::Delivered { .. }))
        .count()
}

/// One account's part of an organization drill.
struct AccountDrill {
    account_id: String,
    targets: Vec<drill::DrillTarget>,
    skipped: Vec<drill::Skipped>,
}

/// `drill --org` / `--accounts`: every account read with its own session and audited across
/// the organization; each alarm drilled once, in the account that owns it (a member relying on
/// the organization trail is served by the drill in the trail's account); one question for all.
async fn drill_org(
    args: &DrillArgs,
    reach: &crate::org::Reach,
    session: &Session,
    started: Instant,
) -> Result<ExitStatus> {
    let catalog = args.scope.catalog()?;
    let benchmark = args.scope.full_catalog()?;
    let options = Options::default();
    let reads =
        crate::org::read_accounts(session, reach, &options, ReadMode::Plan, Some(&benchmark))
            .await?;
    let plan = audit::org::audit_org(
        &catalog,
        &reads.caller.account,
        &session.region,
        &reads.reads,
        &options,
    );
    let text = args.display.text_options();

    let mut drills = Vec::new();
    let mut unreadable = Vec::new();
    for report in &plan.accounts {
        let snapshot = reads
            .reads
            .iter()
            .find(|r| r.account_id == report.account_id)
            .and_then(|r| r.snapshot.as_ref().ok());
        match (report.status, snapshot) {
            (AccountStatus::Audited, Some(snapshot)) => {
                let (targets, skipped) = drill::targets_in(&report.controls, snapshot);
                drills.push(AccountDrill {
                    account_id: report.account_id.clone(),
                    targets,
                    skipped,
                });
            }
            _ => unreadable.push(format!(
                "account {} could not be read: {}",
                report.account_id,
                crate::term::escape(report.error.as_deref().unwrap_or("unknown error"))
            )),
        }
    }
    // A member relying on the organization trail is drilled in the trail's account: say so
    // only where that account really drills the alarm.
    let drilled: Vec<(String, String)> = drills
        .iter()
        .flat_map(|d| {
            d.targets
                .iter()
                .map(|t| (d.account_id.clone(), t.alarm.clone()))
        })
        .collect();
    for d in &mut drills {
        for s in &mut d.skipped {
            let Some(owner) = owner_of(&plan, &d.account_id, &s.control) else {
                continue;
            };
            if s.reason == drill::elsewhere(&owner.0, &owner.1)
                && !drilled
                    .iter()
                    .any(|(a, alarm)| *a == owner.0 && *alarm == owner.1)
            {
                s.reason = format!(
                    "its chain is account {}'s (the organization trail's), which is not drilled here (see account {})",
                    owner.0, owner.0
                );
            }
        }
    }

    for (i, d) in drills.iter().enumerate() {
        if i > 0 {
            print("\n")?;
        }
        print(&render::drill_intro(
            &d.account_id,
            &session.region,
            &d.targets,
            &d.skipped,
            text,
        ))?;
    }
    if !unreadable.is_empty() {
        print(&format!("\nNot drilled\n  {}\n", unreadable.join("\n  ")))?;
    }
    let alarms: usize = drills.iter().map(|d| d.targets.len()).sum();
    let accounts = drills.iter().filter(|d| !d.targets.is_empty()).count();
    if alarms == 0 {
        return Err(Error::NothingToDrill);
    }
    let question = format!(
        "Send {} for {alarms} alarm{} in {accounts} account{} in {}?",
        notifications(alarms),
        if alarms == 1 { "" } else { "s" },
        if accounts == 1 { "" } else { "s" },
        super::output::regions(
            drills
                .iter()
                .flat_map(|d| d.targets.iter().map(|t| t.region.as_str()))
        )
    );
    print("\n")?;
    super::prompt::confirm(&question, args.auto_approve).await?;

    // Every account read in full has its session (`read_accounts` keeps one per snapshot).
    let with_targets: Vec<(&AccountDrill, &Session)> = drills
        .iter()
        .filter(|d| !d.targets.is_empty())
        .filter_map(|d| reads.sessions.get(&d.account_id).map(|s| (d, s)))
        .collect();
    let jobs: Vec<Job> = with_targets
        .iter()
        .map(|(d, session)| Job {
            session,
            account: &d.account_id,
            targets: &d.targets,
        })
        .collect();
    let results = apply::drill::drill_accounts(&jobs, Duration::from_secs(args.wait)).await?;

    let (mut failed, mut delivered) = (0, 0);
    let mut stuck = Vec::new();
    for ((d, _), drilled) in with_targets.iter().zip(results) {
        print(&format!("\nAccount {}\n", d.account_id))?;
        let home = (d.account_id.as_str(), session.region.as_str());
        match drilled.outcomes {
            Ok(outcomes) => {
                print(&render::drill_report(
                    home,
                    &d.targets,
                    &outcomes,
                    &drilled.stuck,
                    false,
                    text,
                ))?;
                let missed = undelivered(&outcomes);
                failed += missed;
                delivered += outcomes.len() - missed;
            }
            Err(e) => {
                // Every alarm of the account counts as not delivered: nothing was proven.
                let e = crate::term::escape(&e.to_string()).into_owned();
                print(&format!("  the drill could not run: {e}\n"))?;
                print(&render::drill_report(
                    home,
                    &[],
                    &[],
                    &drilled.stuck,
                    false,
                    text,
                ))?;
                failed += d.targets.len();
            }
        }
        stuck.extend(drilled.stuck);
    }
    print(&format!(
        "\nDrill complete across {accounts} account{}: {delivered} of {alarms} delivered{}.\n",
        if accounts == 1 { "" } else { "s" },
        render::stuck_note(stuck.len())
    ))?;
    if args.display.stats {
        report_stats(session, started);
    }
    left_in_alarm(&stuck)?;
    if failed > 0 {
        return Err(Error::DrillFailed {
            failed,
            drilled: alarms,
        });
    }
    if !unreadable.is_empty() {
        return Err(Error::OrgNotAuditable {
            accounts: unreadable.len(),
            controls: unreadable.len() * catalog.controls.len(),
        });
    }
    Ok(ExitStatus::Success)
}

/// The account and alarm of the chain a member's control relies on, when it is another
/// account's.
fn owner_of(plan: &audit::org::OrgPlan, account: &str, control: &str) -> Option<(String, String)> {
    let report = plan.accounts.iter().find(|a| a.account_id == account)?;
    let c = report.controls.iter().find(|c| c.id == control)?;
    let chain = c.chain.as_ref().or(c.delivery_unproven.as_ref())?;
    (chain.account_id != account).then(|| (chain.account_id.clone(), chain.alarm.clone()))
}
