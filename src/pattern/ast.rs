//! Syntax tree of a filter pattern and its canonical text.

use std::fmt;

/// A parsed JSON filter pattern.
///
/// Equality is structural on the normalized tree: parentheses and whitespace
/// are not kept and quoted/unquoted spellings of a string are the same value,
/// but operand order and duplicates are (use [`super::compare()`] for meaning).
#[derive(Debug, Clone, PartialEq)]
pub struct Pattern {
    pub(super) expr: Expr,
}

/// Boolean structure. Built through [`Expr::and`] / [`Expr::or`], so an `And`
/// never directly holds an `And` (same for `Or`) and never has one operand.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Expr {
    And(Vec<Expr>),
    Or(Vec<Expr>),
    Cmp(Atom),
}

impl Expr {
    pub(super) fn and(children: Vec<Expr>) -> Expr {
        Self::join(children, true)
    }

    pub(super) fn or(children: Vec<Expr>) -> Expr {
        Self::join(children, false)
    }

    /// Flattens nested operators of the same kind so that redundant
    /// parentheses never change the tree.
    fn join(children: Vec<Expr>, is_and: bool) -> Expr {
        let mut flat = Vec::with_capacity(children.len());
        for child in children {
            match child {
                Expr::And(inner) if is_and => flat.extend(inner),
                Expr::Or(inner) if !is_and => flat.extend(inner),
                other => flat.push(other),
            }
        }
        if flat.len() == 1 {
            if let Some(only) = flat.pop() {
                return only;
            }
        }
        if is_and {
            Expr::And(flat)
        } else {
            Expr::Or(flat)
        }
    }
}

/// One test on the value a selector resolves to.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Atom {
    pub(super) selector: Selector,
    pub(super) pred: Pred,
}

/// `$` followed by at least one step.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Selector(pub(super) Vec<Step>);

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Step {
    Field(String),
    Index(usize),
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Pred {
    /// `=` (or `!=` when negated) against a `*` glob.
    Str {
        negated: bool,
        glob: String,
    },
    Num {
        op: NumOp,
        value: Number,
    },
    Regex {
        negated: bool,
        regex: RegexValue,
    },
    IsNull,
    IsTrue,
    IsFalse,
    NotExists,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum NumOp {
    Eq,
    Ne,
    Lt,
    Gt,
    Le,
    Ge,
}

impl NumOp {
    pub(super) fn symbol(self) -> &'static str {
        match self {
            NumOp::Eq => "=",
            NumOp::Ne => "!=",
            NumOp::Lt => "<",
            NumOp::Gt => ">",
            NumOp::Le => "<=",
            NumOp::Ge => ">=",
        }
    }

    pub(super) fn holds(self, x: f64, c: f64) -> bool {
        match self {
            NumOp::Eq => x == c,
            NumOp::Ne => x != c,
            NumOp::Lt => x < c,
            NumOp::Gt => x > c,
            NumOp::Le => x <= c,
            NumOp::Ge => x >= c,
        }
    }

    /// The operator holding exactly when `self` fails (values are never NaN).
    pub(super) fn negated(self) -> NumOp {
        match self {
            NumOp::Eq => NumOp::Ne,
            NumOp::Ne => NumOp::Eq,
            NumOp::Lt => NumOp::Ge,
            NumOp::Gt => NumOp::Le,
            NumOp::Le => NumOp::Gt,
            NumOp::Ge => NumOp::Lt,
        }
    }
}

/// A numeric literal; the source text is kept so canonical text round-trips
/// (`value` is a function of `text`, and the grammar excludes NaN).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Number {
    pub(super) text: String,
    pub(super) value: f64,
}

/// A compiled regex; two are equal when their sources are.
#[derive(Debug, Clone)]
pub(super) struct RegexValue {
    pub(super) source: String,
    pub(super) regex: regex::Regex,
}

impl PartialEq for RegexValue {
    fn eq(&self, other: &Self) -> bool {
        self.source == other.source
    }
}

impl RegexValue {
    pub(super) fn is_match(&self, s: &str) -> bool {
        self.regex.is_match(s)
    }
}

impl Pattern {
    /// Normalized one-line text; `parse(&p.canonical()) == Ok(p)`.
    pub fn canonical(&self) -> String {
        let mut out = String::from("{ ");
        write_expr(&mut out, &self.expr, false);
        out.push_str(" }");
        out
    }

    /// The pattern laid out one condition per line: one `||` operand per line, and each `&&`
    /// operand of it on a line of its own, so that a missing or extra condition shows as one
    /// line in a diff. The near-miss diffs and `cis-fix controls` print it.
    pub fn condition_lines(&self) -> Vec<String> {
        let mut lines = Vec::new();
        // The braces are on lines of their own and would make any two patterns look alike.
        for line in self
            .display_lines()
            .into_iter()
            .filter(|l| l != "{" && l != "}")
        {
            let mut parts = line.split(" && ");
            if let Some(first) = parts.next() {
                lines.push(first.to_string());
            }
            lines.extend(parts.map(|part| format!("   && {part}")));
        }
        lines
    }

    /// Canonical text split for a line diff: `{`, one line per top-level `||`
    /// operand (all but the first prefixed by `|| `), then `}`.
    pub fn display_lines(&self) -> Vec<String> {
        let operands = match &self.expr {
            Expr::Or(children) => children.iter().collect(),
            other => vec![other],
        };
        let mut lines = vec!["{".to_string()];
        for (i, operand) in operands.into_iter().enumerate() {
            let mut line = String::from(if i == 0 { "" } else { "|| " });
            write_expr(&mut line, operand, false);
            lines.push(line);
        }
        lines.push("}".to_string());
        lines
    }
}

