//! What may reach a terminal. Names, patterns, reasons and error texts come from AWS or from a
//! file, and a terminal obeys the control characters in them: `ESC[8m` hides everything after
//! it (the question that asks for `yes` included), a carriage return or a bidi override makes a
//! line read as something else. Text views write such characters as visible escapes (`\x1b`,
//! `\u{202e}`), so that what is shown is what is there.
//!
//! It also owns the one status line on stderr (the progress bar of apply, backout and drill):
//! whoever else prints on stderr while it may be up (a "still waiting" notice, a `-v` line, the
//! Ctrl-C message) goes through [`suspend`], without knowing who drew the bar.
//!
//! A floor module: it imports nothing from the crate. Layout ([`crate::render::layout`])
//! escapes what it is given before cis-fix paints its own colours.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard, PoisonError};

use indicatif::ProgressBar;

/// Whether `c` must not reach a terminal as it is: a C0 control (U+0000–U+001F), DEL, a C1
/// control (U+0080–U+009F), or a bidi control that reorders what follows it (the embeddings,
/// overrides and isolates U+202A–U+202E and U+2066–U+2069, and the marks U+200E, U+200F and
/// U+061C, which are invisible).
pub fn is_unsafe(c: char) -> bool {
    matches!(
        c,
        '\u{0}'..='\u{1f}'
            | '\u{7f}'..='\u{9f}'
            | '\u{202a}'..='\u{202e}'
            | '\u{2066}'..='\u{2069}'
            | '\u{200e}'
            | '\u{200f}'
            | '\u{61c}'
    )
}

/// `text` with every unsafe character, newlines included, written as a visible escape: `\n`,
/// `\r`, `\t`, `\x1b` (other C0 controls and DEL), `\u{9b}` (C1 and bidi controls). For one
/// string from AWS or a file: a newline in a name must not start a line of its own.
pub fn escape(text: &str) -> Cow<'_, str> {
    escape_where(text, is_unsafe)
}

/// [`escape`], keeping line ends: for a whole text whose newlines are cis-fix's own (a
/// message, a question) and whose other characters may come from anywhere.
pub fn escape_lines(text: &str) -> Cow<'_, str> {
    escape_where(text, |c| c != '\n' && is_unsafe(c))
}

/// Compact JSON (whose control characters serde_json already escapes) with the unsafe
/// characters it leaves as they are (C1 and bidi controls, in strings) written as `\uXXXX`:
/// the same JSON value, still valid to copy, and safe to show.
pub fn escape_json(json: &str) -> Cow<'_, str> {
    if !json.chars().any(is_unsafe) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 16);
    for c in json.chars() {
        if is_unsafe(c) {
            let _ = write!(out, "\\u{:04x}", u32::from(c));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

fn escape_where(text: &str, unsafe_here: impl Fn(char) -> bool) -> Cow<'_, str> {
    if !text.chars().any(&unsafe_here) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 16);
    for c in text.chars() {
        if !unsafe_here(c) {
            out.push(c);
            continue;
        }
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{0}'..='\u{7f}' => {
                let _ = write!(out, "\\x{:02x}", u32::from(c));
            }
            _ => {
                let _ = write!(out, "\\u{{{:x}}}", u32::from(c));
            }
        }
    }
    Cow::Owned(out)
}

/// Writes `text` to stderr, as it is. A note, not output: a closed stderr (`cis-fix plan -v
/// 2>&1 | head`) is no reason to stop, let alone to panic as `eprintln!` does.
pub fn to_stderr(text: &str) {
    use std::io::Write as _;
    let mut stderr = std::io::stderr().lock();
    let _ = stderr.write_all(text.as_bytes());
    let _ = stderr.flush();
}

// ---------------------------------------------------------------------------------------
// The status line.

/// The status line on the screen, if any, with the ticket it was shown with: process-wide,
/// because the code that prints notices has no handle on the code that drew the bar.
static STATUS: Mutex<Option<(u64, ProgressBar)>> = Mutex::new(None);
static TICKETS: AtomicU64 = AtomicU64::new(0);

fn status() -> MutexGuard<'static, Option<(u64, ProgressBar)>> {
    STATUS.lock().unwrap_or_else(PoisonError::into_inner)
}

/// Makes `bar` the status line. The ticket lets its owner [`forget_status`] it, and only it:
/// a newer bar shown meanwhile stays.
pub fn show_status(bar: &ProgressBar) -> u64 {
    let ticket = TICKETS.fetch_add(1, Ordering::Relaxed);
    *status() = Some((ticket, bar.clone()));
    ticket
}

/// Forgets the status line shown with `ticket` (its owner has cleared it), if it is still the
/// one shown.
pub fn forget_status(ticket: u64) {
    let mut status = status();
    if status.as_ref().is_some_and(|(shown, _)| *shown == ticket) {
        *status = None;
    }
}

