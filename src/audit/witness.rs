//! AWS agrees: for a chain that rests on a user's filter written differently from the
//! catalog, AWS's own `logs:TestMetricFilter` is asked whether the user's pattern matches
//! witness events of the control's pattern. The proof and AWS's evaluator then check each
//! other; a witness AWS does not match refutes the chain (`aws_test_refutes`).
//!
//! Pure: [`requests`] says what to ask, the inventory asks, [`refutation`] and [`evidence`]
//! read the answers.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::catalog::{Catalog, Control};
use crate::inventory::{MetricFilter, Snapshot};
use crate::pattern;

/// AWS's `TestMetricFilter` takes at most this many events per call.
pub const EVENTS_PER_CALL: usize = 50;

/// One `logs:TestMetricFilter` call to make.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WitnessRequest {
    pub region: String,
    pub pattern: String,
    pub events: Vec<String>,
}

/// How many of a control's witness events AWS tested against the chain's filter, and matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, JsonSchema)]
pub struct Evidence {
    pub witnesses: usize,
    pub matched: usize,
}

/// Whitespace outside quoted strings does not change a pattern's text.
fn normalised(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut quoted = false;
    let mut escaped = false;
    for c in text.chars() {
        if quoted {
            out.push(c);
            if escaped {
                escaped = false;
            } else if c == '\\' {
                escaped = true;
            } else if c == '"' {
                quoted = false;
            }
        } else if c == '"' {
            quoted = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

/// Whether `text` is the catalog's pattern for `control`, up to whitespace: then the
/// verdict needs no test (cis-fix's own filters, and filters copied from the benchmark).
pub(super) fn is_verbatim(text: &str, control: &Control) -> bool {
    normalised(text) == normalised(&control.pattern_text)
}

/// The control's witness events, as the JSON texts sent to AWS.
pub(super) fn witness_events(control: &Control) -> Vec<String> {
    pattern::witnesses(&control.pattern)
        .iter()
        .map(ToString::to_string)
        .collect()
}

/// The calls to make: one per distinct (region, pattern) of a filter that seems to cover some
/// control of `catalog` without being its verbatim pattern (split per 50 events). `catalog`
/// should be the whole benchmark, not the selection, so that the calls do not depend on it.
pub fn requests(catalog: &Catalog, snapshot: &Snapshot) -> Vec<WitnessRequest> {
    let mut requests: Vec<WitnessRequest> = Vec::new();
    for (region, data) in &snapshot.regions {
        for filter in &data.metric_filters {
            let Ok(existing) = pattern::parse(&filter.pattern) else {
                continue;
            };
            let mut events: Vec<String> = Vec::new();
            for control in &catalog.controls {
                if is_verbatim(&filter.pattern, control) {
                    continue;
                }
                let covers = control
                    .accepted_patterns()
                    .any(|accepted| pattern::compare(&existing, accepted).satisfies());
                if covers {
                    for event in witness_events(control) {
                        if !events.contains(&event) {
                            events.push(event);
                        }
                    }
                }
            }
            let known = requests
                .iter()
                .any(|r| &r.region == region && r.pattern == filter.pattern);
            if events.is_empty() || known {
                continue;
            }
            for chunk in events.chunks(EVENTS_PER_CALL) {
                requests.push(WitnessRequest {
                    region: region.clone(),
                    pattern: filter.pattern.clone(),
                    events: chunk.to_vec(),
                });
            }
        }
    }
    requests
}

/// AWS's answers about `filter` for `control`'s witnesses: `None` when the filter is the
/// catalog's own text or AWS was not asked (the verdict then rests on the proof alone).
fn answers(
    snapshot: &Snapshot,
    region: &str,
    filter: &MetricFilter,
    control: &Control,
) -> Option<Vec<(String, Option<bool>)>> {
    if is_verbatim(&filter.pattern, control) {
        return None;
    }
    let events = witness_events(control);
    let answers: Vec<(String, Option<bool>)> = events
        .into_iter()
        .map(|event| {
            let answer = snapshot
                .pattern_tests
                .iter()
                .find(|t| t.region == region && t.pattern == filter.pattern && t.event == event)
                .map(|t| t.matched);
            (event, answer)
        })
        .collect();
    answers.iter().any(|(_, a)| a.is_some()).then_some(answers)
}

/// A witness event of the control that AWS says the filter's pattern does not match.
pub(super) fn refutation(
    snapshot: &Snapshot,
    region: &str,
    filter: &MetricFilter,
    control: &Control,
) -> Option<String> {
    answers(snapshot, region, filter, control)?
        .into_iter()
        .find(|(_, matched)| *matched == Some(false))
        .map(|(event, _)| event)
}

/// What AWS's tests say about the chain through `filter`, when it was asked.
pub(super) fn evidence(
    snapshot: &Snapshot,
    region: &str,
    filter: &MetricFilter,
    control: &Control,
) -> Option<Evidence> {
    let answers = answers(snapshot, region, filter, control)?;
    Some(Evidence {
        witnesses: answers.iter().filter(|(_, a)| a.is_some()).count(),
        matched: answers.iter().filter(|(_, a)| *a == Some(true)).count(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whitespace_outside_quotes_does_not_count() {
        assert_eq!(
            normalised("{ ($.a = \"x y\") &&\n ($.b = c) }"),
            normalised("{($.a=\"x y\")&&($.b=c)}")
        );
        assert_ne!(
            normalised("{ $.a = \"x y\" }"),
            normalised("{ $.a = \"xy\" }")
        );
    }
}
