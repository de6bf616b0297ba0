//! `cis-fix apply [PLAN_FILE]`: show the plan, ask, then create what is missing.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;

use super::args::{Accounts, Display, Format, Selection};
use super::output::{self, denied, finish, print};
use super::ExitStatus;
use crate::apply::{self, result};
use crate::audit::Plan;
use crate::error::{Error, Result};
use crate::inventory::aws::ReadMode;
use crate::render;
use crate::saved::{PlanFile, SavedPlan};
use crate::session::Session;

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A saved plan from `cis-fix plan --out FILE`. The saved plan is the approval: it is
    /// applied without asking, if the account has not changed since it was made. Options that
    /// would change the plan cannot be given with it.
    #[arg(value_name = "PLAN_FILE", conflicts_with_all = ["benchmark", "catalog", "controls", "notify", "notify_file", "topic_arn", "topic_name", "topic_kms_key", "role", "external_id", "concurrency", "org", "accounts"])]
    pub plan_file: Option<PathBuf>,

    #[command(flatten)]
    pub selection: Selection,

    /// Do not ask for confirmation (for CI). Without a terminal, apply refuses unless given.
    #[arg(long)]
    pub auto_approve: bool,

    /// Output format. `json` prints on stdout only the result, once the apply has run: each
    /// action with its outcome, the counts and the controls' status afterwards (`cis-fix
    /// schema apply-result`); the plan and the progress go to stderr.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    #[command(flatten)]
    pub accounts: Accounts,

    #[command(flatten)]
    pub display: Display,
}

pub(super) async fn run(args: ApplyArgs, connect: &crate::session::Connect) -> Result<ExitStatus> {
    let started = Instant::now();
    if let Some(path) = &args.plan_file {
        let loaded = crate::saved::read(path)?;
        say(
            args.format,
            &output::wrapped(&format!(
                "Applying saved plan {} (SHA-256 {})\n\n",
                path.display(),
                loaded.sha256
            )),
        )?;
        return match loaded.plan {
            PlanFile::Account(saved) => apply_saved(&args, path, *saved, connect, started).await,
            PlanFile::Organization(saved) => {
                text_only(args.format)?;
                apply_saved_org(&args, path, *saved, connect, started).await
            }
        };
    }
    if let Some(reach) = args.accounts.reach() {
        text_only(args.format)?;
        return apply_org(&args, &reach, connect, started).await;
    }
    args.selection.catalog()?;
    let session = Session::connect(args.selection.scope.region.as_deref(), connect).await?;
    let (options, snapshot, plan) =
        output::observe(&args.selection, &session, ReadMode::Plan).await?;
    output::refuse_input_errors(&plan)?;
    let fresh = Fresh {
        plan,
        snapshot,
        options,
        session,
    };
    apply_fresh(&args, fresh, args.auto_approve, started).await
}

/// A plan made on a fresh read, with what it was made from.
struct Fresh {
    plan: Plan,
    snapshot: crate::inventory::Snapshot,
    options: crate::audit::Options,
    session: Session,
}

/// `apply FILE`: the plan is made again from the file's options and selection on a fresh read,
/// and applied, without asking, only if its actions are exactly the file's.
async fn apply_saved(
    args: &ApplyArgs,
    path: &std::path::Path,
    saved: SavedPlan,
    connect: &crate::session::Connect,
    started: Instant,
) -> Result<ExitStatus> {
    same_region(args, &saved.plan.region)?;
    let (catalog, benchmark) = saved.catalogs(path)?;
    let session = Session::connect(Some(&saved.plan.region), connect).await?;
    let (snapshot, plan) = output::observe_with(
        &catalog,
        &benchmark,
        &saved.options,
        &session,
        ReadMode::Plan,
    )
    .await?;
    saved.check_same(path, &plan, &snapshot)?;
    output::refuse_input_errors(&plan)?;
    let fresh = Fresh {
        plan,
        snapshot,
        options: saved.options,
        session,
    };
    // The saved plan is the approval (Terraform's contract): it was reviewed when it was made.
    apply_fresh(args, fresh, true, started).await
}

