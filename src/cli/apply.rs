//! `cis-fix apply [PLAN_FILE]`: show the plan, ask, then create what is missing.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use clap::Args;

use super::args::{Accounts, Display, Format, Selection};
use super::output::{self, denied, finish, print};
use super::ExitStatus;
use crate::apply::{self, result};
use crate::error::{Error, Result};
use crate::inventory::aws::ReadMode;
use crate::render;
use crate::saved::SavedPlan;
use crate::session::Session;

#[derive(Debug, Args)]
pub struct ApplyArgs {
    /// A saved plan from `cis-fix plan --out FILE`. The saved plan is the approval: it is
    /// applied without asking, if the account has not changed since it was made. Options that
    /// would change the plan cannot be given with it.
    #[arg(value_name = "PLAN_FILE", conflicts_with_all = ["benchmark", "catalog", "controls", "notify", "notify_file", "topic_arn", "topic_name", "topic_kms_key", "role", "external_id", "concurrency"])]
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
    let format = args.format;
    if let Some(reach) = args.accounts.reach() {
        if args.plan_file.is_some() {
            return Err(Error::Usage(
                "a saved plan file cannot be used with --org or --accounts yet: run `cis-fix apply --org` to plan and apply in one go".into(),
            ));
        }
        text_only(format)?;
        return apply_org(&args, &reach, connect, started).await;
    }
    if let Some(path) = &args.plan_file {
        if let Some(saved) = crate::saved::SavedOrgPlan::read(path)? {
            text_only(format)?;
            same_region(&args, &saved.plan.region)?;
            return apply_saved_org(&args, path, saved, connect, started).await;
        }
    }
    let (plan, snapshot, session) = match &args.plan_file {
        Some(path) => {
            let saved = SavedPlan::read(path)?;
            same_region(&args, &saved.plan.region)?;
            let region = args
                .selection
                .scope
                .region
                .clone()
                .unwrap_or_else(|| saved.plan.region.clone());
            let session = Session::connect(Some(&region), connect).await?;
            let snapshot = output::read(&session, &saved.options, ReadMode::Verify).await?;
            saved.check(path, &snapshot)?;
            (saved.plan, snapshot, session)
        }
        None => {
            args.selection.catalog()?;
            let session = Session::connect(args.selection.scope.region.as_deref(), connect).await?;
            let (_, snapshot, plan) =
                output::observe(&args.selection, &session, ReadMode::Verify).await?;
            output::refuse_input_errors(&plan)?;
            (plan, snapshot, session)
        }
    };
    say(format, &render::text(&plan, args.display.text_options()))?;
    output::not_auditable(&plan, &snapshot)?;
    if !snapshot.unreadable.is_empty() {
        // A saved plan's actions were decided on full reads, but cis-fix cannot now verify
        // what it would change.
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
        plan.region
    );
    say(format, "\n")?;
    // A saved plan is the approval (Terraform's contract): it was reviewed when it was made.
    let approved = args.auto_approve || args.plan_file.is_some();
    super::prompt::confirm(&question, approved).await?;
    let shown = apply::Records {
        home: Some((&plan.account_id, &plan.region)),
        quiet: args.display.quiet,
        ..apply::Records::default()
    };
    let run = apply::apply(&session, &plan.actions, shown, &mut records(format)).await;
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
    let (_, reads, plan) =
        output::observe_org(&args.selection, &session, reach, ReadMode::Verify).await?;
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
        plan.region
    );
    print("\n")?;
    super::prompt::confirm(&question, args.auto_approve).await?;
    let done = apply_per_account(&by_account, &reads.sessions).await?;
    finish(&args.display, &session, started)?;
    done.end(&plan)
}

/// `apply FILE` for a saved organization plan: each account it writes to is read again and
/// checked against what the plan observed there; then the plan is applied without asking (the
/// saved plan is the approval). A stale account stops everything before any write.
async fn apply_saved_org(
    args: &ApplyArgs,
    path: &std::path::Path,
    saved: crate::saved::SavedOrgPlan,
    connect: &crate::session::Connect,
    started: Instant,
) -> Result<ExitStatus> {
    let region = args
        .selection
        .scope
        .region
        .clone()
        .unwrap_or_else(|| saved.plan.region.clone());
    let session = Session::connect(Some(&region), connect).await?;
    let by_account = crate::audit::org::actions_by_account(&saved.plan);
    let reach = crate::org::Reach {
        org: false,
        accounts: by_account.iter().map(|(a, _)| a.clone()).collect(),
        role: saved.role.clone(),
        external_id: saved.external_id.clone(),
        concurrency: usize::from(crate::org::DEFAULT_CONCURRENCY),
    };
    print(&render::org::org_text(
        &saved.plan,
        args.display.text_options(),
    ))?;
    if by_account.is_empty() {
        finish(&args.display, &session, started)?;
        return output::after_org_apply(&saved.plan);
    }
    let reads =
        crate::org::read_accounts(&session, &reach, &saved.options, ReadMode::Verify, None).await?;
    for read in &reads.reads {
        match &read.snapshot {
            Ok(snapshot) => saved.check(path, &read.account_id, snapshot)?,
            Err(e) => {
                return Err(Error::SavedPlan {
                    path: path.to_path_buf(),
                    message: format!(
                        "account {} cannot be read now ({e}); nothing was changed",
                        read.account_id
                    ),
                })
            }
        }
    }
    let done = apply_per_account(&by_account, &reads.sessions).await?;
    finish(&args.display, &session, started)?;
    done.end(&saved.plan)
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
        let run = apply::apply(account_session, actions, shown, &mut std::io::stdout()).await;
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
