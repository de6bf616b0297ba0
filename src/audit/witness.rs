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
use crate::inventory::{MetricFilter, Snapshot, WitnessRequest};
use crate::pattern;

/// AWS's `TestMetricFilter` takes at most this many events per call.
pub const EVENTS_PER_CALL: usize = 50;

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

/// Whether `text` is one of the catalog's patterns for `control` (its own or an
/// `also_accept`), up to whitespace: then the verdict needs no test (cis-fix's own filters,
/// and filters copied from the benchmark or from Security Hub's text).
pub(super) fn is_verbatim(text: &str, control: &Control) -> bool {
    let text = normalised(text);
    control
        .accepted_texts()
        .any(|accepted| normalised(accepted) == text)
}

/// The accepted pattern of `control` that `existing` satisfies (the catalog's own first):
/// the one its witnesses come from, since a filter may cover a narrower `also_accept`
/// pattern and not the primary one.
fn covered<'c>(existing: &pattern::Pattern, control: &'c Control) -> Option<&'c pattern::Pattern> {
    control
        .accepted_patterns()
        .find(|accepted| pattern::compare(existing, accepted).satisfies())
}

/// The witness events of the accepted pattern of `control` that the filter's pattern
/// covers, grouped, as the JSON texts sent to AWS; `None` when it covers none, or is
/// verbatim (no test needed).
fn witness_events(
    filter_pattern: &str,
    existing: &pattern::Pattern,
    control: &Control,
) -> Option<(Vec<String>, Vec<String>)> {
    if is_verbatim(filter_pattern, control) {
        return None;
    }
    let groups = pattern::witness_groups(covered(existing, control)?);
    // In CloudTrail's field order: a witness AWS refutes is shown to the user as sent.
    let texts = |events: Vec<serde_json::Value>| -> Vec<String> {
        events.iter().map(pattern::record_text).collect()
    };
    Some((texts(groups.per_term), texts(groups.edges)))
}

/// Takes from each list in turn, skipping repeats, until `limit`: every list gets its
/// first items in before any gets its later ones.
fn interleave(lists: &[Vec<String>], out: &mut Vec<String>, limit: usize) {
    let longest = lists.iter().map(Vec::len).max().unwrap_or(0);
    for i in 0..longest {
        for event in lists.iter().filter_map(|list| list.get(i)) {
            if out.len() >= limit {
                return;
            }
            if !out.contains(event) {
                out.push(event.clone());
            }
        }
    }
}

/// The calls to make: one per distinct (region, pattern) of a filter that seems to cover some
/// control of `catalog` without being its verbatim pattern. A call takes at most 50 events,
/// so the witnesses of every control the pattern covers are merged fairly: one per disjunct
/// of each control's pattern, taken in turn, then the edge variants in turn. `catalog`
/// should be the whole benchmark, not the selection, so that the calls do not depend on it.
pub fn requests(catalog: &Catalog, snapshot: &Snapshot) -> Vec<WitnessRequest> {
    let mut requests: Vec<WitnessRequest> = Vec::new();
    for (region, data) in &snapshot.regions {
        for filter in &data.metric_filters {
            let known = requests
                .iter()
                .any(|r| &r.region == region && r.pattern == filter.pattern);
            if known {
                continue;
            }
            let Ok(existing) = pattern::parse(&filter.pattern) else {
                continue;
            };
            let (per_term, edges): (Vec<Vec<String>>, Vec<Vec<String>>) = catalog
                .controls
                .iter()
                .filter_map(|control| witness_events(&filter.pattern, &existing, control))
                .unzip();
            let mut events: Vec<String> = Vec::new();
            interleave(&per_term, &mut events, EVENTS_PER_CALL);
            interleave(&edges, &mut events, EVENTS_PER_CALL);
            if events.is_empty() {
                continue;
            }
            requests.push(WitnessRequest {
                region: region.clone(),
                pattern: filter.pattern.clone(),
                events,
            });
        }
    }
    requests
}

