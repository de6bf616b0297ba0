//! Recursive-descent parser for JSON filter patterns.
//!
//! Scannerless: what a run of characters means (value, keyword, selector)
//! depends on where it appears, so the parser reads characters directly.

use super::ast::{Atom, Expr, NumOp, Number, Pattern, Pred, RegexValue, Selector, Step};

/// Why a pattern failed to parse: byte offset, what was expected there and a
/// short description of what was found.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("at byte {position}: expected {expected}, found {found}")]
pub struct ParseError {
    pub position: usize,
    pub expected: String,
    pub found: String,
}

/// Deep nesting would otherwise recurse without bound (stack overflow is a
/// crash, not an error); real patterns are at most 1,024 characters anyway.
const MAX_DEPTH: usize = 100;
/// CloudWatch Logs allows at most two regular expressions per pattern.
const MAX_REGEXES: usize = 2;
/// Keeps compiling a hostile regex cheap.
const REGEX_SIZE_LIMIT: usize = 1 << 20;

/// Parses a JSON filter pattern such as `{ ($.eventName = ConsoleLogin) }`.
pub fn parse(source: &str) -> Result<Pattern, ParseError> {
    let mut parser = Parser {
        src: source,
        pos: 0,
        depth: 0,
        regexes: 0,
    };
    parser.skip_ws();
    if !parser.eat('{') {
        return Err(parser.error("`{`"));
    }
    let expr = parser.parse_or()?;
    parser.skip_ws();
    if !parser.eat('}') {
        return Err(parser.error("`&&`, `||` or `}`"));
    }
    parser.skip_ws();
    if parser.peek().is_some() {
        return Err(parser.error("end of input after `}`"));
    }
    Ok(Pattern { expr })
}

struct Parser<'a> {
    src: &'a str,
    /// Always on a char boundary.
    pos: usize,
    depth: usize,
    regexes: usize,
}

/// Characters that end an unquoted value (besides whitespace).
pub(super) fn ends_unquoted(c: char) -> bool {
    c.is_whitespace() || "(){}\"|&=!<>".contains(c)
}

