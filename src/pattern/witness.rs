//! Concrete events: witnesses (events a pattern matches) and counterexamples
//! (events the benchmark matches and an existing pattern misses).
//!
//! Both are built the same way: pick a DNF term (and, for a counterexample, a
//! CNF clause of the other pattern to falsify), choose for each selector the
//! first candidate value that makes the term's atoms there true (and the
//! clause's false), and nest the values by selector path. Selectors are not
//! really independent (`$.a` and `$.a.b` share a field), so every event is
//! checked with the evaluator before it is returned. Candidates start with the
//! values CloudTrail writes, and the event is then dressed as a record
//! ([`super::record`]), each added field checked the same way: what is
//! returned reads like a CloudTrail record and is still decided as built.

use serde_json::{Map, Value};

use super::ast::{Atom, NumOp, Pattern, Pred, RegexValue, Selector, Step};
use super::eval::pred_holds;
use super::glob::{Glob, Place};
use super::normal::{normal_form, preds_on, selectors, MAX_PAIRS};
use super::reading::Reading;
use super::record;

/// At most this many witnesses: the limit of events per call of CloudWatch
/// Logs' `TestMetricFilter`, which they are meant for.
pub const MAX_WITNESSES: usize = 50;

/// Events `pattern` matches under [`Reading::DOCUMENTED`], each checked with
/// [`Pattern::matches`]: first one per DNF term (disjunct), in order, then
/// edge variants per term — each wildcard value with its wildcards empty and
/// filled (`AccessDenied*`: `AccessDenied`, `AccessDeniedException`;
/// `*UnauthorizedOperation`: `UnauthorizedOperation`,
/// `Client.UnauthorizedOperation`), numbers at and beside their bounds, and
/// for `!=` near values (`""`, the value in another case, the value with a
/// suffix) and the field absent or null (each kept only if the pattern still
/// matches: under the documented reading absent and null do not).
/// Deterministic, deduplicated, and capped at [`MAX_WITNESSES`] (so a pattern
/// with more than 50 DNF terms gets one witness for each of its first 50).
/// Empty when the pattern is too large to normalize or no candidate value
/// fits (e.g. a contradiction).
pub fn witnesses(pattern: &Pattern) -> Vec<Value> {
    witnesses_under(pattern, Reading::DOCUMENTED)
}

/// [`witnesses`] in its two groups, so that a caller merging the witnesses of
/// several patterns into one 50-event call can keep a witness of every
/// disjunct before any edge variant.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Witnesses {
    /// One per DNF term that has a witness, in term order.
    pub per_term: Vec<Value>,
    /// The edge variants, none of them among `per_term`.
    pub edges: Vec<Value>,
}

/// [`witnesses`], grouped (each group capped at [`MAX_WITNESSES`]).
pub fn witness_groups(pattern: &Pattern) -> Witnesses {
    groups_under(pattern, Reading::DOCUMENTED)
}

/// [`witnesses`] under any reading.
pub(super) fn witnesses_under(pattern: &Pattern, reading: Reading) -> Vec<Value> {
    let Witnesses {
        mut per_term,
        edges,
    } = groups_under(pattern, reading);
    per_term.extend(edges);
    per_term.truncate(MAX_WITNESSES);
    per_term
}

