//! Property tests: parser robustness, canonical round-trip, comparator
//! soundness against the evaluator, and equivalence under rewriting.

use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Value};

use super::ast::{Atom, Expr, Pattern, Pred};
use super::parser::{ends_unquoted, is_number};
use super::testdata::CIS_PATTERNS;
use super::{compare, compare_detailed, implies, parse, witnesses, Reading, Relation};

/// The expression of `{ path test }`, e.g. `atom("$.a", "!= \"A*\"")`.
fn atom(path: &str, test: &str) -> Expr {
    parse(&format!("{{ {path} {test} }}")).unwrap().expr
}

fn quote(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Every comparison text over a vocabulary of globs, numbers and regexes.
fn tests(globs: &[&str], numbers: &[&str], regexes: &[&str]) -> Vec<String> {
    let mut out: Vec<String> = ["IS NULL", "IS TRUE", "IS FALSE", "NOT EXISTS"]
        .map(String::from)
        .to_vec();
    for op in ["=", "!="] {
        out.extend(globs.iter().map(|g| format!("{op} {}", quote(g))));
        out.extend(
            regexes
                .iter()
                .map(|r| format!("{op} %{}%", r.replace('%', "\\%"))),
        );
    }
    for op in ["=", "!=", "<", ">", "<=", ">="] {
        out.extend(numbers.iter().map(|n| format!("{op} {n}")));
    }
    out
}

fn tree(paths: &'static [&'static str], tests: Vec<String>) -> impl Strategy<Value = Expr> + Clone {
    let leaf = (select(paths), select(tests)).prop_map(|(p, t)| atom(p, &t));
    leaf.prop_recursive(3, 12, 3, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..=3).prop_map(Expr::and),
            prop::collection::vec(inner, 2..=3).prop_map(Expr::or),
        ]
    })
}

const SMALL_PATHS: &[&str] = &["$.a", "$.b", "$.c.d", "$.e[0]"];

fn small_tests() -> Vec<String> {
    tests(
        &["A", "B", "A*", "*B", "*", "AB", "A*B", "*A*B"],
        &["0", "1", "2", "3"],
        &["^A", "B$"],
    )
}

fn small_expr() -> impl Strategy<Value = Expr> + Clone {
    tree(SMALL_PATHS, small_tests())
}

/// Spellings that stress quoting, escaping and number syntax.
fn rich_expr() -> impl Strategy<Value = Expr> + Clone {
    let globs = [
        "",
        "A*",
        "*",
        "a\"b",
        "back\\slash",
        "with space",
        "é*",
        "x%y",
        "-1x",
        "1",
        "(p)",
        "a&&b",
        "kms.amazonaws.com",
    ];
    let paths = &["$.a", "$.x-y_1", "$.list[10].id", "$[0]", "$.é.b2"];
    tree(
        paths,
        tests(
            &globs,
            &["0", "-2.5", "1e+3", "007", "1E-2"],
            &["^A", "a%b", r"\d+", r"\\", "(x|y)"],
        ),
    )
    .prop_filter("at most 2 regexes", |e| regex_count(e) <= 2)
}

/// How many comparisons satisfy `which`.
fn count(expr: &Expr, which: &dyn Fn(&Atom) -> bool) -> usize {
    match expr {
        Expr::And(cs) | Expr::Or(cs) => cs.iter().map(|c| count(c, which)).sum(),
        Expr::Cmp(c) => usize::from(which(c)),
    }
}

fn regex_count(expr: &Expr) -> usize {
    count(expr, &|c| matches!(c.pred, Pred::Regex { .. }))
}

/// `expr` with its `index`-th leaf (counting left to right, wrapping) replaced.
fn replace_leaf(expr: &Expr, index: usize, new: &Expr) -> Expr {
    fn go(expr: &Expr, index: &mut usize, new: &Expr) -> Expr {
        match expr {
            Expr::And(cs) => Expr::and(cs.iter().map(|c| go(c, index, new)).collect()),
            Expr::Or(cs) => Expr::or(cs.iter().map(|c| go(c, index, new)).collect()),
            Expr::Cmp(_) => {
                *index = index.wrapping_sub(1);
                if *index == usize::MAX {
                    new.clone()
                } else {
                    expr.clone()
                }
            }
        }
    }
    go(expr, &mut (index % count(expr, &|_| true)), new)
}

