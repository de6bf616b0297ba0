//! Sound comparison of filter patterns.
//!
//! Model: an event assigns every selector a value from {missing, null, true,
//! false, number, string, object/array}, independently per selector. Real
//! events are a subset of these assignments (e.g. `$.a` and `$.a.b` are
//! coupled), so anything proven for all of them holds for real events.
//!
//! `a ⇒ b` is checked as: every DNF term `T` of `a` implies every CNF clause
//! `C` of `b`, i.e. `T ∧ ¬C` is unsatisfiable. With independent selectors that
//! conjunction is unsatisfiable iff it is on one selector, which is decided by
//! trying each kind of value. Where that is hard (globs) the check answers
//! "satisfiable", which only loses proofs, never makes wrong ones.
//!
//! Every check runs under a [`Reading`] of the open documentation questions,
//! and under one of two models of regex terms: *opaque* (each regex term is an
//! unknown test of the value; only identical terms on the same selector are
//! known to agree), which is what proofs use because AWS's regex dialect is
//! not ours; and *evaluated* (the `regex` crate, as [`Pattern::matches`]
//! does), which only ever turns a "not proven" into [`Relation::Unverified`].
//! A regex term never proves coverage, but it can lose it: a concrete event
//! the benchmark matches and the existing pattern misses, as the evaluator
//! reads them, refutes coverage when every regex term uses only constructs
//! AWS documents (see [`documented_regex`]) and the event's strings are
//! printable ASCII, where those constructs mean the same in any dialect.

use serde_json::Value;

use super::ast::{Atom, Expr, NumOp, Pattern, Pred, RegexValue};
use super::eval::{self, is_not_equal};
use super::glob::Glob;
use super::normal::{normal_form, preds_on, selectors, Group, MAX_PAIRS};
use super::reading::{has_middle_star, Reading};
use super::witness;

const MIDDLE_STAR_REASON: &str = "AWS documents a `*` inside a value as a literal character \
     (only a leading or trailing `*` is a wildcard); read as a wildcard, the verdict differs";
const NOT_EQUAL_REASON: &str = "AWS does not document whether `!=` matches an event where the \
     field is missing or null; the verdict depends on it";
const REGEX_REASON: &str = "a regular-expression term cannot be compared exactly with other terms \
     (only with an identical term on the same selector); evaluated as cis-fix evaluates it, \
     it would cover";
const REGEX_UNPROVEN_REASON: &str = "a regular-expression term cannot be compared exactly with \
     other terms (only with an identical term on the same selector), and AWS does not document \
     its regular-expression dialect fully: whether it matches every event the control's pattern \
     matches is not proven";

/// How an existing pattern relates to the benchmark's.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// Proven, under every reading, to match exactly the same events.
    Equivalent,
    /// Proven, under every reading, to match every event the benchmark
    /// matches (maybe more).
    Covers,
    /// Proven to match only events the benchmark matches, and the converse
    /// was not proven under any reading: it may miss some.
    Weaker,
    /// Nothing proven.
    Different,
    /// Covers under some reading of the open documentation questions but not
    /// under others, or only a regex term decides (it covers when its regex
    /// terms are evaluated the way cis-fix evaluates them, or taken to match
    /// every string) and no event refutes it (an event the benchmark matches
    /// that regex terms built from documented constructs plainly miss makes
    /// the relation `Different` or `Weaker`): whether AWS sees every event
    /// the benchmark matches is open. Not acceptable for a control.
    Unverified,
}

impl Relation {
    /// Whether the existing pattern is acceptable for the control.
    pub fn satisfies(self) -> bool {
        matches!(self, Relation::Equivalent | Relation::Covers)
    }
}

/// Which of the two compared patterns a term belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Side {
    Existing,
    Benchmark,
}

/// A term whose meaning is open and which decided the verdict.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Ambiguity {
    pub side: Side,
    /// The comparison in canonical form, e.g. `$.eventName = "Console*Login"`.
    pub term: String,
    /// Why its meaning is open, e.g. "AWS documents a `*` inside a value as a
    /// literal character …".
    pub reason: String,
}

/// The full result of [`compare_detailed`].
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Comparison {
    /// Combined over every reading: `Equivalent`/`Covers` only if it holds
    /// under each, `Unverified` if the readings disagree on whether it
    /// satisfies (or only evaluated regexes make it cover).
    pub relation: Relation,
    /// [`compare_under`] for each of [`Reading::ALL`], in that order.
    pub per_reading: Vec<(Reading, Relation)>,
    /// When `relation` is `Unverified`: the terms (of either pattern) whose
    /// reading made the difference. Empty otherwise.
    pub ambiguous: Vec<Ambiguity>,
    /// When `relation` does not satisfy: a small event the benchmark matches
    /// and the existing pattern misses under `counterexample_reading`
    /// (checked with the evaluator), if one was found.
    pub counterexample: Option<Value>,
    /// The reading `counterexample` is one under: the documented reading
    /// whenever it has one, else the first of [`Reading::ALL`] that does.
    pub counterexample_reading: Option<Reading>,
}

/// How `existing` relates to `benchmark`, over every reading (see
/// [`Comparison::relation`]).
pub fn compare(existing: &Pattern, benchmark: &Pattern) -> Relation {
    let analysis = Analysis::new(existing, benchmark);
    combine(&analysis.per_reading())
}

/// How `existing` relates to `benchmark` under one reading. `Unverified` here
/// means only that the regex terms could not be compared exactly.
pub fn compare_under(existing: &Pattern, benchmark: &Pattern, reading: Reading) -> Relation {
    Analysis::new(existing, benchmark).under(reading)
}

/// [`compare()`] with the per-reading verdicts, the ambiguous terms and a
/// counterexample.
pub fn compare_detailed(existing: &Pattern, benchmark: &Pattern) -> Comparison {
    let analysis = Analysis::new(existing, benchmark);
    let per_reading = analysis.per_reading();
    let relation = combine(&per_reading);
    let ambiguous = if relation == Relation::Unverified {
        analysis.ambiguities(&per_reading)
    } else {
        Vec::new()
    };
    let found = if relation.satisfies() {
        None
    } else {
        // Readings that proved coverage cannot have a counterexample.
        per_reading
            .iter()
            .filter(|(_, r)| !r.satisfies())
            .find_map(|(reading, _)| {
                witness::counterexample(existing, benchmark, *reading).map(|e| (e, *reading))
            })
    };
    let (counterexample, counterexample_reading) = match found {
        Some((event, reading)) => (Some(event), Some(reading)),
        None => (None, None),
    };
    Comparison {
        relation,
        per_reading,
        ambiguous,
        counterexample,
        counterexample_reading,
    }
}

/// `true` only if every event matching `a` also matches `b` under every
/// reading (sound, not complete: `false` means "not proven").
pub fn implies(a: &Pattern, b: &Pattern) -> bool {
    let (terms, clauses) = (normal_form(&a.expr, true), normal_form(&b.expr, false));
    Reading::all()
        .all(|reading| implies_forms(terms.as_deref(), clauses.as_deref(), Model::sound(reading)))
}

/// The combined relation: see [`Comparison::relation`].
fn combine(per_reading: &[(Reading, Relation)]) -> Relation {
    let all = |want: &dyn Fn(Relation) -> bool| per_reading.iter().all(|(_, r)| want(*r));
    if all(&Relation::satisfies) {
        if all(&|r| r == Relation::Equivalent) {
            Relation::Equivalent
        } else {
            Relation::Covers
        }
    } else if per_reading
        .iter()
        .any(|(_, r)| r.satisfies() || *r == Relation::Unverified)
    {
        Relation::Unverified
    } else if all(&|r| r == Relation::Weaker) {
        Relation::Weaker
    } else {
        Relation::Different
    }
}

