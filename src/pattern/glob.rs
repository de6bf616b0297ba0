//! `*` globs: matching, and sound inclusion/disjointness tests.
//!
//! A string value becomes a [`Glob`] under a [`Reading`]: a leading or
//! trailing `*` is always a wildcard, a middle one (see
//! [`super::reading::MiddleStar`]) a wildcard or the character `*`.

use super::reading::{stars, Reading};

/// A glob token: a literal character, or `None` for a wildcard.
type Tok = Option<char>;

/// Where a wildcard sits in its value (witnesses fill each kind differently).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Place {
    Leading,
    Middle,
    Trailing,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Glob(Vec<Tok>);

impl Glob {
    pub(super) fn new(value: &str, reading: Reading) -> Glob {
        let mut toks: Vec<Tok> = Vec::new();
        for (c, star) in stars(value) {
            let tok = match star {
                Some(true) if !reading.star_is_wildcard() => Some(c),
                Some(_) => None,
                None => Some(c),
            };
            // A run of wildcards is one wildcard.
            if tok.is_some() || toks.last() != Some(&None) {
                toks.push(tok);
            }
        }
        Glob(toks)
    }

    /// The only string matched, when the glob has no wildcard.
    pub(super) fn literal(&self) -> Option<String> {
        self.0.iter().copied().collect()
    }

    /// Whether `text` is in the language of the glob.
    pub(super) fn matches(&self, text: &str) -> bool {
        let text: Vec<char> = text.chars().collect();
        match_tokens(&self.0, &text, |c, t| c == *t)
    }

    /// Sound test for L(`self`) ⊆ L(`sup`): each wildcard of `self` becomes a
    /// symbol only a wildcard of `sup` may absorb. If `sup` matches that, it
    /// matches every instantiation of `self` (the absorbing wildcards take the
    /// substituted text).
    pub(super) fn subset(&self, sup: &Glob) -> bool {
        match_tokens(&sup.0, &self.0, |c, t| *t == Some(c))
    }

    /// Sound test for L(a) ∩ L(b) = ∅: literals are tested exactly; otherwise
    /// every word starts with the glob's prefix before its first wildcard and
    /// ends with its suffix after the last one, so incompatible prefixes or
    /// suffixes prove it.
    pub(super) fn disjoint(&self, other: &Glob) -> bool {
        match (self.literal(), other.literal()) {
            (Some(text), _) => !other.matches(&text),
            (_, Some(text)) => !self.matches(&text),
            _ => {
                let (pa, pb) = (self.prefix(), other.prefix());
                let (sa, sb) = (self.suffix(), other.suffix());
                !(pa.starts_with(&pb) || pb.starts_with(&pa))
                    || !(sa.ends_with(&sb) || sb.ends_with(&sa))
            }
        }
    }

    fn prefix(&self) -> String {
        self.0.iter().map_while(|t| *t).collect()
    }

    fn suffix(&self) -> String {
        let mut rev: Vec<char> = self.0.iter().rev().map_while(|t| *t).collect();
        rev.reverse();
        rev.into_iter().collect()
    }

    /// The string with each wildcard replaced by `fill(place)`; always in the
    /// glob's language.
    pub(super) fn instance(&self, fill: impl Fn(Place) -> String) -> String {
        let last = self.0.len().saturating_sub(1);
        let mut out = String::new();
        for (i, tok) in self.0.iter().enumerate() {
            match tok {
                Some(c) => out.push(*c),
                None if i == 0 => out.push_str(&fill(Place::Leading)),
                None if i == last => out.push_str(&fill(Place::Trailing)),
                None => out.push_str(&fill(Place::Middle)),
            }
        }
        out
    }

    pub(super) fn has_wildcard(&self) -> bool {
        self.0.iter().any(Option::is_none)
    }
}

/// Whether `text` is in the language of `value`'s glob under `reading`: the same as
/// `Glob::new(value, reading).matches(text)`, without building the glob (an allocation per
/// event and pattern) when `value` has no middle star, as the benchmark's values do: a
/// literal, a prefix, a suffix or an infix.
pub(super) fn value_matches(value: &str, reading: Reading, text: &str) -> bool {
    let inner = value.trim_start_matches('*').trim_end_matches('*');
    if inner.contains('*') {
        return Glob::new(value, reading).matches(text);
    }
    let stars = inner.len() < value.len();
    match (
        stars && value.starts_with('*'),
        stars && value.ends_with('*'),
    ) {
        (true, true) => text.contains(inner),
        (true, false) => text.ends_with(inner),
        (false, true) => text.starts_with(inner),
        (false, false) => text == value,
    }
}