/// Fields CloudTrail writes (and one it does not), for patterns whose counterexamples must
/// still read like records.
const RECORD_PATHS: &[&str] = &[
    "$.eventName",
    "$.eventSource",
    "$.userIdentity.type",
    "$.userIdentity",
    "$.additionalEventData.MFAUsed",
    "$.errorCode",
    "$.eventVersion",
    "$.a",
];

fn record_tests() -> Vec<String> {
    tests(
        &[
            "ConsoleLogin",
            "DetachGroupPolicy",
            "Root",
            "IAMUser",
            "Yes",
            "No",
            "iam.amazonaws.com",
            "AccessDenied*",
            "*",
            "1.08",
        ],
        &["1"],
        &["^A"],
    )
}

/// The fields every dressed record carries, each with the fields its value is computed from
/// (a pattern deciding one of those may leave it out: an identity type without an ARN).
const RECORD_FIELDS: &[(&[&str], &[&[&str]])] = &[
    (&["eventVersion"], &[]),
    (&["userIdentity", "type"], &[]),
    (&["userIdentity", "arn"], &[&["userIdentity", "type"]]),
    (&["userIdentity", "accountId"], &[&["userIdentity", "type"]]),
    (&["eventTime"], &[]),
    (&["eventName"], &[&["eventSource"]]),
    (&["eventSource"], &[&["eventName"]]),
    (&["awsRegion"], &[]),
    (&["sourceIPAddress"], &[]),
    (&["userAgent"], &[]),
    (&["eventType"], &[]),
];

/// Every selector of `p` and `q`, as steps: a field name, or `None` for an index.
fn tested(p: &Pattern, q: &Pattern) -> Vec<Vec<Option<String>>> {
    fn go(expr: &Expr, out: &mut Vec<Vec<Option<String>>>) {
        match expr {
            Expr::And(cs) | Expr::Or(cs) => cs.iter().for_each(|c| go(c, out)),
            Expr::Cmp(atom) => out.push(
                atom.selector
                    .0
                    .iter()
                    .map(|step| match step {
                        super::ast::Step::Field(name) => Some(name.clone()),
                        super::ast::Step::Index(_) => None,
                    })
                    .collect(),
            ),
        }
    }
    let mut out = Vec::new();
    go(&p.expr, &mut out);
    go(&q.expr, &mut out);
    out
}

/// Whether a selector of `p` or `q` is `field`, or on the way to it, or under it.
fn decides(p: &Pattern, q: &Pattern, field: &[&str]) -> bool {
    tested(p, q).iter().any(|steps| {
        steps
            .iter()
            .zip(field)
            .all(|(step, name)| step.as_deref() == Some(*name))
    })
}

/// Pairs likely to be related: random, widened, narrowed, one leaf changed.
fn related_pair() -> impl Strategy<Value = (Pattern, Pattern)> {
    related_pair_over(SMALL_PATHS, small_tests())
}

/// [`related_pair`] over `paths` and `tests`.
fn related_pair_over(
    paths: &'static [&'static str],
    tests: Vec<String>,
) -> impl Strategy<Value = (Pattern, Pattern)> {
    let leaf = (select(paths), select(tests.clone())).prop_map(|(p, t)| atom(p, &t));
    (
        tree(paths, tests.clone()),
        tree(paths, tests),
        leaf,
        any::<usize>(),
        0..5u8,
        any::<bool>(),
    )
        .prop_map(|(p, r, leaf, index, kind, swap)| {
            let q = match kind {
                0 => r,
                1 => Expr::or(vec![p.clone(), r]),
                2 => Expr::and(vec![p.clone(), r]),
                3 => replace_leaf(&p, index, &leaf),
                _ => Expr::or(vec![replace_leaf(&p, index, &leaf), r]),
            };
            let (p, q) = (Pattern { expr: p }, Pattern { expr: q });
            if swap {
                (q, p)
            } else {
                (p, q)
            }
        })
}

/// Tiny deterministic generator for rendering choices (xorshift64).
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }

    fn ws(&mut self) -> &'static str {
        ["", " ", "  ", "\n", "\t", " \n "][self.below(6)]
    }
}