impl<'a> Parser<'a> {
    fn rest(&self) -> &'a str {
        self.src.get(self.pos..).unwrap_or("")
    }

    fn peek(&self) -> Option<char> {
        self.rest().chars().next()
    }

    fn bump(&mut self) -> Option<char> {
        let c = self.peek()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn eat(&mut self, c: char) -> bool {
        self.eat_str(c.encode_utf8(&mut [0; 4]))
    }

    fn eat_str(&mut self, s: &str) -> bool {
        let found = self.rest().starts_with(s);
        if found {
            self.pos += s.len();
        }
        found
    }

    fn take_while(&mut self, keep: impl Fn(char) -> bool) -> &'a str {
        let start = self.pos;
        while self.peek().is_some_and(&keep) {
            self.bump();
        }
        self.src.get(start..self.pos).unwrap_or("")
    }

    fn skip_ws(&mut self) {
        self.take_while(char::is_whitespace);
    }

    fn error(&self, expected: &str) -> ParseError {
        self.error_at(self.pos, expected)
    }

    fn error_at(&self, position: usize, expected: &str) -> ParseError {
        ParseError {
            position,
            expected: expected.to_string(),
            found: describe(self.src, position),
        }
    }

    fn parse_or(&mut self) -> Result<Expr, ParseError> {
        let mut operands = vec![self.parse_and()?];
        loop {
            self.skip_ws();
            if !self.eat_str("||") {
                return Ok(Expr::or(operands));
            }
            operands.push(self.parse_and()?);
        }
    }

    fn parse_and(&mut self) -> Result<Expr, ParseError> {
        let mut operands = vec![self.parse_primary()?];
        loop {
            self.skip_ws();
            if !self.eat_str("&&") {
                return Ok(Expr::and(operands));
            }
            operands.push(self.parse_primary()?);
        }
    }

    fn parse_primary(&mut self) -> Result<Expr, ParseError> {
        self.skip_ws();
        match self.peek() {
            Some('(') => {
                if self.depth >= MAX_DEPTH {
                    return Err(self.error("at most 100 levels of nested parentheses"));
                }
                self.bump();
                self.depth += 1;
                let expr = self.parse_or()?;
                self.skip_ws();
                if !self.eat(')') {
                    return Err(self.error("`&&`, `||` or `)`"));
                }
                self.depth -= 1;
                Ok(expr)
            }
            Some('$') => Ok(Expr::Cmp(self.parse_comparison()?)),
            _ => Err(self.error("selector starting with `$.` or `(`")),
        }
    }

    fn parse_comparison(&mut self) -> Result<Atom, ParseError> {
        let selector = self.parse_selector()?;
        self.skip_ws();
        let op_start = self.pos;
        // Two-character operators first so `<=` is not read as `<`.
        let ops = [
            ("!=", NumOp::Ne),
            ("<=", NumOp::Le),
            (">=", NumOp::Ge),
            ("=", NumOp::Eq),
            ("<", NumOp::Lt),
            (">", NumOp::Gt),
        ];
        if let Some(&(_, op)) = ops.iter().find(|(text, _)| self.eat_str(text)) {
            let pred = self.parse_value(op)?;
            return Ok(Atom { selector, pred });
        }
        let pred = match self.take_while(|c| c.is_ascii_alphabetic()) {
            "IS" => {
                self.skip_ws();
                let at = self.pos;
                match self.take_while(|c| c.is_ascii_alphabetic()) {
                    "NULL" => Pred::IsNull,
                    "TRUE" => Pred::IsTrue,
                    "FALSE" => Pred::IsFalse,
                    _ => {
                        return Err(self.error_at(
                            at,
                            "`NULL`, `TRUE` or `FALSE` after `IS` (`IS NOT` is not supported)",
                        ))
                    }
                }
            }
            "NOT" => {
                self.skip_ws();
                let at = self.pos;
                if self.take_while(|c| c.is_ascii_alphabetic()) != "EXISTS" {
                    return Err(self.error_at(at, "`EXISTS` after `NOT`"));
                }
                Pred::NotExists
            }
            "EXISTS" => {
                return Err(self.error_at(
                    op_start,
                    "comparison operator, `IS` or `NOT EXISTS` (`EXISTS` alone is not supported)",
                ))
            }
            _ => return Err(self.error_at(op_start, "comparison operator, `IS` or `NOT EXISTS`")),
        };
        Ok(Atom { selector, pred })
    }

    fn parse_selector(&mut self) -> Result<Selector, ParseError> {
        self.bump(); // the `$` the caller saw
        let mut steps = Vec::new();
        loop {
            match self.peek() {
                Some('.') => {
                    self.bump();
                    let name = self.take_while(|c| c.is_alphanumeric() || c == '_' || c == '-');
                    if name.is_empty() {
                        return Err(self.error("field name after `.`"));
                    }
                    steps.push(Step::Field(name.to_string()));
                }
                Some('[') => {
                    self.bump();
                    let at = self.pos;
                    let digits = self.take_while(|c| c.is_ascii_digit());
                    let Ok(index) = digits.parse::<usize>() else {
                        return Err(self.error_at(at, "array index (non-negative integer)"));
                    };
                    if !self.eat(']') {
                        return Err(self.error("`]`"));
                    }
                    steps.push(Step::Index(index));
                }
                _ => break,
            }
        }
        if steps.is_empty() {
            return Err(self.error("selector starting with `$.` (`.field` or `[index]` after `$`)"));
        }
        Ok(Selector(steps))
    }

    fn parse_value(&mut self, op: NumOp) -> Result<Pred, ParseError> {
        self.skip_ws();
        let start = self.pos;
        let string_pred = |parser: &Self, glob: String| match op {
            NumOp::Eq => Ok(Pred::Str {
                negated: false,
                glob,
            }),
            NumOp::Ne => Ok(Pred::Str {
                negated: true,
                glob,
            }),
            _ => Err(parser.error_at(start, &format!("number after `{}`", op.symbol()))),
        };
        match self.peek() {
            Some('"') => {
                let text = self.parse_quoted()?;
                string_pred(self, text)
            }
            Some('%') => self.parse_regex(op),
            _ => {
                let token = self.take_while(|c| !ends_unquoted(c));
                if token.is_empty() {
                    return Err(self.error("value"));
                }
                match token.parse::<f64>() {
                    Ok(value) if is_number(token) => Ok(Pred::Num {
                        op,
                        value: Number {
                            text: token.to_string(),
                            value,
                        },
                    }),
                    _ => string_pred(self, token.to_string()),
                }
            }
        }
    }

    fn parse_quoted(&mut self) -> Result<String, ParseError> {
        let start = self.pos;
        self.bump(); // opening quote
        let mut out = String::new();
        loop {
            match self.bump() {
                Some('"') => return Ok(out),
                Some('\\') => match self.bump() {
                    Some(c @ ('"' | '\\')) => out.push(c),
                    // Other escapes are kept literally rather than guessed at.
                    Some(c) => {
                        out.push('\\');
                        out.push(c);
                    }
                    None => break,
                },
                Some(c) => out.push(c),
                None => break,
            }
        }
        Err(ParseError {
            position: start,
            expected: "closing `\"` (unterminated string)".to_string(),
            found: "end of input".to_string(),
        })
    }

    fn parse_regex(&mut self, op: NumOp) -> Result<Pred, ParseError> {
        let start = self.pos;
        let negated = match op {
            NumOp::Eq => false,
            NumOp::Ne => true,
            _ => return Err(self.error(&format!("number after `{}`", op.symbol()))),
        };
        if self.regexes >= MAX_REGEXES {
            return Err(self.error("at most 2 regular expressions per pattern"));
        }
        self.bump(); // opening `%`
        let mut source = String::new();
        loop {
            match self.bump() {
                Some('%') => break,
                // Backslash pairs stay intact for the regex engine, except
                // `\%`, which only exists to escape the delimiter.
                Some('\\') => match self.bump() {
                    Some('%') => source.push('%'),
                    Some(c) => {
                        source.push('\\');
                        source.push(c);
                    }
                    None => return Err(unterminated_regex(start)),
                },
                Some(c) => source.push(c),
                None => return Err(unterminated_regex(start)),
            }
        }
        let regex = regex::RegexBuilder::new(&source)
            .size_limit(REGEX_SIZE_LIMIT)
            .build()
            .map_err(|e| ParseError {
                position: start,
                expected: "valid regular expression".to_string(),
                found: format!("`%{source}%` ({})", short_regex_error(&e)),
            })?;
        self.regexes += 1;
        Ok(Pred::Regex {
            negated,
            regex: RegexValue { source, regex },
        })
    }
}