/// How regex terms are modelled (see the module docs).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Regexes {
    Opaque,
    Evaluated,
    /// The existing pattern's regex terms as generous as any dialect could make them: an
    /// `= %re%` or `!= %re%` holds on every string. Covering in this model only means a regex
    /// *might* make the pattern cover; it never proves anything.
    Permissive,
}

#[derive(Debug, Clone, Copy)]
struct Model {
    reading: Reading,
    regexes: Regexes,
}

impl Model {
    /// The model proofs are made in.
    fn sound(reading: Reading) -> Model {
        Model {
            reading,
            regexes: Regexes::Opaque,
        }
    }

    fn evaluated(reading: Reading) -> Model {
        Model {
            reading,
            regexes: Regexes::Evaluated,
        }
    }

    fn permissive(reading: Reading) -> Model {
        Model {
            reading,
            regexes: Regexes::Permissive,
        }
    }
}

/// Both patterns in both normal forms, computed once for every reading.
struct Analysis<'a> {
    existing: &'a Pattern,
    benchmark: &'a Pattern,
    identical: bool,
    has_regex: bool,
    /// Every regex term of both patterns uses only constructs AWS documents, so a
    /// concrete event the `regex` crate decides is decided the same way by AWS.
    regexes_documented: bool,
    benchmark_dnf: Option<Vec<Group<'a>>>,
    benchmark_cnf: Option<Vec<Group<'a>>>,
    existing_dnf: Option<Vec<Group<'a>>>,
    existing_cnf: Option<Vec<Group<'a>>>,
}

impl<'a> Analysis<'a> {
    fn new(existing: &'a Pattern, benchmark: &'a Pattern) -> Analysis<'a> {
        // Identical trees are equivalent under every reading, even when too
        // large to normalize.
        let identical = existing == benchmark;
        let forms = |p: &'a Pattern, dnf: bool| {
            if identical {
                None
            } else {
                normal_form(&p.expr, dnf)
            }
        };
        Analysis {
            existing,
            benchmark,
            identical,
            has_regex: has_regex(&existing.expr) || has_regex(&benchmark.expr),
            regexes_documented: regexes_documented(&existing.expr)
                && regexes_documented(&benchmark.expr),
            benchmark_dnf: forms(benchmark, true),
            benchmark_cnf: forms(benchmark, false),
            existing_dnf: forms(existing, true),
            existing_cnf: forms(existing, false),
        }
    }

    fn per_reading(&self) -> Vec<(Reading, Relation)> {
        Reading::all().map(|r| (r, self.under(r))).collect()
    }

    fn under(&self, reading: Reading) -> Relation {
        if self.identical {
            return Relation::Equivalent;
        }
        let covers = |model| {
            implies_forms(
                self.benchmark_dnf.as_deref(),
                self.existing_cnf.as_deref(),
                model,
            )
        };
        let weaker = || {
            implies_forms(
                self.existing_dnf.as_deref(),
                self.benchmark_cnf.as_deref(),
                Model::sound(reading),
            )
        };
        if covers(Model::sound(reading)) {
            if weaker() {
                Relation::Equivalent
            } else {
                Relation::Covers
            }
        } else if self.has_regex
            && (covers(Model::evaluated(reading)) || covers(Model::permissive(reading)))
            && self.regex_refutation(reading).is_none()
        {
            // Only a regex term stands between the pattern and a proof: whether AWS's dialect
            // makes it cover is open.
            Relation::Unverified
        } else if weaker() {
            Relation::Weaker
        } else {
            Relation::Different
        }
    }

    /// A concrete event refuting coverage under `reading` even though regex terms are
    /// involved: the benchmark matches it and the existing pattern misses it as the evaluator
    /// reads them, every regex term of both patterns uses only constructs AWS documents, and
    /// every string in the event is printable ASCII (where those constructs mean the same in
    /// any dialect: `.` never meets a newline, `\s` only a space, `\d`/`\w` ASCII only).
    /// AWS documents unanchored search (`%AUTHORIZED%` matches `UNAUTHORIZED`), as the
    /// evaluator does, so AWS misses the event too.
    fn regex_refutation(&self, reading: Reading) -> Option<Value> {
        if !self.regexes_documented {
            return None;
        }
        witness::minimal_counterexample(self.existing, self.benchmark, reading)
            .filter(printable_ascii_strings)
    }

    /// The reading-sensitive terms on which a satisfying and a failing
    /// reading (or the evaluated and the opaque regex model) part ways.
    fn ambiguities(&self, per_reading: &[(Reading, Relation)]) -> Vec<Ambiguity> {
        let (Some(terms), Some(clauses)) = (&self.benchmark_dnf, &self.existing_cnf) else {
            return Vec::new();
        };
        let mut found: Vec<Ambiguity> = Vec::new();
        let mut add = |atom: &Atom, in_term: bool, reason: &str| {
            let ambiguity = Ambiguity {
                // Terms come from the benchmark, clauses from the existing pattern.
                side: if in_term {
                    Side::Benchmark
                } else {
                    Side::Existing
                },
                term: atom.to_string(),
                reason: reason.to_string(),
            };
            if !found.contains(&ambiguity) {
                found.push(ambiguity);
            }
        };
        for (good, _) in per_reading.iter().filter(|(_, r)| r.satisfies()) {
            for (bad, _) in per_reading.iter().filter(|(_, r)| !r.satisfies()) {
                let star = good.middle_star != bad.middle_star;
                let not_equal = good.not_equal_on_missing != bad.not_equal_on_missing;
                let deciding =
                    deciding_atoms(terms, clauses, Model::sound(*good), Model::sound(*bad));
                for (atom, in_term) in deciding {
                    if star && matches!(&atom.pred, Pred::Str { glob, .. } if has_middle_star(glob))
                    {
                        add(atom, in_term, MIDDLE_STAR_REASON);
                    }
                    if not_equal && is_not_equal(&atom.pred) {
                        add(atom, in_term, NOT_EQUAL_REASON);
                    }
                }
            }
        }
        for (reading, _) in per_reading
            .iter()
            .filter(|(_, r)| *r == Relation::Unverified)
        {
            let evaluated = Model::evaluated(*reading);
            let (holds, reason) = if implies_forms(Some(terms), Some(clauses), evaluated) {
                (evaluated, REGEX_REASON)
            } else {
                (Model::permissive(*reading), REGEX_UNPROVEN_REASON)
            };
            for (atom, in_term) in deciding_atoms(terms, clauses, holds, Model::sound(*reading)) {
                if matches!(atom.pred, Pred::Regex { .. }) {
                    add(atom, in_term, reason);
                }
            }
        }
        // Existing pattern first (what the user can change), otherwise in
        // order of discovery.
        found.sort_by_key(|a| a.side);
        found
    }
}

/// [`Analysis::regex_refutation`] of `existing` against `benchmark` (for tests).
#[cfg(test)]
pub(super) fn regex_refutation(
    existing: &Pattern,
    benchmark: &Pattern,
    reading: Reading,
) -> Option<Value> {
    Analysis::new(existing, benchmark).regex_refutation(reading)
}