/// Text for `expr` with shuffled operands, an occasional duplicate, extra
/// parentheses, random whitespace, and alternative spellings of values.
fn render_variant(expr: &Expr, rng: &mut Rng, in_and: bool) -> String {
    match expr {
        Expr::Cmp(c) => {
            let body = render_comparison(c, rng);
            if rng.below(2) == 0 {
                format!("({}{body}{})", rng.ws(), rng.ws())
            } else {
                body
            }
        }
        Expr::And(cs) | Expr::Or(cs) => {
            let is_and = matches!(expr, Expr::And(_));
            let mut order: Vec<&Expr> = cs.iter().collect();
            for i in (1..order.len()).rev() {
                order.swap(i, rng.below(i + 1));
            }
            let duplicate = &cs[rng.below(cs.len())];
            if rng.below(4) == 0 && regex_count(duplicate) == 0 {
                order.insert(rng.below(order.len() + 1), duplicate);
            }
            let sep = if is_and { "&&" } else { "||" };
            let mut out = String::new();
            for (i, child) in order.iter().enumerate() {
                if i > 0 {
                    out.push_str(&format!("{}{sep}{}", rng.ws(), rng.ws()));
                }
                out.push_str(&render_variant(child, rng, is_and));
            }
            if (in_and && !is_and) || rng.below(3) == 0 {
                format!("({}{out}{})", rng.ws(), rng.ws())
            } else {
                out
            }
        }
    }
}

fn render_comparison(c: &Atom, rng: &mut Rng) -> String {
    let sel = c.selector.to_string();
    let (a, b) = (rng.ws(), rng.ws());
    let eq = |negated: bool| if negated { "!=" } else { "=" };
    match &c.pred {
        Pred::Str { negated, glob } => {
            let unquoted_ok = !glob.is_empty()
                && !glob.starts_with('%')
                && !glob.chars().any(ends_unquoted)
                && !is_number(glob);
            let quoted = !unquoted_ok || rng.below(2) == 0;
            let value = if quoted { quote(glob) } else { glob.clone() };
            format!("{sel}{a}{}{b}{value}", eq(*negated))
        }
        Pred::Num { op, value } => {
            let plain = !value.text.contains(['.', 'e', 'E']);
            let suffix = if plain && rng.below(2) == 0 { ".0" } else { "" };
            format!("{sel}{a}{}{b}{}{suffix}", op.symbol(), value.text)
        }
        Pred::Regex { negated, regex } => {
            let source = regex.source.replace('%', "\\%");
            format!("{sel}{a}{}{b}%{source}%", eq(*negated))
        }
        Pred::IsNull => format!("{sel} {a}IS {b}NULL"),
        Pred::IsTrue => format!("{sel} {a}IS {b}TRUE"),
        Pred::IsFalse => format!("{sel} {a}IS {b}FALSE"),
        Pred::NotExists => format!("{sel} {a}NOT {b}EXISTS"),
    }
}

/// Parses without panicking; anything accepted must round-trip and evaluate.
fn check_parse(text: &str) -> Result<(), TestCaseError> {
    if let Ok(p) = parse(text) {
        let canonical = p.canonical();
        let reparsed = parse(&canonical);
        prop_assert_eq!(reparsed.as_ref(), Ok(&p), "canonical {}", canonical);
        let _ =
            p.matches(&json!({"eventName": "ConsoleLogin", "errorCode": "AccessDenied", "n": 1}));
        let lines = p.display_lines();
        prop_assert_eq!(lines.first().map(String::as_str), Some("{"));
    }
    Ok(())
}