fn groups_under(pattern: &Pattern, reading: Reading) -> Witnesses {
    let mut out = Witnesses::default();
    let Some(terms) = normal_form(&pattern.expr, true) else {
        return out;
    };
    let matches = |event: &Value| pattern.matches_under(event, reading);
    let keep = |event: &Value, seen: &Witnesses| {
        !seen.per_term.contains(event) && !seen.edges.contains(event) && matches(event)
    };
    let dress = |event: Value| record::dress(event, &matches);
    let bases: Vec<Option<Assignment<'_>>> = terms
        .iter()
        .map(|term| assign(term, &[], reading))
        .collect();
    for event in bases.iter().flatten().filter_map(build_event).map(dress) {
        if out.per_term.len() < MAX_WITNESSES && keep(&event, &out) {
            out.per_term.push(event);
        }
    }
    for (term, base) in terms.iter().zip(&bases) {
        let Some(base) = base else { continue };
        for atom in term {
            let pos = preds_on(term, &atom.selector);
            for value in edge_values(&atom.pred, reading) {
                if out.edges.len() >= MAX_WITNESSES {
                    return out;
                }
                if !pos.iter().all(|p| pred_holds(p, value.as_ref(), reading)) {
                    continue;
                }
                let variant: Assignment<'_> = base
                    .iter()
                    .map(|(s, v)| {
                        let v = if *s == &atom.selector {
                            value.clone()
                        } else {
                            v.clone()
                        };
                        (*s, v)
                    })
                    .collect();
                if let Some(event) = build_event(&variant).map(dress) {
                    if keep(&event, &out) {
                        out.edges.push(event);
                    }
                }
            }
        }
    }
    out
}

/// An event `benchmark` matches and `existing` misses under `reading`, dressed as a
/// CloudTrail record ([`record::dress`]) and checked with the evaluator under that reading
/// after every field; `None` if none was found.
pub(super) fn counterexample(
    existing: &Pattern,
    benchmark: &Pattern,
    reading: Reading,
) -> Option<Value> {
    let refutes = |event: &Value| {
        benchmark.matches_under(event, reading) && !existing.matches_under(event, reading)
    };
    minimal_counterexample(existing, benchmark, reading).map(|e| record::dress(e, &refutes))
}

/// [`counterexample`] with only the fields the patterns test: what a regex refutation
/// weighs (its strings), where the dress would only cost time.
pub(super) fn minimal_counterexample(
    existing: &Pattern,
    benchmark: &Pattern,
    reading: Reading,
) -> Option<Value> {
    let refutes = |event: &Value| {
        benchmark.matches_under(event, reading) && !existing.matches_under(event, reading)
    };
    let terms = normal_form(&benchmark.expr, true);
    let clauses = normal_form(&existing.expr, false);
    if let (Some(terms), Some(clauses)) = (&terms, &clauses) {
        // Falsifying one clause falsifies the whole existing pattern.
        let pairs = terms
            .iter()
            .flat_map(|t| clauses.iter().map(move |c| (t, c)));
        for (term, clause) in pairs.take(MAX_PAIRS) {
            let found = assign(term, clause, reading)
                .and_then(|a| build_event(&a))
                .filter(|e| refutes(e));
            if found.is_some() {
                return found;
            }
        }
    }
    // Fallback (forms too large, or selectors that interfere): the
    // benchmark's own witnesses.
    witnesses_under(benchmark, reading)
        .into_iter()
        .find(|e| refutes(e))
}

/// Largest array index an event is built with (arrays are padded with null).
const MAX_INDEX: usize = 1024;

/// A value per selector; `None` = leave the field out.
type Assignment<'a> = Vec<(&'a Selector, Option<Value>)>;

