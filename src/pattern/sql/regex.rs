//! A pattern's `%regex%` rewritten for the SQL engines' regex dialects.
//!
//! cis-fix evaluates a regex with the `regex` crate. DuckDB's `regexp_matches` is RE2; Athena's
//! `regexp_like` is Trino's (Java syntax, run by Joni). The three agree on a core, written
//! here so that each reads it alike: literal characters (punctuation escaped, control
//! characters as `\x{…}`), bracket classes of characters and ranges, alternation, groups,
//! repetitions up to 1,000, and anchors written `\A` and `\z` (Java's `$` also matches before a
//! final newline; the `regex` crate's does not). `.` is written `[^\n]`, which all three read
//! as the `regex` crate reads `.` (Java's `.` also refuses `\r`, `\u{85}`, `\u{2028}`).
//! Everything else is refused, naming the construct: `\d`, `\w`, `\s`, `\b` and `(?i)` are
//! Unicode-aware in the `regex` crate and ASCII-only (or differently folded) in the others,
//! and a query that misses events must not pass for a translation.

use regex_syntax::ast::{
    self, AssertionKind, Ast, ClassSet, ClassSetItem, GroupKind, RepetitionKind, RepetitionRange,
};

/// RE2's largest repetition count.
const MAX_REPEAT: u32 = 1000;

/// The regex in the common core, or what cannot be written in it.
pub(super) fn rewrite(source: &str) -> Result<String, String> {
    let ast = ast::parse::Parser::new()
        .parse(source)
        .map_err(|e| format!("does not parse as a regex: {}", e.kind()))?;
    let mut out = String::new();
    write(&mut out, &ast)?;
    Ok(out)
}

fn write(out: &mut String, ast: &Ast) -> Result<(), String> {
    match ast {
        Ast::Empty(_) => {}
        Ast::Flags(_) => return Err(refused("a flag such as `(?i)`")),
        Ast::Literal(lit) => push_char(out, lit.c),
        Ast::Dot(_) => out.push_str(r"[^\n]"),
        Ast::Assertion(assertion) => match assertion.kind {
            AssertionKind::StartLine | AssertionKind::StartText => out.push_str(r"\A"),
            AssertionKind::EndLine | AssertionKind::EndText => out.push_str(r"\z"),
            _ => return Err(refused("a word boundary such as `\\b`")),
        },
        Ast::ClassUnicode(_) => return Err(refused("a Unicode class such as `\\pL`")),
        Ast::ClassPerl(_) => return Err(perl_class()),
        Ast::ClassBracketed(class) => {
            out.push('[');
            if class.negated {
                out.push('^');
            }
            write_class(out, &class.kind)?;
            out.push(']');
        }
        Ast::Repetition(rep) => {
            out.push_str("(?:");
            write(out, &rep.ast)?;
            out.push(')');
            write_repetition(out, &rep.op.kind)?;
        }
        Ast::Group(group) => {
            if let GroupKind::NonCapturing(flags) = &group.kind {
                if !flags.items.is_empty() {
                    return Err(refused("a flag such as `(?i:…)`"));
                }
            }
            out.push_str("(?:");
            write(out, &group.ast)?;
            out.push(')');
        }
        Ast::Alternation(alt) => {
            for (i, branch) in alt.asts.iter().enumerate() {
                if i > 0 {
                    out.push('|');
                }
                write(out, branch)?;
            }
        }
        Ast::Concat(concat) => {
            for part in &concat.asts {
                write(out, part)?;
            }
        }
    }
    Ok(())
}

fn write_repetition(out: &mut String, kind: &RepetitionKind) -> Result<(), String> {
    let too_many = |n: u32| {
        (n > MAX_REPEAT).then(|| format!("a repetition count over {MAX_REPEAT} (RE2's limit)"))
    };
    let text = match kind {
        RepetitionKind::ZeroOrOne => "?".to_string(),
        RepetitionKind::ZeroOrMore => "*".to_string(),
        RepetitionKind::OneOrMore => "+".to_string(),
        RepetitionKind::Range(RepetitionRange::Exactly(n)) => format!("{{{n}}}"),
        RepetitionKind::Range(RepetitionRange::AtLeast(n)) => format!("{{{n},}}"),
        RepetitionKind::Range(RepetitionRange::Bounded(m, n)) => format!("{{{m},{n}}}"),
    };
    let largest = match kind {
        RepetitionKind::Range(RepetitionRange::Exactly(n) | RepetitionRange::AtLeast(n)) => *n,
        RepetitionKind::Range(RepetitionRange::Bounded(_, n)) => *n,
        _ => 0,
    };
    if let Some(reason) = too_many(largest) {
        return Err(refused(&reason));
    }
    // A lazy repetition finds a match exactly where a greedy one does: it is written greedy.
    out.push_str(&text);
    Ok(())
}