/// Events built from the values the patterns' atoms test on each selector
/// (glob instances, numbers and their neighbours), so that matches are common.
fn directed_events(patterns: [&Pattern; 2], rng: &mut Rng, count: usize) -> Vec<Value> {
    fn collect(expr: &Expr, out: &mut Vec<(String, Value)>) {
        match expr {
            Expr::And(cs) | Expr::Or(cs) => cs.iter().for_each(|c| collect(c, out)),
            Expr::Cmp(c) => {
                let values = match &c.pred {
                    Pred::Str { glob, .. } => {
                        // The glob itself keeps its `*`s: a literal middle star.
                        let fill = |f: &str| json!(glob.replace('*', f));
                        vec![
                            fill(""),
                            fill("B"),
                            fill("AB"),
                            json!(format!("Z{glob}")),
                            json!(glob),
                        ]
                    }
                    Pred::Num { value, .. } => {
                        [-0.5, 0.0, 0.5].map(|d| json!(value.value + d)).to_vec()
                    }
                    _ => vec![json!("A"), json!("xB")],
                };
                out.extend(values.into_iter().map(|v| (c.selector.to_string(), v)));
            }
        }
    }
    let mut seen = Vec::new();
    patterns.iter().for_each(|p| collect(&p.expr, &mut seen));
    let pools: Vec<Vec<Value>> = SMALL_PATHS
        .iter()
        .map(|path| {
            let mut pool = vec![
                json!(null),
                json!(true),
                json!(false),
                json!({}),
                json!([]),
                json!(""),
            ];
            for (_, v) in seen.iter().filter(|(p, _)| p == path) {
                if !pool.contains(v) {
                    pool.push(v.clone());
                }
            }
            pool
        })
        .collect();
    let mut pick =
        |i: usize| (rng.below(6) > 0).then(|| pools[i][rng.below(pools[i].len())].clone());
    (0..count)
        .map(|_| {
            let fields = [
                ("a", pick(0)),
                ("b", pick(1)),
                ("c", pick(2).map(|d| json!({ "d": d }))),
                ("e", pick(3).map(|v| json!([v]))),
            ];
            Value::Object(
                fields
                    .into_iter()
                    .filter_map(|(k, v)| Some((k.to_string(), v?)))
                    .collect(),
            )
        })
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(384))]

    #[test]
    fn parse_never_panics_on_arbitrary_text(text in any::<String>()) {
        check_parse(&text)?;
    }

    #[test]
    fn parse_never_panics_on_pattern_alphabet(
        text in "[{}()$.a-zA-Z0-9_ \t\n=!<>&|\"%*\\\\\\[\\]é-]{0,60}",
    ) {
        check_parse(&text)?;
        check_parse(&format!("{{{text}}}"))?;
        check_parse(&format!("{{ $.a = {text} }}"))?;
    }

    #[test]
    fn parse_never_panics_on_mutated_patterns(
        index in any::<prop::sample::Index>(),
        edits in prop::collection::vec((any::<prop::sample::Index>(), 0..3u8, any::<char>()), 1..4),
    ) {
        let mut chars: Vec<char> = index.get(CIS_PATTERNS).chars().collect();
        for (at, kind, c) in edits {
            let i = at.index(chars.len() + 1);
            match kind {
                0 => chars.insert(i, c),
                1 if i < chars.len() => { chars.remove(i); }
                _ if i < chars.len() => chars[i] = c,
                _ => chars.push(c),
            }
        }
        check_parse(&chars.into_iter().collect::<String>())?;
    }

    #[test]
    fn canonical_round_trips(expr in rich_expr()) {
        let p = Pattern { expr };
        let text = p.canonical();
        let reparsed = parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(reparsed.canonical(), text.clone());
        prop_assert_eq!(reparsed, p, "{}", text);
    }

    /// Under every reading, on directed events and on both patterns'
    /// witnesses: no proven verdict is refuted, and counterexamples are real.
    #[test]
    fn implication_and_verdicts_are_sound(
        (p, q) in related_pair(),
        seed in any::<u64>(),
    ) {
        let p_implies_q = implies(&p, &q);
        // `p` plays the existing pattern, `q` the benchmark.
        let detailed = compare_detailed(&p, &q);
        let verdict = detailed.relation;
        prop_assert_eq!(verdict, compare(&p, &q));
        let mut events = directed_events([&p, &q], &mut Rng(seed | 1), 128);
        events.extend(witnesses(&p));
        events.extend(witnesses(&q));
        for reading in Reading::all() {
            for event in &events {
                let (pm, qm) = (p.matches_under(event, reading), q.matches_under(event, reading));
                let note = format!("p={} q={} event={event} verdict={verdict:?} reading={reading}", p.canonical(), q.canonical());
                prop_assert!(!p_implies_q || !pm || qm, "implies wrong: {}", note);
                match verdict {
                    Relation::Equivalent => prop_assert_eq!(pm, qm, "{}", note),
                    Relation::Covers => prop_assert!(!qm || pm, "{}", note),
                    Relation::Weaker => prop_assert!(!pm || qm, "{}", note),
                    Relation::Different | Relation::Unverified => {}
                }
            }
        }
        for (reading, relation) in &detailed.per_reading {
            for event in &events {
                let (pm, qm) = (p.matches_under(event, *reading), q.matches_under(event, *reading));
                let note = format!("p={} q={} event={event} {relation:?} under {reading}", p.canonical(), q.canonical());
                match relation {
                    Relation::Equivalent => prop_assert_eq!(pm, qm, "{}", note),
                    Relation::Covers => prop_assert!(!qm || pm, "{}", note),
                    Relation::Weaker => prop_assert!(!pm || qm, "{}", note),
                    Relation::Different | Relation::Unverified => {}
                }
            }
        }
        match (&detailed.counterexample, detailed.counterexample_reading) {
            (Some(event), Some(reading)) => {
                prop_assert!(!verdict.satisfies());
                prop_assert!(
                    q.matches_under(event, reading) && !p.matches_under(event, reading),
                    "bad counterexample {} for p={} q={}", event, p.canonical(), q.canonical()
                );
            }
            (None, None) => {}
            other => prop_assert!(false, "counterexample without reading: {:?}", other),
        }
        if !detailed.ambiguous.is_empty() {
            prop_assert_eq!(verdict, Relation::Unverified);
        }
        // A refutation through regex terms is a real counterexample, under the reading it is
        // made in, and only ever counts against coverage.
        for (reading, relation) in &detailed.per_reading {
            if let Some(event) = super::compare::regex_refutation(&p, &q, *reading) {
                let note = format!("p={} q={} event={event} {relation:?} under {reading}", p.canonical(), q.canonical());
                prop_assert!(q.matches_under(&event, *reading) && !p.matches_under(&event, *reading), "{}", note);
                prop_assert!(!relation.satisfies(), "{}", note);
                prop_assert!(*relation != Relation::Unverified, "{}", note);
            }
        }
    }

    /// Counterexamples read like CloudTrail records (issue 19, item 5): on patterns over the
    /// fields CloudTrail writes and over others, each counterexample is still matched by the
    /// benchmark and missed by the existing pattern under the reading shown, and carries
    /// every field a record has that no pattern decides.
    #[test]
    fn counterexamples_read_like_cloudtrail_records(
        (p, q) in prop_oneof![related_pair(), related_pair_over(RECORD_PATHS, record_tests())],
    ) {
        let detailed = compare_detailed(&p, &q);
        let (Some(event), Some(reading)) = (&detailed.counterexample, detailed.counterexample_reading) else {
            return Ok(());
        };
        let note = format!("p={} q={} event={event} under {reading}", p.canonical(), q.canonical());
        prop_assert!(q.matches_under(event, reading) && !p.matches_under(event, reading), "{}", note);
        if !event.is_object() {
            // Only a pattern on the root as an array (`$[0]`) makes it one.
            prop_assert!(tested(&p, &q).iter().any(|s| s.first().is_none_or(Option::is_none)), "{}", note);
            return Ok(());
        }
        for (field, depends_on) in RECORD_FIELDS {
            let decided = [*field].iter().chain(depends_on.iter()).any(|f| decides(&p, &q, f));
            if !decided {
                let value = field.iter().try_fold(event, |v, k| v.get(k));
                prop_assert!(value.is_some_and(Value::is_string), "{:?} missing: {}", field, note);
            }
        }
    }

    /// Witnesses match their pattern (documented reading), at most 50, no
    /// duplicates, and one per DNF term where the term is satisfiable.
    #[test]
    fn witnesses_match_their_pattern(expr in rich_expr()) {
        let p = Pattern { expr };
        let found = witnesses(&p);
        prop_assert!(found.len() <= super::MAX_WITNESSES);
        for (i, event) in found.iter().enumerate() {
            prop_assert!(p.matches(event), "{} does not match {}", p.canonical(), event);
            prop_assert!(!found[..i].contains(event), "duplicate {}", event);
        }
        prop_assert_eq!(&found, &witnesses(&p), "deterministic");
        // One per DNF term: every term that has a witness of its own (taken alone) is
        // satisfied by one of the pattern's first witnesses, one per term at most.
        let Some(terms) = super::normal::normal_form(&p.expr, true) else {
            return Ok(());
        };
        let per_term = super::witness_groups(&p).per_term;
        prop_assert!(per_term.len() <= terms.len());
        prop_assert_eq!(found.get(..per_term.len()), Some(&per_term[..]), "terms first");
        if terms.len() > super::MAX_WITNESSES {
            return Ok(());
        }
        for term in &terms {
            let alone = Pattern {
                expr: Expr::and(term.iter().map(|a| Expr::Cmp((*a).clone())).collect()),
            };
            if witnesses(&alone).is_empty() {
                continue;
            }
            let satisfied = per_term.iter().any(|event| {
                term.iter().all(|a| {
                    super::eval::pred_holds(
                        &a.pred,
                        super::eval::resolve(&a.selector, event),
                        Reading::DOCUMENTED,
                    )
                })
            });
            prop_assert!(satisfied, "no witness of term {} in {:?}", alone.canonical(), per_term);
        }
    }

    #[test]
    fn rewritten_patterns_are_equivalent(expr in rich_expr(), seed in any::<u64>()) {
        let p = Pattern { expr };
        let mut rng = Rng(seed | 1);
        let (a, b) = (rng.ws(), rng.ws());
        let text = format!("{a}{{{}{}{}}}{b}", rng.ws(), render_variant(&p.expr, &mut rng, false), rng.ws());
        let q = parse(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert!(implies(&p, &q) && implies(&q, &p), "{}", text);
        prop_assert_eq!(compare(&q, &p), Relation::Equivalent, "{}", text);
    }

    #[test]
    fn every_pattern_is_equivalent_to_itself(expr in small_expr()) {
        let p = Pattern { expr };
        prop_assert!(implies(&p, &p), "{}", p.canonical());
        prop_assert_eq!(compare(&p, &p.clone()), Relation::Equivalent);
    }
}

