//! `*` globs: matching, and sound inclusion/disjointness tests.

/// A glob token: a literal character, or `None` for `*`.
type Tok = Option<char>;

fn tokens(glob: &str) -> Vec<Tok> {
    glob.chars().map(|c| (c != '*').then_some(c)).collect()
}

pub(super) fn is_literal(glob: &str) -> bool {
    !glob.contains('*')
}

/// Whether `text` is in the language of `glob`.
pub(super) fn matches(glob: &str, text: &str) -> bool {
    let text: Vec<char> = text.chars().collect();
    match_tokens(&tokens(glob), &text, |c, t| c == *t)
}

/// Sound test for L(`sub`) ⊆ L(`sup`): each `*` of `sub` becomes a symbol
/// only a `*` of `sup` may absorb. If `sup` matches that, it matches every
/// instantiation of `sub` (the absorbing stars take the substituted text).
pub(super) fn subset(sub: &str, sup: &str) -> bool {
    match_tokens(&tokens(sup), &tokens(sub), |c, t| *t == Some(c))
}

/// Sound test for L(a) ∩ L(b) = ∅: literals are tested exactly; otherwise
/// every word starts with the glob's prefix before its first `*` and ends with
/// its suffix after the last one, so incompatible prefixes or suffixes prove it.
pub(super) fn disjoint(a: &str, b: &str) -> bool {
    match (is_literal(a), is_literal(b)) {
        (true, _) => !matches(b, a),
        (_, true) => !matches(a, b),
        _ => {
            let (pa, pb) = (prefix(a), prefix(b));
            let (sa, sb) = (suffix(a), suffix(b));
            !(pa.starts_with(pb) || pb.starts_with(pa)) || !(sa.ends_with(sb) || sb.ends_with(sa))
        }
    }
}

fn prefix(glob: &str) -> &str {
    glob.split('*').next().unwrap_or("")
}

fn suffix(glob: &str) -> &str {
    glob.rsplit('*').next().unwrap_or("")
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
    use super::*;

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

    /// Brute force over short words: the sound tests never claim wrongly.
    #[test]
    fn sound_against_enumeration() {
        let alphabet = ['A', 'B'];
        let mut words = vec![String::new()];
        for len in 1..=5 {
            let mut next = Vec::new();
            for w in words.iter().filter(|w| w.len() == len - 1) {
                for c in alphabet {
                    next.push(format!("{w}{c}"));
                }
            }
            words.extend(next);
        }
        let globs: Vec<String> = words
            .iter()
            .filter(|w| w.len() <= 3)
            .flat_map(|w| {
                let mut variants = vec![w.clone(), format!("*{w}"), format!("{w}*")];
                variants.push(format!("*{w}*"));
                if w.len() >= 2 {
                    variants.push(format!("{}*{}", &w[..1], &w[1..]));
                }
                variants
            })
            .collect();
        for a in &globs {
            for b in &globs {
                if subset(a, b) {
                    assert!(
                        words.iter().all(|w| !matches(a, w) || matches(b, w)),
                        "{a} ⊆ {b}"
                    );
                }
                if disjoint(a, b) {
                    assert!(
                        words.iter().all(|w| !(matches(a, w) && matches(b, w))),
                        "{a} ∩ {b}"
                    );
                }
            }
        }
    }
}