fn unterminated_regex(start: usize) -> ParseError {
    ParseError {
        position: start,
        expected: "closing `%` (unterminated regular expression)".to_string(),
        found: "end of input".to_string(),
    }
}

/// The regex crate's messages are multi-line with a caret diagram; the last
/// line carries the reason.
fn short_regex_error(error: &regex::Error) -> String {
    let text = error.to_string();
    let last = text.lines().last().unwrap_or("").trim();
    last.strip_prefix("error: ").unwrap_or(last).to_string()
}

/// `-?digits(.digits)?([eE][+-]?digits)?`
pub(super) fn is_number(s: &str) -> bool {
    fn digits(b: &[u8], i: &mut usize) -> bool {
        let start = *i;
        while b.get(*i).is_some_and(u8::is_ascii_digit) {
            *i += 1;
        }
        *i > start
    }
    let b = s.as_bytes();
    let mut i = 0;
    if b.first() == Some(&b'-') {
        i += 1;
    }
    if !digits(b, &mut i) {
        return false;
    }
    if b.get(i) == Some(&b'.') {
        i += 1;
        if !digits(b, &mut i) {
            return false;
        }
    }
    if matches!(b.get(i), Some(b'e' | b'E')) {
        i += 1;
        if matches!(b.get(i), Some(b'+' | b'-')) {
            i += 1;
        }
        if !digits(b, &mut i) {
            return false;
        }
    }
    i == b.len()
}

