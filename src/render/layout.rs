//! Lines that fit: every text view wraps to the terminal's width (100 columns outside one),
//! continuation lines indented under their first, and colour applied per physical line so that
//! every line ends its colour before its newline (pagers show lines alone).
//!
//! Everything laid out here is escaped first ([`crate::term`]): a control character or bidi
//! override from AWS or a file is shown as `\x1b` or `\u{202e}`, and only the colours painted
//! afterwards, cis-fix's own, reach the terminal.

use anstyle::Style;

/// Width outside a terminal: wide enough for an ARN and its context, narrow enough to read.
pub const DEFAULT_WIDTH: usize = 100;

/// The width to lay out stdout for: the terminal's, or [`DEFAULT_WIDTH`].
pub fn stdout_width() -> usize {
    use std::io::IsTerminal;
    if std::io::stdout().is_terminal() {
        textwrap::termwidth().max(40)
    } else {
        DEFAULT_WIDTH
    }
}

/// The width to lay out a message on stderr for: the terminal's, when stderr is one. `None`
/// off a terminal, where a message stays one line for a log or `grep`.
pub fn stderr_width() -> Option<usize> {
    use std::io::IsTerminal;
    std::io::stderr()
        .is_terminal()
        .then(|| textwrap::termwidth().max(40))
}

/// `text` as stderr shows it: escaped but for its line ends, and wrapped as [`wrap_lines`]
/// does when stderr is a terminal ([`stderr_width`]).
pub fn for_stderr(text: &str) -> String {
    match stderr_width() {
        Some(width) => wrap_lines(text, width),
        None => crate::term::escape_lines(text).into_owned(),
    }
}

/// Colours, or none.
#[derive(Debug, Clone, Copy)]
pub struct Painter(pub bool);

impl Painter {
    pub fn paint(&self, style: Style, text: &str) -> String {
        if self.0 && !text.is_empty() {
            format!("{}{text}{}", style.render(), style.render_reset())
        } else {
            text.to_string()
        }
    }
}

/// A text being laid out at one width.
pub struct Page {
    pub width: usize,
    pub painter: Painter,
    out: String,
}

impl Page {
    pub fn new(width: usize, painter: Painter) -> Page {
        Page {
            width: width.max(20),
            painter,
            out: String::new(),
        }
    }

    pub fn blank(&mut self) {
        self.out.push('\n');
    }

    /// `text` at `indent`, wrapped; continuation lines `hang` columns further in. `style`
    /// colours the whole text, line by line.
    pub fn line(&mut self, indent: usize, hang: usize, text: &str, style: Option<Style>) {
        self.styled_prefix(indent, hang, "", None, text, style);
    }

    /// A line that starts with a coloured token (`+`, a status word), then `text`.
    pub fn styled_prefix(
        &mut self,
        indent: usize,
        hang: usize,
        prefix: &str,
        prefix_style: Option<Style>,
        text: &str,
        style: Option<Style>,
    ) {
        let prefix = crate::term::escape(prefix);
        let text = crate::term::escape(text);
        self.lay_out(indent, hang, &prefix, prefix_style, &text, style);
    }

