//! CloudWatch Logs JSON filter patterns: parser, evaluator and semantic comparator.
//!
//! The CIS Monitoring controls ask for a metric filter whose pattern is the
//! benchmark's pattern. Accounts rarely carry the exact text, so this module
//! decides whether an existing pattern matches at least the events the
//! benchmark's pattern matches ([`compare()`]).
//!
//! # Language (JSON patterns only)
//!
//! `{ expr }`, where `expr` combines comparisons with `&&`, `||` and
//! parentheses (precedence `()` > `&&` > `||`). A comparison is one of
//! `SELECTOR OP VALUE`, `SELECTOR IS NULL|TRUE|FALSE`, `SELECTOR NOT EXISTS`.
//! Selectors are `$` followed by `.name` and `[N]` steps. `OP` is one of
//! `= != < > <= >=`. A value is a quoted string (`\"`, `\\` escapes), an
//! unquoted token, or a regular expression `%...%` (at most two per pattern).
//! An unquoted token that looks like a number is numeric; quoted and unquoted
//! spellings of the same string are the same value.
//!
//! # Readings ([`Reading`])
//!
//! AWS's filter-syntax page leaves two questions that change verdicts:
//!
//! - A `*` in the *middle* of a string value — one with a character other
//!   than `*` both somewhere before and somewhere after it (so
//!   `*Unauthorized*Operation` has a leading wildcard and one middle star;
//!   `a**b` has two; `*`, `**`, `**Event` and `*Event*` have none) — is
//!   documented as literal ("`Ev*ent` will only match the actual string
//!   `Ev*ent`"), but a reader could expect a wildcard ([`MiddleStar`]). The
//!   leading and trailing runs of `*` are wildcards in every reading (a run
//!   counts as one wildcard; a value of stars only matches any string).
//! - Whether `!=` matches an event where the field is missing or null is not
//!   documented ([`NotEqualOnMissing`]).
//!
//! [`Reading::ALL`] holds the four combinations. [`Reading::DOCUMENTED`] takes
//! the documented literal middle star and, where the docs are silent, the
//! reading cis-fix has always used (`!=` needs a present value).
//!
//! # Evaluation semantics ([`Pattern::matches`], [`Pattern::matches_under`])
//!
//! `matches` follows [`Reading::DOCUMENTED`]: it is what AWS documents, so
//! witnesses and counterexamples built from it are what AWS's own evaluator
//! should confirm. `matches_under` takes any reading.
//!
//! - A selector resolves `.name` on objects and `[N]` on arrays; anything else
//!   resolves to *missing*.
//! - String `= glob` holds iff the value is a JSON string matching the glob
//!   (a leading or trailing `*` matches any sequence, a middle `*` per the
//!   reading, everything else literal, case-sensitive); `!= glob` holds iff
//!   the value is a JSON string *not* matching it.
//! - Numeric comparisons hold iff the value is a JSON number and the
//!   comparison holds on `f64`.
//! - Regex `= %re%` holds iff the value is a string in which `re` (syntax of
//!   the `regex` crate) finds a match anywhere; `!= %re%` iff it is a string
//!   with no match.
//! - Any `!=` (string, numeric or regex) on a missing or null value holds iff
//!   the reading says so; on a value of another type (number vs string,
//!   boolean, object, array) it fails in every reading, so `!=` is not the
//!   negation of `=`. Every other comparison fails on missing and null.
//! - `IS NULL` needs a present JSON null, `IS TRUE`/`IS FALSE` that boolean,
//!   and `NOT EXISTS` a missing value (a present null exists).
//!
//! # Comparison ([`compare()`], [`compare_detailed()`], [`implies()`])
//!
//! `implies(a, b)` is sound but incomplete: `true` only when every event
//! matching `a` matches `b` under every reading. The antecedent is put in
//! disjunctive and the consequent in conjunctive normal form; each (term,
//! clause) pair is decided per selector, treating the values at distinct
//! selectors as independent (an over-approximation of real events, so proofs
//! stay valid). Regex terms are opaque to proofs: AWS's regex dialect is not
//! the `regex` crate's, so a regex term is only known to agree with an
//! identical term on the same selector.
//!
//! [`compare_under`] gives the relation under one reading; [`compare()`]
//! combines them: `Equivalent`/`Covers` only if proven under every reading,
//! [`Relation::Unverified`] when the readings disagree on whether the pattern
//! satisfies the control (or a regex term alone decides: it covers when
//! its regex terms are evaluated the way cis-fix evaluates them, or when
//! they are taken to match every string, as some dialect might) — the documentation leaves the
//! verdict open, so the control is not accepted, and [`Comparison::ambiguous`]
//! names the terms that decided it. A regex can still be refuted: when every regex term
//! uses only constructs AWS documents and a concrete printable-ASCII event that the control
//! matches is missed by the pattern, the relation is `Weaker` or `Different` with that event
//! as the counterexample. `Weaker` needs proof under every reading; anything else is
//! `Different`.
//!
//! # SQL ([`sql`])
//!
//! [`sql::query`] writes a pattern as a query over the CloudTrail table of AWS's Athena DDL, for
//! Athena or DuckDB, selecting the events [`Pattern::matches`] matches; where the table cannot
//! hold a difference (missing or null, a value's JSON type) it selects more, with a comment,
//! and a pattern it cannot so translate is an error.
//!
//! # Concrete events ([`witnesses()`], [`Comparison::counterexample`])
//!
//! [`witnesses()`] lists events a pattern matches under the documented
//! reading (one per DNF term, then edge variants; at most 50, the limit of
//! `logs:TestMetricFilter`), to let AWS confirm that an existing pattern
//! matches every witness of the benchmark. A non-satisfying comparison
//! carries, when one is found, an event the benchmark matches and the
//! existing pattern misses. Both read like CloudTrail records ([`record_text`]
//! writes them in CloudTrail's field order): the values tried for a field are
//! first those CloudTrail writes there, and the event is dressed with the
//! fields every record carries. Both are checked with the evaluator, under the
//! reading they are given for, after every field added.

mod ast;
mod compare;
mod eval;
mod glob;
mod normal;
mod parser;
#[cfg(test)]
mod proptests;
mod reading;
mod record;
pub mod sql;
#[cfg(test)]
mod testdata;
mod witness;

pub use ast::Pattern;
pub use compare::{
    compare, compare_detailed, compare_under, implies, Ambiguity, Comparison, Relation, Side,
};
pub use parser::{parse, ParseError};
pub use reading::{MiddleStar, NotEqualOnMissing, Reading};
pub use record::record_text;
pub use witness::{witness_groups, witnesses, Witnesses, MAX_WITNESSES};
