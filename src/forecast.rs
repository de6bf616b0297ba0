//! `cis-fix forecast`'s figures, pure: CloudWatch Logs answers which events of the trail's log
//! group match a control's pattern (`FilterLogEvents`); this module turns those events (their
//! timestamp and message, nothing else) into what a user reads before enabling the alarm:
//! matches per day, the alarm periods that would have been in ALARM with the control's own
//! statistic, period, threshold and comparison, and who and what is behind the matches.
//!
//! Events are tallied as pages arrive, so memory depends on the distinct values seen, never
//! on the number of events.

use std::collections::{BTreeMap, HashMap};

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::catalog::{AlarmSpec, Control};
use crate::inventory::{LogGroupRef, RegionSnapshot, Snapshot};

/// Version of the forecast's JSON (documented in docs/json.md).
pub const FORMAT_VERSION: u32 = 1;

/// How many of each kind of value behind the matches are listed.
pub const TOP: usize = 5;

/// Stored bytes beyond which a scan is said to be large: FilterLogEvents reads every stored
/// event of the window, at 5 calls a second per account and region.
pub const LARGE_SCAN_BYTES: i64 = 10 * 1_000_000_000;

const MS_PER_DAY: i64 = 86_400_000;

/// One event as FilterLogEvents returns it: when (ms since the epoch) and the message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    pub timestamp_ms: i64,
    pub message: String,
}

/// The scanned window, [start, end] in ms since the epoch (FilterLogEvents' startTime and
/// endTime).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    pub start_ms: i64,
    pub end_ms: i64,
}

impl Window {
    /// The days (UTC, `YYYY-MM-DD`) the window touches, in order.
    pub fn days(&self) -> Vec<String> {
        let first = self.start_ms.div_euclid(MS_PER_DAY);
        let last = self.end_ms.max(self.start_ms).div_euclid(MS_PER_DAY);
        (first..=last).filter_map(day_name).collect()
    }

    /// The length of the window in days (fractional).
    pub fn length_days(&self) -> f64 {
        (self.end_ms - self.start_ms).max(0) as f64 / MS_PER_DAY as f64
    }
}

/// `YYYY-MM-DD` of the day `index` days after 1970-01-01.
fn day_name(index: i64) -> Option<String> {
    let seconds = index.checked_mul(86_400)?;
    let date = time::OffsetDateTime::from_unix_timestamp(seconds)
        .ok()?
        .date();
    Some(format!(
        "{:04}-{:02}-{:02}",
        date.year(),
        u8::from(date.month()),
        date.day()
    ))
}

/// What one control's matching events add up to, so far.
#[derive(Debug, Default)]
pub struct Tally {
    matches: u64,
    per_day: BTreeMap<i64, u64>,
    /// Matching events per alarm period (by the period's start, in seconds).
    per_period: BTreeMap<i64, u64>,
    event_names: HashMap<String, u64>,
    identities: HashMap<String, u64>,
    source_ips: HashMap<String, u64>,
    period_seconds: i64,
}

impl Tally {
    /// A tally whose periods are the alarm's (`period` seconds, aligned to the epoch, as
    /// CloudWatch aligns a metric's periods).
    pub fn new(alarm: &AlarmSpec) -> Tally {
        Tally {
            period_seconds: i64::from(alarm.period.max(1)),
            ..Tally::default()
        }
    }

    pub fn matches(&self) -> u64 {
        self.matches
    }

    /// Counts one matching event. A message that is not a JSON object still counts; it adds
    /// nothing to the top values.
    pub fn add(&mut self, event: &Event) {
        self.matches += 1;
        *self
            .per_day
            .entry(event.timestamp_ms.div_euclid(MS_PER_DAY))
            .or_default() += 1;
        let period = event
            .timestamp_ms
            .div_euclid(1000)
            .div_euclid(self.period_seconds);
        *self.per_period.entry(period).or_default() += 1;
        let Ok(record) = serde_json::from_str::<Fields>(&event.message) else {
            return;
        };
        let named = |v: Option<String>| v.filter(|v| !v.is_empty());
        if let Some(name) = named(record.event_name) {
            *self.event_names.entry(name).or_default() += 1;
        }
        if let Some(who) = record
            .user_identity
            .and_then(|w| named(w.arn).or(named(w.kind)))
        {
            *self.identities.entry(who).or_default() += 1;
        }
        if let Some(ip) = named(record.source_ip_address) {
            *self.source_ips.entry(ip).or_default() += 1;
        }
    }
}

