//! `cis-fix forecast`'s work: find the trail's log group (the audit's own reads, through
//! [`super::accounts`]), read its retention and size, then scan it once per control with
//! CloudWatch Logs' own evaluator (`FilterLogEvents`), page by page, tallying as pages arrive
//! ([`crate::forecast`]). Stops at `--max-events` per control, or at Ctrl-C after the page in
//! flight, with the figures so far marked "at least".

use std::io::IsTerminal;

use super::accounts::{self, Reach};
use crate::apply::interrupt::Deferral;
use crate::audit::{Options, TopicChoice};
use crate::catalog::{Catalog, Control};
use crate::error::{Error, Result};
use crate::forecast::{self, ControlForecast, Ending, Forecast, LogGroup, Tally, Window};
use crate::inventory::aws::ReadMode;
use crate::inventory::logs::{self, Scan};
use crate::session::errors::is_denied;
use crate::session::Session;

/// What to forecast over.
#[derive(Debug, Clone, Copy)]
pub struct Request {
    pub window: Window,
    /// Stop each control's scan after this many matching events.
    pub max_events: Option<u64>,
    /// Now, in ms since the epoch (for the retention and the estimate).
    pub now_ms: i64,
}

/// The log group to scan, and the session that reads it.
pub struct Source {
    pub session: Session,
    pub log_group: LogGroup,
}

/// The reads the audit makes, without options: forecast plans nothing.
fn read_options() -> Options {
    Options {
        notify: Vec::new(),
        topic: TopicChoice::Name(crate::audit::options::DEFAULT_TOPIC_NAME.to_string()),
        topic_kms_key: None,
    }
}

/// This account's trail log group; with `reach`, the organization trail's, in the account
/// that owns it (read through its role, or the caller's own credentials).
pub async fn source(session: Session, reach: Option<&Reach>) -> Result<Source> {
    let options = read_options();
    let Some(reach) = reach else {
        let snapshot = accounts::read_account(&session, &options, ReadMode::Plan, None).await?;
        let log_group =
            forecast::log_group_of(&snapshot, false).ok_or_else(|| Error::NoTrailLogGroup {
                where_: format!("of account {}", snapshot.account_id),
                org: "",
            })?;
        return Ok(Source { session, log_group });
    };
    // The organization trail most often lives in the caller's (management) account: then
    // one account's reads find it, not every member's.
    let own = accounts::read_account(&session, &options, ReadMode::Plan, None).await;
    if let Some(log_group) = own.ok().and_then(|s| own_organization_log_group(&s)) {
        return Ok(Source { session, log_group });
    }
    let reads = accounts::read_accounts(&session, reach, &options, ReadMode::Plan, None).await?;
    for read in &reads.reads {
        let Ok(snapshot) = &read.snapshot else {
            continue;
        };
        let Some(log_group) = forecast::log_group_of(snapshot, true) else {
            continue;
        };
        // A member sees the organization trail too; the group is read where it lives.
        if let Some(session) = reads.sessions.get(&log_group.account_id) {
            return Ok(Source {
                session: session.clone(),
                log_group,
            });
        }
    }
    Err(Error::NoTrailLogGroup {
        where_: format!(
            "of the organization ({} account{} read)",
            reads.reads.len(),
            if reads.reads.len() == 1 { "" } else { "s" }
        ),
        org: " --org",
    })
}

/// The organization trail's log group when it is in the account `snapshot` describes.
fn own_organization_log_group(snapshot: &crate::inventory::Snapshot) -> Option<LogGroup> {
    forecast::log_group_of(snapshot, true).filter(|g| g.account_id == snapshot.account_id)
}

/// Reads the log group's retention and size, then scans it for every control of `catalog`.
/// A failed scan ends the run in an error, after the figures so far (returned with it).
pub async fn run(
    mut source: Source,
    catalog: &Catalog,
    request: &Request,
) -> (Forecast, Option<Error>) {
    let mut notes = Vec::new();
    let group = &mut source.log_group;
    match logs::log_group_size(&source.session, &group.region, &group.name).await {
        Ok(Some(size)) => {
            group.retention_days = size.retention_days;
            group.stored_bytes = size.stored_bytes;
            group.estimate(&request.window, request.now_ms);
        }
        Ok(None) => notes.push(format!(
            "DescribeLogGroups does not list log group `{}`: its retention and size are unknown",
            group.name
        )),
        Err(e) => notes.push(format!(
            "the log group's retention and size are unknown ({e})"
        )),
    }
    notes.extend(forecast::notes(group, &request.window, request.now_ms));
    let (controls, error) = scan_all(&source, catalog, request).await;
    let document = Forecast {
        format_version: forecast::FORMAT_VERSION,
        benchmark: catalog.benchmark.clone(),
        since: forecast::rfc3339(request.window.start_ms),
        until: forecast::rfc3339(request.window.end_ms),
        log_group: source.log_group,
        complete: controls.iter().all(|c| c.complete),
        notes,
        summary: forecast::Summary::of(&controls),
        controls,
    };
    (document, error)
}

