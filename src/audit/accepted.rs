//! Which of a control's patterns decided a filter's verdict: the control's own, or one of the
//! alternatives the benchmark itself allows (`also_accept`). A filter that counts only through
//! an alternative is narrower than the control's own pattern, so the views say which one it
//! was compared with and what that one leaves out. For a filter that satisfies none, a variant
//! others check for but this benchmark does not offer (`not_accepted`) explains the verdict.

use super::plan::AcceptedAlternative;
use crate::catalog::{Alternative, Control};
use crate::pattern::{self, Comparison, Pattern, Relation};

/// The pattern of a control a filter was compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decider {
    /// The control's own pattern, the one cis-fix creates.
    Control,
    /// The control's `also_accept` entry at this index.
    Alternative(usize),
}

/// How a filter's pattern relates to a control, and which of its patterns decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Judged {
    pub relation: Relation,
    pub decider: Decider,
}

/// Better verdicts rank higher, for a filter that satisfies no accepted pattern.
fn rank(relation: Relation) -> u8 {
    match relation {
        Relation::Equivalent => 4,
        Relation::Covers => 3,
        Relation::Unverified => 2,
        Relation::Weaker => 1,
        Relation::Different => 0,
    }
}

/// A relation's name, as the JSON (its serde name) and `cis-fix pattern check` write it.
pub fn relation_name(relation: Relation) -> &'static str {
    match relation {
        Relation::Equivalent => "equivalent",
        Relation::Covers => "covers",
        Relation::Weaker => "weaker",
        Relation::Different => "different",
        Relation::Unverified => "unverified",
    }
}

/// A relation as a finding's sentence says it of a filter (`matches the pattern (covers it)`):
/// its name, but for `covers`, which needs its object there.
pub fn relation_word(relation: Relation) -> &'static str {
    match relation {
        Relation::Covers => "covers it",
        other => relation_name(other),
    }
}

/// The control's accepted patterns, its own first.
fn accepted(control: &Control) -> impl Iterator<Item = (Decider, &Pattern)> {
    std::iter::once((Decider::Control, &control.pattern)).chain(
        control
            .also_accept
            .iter()
            .enumerate()
            .map(|(i, a)| (Decider::Alternative(i), &a.pattern)),
    )
}

/// The first result, in catalog order, that satisfies the control: the control's own pattern
/// whenever it does, so a filter is said to count through an alternative only when it must.
/// When none satisfies, the best relation (the earliest of equals), so that an `unverified`
/// or `weaker` verdict is explained against the pattern that came closest.
fn pick<T>(
    results: impl Iterator<Item = (Decider, T)>,
    relation: impl Fn(&T) -> Relation,
) -> Option<(Decider, T)> {
    let mut best: Option<(Decider, T)> = None;
    for (decider, result) in results {
        let r = relation(&result);
        if r.satisfies() {
            return Some((decider, result));
        }
        if best
            .as_ref()
            .is_none_or(|(_, b)| rank(r) > rank(relation(b)))
        {
            best = Some((decider, result));
        }
    }
    best
}

/// How `existing` relates to `control`, over every pattern the control accepts.
pub fn judge(existing: &Pattern, control: &Control) -> Judged {
    let results = accepted(control).map(|(d, p)| (d, pattern::compare(existing, p)));
    match pick(results, |r| *r) {
        Some((decider, relation)) => Judged { relation, decider },
        None => Judged {
            relation: Relation::Different,
            decider: Decider::Control,
        },
    }
}

/// [`judge`] with the full comparison (readings, ambiguous terms, counterexample) against the
/// pattern that decided.
pub fn judge_detailed(existing: &Pattern, control: &Control) -> (Comparison, Decider) {
    let results = accepted(control).map(|(d, p)| (d, pattern::compare_detailed(existing, p)));
    match pick(results, |c| c.relation) {
        Some((decider, comparison)) => (comparison, decider),
        None => (
            pattern::compare_detailed(existing, &control.pattern),
            Decider::Control,
        ),
    }
}