    /// [`Page::styled_prefix`] for text already escaped (and perhaps painted: textwrap measures
    /// without the colours).
    fn lay_out(
        &mut self,
        indent: usize,
        hang: usize,
        prefix: &str,
        prefix_style: Option<Style>,
        text: &str,
        style: Option<Style>,
    ) {
        let first = " ".repeat(indent);
        let rest = " ".repeat(indent + hang);
        let whole = format!("{prefix}{text}");
        let options = textwrap::Options::new(self.width)
            .initial_indent(&first)
            .subsequent_indent(&rest)
            // An ARN or a pattern longer than the line stays whole: broken, it could not be
            // copied.
            .break_words(false)
            .word_separator(textwrap::WordSeparator::AsciiSpace)
            // Never past the width to even out the lines (optimal fit may).
            .wrap_algorithm(textwrap::WrapAlgorithm::FirstFit)
            .word_splitter(textwrap::WordSplitter::NoHyphenation);
        for (index, physical) in textwrap::wrap(&whole, &options).iter().enumerate() {
            let (lead, body) = physical.split_at(physical.len() - physical.trim_start().len());
            let paint = |style: Option<Style>, text: &str| match style {
                Some(s) => self.painter.paint(s, text),
                None => text.to_string(),
            };
            let body = if index == 0 && !prefix.is_empty() {
                match body.strip_prefix(prefix) {
                    Some(after) => {
                        format!("{}{}", paint(prefix_style, prefix), paint(style, after))
                    }
                    // The prefix and the first word did not fit: the first line holds (part
                    // of) the prefix alone, its trailing space trimmed.
                    None if prefix.starts_with(body) => paint(prefix_style, body),
                    None => paint(style, body),
                }
            } else {
                match style {
                    Some(s) => self.painter.paint(s, body),
                    None => body.to_string(),
                }
            };
            self.out.push_str(lead);
            self.out.push_str(&body);
            self.out.push('\n');
        }
    }

    /// `label`, then `json` (compact JSON, an event to copy) kept on one physical line: after
    /// the label when both fit, else alone on the next line `hang` columns further in. Too
    /// long even there, its spaces (all inside strings in compact JSON) are written `\u0020`,
    /// the same JSON value, so it is one unbreakable token that no later wrapping cuts.
    pub fn labelled_json(&mut self, indent: usize, hang: usize, label: &str, json: &str) {
        let json = crate::term::escape_json(json);
        let json = json.as_ref();
        let label = crate::term::escape(label);
        let label = label.as_ref();
        let whole = format!("{}{label} {json}", " ".repeat(indent));
        if textwrap::core::display_width(&whole) <= self.width {
            self.out.push_str(&whole);
            self.out.push('\n');
            return;
        }
        self.line(indent, hang, label, None);
        let lead = " ".repeat(indent + hang);
        let room = self.width.saturating_sub(indent + hang);
        self.out.push_str(&lead);
        if textwrap::core::display_width(json) <= room {
            self.out.push_str(json);
        } else {
            self.out.push_str(&json.replace(' ', "\\u0020"));
        }
        self.out.push('\n');
    }

    /// `text` at `indent` on one physical line however long, escaped: a command to copy,
    /// which a line break would cut.
    pub fn whole(&mut self, indent: usize, text: &str) {
        self.out.push_str(&" ".repeat(indent));
        self.out.push_str(&crate::term::escape(text));
        self.out.push('\n');
    }