/// One scan per control, in catalog order. After a failure or Ctrl-C, the controls not
/// scanned are listed as stopped, with nothing counted.
async fn scan_all(
    source: &Source,
    catalog: &Catalog,
    request: &Request,
) -> (Vec<ControlForecast>, Option<Error>) {
    let ctrl_c = Deferral::new(
        Some("stopping the forecast after the page in flight (Ctrl-C again to quit at once)"),
        None,
    );
    let progress = progress_bar(catalog.controls.len());
    let ticket = progress.as_ref().map(crate::term::show_status);
    let mut done = Vec::new();
    let mut stop: Option<(String, Option<Error>)> = None;
    for control in &catalog.controls {
        let tally = Tally::new(&control.alarm);
        if let Some((why, _)) = &stop {
            let ending = Ending::Stopped(format!("not scanned: {why}"));
            done.push(forecast::control_forecast(
                control,
                &tally,
                &request.window,
                ending,
                0,
            ));
            continue;
        }
        if let Some(bar) = &progress {
            bar.set_message(format!("{} {}", control.id, control.slug));
        }
        let scanned = scan(source, control, request, tally, &ctrl_c, progress.as_ref()).await;
        if let Some(bar) = &progress {
            bar.inc(1);
        }
        let (forecast, stopped) = scanned;
        done.push(forecast);
        stop = stopped;
    }
    if let Some(bar) = &progress {
        bar.finish_and_clear();
    }
    if let Some(ticket) = ticket {
        crate::term::forget_status(ticket);
    }
    (done, stop.and_then(|(_, error)| error))
}

/// Why the scans stop: the words said of the controls not scanned, and the run's error.
type Stop = Option<(String, Option<Error>)>;

/// Scans one control's pattern, page by page, until the last page, `--max-events` or
/// Ctrl-C; a failed page ends it (and the run) with an error.
async fn scan(
    source: &Source,
    control: &Control,
    request: &Request,
    mut tally: Tally,
    ctrl_c: &Deferral,
    progress: Option<&indicatif::ProgressBar>,
) -> (ControlForecast, Stop) {
    let group = &source.log_group;
    let scan = Scan {
        region: &group.region,
        log_group: &group.name,
        pattern: &control.pattern_text,
        window: request.window,
    };
    let (mut token, mut pages) = (None, 0u64);
    let (ending, stop) = loop {
        let page = match logs::filter_page(&source.session, &scan, token.take()).await {
            Ok(page) => page,
            Err(e) => {
                let error = denied_or(e, tally.matches(), control);
                let why = format!("the scan of {} failed", control.id);
                break (Ending::Stopped(error.to_string()), Some((why, Some(error))));
            }
        };
        pages += 1;
        let mut left = page.events.len();
        for event in &page.events {
            if request.max_events.is_some_and(|max| tally.matches() >= max) {
                break;
            }
            tally.add(event);
            left -= 1;
        }
        if let Some(bar) = progress {
            bar.set_message(format!(
                "{} {}: {} matched, page {pages}",
                control.id,
                control.slug,
                tally.matches()
            ));
        }
        // At --max-events, the count is short only when events remain.
        if let Some(max) = request.max_events.filter(|max| tally.matches() >= *max) {
            if left > 0 || page.next_token.is_some() {
                break (Ending::Stopped(format!("--max-events {max}")), None);
            }
        }
        match page.next_token {
            _ if ctrl_c.requested() => {
                let error = Error::Interrupted {
                    progress: format!("the forecast stopped during the scan of {}", control.id),
                    advice: "the figures above are what was counted so far (\"at least\")",
                };
                break (
                    Ending::Stopped("Ctrl-C".into()),
                    Some(("Ctrl-C".into(), Some(error))),
                );
            }
            Some(next) => token = Some(next),
            None => break (Ending::Complete, None),
        }
    };
    let forecast = forecast::control_forecast(control, &tally, &request.window, ending, pages);
    (forecast, stop)
}

/// A denied scan says which permission forecast needs; any other error is as AWS said it.
fn denied_or(error: Error, counted: u64, control: &Control) -> Error {
    match error {
        Error::Aws {
            operation,
            region,
            message,
        } if is_denied(&message) => Error::ForecastDenied {
            permission: operation,
            region: region.unwrap_or_default(),
            done: format!(
                " (the scan of {} counted {counted} events before)",
                control.id
            ),
        },
        other => other,
    }
}

/// Progress on stderr, only on a terminal: never into stdout or a log.
fn progress_bar(controls: usize) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let bar = indicatif::ProgressBar::new(u64::try_from(controls).unwrap_or(u64::MAX));
    bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
    if let Ok(style) =
        indicatif::ProgressStyle::with_template("forecast {pos}/{len} {wide_msg} {elapsed}")
    {
        bar.set_style(style);
    }
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    Some(bar)
}