/// What `cis-fix pattern check` finds for a hand-written pattern: the full comparison with
/// the control's pattern (or the alternative it satisfies the control through), and the
/// variant the benchmark refuses, when the pattern covers only that.
#[derive(Debug, Clone)]
pub struct PatternCheck<'c> {
    pub control: &'c Control,
    pub comparison: Comparison,
    /// The benchmark's alternative the pattern was compared with, when it covers that and
    /// not the control's own pattern.
    pub alternative: Option<AcceptedAlternative>,
    /// A variant the benchmark does not accept, which the pattern covers (only said when the
    /// pattern does not satisfy the control).
    pub refused: Option<(usize, &'c Alternative)>,
}

impl PatternCheck<'_> {
    /// Whether the pattern satisfies the control under every reading.
    pub fn covers(&self) -> bool {
        self.comparison.relation.satisfies()
    }
}

/// Compares `pattern` with `control` as `pattern check` does.
pub fn check<'c>(pattern: &Pattern, control: &'c Control) -> PatternCheck<'c> {
    let (comparison, decider) = judge_detailed(pattern, control);
    let alternative = chain_alternative(control, decider);
    let refused = (!comparison.relation.satisfies())
        .then(|| not_accepted(pattern, control))
        .flatten();
    PatternCheck {
        control,
        comparison,
        alternative,
        refused,
    }
}

/// The `also_accept` entry a decider names; `None` for the control's own pattern.
pub fn alternative(control: &Control, decider: Decider) -> Option<(usize, &Alternative)> {
    match decider {
        Decider::Control => None,
        Decider::Alternative(i) => control.also_accept.get(i).map(|a| (i, a)),
    }
}

/// The record (on a chain, in `pattern check`) of the alternative that decided, if one did.
pub fn chain_alternative(control: &Control, decider: Decider) -> Option<AcceptedAlternative> {
    alternative(control, decider).map(|(index, a)| AcceptedAlternative {
        index,
        name: a.label(index),
        pattern: a.text.clone(),
        note: a.note.clone(),
    })
}

/// `the benchmark's SSO-aware alternative for 4.2 (misses root and …)`: the pattern a filter
/// was compared with, when it is not the control's own.
pub fn alternative_phrase(control_id: &str, alternative: &AcceptedAlternative) -> String {
    let note = alternative
        .note
        .as_deref()
        .map(|n| format!(" ({n})"))
        .unwrap_or_default();
    format!(
        "the benchmark's {} for {control_id}{note}",
        alternative.name
    )
}

/// `covers the benchmark's SSO-aware alternative for 4.2 (misses …)`, or `equivalent to …`:
/// a satisfying verdict reached through an alternative, as the views say it.
pub fn through_alternative(
    relation: Relation,
    control_id: &str,
    alternative: &AcceptedAlternative,
) -> String {
    let verb = if relation == Relation::Equivalent {
        "equivalent to"
    } else {
        "covers"
    };
    format!("{verb} {}", alternative_phrase(control_id, alternative))
}

/// The `not_accepted` entry of `control` that `existing` satisfies, if any: a filter written
/// to it is told why it does not count. (For a filter no accepted pattern satisfies: the
/// control's own pattern covers such a variant too.)
pub fn not_accepted<'c>(
    existing: &Pattern,
    control: &'c Control,
) -> Option<(usize, &'c Alternative)> {
    control
        .not_accepted
        .iter()
        .enumerate()
        .find(|(_, a)| pattern::compare(existing, &a.pattern).satisfies())
}

