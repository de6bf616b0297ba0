//! The normal forms that comparison and witnesses both build on: a pattern's expression as
//! a disjunction of conjunctions (DNF terms) or a conjunction of disjunctions (CNF clauses) of
//! atoms, and the per-selector view of one such group.
//!
//! [`super::compare`] proves `a ⇒ b` over (term, clause) pairs; [`super::witness`] builds
//! events from the same pairs. Both caps live here so the two agree on what is too large.

use super::ast::{Atom, Expr, Pred, Selector};

/// Cap on DNF terms / CNF clauses; beyond it nothing is proven.
const MAX_FORM_SIZE: usize = 4096;
/// Cap on (term, clause) pairs checked for one implication (bounds the
/// worst case to a fraction of a second).
pub(super) const MAX_PAIRS: usize = 1 << 16;

/// A conjunction (DNF term) or disjunction (CNF clause) of atoms.
pub(super) type Group<'a> = Vec<&'a Atom>;

/// DNF (`dnf`) or CNF of `expr`, or `None` when it would exceed the cap.
pub(super) fn normal_form(expr: &Expr, dnf: bool) -> Option<Vec<Group<'_>>> {
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

/// The distinct selectors of a group, in order of appearance.
pub(super) fn selectors<'a>(group: &[&'a Atom]) -> Vec<&'a Selector> {
    let mut out: Vec<&Selector> = Vec::new();
    for atom in group {
        if !out.contains(&&atom.selector) {
            out.push(&atom.selector);
        }
    }
    out
}

/// The predicates of `group` on `selector`, in order.
pub(super) fn preds_on<'a>(group: &[&'a Atom], selector: &Selector) -> Vec<&'a Pred> {
    group
        .iter()
        .filter(|a| &a.selector == selector)
        .map(|a| &a.pred)
        .collect()
}