/// For each selector of `term`, then of `clause`, the first candidate value
/// making the term's atoms there true and the clause's false.
fn assign<'a>(term: &[&'a Atom], clause: &[&'a Atom], reading: Reading) -> Option<Assignment<'a>> {
    let mut all = selectors(term);
    for s in selectors(clause) {
        if !all.contains(&s) {
            all.push(s);
        }
    }
    all.into_iter()
        .map(|selector| {
            let pos = preds_on(term, selector);
            let neg = preds_on(clause, selector);
            let value = candidates(selector, pos.iter().chain(&neg).copied(), reading)
                .into_iter()
                .find(|v| {
                    pos.iter().all(|p| pred_holds(p, v.as_ref(), reading))
                        && !neg.iter().any(|p| pred_holds(p, v.as_ref(), reading))
                })?;
            Some((selector, value))
        })
        .collect()
}

/// Fill for a wildcard when a witness should show it absorbing text:
/// plausible CloudTrail error codes around the common CIS values.
fn natural_fill(place: Place) -> String {
    match place {
        Place::Leading => "Client.",
        Place::Middle => "X",
        Place::Trailing => "Exception",
    }
    .to_string()
}

/// Candidate values for a selector tested by `preds`, most natural first:
/// absent, the values the predicates name, the values CloudTrail writes there
/// ([`record::usual_values`]), then one of each other kind. For a field every
/// record has (`userIdentity.type`, `MFAUsed` on a sign-in), absent comes after
/// the usual values: a sign-in that must not be an IAM user's is root's.
fn candidates<'p>(
    selector: &Selector,
    preds: impl Iterator<Item = &'p Pred> + Clone,
    reading: Reading,
) -> Vec<Option<Value>> {
    let (usual, always_there) = record::usual_values(selector);
    let mut out: Vec<Option<Value>> = Vec::new();
    if !always_there {
        out.push(None);
    }
    let mut add = |v: Option<Value>| {
        if !out.contains(&v) {
            out.push(v);
        }
    };
    for pred in preds.clone() {
        match pred {
            Pred::Str { glob, .. } => {
                let g = Glob::new(glob, reading);
                let bare = g.instance(|_| String::new());
                // An empty string is a poor first example of `*`.
                if !bare.is_empty() {
                    add(Some(Value::String(bare)));
                }
                add(Some(Value::String(g.instance(natural_fill))));
            }
            Pred::Num { value, .. } => {
                for delta in [0.0, 1.0, -1.0, 0.5, -0.5] {
                    if let Some(n) = number(value.value + delta) {
                        add(Some(n));
                    }
                }
            }
            Pred::Regex { regex, .. } => add(Some(Value::String(regex_sample(&regex.source)))),
            _ => {}
        }
    }
    for value in usual {
        add(Some(Value::String((*value).to_string())));
    }
    add(None);
    // Another value for `!=`: the named one with a prefix, or a suffix when
    // the glob has a leading wildcard.
    for pred in preds {
        if let Pred::Str { glob, .. } = pred {
            let bare = Glob::new(glob, reading).instance(|_| String::new());
            add(Some(Value::String(format!("not-{bare}"))));
            add(Some(Value::String(format!("{bare}-not"))));
        }
    }
    for v in [
        Value::String(String::new()),
        Value::String("x".to_string()),
        Value::Null,
        Value::Bool(true),
        Value::Bool(false),
        Value::Object(Map::new()),
    ] {
        add(Some(v));
    }
    out
}

/// Values worth a witness of their own for one atom (the term's other atoms
/// on that selector still have to hold).
fn edge_values(pred: &Pred, reading: Reading) -> Vec<Option<Value>> {
    let absent = [None, Some(Value::Null)];
    match pred {
        Pred::Str {
            negated: false,
            glob,
        } => {
            let g = Glob::new(glob, reading);
            if !g.has_wildcard() {
                return Vec::new();
            }
            [g.instance(|_| String::new()), g.instance(natural_fill)]
                .into_iter()
                .map(|s| Some(Value::String(s)))
                .collect()
        }
        // Near values, so that AWS sees `!=` terms decided on a present value (the
        // documented reading drops absent and null): empty, another case, a suffix.
        Pred::Str {
            negated: true,
            glob,
        } => {
            let bare = Glob::new(glob, reading).instance(|_| String::new());
            let case = if bare.to_lowercase() == bare {
                bare.to_uppercase()
            } else {
                bare.to_lowercase()
            };
            [String::new(), case, format!("{bare}-not")]
                .into_iter()
                .map(|s| Some(Value::String(s)))
                .chain(absent)
                .collect()
        }
        Pred::Regex { negated: true, .. } => std::iter::once(Some(Value::String(String::new())))
            .chain(absent)
            .collect(),
        Pred::Num { op, value } => {
            let deltas: &[f64] = match op {
                NumOp::Eq => &[],
                NumOp::Ne | NumOp::Lt | NumOp::Gt | NumOp::Le | NumOp::Ge => {
                    &[0.0, 1.0, -1.0, 0.5, -0.5]
                }
            };
            let mut out: Vec<Option<Value>> = deltas
                .iter()
                .filter_map(|d| number(value.value + d))
                .map(Some)
                .collect();
            if *op == NumOp::Ne {
                out.extend(absent);
            }
            out
        }
        _ => Vec::new(),
    }
}