    /// A line kept to one physical line: cut at the width with `…` (table rows).
    pub fn row(&mut self, text: &str, painted: impl FnOnce(&str) -> String) {
        let fitted = fit(&crate::term::escape(text), self.width);
        self.out.push_str(&painted(&fitted));
        self.out.push('\n');
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// Wraps every line of an already written `text` to `width`, each continuation indented four
/// columns under its line. For text without colours: every control character but the line
/// ends is escaped. (A view with colours uses [`wrap_painted`], or [`Page`].)
pub fn wrap_lines(text: &str, width: usize) -> String {
    wrap_escaped(&crate::term::escape_lines(text), width)
}

/// The escape sequences of the styles cis-fix paints (render's green, red, yellow, bold and
/// dim) and of their reset: the only ones a painted text may carry.
const OWN_SEQUENCES: [&str; 6] = [
    "\u{1b}[0m",
    "\u{1b}[1m",
    "\u{1b}[2m",
    "\u{1b}[31m",
    "\u{1b}[32m",
    "\u{1b}[33m",
];

/// [`wrap_lines`] for a text that `painter` coloured before it was laid out, on short tokens
/// only (a cut never falls inside one), so every line still ends its colour before its
/// newline. When it paints, the sequences of cis-fix's own styles are kept; every other
/// control character but the line ends is escaped. Data written into such a text is escaped
/// where it is formatted ([`crate::term::escape`]): here it could still carry one of these
/// colours, though nothing that hides or moves text.
pub fn wrap_painted(text: &str, width: usize, painter: Painter) -> String {
    if !painter.0 {
        return wrap_lines(text, width);
    }
    let mut kept = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('\u{1b}') {
        let (before, tail) = rest.split_at(at);
        kept.push_str(&crate::term::escape_lines(before));
        // ESC is one byte: what follows it, or an own sequence, starts on a boundary.
        let (shown, taken) = match OWN_SEQUENCES.iter().find(|s| tail.starts_with(**s)) {
            Some(own) => (*own, own.len()),
            None => ("\\x1b", 1),
        };
        kept.push_str(shown);
        rest = tail.get(taken..).unwrap_or_default();
    }
    kept.push_str(&crate::term::escape_lines(rest));
    wrap_escaped(&kept, width)
}

/// The wrapping of [`wrap_lines`], for text already escaped.
fn wrap_escaped(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if textwrap::core::display_width(line) <= width {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let mut page = Page::new(width, Painter(false));
        page.lay_out(indent, 4, "", None, line.trim_start(), None);
        out.push_str(&page.finish());
    }
    out
}

/// `text` cut to `width` display columns, with `…` where it was cut.
pub fn fit(text: &str, width: usize) -> String {
    if textwrap::core::display_width(text) <= width {
        return text.to_string();
    }
    let mut out = String::new();
    let mut used = 0;
    for c in text.chars() {
        let w = textwrap::core::display_width(c.encode_utf8(&mut [0; 4]));
        if used + w + 1 > width {
            break;
        }
        out.push(c);
        used += w;
    }
    out.push('…');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prefix_whose_first_word_does_not_fit_is_written_once() {
        let long = "arn:aws:sns:us-east-1:123456789012:security-alerts";
        let mut page = Page::new(20, Painter(false));
        page.styled_prefix(2, 4, "+ ", Some(GREEN_FOR_TESTS), long, None);
        assert_eq!(page.finish(), format!("  +\n      {long}\n"));
        // Painted, the prefix alone is coloured and the text is not.
        let mut page = Page::new(20, Painter(true));
        page.styled_prefix(2, 4, "+ ", Some(GREEN_FOR_TESTS), long, None);
        let painted = page.finish();
        assert_eq!(painted.matches('+').count(), 1, "{painted:?}");
        assert!(
            painted.starts_with(&format!("  {}", Painter(true).paint(GREEN_FOR_TESTS, "+"))),
            "{painted:?}"
        );
    }

    const GREEN_FOR_TESTS: Style = anstyle::AnsiColor::Green.on_default();

    #[test]
    fn wraps_with_a_hanging_indent_and_keeps_long_tokens_whole() {
        let mut page = Page::new(30, Painter(false));
        page.line(
            2,
            4,
            "alarm on CISBenchmark/RootUsage notifying arn:aws:sns:us-east-1:123456789012:security-alerts now",
            None,
        );
        let text = page.finish();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines[0], "  alarm on");
        assert!(lines[1].starts_with("      CISBenchmark/RootUsage"));
        assert!(lines
            .iter()
            .any(|l| l.trim() == "arn:aws:sns:us-east-1:123456789012:security-alerts"));
        for l in &lines {
            assert!(l.chars().count() <= 30 || !l.trim().contains(' '), "{l}");
        }
    }

    #[test]
    fn colour_ends_before_every_newline() {
        let mut page = Page::new(20, Painter(true));
        page.styled_prefix(
            2,
            2,
            "+ ",
            Some(anstyle::AnsiColor::Green.on_default()),
            "one two three four five six seven",
            Some(Style::new().dimmed()),
        );
        let text = page.finish();
        for line in text.lines() {
            assert!(line.ends_with("\u{1b}[0m"), "{line:?}");
        }
    }

    #[test]
    fn written_text_is_wrapped_line_by_line_under_its_indent() {
        let text = "short\n    a long line of several words that goes on\n";
        let wrapped = wrap_lines(text, 24);
        assert_eq!(
            wrapped,
            "short\n    a long line of\n        several words\n        that goes on\n"
        );
    }

    #[test]
    fn json_stays_on_one_line() {
        let json = r#"{"eventName":"ConsoleLogin","errorMessage":"Failed authentication"}"#;
        let label = "counterexample:";
        let mut page = Page::new(100, Painter(false));
        page.labelled_json(6, 4, label, json);
        assert_eq!(page.finish(), format!("      {label} {json}\n"));
        let mut page = Page::new(85, Painter(false));
        page.labelled_json(6, 4, label, json);
        assert_eq!(page.finish(), format!("      {label}\n          {json}\n"));
        let mut page = Page::new(40, Painter(false));
        page.labelled_json(6, 4, label, json);
        let text = page.finish();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 2, "{text}");
        assert_eq!(lines[1].split_whitespace().count(), 1, "{text}");
        let event: serde_json::Value = serde_json::from_str(lines[1].trim()).unwrap();
        assert_eq!(event["errorMessage"], "Failed authentication");
    }

