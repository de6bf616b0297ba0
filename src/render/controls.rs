//! `cis-fix controls`: the catalog as people read it, and as JSON with each pattern exactly as
//! `apply` sends it.

use std::fmt::Write as _;

use serde::Serialize;

use std::collections::BTreeSet;

use super::layout::Painter;
use crate::catalog::{Alternative, Catalog, Control};

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
    /// The other patterns the benchmark itself allows for the control (`also_accept`), each
    /// narrower than `pattern`: a filter that covers one of them counts too.
    pub also_accept: Vec<AlternativeView<'a>>,
    /// Patterns others check for (Security Hub, for one) that this benchmark does not offer,
    /// and why (`not_accepted`): a filter that covers only one of them does not count.
    pub not_accepted: Vec<AlternativeView<'a>>,
    pub metric: MetricView<'a>,
    pub alarm: AlarmView<'a>,
    /// What the control catches (catalog format 2; the hardened catalog's own controls).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub catches: Option<&'a str>,
    /// Why the CIS controls do not catch it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cis_gap: Option<&'a str>,
    /// MITRE ATT&CK technique ids.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub attack: &'a [String],
    /// Stratus Red Team technique ids.
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    pub stratus: &'a [String],
    /// What it cannot catch.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub limits: Option<&'a str>,
}

#[derive(Debug, Clone, Serialize)]
pub struct AlternativeView<'a> {
    /// What the catalog calls it, or `alternative N` (from 1) when it does not say.
    pub name: String,
    /// What it leaves out, or why it is not accepted, from the catalog.
    pub note: Option<&'a str>,
    /// The pattern exactly as the catalog writes it.
    pub pattern: &'a str,
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

fn alternatives(list: &[Alternative]) -> Vec<AlternativeView<'_>> {
    list.iter()
        .enumerate()
        .map(|(i, a)| AlternativeView {
            name: a.label(i),
            note: a.note.as_deref(),
            pattern: &a.text,
        })
        .collect()
}

