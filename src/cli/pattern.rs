//! `cis-fix pattern check|test`: for people writing filter patterns by hand. No credentials,
//! no AWS call.

use std::path::PathBuf;

use clap::{Args, Subcommand};

use super::args::{Benchmark, Color, Format};
use super::output::print;
use super::window::{parse_since, parse_until};
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
    /// or not, JSON lines or a JSON array; a directory such as a copy of a CloudTrail bucket;
    /// `-` for stdin), as logs:TestMetricFilter would, offline. Events are read one at a time.
    Test(TestArgs),
    /// Print a SQL query that selects the events a pattern matches (the reading `pattern test`
    /// uses) from the CloudTrail table of AWS's Athena DDL, for Athena or for DuckDB over a
    /// local copy (docs/sql.md). Where the table cannot tell what the pattern tells (a missing
    /// field from a null, a number from a string), the query selects more, never fewer, and
    /// says so in a comment; exit 1 when a pattern cannot be translated so.
    Sql(SqlArgs),
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
        required_unless_present_any = ["pattern", "controls"],
        conflicts_with_all = ["pattern", "controls"]
    )]
    pub control: Option<String>,

    /// Test this pattern.
    #[arg(long, value_name = "PATTERN", conflicts_with = "controls")]
    pub pattern: Option<String>,

    /// Count the matches of each of these controls (ids or slugs, comma-separated), in one
    /// pass over the input; no event is listed.
    #[arg(long, value_name = "IDS", value_delimiter = ',')]
    pub controls: Vec<String>,

    /// Stop after this many matches (output and reading).
    #[arg(long, value_name = "N", conflicts_with = "controls")]
    pub max_matches: Option<u64>,

    /// Only events from this time: a date (2026-11-01), an RFC 3339 time, or a duration back
    /// from now (7d, 12h). Files whose path says they were delivered over a day earlier are
    /// not opened.
    #[arg(long, value_name = "WHEN", value_parser = parse_since)]
    pub since: Option<time::OffsetDateTime>,

    /// Only events before this time: a date (the whole day is included), an RFC 3339 time,
    /// or a duration back from now.
    #[arg(long, value_name = "WHEN", value_parser = parse_until)]
    pub until: Option<time::OffsetDateTime>,

    /// Event files or directories (walked recursively, in path order, for `.json`, `.json.gz`,
    /// `.jsonl` and `.jsonl.gz` files; CloudTrail-Digest skipped): CloudTrail log files
    /// (`{"Records": [...]}`), JSON lines or a JSON array; `-` reads standard input.
    #[arg(value_name = "FILE", required = true)]
    pub files: Vec<PathBuf>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    #[command(flatten)]
    pub color: Color,
}

#[derive(Debug, Args)]
pub struct SqlArgs {
    #[command(flatten)]
    pub scope: Benchmark,

    /// Translate the pattern of this control (id or slug).
    #[arg(
        long,
        value_name = "ID",
        required_unless_present = "pattern",
        conflicts_with = "pattern"
    )]
    pub control: Option<String>,

    /// Translate this pattern.
    #[arg(long, value_name = "PATTERN")]
    pub pattern: Option<String>,

    /// The SQL engine: Amazon Athena (Trino's SQL) or DuckDB.
    #[arg(long, value_enum, default_value_t = SqlDialect::Athena)]
    pub dialect: SqlDialect,

    /// The CloudTrail table: a name, or `database.name`.
    #[arg(long, value_name = "NAME", default_value = "cloudtrail_logs")]
    pub table: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SqlDialect {
    Athena,
    Duckdb,
}

impl From<SqlDialect> for pattern::sql::Dialect {
    fn from(dialect: SqlDialect) -> Self {
        match dialect {
            SqlDialect::Athena => pattern::sql::Dialect::Athena,
            SqlDialect::Duckdb => pattern::sql::Dialect::DuckDb,
        }
    }
}

pub(super) fn run(args: PatternArgs) -> Result<ExitStatus> {
    match args.command {
        PatternCommand::Check(args) => check(args),
        PatternCommand::Test(args) => test(args),
        PatternCommand::Sql(args) => sql(args),
    }
}

fn sql(args: SqlArgs) -> Result<ExitStatus> {
    let table =
        pattern::sql::TableName::parse(&args.table).map_err(|e| Error::Usage(e.to_string()))?;
    let pattern = match (&args.control, &args.pattern) {
        (Some(id), _) => control(&args.scope, id)?.pattern,
        (None, Some(text)) => parse(text, "the pattern")?,
        (None, None) => {
            return Err(Error::Usage(
                "pass --control ID or --pattern PATTERN".into(),
            ))
        }
    };
    let query = pattern::sql::query(&pattern, args.dialect.into(), &table)
        .map_err(|e| Error::Usage(format!("cannot translate the pattern to SQL: {e}")))?;
    print(&query.text)?;
    Ok(ExitStatus::Success)
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
    let (patterns, controls) = patterns(&args)?;
    let window = run::pattern::Window {
        since: args.since,
        until: args.until,
    };
    let inputs = run::pattern::inputs(&args.files, &window)?;
    let options = run::pattern::Options {
        window,
        max_matches: args.max_matches,
        jobs: std::thread::available_parallelism().map_or(1, |n| n.get()),
        list: controls.is_empty(),
        block: crate::events::stream::LINES_BLOCK,
    };
    let (width, painter) = (stdout_width(), args.color.painter());
    let json = matches!(args.format, Format::Json);
    let mut out = Batched::default();
    if json {
        out.push(&view::test_json_head())?;
    }
    let mut any = false;
    let summary = run::pattern::test(&patterns, &inputs, &options, &mut |m| {
        let text = match json {
            true => view::test_json_match(m, !any),
            false => view::test_line(m, width, painter),
        };
        any = true;
        out.push(&text)
    })?;
    out.push(&match json {
        true => view::test_json_tail(&summary, &controls, any),
        false => view::test_summary(&summary, &controls, width, painter),
    })?;
    out.flush()?;
    Ok(ExitStatus::Success)
}

/// With `--controls`, each pattern's control: id and slug.
type Named = Vec<(String, String)>;

/// The patterns to test, and with `--controls` the id and slug of each one's control.
fn patterns(args: &TestArgs) -> Result<(Vec<Pattern>, Named)> {
    if !args.controls.is_empty() {
        let catalog = args.scope.full_catalog()?.select(&args.controls)?;
        let named = catalog
            .controls
            .iter()
            .map(|c| (c.id.clone(), c.slug.clone()));
        let patterns = catalog.controls.iter().map(|c| c.pattern.clone());
        return Ok((patterns.collect(), named.collect()));
    }
    let pattern = match (&args.control, &args.pattern) {
        (Some(id), _) => control(&args.scope, id)?.pattern,
        (None, Some(text)) => parse(text, "the pattern")?,
        (None, None) => {
            return Err(Error::Usage(
                "pass --control ID, --controls IDS or --pattern PATTERN".into(),
            ))
        }
    };
    Ok((vec![pattern], Vec::new()))
}

/// Output gathered into writes of 64 KiB: one write per match would cost more than the match.
#[derive(Default)]
struct Batched(String);

impl Batched {
    fn push(&mut self, text: &str) -> Result<()> {
        self.0.push_str(text);
        if self.0.len() >= 64 * 1024 {
            self.flush()?;
        }
        Ok(())
    }

    fn flush(&mut self) -> Result<()> {
        print(&self.0)?;
        self.0.clear();
        Ok(())
    }
}