/// Shows the plan, asks (unless `approved`), then makes its calls, each checked right before
/// it is made (see [`apply::guard`]).
async fn apply_fresh(
    args: &ApplyArgs,
    fresh: Fresh,
    approved: bool,
    started: Instant,
) -> Result<ExitStatus> {
    let Fresh {
        plan,
        snapshot,
        options,
        session,
    } = fresh;
    let format = args.format;
    say(format, &render::text(&plan, args.display.text_options()))?;
    output::not_auditable(&plan, &snapshot)?;
    if !snapshot.unreadable.is_empty() {
        // The plan's actions were decided on full reads, but cis-fix cannot now verify what
        // it would change.
        return Err(Error::Unverifiable {
            permissions: denied(&snapshot),
        });
    }
    let show_endpoints = args.display.show_endpoints;
    if plan.actions.is_empty() {
        if format == Format::Json {
            print(&result::apply_result(&plan, &[], false, show_endpoints).to_json())?;
        }
        finish(&args.display, &session, started)?;
        return after_apply(format, &plan);
    }
    let count = plan.actions.len();
    let question = format!(
        "Apply {count} change{} to account {} in {}?",
        if count == 1 { "" } else { "s" },
        plan.account_id,
        output::regions(plan.actions.iter().map(|a| a.region.as_str()))
    );
    say(format, "\n")?;
    super::prompt::confirm(&question, approved).await?;
    let shown = apply::Records {
        home: Some((&plan.account_id, &plan.region)),
        quiet: args.display.quiet,
        ..apply::Records::default()
    };
    let guard = apply::Guard {
        account: &plan.account_id,
        topic_name: own_topic_name(&options),
        force: false,
    };
    let run = apply::apply(&session, &guard, &plan.actions, shown, &mut records(format)).await;
    if format == Format::Json {
        let result = result::apply_result(&plan, &run.outcomes, run.interrupted(), show_endpoints);
        print(&result.to_json())?;
    }
    run.into_result()?;
    if !args.display.quiet {
        // The verdicts last, once the calls have scrolled the plan's table away.
        let table = render::after_apply_table(&plan, args.display.text_options());
        say(format, &format!("\n{table}"))?;
    }
    say(
        format,
        &format!(
            "\nApply complete: {} created, {} changed.\n",
            plan.summary.to_create, plan.summary.to_change
        ),
    )?;
    finish(&args.display, &session, started)?;
    after_apply(format, &plan)
}

/// The topic name cis-fix creates and subscribes to, for the guard: none with `--topic-arn`.
fn own_topic_name(options: &crate::audit::Options) -> Option<&str> {
    match &options.topic {
        crate::audit::TopicChoice::Name(name) => Some(name),
        crate::audit::TopicChoice::Arn(_) => None,
    }
}

/// `--region` with a saved plan must be the plan's own: the plan was made for one region,
/// and applying it elsewhere is a conflict, not a change in the account.
fn same_region(args: &ApplyArgs, planned: &str) -> Result<()> {
    match args.selection.scope.region.as_deref() {
        Some(region) if region != planned => Err(Error::Usage(format!(
            "--region {region} conflicts with the saved plan's region {planned}: a saved plan applies only where it was made; drop --region, or make a plan for {region}"
        ))),
        _ => Ok(()),
    }
}

/// Human text: on stdout as text; on stderr with `--format json`, whose stdout is the result
/// document alone.
pub(super) fn say(format: Format, text: &str) -> Result<()> {
    match format {
        Format::Text => print(text),
        Format::Json => {
            // Said, not output: a closed stderr is no reason to stop.
            let mut stderr = std::io::stderr().lock();
            let _ = stderr.write_all(text.as_bytes());
            let _ = stderr.flush();
            Ok(())
        }
    }
}

/// Where the per-call records (`  + …: done`) go: with the rest of the human text.
pub(super) fn records(format: Format) -> Box<dyn Write> {
    match format {
        Format::Text => Box::new(std::io::stdout()),
        Format::Json => Box::new(std::io::stderr()),
    }
}

/// `--format json` with `--org` or `--accounts` (or a saved organization plan).
pub(super) fn text_only(format: Format) -> Result<()> {
    match format {
        Format::Text => Ok(()),
        Format::Json => Err(Error::Usage(
            "--format json is not supported with --org or --accounts yet (nor with a saved organization plan); run without --format, or per account".into(),
        )),
    }
}

/// How an apply ends (see [`output::after_apply`]).
fn after_apply(format: Format, plan: &crate::audit::Plan) -> Result<ExitStatus> {
    output::after_apply(plan, format == Format::Json)
}

/// `apply --org` / `--accounts`: one plan across the accounts, one question, then each
/// account's actions with that account's own session. An account that fails part-way does
/// not stop the others; the summary says, per account, what was done and what failed.
async fn apply_org(
    args: &ApplyArgs,
    reach: &crate::org::Reach,
    connect: &crate::session::Connect,
    started: Instant,
) -> Result<ExitStatus> {
    let session = Session::connect(args.selection.scope.region.as_deref(), connect).await?;
    let (options, reads, plan) =
        output::observe_org(&args.selection, &session, reach, ReadMode::Plan).await?;
    let fresh = FreshOrg {
        plan,
        reads,
        options,
        session,
    };
    apply_fresh_org(args, fresh, args.auto_approve, started).await
}

/// An organization plan made on fresh reads, with what it was made from.
struct FreshOrg {
    plan: crate::audit::org::OrgPlan,
    reads: crate::org::Reads,
    options: crate::audit::Options,
    session: Session,
}