/// Runs `f` (which prints on stderr or stdout) with the status line, if one is shown, off the
/// screen, and draws it again under what `f` printed.
pub fn suspend<R>(f: impl FnOnce() -> R) -> R {
    // Released before drawing: the bar's own lock is taken inside.
    let bar = status().as_ref().map(|(_, bar)| bar.clone());
    match bar {
        Some(bar) => bar.suspend(f),
        None => f(),
    }
}

/// Takes the status line off the screen for good: the process is about to end without
/// unwinding.
pub fn clear_status() {
    let bar = status().take();
    if let Some((_, bar)) = bar {
        bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn controls_and_bidi_overrides_become_visible_escapes() {
        assert_eq!(escape("a\u{1b}[8mhidden"), "a\\x1b[8mhidden");
        assert_eq!(escape("x\u{7f}\u{0}"), "x\\x7f\\x00");
        assert_eq!(escape("one\ntwo\r\tthree"), "one\\ntwo\\r\\tthree");
        assert_eq!(escape("\u{9b}31m"), "\\u{9b}31m");
        assert_eq!(escape("evil\u{202e}txt.exe"), "evil\\u{202e}txt.exe");
        assert_eq!(
            escape("\u{2066}\u{2069}\u{200e}\u{200f}\u{61c}"),
            "\\u{2066}\\u{2069}\\u{200e}\\u{200f}\\u{61c}"
        );
        // Printable text, accents, CJK and emoji stay as they are, and borrowed.
        let plain = "filtre « sécurité » 監視 🔔 { $.eventName = \"x\" }";
        assert!(matches!(escape(plain), Cow::Borrowed(_)));
        assert_eq!(escape(plain), plain);
    }

    #[test]
    fn lines_keep_their_ends_and_nothing_else() {
        assert_eq!(
            escape_lines("error: a\u{1b}[2Kb\nerror: c\r\n"),
            "error: a\\x1b[2Kb\nerror: c\\r\n"
        );
    }

    #[test]
    fn json_stays_the_same_value() {
        let event = serde_json::json!({"name": "a\u{202e}b\u{85}c\u{1b}"});
        let shown = escape_json(&event.to_string()).into_owned();
        assert!(!shown.chars().any(is_unsafe), "{shown}");
        let back: serde_json::Value = serde_json::from_str(&shown).unwrap();
        assert_eq!(back, event);
    }

    proptest! {
        #[test]
        fn nothing_unsafe_is_left(text in any::<String>()) {
            let shown = escape(&text);
            prop_assert!(!shown.chars().any(is_unsafe), "{shown:?}");
            let lines = escape_lines(&text);
            prop_assert!(!lines.chars().any(|c| c != '\n' && is_unsafe(c)), "{lines:?}");
            prop_assert_eq!(lines.matches('\n').count(), text.matches('\n').count());
            let json = serde_json::Value::from(text.clone()).to_string();
            prop_assert!(!escape_json(&json).chars().any(is_unsafe));
        }

        #[test]
        fn printable_text_is_left_alone(text in "[^\\x00-\\x1f\\x7f-\\x9f\u{202a}-\u{202e}\u{2066}-\u{2069}\u{200e}\u{200f}\u{61c}]*") {
            prop_assert_eq!(escape(&text), text.as_str());
            prop_assert_eq!(escape_lines(&text), text.as_str());
        }

        #[test]
        fn escaping_twice_changes_nothing_more(text in any::<String>()) {
            let once = escape(&text).into_owned();
            prop_assert_eq!(escape(&once), once.as_str());
        }

        /// Unescaping gives the text back, when it had no `\` of its own.
        #[test]
        fn escapes_read_back(text in "[^\\\\]*") {
            prop_assert_eq!(unescape(&escape(&text)), text);
        }
    }

    /// Reads the escapes [`escape`] writes (for the round-trip property only).
    fn unescape(text: &str) -> String {
        let mut out = String::new();
        let mut rest = text;
        while let Some(at) = rest.find('\\') {
            out.push_str(&rest[..at]);
            let tail = &rest[at + 1..];
            let (c, used) = match tail.as_bytes()[0] {
                b'n' => ('\n', 1),
                b'r' => ('\r', 1),
                b't' => ('\t', 1),
                b'x' => (char::from(u8::from_str_radix(&tail[1..3], 16).unwrap()), 3),
                b'u' => {
                    let end = tail.find('}').unwrap();
                    let code = u32::from_str_radix(&tail[2..end], 16).unwrap();
                    (char::from_u32(code).unwrap(), end + 1)
                }
                other => panic!("unexpected escape {other}"),
            };
            out.push(c);
            rest = &tail[used..];
        }
        out.push_str(rest);
        out
    }
}