/// AWS's answers about `filter` for `control`'s witnesses that were sent: `None` when the
/// filter is the catalog's own text or AWS was not asked (the verdict then rests on the
/// proof alone).
fn answers(
    snapshot: &Snapshot,
    region: &str,
    filter: &MetricFilter,
    control: &Control,
) -> Option<Vec<(String, bool)>> {
    let existing = pattern::parse(&filter.pattern).ok()?;
    let (per_term, edges) = witness_events(&filter.pattern, &existing, control)?;
    let answers: Vec<(String, bool)> = per_term
        .into_iter()
        .chain(edges)
        .filter_map(|event| {
            let answer = snapshot
                .pattern_tests
                .iter()
                .find(|t| t.region == region && t.pattern == filter.pattern && t.event == event)
                .map(|t| t.matched)?;
            Some((event, answer))
        })
        .collect();
    (!answers.is_empty()).then_some(answers)
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
        .find(|(_, matched)| !*matched)
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
        witnesses: answers.len(),
        matched: answers.iter().filter(|(_, matched)| *matched).count(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog;
    use crate::inventory::RegionSnapshot;

    fn parse(text: &str) -> pattern::Pattern {
        pattern::parse(text).unwrap()
    }

    fn snapshot(patterns: &[&str]) -> Snapshot {
        let region = RegionSnapshot {
            metric_filters: patterns
                .iter()
                .enumerate()
                .map(|(i, p)| MetricFilter {
                    log_group: "g".into(),
                    name: format!("f{i}"),
                    pattern: (*p).into(),
                    metric_name: format!("m{i}"),
                    metric_namespace: "ns".into(),
                    metric_value: "1".into(),
                    ..MetricFilter::default()
                })
                .collect(),
            ..RegionSnapshot::default()
        };
        Snapshot {
            regions: [("us-east-1".to_string(), region)].into_iter().collect(),
            ..Snapshot::default()
        }
    }

    #[test]
    fn any_accepted_text_is_verbatim_and_witnesses_come_from_the_covered_one() {
        let benchmark = catalog::load_builtin("cis-5.0").unwrap();
        let mfa = benchmark.controls.iter().find(|c| c.id == "4.2").unwrap();
        let sso = &mfa.also_accept.first().unwrap().text;
        assert!(is_verbatim(sso, mfa));
        assert!(is_verbatim(
            &format!("  {}\n", sso.replace(") && (", ")&&(")),
            mfa
        ));
        // Verbatim: no call at all.
        assert!(requests(&benchmark, &snapshot(&[sso])).is_empty());
        // Rewritten: one call, with the SSO variant's witnesses, not the primary's.
        let rewritten = sso.replace("\"ConsoleLogin\")", "ConsoleLogin)");
        assert_ne!(normalised(&rewritten), normalised(sso));
        let calls = requests(&benchmark, &snapshot(&[&rewritten]));
        assert_eq!(calls.len(), 1, "{calls:?}");
        let covered = &mfa.also_accept.first().unwrap().pattern;
        for event in &calls[0].events {
            let event: serde_json::Value = serde_json::from_str(event).unwrap();
            assert!(covered.matches(&event), "{event}");
            assert_eq!(event["userIdentity"]["type"], "IAMUser", "{event}");
        }
    }

    #[test]
    fn one_call_per_distinct_pattern_with_every_covered_control_in_it() {
        let benchmark = catalog::load_builtin("cis-5.0").unwrap();
        // Covers every control, whose witnesses together are far more than 50.
        let catch_all = "{ $.eventName = * || $.errorCode = * || $.userIdentity.type = * || $.eventSource = * }";
        let total: usize = benchmark
            .controls
            .iter()
            .filter_map(|c| witness_events(catch_all, &parse(catch_all), c))
            .map(|(per_term, edges)| per_term.len() + edges.len())
            .sum();
        assert!(total > EVENTS_PER_CALL, "{total}");
        let calls = requests(&benchmark, &snapshot(&[catch_all, catch_all]));
        assert_eq!(calls.len(), 1, "one call per distinct pattern");
        let events = &calls[0].events;
        assert_eq!(events.len(), EVENTS_PER_CALL);
        for (i, event) in events.iter().enumerate() {
            assert!(!events[..i].contains(event), "duplicate {event}");
        }
        // Each covered control's first disjunct made it in.
        for control in &benchmark.controls {
            let (per_term, _) = witness_events(catch_all, &parse(catch_all), control).unwrap();
            assert!(
                events.contains(per_term.first().unwrap()),
                "{}: {per_term:?}",
                control.id
            );
        }
    }

    #[test]
    fn a_control_gets_every_disjunct_before_edge_variants() {
        let mut out = Vec::new();
        let lists = vec![
            vec!["a1".to_string(), "a2".to_string()],
            vec!["b1".to_string()],
            vec!["a1".to_string(), "c2".to_string(), "c3".to_string()],
        ];
        interleave(&lists, &mut out, 4);
        assert_eq!(out, ["a1", "b1", "a2", "c2"]);
    }

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