/// `apply FILE` for a saved organization plan: the accounts are read again as the plan read
/// them, the plan is made again, and it is applied without asking only if its actions are
/// exactly the file's in every account.
async fn apply_saved_org(
    args: &ApplyArgs,
    path: &std::path::Path,
    saved: crate::saved::SavedOrgPlan,
    connect: &crate::session::Connect,
    started: Instant,
) -> Result<ExitStatus> {
    same_region(args, &saved.plan.region)?;
    let (catalog, benchmark) = saved.catalogs(path)?;
    let session = Session::connect(Some(&saved.plan.region), connect).await?;
    let (reads, plan) = output::observe_org_with(
        &catalog,
        &benchmark,
        &saved.options,
        &session,
        &saved.reach(),
        ReadMode::Plan,
    )
    .await?;
    saved.check_same(path, &plan, &reads.reads)?;
    let fresh = FreshOrg {
        plan,
        reads,
        options: saved.options,
        session,
    };
    apply_fresh_org(args, fresh, true, started).await
}

/// Shows the organization plan, asks (unless `approved`), then applies each account's
/// actions, each checked right before it is made.
async fn apply_fresh_org(
    args: &ApplyArgs,
    fresh: FreshOrg,
    approved: bool,
    started: Instant,
) -> Result<ExitStatus> {
    let FreshOrg {
        plan,
        reads,
        options,
        session,
    } = fresh;
    print(&render::org::org_text(&plan, args.display.text_options()))?;
    // No write in an account that was not read in full: its actions were never planned.
    let by_account = crate::audit::org::actions_by_account(&plan);
    if by_account.is_empty() {
        finish(&args.display, &session, started)?;
        return output::after_org_apply(&plan);
    }
    let count = plan.actions.len();
    let question = format!(
        "Apply {count} change{} to {} account{} in {}?",
        if count == 1 { "" } else { "s" },
        by_account.len(),
        if by_account.len() == 1 { "" } else { "s" },
        output::regions(plan.actions.iter().map(|a| a.action.region.as_str()))
    );
    print("\n")?;
    super::prompt::confirm(&question, approved).await?;
    let done = apply_per_account(&by_account, &reads.sessions, own_topic_name(&options)).await?;
    finish(&args.display, &session, started)?;
    done.end(&plan)
}

/// What an apply across accounts did: counted from the calls made, not from the plan.
struct OrgApplied {
    accounts: usize,
    created: usize,
    changed: usize,
    /// One line per account that failed part-way (or had no session).
    failed: Vec<String>,
}

impl OrgApplied {
    /// Says what was done, then ends as a single-account apply does (see
    /// [`output::after_org_apply`]); an account that failed part-way is an error (1).
    fn end(self, plan: &crate::audit::org::OrgPlan) -> Result<ExitStatus> {
        print(&format!(
            "\nApply complete in {} of {} account{}: {} created, {} changed.\n",
            self.accounts - self.failed.len(),
            self.accounts,
            if self.accounts == 1 { "" } else { "s" },
            self.created,
            self.changed
        ))?;
        if !self.failed.is_empty() {
            // Still say what stays undone elsewhere, then the failure decides the exit code.
            let _ = output::after_org_apply(plan);
            return Err(Error::OrgApplyFailed {
                failed: self.failed.join("; "),
            });
        }
        output::after_org_apply(plan)
    }
}

/// Applies each account's actions with that account's session. An account that fails does not
/// stop the others: its failure is returned, one line each; Ctrl-C stops everything.
async fn apply_per_account(
    by_account: &[(String, Vec<crate::audit::Action>)],
    sessions: &std::collections::BTreeMap<String, Session>,
    topic_name: Option<&str>,
) -> Result<OrgApplied> {
    let mut applied = OrgApplied {
        accounts: by_account.len(),
        created: 0,
        changed: 0,
        failed: Vec::new(),
    };
    for (account, actions) in by_account {
        let Some(account_session) = sessions.get(account.as_str()) else {
            applied
                .failed
                .push(format!("{account}: no session (it was not read in full)"));
            continue;
        };
        print(&format!("\nAccount {account}:\n"))?;
        let shown = apply::Records {
            home: actions
                .first()
                .map(|a| (account.as_str(), a.region.as_str())),
            ..apply::Records::default()
        };
        let guard = apply::Guard {
            account,
            topic_name,
            force: false,
        };
        let run = apply::apply(
            account_session,
            &guard,
            actions,
            shown,
            &mut std::io::stdout(),
        )
        .await;
        for (action, outcome) in actions.iter().zip(&run.outcomes) {
            if *outcome == apply::Outcome::Done {
                match action.mode {
                    crate::audit::Mode::Create => applied.created += 1,
                    crate::audit::Mode::Change => applied.changed += 1,
                }
            }
        }
        match run.into_result() {
            Ok(done) => print(&format!(
                "  {done} change{} made\n",
                if done == 1 { "" } else { "s" }
            ))?,
            Err(e @ Error::Interrupted { .. }) => return Err(e),
            Err(e) => applied.failed.push(format!("{account}: {e}")),
        }
    }
    Ok(applied)
}
