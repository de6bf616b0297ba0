//! `apply FILE`: the saved plan made again, from what the file says it was made from, on a
//! fresh read of its accounts; refused unless the actions come out exactly the file's (see
//! [`crate::saved`]). One account or many, the same way.

use std::path::Path;

use super::args::{Accounts, Selection};
use crate::audit::Options;
use crate::error::{Error, Result};
use crate::inventory::aws::ReadMode;
use crate::printer::{wrapped, Printer};
use crate::run::accounts::Reach;
use crate::run::{Input, Observed};
use crate::saved::{self, PlanFile};
use crate::session::{Connect, Session};

/// The file's plan made again, checked against the file, with the options it was made with.
pub(super) async fn recompute(
    path: &Path,
    selection: &Selection,
    accounts: &Accounts,
    printer: &Printer,
    connect: &Connect,
) -> Result<(Observed, Options)> {
    let loaded = saved::read(path)?;
    printer.say(&wrapped(&format!(
        "Applying saved plan {} (SHA-256 {})\n\n",
        path.display(),
        loaded.sha256
    )))?;
    match loaded.plan {
        PlanFile::Account(saved) => {
            same_region(selection, &saved.plan.region)?;
            if accounts.reach().is_some() {
                return Err(Error::Usage(format!(
                    "{} was made for one account ({}): --org and --accounts apply only to a saved organization plan; drop them, or make one with `cis-fix plan --org --out FILE`",
                    path.display(),
                    saved.plan.account_id
                )));
            }
            let (catalog, benchmark) = saved.catalogs(path)?;
            let input = Input {
                catalog,
                benchmark,
                options: saved.options.clone(),
            };
            let session = Session::connect(Some(&saved.plan.region), connect).await?;
            let observed = Observed::read(&input, None, session, ReadMode::Plan).await?;
            if let Observed::One(one) = &observed {
                saved.check_same(path, &one.plan, &one.snapshot)?;
            }
            Ok((observed, input.options))
        }
        PlanFile::Organization(saved) => {
            same_region(selection, &saved.plan.region)?;
            let (catalog, benchmark) = saved.catalogs(path)?;
            let input = Input {
                catalog,
                benchmark,
                options: saved.options.clone(),
            };
            let session = Session::connect(Some(&saved.plan.region), connect).await?;
            let mut reach = saved.reach();
            same_accounts(path, accounts, &reach)?;
            if let Some(concurrency) = accounts.concurrency {
                reach.concurrency = usize::from(concurrency);
            }
            let observed = Observed::read(&input, Some(&reach), session, ReadMode::Plan).await?;
            if let Observed::Many(many) = &observed {
                saved.check_same(path, &many.plan, &many.reads.reads)?;
            }
            Ok((observed, input.options))
        }
    }
}

/// `--region` with a saved plan must be the plan's own: the plan was made for one region,
/// and applying it elsewhere is a conflict, not a change in the account.
fn same_region(selection: &Selection, planned: &str) -> Result<()> {
    match selection.scope.region.as_deref() {
        Some(region) if region != planned => Err(Error::Usage(format!(
            "--region {region} conflicts with the saved plan's region {planned}: a saved plan applies only where it was made; drop --region, or make a plan for {region}"
        ))),
        _ => Ok(()),
    }
}

/// `--org` or `--accounts` with a saved organization plan must name what the plan was made
/// for: the file decides which accounts, and an option saying otherwise is a conflict.
fn same_accounts(path: &Path, given: &Accounts, planned: &Reach) -> Result<()> {
    let Some(given) = given.reach() else {
        return Ok(());
    };
    let sorted = |ids: &[String]| {
        let mut ids = ids.to_vec();
        ids.sort();
        ids.dedup();
        ids
    };
    if given.org == planned.org && sorted(&given.accounts) == sorted(&planned.accounts) {
        return Ok(());
    }
    let made_for = match planned.org {
        true => "--org".to_string(),
        false => format!("--accounts {}", planned.accounts.join(",")),
    };
    Err(Error::Usage(format!(
        "{} was made with {made_for}: a saved plan applies only to the accounts it was made for; drop --org and --accounts, or make a plan for those accounts",
        path.display()
    )))
}
