//! The one error type of cis-fix, and how each kind maps to an exit code.
//!
//! Every variant's message says what went wrong and what to do about it; `main`
//! prints it once, prefixed with `error:`.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    Usage(String),

    #[error(
        "unknown benchmark `{name}`; available: {available}. Or pass --catalog FILE for your own."
    )]
    UnknownBenchmark { name: String, available: String },

    #[error("unknown control{plural} {unknown}; valid for {benchmark}: {valid}, or their slugs; {lister}", plural = if .unknown.contains(',') { "s" } else { "" })]
    UnknownControls {
        unknown: String,
        benchmark: String,
        /// The valid ids, as ranges (`5.1–5.15`).
        valid: String,
        /// The command that lists them with their slugs.
        lister: String,
    },

    /// `--controls` ids of another benchmark version: each with the id it has here.
    #[error("{said}: pass {benchmark}'s ids, or the slugs, which every version shares (or choose that version with --benchmark)")]
    OtherNumbering { said: String, benchmark: String },

    #[error("cannot read catalog {}: {source}", path.display())]
    CatalogRead {
        path: PathBuf,
        source: std::io::Error,
    },

    #[error("invalid catalog {origin}: {message}")]
    Catalog { origin: String, message: String },

    /// The attack-technique records `coverage` reads (built in: a bug if it happens). A
    /// message, not the coverage module's error: this floor imports nothing above it.
    #[error("{0}; the records are built into cis-fix, so this is a bug: please report it")]
    Techniques(String),

    #[error("no AWS credentials found{}: {}. {}", .profile.as_deref().map(|p| format!(" for profile `{p}`")).unwrap_or_default(), .detail.trim_end_matches('.'), .profile.as_deref().map(|p| format!("Add credentials to it (see `aws configure --profile {p}`), or choose another profile with --profile or AWS_PROFILE.")).unwrap_or_else(|| "Choose a profile with --profile or AWS_PROFILE (see `aws configure`), set AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, or run where an instance role is available.".into()))]
    NoCredentials {
        /// The profile chosen by --profile or AWS_PROFILE, if any.
        profile: Option<String>,
        detail: String,
    },

    #[error("no AWS region configured: pass --region REGION or set AWS_REGION (or a region in your AWS profile)")]
    NoRegion,

    #[error("`{region}` is not an AWS region name (such as us-east-1, eu-west-3 or us-gov-west-1): check --region, AWS_REGION and the region of your AWS profile")]
    BadRegion { region: String },

    #[error("{setting}={shown:?}{place} is not a valid endpoint URL: {reason}", shown = crate::redact::mask_url_userinfo(.value))]
    BadEndpoint {
        /// The variable or profile key that holds it.
        setting: String,
        /// As set; shown with any user name and password masked.
        value: String,
        /// Where the setting is, when not in the environment (` in profile `dev` of FILE`).
        place: String,
        /// What is wrong, and how to fix it.
        reason: String,
    },

    #[error("AWS profile `{profile}` (from {chosen_by}) is not defined in {files}; {available}. Check the name, or create the profile with `aws configure --profile {profile}`")]
    MissingProfile {
        profile: String,
        chosen_by: &'static str,
        /// The files looked in, with where their paths came from.
        files: String,
        /// The profiles that are defined, or that none is.
        available: String,
    },

    #[error("AWS call {operation} failed{region}: {message}", region = .region.as_deref().map(|r| format!(" in {r}")).unwrap_or_default())]
    Aws {
        operation: &'static str,
        region: Option<String>,
        message: String,
    },

    #[error("cannot use saved plan {}: {message}", path.display())]
    SavedPlan { path: PathBuf, message: String },

    #[error("saved plan {} is stale: {message}; nothing was changed. Run `{command}` again and review the new plan.{}", path.display(), if *.masked { " The --notify endpoints and --external-id in that command are masked (****) here: put the real ones back before you run it." } else { "" })]
    StalePlan {
        path: PathBuf,
        message: String,
        /// The command that made the plan (endpoints and external id masked), to make it again.
        command: String,
        /// Whether `command` had endpoints or an external id masked: the user must fill them in.
        masked: bool,
    },

    /// Options that name something missing or unusable: one line each (`main` prefixes the
    /// first with `error: `; the others carry their own).
    #[error("{}; nothing was planned or changed", .0.join("\nerror: "))]
    InputErrors(Vec<String>),

    #[error("{0}; nothing was changed")]
    Cancelled(String),

    /// Ctrl-C at a confirmation question: the same words as a refusal, but exits 130.
    #[error("cancelled; nothing was changed")]
    CancelledByInterrupt,

    /// Ctrl-C during an apply or backout, which stopped between two calls; exits 130.
    #[error("interrupted: {progress}; {advice}")]
    Interrupted {
        progress: String,
        advice: &'static str,
    },

    #[error("{count} control{} could not be audited: AWS denied {permissions}. Grant these read permissions (examples/iam-plan.json lists what plan needs) and run again", if *.count == 1 { "" } else { "s" })]
    NotAuditable { count: usize, permissions: String },

    #[error("{count} control{} could not be audited from account {account}: organization trail `{trail}` of account {owner} may satisfy {}, and only {owner} can read it. Run `cis-fix plan --org` from the management account {owner} (or with credentials that reach it)", if *.count == 1 { "" } else { "s" }, if *.count == 1 { "it" } else { "them" })]
    OrganizationTrailElsewhere {
        count: usize,
        account: String,
        trail: String,
        owner: String,
    },

    #[error("no qualifying trail {where_} sends to CloudWatch Logs: `forecast` scans such a trail's log group. Run `cis-fix plan{org}` to see the trails and why each does not qualify")]
    NoTrailLogGroup { where_: String, org: &'static str },

    #[error("AWS denied {permission} in {region}: `forecast` needs it (`cis-fix iam-policy forecast` prints the policy){done}")]
    ForecastDenied {
        permission: &'static str,
        region: String,
        done: String,
    },

    #[error("cannot assume role {role_arn}: {message}")]
    AssumeRole { role_arn: String, message: String },

    #[error("cannot list the organization's accounts: {message}. Run --org from the management account or a delegated administrator, or name the accounts with --accounts ID,ID")]
    Organization { message: String },

    #[error("{}{controls} control verdict{} could not be decided (see above): {}grant the permissions named, and run again", unread_accounts(*.accounts), if *.controls == 1 { "" } else { "s" }, if *.accounts == 0 { "" } else { "grant the role in those accounts, or " })]
    OrgNotAuditable { accounts: usize, controls: usize },

    #[error("some accounts failed part-way ({failed}); the others are done. Every call is safe to repeat: run the same command again to finish")]
    OrgApplyFailed { failed: String },

    #[error("{count} account{} could not be read, so nothing was removed there ({accounts}; see above): grant the role in those accounts, or the permissions named, and run again", if *.count == 1 { "" } else { "s" })]
    OrgBackoutUnread { count: usize, accounts: String },

    /// The check right before a write found that its target is not cis-fix's to write (see
    /// [`crate::apply::guard`]): a name taken since the plan, or marks that are not cis-fix's.
    #[error("refusing to {what}: {why}; cis-fix writes only to what it created. Run `cis-fix plan` to see the account as it is now")]
    Refused { what: String, why: String },

    #[error("cannot tell what cis-fix created: AWS denied {permissions}; nothing was changed. Grant these permissions (examples/iam-apply.json lists what apply and backout need) and run again")]
    Unverifiable { permissions: String },

    #[error("{failed} of {drilled} drilled control{} did not deliver {}notification (see above): fix the topic's key or access policy, or let cis-fix create its own topic (`cis-fix apply --notify ...`), then drill again", if *.drilled == 1 { "" } else { "s" }, if *.failed == 1 { "its " } else { "their " })]
    DrillFailed { failed: usize, drilled: usize },

    #[error("nothing to drill: no selected control has a whole chain to test (see above); run `cis-fix plan` to see what is missing")]
    NothingToDrill,

    /// `--notify-file`: unreadable, or a line that is not PROTOCOL:ENDPOINT (shown masked).
    #[error("--notify-file {}{}: {message}", path.display(), .line.map(|n| format!(", line {n}")).unwrap_or_default())]
    NotifyFile {
        path: PathBuf,
        line: Option<usize>,
        message: String,
    },

    #[error("the drill left {alarms} in ALARM: setting {} back to OK failed, and until {} reset {} nothing for a real event. Run the `aws cloudwatch set-alarm-state` command shown above for each, with credentials for its account, or wait for its next evaluation", if *.count == 1 { "it" } else { "them" }, if *.count == 1 { "it is" } else { "they are" }, if *.count == 1 { "it sends" } else { "they send" })]
    DrillResetFailed {
        count: usize,
        /// "alarm `A` (account 123456789012, us-east-1)", joined.
        alarms: String,
    },

    #[error("cannot write {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// "N account(s) could not be read and ", or nothing when every account was read (a clause
/// about 0 accounts reads as if some were missing).
fn unread_accounts(accounts: usize) -> String {
    match accounts {
        0 => String::new(),
        1 => "1 account could not be read and ".to_string(),
        n => format!("{n} accounts could not be read and "),
    }
}

impl Error {
    /// Exit status for this error. Every error exits 1, so that 2 stays reserved for
    /// `--detailed-exitcode` (= "not compliant") in CI pipelines.
    pub fn exit_code(&self) -> u8 {
        1
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
