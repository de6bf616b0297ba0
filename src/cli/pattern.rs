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
    /// or not, JSON lines or a JSON array; a directory such as a copy of a CloudTrail bucket;
    /// `-` for stdin), as logs:TestMetricFilter would, offline. Events are read one at a time.
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

/// `--since`: a date is its midnight (UTC).
fn parse_since(text: &str) -> std::result::Result<time::OffsetDateTime, String> {
    when(text, false)
}

/// `--until`: a date is the end of that day.
fn parse_until(text: &str) -> std::result::Result<time::OffsetDateTime, String> {
    when(text, true)
}

/// A date (`2026-11-01`), an RFC 3339 time, or a duration back from now (`7d`, `12h`).
fn when(text: &str, end_of_day: bool) -> std::result::Result<time::OffsetDateTime, String> {
    let rfc3339 = time::format_description::well_known::Rfc3339;
    if let Ok(time) = time::OffsetDateTime::parse(text, &rfc3339) {
        return Ok(time);
    }
    // A date is its midnight in UTC, as CloudTrail's paths and times are.
    let midnight = time::OffsetDateTime::parse(&format!("{text}T00:00:00Z"), &rfc3339);
    if let Ok(date) = midnight.map(|t| t.date()) {
        let day = if end_of_day {
            date.next_day()
        } else {
            Some(date)
        };
        return day
            .map(|d| d.midnight().assume_utc())
            .ok_or_else(|| format!("`{text}` is out of range"));
    }
    let ago = humantime::parse_duration(text).map_err(|_| {
        format!("`{text}` is not a date (2026-11-01), an RFC 3339 time or a duration (7d, 12h)")
    })?;
    let ago = time::Duration::try_from(ago).map_err(|e| format!("`{text}`: {e}"))?;
    time::OffsetDateTime::now_utc()
        .checked_sub(ago)
        .ok_or_else(|| format!("`{text}` reaches too far back"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_and_until_take_dates_times_and_durations() {
        let day = |text| when(text, false).unwrap();
        assert_eq!(
            day("2026-11-01").to_string(),
            "2026-11-01 0:00:00.0 +00:00:00"
        );
        let end = when("2026-11-01", true).unwrap();
        assert_eq!(end.to_string(), "2026-11-02 0:00:00.0 +00:00:00");
        let time = day("2026-11-01T10:30:00+02:00");
        assert_eq!(
            time.unix_timestamp(),
            day("2026-11-01T08:30:00Z").unix_timestamp()
        );
        let ago = time::OffsetDateTime::now_utc() - day("7d");
        assert!(
            (ago - time::Duration::days(7)).abs() < time::Duration::minutes(1),
            "{ago}"
        );
        assert!((time::OffsetDateTime::now_utc() - day("12h")) > time::Duration::hours(11));
        let err = when("last tuesday", false).unwrap_err();
        assert!(err.contains("is not a date (2026-11-01)"), "{err}");
        assert!(when("2026-13-01", false).is_err());
    }
}