/// A JSON number, integral when the value is (events rarely say `3.0`).
fn number(x: f64) -> Option<Value> {
    // Below 2^53 every integral f64 is an exact i64.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if x.fract() == 0.0 && x.abs() < EXACT {
        Some(Value::from(x as i64))
    } else {
        serde_json::Number::from_f64(x).map(Value::Number)
    }
}

/// Strings to try when regexes constrain a string that globs only bound:
/// each glob with its wildcards filled by a few fills and by a sample of each
/// regex, and the samples themselves.
pub(super) fn string_candidates(globs: &[&Glob], regexes: &[&RegexValue]) -> Vec<String> {
    let samples: Vec<String> = regexes.iter().map(|r| regex_sample(&r.source)).collect();
    let mut fills: Vec<String> = ["", "X", "Client.", "Exception"].map(String::from).to_vec();
    fills.extend(samples.iter().cloned());
    let mut out = samples;
    for g in globs {
        for fill in &fills {
            let s = g.instance(|_| fill.clone());
            if !out.contains(&s) {
                out.push(s);
            }
        }
    }
    out
}

/// A string the regex probably matches (a guess; callers check): the first
/// alternative, with anchors and groups dropped, optional items left out,
/// classes replaced by a member and escapes by the character.
pub(super) fn regex_sample(source: &str) -> String {
    let mut out = String::new();
    // Where the last item starts in `out`, for `?` and `*` to drop it.
    let mut last = 0;
    let mut chars = source.chars();
    while let Some(c) = chars.next() {
        let start = out.len();
        match c {
            '^' | '$' | '(' | ')' | '+' => continue,
            '|' => break,
            '*' | '?' => {
                out.truncate(last);
                continue;
            }
            '{' => {
                // Keep one occurrence of the repeated item.
                for c in chars.by_ref() {
                    if c == '}' {
                        break;
                    }
                }
                continue;
            }
            '.' => out.push('a'),
            '\\' => match chars.next() {
                Some('d') => out.push('0'),
                Some('w') => out.push('a'),
                Some('s') => out.push(' '),
                Some('D' | 'W' | 'S') => out.push('-'),
                // Assertions such as `\b` match no character.
                Some(e) if e.is_ascii_alphabetic() => {}
                Some(e) => out.push(e),
                None => {}
            },
            '[' => {
                let mut member: Option<char> = None;
                let mut negated = false;
                let mut first = true;
                while let Some(c) = chars.next() {
                    match c {
                        ']' if !first => break,
                        '^' if first => negated = true,
                        '\\' => {
                            let e = chars.next();
                            if member.is_none() {
                                member = e.map(|e| match e {
                                    'd' => '0',
                                    'w' | 's' => 'a',
                                    other => other,
                                });
                            }
                        }
                        c => {
                            if member.is_none() {
                                member = Some(c);
                            }
                        }
                    }
                    first = false;
                }
                // A negated class probably excludes neither `-` nor `~`.
                out.push(match (negated, member) {
                    (false, Some(m)) => m,
                    (true, Some('~')) => '-',
                    _ => '~',
                });
            }
            other => out.push(other),
        }
        last = start;
    }
    out
}

