//! `cis-fix iam-policy COMMAND`: the minimal IAM policy a command needs, as JSON to attach.
//! No credentials, no AWS call.

use clap::Args;

use super::output::print;
use super::ExitStatus;
use crate::error::Result;
use crate::iam::PolicyFor;

#[derive(Debug, Args)]
pub struct IamPolicyArgs {
    /// The command to run (or, with --org or --accounts, the caller or each member's role).
    #[arg(value_enum, value_name = "COMMAND")]
    pub command: PolicyFor,
}

pub(super) fn run(args: IamPolicyArgs) -> Result<ExitStatus> {
    print(args.command.text())?;
    Ok(ExitStatus::Success)
}
