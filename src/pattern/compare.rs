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
//! trying each kind of value. Where that is hard (globs, regexes) the check
//! answers "satisfiable", which only loses proofs, never makes wrong ones.

use serde_json::Value;

use super::ast::{Comparison, Expr, NumOp, Pattern, Pred, RegexValue, Selector};
use super::{eval, glob};

/// Cap on DNF terms / CNF clauses; beyond it nothing is proven.
const MAX_FORM_SIZE: usize = 4096;
/// Cap on (term, clause) pairs checked for one implication (bounds the
/// worst case to a fraction of a second).
const MAX_PAIRS: usize = 1 << 16;

/// How an existing pattern relates to the benchmark's.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Relation {
    /// Proven to match exactly the same events.
    Equivalent,
    /// Proven to match every event the benchmark matches (maybe more).
    Covers,
    /// Proven to match only events the benchmark matches, and the converse
    /// was not proven: it may miss some.
    Weaker,
    /// Nothing proven.
    Different,
}

impl Relation {
    /// Whether the existing pattern is acceptable for the control.
    pub fn satisfies(self) -> bool {
        matches!(self, Relation::Equivalent | Relation::Covers)
    }
}

/// How `existing` relates to `benchmark`.
pub fn compare(existing: &Pattern, benchmark: &Pattern) -> Relation {
    // Identical trees are equivalent even when too large to normalize.
    if existing == benchmark {
        return Relation::Equivalent;
    }
    match (implies(benchmark, existing), implies(existing, benchmark)) {
        (true, true) => Relation::Equivalent,
        (true, false) => Relation::Covers,
        (false, true) => Relation::Weaker,
        (false, false) => Relation::Different,
    }
}

/// `true` only if every event matching `a` also matches `b` (sound, not
/// complete: `false` means "not proven").
pub fn implies(a: &Pattern, b: &Pattern) -> bool {
    let (Some(terms), Some(clauses)) = (normal_form(&a.expr, true), normal_form(&b.expr, false))
    else {
        return false;
    };
    if terms.len().saturating_mul(clauses.len()) > MAX_PAIRS {
        return false;
    }
    terms.iter().all(|term| {
        clauses
            .iter()
            .all(|clause| term_implies_clause(term, clause))
    })
}

/// A conjunction (DNF term) or disjunction (CNF clause) of atoms.
type Group<'a> = Vec<&'a Comparison>;

/// DNF (`dnf`) or CNF of `expr`, or `None` when it would exceed the cap.
fn normal_form(expr: &Expr, dnf: bool) -> Option<Vec<Group<'_>>> {
    match expr {
        Expr::Cmp(cmp) => Some(vec![vec![cmp]]),
        // The outer operator of the form just concatenates groups...
        Expr::Or(children) | Expr::And(children) if matches!(expr, Expr::Or(_)) == dnf => {
            let mut groups = Vec::new();
            for child in children {
                groups.extend(normal_form(child, dnf)?);
                if groups.len() > MAX_FORM_SIZE {
                    return None;
                }
            }
            Some(groups)
        }
        // ...the inner one distributes: the cross product of the children's groups.
        Expr::Or(children) | Expr::And(children) => {
            let mut acc: Vec<Group<'_>> = vec![Vec::new()];
            for child in children {
                let part = normal_form(child, dnf)?;
                if acc.len().saturating_mul(part.len()) > MAX_FORM_SIZE {
                    return None;
                }
                let mut next = Vec::with_capacity(acc.len() * part.len());
                for left in &acc {
                    for right in &part {
                        let mut merged = left.clone();
                        for atom in right {
                            if !merged.contains(atom) {
                                merged.push(atom);
                            }
                        }
                        next.push(merged);
                    }
                }
                acc = next;
            }
            Some(acc)
        }
    }
}

