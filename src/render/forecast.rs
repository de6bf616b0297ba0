//! `cis-fix forecast`'s views: text for people, JSON for tools.

use anstyle::{AnsiColor, Style};

use super::controls::operator;
use super::layout::{wrap_painted, Painter};
use crate::forecast::{ControlForecast, Counted, Forecast};
use crate::term::escape;

/// The forecast document, pretty-printed.
pub fn json(forecast: &Forecast) -> String {
    serde_json::to_string_pretty(forecast).unwrap_or_default()
}

/// The forecast for people: the log group and window, the notes, one block per control, and
/// the summary.
pub fn text(forecast: &Forecast, width: usize, painter: Painter) -> String {
    let mut out = head(forecast);
    for note in &forecast.notes {
        out.push_str(&format!("note: {}\n", escape(note)));
    }
    for control in &forecast.controls {
        out.push('\n');
        out.push_str(&control_text(control, painter));
    }
    out.push('\n');
    out.push_str(&summary(forecast));
    wrap_painted(&out, width, painter)
}

fn head(forecast: &Forecast) -> String {
    let group = &forecast.log_group;
    let trails = group.trails.join(", ");
    let kind = if group.organization {
        "organization trail"
    } else {
        "trail"
    };
    let mut out = format!(
        "Forecast from log group `{}` (account {}, {}; {kind} {}), {} to {}, evaluated by CloudWatch Logs (FilterLogEvents).\n",
        escape(&group.name),
        group.account_id,
        group.region,
        escape(&trails),
        forecast.since,
        forecast.until
    );
    let retention = match group.retention_days {
        Some(days) => format!("Retention {days} days"),
        None => "Retention: never expires".to_string(),
    };
    match (group.stored_bytes, group.estimated_scan_bytes) {
        (Some(stored), Some(window)) => out.push_str(&format!(
            "{retention}; {} stored; the window holds about {}.\n",
            bytes(stored),
            bytes(window)
        )),
        _ => out.push_str(&format!("{retention}.\n")),
    }
    out
}

fn bytes(n: i64) -> String {
    match n {
        n if n >= 1_000_000_000 => format!("{:.1} GB", n as f64 / 1e9),
        n if n >= 1_000_000 => format!("{:.1} MB", n as f64 / 1e6),
        n if n >= 1_000 => format!("{:.1} kB", n as f64 / 1e3),
        n => format!("{n} bytes"),
    }
}

/// `at least ` before a figure the scan did not finish counting.
fn at_least(control: &ControlForecast) -> &'static str {
    if control.complete {
        ""
    } else {
        "at least "
    }
}

fn control_text(control: &ControlForecast, painter: Painter) -> String {
    let bold = Style::new().bold();
    let title = painter.paint(bold, &format!("{} {}", control.id, control.slug));
    let mut out = match control.matches {
        0 if control.complete => format!("{title}: no matching event\n"),
        n => format!(
            "{title}: {}{n} matching event{} ({}{:.1} a day)\n",
            at_least(control),
            if n == 1 { "" } else { "s" },
            at_least(control),
            control.matches_per_day
        ),
    };
    if let Some(why) = &control.stopped {
        let yellow = Style::new().fg_color(Some(AnsiColor::Yellow.into()));
        out.push_str(&format!(
            "    {}\n",
            painter.paint(
                yellow,
                &format!("stopped early ({}): figures are at least", escape(why))
            )
        ));
    }
    let alarm = &control.alarm;
    out.push_str(&format!(
        "    alarm ({} {} {} per {} s, {} period{}): {}{} period{} in ALARM, {}{} alarm{} (transitions to ALARM); busiest period: {} event{}\n",
        alarm.statistic,
        operator(&alarm.comparison_operator),
        alarm.threshold,
        alarm.period,
        alarm.evaluation_periods,
        if alarm.evaluation_periods == 1 { "" } else { "s" },
        at_least(control),
        alarm.periods_in_alarm,
        if alarm.periods_in_alarm == 1 { "" } else { "s" },
        at_least(control),
        alarm.alarm_episodes,
        if alarm.alarm_episodes == 1 { "" } else { "s" },
        alarm.busiest_period,
        if alarm.busiest_period == 1 { "" } else { "s" }
    ));
    if control.matches == 0 {
        return out;
    }
    let per_day: Vec<String> = control
        .per_day
        .iter()
        .map(|d| format!("{} {}", d.date, d.matches))
        .collect();
    out.push_str(&format!("    per day: {}\n", per_day.join(", ")));
    out.push_str(&top_line("event names", &control.top.event_names));
    out.push_str(&top_line("identities", &control.top.identities));
    out.push_str(&top_line("source IPs", &control.top.source_ips));
    out
}

fn top_line(label: &str, values: &[Counted]) -> String {
    if values.is_empty() {
        return String::new();
    }
    let shown: Vec<String> = values
        .iter()
        .map(|c| format!("{} {}", escape(&c.value), c.count))
        .collect();
    format!("    {label}: {}\n", shown.join(", "))
}

fn summary(forecast: &Forecast) -> String {
    let s = &forecast.summary;
    let mut out = format!(
        "Summary: {} control{}; {} with matching events; {} would have alarmed, {} alarm{} in all.\n",
        s.controls,
        if s.controls == 1 { "" } else { "s" },
        s.matching,
        s.alarming,
        s.alarm_episodes,
        if s.alarm_episodes == 1 { "" } else { "s" }
    );
    if !forecast.complete {
        let first = forecast
            .controls
            .iter()
            .find(|c| !c.complete)
            .map_or("ID", |c| c.id.as_str());
        out.push_str(&format!(
            "Some scans stopped early: their figures are at least. To count the whole archive, run the patterns over the trail's S3 copy: cis-fix pattern sql --control {first}\n"
        ));
    }
    out
}
