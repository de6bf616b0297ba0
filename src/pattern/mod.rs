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
//! # Evaluation semantics ([`Pattern::matches`])
//!
//! - A selector resolves `.name` on objects and `[N]` on arrays; anything else
//!   resolves to *missing*.
//! - String `= glob` holds iff the value is a JSON string matching the glob
//!   (`*` matches any sequence, everything else literal, case-sensitive);
//!   `!= glob` holds iff the value is a JSON string *not* matching it. Any
//!   other value (missing, null, number, bool, object, array) fails both, so
//!   `!=` is not the negation of `=`.
//! - Numeric comparisons hold iff the value is a JSON number and the
//!   comparison holds on `f64`.
//! - Regex `= %re%` holds iff the value is a string in which `re` (syntax of
//!   the `regex` crate) finds a match anywhere; `!= %re%` iff it is a string
//!   with no match.
//! - `IS NULL` needs a present JSON null, `IS TRUE`/`IS FALSE` that boolean,
//!   and `NOT EXISTS` a missing value (a present null exists).
//!
//! # Comparison ([`compare()`], [`implies()`])
//!
//! `implies(a, b)` is sound but incomplete: `true` only when every event
//! matching `a` matches `b`. The antecedent is put in disjunctive and the
//! consequent in conjunctive normal form; each (term, clause) pair is decided
//! per selector, treating the values at distinct selectors as independent (an
//! over-approximation of real events, so proofs stay valid).

mod ast;
mod compare;
mod eval;
mod glob;
mod parser;
#[cfg(test)]
mod proptests;
#[cfg(test)]
mod testdata;

pub use ast::Pattern;
pub use compare::{compare, implies, Relation};
pub use parser::{parse, ParseError};