/// `it covers Security Hub's SSO-aware variant, which this benchmark does not accept: …`
pub fn not_accepted_phrase(index: usize, alternative: &Alternative) -> String {
    let note = alternative
        .note
        .as_deref()
        .map(|n| format!(": {n}"))
        .unwrap_or_default();
    format!(
        "it covers {}, which this benchmark does not accept{note}",
        alternative.label(index)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog;

    fn control(benchmark: &str, slug: &str) -> Control {
        catalog::load_builtin(benchmark)
            .unwrap()
            .select(&[slug.to_string()])
            .unwrap()
            .controls
            .remove(0)
    }

    fn parse(text: &str) -> Pattern {
        pattern::parse(text).unwrap()
    }

    const IAM_USERS_ONLY: &str = r#"{ $.eventName = ConsoleLogin && $.additionalEventData.MFAUsed != Yes && $.userIdentity.type = IAMUser && $.responseElements.ConsoleLogin = Success }"#;

    #[test]
    fn a_relation_is_named_as_the_json_names_it() {
        for relation in [
            Relation::Equivalent,
            Relation::Covers,
            Relation::Weaker,
            Relation::Different,
            Relation::Unverified,
        ] {
            assert_eq!(
                serde_json::to_value(relation).unwrap(),
                relation_name(relation)
            );
        }
        assert_eq!(relation_word(Relation::Covers), "covers it");
        assert_eq!(relation_word(Relation::Weaker), "weaker");
    }

    #[test]
    fn the_controls_own_pattern_decides_whenever_it_is_satisfied() {
        let mfa = control("cis-5.0", "console-signin-without-mfa");
        // Covers both the control's pattern and the SSO-aware one: the control's decides.
        let broad = parse(r#"{ $.eventName = ConsoleLogin }"#);
        assert_eq!(
            judge(&broad, &mfa),
            Judged {
                relation: Relation::Covers,
                decider: Decider::Control
            }
        );
        let narrow = parse(IAM_USERS_ONLY);
        assert_eq!(
            judge(&narrow, &mfa),
            Judged {
                relation: Relation::Equivalent,
                decider: Decider::Alternative(0)
            }
        );
        let (comparison, decider) = judge_detailed(&narrow, &mfa);
        assert_eq!(
            (comparison.relation, decider),
            (Relation::Equivalent, Decider::Alternative(0))
        );
        let named = chain_alternative(&mfa, decider).unwrap();
        assert_eq!(named.name, "SSO-aware alternative");
        assert_eq!(
            alternative_phrase("4.2", &named),
            "the benchmark's SSO-aware alternative for 4.2 (misses root and federated sign-ins without MFA, and failed ones)"
        );
        assert!(chain_alternative(&mfa, Decider::Control).is_none());
    }

    #[test]
    fn a_filter_that_satisfies_nothing_is_judged_against_the_closest_pattern() {
        let mfa = control("cis-5.0", "console-signin-without-mfa");
        // Narrower than the SSO-aware alternative too: weaker than both, the control's first.
        let narrower = parse(&IAM_USERS_ONLY.replace(" }", " && $.awsRegion = \"us-east-1\" }"));
        assert_eq!(
            judge(&narrower, &mfa),
            Judged {
                relation: Relation::Weaker,
                decider: Decider::Control
            }
        );
    }

    #[test]
    fn cis_1_2_names_the_variant_it_does_not_accept_and_why() {
        let mfa = control("cis-1.2", "console-signin-without-mfa");
        let narrow = parse(IAM_USERS_ONLY);
        assert_eq!(judge(&narrow, &mfa).relation, Relation::Weaker);
        let (index, variant) = not_accepted(&narrow, &mfa).unwrap();
        let said = not_accepted_phrase(index, variant);
        assert!(
            said.starts_with("it covers Security Hub's SSO-aware variant, which this benchmark does not accept: Security Hub's CloudWatch.3 checks for it, but the CIS v1.2.0 text of 3.2 offers only the control's pattern"),
            "{said}"
        );
        // Later versions accept it.
        let v5 = control("cis-5.0", "console-signin-without-mfa");
        assert!(judge(&narrow, &v5).relation.satisfies());
        assert!(v5.not_accepted.is_empty());
    }
}
