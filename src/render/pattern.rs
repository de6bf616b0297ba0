//! `cis-fix pattern check` and `cis-fix pattern test` for people: wrapped to the terminal as
//! the plan is, coloured when asked (a relation that satisfies green, one that does not red,
//! an unverified one yellow).

use anstyle::Style;
use serde_json::{json, Value};

use super::layout::{Page, Painter};
use super::{BOLD, GREEN, RED, YELLOW};
use crate::audit::accepted::{self, relation_name, PatternCheck};
use crate::events::Event;
use crate::pattern::Relation;

/// What `pattern check` found ([`accepted::check`]).
pub type Check<'c> = PatternCheck<'c>;

fn relation_style(relation: Relation) -> Style {
    match relation {
        Relation::Equivalent | Relation::Covers => GREEN,
        Relation::Unverified => YELLOW,
        Relation::Weaker | Relation::Different => RED,
    }
}

/// The check: what it compared with, one line per reading, why it falls short, and the
/// verdict last.
pub fn check_text(check: &Check, width: usize, painter: Painter) -> String {
    let control = check.control;
    let comparison = &check.comparison;
    let mut page = Page::new(width, painter);
    page.line(
        0,
        4,
        &format!(
            "pattern check: against {} {} ({})",
            control.id, control.slug, control.title
        ),
        None,
    );
    if let Some(alternative) = &check.alternative {
        let compared = accepted::alternative_phrase(&control.id, alternative);
        let line =
            format!("compared with {compared}: yours does not cover the control's own pattern");
        page.line(0, 4, &line, None);
    }
    page.blank();
    for (reading, relation) in &comparison.per_reading {
        let name = relation_name(*relation);
        // The padding goes with the reading: only the word is coloured.
        let reading = format!("{:pad$}{reading}", "", pad = 12 - name.len());
        let style = Some(relation_style(*relation));
        page.styled_prefix(2, 12, name, style, &reading, None);
    }
    page.blank();
    shortfalls(&mut page, check);
    let covers = check.covers();
    let relation = match &check.alternative {
        Some(a) => accepted::through_alternative(comparison.relation, &control.id, a),
        None => relation_name(comparison.relation).to_string(),
    };
    let verdict = if covers {
        " under every reading: this pattern satisfies the control."
    } else {
        ": this pattern does not satisfy the control under every reading AWS's documentation allows."
    };
    let style = Some(relation_style(comparison.relation));
    page.line(0, 4, &format!("Relation: {relation}{verdict}"), style);
    page.finish()
}