/// The fields of a CloudTrail record the top values come from; the rest is skipped unread.
#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Fields {
    #[serde(default, deserialize_with = "text")]
    event_name: Option<String>,
    #[serde(default)]
    user_identity: Option<Identity>,
    #[serde(default, rename = "sourceIPAddress", deserialize_with = "text")]
    source_ip_address: Option<String>,
}

#[derive(Deserialize)]
struct Identity {
    #[serde(default, deserialize_with = "text")]
    arn: Option<String>,
    #[serde(default, rename = "type", deserialize_with = "text")]
    kind: Option<String>,
}

/// A string field, or nothing when it holds anything else (a number, an object, null).
fn text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => Some(s),
        _ => None,
    })
}

/// The forecast of one control.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct ControlForecast {
    pub id: String,
    pub slug: String,
    pub title: String,
    /// The pattern sent to FilterLogEvents: the control's, as the catalog writes it.
    pub pattern: String,
    /// The matching events in the window (at least this many when `complete` is false).
    pub matches: u64,
    /// `matches` over the window's length in days.
    pub matches_per_day: f64,
    /// Whether the scan read the whole window; false when `--max-events`, Ctrl-C or an error
    /// stopped it, and every figure is then "at least".
    pub complete: bool,
    /// Why the scan stopped early, when it did.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<String>,
    /// Matches per day (UTC), every day of the window, zero included.
    pub per_day: Vec<DayCount>,
    pub alarm: AlarmForecast,
    /// The values behind the matches, most frequent first (ties by value), at most 5 each.
    pub top: Top,
    /// FilterLogEvents calls made for this control (pages, throttled retries not counted).
    pub pages: u64,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct DayCount {
    pub date: String,
    pub matches: u64,
}

/// The control's alarm, replayed on the matches: each period's datapoint is the statistic of
/// the metric value over the period's matching events; a period without one has no datapoint
/// (missing data, as a metric filter without a default value leaves it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct AlarmForecast {
    pub statistic: String,
    pub period: i32,
    pub threshold: f64,
    pub comparison_operator: String,
    pub evaluation_periods: i32,
    /// Periods at whose end the alarm would have been in ALARM: the last
    /// `evaluation_periods` datapoints all breach.
    pub periods_in_alarm: u64,
    /// Runs of consecutive periods in ALARM: each starts with a transition to ALARM, which
    /// notifies the alarm's topic.
    pub alarm_episodes: u64,
    /// The most matching events in one period.
    pub busiest_period: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Top {
    pub event_names: Vec<Counted>,
    /// `userIdentity.arn`, or `userIdentity.type` when the event has no ARN (AWSService, …).
    pub identities: Vec<Counted>,
    pub source_ips: Vec<Counted>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Counted {
    pub value: String,
    pub count: u64,
}

/// How a control's scan ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Ending {
    Complete,
    /// Stopped early, for this reason; the figures are "at least".
    Stopped(String),
}

/// The forecast of `control` from its tally over `window`.
pub fn control_forecast(
    control: &Control,
    tally: &Tally,
    window: &Window,
    ending: Ending,
    pages: u64,
) -> ControlForecast {
    let per_day = window
        .days()
        .into_iter()
        .zip(window.start_ms.div_euclid(MS_PER_DAY)..)
        .map(|(date, index)| DayCount {
            date,
            matches: tally.per_day.get(&index).copied().unwrap_or(0),
        })
        .collect();
    let (complete, stopped) = match ending {
        Ending::Complete => (true, None),
        Ending::Stopped(why) => (false, Some(why)),
    };
    ControlForecast {
        id: control.id.clone(),
        slug: control.slug.clone(),
        title: control.title.clone(),
        pattern: control.pattern_text.clone(),
        matches: tally.matches,
        matches_per_day: tally.matches as f64 / window.length_days().max(1.0 / 24.0),
        complete,
        stopped,
        per_day,
        alarm: alarm_forecast(&control.alarm, &control.metric.value, &tally.per_period),
        top: Top {
            event_names: top(&tally.event_names),
            identities: top(&tally.identities),
            source_ips: top(&tally.source_ips),
        },
        pages,
    }
}

