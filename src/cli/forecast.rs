//! `cis-fix forecast`: how often each control's alarm would have fired over a window, asked
//! of CloudWatch Logs itself over the trail's log group. Read-only.

use std::time::Instant;

use clap::Args;

use super::args::{Accounts, Color, Format, Scope};
use super::output::print;
use super::window::{parse_since, parse_until};
use super::ExitStatus;
use crate::error::{Error, Result};
use crate::forecast::Window;
use crate::printer::Printer;
use crate::render::forecast as view;
use crate::render::layout::stdout_width;
use crate::run::forecast::{self as work, Request};
use crate::session::Session;

#[derive(Debug, Args)]
pub struct ForecastArgs {
    #[command(flatten)]
    pub scope: Scope,

    /// Start of the window: a date (2026-11-01), an RFC 3339 time, or a duration back from
    /// now (7d, 12h).
    #[arg(long, value_name = "WHEN", value_parser = parse_since, default_value = "7d")]
    pub since: time::OffsetDateTime,

    /// End of the window: a date (the whole day is included), an RFC 3339 time, or a
    /// duration back from now. Default: now.
    #[arg(long, value_name = "WHEN", value_parser = parse_until)]
    pub until: Option<time::OffsetDateTime>,

    /// Stop each control's scan after this many matching events; its figures are then "at
    /// least".
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub max_events: Option<u64>,

    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    #[command(flatten)]
    pub accounts: Accounts,

    #[command(flatten)]
    pub color: Color,

    /// Print the number of AWS API calls and the wall time to stderr.
    #[arg(long)]
    pub stats: bool,

    /// Log each AWS call with its duration to stderr.
    #[arg(short, long)]
    pub verbose: bool,
}

impl ForecastArgs {
    /// The window in ms since the epoch; an empty or reversed one is a usage error.
    fn window(&self, now: time::OffsetDateTime) -> Result<Window> {
        let ms = |t: time::OffsetDateTime| {
            i64::try_from(t.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
        };
        let until = self.until.unwrap_or(now);
        if until <= self.since {
            return Err(Error::Usage(format!(
                "--until ({until}) is not after --since ({}): give a window that moves forward",
                self.since
            )));
        }
        Ok(Window {
            start_ms: ms(self.since),
            // FilterLogEvents' endTime is inclusive: one ms less keeps `until` out.
            end_ms: ms(until) - 1,
        })
    }
}

pub(super) async fn run(
    args: ForecastArgs,
    connect: &crate::session::Connect,
) -> Result<ExitStatus> {
    let started = Instant::now();
    let printer = Printer::new(args.format);
    // A bad catalog, control list or window fails before any AWS call.
    let catalog = args.scope.catalog()?;
    let now = time::OffsetDateTime::now_utc();
    let request = Request {
        window: args.window(now)?,
        max_events: args.max_events,
        now_ms: i64::try_from(now.unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX),
    };
    let session = Session::connect(args.scope.region.as_deref(), connect).await?;
    let reach = args.accounts.reach();
    let caller = session.clone();
    let source = work::source(session, reach.as_ref()).await?;
    let (forecast, error) = work::run(source, &catalog, &request).await;
    print(&match args.format {
        Format::Json => view::json(&forecast) + "\n",
        Format::Text => view::text(&forecast, stdout_width(), args.color.painter()),
    })?;
    if args.stats {
        printer.stats(&caller, started);
    }
    match error {
        Some(error) => Err(error),
        None => Ok(ExitStatus::Success),
    }
}