/// The check as one JSON document (`pattern check --format json`).
pub fn check_json(check: &Check) -> String {
    let comparison = &check.comparison;
    let value = json!({
        "control": check.control.id,
        "slug": check.control.slug,
        "relation": relation_name(comparison.relation),
        "covers": check.covers(),
        "compared_with": if check.alternative.is_some() { "alternative" } else { "control" },
        "alternative": check.alternative,
        "not_accepted": check.refused.map(|(i, a)| json!({
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

/// Why the pattern falls short, when it does: its ambiguous terms, a variant the benchmark
/// refuses, and an event the control's pattern matches and it misses.
fn shortfalls(page: &mut Page, check: &Check) {
    let comparison = &check.comparison;
    for a in &comparison.ambiguous {
        page.line(
            2,
            4,
            &format!("pattern_ambiguous: `{}`: {}", a.term, a.reason),
            None,
        );
    }
    if let Some((index, variant)) = check.refused {
        let phrase = accepted::not_accepted_phrase(index, variant);
        page.line(2, 4, &format!("not_accepted: {phrase}"), None);
    }
    if let Some(event) = &comparison.counterexample {
        let reading = comparison
            .counterexample_reading
            .map(|r| format!(", when {r}"))
            .unwrap_or_default();
        let label =
            format!("counterexample (the control's pattern matches it, yours does not{reading}):");
        page.labelled_json(2, 4, &label, &crate::pattern::record_text(event));
    }
}

/// One event that `pattern test` matched: the file it came from, and the event.
pub struct Matched {
    pub file: String,
    pub event: Event,
}

/// The matched events, one line each (time, name, id), then how many of how many matched.
pub fn test_text(matched: &[Matched], total: usize, width: usize, painter: Painter) -> String {
    let field = |event: &Value, name: &str| {
        event
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or("-")
            .to_string()
    };
    let mut page = Page::new(width, painter);
    for m in matched {
        let event = &m.event.value;
        let line = format!(
            "{} {} {}",
            field(event, "eventTime"),
            field(event, "eventName"),
            field(event, "eventID")
        );
        page.line(0, 4, &line, None);
    }
    let summary = format!(
        "{} of {total} event{} match (the documented reading: a `*` inside a value is literal).",
        matched.len(),
        if total == 1 { "" } else { "s" }
    );
    page.line(0, 4, &summary, Some(BOLD));
    page.finish()
}

/// The matches as one JSON document (`pattern test --format json`).
pub fn test_json(matched: &[Matched], total: usize) -> String {
    let value = json!({
        "events": total,
        "matched": matched.len(),
        "matches": matched.iter().map(|m| json!({
            "file": m.file,
            "position": m.event.position,
            "event_id": m.event.value.get("eventID"),
            "event_name": m.event.value.get("eventName"),
            "event_time": m.event.value.get("eventTime"),
        })).collect::<Vec<_>>(),
    });
    serde_json::to_string_pretty(&value).unwrap_or_default() + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(pattern: &str, control: &str, width: usize, painter: Painter) -> String {
        let catalog = crate::catalog::load_builtin("cis-7.0").unwrap();
        let control = catalog
            .select(&[control.into()])
            .unwrap()
            .controls
            .remove(0);
        let pattern = crate::pattern::parse(pattern).unwrap();
        let check = accepted::check(&pattern, &control);
        check_text(&check, width, painter)
    }

    const WEAKER: &str = "{ $.eventName = ConsoleLogin && $.errorMessage = \"Failed authentication\" && $.sourceIPAddress = \"10.*\" }";

    #[test]
    fn a_check_wraps_to_the_width_and_keeps_its_counterexample_whole() {
        let text = check(WEAKER, "5.6", 60, Painter(false));
        let lines: Vec<&str> = text.lines().collect();
        for line in &lines {
            let json = line.trim_start().starts_with('{');
            assert!(line.chars().count() <= 60 || json, "{line:?} in\n{text}");
        }
        // The verdict, wrapped under its first line.
        let verdict = lines
            .iter()
            .position(|l| l.starts_with("Relation: weaker"))
            .unwrap();
        assert!(lines[verdict + 1].starts_with("    "), "{text}");
        // The event on one line, still JSON.
        let event = lines
            .iter()
            .find(|l| l.trim_start().starts_with('{'))
            .unwrap();
        let event: Value = serde_json::from_str(event.trim()).unwrap();
        assert_eq!(event["errorMessage"], "Failed authentication");
        // At 100 columns, as off a terminal, the reading lines still fit.
        let text = check(WEAKER, "5.6", 100, Painter(false));
        assert!(
            text.lines()
                .all(|l| l.chars().count() <= 100 || l.contains('{')),
            "{text}"
        );
    }

    #[test]
    fn a_check_is_coloured_only_when_asked() {
        let plain = check(WEAKER, "5.6", 100, Painter(false));
        assert!(!plain.contains('\u{1b}'), "{plain:?}");
        let painted = check(WEAKER, "5.6", 100, Painter(true));
        assert!(
            painted.contains(&Painter(true).paint(RED, "weaker")),
            "{painted:?}"
        );
        let covers = check("{ $.eventName = ConsoleLogin }", "5.6", 100, Painter(true));
        assert!(
            covers.contains(&Painter(true).paint(GREEN, "covers")),
            "{covers:?}"
        );
        // Every style opened on a line is closed on it: nothing bleeds into the next line.
        for line in painted.lines() {
            let opened = line.matches('\u{1b}').count();
            let closed = line.matches("\u{1b}[0m").count();
            assert_eq!(opened, 2 * closed, "{line:?}");
        }
    }

    #[test]
    fn test_lines_are_escaped_and_the_count_is_bold_when_coloured() {
        let event = serde_json::json!({"eventName": "Console\u{1b}[8mLogin", "eventID": "e-1"});
        let matched = [Matched {
            file: "events.json".into(),
            event: Event {
                position: "line 1".into(),
                value: event,
            },
        }];
        let text = test_text(&matched, 2, 100, Painter(false));
        assert_eq!(
            text,
            "- Console\\x1b[8mLogin e-1\n1 of 2 events match (the documented reading: a `*` inside a value is literal).\n"
        );
        let painted = test_text(&matched, 2, 100, Painter(true));
        assert!(
            painted.contains("\u{1b}[1m1 of 2 events match"),
            "{painted:?}"
        );
        // JSON keeps the name as it is, with where it came from.
        let json: Value = serde_json::from_str(&test_json(&matched, 2)).unwrap();
        assert_eq!(json["matches"][0]["event_name"], "Console\u{1b}[8mLogin");
        assert_eq!(json["matches"][0]["position"], "line 1");
        assert_eq!(
            (json["events"].as_u64(), json["matched"].as_u64()),
            (Some(2), Some(1))
        );
    }
}