/// The most frequent values, ties broken by value so the list is stable.
fn top(counts: &HashMap<String, u64>) -> Vec<Counted> {
    let mut all: Vec<(&String, &u64)> = counts.iter().collect();
    all.sort_by(|a, b| b.1.cmp(a.1).then_with(|| a.0.cmp(b.0)));
    all.into_iter()
        .take(TOP)
        .map(|(value, count)| Counted {
            value: value.clone(),
            count: *count,
        })
        .collect()
}

/// The alarm replayed on the matches per period. The metric value is the catalog's constant
/// (`1` in every built-in catalog); a value read from the event (`$.field`) counts as 1.
fn alarm_forecast(
    alarm: &AlarmSpec,
    value: &str,
    per_period: &BTreeMap<i64, u64>,
) -> AlarmForecast {
    let value: f64 = value.trim().parse().unwrap_or(1.0);
    let breaching = |count: u64| {
        let datapoint = match alarm.statistic.as_str() {
            "Sum" => count as f64 * value,
            "SampleCount" => count as f64,
            // Average, Minimum, Maximum (and percentiles) of a constant are the constant.
            _ => value,
        };
        breaches(&alarm.comparison_operator, datapoint, alarm.threshold)
    };
    let needed = i64::from(alarm.evaluation_periods.max(1));
    let (mut in_alarm, mut episodes, mut run, mut previous) = (0u64, 0u64, 0i64, None::<i64>);
    let mut last_alarm: Option<i64> = None;
    for (&period, &count) in per_period {
        // Consecutive breaching periods; a gap (no datapoint) or a non-breaching one resets.
        run = match (breaching(count), previous) {
            (false, _) => 0,
            (true, Some(p)) if p + 1 == period => run + 1,
            (true, _) => 1,
        };
        previous = Some(period);
        if run >= needed {
            in_alarm += 1;
            if last_alarm != Some(period - 1) {
                episodes += 1;
            }
            last_alarm = Some(period);
        }
    }
    AlarmForecast {
        statistic: alarm.statistic.clone(),
        period: alarm.period,
        threshold: alarm.threshold,
        comparison_operator: alarm.comparison_operator.clone(),
        evaluation_periods: alarm.evaluation_periods,
        periods_in_alarm: in_alarm,
        alarm_episodes: episodes,
        busiest_period: per_period.values().copied().max().unwrap_or(0),
    }
}

/// Whether a datapoint breaches the threshold under CloudWatch's comparison operator.
fn breaches(operator: &str, datapoint: f64, threshold: f64) -> bool {
    match operator {
        "GreaterThanOrEqualToThreshold" => datapoint >= threshold,
        "GreaterThanThreshold" => datapoint > threshold,
        "LessThanThreshold" => datapoint < threshold,
        "LessThanOrEqualToThreshold" => datapoint <= threshold,
        // Anomaly-detection operators need a model cis-fix does not have: never breaching.
        _ => false,
    }
}

/// The log group scanned, as DescribeLogGroups describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct LogGroup {
    pub account_id: String,
    pub region: String,
    pub name: String,
    /// The qualifying trail (or trails) that write to it.
    pub trails: Vec<String>,
    /// Whether an organization trail writes to it (it holds every member's events).
    pub organization: bool,
    /// Days events are kept; absent when they never expire (or it could not be read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retention_days: Option<i32>,
    /// `storedBytes`, all of the log group's retention.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stored_bytes: Option<i64>,
    /// The bytes the window likely holds: stored bytes times the share of the retention the
    /// window covers (all of them without a retention).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub estimated_scan_bytes: Option<i64>,
}

