//! Readings: the ways AWS's filter-pattern documentation can be read where it
//! is ambiguous or silent.

use std::fmt;

/// What a `*` in the middle of a string value means.
///
/// A *middle* `*` is one with a character other than `*` somewhere before it
/// and somewhere after it in the value (after unquoting). Every other `*` is
/// in the leading or trailing run of stars, and a run counts as one wildcard.
/// So `*Unauthorized*Operation` has a leading wildcard and one middle star;
/// `Ev*ent` and `a**b` have one and two middle stars; `*`, `**`, `***`,
/// `**Event` and `*Event*` have none (a value made only of stars matches any
/// string). Regular expressions are not globs and numbers cannot contain `*`,
/// so only string values have middle stars.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum MiddleStar {
    /// Matches the character `*` only. AWS documents this: "`Ev*ent` will
    /// only match the actual string `Ev*ent`".
    Literal,
    /// Matches any sequence of characters, like a leading or trailing `*`.
    Wildcard,
}

/// Whether `!=` (on strings, numbers and regexes alike) holds for an event
/// where the field is missing or JSON null. AWS does not say; `NOT EXISTS`
/// and `IS NULL` exist for those events. On any other value of the wrong type
/// (a number against a string, a boolean, an object) `!=` fails in every reading.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum NotEqualOnMissing {
    /// `!=` needs a present value of its type (cis-fix's long-standing reading).
    NoMatch,
    /// `!=` also holds when the field is missing or null.
    Matches,
}

/// One resolution of every question the AWS documentation leaves open.
///
/// A pattern comparison is trusted only if it holds under every reading in
/// [`Reading::ALL`]; the evaluator ([`super::Pattern::matches`]) follows
/// [`Reading::DOCUMENTED`].
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
pub struct Reading {
    pub middle_star: MiddleStar,
    pub not_equal_on_missing: NotEqualOnMissing,
}

impl Reading {
    /// What AWS documents for `*`, and for `!=` on missing/null the reading
    /// cis-fix has always used (the documentation is silent there).
    pub const DOCUMENTED: Reading = Reading {
        middle_star: MiddleStar::Literal,
        not_equal_on_missing: NotEqualOnMissing::NoMatch,
    };

    /// Every reading, [`Reading::DOCUMENTED`] first.
    pub const ALL: [Reading; 4] = [
        Reading::DOCUMENTED,
        Reading {
            middle_star: MiddleStar::Literal,
            not_equal_on_missing: NotEqualOnMissing::Matches,
        },
        Reading {
            middle_star: MiddleStar::Wildcard,
            not_equal_on_missing: NotEqualOnMissing::NoMatch,
        },
        Reading {
            middle_star: MiddleStar::Wildcard,
            not_equal_on_missing: NotEqualOnMissing::Matches,
        },
    ];

    /// Iterates over [`Reading::ALL`].
    pub fn all() -> impl Iterator<Item = Reading> {
        Self::ALL.into_iter()
    }

    pub fn is_documented(self) -> bool {
        self == Self::DOCUMENTED
    }

    pub(super) fn star_is_wildcard(self) -> bool {
        self.middle_star == MiddleStar::Wildcard
    }

    pub(super) fn not_equal_matches_missing(self) -> bool {
        self.not_equal_on_missing == NotEqualOnMissing::Matches
    }
}

impl fmt::Display for MiddleStar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            MiddleStar::Literal => "a `*` inside a value is a literal character",
            MiddleStar::Wildcard => "a `*` inside a value is a wildcard",
        })
    }
}

impl fmt::Display for NotEqualOnMissing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NotEqualOnMissing::NoMatch => "`!=` does not match a missing or null field",
            NotEqualOnMissing::Matches => "`!=` matches a missing or null field",
        })
    }
}

/// E.g. "a `*` inside a value is a literal character; `!=` does not match a
/// missing or null field (documented)".
impl fmt::Display for Reading {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}; {}", self.middle_star, self.not_equal_on_missing)?;
        if self.is_documented() {
            f.write_str(" (documented)")?;
        }
        Ok(())
    }
}

/// For each character of a string value: `Some(middle)` for a `*`, telling
/// whether it is a middle star (see [`MiddleStar`]), `None` for any other
/// character.
pub(super) fn stars(value: &str) -> Vec<(char, Option<bool>)> {
    let chars: Vec<char> = value.chars().collect();
    let first = chars.iter().position(|c| *c != '*');
    let last = chars.iter().rposition(|c| *c != '*');
    chars
        .iter()
        .enumerate()
        .map(|(i, c)| {
            let middle = match (first, last) {
                (Some(first), Some(last)) => first < i && i < last,
                _ => false,
            };
            (*c, (*c == '*').then_some(middle))
        })
        .collect()
}

/// Whether `value` (a string value, unquoted) has a middle star.
pub(super) fn has_middle_star(value: &str) -> bool {
    stars(value).iter().any(|(_, star)| *star == Some(true))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn middle_stars() {
        for (value, middle) in [
            ("Ev*ent", true),
            ("*Unauthorized*Operation", true),
            ("Console*Login", true),
            ("*", false),
            ("**", false),
            ("***", false),
            ("**Event", false),
            ("Event**", false),
            ("a**b", true),
            ("*a*", false),
            ("**a*b**", true),
            ("*Event*", false),
            ("AccessDenied*", false),
            ("*UnauthorizedOperation", false),
            ("a*", false),
            ("é*é", true),
            ("", false),
        ] {
            assert_eq!(has_middle_star(value), middle, "{value}");
        }
    }

    #[test]
    fn all_readings_distinct_documented_first() {
        assert_eq!(Reading::ALL[0], Reading::DOCUMENTED);
        let mut all: Vec<Reading> = Reading::all().collect();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), 4);
        assert_eq!(Reading::all().filter(|r| r.is_documented()).count(), 1);
    }

    #[test]
    fn display_and_serde() {
        assert_eq!(
            Reading::DOCUMENTED.to_string(),
            "a `*` inside a value is a literal character; `!=` does not match a missing or null field (documented)"
        );
        let last = Reading::ALL[3];
        assert_eq!(
            last.to_string(),
            "a `*` inside a value is a wildcard; `!=` matches a missing or null field"
        );
        assert_eq!(
            serde_json::to_string(&Reading::DOCUMENTED).unwrap(),
            r#"{"middle_star":"literal","not_equal_on_missing":"no_match"}"#
        );
    }
}
