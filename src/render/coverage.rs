//! `cis-fix coverage`: which attack techniques a catalog catches, as a table a security lead
//! reads (each technique and the controls that catch it; then what is not caught, grouped by
//! why, with the calls a pattern would have to match; then one summary line), and as JSON.

use anstyle::Style;

use super::layout::{Page, Painter};
use super::{BOLD, GREEN, RED, YELLOW};
use crate::coverage::{Coverage, Status, TechniqueCoverage};

/// The coverage as pretty JSON (`cis-fix schema coverage`).
pub fn json(coverage: &Coverage) -> String {
    // Strings, numbers, booleans and lists only: serialising cannot fail.
    serde_json::to_string_pretty(coverage).unwrap_or_default() + "\n"
}

/// The coverage as text, wrapped to `width`.
pub fn text(coverage: &Coverage, width: usize, painter: Painter) -> String {
    let mut page = Page::new(width, painter);
    let from = &coverage.techniques_from;
    let commit = from.commit.get(..8).unwrap_or(&from.commit);
    page.line(
        0,
        4,
        &format!(
            "{}: {}, against the {} AWS techniques of {} ({}@{commit}, {})",
            coverage.benchmark,
            coverage.title,
            coverage.total,
            from.name,
            from.repository,
            from.license
        ),
        None,
    );
    page.line(
        0,
        4,
        "A control catches a technique when its pattern matches one of the technique's CloudTrail records under every reading AWS's documentation leaves open.",
        None,
    );
    page.blank();
    table(&mut page, coverage);
    uncaught(&mut page, coverage);
    page.blank();
    page.line(0, 4, &summary(coverage), Some(BOLD));
    page.finish()
}

/// `cis-7.0 catches 12 of 44 Stratus Red Team AWS techniques (3 only as denied calls).`
pub fn summary(coverage: &Coverage) -> String {
    let ambiguous = match coverage.ambiguous {
        0 => String::new(),
        n => format!("; {n} more only under some readings"),
    };
    format!(
        "{} catches {} of {} {} AWS techniques ({} only as denied calls{ambiguous}).",
        coverage.benchmark,
        coverage.caught,
        coverage.total,
        coverage.techniques_from.name,
        coverage.caught_only_denied
    )
}

/// One entry per technique: its id and what catches it, then its name and tactics.
fn table(page: &mut Page, coverage: &Coverage) {
    // The id column as wide as the longest id, but never more than 3/5 of the line: a longer
    // id pushes its own entry right.
    let longest = coverage.techniques.iter().map(|t| t.id.len()).max();
    let column = longest.unwrap_or(0).min(page.width * 3 / 5) + 2;
    page.line(
        0,
        column,
        &format!("{:column$}CAUGHT BY", "TECHNIQUE"),
        Some(BOLD),
    );
    for technique in &coverage.techniques {
        let (caught_by, style) = caught_by(technique);
        let id = format!(
            "{:width$}",
            technique.id,
            width = column.max(technique.id.len() + 2)
        );
        let first_word = caught_by.split(' ').next().unwrap_or_default();
        if id.len() + first_word.chars().count() <= page.width {
            page.styled_prefix(0, column, &id, None, &caught_by, Some(style));
        } else {
            // The padded id and the first word do not fit on a line: the id alone, and what
            // catches it under it, at a short indent rather than at the column.
            page.line(0, 4, &technique.id, None);
            page.styled_prefix(4, 4, "", None, &caught_by, Some(style));
        }
        let about = format!("{} · {}", technique.name, technique.tactics.join(", "));
        page.line(4, 4, &about, None);
    }
}

/// The controls that catch a technique (`5.5 cloudtrail-changes`), those that catch it only
/// when the call is denied, or those that match it under some readings only; `—` when none.
fn caught_by(technique: &TechniqueCoverage) -> (String, Style) {
    let mut parts: Vec<String> = technique
        .caught_by
        .iter()
        .map(|c| {
            let denied = if c.only_denied {
                " (only when the call is denied)"
            } else {
                ""
            };
            format!("{} {}{denied}", c.control, c.slug)
        })
        .collect();
    parts.extend(
        technique
            .ambiguous
            .iter()
            .map(|a| format!("{} {} (under some readings only)", a.control, a.slug)),
    );
    let style = match technique.status {
        Status::Caught => GREEN,
        Status::CaughtOnlyDenied | Status::Ambiguous => YELLOW,
        Status::NotVisible | Status::NotCaught => RED,
    };
    if parts.is_empty() {
        return ("—".to_string(), style);
    }
    (parts.join("; "), style)
}