    /// `text` without cis-fix's own colour sequences.
    fn unpainted(text: &str) -> String {
        OWN_SEQUENCES
            .iter()
            .fold(text.to_string(), |t, own| t.replace(own, ""))
    }

    #[test]
    fn own_sequences_are_those_the_painter_writes() {
        use super::super::{BOLD, DIM, GREEN, RED, YELLOW};
        for style in [GREEN, RED, YELLOW, BOLD, DIM] {
            assert_eq!(
                unpainted(&Painter(true).paint(style, "x")),
                "x",
                "{style:?}"
            );
        }
    }

    #[test]
    fn data_is_escaped_and_only_cis_fixs_colours_are_painted() {
        let data = "filter \u{1b}[8mhidden\u{202e} \u{9b}2J\nforged line";
        let mut page = Page::new(30, Painter(true));
        page.styled_prefix(
            2,
            4,
            "~",
            Some(Style::new().bold()),
            &format!(" {data}"),
            None,
        );
        page.line(2, 4, data, Some(Style::new().dimmed()));
        page.labelled_json(
            2,
            4,
            "event:",
            &serde_json::json!({ "name": data }).to_string(),
        );
        page.row(data, |t| Painter(true).paint(Style::new().bold(), t));
        page.whole(2, data);
        let text = page.finish();
        let plain = unpainted(&text);
        let unsafe_char = |c: char| c != '\n' && crate::term::is_unsafe(c);
        assert!(!plain.chars().any(unsafe_char), "{text:?}");
        assert!(plain.contains("\\x1b[8mhidden\\u{202e}"), "{text:?}");
        // (The row is cut before it.)
        assert_eq!(text.matches("forged line").count(), 3, "{text:?}");
        assert!(!text.lines().any(|l| l.starts_with("forged")), "{text:?}");
        // JSON stays JSON: the same value, written with JSON's escapes.
        let json = plain
            .lines()
            .find(|l| l.trim_start().starts_with('{'))
            .unwrap();
        let value: serde_json::Value = serde_json::from_str(json.trim()).unwrap();
        assert_eq!(value["name"], data);
    }

    #[test]
    fn painted_text_keeps_its_own_colours_and_nothing_else() {
        let painted = format!(
            "{} alarm \u{1b}[8mhidden \u{1b}[31m\u{202e}\n",
            Painter(true).paint(Style::new().bold(), "Drill")
        );
        let shown = wrap_painted(&painted, 100, Painter(true));
        assert_eq!(
            shown,
            "\u{1b}[1mDrill\u{1b}[0m alarm \\x1b[8mhidden \u{1b}[31m\\u{202e}\n"
        );
        // Without colours, nothing passes: not even a sequence that looks like cis-fix's.
        let shown = wrap_painted(&painted, 100, Painter(false));
        assert!(!shown.contains('\u{1b}'), "{shown:?}");
        assert!(!wrap_lines(&painted, 100).contains('\u{1b}'));
    }

    #[test]
    fn rows_are_cut_with_an_ellipsis() {
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abc", 4), "abc");
    }
}