/// Short description of the input at `pos`: a word, a two-character operator,
/// one character, or "end of input".
fn describe(src: &str, pos: usize) -> String {
    const MAX_CHARS: usize = 24;
    let rest = src.get(pos..).unwrap_or("");
    let Some(first) = rest.chars().next() else {
        return "end of input".to_string();
    };
    let in_word = |c: char| !ends_unquoted(c) && c != '[' && c != ']';
    let token: String = if in_word(first) {
        rest.chars().take_while(|c| in_word(*c)).collect()
    } else if ["&&", "||", "!=", "<=", ">="]
        .iter()
        .any(|op| rest.starts_with(op))
    {
        rest.chars().take(2).collect()
    } else if first.is_whitespace() {
        return "whitespace".to_string();
    } else {
        first.to_string()
    };
    if token.chars().count() > MAX_CHARS {
        let short: String = token.chars().take(MAX_CHARS).collect();
        format!("`{short}…`")
    } else {
        format!("`{token}`")
    }
}

#[cfg(test)]
mod tests {
    use super::super::ast::{Expr, NumOp, Pred, Step};
    use super::super::testdata::CIS_PATTERNS;
    use super::*;

    fn err(src: &str) -> ParseError {
        parse(src).unwrap_err()
    }

    fn single(src: &str) -> Atom {
        match parse(src).unwrap().expr {
            Expr::Cmp(c) => c,
            other => panic!("not a single comparison: {other:?}"),
        }
    }

    #[test]
    fn parses_every_cis_pattern() {
        for src in CIS_PATTERNS {
            let p = parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
            assert_eq!(parse(&p.canonical()).unwrap(), p, "{src}");
        }
    }

    #[test]
    fn selectors() {
        let c = single("{ $.list[1].id-x_2[0][12] = 1 }");
        assert_eq!(
            c.selector.0,
            vec![
                Step::Field("list".into()),
                Step::Index(1),
                Step::Field("id-x_2".into()),
                Step::Index(0),
                Step::Index(12),
            ]
        );
        assert_eq!(single("{$[0]=1}").selector.0, vec![Step::Index(0)]);
    }

