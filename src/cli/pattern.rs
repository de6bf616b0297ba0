//! `cis-fix pattern check|test`: for people writing filter patterns by hand. No credentials,
//! no AWS call.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::args::{Benchmark, Color, Format};
use super::output::print;
use super::ExitStatus;
use crate::audit::accepted;
use crate::catalog::Control;
use crate::error::{Error, Result};
use crate::pattern::{self, Pattern};
use crate::render::layout::stdout_width;
use crate::render::pattern as view;
use crate::run;

#[derive(Debug, Args)]
pub struct PatternArgs {
    #[command(subcommand)]
    pub command: PatternCommand,
}

#[derive(Debug, Subcommand)]
pub enum PatternCommand {
    /// Compare a hand-written pattern with a control's, under every reading AWS's
    /// documentation leaves open. Exit 0 when it covers the control under every reading, 2
    /// otherwise, 1 when it does not parse.
    Check(CheckArgs),
    /// Backtest a pattern on recorded events (CloudTrail log files as S3 stores them, gzipped
    /// or not, or JSON lines; `-` for stdin), as logs:TestMetricFilter would, offline.
    Test(TestArgs),
}

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    pub scope: Benchmark,

    /// The control to compare with (id or slug).
    #[arg(long, value_name = "ID")]
    pub control: String,

    /// The pattern, e.g. '{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }'.
    #[arg(value_name = "PATTERN")]
    pub pattern: String,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    #[command(flatten)]
    pub color: Color,
}

#[derive(Debug, Args)]
pub struct TestArgs {
    #[command(flatten)]
    pub scope: Benchmark,

    /// Test the pattern of this control (id or slug).
    #[arg(
        long,
        value_name = "ID",
        required_unless_present = "pattern",
        conflicts_with = "pattern"
    )]
    pub control: Option<String>,

    /// Test this pattern.
    #[arg(long, value_name = "PATTERN")]
    pub pattern: Option<String>,

    /// Event files: CloudTrail log files (`{"Records": [...]}`, .json or .json.gz) or JSON
    /// lines; `-` reads standard input.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    #[command(flatten)]
    pub color: Color,
}

pub(super) fn run(args: PatternArgs) -> Result<ExitStatus> {
    match args.command {
        PatternCommand::Check(args) => check(args),
        PatternCommand::Test(args) => test(args),
    }
}

fn control(scope: &Benchmark, wanted: &str) -> Result<Control> {
    let catalog = scope.full_catalog()?.select(&[wanted.to_string()])?;
    catalog
        .controls
        .into_iter()
        .next()
        .ok_or_else(|| Error::Usage(format!("no control `{wanted}` in the catalog")))
}

fn parse(text: &str, what: &str) -> Result<Pattern> {
    pattern::parse(text).map_err(|e| Error::Usage(format!("{what} does not parse: {e}")))
}

fn check(args: CheckArgs) -> Result<ExitStatus> {
    let control = control(&args.scope, &args.control)?;
    let pattern = parse(&args.pattern, "the pattern")?;
    let check = accepted::check(&pattern, &control);
    print(&match args.format {
        Format::Json => view::check_json(&check),
        Format::Text => view::check_text(&check, stdout_width(), args.color.painter()),
    })?;
    Ok(match check.covers() {
        true => ExitStatus::Success,
        false => ExitStatus::NotCompliant,
    })
}

fn test(args: TestArgs) -> Result<ExitStatus> {
    let pattern = match (&args.control, &args.pattern) {
        (Some(id), _) => control(&args.scope, id)?.pattern,
        (None, Some(text)) => parse(text, "the pattern")?,
        (None, None) => {
            return Err(Error::Usage(
                "pass --control ID or --pattern PATTERN".into(),
            ))
        }
    };
    let tested = run::pattern::test(&pattern, &args.files)?;
    let (matched, total) = (&tested.matched, tested.total);
    print(&match args.format {
        Format::Json => view::test_json(matched, total),
        Format::Text => view::test_text(matched, total, stdout_width(), args.color.painter()),
    })?;
    Ok(ExitStatus::Success)
}
