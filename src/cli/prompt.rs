//! The question before apply, backout and drill change anything.
//!
//! It reads a whole line, in the terminal's own line mode, and only `yes` approves
//! (Terraform's contract): a single key, the first letter of a pasted command or of `yes`
//! itself never does. The terminal is never switched out of line mode, so it needs no restoring
//! whatever happens at the question.

use std::io::{BufRead, IsTerminal, Write};

use crate::apply::interrupt::{self, Deferral};
use crate::error::{Error, Result};

/// The only answer that approves.
const APPROVE: &str = "yes";

/// Asks `question` unless `auto_approve`, and returns `Ok` only for `yes`. Anything else, an
/// empty line or end of input is [`Error::Cancelled`]; Ctrl-C is
/// [`Error::CancelledByInterrupt`]. Refuses, without asking, when standard input is not a
/// terminal: a pipeline must say `--auto-approve` explicitly.
pub async fn confirm(question: &str, auto_approve: bool) -> Result<()> {
    if auto_approve {
        return Ok(());
    }
    if !std::io::stdin().is_terminal() {
        return Err(Error::Usage(
            "standard input is not a terminal, so cis-fix cannot ask for confirmation; pass --auto-approve to go ahead without asking".into(),
        ));
    }
    // Ctrl-C at the question cancels here, rather than ending the process with no word.
    let deferral = Deferral::new(None, None);
    let ctrl_c = interrupt::listen();
    // The question names an account and region that AWS gave: nothing in it may hide it.
    let question = crate::term::escape(question);
    // Wrapped as the rest of the screen is; the answer goes after the last line's space.
    let question = format!("{question} Only '{APPROVE}' will be accepted:");
    let shown = crate::render::layout::for_stderr(&question);
    ask(&format!("{} ", shown.trim_end_matches('\n')));
    let line = read_line()?;
    let answer = match ctrl_c {
        Some(ctrl_c) => tokio::select! {
            answer = line => Some(answer),
            _ = ctrl_c => None,
        },
        None => Some(line.await),
    };
    match answer {
        Some(Ok(Ok(line))) => judge(&line),
        Some(Ok(Err(e))) => Err(unreadable(&e.to_string())),
        // The channel closes unanswered only if the reading thread died.
        Some(Err(_)) => Err(unreadable("the reader stopped")),
        None => {
            // The watcher hears the same Ctrl-C, perhaps only later: with the deferral still
            // held it merely records it, where a released one would let it end the process
            // before the cancel line is said. The run ends on this error, so keep it held.
            std::mem::forget(deferral);
            // The terminal echoed `^C` with no line end: end the line before the verdict.
            ask("\n");
            Err(Error::CancelledByInterrupt)
        }
    }
}

fn judge(line: &[u8]) -> Result<()> {
    if line.is_empty() {
        // End of input (Ctrl-D) echoes nothing: end the line before the verdict.
        ask("\n");
    }
    let answer = line.strip_suffix(b"\n").unwrap_or(line);
    let answer = answer.strip_suffix(b"\r").unwrap_or(answer);
    if answer == APPROVE.as_bytes() {
        Ok(())
    } else {
        Err(Error::Cancelled("cancelled".into()))
    }
}

/// Reads one line from standard input on a thread of its own: a read cannot be abandoned, and
/// the runtime would wait for a blocking task at exit, so Ctrl-C could not end the process.
fn read_line() -> Result<futures::channel::oneshot::Receiver<std::io::Result<Vec<u8>>>> {
    let (sender, receiver) = futures::channel::oneshot::channel();
    std::thread::Builder::new()
        .name("confirm".into())
        .spawn(move || {
            // Bytes, not text: an answer that is not UTF-8 is simply not `yes`.
            let mut line = Vec::new();
            let read = std::io::stdin()
                .lock()
                .read_until(b'\n', &mut line)
                .map(|_| line);
            let _ = sender.send(read);
        })
        .map_err(|e| unreadable(&e.to_string()))?;
    Ok(receiver)
}

/// The question goes to stderr, so that it shows even when stdout is redirected to a file.
fn ask(text: &str) {
    let mut stderr = std::io::stderr();
    let _ = stderr.write_all(text.as_bytes());
    let _ = stderr.flush();
}

fn unreadable(reason: &str) -> Error {
    Error::Usage(format!(
        "cannot read the answer from the terminal ({reason}); nothing was changed. Run again, or pass --auto-approve to go ahead without asking"
    ))
}