/// What is not caught, grouped by why, each technique with the calls its records make.
fn uncaught(page: &mut Page, coverage: &Coverage) {
    let with = |status: Status| -> Vec<&TechniqueCoverage> {
        coverage
            .techniques
            .iter()
            .filter(|t| t.status == status)
            .collect()
    };
    let matched_nothing = with(Status::NotCaught);
    if !matched_nothing.is_empty() {
        group(
            page,
            &format!(
                "Not caught: no control's pattern matches their CloudTrail events ({}):",
                matched_nothing.len()
            ),
        );
        for technique in matched_nothing {
            item(page, &technique.id, &calls(technique, None));
        }
    }
    for (status, heading) in [
        (
            Status::NotVisible,
            "Not caught: not visible to a metric filter on a management-events trail",
        ),
        (
            Status::Ambiguous,
            "Not caught: matched only under some of the readings AWS's documentation leaves open",
        ),
    ] {
        let list = with(status);
        if list.is_empty() {
            continue;
        }
        group(page, &format!("{heading} ({}):", list.len()));
        for technique in list {
            item(
                page,
                &technique.id,
                technique.reason.as_deref().unwrap_or(""),
            );
        }
    }
    let denied = with(Status::CaughtOnlyDenied);
    if !denied.is_empty() {
        group(
            page,
            &format!(
                "Caught only when the call is denied: an attacker allowed to make it is not seen ({}):",
                denied.len()
            ),
        );
        for technique in denied {
            let matched: Vec<usize> = technique
                .caught_by
                .iter()
                .flat_map(|c| c.records.iter().copied())
                .collect();
            item(page, &technique.id, &calls(technique, Some(&matched)));
        }
    }
}

fn group(page: &mut Page, heading: &str) {
    page.blank();
    page.line(0, 4, heading, Some(BOLD));
}

fn item(page: &mut Page, id: &str, detail: &str) {
    page.line(2, 6, &format!("{id}: {detail}"), None);
}

/// The distinct calls of a technique's records (those of `only`, when given), as Stratus
/// writes them (`iam:CreateAccessKey`), a denied one with its error code.
fn calls(technique: &TechniqueCoverage, only: Option<&[usize]>) -> String {
    let mut seen: Vec<String> = Vec::new();
    for (index, record) in technique.records.iter().enumerate() {
        if only.is_some_and(|o| !o.contains(&index)) {
            continue;
        }
        let service = record
            .event_source
            .strip_suffix(".amazonaws.com")
            .unwrap_or(&record.event_source);
        let mut call = format!("{service}:{}", record.event_name);
        if let Some(code) = &record.error_code {
            call.push_str(&format!(" ({code})"));
        }
        if !seen.contains(&call) {
            seen.push(call);
        }
    }
    seen.join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cis(benchmark: &str) -> Coverage {
        let catalog = crate::catalog::load_builtin(benchmark).unwrap();
        let techniques = crate::coverage::stratus_red_team().unwrap();
        crate::coverage::coverage(&catalog, &techniques)
    }

    #[test]
    fn the_text_lists_every_technique_and_ends_with_the_count() {
        let coverage = cis("cis-5.0");
        let text = text(&coverage, 100, Painter(false));
        for technique in &coverage.techniques {
            assert!(text.contains(&technique.id), "{}", technique.id);
        }
        assert!(text.ends_with(
            "\ncis-5.0 catches 12 of 44 Stratus Red Team AWS techniques (3 only as denied calls).\n"
        ));
        assert!(text.contains("aws.defense-evasion.cloudtrail-stop"));
        // The denied calls a control matched, not the calls around them.
        let wide = super::text(&coverage, 200, Painter(false));
        assert!(wide.contains("\n  aws.credential-access.ec2-get-password-data: ec2:GetPasswordData (Client.UnauthorizedOperation), sts:AssumeRole (AccessDenied)\n"), "{wide}");
        assert!(text.lines().all(|l| l.chars().count() <= 100), "{text}");
    }

    #[test]
    fn the_text_wraps_to_a_narrow_terminal_and_colours_only_when_asked() {
        let coverage = cis("cis-7.0");
        let narrow = text(&coverage, 60, Painter(false));
        let long: Vec<&str> = narrow
            .lines()
            .filter(|l| l.chars().count() > 60 && l.trim().contains(' '))
            .collect();
        assert!(long.is_empty(), "{long:#?}");
        let painted = text(&coverage, 100, Painter(true));
        assert!(painted.contains("\u{1b}[32m"));
        let plain = painted
            .replace("\u{1b}[32m", "")
            .replace("\u{1b}[31m", "")
            .replace("\u{1b}[33m", "")
            .replace("\u{1b}[1m", "")
            .replace("\u{1b}[0m", "");
        assert_eq!(plain, text(&coverage, 100, Painter(false)));
    }

    #[test]
    fn the_json_counts_agree_with_the_techniques() {
        let coverage = cis("cis-7.0");
        let value: serde_json::Value = serde_json::from_str(&json(&coverage)).unwrap();
        let techniques = value["techniques"].as_array().unwrap();
        assert_eq!(techniques.len(), 44);
        let caught = techniques
            .iter()
            .filter(|t| t["status"] == "caught" || t["status"] == "caught_only_denied")
            .count();
        assert_eq!(value["caught"], caught);
        assert_eq!(value["not_caught"], 44 - caught);
    }

    #[test]
    fn cis_7_0_as_text() {
        insta::assert_snapshot!(text(&cis("cis-7.0"), 100, Painter(false)));
    }
}