fn write_class(out: &mut String, set: &ClassSet) -> Result<(), String> {
    let ClassSet::Item(item) = set else {
        return Err(refused("a class operation such as `&&` or `--`"));
    };
    write_class_item(out, item)
}

fn write_class_item(out: &mut String, item: &ClassSetItem) -> Result<(), String> {
    match item {
        ClassSetItem::Empty(_) => {}
        ClassSetItem::Literal(lit) => push_char(out, lit.c),
        ClassSetItem::Range(range) => {
            push_char(out, range.start.c);
            out.push('-');
            push_char(out, range.end.c);
        }
        ClassSetItem::Ascii(_) => return Err(refused("an ASCII class such as `[:alpha:]`")),
        ClassSetItem::Unicode(_) => return Err(refused("a Unicode class such as `\\pL`")),
        ClassSetItem::Perl(_) => return Err(perl_class()),
        ClassSetItem::Bracketed(_) => return Err(refused("a nested class")),
        ClassSetItem::Union(union) => {
            for inner in &union.items {
                write_class_item(out, inner)?;
            }
        }
    }
    Ok(())
}

/// A character as all three read it literally, in a class or out of one: ASCII punctuation
/// escaped (Java's `&&` and `[` in classes included), control characters by code point.
fn push_char(out: &mut String, c: char) {
    match c {
        '\n' => out.push_str(r"\n"),
        '\t' => out.push_str(r"\t"),
        c if c.is_ascii_punctuation() && c != '_' => {
            out.push('\\');
            out.push(c);
        }
        c if c.is_control() || is_invisible(c) => out.push_str(&format!("\\x{{{:X}}}", c as u32)),
        c => out.push(c),
    }
}

/// Characters a reader of the query could not see or that reorder its text.
fn is_invisible(c: char) -> bool {
    matches!(c, '\u{2028}' | '\u{2029}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}' | '\u{FEFF}')
}

fn perl_class() -> String {
    "`\\d`, `\\w` and `\\s` match Unicode digits, letters and spaces in cis-fix's regex (Rust's) and ASCII ones in DuckDB's (RE2) and Athena's (Java): write the class out, e.g. `[0-9]`".into()
}

fn refused(what: &str) -> String {
    format!(
        "{what} is not read alike by cis-fix's regex (Rust's), DuckDB's (RE2) and Athena's (Java)"
    )
}

#[cfg(test)]
mod tests {
    use super::rewrite;

    #[test]
    fn the_common_core_is_written_for_every_engine() {
        for (source, expected) in [
            (r"^10\.", r"\A10\."),
            (r"2\.3$", r"2\.3\z"),
            ("a.b", r"a[^\n]b"),
            ("[a-z0-9_-]+", r"(?:[a-z0-9_\-])+"),
            ("[^&]", r"[^\&]"),
            ("(ab|c)*?", "(?:(?:ab|c))*"),
            ("x{2,5}", "(?:x){2,5}"),
            ("é", "é"),
            ("a\tb", r"a\tb"),
            ("\u{1}", r"\x{1}"),
            ("", ""),
            ("(?:a)", "(?:a)"),
        ] {
            assert_eq!(rewrite(source).as_deref(), Ok(expected), "{source}");
        }
    }

    #[test]
    fn what_the_engines_read_otherwise_is_refused() {
        for (source, says) in [
            (r"\d+", "`\\d`"),
            (r"[\w]", "`\\w`"),
            ("(?i)root", "flag"),
            ("(?i:root)", "flag"),
            (r"\bx", "word boundary"),
            (r"\pL", "Unicode class"),
            ("[[:alpha:]]", "ASCII class"),
            ("[a-z&&[^aeiou]]", "class operation"),
            ("x{1001}", "over 1000"),
            ("(", "does not parse"),
        ] {
            let err = rewrite(source).unwrap_err();
            assert!(err.contains(says), "{source}: {err}");
        }
    }
}