    #[test]
    fn operators_and_values() {
        let num = |src: &str| match single(src).pred {
            Pred::Num { op, value } => (op, value.value),
            other => panic!("{other:?}"),
        };
        assert_eq!(num("{$.a<=-2.5}"), (NumOp::Le, -2.5));
        assert_eq!(num("{$.a >= 1e+3}"), (NumOp::Ge, 1000.0));
        assert_eq!(num("{$.a<1E-2}"), (NumOp::Lt, 0.01));
        assert_eq!(num("{$.a > 0}"), (NumOp::Gt, 0.0));
        assert_eq!(num("{$.a = 5}"), (NumOp::Eq, 5.0));
        assert_eq!(num("{$.a != 5}"), (NumOp::Ne, 5.0));
        let string = |src: &str| match single(src).pred {
            Pred::Str { negated, glob } => (negated, glob),
            other => panic!("{other:?}"),
        };
        assert_eq!(string(r#"{$.a = "5"}"#), (false, "5".into()));
        assert_eq!(
            string(r#"{$.a != "a\"b\\c\n"}"#),
            (true, r#"a"b\c\n"#.into())
        );
        assert_eq!(string("{$.a=123.123.*}"), (false, "123.123.*".into()));
        assert_eq!(string("{$.a=1.}"), (false, "1.".into()));
        assert_eq!(
            string("{$.a=kms.amazonaws.com}"),
            (false, "kms.amazonaws.com".into())
        );
        assert_eq!(string(r#"{$.a = ""}"#), (false, String::new()));
        for (src, pred) in [
            ("{$.a IS NULL}", Pred::IsNull),
            ("{$.a\tIS\nTRUE}", Pred::IsTrue),
            ("{$.a IS FALSE}", Pred::IsFalse),
            ("{$.a NOT  EXISTS}", Pred::NotExists),
        ] {
            assert_eq!(single(src).pred, pred, "{src}");
        }
        match single(r"{$.a != %^ab\d+%}").pred {
            Pred::Regex { negated, regex } => {
                assert!(negated);
                assert_eq!(regex.source, r"^ab\d+");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn quoting_does_not_change_the_pattern() {
        assert_eq!(
            parse("{ $.eventName = ConsoleLogin }").unwrap(),
            parse(r#"{($.eventName="ConsoleLogin")}"#).unwrap()
        );
        assert_ne!(
            parse("{$.a = 5}").unwrap(),
            parse(r#"{$.a = "5"}"#).unwrap()
        );
    }

    #[test]
    fn precedence_and_parentheses() {
        let p = parse("{ $.a=1 || $.b=2 && $.c=3 }").unwrap();
        assert!(
            matches!(&p.expr, Expr::Or(ops) if ops.len() == 2 && matches!(ops[1], Expr::And(_)))
        );
        let q = parse("{ (($.a=1 || ($.b=2)) || $.c=3) }").unwrap();
        assert!(matches!(&q.expr, Expr::Or(ops) if ops.len() == 3));
        let r = parse("{ ($.a=1 || $.b=2) && $.c=3 }").unwrap();
        assert!(matches!(&r.expr, Expr::And(ops) if matches!(ops[0], Expr::Or(_))));
    }

    #[test]
    fn whitespace_anywhere_between_tokens() {
        let p = parse(" \n\t{\n(\t$.a\n=\n\"x\"\n)\n&&\n$.b\nNOT\nEXISTS }\n ").unwrap();
        assert_eq!(p, parse(r#"{($.a="x")&&($.b NOT EXISTS)}"#).unwrap());
    }

    #[test]
    fn error_positions_and_messages() {
        const SEL: &str = "selector starting with `$.` or `(`";
        const CMP: &str = "comparison operator, `IS` or `NOT EXISTS`";
        const NEXT: &str = "`&&`, `||` or `}`";
        const EOI: &str = "end of input";
        const INDEX: &str = "array index (non-negative integer)";
        const BARE: &str = "selector starting with `$.` (`.field` or `[index]` after `$`)";
        const EXISTS: &str =
            "comparison operator, `IS` or `NOT EXISTS` (`EXISTS` alone is not supported)";
        const IS_NOT: &str = "`NULL`, `TRUE` or `FALSE` after `IS` (`IS NOT` is not supported)";
        let cases: &[(&str, usize, &str, &str)] = &[
            ("", 0, "`{`", EOI),
            ("   ", 3, "`{`", EOI),
            ("{}", 1, SEL, "`}`"),
            ("{ $.a = 1 ", 10, NEXT, EOI),
            ("{ $.a = 1 & $.b = 2 }", 10, NEXT, "`&`"),
            ("{ ($.a = 1 }", 11, "`&&`, `||` or `)`", "`}`"),
            ("{ $.a = 1 }) ", 11, "end of input after `}`", "`)`"),
            ("{ $.a = 1 } x", 12, "end of input after `}`", "`x`"),
            ("{ $ = 1 }", 3, BARE, "whitespace"),
            ("{ a = 1 }", 2, SEL, "`a`"),
            ("{ $. = 1 }", 4, "field name after `.`", "whitespace"),
            ("{ $.a[x] = 1 }", 6, INDEX, "`x`"),
            ("{ $.a[-1] = 1 }", 6, INDEX, "`-1`"),
            ("{ $.a[1 = 1 }", 7, "`]`", "whitespace"),
            ("{ $.a == 1 }", 7, "value", "`=`"),
            ("{ $.a = }", 8, "value", "`}`"),
            ("{ $.a ! 1 }", 6, CMP, "`!`"),
            ("{ $.a 1 }", 6, CMP, "`1`"),
            ("{ $.a is null }", 6, CMP, "`is`"),
            ("{ $.a EXISTS }", 6, EXISTS, "`EXISTS`"),
            ("{ $.a IS NOT NULL }", 9, IS_NOT, "`NOT`"),
            ("{ $.a NOT NULL }", 10, "`EXISTS` after `NOT`", "`NULL`"),
            ("{ $.a < abc }", 8, "number after `<`", "`abc`"),
            ("{ $.a >= \"5\" }", 9, "number after `>=`", "`\"`"),
            ("{ $.a > %x% }", 8, "number after `>`", "`%x%`"),
            (
                "{ $.a = \"abc }",
                8,
                "closing `\"` (unterminated string)",
                EOI,
            ),
            (
                "{ $.a = %abc\\% }",
                8,
                "closing `%` (unterminated regular expression)",
                EOI,
            ),
            ("{ $.a = 1 && }", 13, SEL, "`}`"),
            ("{ $.a = 1 ||| $.b = 2 }", 12, SEL, "`|`"),
            ("{ $.a = b c }", 10, NEXT, "`c`"),
        ];
        for &(src, position, expected, found) in cases {
            let e = err(src);
            let got = (e.position, e.expected.as_str(), e.found.as_str());
            assert_eq!(got, (position, expected, found), "{src}");
        }
    }

    #[test]
    fn error_display() {
        assert_eq!(
            err("{ $.a = 1 & $.b = 2 }").to_string(),
            "at byte 10: expected `&&`, `||` or `}`, found `&`"
        );
    }

    #[test]
    fn regex_limits_and_errors() {
        assert!(parse("{ $.a = %a% || $.b != %b% }").is_ok());
        let e = err("{ $.a = %a% || $.b = %b% || $.c = %c% }");
        assert_eq!(
            (e.position, e.expected.as_str()),
            (34, "at most 2 regular expressions per pattern")
        );
        let e = err("{ $.a = %(% }");
        assert_eq!(
            (e.position, e.expected.as_str()),
            (8, "valid regular expression")
        );
        assert!(e.found.starts_with("`%(%` ("), "{}", e.found);
    }

    #[test]
    fn nesting_is_bounded() {
        let ok = format!("{{ {}$.a = 1{} }}", "(".repeat(100), ")".repeat(100));
        assert!(parse(&ok).is_ok());
        let deep = format!("{{ {}$.a = 1{} }}", "(".repeat(5000), ")".repeat(5000));
        assert_eq!(
            err(&deep).expected,
            "at most 100 levels of nested parentheses"
        );
    }

    #[test]
    fn long_tokens_are_truncated_in_errors() {
        let e = err(&format!("{{ $.a {} }}", "x".repeat(100)));
        assert_eq!(e.found, format!("`{}…`", "x".repeat(24)));
        assert_eq!(err("{ $.a = 1 } é").found, "`é`");
    }

    #[test]
    fn number_syntax() {
        for yes in ["0", "-1", "2.5", "1e3", "1E+3", "-0.5e-10", "007"] {
            assert!(is_number(yes), "{yes}");
        }
        for no in [
            "", "-", "1.", ".5", "1e", "1e+", "+1", "1.2.3", "0x10", "inf", "NaN", "1_0",
        ] {
            assert!(!is_number(no), "{no}");
        }
    }
}