/// Whether `∧term ∧ ¬(∨clause)` is unsatisfiable. Only selectors of the term
/// need checking: on a selector only the clause mentions, an object value
/// falsifies every atom, so the negated atoms alone are always satisfiable.
fn term_implies_clause(term: &[&Comparison], clause: &[&Comparison]) -> bool {
    term.iter().enumerate().any(|(i, atom)| {
        let selector = &atom.selector;
        // Each selector once: skip it if an earlier atom had it.
        if term.iter().take(i).any(|a| &a.selector == selector) {
            return false;
        }
        let pos = preds_on(term, selector);
        let neg = preds_on(clause, selector);
        !satisfiable(&pos, &neg)
    })
}

fn preds_on<'a>(group: &[&'a Comparison], selector: &Selector) -> Vec<&'a Pred> {
    group
        .iter()
        .filter(|a| &a.selector == selector)
        .map(|a| &a.pred)
        .collect()
}

/// Whether one value can make every `pos` predicate true and every `neg`
/// predicate false. May say `true` wrongly (losing a proof), never `false`.
fn satisfiable(pos: &[&Pred], neg: &[&Pred]) -> bool {
    let fits = |value: Option<&Value>| {
        pos.iter().all(|p| eval::pred_holds(p, value))
            && !neg.iter().any(|p| eval::pred_holds(p, value))
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
        || numbers_satisfiable(pos, neg)
        || strings_satisfiable(pos, neg)
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

fn strings_satisfiable(pos: &[&Pred], neg: &[&Pred]) -> bool {
    // The string must match every `inside` glob and no `outside` glob, and
    // every `must` regex and no `must_not` regex.
    let mut inside: Vec<&str> = Vec::new();
    let mut outside: Vec<&str> = Vec::new();
    let mut must: Vec<&RegexValue> = Vec::new();
    let mut must_not: Vec<&RegexValue> = Vec::new();
    for (preds, positive) in [(pos, true), (neg, false)] {
        for pred in preds {
            match pred {
                Pred::Str { negated, glob } if *negated != positive => inside.push(glob),
                Pred::Str { glob, .. } => outside.push(glob),
                Pred::Regex { negated, regex } if *negated != positive => must.push(regex),
                Pred::Regex { regex, .. } => must_not.push(regex),
                // A positive non-string predicate is false on strings; a
                // negated one is already satisfied.
                _ if positive => return false,
                _ => {}
            }
        }
    }
    // A literal pins the string down: decide exactly.
    if let Some(text) = inside.iter().find(|g| glob::is_literal(g)) {
        return inside.iter().all(|g| glob::matches(g, text))
            && !outside.iter().any(|g| glob::matches(g, text))
            && must.iter().all(|r| r.is_match(text))
            && !must_not.iter().any(|r| r.is_match(text));
    }
    if must.iter().any(|r| must_not.contains(r)) {
        return false;
    }
    let pairwise_disjoint = inside
        .iter()
        .enumerate()
        .any(|(i, a)| inside.iter().skip(i + 1).any(|b| glob::disjoint(a, b)));
    if pairwise_disjoint {
        return false;
    }
    // With no `inside` glob the string is unconstrained, i.e. inside `*`.
    let inside_or_any = if inside.is_empty() { vec!["*"] } else { inside };
    !inside_or_any
        .iter()
        .any(|g| outside.iter().any(|h| glob::subset(g, h)))
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;
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
        assert!(imp("{$.a != A}", "{$.a = *}"));
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
            "{$.a = %x% && $.a != %x%}",
            "{$.a = A && $.a = %B%}",
            "{$.a > 1e999}",
        ] {
            assert!(imp(contradiction, "{$.z = nothing}"), "{contradiction}");
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
        assert!(imp("{$.n != 1}", "{$.n < 1 || $.n > 1}"));
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
        assert!(!imp("{$.a = %^x%}", "{$.a = %^x.*%}"));
        assert!(
            imp("{$.a = xy}", "{$.a = %^x%}"),
            "a literal is evaluated exactly"
        );
        assert!(imp("{$.a = %x%}", "{$.a = *}"));
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
        assert!(!Weaker.satisfies() && !Different.satisfies());
    }
}