/// Exhaustive over one selector: all atoms `x`, `y`, `z` of a vocabulary and
/// all values of a finite domain; `x ⇒ y`, `x ∧ y ⇒ z` and `x ⇒ y ∨ z` are
/// never claimed when some value refutes them.
#[test]
fn single_selector_implications_are_sound() {
    let globs = ["A", "B", "A*", "*B", "*", "AB", "A*B", "", "*A*B"];
    let atoms: Vec<Expr> = tests(&globs, &["0", "1", "2"], &["^A"])
        .iter()
        .map(|t| atom("$.x", t))
        .collect();
    // Events with `$.x` missing, of every kind, and every word over {A, B, *} up to length 3.
    let mut values = vec![json!(null), json!(true), json!(false), json!({}), json!([])];
    values.extend([-1.0, 0.0, 0.5, 1.0, 1.5, 2.0, 3.0].map(|n| json!(n)));
    let mut words = vec![String::new()];
    for len in 0..3 {
        let longer: Vec<String> = words
            .iter()
            .filter(|w| w.len() == len)
            .flat_map(|w| ["A", "B", "*"].map(|c| format!("{w}{c}")))
            .collect();
        words.extend(longer);
    }
    values.extend(words.into_iter().map(|w| json!(w)));
    let mut events: Vec<Value> = values.into_iter().map(|v| json!({ "x": v })).collect();
    events.push(json!({}));

    let pattern = |expr: Expr| Pattern { expr };
    let check = |a: &Pattern, b: &Pattern| {
        if implies(a, b) {
            for reading in Reading::all() {
                let refutes =
                    |e: &&Value| a.matches_under(e, reading) && !b.matches_under(e, reading);
                if let Some(e) = events.iter().find(refutes) {
                    panic!(
                        "{} ⇒ {} refuted by {e} under {reading}",
                        a.canonical(),
                        b.canonical()
                    );
                }
            }
        }
    };
    let mut proven = 0;
    for p in &atoms {
        for q in &atoms {
            let (pp, pq) = (pattern(p.clone()), pattern(q.clone()));
            check(&pp, &pq);
            proven += usize::from(implies(&pp, &pq));
            for r in &atoms {
                check(
                    &pattern(Expr::and(vec![p.clone(), q.clone()])),
                    &pattern(r.clone()),
                );
                check(&pp, &pattern(Expr::or(vec![q.clone(), r.clone()])));
            }
        }
    }
    // Sanity: the comparator does prove a good share of the true implications.
    assert!(
        proven > atoms.len() * 4,
        "only {proven} atom implications proven"
    );
}