/// Whether every regex term of `expr` passes [`documented_regex`].
fn regexes_documented(expr: &Expr) -> bool {
    match expr {
        Expr::And(children) | Expr::Or(children) => children.iter().all(regexes_documented),
        Expr::Cmp(atom) => match &atom.pred {
            Pred::Regex { regex, .. } => documented_regex(&regex.source),
            _ => true,
        },
    }
}

/// Symbols AWS lists as allowed in a filter-pattern regex (besides alphanumerics and the
/// operators `^ $ ? [ ] { } | \ * + .`).
const REGEX_SYMBOLS: &str = ":_#=@/;,-";

/// Whether a regex (source as the `regex` crate compiles it) is built only from what AWS
/// documents for filter-pattern regexes, each used the plain way every common dialect reads
/// alike: ASCII alphanumerics and the listed symbols; `.`; a class `[...]` of those,
/// ranges and escapes (not negated, nested or with set operators); the escapes `\d`,
/// `\w`, `\s` and `\` before an ASCII punctuation character; one quantifier `*`, `+`,
/// `?`, `{m}` or `{m,n}` after an item; `^` at the start and `$` at the end of an
/// alternative; `|`. Anything else (groups, which AWS says it does not support, flags,
/// lazy quantifiers, `\b`, non-ASCII, spaces) is taken as possibly read differently.
pub(super) fn documented_regex(source: &str) -> bool {
    source.split('|').all(documented_alternative)
}

fn documented_alternative(alt: &str) -> bool {
    let chars: Vec<char> = alt.chars().collect();
    let mut rest: &[char] = &chars;
    // An empty alternative matches everywhere; rarely meant, so not trusted.
    if rest.is_empty() {
        return false;
    }
    if let Some((&'^', tail)) = rest.split_first() {
        rest = tail;
    }
    // A final `$` anchors unless it is escaped.
    if let Some((&'$', body)) = rest.split_last() {
        if body.iter().rev().take_while(|c| **c == '\\').count() % 2 == 0 {
            rest = body;
        }
    }
    // Whether the previous item can take a quantifier.
    let mut quantifiable = false;
    while let Some((&c, tail)) = rest.split_first() {
        let (item, next) = match c {
            '*' | '+' | '?' if quantifiable => (false, tail),
            '{' if quantifiable => match bounded_repeat(tail) {
                Some(next) => (false, next),
                None => return false,
            },
            '[' => match documented_class(tail) {
                Some(next) => (true, next),
                None => return false,
            },
            '\\' => match tail.split_first() {
                Some((&n, next)) if documented_escape(n) => (true, next),
                _ => return false,
            },
            c if c == '.' || c.is_ascii_alphanumeric() || REGEX_SYMBOLS.contains(c) => (true, tail),
            _ => return false,
        };
        quantifiable = item;
        rest = next;
    }
    true
}

/// `\d`, `\w`, `\s`, or an escaped ASCII punctuation character (a literal).
fn documented_escape(c: char) -> bool {
    matches!(c, 'd' | 'w' | 's') || c.is_ascii_punctuation()
}

/// After a `{`: the rest of the regex behind a `m}` or `m,n}` (m ≤ n).
fn bounded_repeat(chars: &[char]) -> Option<&[char]> {
    let close = chars.iter().position(|c| *c == '}')?;
    let inner: String = chars.get(..close)?.iter().collect();
    let number = |s: &str| -> Option<u32> {
        (!s.is_empty() && s.len() <= 4 && s.chars().all(|c| c.is_ascii_digit()))
            .then(|| s.parse().ok())
            .flatten()
    };
    let ok = match inner.split_once(',') {
        Some((m, n)) => matches!((number(m), number(n)), (Some(m), Some(n)) if m <= n),
        None => number(&inner).is_some(),
    };
    ok.then(|| chars.get(close + 1..)).flatten()
}

/// After a `[`: the rest of the regex behind a documented class's `]`.
fn documented_class(mut rest: &[char]) -> Option<&[char]> {
    let mut members = 0;
    // The previous member, when an alphanumeric that may start a range.
    let mut previous: Option<char> = None;
    loop {
        let (&c, tail) = rest.split_first()?;
        match c {
            ']' if members > 0 => return Some(tail),
            '\\' => {
                let (&n, next) = tail.split_first()?;
                if !documented_escape(n) {
                    return None;
                }
                previous = None;
                rest = next;
            }
            '-' if previous.is_some() && tail.first().is_some_and(|n| *n != ']') => {
                let (low, (&high, next)) = (previous?, tail.split_first()?);
                let same_kind = (low.is_ascii_digit() && high.is_ascii_digit())
                    || (low.is_ascii_lowercase() && high.is_ascii_lowercase())
                    || (low.is_ascii_uppercase() && high.is_ascii_uppercase());
                if !same_kind || low > high {
                    return None;
                }
                previous = None;
                rest = next;
            }
            c if c == '.' || c.is_ascii_alphanumeric() || REGEX_SYMBOLS.contains(c) => {
                // `--` is a set operator in the `regex` crate.
                if c == '-' && tail.first() == Some(&'-') {
                    return None;
                }
                previous = c.is_ascii_alphanumeric().then_some(c);
                rest = tail;
            }
            _ => return None,
        }
        members += 1;
    }
}

/// Whether every string in `value` (keys aside) is printable ASCII.
fn printable_ascii_strings(value: &Value) -> bool {
    match value {
        Value::String(s) => s.chars().all(|c| (' '..='~').contains(&c)),
        Value::Array(items) => items.iter().all(printable_ascii_strings),
        Value::Object(map) => map.values().all(printable_ascii_strings),
        _ => true,
    }
}

fn has_regex(expr: &Expr) -> bool {
    match expr {
        Expr::And(children) | Expr::Or(children) => children.iter().any(has_regex),
        Expr::Cmp(atom) => matches!(atom.pred, Pred::Regex { .. }),
    }
}

/// Atoms on the selectors that make a (term, clause) pair hold under `holds`
/// but not under `fails`, with whether each is from the term.
fn deciding_atoms<'a>(
    terms: &[Group<'a>],
    clauses: &[Group<'a>],
    holds: Model,
    fails: Model,
) -> Vec<(&'a Atom, bool)> {
    let mut out = Vec::new();
    if terms.len().saturating_mul(clauses.len()) > MAX_PAIRS {
        return out;
    }
    for term in terms {
        for clause in clauses {
            if !term_implies_clause(term, clause, holds) || term_implies_clause(term, clause, fails)
            {
                continue;
            }
            for selector in selectors(term) {
                let pos = preds_on(term, selector);
                let neg = preds_on(clause, selector);
                if !satisfiable(&pos, &neg, holds) && satisfiable(&pos, &neg, fails) {
                    let on = |group: &Group<'a>| {
                        group
                            .iter()
                            .copied()
                            .filter(|a| &a.selector == selector)
                            .collect::<Vec<_>>()
                    };
                    out.extend(on(term).into_iter().map(|a| (a, true)));
                    out.extend(on(clause).into_iter().map(|a| (a, false)));
                }
            }
        }
    }
    out
}

fn implies_forms(terms: Option<&[Group<'_>]>, clauses: Option<&[Group<'_>]>, model: Model) -> bool {
    let (Some(terms), Some(clauses)) = (terms, clauses) else {
        return false;
    };
    if terms.len().saturating_mul(clauses.len()) > MAX_PAIRS {
        return false;
    }
    terms.iter().all(|term| {
        clauses
            .iter()
            .all(|clause| term_implies_clause(term, clause, model))
    })
}

