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

/// What `pattern test` read and found, over every input.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Summary {
    /// Events read (within `--since`/`--until`); when stopped, up to the last match.
    pub events: u64,
    /// Matches handed on (the first pattern's).
    pub matched: u64,
    /// Matches of each pattern, for `--controls` (complete unless stopped).
    pub counts: Vec<u64>,
    /// Whether `--max-matches` stopped the reading.
    pub stopped: bool,
}

impl Summary {
    pub fn new(patterns: usize) -> Summary {
        Summary {
            events: 0,
            matched: 0,
            counts: vec![0; patterns],
            stopped: false,
        }
    }

    /// A whole file's events and counts.
    pub fn add(&mut self, events: u64, counts: &[u64]) {
        self.events = self.events.saturating_add(events);
        for (total, count) in self.counts.iter_mut().zip(counts) {
            *total = total.saturating_add(*count);
        }
    }
}

/// The version of `pattern test --format json`: 2 since the document is written as events
/// are read (matches first, totals last) and says whether `--max-matches` stopped it.
pub const TEST_JSON_VERSION: u64 = 2;

/// The members of a matched event the output shows (all that `pattern test` keeps of an
/// event besides what its patterns name).
pub const SHOWN: [&str; 3] = ["eventTime", "eventName", "eventID"];

/// One matched event on one line: time, name, id.
pub fn test_line(m: &Matched, width: usize, painter: Painter) -> String {
    let field = |event: &Value, name: &str| {
        event
            .get(name)
            .and_then(Value::as_str)
            .unwrap_or("-")
            .to_string()
    };
    let event = &m.event.value;
    let line = format!(
        "{} {} {}",
        field(event, "eventTime"),
        field(event, "eventName"),
        field(event, "eventID")
    );
    let mut page = Page::new(width, painter);
    page.line(0, 4, &line, None);
    page.finish()
}

/// How many of how many matched, last; per control with `--controls` (`controls` names
/// each pattern's control: id and slug).
pub fn test_summary(
    summary: &Summary,
    controls: &[(String, String)],
    width: usize,
    painter: Painter,
) -> String {
    let total = summary.events;
    let plural = if total == 1 { "" } else { "s" };
    let mut page = Page::new(width, painter);
    for ((id, slug), count) in controls.iter().zip(&summary.counts) {
        page.line(
            0,
            4,
            &format!("{id} {slug}: {count} of {total} event{plural}"),
            None,
        );
    }
    let line = if summary.stopped {
        format!(
            "stopped at --max-matches {}: {} of the first {total} event{plural} match (the documented reading: a `*` inside a value is literal).",
            summary.matched, summary.matched
        )
    } else if controls.is_empty() {
        format!(
            "{} of {total} event{plural} match (the documented reading: a `*` inside a value is literal).",
            summary.matched
        )
    } else {
        format!(
            "{total} event{plural} read (the documented reading: a `*` inside a value is literal)."
        )
    };
    page.line(0, 4, &line, Some(BOLD));
    page.finish()
}

/// The JSON document's opening, up to its `matches` array.
pub fn test_json_head() -> String {
    format!("{{\n  \"format_version\": {TEST_JSON_VERSION},\n  \"matches\": [")
}

/// One match in the `matches` array (`first`: no comma before it).
pub fn test_json_match(m: &Matched, first: bool) -> String {
    let value = json!({
        "file": m.file,
        "position": m.event.position,
        "event_id": m.event.value.get("eventID"),
        "event_name": m.event.value.get("eventName"),
        "event_time": m.event.value.get("eventTime"),
    });
    let comma = if first { "" } else { "," };
    format!("{comma}\n    {value}")
}

/// The document's end: the totals, and per control with `--controls`.
pub fn test_json_tail(summary: &Summary, controls: &[(String, String)], any: bool) -> String {
    let mut tail = serde_json::Map::new();
    tail.insert("events".into(), summary.events.into());
    tail.insert("matched".into(), summary.matched.into());
    tail.insert("stopped_at_max_matches".into(), summary.stopped.into());
    if !controls.is_empty() {
        let per: Vec<Value> = controls
            .iter()
            .zip(&summary.counts)
            .map(|((id, slug), count)| json!({"control": id, "slug": slug, "matched": count}))
            .collect();
        tail.insert("controls".into(), per.into());
    }
    let members: Vec<String> = tail
        .iter()
        .map(|(key, value)| format!("  {}: {value}", Value::from(key.as_str())))
        .collect();
    let close = if any { "\n  ]" } else { "]" };
    format!("{close},\n{}\n}}\n", members.join(",\n"))
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
        let mut summary = Summary::new(1);
        summary.add(2, &[1]);
        summary.matched = 1;
        let text = test_line(&matched[0], 100, Painter(false))
            + &test_summary(&summary, &[], 100, Painter(false));
        assert_eq!(
            text,
            "- Console\\x1b[8mLogin e-1\n1 of 2 events match (the documented reading: a `*` inside a value is literal).\n"
        );
        let painted = test_summary(&summary, &[], 100, Painter(true));
        assert!(
            painted.contains("\u{1b}[1m1 of 2 events match"),
            "{painted:?}"
        );
        // JSON keeps the name as it is, with where it came from; the pieces make one document.
        let document = test_json_head()
            + &test_json_match(&matched[0], true)
            + &test_json_match(&matched[0], false)
            + &test_json_tail(&summary, &[("5.6".into(), "slug".into())], true);
        let json: Value = serde_json::from_str(&document).unwrap();
        assert_eq!(json["matches"][0]["event_name"], "Console\u{1b}[8mLogin");
        assert_eq!(json["matches"][1]["position"], "line 1");
        assert_eq!(json["format_version"], TEST_JSON_VERSION);
        assert_eq!(json["controls"][0]["matched"], 1);
        assert_eq!(
            (json["events"].as_u64(), json["matched"].as_u64()),
            (Some(2), Some(1))
        );
        let empty = test_json_head() + &test_json_tail(&Summary::new(1), &[], false);
        let json: Value = serde_json::from_str(&empty).unwrap();
        assert_eq!(json["matches"], serde_json::json!([]));
    }
}
