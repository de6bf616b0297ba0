//! Lines that fit: every text view wraps to the terminal's width (100 columns outside one),
//! continuation lines indented under their first, and colour applied per physical line so that
//! every line ends its colour before its newline (pagers show lines alone).

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
            let body = if index == 0 && !prefix.is_empty() {
                let after = body.strip_prefix(prefix).unwrap_or(body);
                let painted_prefix = match prefix_style {
                    Some(s) => self.painter.paint(s, prefix),
                    None => prefix.to_string(),
                };
                let painted_rest = match style {
                    Some(s) => self.painter.paint(s, after),
                    None => after.to_string(),
                };
                format!("{painted_prefix}{painted_rest}")
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

    /// A line kept to one physical line: cut at the width with `…` (table rows).
    pub fn row(&mut self, text: &str, painted: impl FnOnce(&str) -> String) {
        let fitted = fit(text, self.width);
        self.out.push_str(&painted(&fitted));
        self.out.push('\n');
    }

    pub fn finish(self) -> String {
        self.out
    }
}

/// Wraps every line of an already written `text` to `width`, each continuation indented four
/// columns under its line. For views whose colours are on short tokens only (a cut never
/// falls inside one), so every line still ends its colour before its newline.
pub fn wrap_lines(text: &str, width: usize) -> String {
    let mut out = String::with_capacity(text.len());
    for line in text.lines() {
        if textwrap::core::display_width(line) <= width {
            out.push_str(line);
            out.push('\n');
            continue;
        }
        let indent = line.len() - line.trim_start().len();
        let mut page = Page::new(width, Painter(false));
        page.line(indent, 4, line.trim_start(), None);
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

    #[test]
    fn rows_are_cut_with_an_ellipsis() {
        assert_eq!(fit("abcdef", 4), "abc…");
        assert_eq!(fit("abc", 4), "abc");
    }
}
