//! Near misses: an existing filter that almost covers a control, shown as a line diff.

use super::accepted;
use super::plan::{Code, Finding};
use crate::catalog::Control;
use crate::inventory::MetricFilter;
use crate::pattern::{self, Pattern, Relation};

/// A filter that nearly matches: provably weaker, or textually close. Shown with a diff.
pub(super) fn near_miss(
    filter: &MetricFilter,
    relation: Option<Relation>,
    control: &Control,
    existing: Option<&Pattern>,
) -> Option<Finding> {
    let (old, new) = match existing {
        Some(p) => (diff_lines(p), diff_lines(&control.pattern)),
        None => (filter.pattern.clone(), control.pattern_text.clone()),
    };
    // Similar means most conditions in common: compared line by line, one condition a line.
    let ratio = similar::TextDiff::from_lines(old.as_str(), new.as_str()).ratio();
    let weaker = relation == Some(Relation::Weaker);
    // A variant others check for that this benchmark does not accept: said whatever the diff.
    let refused = existing.and_then(|p| accepted::not_accepted(p, control));
    if !weaker && ratio <= 0.5 && refused.is_none() {
        return None;
    }
    let what = if weaker {
        "is weaker than the control's pattern: it misses some of the events the control must catch"
    } else if existing.is_none() {
        "resembles the control's pattern but is not a JSON filter pattern cis-fix can read"
    } else {
        "resembles the control's pattern but matches different events"
    };
    let diff =
        similar::TextDiff::from_lines(format!("{old}\n").as_str(), format!("{new}\n").as_str())
            .iter_all_changes()
            .map(|change| {
                let sign = match change.tag() {
                    similar::ChangeTag::Delete => "-",
                    similar::ChangeTag::Insert => "+",
                    similar::ChangeTag::Equal => " ",
                };
                format!("{sign} {}", change.value().trim_end_matches('\n'))
            })
            .collect::<Vec<_>>();
    let diff = std::iter::once("  {".to_string())
        .chain(diff)
        .chain(std::iter::once("  }".to_string()))
        .collect::<Vec<_>>()
        .join("\n");
    let counterexample =
        existing.and_then(|p| pattern::compare_detailed(p, &control.pattern).counterexample);
    let why = refused
        .map(|(index, variant)| format!("; {}", accepted::not_accepted_phrase(index, variant)))
        .unwrap_or_default();
    Some(Finding {
        code: Code::NearMissFilter,
        message: format!(
            "filter `{}` on log group `{}` {what}{why}",
            filter.name, filter.log_group
        ),
        diff: Some(diff),
        counterexample,
    })
}

/// A pattern laid out for a line diff: one condition per line.
pub(super) fn diff_lines(pattern: &Pattern) -> String {
    pattern.condition_lines().join("\n")
}