impl fmt::Display for Pattern {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.canonical())
    }
}

/// `&&` binds tighter than `||`, so only an `Or` under an `And` needs parentheses.
fn write_expr(out: &mut String, expr: &Expr, in_and: bool) {
    match expr {
        Expr::Cmp(cmp) => {
            out.push('(');
            out.push_str(&cmp.to_string());
            out.push(')');
        }
        Expr::And(children) | Expr::Or(children) => {
            let is_and = matches!(expr, Expr::And(_));
            let wrap = in_and && !is_and;
            if wrap {
                out.push('(');
            }
            for (i, child) in children.iter().enumerate() {
                if i > 0 {
                    out.push_str(if is_and { " && " } else { " || " });
                }
                write_expr(out, child, is_and);
            }
            if wrap {
                out.push(')');
            }
        }
    }
}

impl fmt::Display for Selector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("$")?;
        for step in &self.0 {
            match step {
                Step::Field(name) => write!(f, ".{name}")?,
                Step::Index(i) => write!(f, "[{i}]")?,
            }
        }
        Ok(())
    }
}

impl fmt::Display for Atom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sel = &self.selector;
        let op = |negated: bool| if negated { "!=" } else { "=" };
        match &self.pred {
            Pred::Str { negated, glob } => write!(f, "{sel} {} {}", op(*negated), quote(glob)),
            Pred::Num { op, value } => write!(f, "{sel} {} {}", op.symbol(), value.text),
            Pred::Regex { negated, regex } => {
                write!(f, "{sel} {} {}", op(*negated), regex_literal(&regex.source))
            }
            Pred::IsNull => write!(f, "{sel} IS NULL"),
            Pred::IsTrue => write!(f, "{sel} IS TRUE"),
            Pred::IsFalse => write!(f, "{sel} IS FALSE"),
            Pred::NotExists => write!(f, "{sel} NOT EXISTS"),
        }
    }
}

fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        if c == '"' || c == '\\' {
            out.push('\\');
        }
        out.push(c);
    }
    out.push('"');
    out
}

/// Inverse of the parser's regex scan: a backslash pair is kept as is and a
/// bare `%` (which came from `\%`) is escaped again.
fn regex_literal(source: &str) -> String {
    let mut out = String::from("%");
    let mut chars = source.chars();
    while let Some(c) = chars.next() {
        match c {
            '%' => out.push_str("\\%"),
            '\\' => {
                out.push('\\');
                match chars.next() {
                    Some(next) => out.push(next),
                    None => out.push('\\'),
                }
            }
            other => out.push(other),
        }
    }
    out.push('%');
    out
}

#[cfg(test)]
mod tests {
    use super::super::parse;

    #[test]
    fn canonical_quotes_strings_and_keeps_numbers() {
        let p = parse(r#"{$.a=x&&$.b!="q\"\\"||$.c>=1e+3||$.d[0] IS NULL}"#).unwrap();
        assert_eq!(
            p.canonical(),
            r#"{ ($.a = "x") && ($.b != "q\"\\") || ($.c >= 1e+3) || ($.d[0] IS NULL) }"#
        );
    }

    #[test]
    fn canonical_parenthesises_or_under_and() {
        let p = parse("{ $.a = A && ($.b = B || $.c NOT EXISTS) }").unwrap();
        assert_eq!(
            p.canonical(),
            r#"{ ($.a = "A") && (($.b = "B") || ($.c NOT EXISTS)) }"#
        );
        assert_eq!(parse(&p.canonical()).unwrap(), p);
    }

    #[test]
    fn canonical_of_regex_escapes_percent() {
        let p = parse(r"{ $.a = %a\%b\\% && $.b != %^x$% }").unwrap();
        assert_eq!(p.canonical(), r#"{ ($.a = %a\%b\\%) && ($.b != %^x$%) }"#);
        assert_eq!(parse(&p.canonical()).unwrap(), p);
    }

    #[test]
    fn unauthorized_v1_2_canonical_form() {
        let p =
            parse(r#"{($.errorCode="*UnauthorizedOperation") || ($.errorCode="AccessDenied*")}"#)
                .unwrap();
        assert_eq!(
            p.canonical(),
            r#"{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") }"#
        );
    }

    #[test]
    fn display_lines_split_top_level_or() {
        let p = parse(
            "{ ($.errorCode =*UnauthorizedOperation) || ($.errorCode =AccessDenied*) \
             && ($.eventName!=HeadBucket) }",
        )
        .unwrap();
        assert_eq!(
            p.display_lines(),
            vec![
                "{",
                r#"($.errorCode = "*UnauthorizedOperation")"#,
                r#"|| ($.errorCode = "AccessDenied*") && ($.eventName != "HeadBucket")"#,
                "}",
            ]
        );
        let single = parse("{ $.a IS TRUE && $.b IS FALSE }").unwrap();
        assert_eq!(
            single.display_lines(),
            vec!["{", "($.a IS TRUE) && ($.b IS FALSE)", "}"]
        );
    }

    #[test]
    fn display_matches_canonical() {
        let p = parse("{$.a=1}").unwrap();
        assert_eq!(p.to_string(), p.canonical());
    }
}
