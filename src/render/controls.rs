//! `cis-fix controls`: the catalog as people read it, and as JSON with each pattern exactly as
//! `apply` sends it.

use std::fmt::Write as _;

use serde::Serialize;

use crate::catalog::{Catalog, Control};

/// The catalog as JSON.
#[derive(Debug, Clone, Serialize)]
pub struct ControlsDocument<'a> {
    pub benchmark: &'a str,
    pub title: &'a str,
    /// Whether, and where, AWS Security Hub evaluates these controls (the `security_hub` ids).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub security_hub_note: Option<&'a str>,
    pub controls: Vec<ControlView<'a>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct ControlView<'a> {
    pub id: &'a str,
    pub slug: &'a str,
    pub level: u8,
    pub title: &'a str,
    pub security_hub: Option<&'a str>,
    /// The filter pattern exactly as `apply` writes it.
    pub pattern: &'a str,
    pub metric: MetricView<'a>,
    pub alarm: AlarmView<'a>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MetricView<'a> {
    pub name: &'a str,
    pub namespace: &'a str,
    pub value: &'a str,
}

#[derive(Debug, Clone, Serialize)]
pub struct AlarmView<'a> {
    pub statistic: &'a str,
    pub period: i32,
    pub threshold: f64,
    pub comparison_operator: &'a str,
    pub evaluation_periods: i32,
}

fn view(control: &Control) -> ControlView<'_> {
    ControlView {
        id: &control.id,
        slug: &control.slug,
        level: control.level,
        title: &control.title,
        security_hub: control.security_hub.as_deref(),
        pattern: &control.pattern_text,
        metric: MetricView {
            name: &control.metric.name,
            namespace: &control.metric.namespace,
            value: &control.metric.value,
        },
        alarm: AlarmView {
            statistic: &control.alarm.statistic,
            period: control.alarm.period,
            threshold: control.alarm.threshold,
            comparison_operator: &control.alarm.comparison_operator,
            evaluation_periods: control.alarm.evaluation_periods,
        },
    }
}

pub fn json(catalog: &Catalog) -> String {
    let document = ControlsDocument {
        benchmark: &catalog.benchmark,
        title: &catalog.title,
        security_hub_note: catalog.security_hub_note.as_deref(),
        controls: catalog.controls.iter().map(view).collect(),
    };
    // Strings, numbers and lists only: serialising cannot fail.
    serde_json::to_string_pretty(&document).unwrap_or_default()
}

/// One block per control: what it is, what cis-fix creates for it, and its pattern one
/// condition per line. A `--catalog` file's strings are escaped ([`crate::term`]).
pub fn text(catalog: &Catalog) -> String {
    use crate::term::escape;
    let mut out = String::new();
    let count = catalog.controls.len();
    let _ = writeln!(
        out,
        "{}: {} ({count} control{})",
        escape(&catalog.benchmark),
        escape(&catalog.title),
        if count == 1 { "" } else { "s" }
    );
    if let Some(note) = &catalog.security_hub_note {
        let _ = write!(
            out,
            "{}",
            crate::render::layout::wrap_lines(&escape(note), 100)
        );
    }
    for control in &catalog.controls {
        let _ = writeln!(out);
        let security_hub = control
            .security_hub
            .as_deref()
            .map(|id| format!(", Security Hub {id}"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{} {}  (level {}{security_hub})",
            control.id, control.slug, control.level
        );
        let _ = writeln!(out, "  {}", escape(&control.title));
        let _ = writeln!(
            out,
            "  metric   {}/{} (value {})",
            control.metric.namespace, control.metric.name, control.metric.value
        );
        let alarm = &control.alarm;
        let _ = writeln!(
            out,
            "  alarm    {} {} {} in {} period{} of {} s",
            alarm.statistic,
            operator(&alarm.comparison_operator),
            number(alarm.threshold),
            alarm.evaluation_periods,
            if alarm.evaluation_periods == 1 {
                ""
            } else {
                "s"
            },
            alarm.period
        );
        for (index, line) in control.pattern.condition_lines().iter().enumerate() {
            let label = if index == 0 { "pattern" } else { "" };
            let _ = writeln!(out, "  {label:<8} {line}");
        }
    }
    // The other fields, escaped as a whole: the line ends are the view's own.
    crate::term::escape_lines(&out).into_owned()
}

fn operator(name: &str) -> &str {
    match name {
        "GreaterThanOrEqualToThreshold" => ">=",
        "GreaterThanThreshold" => ">",
        "LessThanThreshold" => "<",
        "LessThanOrEqualToThreshold" => "<=",
        other => other,
    }
}

fn number(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_builtin_catalog_lists_every_control_with_its_pattern() {
        for name in crate::catalog::builtin_names() {
            let catalog = crate::catalog::load_builtin(name).unwrap();
            let text = text(&catalog);
            let json: serde_json::Value = serde_json::from_str(&json(&catalog)).unwrap();
            for (control, shown) in catalog
                .controls
                .iter()
                .zip(json["controls"].as_array().unwrap())
            {
                assert!(text.contains(&format!("{} {}", control.id, control.slug)));
                // The JSON pattern is byte for byte what apply sends.
                assert_eq!(shown["pattern"], control.pattern_text.as_str());
                assert_eq!(shown["metric"]["name"], control.metric.name.as_str());
                assert_eq!(
                    shown["alarm"]["comparison_operator"],
                    control.alarm.comparison_operator.as_str()
                );
            }
        }
    }

    #[test]
    fn cis_5_0_as_text() {
        let catalog = crate::catalog::load_builtin("cis-5.0")
            .unwrap()
            .select(&["4.1".to_string(), "4.6".to_string()])
            .unwrap();
        insta::assert_snapshot!(text(&catalog));
    }
}