/// Classic wildcard matching with one backtrack point: on a mismatch, the
/// most recent `*` absorbs one more text item. Linear space, O(n·m) time.
fn match_tokens<T>(pattern: &[Tok], text: &[T], lit_eq: impl Fn(char, &T) -> bool) -> bool {
    let (mut p, mut t) = (0, 0);
    // (pattern index after the last `*`, text index it resumes from)
    let mut backtrack: Option<(usize, usize)> = None;
    while let Some(item) = text.get(t) {
        match pattern.get(p) {
            Some(Some(c)) if lit_eq(*c, item) => {
                p += 1;
                t += 1;
            }
            Some(None) => {
                p += 1;
                backtrack = Some((p, t));
            }
            _ => match backtrack {
                Some((bp, bt)) => {
                    p = bp;
                    t = bt + 1;
                    backtrack = Some((bp, bt + 1));
                }
                None => return false,
            },
        }
    }
    pattern
        .get(p..)
        .is_some_and(|rest| rest.iter().all(Option::is_none))
}

#[cfg(test)]
mod tests {
    use super::super::reading::{MiddleStar, NotEqualOnMissing};
    use super::*;

    const WILD: Reading = Reading {
        middle_star: MiddleStar::Wildcard,
        not_equal_on_missing: NotEqualOnMissing::NoMatch,
    };
    const LIT: Reading = Reading::DOCUMENTED;

    proptest::proptest! {
        /// The quick match without a glob agrees with the glob's, in both readings.
        #[test]
        fn value_matches_agrees_with_the_glob(value in "[ab*]{0,6}", text in "[ab*]{0,6}") {
            for reading in [WILD, LIT] {
                let glob = Glob::new(&value, reading).matches(&text);
                proptest::prop_assert_eq!(value_matches(&value, reading, &text), glob, "{:?}", reading);
            }
        }
    }

    fn g(value: &str) -> Glob {
        Glob::new(value, WILD)
    }

    fn matches(glob: &str, text: &str) -> bool {
        g(glob).matches(text)
    }

    fn subset(a: &str, b: &str) -> bool {
        g(a).subset(&g(b))
    }

    fn disjoint(a: &str, b: &str) -> bool {
        g(a).disjoint(&g(b))
    }

    #[test]
    fn matching() {
        assert!(matches(
            "*UnauthorizedOperation",
            "Client.UnauthorizedOperation"
        ));
        assert!(matches("*UnauthorizedOperation", "UnauthorizedOperation"));
        assert!(!matches("*UnauthorizedOperation", "UnauthorizedOperations"));
        assert!(matches("AccessDenied*", "AccessDenied"));
        assert!(matches("AccessDenied*", "AccessDeniedException"));
        assert!(!matches("AccessDenied*", "accessdenied"));
        assert!(matches("123.123.*", "123.123.4.5"));
        assert!(matches("*", ""));
        assert!(matches("", ""));
        assert!(!matches("", "a"));
        assert!(matches("a*b*c", "aXbYbc"));
        assert!(!matches("a*b*c", "aXbYb"));
        assert!(matches("**a**", "a"));
        assert!(matches("é*", "été"));
    }