/// Builds the event holding each assigned value at its selector's path
/// (arrays padded with null), or `None` when two paths collide (one needs a
/// leaf where another needs an object or array).
fn build_event(assignment: &Assignment<'_>) -> Option<Value> {
    let mut root: Option<Node> = None;
    for (selector, value) in assignment {
        if let Some(value) = value {
            insert(&mut root, &selector.0, value)?;
        }
    }
    Some(root.map_or_else(|| Value::Object(Map::new()), Node::into_value))
}

enum Node {
    Leaf(Value),
    Object(Vec<(String, Option<Node>)>),
    Array(Vec<Option<Node>>),
}

impl Node {
    fn into_value(self) -> Value {
        match self {
            Node::Leaf(v) => v,
            Node::Object(fields) => Value::Object(
                fields
                    .into_iter()
                    .filter_map(|(k, n)| Some((k, n?.into_value())))
                    .collect(),
            ),
            Node::Array(items) => Value::Array(
                items
                    .into_iter()
                    .map(|n| n.map_or(Value::Null, Node::into_value))
                    .collect(),
            ),
        }
    }
}

fn insert(slot: &mut Option<Node>, steps: &[Step], value: &Value) -> Option<()> {
    let Some((step, rest)) = steps.split_first() else {
        let empty_object = matches!(value, Value::Object(map) if map.is_empty());
        return match slot {
            // `{}` stands for "some object", so it merges with other fields.
            None if empty_object => {
                *slot = Some(Node::Object(Vec::new()));
                Some(())
            }
            None => {
                *slot = Some(Node::Leaf(value.clone()));
                Some(())
            }
            Some(Node::Object(_)) if empty_object => Some(()),
            Some(_) => None,
        };
    };
    match step {
        Step::Field(name) => {
            let Node::Object(fields) = slot.get_or_insert_with(|| Node::Object(Vec::new())) else {
                return None;
            };
            let index = match fields.iter().position(|(k, _)| k == name) {
                Some(i) => i,
                None => {
                    fields.push((name.clone(), None));
                    fields.len().saturating_sub(1)
                }
            };
            let (_, child) = fields.get_mut(index)?;
            insert(child, rest, value)
        }
        Step::Index(i) => {
            let Node::Array(items) = slot.get_or_insert_with(|| Node::Array(Vec::new())) else {
                return None;
            };
            // The padding would be allocated: refuse absurd indexes.
            if *i > MAX_INDEX {
                return None;
            }
            if items.len() <= *i {
                items.resize_with(i.saturating_add(1), || None);
            }
            insert(items.get_mut(*i)?, rest, value)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;
    use serde_json::json;

    fn w(pattern: &str) -> Vec<Value> {
        bare(witnesses(&parse(pattern).unwrap()), pattern)
    }

    /// The fields [`record::dress`] adds that `pattern` does not test, taken out again: the
    /// events as built, before they were dressed.
    pub(in crate::pattern) fn bare(events: Vec<Value>, pattern: &str) -> Vec<Value> {
        const DRESS: &[&str] = &[
            "eventVersion",
            "userIdentity",
            "eventTime",
            "eventName",
            "eventSource",
            "awsRegion",
            "sourceIPAddress",
            "userAgent",
            "eventType",
        ];
        events
            .into_iter()
            .map(|mut event| {
                if let Value::Object(map) = &mut event {
                    for key in DRESS {
                        if !pattern.contains(&format!("$.{key}")) {
                            map.remove(*key);
                        }
                    }
                }
                event
            })
            .collect()
    }

    #[test]
    fn unauthorized_witnesses_show_each_wildcard_edge() {
        let got =
            w(r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }"#);
        assert_eq!(
            got,
            vec![
                json!({"errorCode": "UnauthorizedOperation"}),
                json!({"errorCode": "AccessDenied"}),
                json!({"errorCode": "Client.UnauthorizedOperation"}),
                json!({"errorCode": "AccessDeniedException"}),
            ]
        );
    }

    #[test]
    fn not_equal_witnesses_use_another_value_not_absence() {
        let got =
            w(r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }"#);
        let mfa =
            |v: &str| json!({"eventName": "ConsoleLogin", "additionalEventData": {"MFAUsed": v}});
        // The value a sign-in record has, then near values, which reach AWS; absent and null
        // do not match under the documented reading.
        assert_eq!(got, vec![mfa("No"), mfa(""), mfa("yes"), mfa("Yes-not")]);
        // Each a record of its kind.
        let first = witnesses(
            &parse(
                r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }"#,
            )
            .unwrap(),
        );
        assert_eq!(
            first.first().map(record::record_text).as_deref(),
            Some(
                r#"{"eventVersion":"1.08","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::123456789012:user/alice","accountId":"123456789012"},"eventTime":"2026-03-14T09:26:53Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.44","userAgent":"signin.amazonaws.com","additionalEventData":{"MFAUsed":"No"},"eventType":"AwsConsoleSignIn"}"#
            )
        );
        let p = parse(r#"{ $.a != "Yes" }"#).unwrap();
        let lenient = bare(witnesses_under(&p, Reading::ALL[1]), "$.a");
        assert_eq!(
            lenient.first(),
            Some(&json!({})),
            "absent first when it matches"
        );
        assert!(lenient.contains(&json!({"a": null})));
    }

    #[test]
    fn one_witness_per_disjunct_and_verified() {
        let p = parse(
            "{ ($.a = 1 && $.b[1].c >= 2) || $.d IS NULL || $.e NOT EXISTS || $.f IS TRUE || $.g = %^ab+c$% }",
        )
        .unwrap();
        let got = witnesses(&p);
        assert!(got.iter().all(|e| p.matches(e)));
        let got = bare(got, "");
        assert_eq!(
            got.get(..5),
            Some(
                &[
                    json!({"a": 1, "b": [null, {"c": 2}]}),
                    json!({"d": null}),
                    json!({}),
                    json!({"f": true}),
                    json!({"g": "abc"}),
                ][..]
            )
        );
        assert!(got.contains(&json!({"a": 1, "b": [null, {"c": 3}]})));
    }

    #[test]
    fn contradictions_and_colliding_paths_have_no_witness() {
        assert!(w("{ $.a = x && $.a = y }").is_empty());
        assert!(w("{ $.a = x && $.a.b = y }").is_empty());
        assert_eq!(
            w("{ $.a = x && $.a.b NOT EXISTS }"),
            vec![json!({"a": "x"})]
        );
    }

    #[test]
    fn witnesses_are_capped() {
        let names: Vec<String> = (0..80).map(|i| format!("$.n = N{i}")).collect();
        let got = w(&format!("{{ {} }}", names.join(" || ")));
        assert_eq!(got.len(), MAX_WITNESSES);
        assert_eq!(got.first(), Some(&json!({"n": "N0"})));
    }

    #[test]
    fn regex_samples() {
        for (source, sample) in [
            (r"^10\.0\.", "10.0."),
            ("ab?c*d+", "ad"),
            ("^(ConsoleLogin|AssumeRole)$", "ConsoleLogin"),
            (r"[0-9]{3}-\d", "0-0"),
            ("[^a]x", "~x"),
            (r"\bword\b", "word"),
        ] {
            assert_eq!(regex_sample(source), sample, "{source}");
        }
    }

    #[test]
    fn huge_indexes_get_no_event() {
        assert!(w("{ $.a[99999999999] = 1 }").is_empty());
        assert_eq!(w("{ $.a[2] = 1 }"), vec![json!({"a": [null, null, 1]})]);
    }

    #[test]
    fn events_nest_by_selector_path() {
        let p = parse("{ $.a.b = x && $.a.c[2] = 1 && $[0] NOT EXISTS }").unwrap();
        assert_eq!(
            bare(witnesses(&p), ""),
            vec![json!({"a": {"b": "x", "c": [null, null, 1]}})]
        );
    }
}