/// Whether `∧term ∧ ¬(∨clause)` is unsatisfiable. Only selectors of the term
/// need checking: on a selector only the clause mentions, an object value
/// falsifies every atom in every reading (and an opaque regex may be false),
/// so the negated atoms alone are always satisfiable.
fn term_implies_clause(term: &[&Atom], clause: &[&Atom], model: Model) -> bool {
    selectors(term).into_iter().any(|selector| {
        let pos = preds_on(term, selector);
        let neg = preds_on(clause, selector);
        !satisfiable(&pos, &neg, model)
    })
}

/// Whether one value can make every `pos` predicate true and every `neg`
/// predicate false. May say `true` wrongly (losing a proof), never `false` —
/// except in the evaluated-regex model, see [`strings_satisfiable`].
fn satisfiable<'p>(pos: &[&'p Pred], neg: &[&'p Pred], model: Model) -> bool {
    let is_regex = |p: &Pred| matches!(p, Pred::Regex { .. });
    // In the permissive model a regex in `neg` holds on every string: no string falsifies it.
    let strings_blocked = model.regexes == Regexes::Permissive && neg.iter().any(|p| is_regex(p));
    let (pos, neg): (Vec<&Pred>, Vec<&Pred>) = match model.regexes {
        Regexes::Evaluated => (pos.to_vec(), neg.to_vec()),
        // Positive regex terms (of the control's pattern) may be true at will; negated ones
        // keep their value on non-strings (false, or the reading's answer on missing/null).
        Regexes::Permissive => (
            pos.iter().copied().filter(|p| !is_regex(p)).collect(),
            neg.to_vec(),
        ),
        Regexes::Opaque => {
            // An opaque regex term can be true or false at will, except that
            // one term cannot be both.
            if pos.iter().any(|p| is_regex(p) && neg.contains(p)) {
                return false;
            }
            let keep = |ps: &[&'p Pred]| -> Vec<&'p Pred> {
                ps.iter().copied().filter(|p| !is_regex(p)).collect()
            };
            (keep(pos), keep(neg))
        }
    };
    let reading = model.reading;
    let fits = |value: Option<&Value>| {
        pos.iter().all(|p| eval::pred_holds(p, value, reading))
            && !neg.iter().any(|p| eval::pred_holds(p, value, reading))
    };
    // Kinds with a single representative are decided by evaluating it.
    let probes = [
        None,
        Some(Value::Null),
        Some(Value::Bool(true)),
        Some(Value::Bool(false)),
        Some(Value::Object(serde_json::Map::new())),
    ];
    probes.iter().any(|v| fits(v.as_ref()))
        || numbers_satisfiable(&pos, &neg)
        || (!strings_blocked && strings_satisfiable(&pos, &neg, reading))
}

/// Exact over the reals, which only over-approximates finite `f64` values.
fn numbers_satisfiable(pos: &[&Pred], neg: &[&Pred]) -> bool {
    let mut range = Range::default();
    for pred in pos {
        match pred {
            Pred::Num { op, value } => range.add(*op, value.value),
            // Any other positive predicate is false on numbers.
            _ => return false,
        }
    }
    for pred in neg {
        // Non-numeric predicates are already false on numbers.
        if let Pred::Num { op, value } = pred {
            range.add(op.negated(), value.value);
        }
    }
    range.non_empty()
}

/// Numbers `x` with `lo <(=) x <(=) hi`, `x` not in `excluded`.
struct Range {
    lo: f64,
    lo_closed: bool,
    hi: f64,
    hi_closed: bool,
    excluded: Vec<f64>,
}

impl Default for Range {
    fn default() -> Self {
        Range {
            lo: f64::NEG_INFINITY,
            lo_closed: false,
            hi: f64::INFINITY,
            hi_closed: false,
            excluded: Vec::new(),
        }
    }
}

impl Range {
    fn add(&mut self, op: NumOp, c: f64) {
        match op {
            NumOp::Eq => {
                self.raise_lo(c, true);
                self.lower_hi(c, true);
            }
            NumOp::Ne => self.excluded.push(c),
            NumOp::Lt => self.lower_hi(c, false),
            NumOp::Le => self.lower_hi(c, true),
            NumOp::Gt => self.raise_lo(c, false),
            NumOp::Ge => self.raise_lo(c, true),
        }
    }

    fn raise_lo(&mut self, c: f64, closed: bool) {
        if c > self.lo || (c == self.lo && !closed) {
            self.lo = c;
            self.lo_closed = closed;
        }
    }

    fn lower_hi(&mut self, c: f64, closed: bool) {
        if c < self.hi || (c == self.hi && !closed) {
            self.hi = c;
            self.hi_closed = closed;
        }
    }

    /// A proper interval holds infinitely many finite reals, so finitely many
    /// exclusions cannot empty it; a point must be finite and not excluded.
    fn non_empty(&self) -> bool {
        self.lo < self.hi
            || (self.lo == self.hi
                && self.lo_closed
                && self.hi_closed
                && self.lo.is_finite()
                && !self.excluded.contains(&self.lo))
    }
}

/// Whether a string can satisfy the string and regex predicates. Exact when
/// a literal pins the string down; otherwise sound via glob inclusion and
/// disjointness — except that in the evaluated-regex model, when regexes
/// constrain an unpinned string, the answer is a search over candidate
/// strings that may miss one. That model never proves coverage (it only tells
/// `Unverified` from `Different`), so soundness does not depend on it.
fn strings_satisfiable(pos: &[&Pred], neg: &[&Pred], reading: Reading) -> bool {
    // The string must match every `inside` glob and no `outside` glob, and
    // every `must` regex and no `must_not` regex.
    let mut inside: Vec<Glob> = Vec::new();
    let mut outside: Vec<Glob> = Vec::new();
    let mut must: Vec<&RegexValue> = Vec::new();
    let mut must_not: Vec<&RegexValue> = Vec::new();
    for (preds, positive) in [(pos, true), (neg, false)] {
        for pred in preds {
            match pred {
                Pred::Str { negated, glob } if *negated != positive => {
                    inside.push(Glob::new(glob, reading))
                }
                Pred::Str { glob, .. } => outside.push(Glob::new(glob, reading)),
                Pred::Regex { negated, regex } if *negated != positive => must.push(regex),
                Pred::Regex { regex, .. } => must_not.push(regex),
                // A positive non-string predicate is false on strings; a
                // negated one is already satisfied.
                _ if positive => return false,
                _ => {}
            }
        }
    }
    let fits = |text: &str| {
        inside.iter().all(|g| g.matches(text))
            && !outside.iter().any(|g| g.matches(text))
            && must.iter().all(|r| r.is_match(text))
            && !must_not.iter().any(|r| r.is_match(text))
    };
    // A literal pins the string down: decide exactly.
    if let Some(text) = inside.iter().find_map(Glob::literal) {
        return fits(&text);
    }
    if must.iter().any(|r| must_not.contains(r)) {
        return false;
    }
    let pairwise_disjoint = inside
        .iter()
        .enumerate()
        .any(|(i, a)| inside.iter().skip(i + 1).any(|b| a.disjoint(b)));
    if pairwise_disjoint {
        return false;
    }
    // With no `inside` glob the string is unconstrained, i.e. inside `*`.
    let any = Glob::new("*", reading);
    let inside_or_any: Vec<&Glob> = if inside.is_empty() {
        vec![&any]
    } else {
        inside.iter().collect()
    };
    if inside_or_any
        .iter()
        .any(|g| outside.iter().any(|h| g.subset(h)))
    {
        return false;
    }
    if must.is_empty() && must_not.is_empty() {
        return true;
    }
    witness::string_candidates(&inside_or_any, &must)
        .iter()
        .any(|s| fits(s))
}

#[cfg(test)]
mod tests {
    use super::super::reading::NotEqualOnMissing;
    use super::super::testdata::CIS_PATTERNS;
    use super::super::{parse, witnesses};
    use super::*;
    use serde_json::json;
    use Relation::*;

    fn rel(existing: &str, benchmark: &str) -> Relation {
        compare(&parse(existing).unwrap(), &parse(benchmark).unwrap())
    }

    fn imp(a: &str, b: &str) -> bool {
        implies(&parse(a).unwrap(), &parse(b).unwrap())
    }

    const V12: &str =
        r#"{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}"#;
    const V14: &str = r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") || ($.sourceIPAddress!="delivery.logs.amazonaws.com") || ($.eventName!="HeadBucket") }"#;
    const V4: &str = "{ ($.errorCode =*UnauthorizedOperation) || ($.errorCode =AccessDenied*) && ($.sourceIPAddress!=delivery.logs.amazonaws.com) && ($.eventName!=HeadBucket) }";
    const MFA: &str =
        r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }"#;
    const MFA_SSO: &str = r#"{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") && ($.userIdentity.type = "IAMUser") && ($.responseElements.ConsoleLogin = "Success") }"#;
    const ROOT: &str = r#"{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }"#;
    const ROUTE_NAMES: [&str; 7] = [
        "CreateRoute",
        "CreateRouteTable",
        "ReplaceRoute",
        "ReplaceRouteTableAssociation",
        "DeleteRouteTable",
        "DeleteRoute",
        "DisassociateRouteTable",
    ];

    fn name_list(names: &[&str]) -> String {
        let parts: Vec<String> = names
            .iter()
            .map(|n| format!("($.eventName = {n})"))
            .collect();
        parts.join(" || ")
    }

    /// The benchmark's shape: `eventSource` AND the OR-list of names.
    fn ec2(names: &[&str]) -> String {
        format!(
            "{{ ($.eventSource = ec2.amazonaws.com) && ({}) }}",
            name_list(names)
        )
    }

    #[test]
    fn unauthorized_versions() {
        assert_eq!(rel(V12, V4), Covers);
        assert_eq!(rel(V4, V12), Weaker);
        assert_eq!(rel(V14, V4), Covers);
        assert_eq!(rel(V4, V14), Weaker);
        assert_eq!(rel(V14, V12), Covers);
        assert_eq!(
            rel(
                V12,
                "{ ($.errorCode = AccessDenied*) || ($.errorCode = *UnauthorizedOperation) }"
            ),
            Equivalent
        );
        // Without the `*` AccessDenied variants are missed.
        let no_star =
            r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied") }"#;
        assert_eq!(rel(no_star, V12), Weaker);
        assert!(!rel(no_star, V4).satisfies());
        assert!(rel(V12, V4).satisfies() && !rel(V4, V12).satisfies());
    }

    #[test]
    fn console_mfa_variants() {
        assert_eq!(rel(MFA_SSO, MFA), Weaker);
        assert_eq!(rel(MFA, MFA_SSO), Covers);
    }

    #[test]
    fn route_tables() {
        let benchmark = ec2(&ROUTE_NAMES);
        let without_source = format!("{{ {} }}", name_list(&ROUTE_NAMES));
        assert_eq!(rel(&without_source, &benchmark), Covers);
        // Audit text: no parentheses, so eventSource binds to CreateRoute only.
        let source = "($.eventSource = ec2.amazonaws.com)";
        let audit_text = format!("{{ {source} && {} }}", name_list(&ROUTE_NAMES));
        assert_eq!(rel(&audit_text, &benchmark), Covers);
        assert_eq!(rel(&benchmark, &audit_text), Weaker);

        assert_eq!(rel(&ec2(&ROUTE_NAMES[1..]), &benchmark), Weaker);
        let more = [&ROUTE_NAMES[..], &["CreateVpcEndpoint"]].concat();
        assert_eq!(rel(&ec2(&more), &benchmark), Covers);
        let mut typo = ROUTE_NAMES;
        typo[2] = "ReplaceRoutee";
        assert_eq!(rel(&ec2(&typo), &benchmark), Different);
        // Distributed form and reordered list are the same filter.
        let distributed: Vec<String> = ROUTE_NAMES
            .iter()
            .rev()
            .map(|n| format!("($.eventName = \"{n}\" && $.eventSource = \"ec2.amazonaws.com\")"))
            .collect();
        let distributed = format!("{{{}}}", distributed.join("||"));
        assert_eq!(rel(&distributed, &benchmark), Equivalent);
    }

    #[test]
    fn root_usage_reordered() {
        let reordered = r#"{ ($.eventType != AwsServiceEvent) && (($.userIdentity.invokedBy NOT EXISTS && $.userIdentity.type = Root)) && $.eventType != "AwsServiceEvent" }"#;
        assert_eq!(rel(reordered, ROOT), Equivalent);
        let dropped = r#"{ $.userIdentity.type = "Root" && $.eventType != "AwsServiceEvent" }"#;
        assert_eq!(rel(dropped, ROOT), Covers);
    }

    #[test]
    fn string_atoms() {
        assert!(imp("{$.a = AccessDenied*}", "{$.a = Access*}"));
        assert!(!imp("{$.a = Access*}", "{$.a = AccessDenied*}"));
        assert!(imp("{$.a = A}", "{$.a != B}"));
        assert!(imp("{$.a = A*}", "{$.a != B*}"));
        assert!(!imp("{$.a = A*}", "{$.a != *B}"));
        assert!(imp("{$.a != A*}", "{$.a != AB*}"));
        // Only when `!=` needs a present value: see `not_equal_readings`.
        assert!(!imp("{$.a != A}", "{$.a = *}"));
        assert!(imp("{$.a = A}", "{$.a = *}"));
        assert!(!imp("{$.a = *}", "{$.a = A || $.a != A*}"), "AB is neither");
        assert!(imp("{$.a = *}", "{$.a = A* || $.a != A*}"));
        assert!(imp("{$.a != A && $.a != B}", "{$.a != A}"));
        assert!(!imp("{$.a != A}", "{$.a = B}"));
        assert!(!imp("{$.a != A}", "{$.b = B}"));
    }

    #[test]
    fn contradictions_imply_anything() {
        for contradiction in [
            "{$.a = A && $.a = B}",
            "{$.a NOT EXISTS && $.a = *}",
            "{$.a = A* && $.a = 1}",
            "{$.a > 2 && $.a < 1}",
            "{$.a >= 1 && $.a <= 1 && $.a != 1}",
            "{$.a IS NULL && $.a IS TRUE}",
            "{$.a = A && $.a != A*}",
            "{$.a > 1e999}",
        ] {
            assert!(imp(contradiction, "{$.z = nothing}"), "{contradiction}");
        }
        // Contradictions only through what a regex means are not proofs (the
        // regex dialect is AWS's), but they do count against `Different`.
        for contradiction in ["{$.a = %x% && $.a != %x%}", "{$.a = A && $.a = %B%}"] {
            assert!(!imp(contradiction, "{$.z = nothing}"), "{contradiction}");
            assert_eq!(rel("{$.z = nothing}", contradiction), Unverified);
        }
        assert!(!imp("{$.a = A* && $.a = *B}", "{$.z = nothing}"));
        assert!(!imp("{$.a > 1 && $.a < 1.0000001}", "{$.z = nothing}"));
    }

    #[test]
    fn numeric_intervals() {
        assert!(imp("{$.n > 2}", "{$.n >= 2}"));
        assert!(imp("{$.n = 2}", "{$.n > 1 && $.n <= 2 && $.n != 3}"));
        assert!(imp("{$.n >= 2 && $.n != 2}", "{$.n > 2}"));
        assert!(imp("{$.n = 1}", "{$.n = 1.0}"));
        assert!(!imp("{$.n >= 2}", "{$.n > 2}"));
        // A missing `$.n` may match `!=`: proven only in the readings where it does not.
        assert!(!imp("{$.n != 1}", "{$.n < 1 || $.n > 1}"));
        let (ne, lt_gt) = (
            parse("{$.n != 1}").unwrap(),
            parse("{$.n < 1 || $.n > 1}").unwrap(),
        );
        for reading in Reading::all() {
            let expected = if reading.not_equal_on_missing == NotEqualOnMissing::NoMatch {
                Equivalent
            } else {
                Weaker
            };
            assert_eq!(compare_under(&lt_gt, &ne, reading), expected, "{reading}");
        }
        assert!(!imp("{$.n != 1}", "{$.n < 1}"));
        assert!(imp("{$.n < 1 || $.n > 1}", "{$.n != 1}"));
        assert!(!imp("{$.n != 1}", "{$.n != 2}"));
        assert!(!imp("{$.n = 1}", r#"{$.n = "1"}"#));
    }

    #[test]
    fn keyword_atoms_are_exclusive() {
        assert!(imp("{$.a IS NULL}", "{$.a != x || $.a IS NULL}"));
        assert!(!imp("{$.a IS NULL}", "{$.a NOT EXISTS}"));
        assert!(
            !imp("{$.a NOT EXISTS}", "{$.a != A}"),
            "missing fails `!=` too"
        );
        assert!(imp("{$.a IS TRUE}", "{$.a IS TRUE || $.a IS FALSE}"));
        assert!(!imp("{$.a IS TRUE || $.a IS FALSE}", "{$.a IS TRUE}"));
    }

    #[test]
    fn regex_atoms() {
        assert!(imp("{$.a = %^x%}", "{$.a = %^x% || $.b = 1}"));
        assert!(imp("{$.a = %^x% && $.b = 1}", "{$.a = %^x%}"));
        assert!(!imp("{$.a = %^x%}", "{$.a = %^x.*%}"));
        assert!(!imp("{$.a = %^x%}", "{$.b = %^x%}"), "another selector");
        assert!(!imp("{$.a = %^x%}", "{$.a != %^x%}"));
        // The `regex` crate would prove these; AWS's dialect might differ.
        assert!(!imp("{$.a = xy}", "{$.a = %^x%}"));
        assert!(!imp("{$.a = %x%}", "{$.a = *}"));
        assert_eq!(rel("{$.a = %^x%}", "{$.a = xy}"), Unverified);
        assert_eq!(rel("{$.a = *}", "{$.a = %x%}"), Unverified);
        assert_eq!(rel("{$.a = %^x.*%}", "{$.a = %^x%}"), Unverified);
        assert_eq!(rel("{$.a = %^x%}", "{$.a = %^x%}"), Equivalent);
        assert_eq!(rel("{$.a = %^x% || $.b = 1}", "{$.a = %^x%}"), Covers);
        // Evaluated, the regex misses an event the benchmark matches, and it uses only
        // documented constructs: AWS misses it too, refuted.
        assert_eq!(rel("{$.a = %^y%}", "{$.a = xy}"), Different);
        assert_eq!(rel("{$.a = %^y%}", "{$.a = x*}"), Different);
        // Only the regex stands between the pattern and coverage, and a construct AWS does
        // not document decides: unverified.
        assert_eq!(rel("{$.a = %(y)%}", "{$.a = xy}"), Unverified);
        assert_eq!(rel("{$.a = %^y%}", "{$.a = x && $.b = %(z)%}"), Unverified);
        assert_eq!(rel("{$.a = %(?i)Y%}", "{$.a = xy}"), Unverified);
        // No regex could make these cover: another selector, or a term the regex leaves.
        assert_eq!(rel("{$.b = %^x%}", "{$.a = xy}"), Different);
        assert_eq!(rel("{$.a = %^x% && $.c = 1}", "{$.a = xy}"), Different);
        assert_eq!(rel("{$.a = %^x% && $.a = z}", "{$.a = xy}"), Different);
    }

    #[test]
    fn caps_answer_not_proven() {
        // 13 two-way ORs under an AND: 8192 DNF terms, over the cap.
        let ors: Vec<String> = (0..13)
            .map(|i| format!("($.a{i} = A || $.b{i} = B)"))
            .collect();
        let big = parse(&format!("{{ {} }}", ors.join(" && "))).unwrap();
        assert!(!implies(&big, &big));
        assert_eq!(compare(&big, &big.clone()), Equivalent);
    }

    #[test]
    fn relation_serde_and_satisfies() {
        assert_eq!(serde_json::to_string(&Covers).unwrap(), "\"covers\"");
        assert_eq!(
            serde_json::from_str::<Relation>("\"weaker\"").unwrap(),
            Weaker
        );
        assert!(Equivalent.satisfies() && Covers.satisfies());
        assert!(!Weaker.satisfies() && !Different.satisfies() && !Unverified.satisfies());
        assert_eq!(
            serde_json::to_string(&Unverified).unwrap(),
            "\"unverified\""
        );
        assert_eq!(
            serde_json::from_str::<Relation>("\"unverified\"").unwrap(),
            Unverified
        );
    }

    /// Patterns of every `plans/*.toml` catalog: (file, control id, pattern
    /// texts: the pattern, then any `also_accept`, then any `not_accepted`).
    fn catalogs() -> Vec<(String, String, Vec<String>)> {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("plans");
        let mut files: Vec<_> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        files.sort();
        let mut out = Vec::new();
        for file in files {
            let doc: toml::Value =
                toml::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
            let name = file.file_name().unwrap().to_string_lossy().to_string();
            for control in doc["control"].as_array().unwrap() {
                let mut texts = vec![control["pattern"].as_str().unwrap().to_string()];
                // Plain strings, or tables with a `pattern`; `not_accepted` patterns parse too.
                for list in ["also_accept", "not_accepted"] {
                    if let Some(more) = control.get(list).and_then(|v| v.as_array()) {
                        texts.extend(more.iter().map(|v| {
                            v.as_str()
                                .or_else(|| v.get("pattern").and_then(|p| p.as_str()))
                                .unwrap()
                                .to_string()
                        }));
                    }
                }
                out.push((
                    name.clone(),
                    control["id"].as_str().unwrap().to_string(),
                    texts,
                ));
            }
        }
        out
    }

    fn catalog_pattern(file: &str, id: &str) -> String {
        catalogs()
            .into_iter()
            .find(|(f, i, _)| f == file && i == id)
            .map(|(_, _, texts)| texts[0].clone())
            .unwrap_or_else(|| panic!("{file} {id}"))
    }

    /// Whether `event` has every field of `expected` (objects compared field by field): the
    /// fields a counterexample was built from, whatever record it was dressed as.
    fn holds(event: &Option<Value>, expected: &Value) -> bool {
        fn within(actual: &Value, expected: &Value) -> bool {
            match (actual, expected) {
                (Value::Object(a), Value::Object(e)) => e
                    .iter()
                    .all(|(k, v)| a.get(k).is_some_and(|got| within(got, v))),
                _ => actual == expected,
            }
        }
        event.as_ref().is_some_and(|e| within(e, expected))
    }

    fn detailed(existing: &str, benchmark: &str) -> Comparison {
        compare_detailed(&parse(existing).unwrap(), &parse(benchmark).unwrap())
    }

    fn relations(c: &Comparison) -> Vec<Relation> {
        c.per_reading.iter().map(|(_, r)| *r).collect()
    }

    /// Issue 12: a middle `*` read as a wildcard made these `covers`; AWS
    /// documents it as literal.
    #[test]
    fn middle_star_examples_are_not_accepted() {
        let iam = catalog_pattern("cis-5.0.toml", "4.4");
        let iam_star = iam.replace(
            "($.eventName=CreatePolicy)",
            "($.eventName = Create*Policy)",
        );
        assert_ne!(iam, iam_star);
        let cases = [
            (
                r#"{ ($.eventName = Console*Login) && ($.errorMessage = "Failed authentication") }"#.to_string(),
                "4.6",
                "Console*Login",
                json!({"eventName": "ConsoleLogin", "errorMessage": "Failed authentication"}),
            ),
            (
                r#"{ ($.errorCode = "*Unauthorized*Operation") || ($.errorCode = "AccessDenied*") }"#.to_string(),
                "4.1",
                "*Unauthorized*Operation",
                json!({"errorCode": "UnauthorizedOperation"}),
            ),
            (iam_star, "4.4", "Create*Policy", json!({"eventName": "CreatePolicy"})),
        ];
        for (existing, id, star, event) in cases {
            let benchmark = catalog_pattern("cis-5.0.toml", id);
            let c = detailed(&existing, &benchmark);
            assert_eq!(c.relation, Unverified, "{id}");
            assert_eq!(rel(&existing, &benchmark), Unverified, "{id}");
            assert_eq!(
                relations(&c),
                [Different, Different, Covers, Covers],
                "{id}"
            );
            assert_eq!(
                c.ambiguous,
                vec![Ambiguity {
                    side: Side::Existing,
                    term: format!(
                        "$.{} = \"{star}\"",
                        if id == "4.1" {
                            "errorCode"
                        } else {
                            "eventName"
                        }
                    ),
                    reason: MIDDLE_STAR_REASON.to_string(),
                }],
                "{id}"
            );
            assert!(
                holds(&c.counterexample, &event),
                "{id}: {:?}",
                c.counterexample
            );
            assert_eq!(c.counterexample_reading, Some(Reading::DOCUMENTED), "{id}");
            let (e, b) = (parse(&existing).unwrap(), parse(&benchmark).unwrap());
            assert_eq!(compare_under(&e, &b, Reading::DOCUMENTED), Different);
        }
        // The spelling AWS documents (leading/trailing `*` only) is accepted.
        let v12 =
            r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }"#;
        assert_eq!(rel(v12, &catalog_pattern("cis-5.0.toml", "4.1")), Covers);
        // A literal middle star matches itself, in every reading.
        assert_eq!(rel("{ $.a = Ev*ent }", "{ $.a = \"Ev*ent\" }"), Equivalent);
        assert_eq!(rel("{ $.a = Ev* }", "{ $.a = Ev*ent }"), Covers);
        assert_eq!(rel("{ $.a = Ev*ent }", "{ $.a = Event }"), Unverified);
        assert_eq!(rel("{ $.a = Ev*ent }", "{ $.a = Elephant }"), Different);
    }

    #[test]
    fn not_equal_readings() {
        // `= *` covers `!= A` only if `!=` needs a present value.
        let c = detailed("{$.a = *}", "{$.a != A}");
        assert_eq!(c.relation, Unverified);
        assert_eq!(relations(&c), [Covers, Different, Covers, Different]);
        assert_eq!(
            c.ambiguous,
            vec![Ambiguity {
                side: Side::Benchmark,
                term: r#"$.a != "A""#.to_string(),
                reason: NOT_EQUAL_REASON.to_string(),
            }]
        );
        // `a` left out, which is the point; the rest is the record's dress.
        let event = c.counterexample.clone().unwrap();
        assert!(
            event.get("a").is_none() && event["eventVersion"] == "1.08",
            "{event}"
        );
        assert_eq!(c.counterexample_reading, Some(Reading::ALL[1]));
        // `!= x` covers `NOT EXISTS` only if `!=` matches a missing field.
        let c = detailed("{$.a != x || $.b = 1}", "{$.a NOT EXISTS && $.c = 2}");
        assert_eq!(c.relation, Unverified);
        assert_eq!(relations(&c), [Different, Covers, Different, Covers]);
        assert_eq!(c.ambiguous.len(), 1);
        assert_eq!(c.ambiguous[0].side, Side::Existing);
        assert_eq!(c.ambiguous[0].term, r#"$.a != "x""#);
        assert!(
            holds(&c.counterexample, &json!({"c": 2})),
            "{:?}",
            c.counterexample
        );
        assert!(c
            .counterexample
            .as_ref()
            .is_some_and(|e| e.get("a").is_none()));
        assert_eq!(c.counterexample_reading, Some(Reading::DOCUMENTED));
        // Agreeing readings: no ambiguity.
        let c = detailed(ROOT, ROOT);
        assert_eq!((c.relation, c.ambiguous.len()), (Equivalent, 0));
        assert_eq!(c.counterexample, None);
        let c = detailed(MFA_SSO, MFA);
        assert_eq!((c.relation, c.ambiguous.len()), (Weaker, 0));
        let event = c.counterexample.unwrap();
        assert!(parse(MFA).unwrap().matches(&event) && !parse(MFA_SSO).unwrap().matches(&event));
        // A record CloudTrail would write: root signing in without MFA (issue 19, item 5;
        // it was `{"eventName":"ConsoleLogin","additionalEventData":{"MFAUsed":"not-Yes"}}`).
        assert_eq!(
            super::super::record_text(&event),
            r#"{"eventVersion":"1.08","userIdentity":{"type":"Root","arn":"arn:aws:iam::123456789012:root","accountId":"123456789012"},"eventTime":"2026-03-14T09:26:53Z","eventSource":"signin.amazonaws.com","eventName":"ConsoleLogin","awsRegion":"us-east-1","sourceIPAddress":"192.0.2.44","userAgent":"console.amazonaws.com","additionalEventData":{"MFAUsed":"No"},"eventType":"AwsConsoleSignIn"}"#
        );
    }

    #[test]
    fn both_questions_can_decide() {
        // Covers only when a middle star is a wildcard AND `!=` matches missing.
        let c = detailed(
            "{ $.a = x*y && $.b != q }",
            "{ $.a = xzy && $.b NOT EXISTS }",
        );
        assert_eq!(relations(&c), [Different, Different, Different, Covers]);
        assert_eq!(c.relation, Unverified);
        let terms: Vec<&str> = c.ambiguous.iter().map(|a| a.term.as_str()).collect();
        assert_eq!(terms, [r#"$.a = "x*y""#, r#"$.b != "q""#]);
    }

    #[test]
    fn regex_ambiguity_is_named() {
        let c = detailed(
            r#"{ $.errorCode = %UnauthorizedOperation$% || $.errorCode = "AccessDenied*" }"#,
            V12,
        );
        assert_eq!(c.relation, Unverified);
        assert_eq!(c.ambiguous.len(), 1);
        assert_eq!(
            c.ambiguous[0].term,
            "$.errorCode = %UnauthorizedOperation$%"
        );
        assert_eq!(c.ambiguous[0].reason, REGEX_REASON);
        assert_eq!(c.counterexample, None, "evaluated, it does cover");
        let c = detailed(
            r#"{ $.errorCode = %^Unauthorized% || $.errorCode = "AccessDenied*" }"#,
            V12,
        );
        assert_eq!(c.relation, Different, "refuted by an event AWS misses too");
        assert_eq!(relations(&c), [Different; 4]);
        assert!(c.ambiguous.is_empty());
        assert!(holds(
            &c.counterexample,
            &json!({"errorCode": "Client.UnauthorizedOperation"})
        ));
        // The same with a group, which AWS does not support: not refuted.
        let c = detailed(
            r#"{ $.errorCode = %^(Unauthorized)% || $.errorCode = "AccessDenied*" }"#,
            V12,
        );
        assert_eq!(c.relation, Unverified, "only the regex decides");
        assert_eq!(c.ambiguous.len(), 1);
        assert_eq!(c.ambiguous[0].term, "$.errorCode = %^(Unauthorized)%");
        assert_eq!(c.ambiguous[0].reason, REGEX_UNPROVEN_REASON);
        assert!(holds(
            &c.counterexample,
            &json!({"errorCode": "Client.UnauthorizedOperation"})
        ));
    }

    /// A regex that plainly misses the control's events is refuted with a counterexample;
    /// one that covers as cis-fix evaluates it stays unverified.
    #[test]
    fn regex_refutations_for_catalog_controls() {
        let iam = catalog_pattern("cis-5.0.toml", "4.4");
        let unauthorized = catalog_pattern("cis-5.0.toml", "4.1");
        // `^Run` matches none of 4.4's event names.
        let c = detailed("{ $.eventName = %^Run% }", &iam);
        assert_eq!((c.relation, relations(&c)), (Different, vec![Different; 4]));
        assert!(c.ambiguous.is_empty());
        assert!(holds(
            &c.counterexample,
            &json!({"eventName": "DeleteGroupPolicy", "eventSource": "iam.amazonaws.com"})
        ));
        assert_eq!(c.counterexample_reading, Some(Reading::DOCUMENTED));
        // `Policy$` misses `CreatePolicyVersion` and `DeletePolicyVersion`, which 4.4 lists.
        let c = detailed("{ $.eventName = %Policy$% }", &iam);
        assert_eq!((c.relation, relations(&c)), (Different, vec![Different; 4]));
        assert!(holds(
            &c.counterexample,
            &json!({"eventName": "CreatePolicyVersion"})
        ));
        // Regexes that cover every 4.4 name as cis-fix evaluates them: unverified.
        for existing in [
            "{ $.eventName = %Policy% }",
            "{ $.eventName = %Policy$|PolicyVersion$% }",
        ] {
            let c = detailed(existing, &iam);
            assert_eq!(c.relation, Unverified, "{existing}");
            assert_eq!(relations(&c), [Unverified; 4], "{existing}");
            assert_eq!(c.ambiguous.len(), 1, "{existing}");
            assert_eq!(c.ambiguous[0].reason, REGEX_REASON, "{existing}");
            assert_eq!(c.counterexample, None, "{existing}");
        }
        // 4.1: covers as cis-fix evaluates the regex, so unverified.
        let c = detailed(
            r#"{ $.errorCode = %Unauthorized% || $.errorCode = "AccessDenied*" }"#,
            &unauthorized,
        );
        assert_eq!(c.relation, Unverified);
        assert_eq!(relations(&c), [Unverified; 4]);
        assert_eq!(c.ambiguous.len(), 1);
        assert_eq!(c.ambiguous[0].term, "$.errorCode = %Unauthorized%");
        assert_eq!(c.ambiguous[0].reason, REGEX_REASON);
        assert_eq!(c.counterexample, None);
        // A counterexample with a string outside printable ASCII is not trusted.
        assert_eq!(rel("{$.a = %^y%}", "{$.a = \"x\ty\"}"), Unverified);
        assert_eq!(rel("{$.a = %^y%}", "{$.a = é}"), Unverified);
    }

    #[test]
    fn documented_regex_constructs() {
        for source in [
            "^Run",
            "Policy$",
            "^[hc]at$",
            "colou?r",
            "a{3,5}",
            "a{3}",
            r"\d{1,3}\.\d{1,3}",
            "[Ee]rror|[Ff]ail",
            "[abcx-z0-9_.-]+",
            r"\w+@\s*",
            r"\$\*\[",
            ":_#=@/;,-",
            ".*",
            "^$",
        ] {
            assert!(documented_regex(source), "{source}");
        }
        for source in [
            "(x|y)",
            "(?i)x",
            "x*?",
            "x+*",
            "*x",
            "a^b",
            "a$b",
            "a|",
            "|",
            "",
            "[^a]",
            "[]a]",
            "[a-Z]",
            "[z-a]",
            "[a--z]",
            "[[:alpha:]]",
            "[a&&b]",
            r"\bword",
            r"\D",
            r"\p{L}",
            "a{2,}",
            "a{5,3}",
            "x!",
            "with space",
            "é",
            "a%b",
            r"a\",
        ] {
            assert!(!documented_regex(source), "{source}");
        }
    }

    #[test]
    fn counterexamples_are_checked_and_small() {
        let benchmark = ec2(&ROUTE_NAMES);
        let c = detailed(&ec2(&ROUTE_NAMES[1..]), &benchmark);
        assert_eq!(c.relation, Weaker);
        assert!(holds(
            &c.counterexample,
            &json!({"eventSource": "ec2.amazonaws.com", "eventName": "CreateRoute"})
        ));
        let c = detailed(&ec2(&ROUTE_NAMES), &benchmark);
        assert_eq!((c.relation, c.counterexample), (Equivalent, None));
        // Every catalog pattern against every other: a counterexample, when
        // given, is one.
        let all: Vec<Pattern> = CIS_PATTERNS.iter().map(|t| parse(t).unwrap()).collect();
        for e in &all {
            for b in &all {
                let c = compare_detailed(e, b);
                if let (Some(event), Some(reading)) = (&c.counterexample, c.counterexample_reading)
                {
                    assert!(b.matches_under(event, reading) && !e.matches_under(event, reading));
                    assert!(!c.relation.satisfies());
                }
                if !c.relation.satisfies() {
                    assert!(c.counterexample.is_some(), "{e} vs {b}: {:?}", c.relation);
                }
            }
        }
    }

    #[test]
    fn catalog_patterns_are_equivalent_to_themselves_under_every_reading() {
        let catalogs = catalogs();
        assert!(catalogs.len() >= 4 * 14, "{} controls", catalogs.len());
        for (file, id, texts) in catalogs {
            for text in texts {
                let p = parse(&text).unwrap_or_else(|e| panic!("{file} {id}: {e}"));
                let q = parse(&p.canonical()).unwrap();
                // `implies` normalizes both sides: no shortcut for identical trees.
                assert!(implies(&p, &q) && implies(&q, &p), "{file} {id}");
                let c = compare_detailed(&q, &p);
                assert_eq!(c.relation, Equivalent, "{file} {id}");
                assert_eq!(relations(&c), [Equivalent; 4], "{file} {id}");
                assert!(c.ambiguous.is_empty() && c.counterexample.is_none());
                let found = witnesses(&p);
                let terms = normal_form(&p.expr, true).unwrap().len();
                assert!(
                    found.len() >= terms.min(witness::MAX_WITNESSES),
                    "{file} {id}"
                );
                assert!(found.iter().all(|e| p.matches(e)), "{file} {id}");
            }
        }
    }
}