fn view(control: &Control) -> ControlView<'_> {
    ControlView {
        id: &control.id,
        slug: &control.slug,
        level: control.level,
        title: &control.title,
        security_hub: control.security_hub.as_deref(),
        pattern: &control.pattern_text,
        also_accept: alternatives(&control.also_accept),
        not_accepted: alternatives(&control.not_accepted),
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
        catches: control.threat.catches.as_deref(),
        cis_gap: control.threat.cis_gap.as_deref(),
        attack: &control.threat.attack,
        stratus: &control.threat.stratus,
        limits: control.threat.limits.as_deref(),
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

/// [`plain_text`], with the benchmark's line and each control's first line in bold when
/// `painter` paints.
pub fn text(catalog: &Catalog, painter: Painter) -> String {
    let plain = plain_text(catalog);
    if !painter.0 {
        return plain;
    }
    // Painted once escaped, so that only cis-fix's own sequences reach the terminal.
    let headers: BTreeSet<String> = catalog
        .controls
        .iter()
        .map(|c| crate::term::escape_lines(&header(c)).into_owned())
        .collect();
    let mut out = String::with_capacity(plain.len() + 64);
    for (index, line) in plain.lines().enumerate() {
        if index == 0 || headers.contains(line) {
            out.push_str(&painter.paint(super::BOLD, line));
        } else {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

/// A control's first line: `4.1 unauthorized-api-calls  (level 1, Security Hub CloudWatch.2)`.
fn header(control: &Control) -> String {
    let security_hub = control
        .security_hub
        .as_deref()
        .map(|id| format!(", Security Hub {id}"))
        .unwrap_or_default();
    format!(
        "{} {}  (level {}{security_hub})",
        control.id, control.slug, control.level
    )
}

/// One block per control: what it is, what cis-fix creates for it, and its pattern one
/// condition per line. A `--catalog` file's strings are escaped ([`crate::term`]).
pub fn plain_text(catalog: &Catalog) -> String {
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
        let _ = writeln!(out, "{}", header(control));
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
        alternative_lines(&mut out, "also accepted", &control.also_accept);
        alternative_lines(&mut out, "not accepted", &control.not_accepted);
        threat_lines(&mut out, &control.threat);
    }
    // The other fields, escaped as a whole: the line ends are the view's own.
    crate::term::escape_lines(&out).into_owned()
}

/// Each alternative under its heading (`also accepted: SSO-aware alternative (misses …)`),
/// then its pattern one condition per line, under the control's.
fn alternative_lines(out: &mut String, heading: &str, list: &[Alternative]) {
    for (index, alternative) in list.iter().enumerate() {
        let note = alternative
            .note
            .as_deref()
            .map(|n| format!(" ({n})"))
            .unwrap_or_default();
        let _ = writeln!(out, "  {heading}: {}{note}", alternative.label(index));
        for line in alternative.pattern.condition_lines() {
            let _ = writeln!(out, "  {:<8} {line}", "");
        }
    }
}

/// What a control beyond the benchmark is for, each field under its label, wrapped to 100
/// columns; nothing for a control without them (CIS's).
fn threat_lines(out: &mut String, threat: &crate::catalog::Threat) {
    let fields = [
        ("catches", threat.catches.clone()),
        ("cis gap", threat.cis_gap.clone()),
        ("limits", threat.limits.clone()),
        (
            "att&ck",
            (!threat.attack.is_empty()).then(|| threat.attack.join(", ")),
        ),
        (
            "stratus",
            (!threat.stratus.is_empty()).then(|| threat.stratus.join(", ")),
        ),
    ];
    for (label, text) in fields {
        let Some(text) = text else { continue };
        let first = format!("  {label:<8} ");
        let options = textwrap::Options::new(100)
            .initial_indent(&first)
            .subsequent_indent("           ")
            .word_splitter(textwrap::WordSplitter::NoHyphenation);
        let _ = writeln!(out, "{}", textwrap::fill(&text, options));
    }
}

/// A comparison operator as a symbol (`>=`), or its name when it has none.
pub(super) fn operator(name: &str) -> &str {
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
            let text = plain_text(&catalog);
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
    fn the_alternatives_of_a_control_are_listed_with_what_they_leave_out() {
        let load = |benchmark: &str, id: &str| {
            crate::catalog::load_builtin(benchmark)
                .unwrap()
                .select(&[id.to_string()])
                .unwrap()
        };
        let v5 = load("cis-5.0", "4.2");
        let shown = plain_text(&v5);
        assert!(
            shown.contains("\n  also accepted: SSO-aware alternative (misses root and federated sign-ins without MFA, and failed ones)\n           ($.eventName = \"ConsoleLogin\")\n"),
            "{shown}"
        );
        assert!(
            shown.contains("&& ($.userIdentity.type = \"IAMUser\")"),
            "{shown}"
        );
        let doc: serde_json::Value = serde_json::from_str(&json(&v5)).unwrap();
        let mfa = &doc["controls"][0];
        assert_eq!(mfa["also_accept"][0]["name"], "SSO-aware alternative");
        assert_eq!(
            mfa["also_accept"][0]["pattern"],
            v5.controls[0].also_accept[0].text.as_str()
        );
        assert_eq!(mfa["not_accepted"], serde_json::json!([]));

        let v12 = load("cis-1.2", "3.2");
        let shown = plain_text(&v12);
        assert!(
            shown.contains("\n  not accepted: Security Hub's SSO-aware variant (Security Hub's CloudWatch.3 checks for it, but the CIS v1.2.0 text of 3.2 offers only the control's pattern"),
            "{shown}"
        );
        assert!(!shown.contains("also accepted"), "{shown}");
        let doc: serde_json::Value = serde_json::from_str(&json(&v12)).unwrap();
        assert_eq!(doc["controls"][0]["also_accept"], serde_json::json!([]));
        assert_eq!(
            doc["controls"][0]["not_accepted"][0]["name"],
            "Security Hub's SSO-aware variant"
        );
    }

    #[test]
    fn the_benchmark_and_each_control_are_bold_when_painted() {
        let catalog = crate::catalog::load_builtin("cis-7.0").unwrap();
        assert_eq!(text(&catalog, Painter(false)), plain_text(&catalog));
        let painted = text(&catalog, Painter(true));
        let bold: Vec<&str> = painted
            .lines()
            .filter(|l| l.starts_with("\u{1b}[1m"))
            .collect();
        assert_eq!(bold.len(), 1 + catalog.controls.len(), "{painted}");
        assert!(bold[1].starts_with("\u{1b}[1m5.1 unauthorized-api-calls  (level 2"));
        assert!(bold.iter().all(|l| l.ends_with("\u{1b}[0m")), "{bold:?}");
        // Nothing else changes.
        let unpainted = painted.replace("\u{1b}[1m", "").replace("\u{1b}[0m", "");
        assert_eq!(unpainted, plain_text(&catalog));
    }

    #[test]
    fn the_hardened_controls_show_what_they_catch_and_miss() {
        let catalog = crate::catalog::load_builtin("hardened")
            .unwrap()
            .select(&["H1".to_string(), "5.1".to_string()])
            .unwrap();
        let shown = plain_text(&catalog);
        assert!(
            shown.contains("\nH1 cloudtrail-selectors-and-lake  (level 1)\n"),
            "{shown}"
        );
        for label in ["catches", "cis gap", "limits", "att&ck", "stratus"] {
            // Once: the CIS control has none of them.
            assert_eq!(
                shown.matches(&format!("\n  {label:<8} ")).count(),
                1,
                "{label}: {shown}"
            );
        }
        assert!(shown.contains("\n  att&ck   T1562.008\n"), "{shown}");
        assert!(
            shown.contains("\n  stratus  aws.defense-evasion.cloudtrail-event-selectors\n"),
            "{shown}"
        );
        assert!(
            shown
                .lines()
                .filter(|l| l.starts_with("  catches ") || l.starts_with("  limits "))
                .all(|l| l.chars().count() <= 100),
            "{shown}"
        );
        let doc: serde_json::Value = serde_json::from_str(&json(&catalog)).unwrap();
        let (cis, own) = (&doc["controls"][0], &doc["controls"][1]);
        assert_eq!(own["attack"], serde_json::json!(["T1562.008"]));
        assert_eq!(
            own["stratus"],
            serde_json::json!(["aws.defense-evasion.cloudtrail-event-selectors"])
        );
        for field in ["catches", "cis_gap", "limits"] {
            assert!(
                own[field].as_str().is_some_and(|t| !t.is_empty()),
                "{field}"
            );
            assert!(cis.get(field).is_none(), "{field}");
        }
        assert!(cis.get("attack").is_none() && cis.get("stratus").is_none());
    }

    #[test]
    fn cis_5_0_as_text() {
        let catalog = crate::catalog::load_builtin("cis-5.0")
            .unwrap()
            .select(&["4.1".to_string(), "4.6".to_string()])
            .unwrap();
        insta::assert_snapshot!(plain_text(&catalog));
    }
}
