//! `cis-fix pattern check|test`: for people writing filter patterns by hand. No credentials,
//! no AWS call.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::json;

use super::args::{Benchmark, Color, Format};
use super::output::print;
use super::ExitStatus;
use crate::audit::accepted;
use crate::audit::accepted::relation_name;
use crate::catalog::Control;
use crate::error::{Error, Result};
use crate::events;
use crate::pattern::{self, Pattern};
use crate::render::layout::stdout_width;
use crate::render::pattern::Matched;

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
    // Against the control's own pattern, or the alternative the pattern satisfies it through.
    let (comparison, decider) = accepted::judge_detailed(&pattern, &control);
    let alternative = accepted::chain_alternative(&control, decider);
    let covers = comparison.relation.satisfies();
    let refused = (!covers)
        .then(|| accepted::not_accepted(&pattern, &control))
        .flatten();
    let rendered = match args.format {
        Format::Json => {
            let value = json!({
                "control": control.id,
                "slug": control.slug,
                "relation": relation_name(comparison.relation),
                "covers": covers,
                "compared_with": if alternative.is_some() { "alternative" } else { "control" },
                "alternative": alternative,
                "not_accepted": refused.map(|(i, a)| json!({
                    "name": a.label(i), "note": a.note, "pattern": a.text,
                })),
                "readings": comparison.per_reading.iter().map(|(reading, relation)| json!({
                    "reading": reading.to_string(),
                    "relation": relation_name(*relation),
                })).collect::<Vec<_>>(),
                "pattern_ambiguous": comparison.ambiguous.iter().map(|a| json!({
                    "term": a.term, "reason": a.reason,
                })).collect::<Vec<_>>(),
                "counterexample": comparison.counterexample,
                "counterexample_reading": comparison.counterexample_reading.map(|r| r.to_string()),
            });
            serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
        }
        Format::Text => {
            let check = crate::render::pattern::Check {
                control: &control,
                comparison: &comparison,
                alternative: alternative.as_ref(),
                refused,
            };
            crate::render::pattern::check_text(&check, stdout_width(), args.color.painter())
        }
    };
    print(&rendered)?;
    Ok(if covers {
        ExitStatus::Success
    } else {
        ExitStatus::NotCompliant
    })
}

/// A file's bytes (`-`: standard input), at most [`events::MAX_INPUT`] of them.
fn read_file(path: &PathBuf) -> Result<Vec<u8>> {
    read_within(path, events::MAX_INPUT)
}

fn read_within(path: &PathBuf, limit: usize) -> Result<Vec<u8>> {
    let fail = |e: std::io::Error| Error::Usage(format!("cannot read {}: {e}", path.display()));
    let too_large = || {
        Error::Usage(format!(
            "cannot read events from {}: refused: it holds more than {}",
            path.display(),
            events::too_large_advice(limit)
        ))
    };
    let mut bytes = Vec::new();
    let read = if path.as_os_str() == "-" {
        events::read_capped(&mut std::io::stdin().lock(), limit, &mut bytes)
    } else {
        let mut file = std::fs::File::open(path).map_err(fail)?;
        // A file's size is known: refused before it is read, else read into a buffer of that
        // size (as `fs::read` does) rather than grown to it.
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        match usize::try_from(size) {
            Ok(size) if size <= limit => bytes.reserve_exact(size),
            _ => return Err(too_large()),
        }
        events::read_capped(&mut file, limit, &mut bytes)
    };
    match read {
        Ok(()) => Ok(bytes),
        Err(events::CappedError::TooLarge) => Err(too_large()),
        Err(events::CappedError::Io(e)) => Err(fail(e)),
    }
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
    let mut matches = Vec::new();
    let mut total = 0usize;
    for path in &args.files {
        let bytes = read_file(path)?;
        let events = events::parse(&bytes).map_err(|e| {
            Error::Usage(format!("cannot read events from {}: {e}", path.display()))
        })?;
        total = total.saturating_add(events.len());
        for event in events {
            if pattern.matches(&event.value) {
                matches.push((path.display().to_string(), event));
            }
        }
    }
    let rendered = match args.format {
        Format::Json => {
            let value = json!({
                "events": total,
                "matched": matches.len(),
                "matches": matches.iter().map(|(file, e)| json!({
                    "file": file,
                    "position": e.position,
                    "event_id": e.value.get("eventID"),
                    "event_name": e.value.get("eventName"),
                    "event_time": e.value.get("eventTime"),
                })).collect::<Vec<_>>(),
            });
            serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
        }
        Format::Text => {
            let matched: Vec<Matched> = matches
                .iter()
                .map(|(_, e)| Matched { event: &e.value })
                .collect();
            crate::render::pattern::test_text(&matched, total, stdout_width(), args.color.painter())
        }
    };
    print(&rendered)?;
    Ok(ExitStatus::Success)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_file_over_the_limit_is_refused_and_one_within_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.json");
        std::fs::write(&path, b"{\"a\": 1}\n\n").unwrap();
        assert_eq!(read_within(&path, 10).unwrap(), b"{\"a\": 1}\n\n");
        let err = read_within(&path, 9).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "cannot read events from {}: refused: it holds more than 9 bytes, the most cis-fix reads from one input. Split it into smaller files and pass them all (each is read on its own)",
                path.display()
            )
        );
    }
}
