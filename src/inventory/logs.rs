//! `cis-fix forecast`'s reads of a trail's log group: its retention and size
//! (`DescribeLogGroups`), and the events a filter pattern matches over a window, evaluated by
//! CloudWatch Logs itself (`FilterLogEvents`), one page at a time. Nothing is written.

use std::time::Duration;

use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::error::Result;
use crate::forecast::{Event, Window};
use crate::session::errors::aws_error;
use crate::session::Session;

/// A log group's retention and size, as DescribeLogGroups gives them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LogGroupSize {
    pub retention_days: Option<i32>,
    pub stored_bytes: Option<i64>,
}

/// The retention and stored bytes of log group `name`; `None` when it does not exist.
pub async fn log_group_size(
    session: &Session,
    region: &str,
    name: &str,
) -> Result<Option<LogGroupSize>> {
    let client = session.logs(region);
    let mut token: Option<String> = None;
    loop {
        // A prefix lists its longer namesakes too: page until the exact name.
        let out = client
            .describe_log_groups()
            .log_group_name_prefix(name)
            .set_next_token(token.take())
            .send()
            .await
            .map_err(|e| aws_error("logs:DescribeLogGroups", region, e))?;
        let groups = out.log_groups.unwrap_or_default();
        if let Some(group) = groups
            .iter()
            .find(|g| g.log_group_name.as_deref() == Some(name))
        {
            return Ok(Some(LogGroupSize {
                retention_days: group.retention_in_days,
                stored_bytes: group.stored_bytes,
            }));
        }
        match out.next_token {
            Some(next) if !next.is_empty() => token = Some(next),
            _ => return Ok(None),
        }
    }
}

/// One page of FilterLogEvents' answer.
#[derive(Debug, Default)]
pub struct Page {
    pub events: Vec<Event>,
    /// More may follow (a page may be empty and still have one: keep asking).
    pub next_token: Option<String>,
    /// Throttled attempts this page took beyond the SDK's own retries.
    pub throttled: u32,
}

/// What one scan asks: the log group, the pattern and the window.
#[derive(Debug, Clone, Copy)]
pub struct Scan<'a> {
    pub region: &'a str,
    pub log_group: &'a str,
    pub pattern: &'a str,
    pub window: Window,
}

/// Waits after a page still throttled once the SDK gave up: FilterLogEvents allows 5 calls
/// a second per account and region, which other tools may be using too. Bounded: after the
/// last, the error stands.
const THROTTLE_WAITS: [Duration; 4] = [
    Duration::from_secs(1),
    Duration::from_secs(2),
    Duration::from_secs(4),
    Duration::from_secs(8),
];

/// The page of `scan` after `token` (the first page without one). Throttling is retried by
/// the SDK (standard mode, `--max-attempts`), then by up to four waits here.
pub async fn filter_page(
    session: &Session,
    scan: &Scan<'_>,
    token: Option<String>,
) -> Result<Page> {
    let client = session.logs(scan.region);
    let mut throttled = 0u32;
    loop {
        let out = client
            .filter_log_events()
            .log_group_name(scan.log_group)
            .filter_pattern(scan.pattern)
            .start_time(scan.window.start_ms)
            .end_time(scan.window.end_ms)
            .set_next_token(token.clone())
            .send()
            .await;
        let out = match out {
            Ok(out) => out,
            Err(e) => {
                let wait = THROTTLE_WAITS.get(throttled as usize);
                match (e.code(), wait) {
                    (Some("ThrottlingException"), Some(wait)) => {
                        throttled += 1;
                        tokio::time::sleep(*wait).await;
                        continue;
                    }
                    _ => return Err(aws_error("logs:FilterLogEvents", scan.region, e)),
                }
            }
        };
        let events = out
            .events
            .unwrap_or_default()
            .into_iter()
            .map(|e| Event {
                timestamp_ms: e.timestamp.unwrap_or_default(),
                message: e.message.unwrap_or_default(),
            })
            .collect();
        return Ok(Page {
            events,
            next_token: out.next_token.filter(|t| !t.is_empty()),
            throttled,
        });
    }
}