    /// The AWS filter-syntax page's examples, under the documented reading.
    #[test]
    fn documented_reading() {
        let doc = |glob: &str, text: &str| Glob::new(glob, LIT).matches(text);
        assert!(doc("*Event", "PutEvent") && doc("*Event", "GetEvent"));
        assert!(doc("Event*", "EventId"));
        assert!(doc("*Event*", "PutEventId"));
        assert!(doc("Ev*ent", "Ev*ent"));
        assert!(!doc("Ev*ent", "Event") && !doc("Ev*ent", "EvXent"));
        assert!(doc(
            "*Unauthorized*Operation",
            "Client.Unauthorized*Operation"
        ));
        assert!(!doc("*Unauthorized*Operation", "UnauthorizedOperation"));
        assert!(doc("*", "") && doc("**", "anything"));
        assert!(doc("***", "") && doc("***", "x"), "edge runs are wildcards");
        assert!(doc("**Ev", "xEv") && doc("Ev**", "Evx"));
        assert!(doc("**a*b**", "xa*bx") && !doc("**a*b**", "xabx"));
        assert!(
            doc("a**b", "a**b") && !doc("a**b", "a*b"),
            "a middle run is literal"
        );
        assert_eq!(
            Glob::new("Ev*ent", LIT).literal().as_deref(),
            Some("Ev*ent")
        );
        assert_eq!(Glob::new("Ev*ent", WILD).literal(), None);
        // A literal star is included in / excluded from other globs exactly.
        let lit = |s: &str| Glob::new(s, LIT);
        assert!(lit("Ev*ent").subset(&lit("Ev*")));
        assert!(!lit("Ev*ent").subset(&lit("Event")));
        assert!(lit("A*B*").subset(&lit("A*")), "`A*B*` is `A*B` + anything");
        assert!(!lit("A*B*").subset(&lit("AB*")));
        assert!(!g("A*B*").subset(&lit("A*B*")));
        assert!(lit("Ev*ent").disjoint(&lit("Event")));
        assert!(!lit("x*y*").disjoint(&lit("x*y")));
    }

    #[test]
    fn instances() {
        let fill = |p: Place| match p {
            Place::Leading => "L".to_string(),
            Place::Middle => "M".to_string(),
            Place::Trailing => "T".to_string(),
        };
        assert_eq!(g("*a*b*").instance(fill), "LaMbT");
        assert_eq!(Glob::new("*a*b*", LIT).instance(fill), "La*bT");
        assert_eq!(g("*").instance(fill), "L");
        assert_eq!(g("**a**").instance(fill), "LaT", "runs collapse");
        assert_eq!(Glob::new("a**b", LIT).instance(fill), "a**b");
        assert_eq!(g("a**b").instance(fill), "aMb");
        assert_eq!(g("ab").instance(fill), "ab");
    }

    #[test]
    fn inclusion() {
        assert!(subset("AccessDenied*", "Access*"));
        assert!(subset("*UnauthorizedOperation", "*Operation"));
        assert!(subset("x", "*"));
        assert!(subset("A*", "A*"));
        assert!(subset("A*B", "A*"));
        assert!(subset("A**", "A*"));
        assert!(subset("AB", "A*B"));
        assert!(!subset("A*", "AB*"));
        assert!(!subset("*", "A*"));
        assert!(!subset("A*", "A"));
        assert!(!subset("A*", "*B"));
    }

    #[test]
    fn disjointness() {
        assert!(disjoint("A", "B"));
        assert!(!disjoint("A", "A"));
        assert!(disjoint("A*", "B*"));
        assert!(disjoint("*A", "*B"));
        assert!(disjoint("AB", "A*C"));
        assert!(!disjoint("A*", "*B"));
        assert!(!disjoint("A*", "AB*"));
        assert!(!disjoint("*", ""));
    }

    /// Brute force over short words (with `*` as a letter): the sound tests
    /// never claim wrongly, under either reading of a middle star.
    #[test]
    fn sound_against_enumeration() {
        let alphabet = ['A', 'B', '*'];
        let mut words = vec![String::new()];
        for len in 1..=5 {
            let mut next = Vec::new();
            for w in words.iter().filter(|w| w.chars().count() == len - 1) {
                for c in alphabet {
                    next.push(format!("{w}{c}"));
                }
            }
            words.extend(next);
        }
        let globs: Vec<String> = words
            .iter()
            .filter(|w| w.chars().count() <= 3)
            .flat_map(|w| {
                let mut variants = vec![w.clone(), format!("*{w}"), format!("{w}*")];
                variants.push(format!("*{w}*"));
                if w.len() >= 2 {
                    variants.push(format!("{}*{}", &w[..1], &w[1..]));
                }
                variants
            })
            .collect();
        for reading in [LIT, WILD] {
            let globs: Vec<Glob> = globs.iter().map(|s| Glob::new(s, reading)).collect();
            for a in &globs {
                for b in &globs {
                    if a.subset(b) {
                        assert!(
                            words.iter().all(|w| !a.matches(w) || b.matches(w)),
                            "{a:?} ⊆ {b:?}"
                        );
                    }
                    if a.disjoint(b) {
                        assert!(
                            words.iter().all(|w| !(a.matches(w) && b.matches(w))),
                            "{a:?} ∩ {b:?}"
                        );
                    }
                }
            }
        }
    }
}