impl LogGroup {
    /// Fills in the scan estimate for `window`, as of `now_ms`.
    pub fn estimate(&mut self, window: &Window, now_ms: i64) {
        self.estimated_scan_bytes = self.stored_bytes.map(|bytes| {
            let Some(days) = self.retention_days.filter(|d| *d > 0) else {
                return bytes;
            };
            let kept_from = now_ms - i64::from(days) * MS_PER_DAY;
            let covered = (window.end_ms.min(now_ms) - window.start_ms.max(kept_from)).max(0);
            let share = covered as f64 / (i64::from(days) * MS_PER_DAY) as f64;
            (bytes as f64 * share.min(1.0)).round() as i64
        });
    }
}

/// What is said about the whole scan before its figures: the window reaching past the
/// retention, a large scan.
pub fn notes(log_group: &LogGroup, window: &Window, now_ms: i64) -> Vec<String> {
    let mut notes = Vec::new();
    if let Some(days) = log_group.retention_days.filter(|d| *d > 0) {
        let kept_from = now_ms - i64::from(days) * MS_PER_DAY;
        if window.start_ms < kept_from {
            let since = day_name(kept_from.div_euclid(MS_PER_DAY)).unwrap_or_default();
            notes.push(format!(
                "--since reaches past the log group's retention ({days} days): its events before {since} are gone, and the figures start there"
            ));
        }
    }
    if let Some(bytes) = log_group.estimated_scan_bytes {
        if bytes > LARGE_SCAN_BYTES {
            notes.push(format!(
                "the window holds about {:.1} GB (stored bytes {:.1} GB): beyond the 10 GB a FilterLogEvents scan suits, at 5 calls a second; use --max-events for a first look, or run the same patterns over the trail's S3 archive with `cis-fix pattern sql` (Athena)",
                bytes as f64 / 1e9,
                log_group.stored_bytes.unwrap_or(bytes) as f64 / 1e9
            ));
        }
    }
    notes
}

/// The forecast document (`forecast --format json`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct Forecast {
    #[schemars(extend("const" = FORMAT_VERSION))]
    pub format_version: u32,
    pub benchmark: String,
    /// The window, RFC 3339 (UTC): FilterLogEvents' startTime and endTime.
    pub since: String,
    pub until: String,
    pub log_group: LogGroup,
    /// Whether every control's scan read the whole window (false: some figures are "at
    /// least").
    pub complete: bool,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
    pub controls: Vec<ControlForecast>,
    pub summary: Summary,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Summary {
    pub controls: usize,
    /// Controls with at least one matching event.
    pub matching: usize,
    /// Controls whose alarm would have been in ALARM at least once.
    pub alarming: usize,
    /// Transitions to ALARM (notifications), all controls together.
    pub alarm_episodes: u64,
}

impl Summary {
    pub fn of(controls: &[ControlForecast]) -> Summary {
        Summary {
            controls: controls.len(),
            matching: controls.iter().filter(|c| c.matches > 0).count(),
            alarming: controls
                .iter()
                .filter(|c| c.alarm.periods_in_alarm > 0)
                .count(),
            alarm_episodes: controls.iter().map(|c| c.alarm.alarm_episodes).sum(),
        }
    }
}

/// The log group a forecast scans in an account: the one a qualifying trail writes to, the
/// organization trail's first (it holds every member's events), as the audit orders them.
/// With `organization_only`, only an organization trail's. `None` when there is none.
pub fn log_group_of(snapshot: &Snapshot, organization_only: bool) -> Option<LogGroup> {
    let empty = RegionSnapshot::default();
    let (_, targets, _) = crate::audit::trails::targets(snapshot, &empty);
    let organization =
        |lg: &LogGroupRef| crate::audit::trails::organization_log_group(snapshot, lg);
    let target = targets
        .iter()
        .find(|t| !organization_only || organization(&t.log_group))?;
    Some(LogGroup {
        account_id: target.log_group.account.clone(),
        region: target.log_group.region.clone(),
        name: target.log_group.name.clone(),
        trails: target.trails.iter().map(|t| t.to_string()).collect(),
        organization: organization(&target.log_group),
        retention_days: None,
        stored_bytes: None,
        estimated_scan_bytes: None,
    })
}

/// RFC 3339 (UTC, seconds) of a time in ms since the epoch.
pub fn rfc3339(ms: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| ms.to_string())
}

#[cfg(test)]
mod tests;
