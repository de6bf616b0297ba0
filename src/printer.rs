//! Where output goes, decided in one place: the command's output on stdout (its view as text,
//! or its JSON document), human text beside it (on stdout with a text view, on stderr when
//! stdout is a JSON document), notes on stderr. A closed pipe (`cis-fix plan | head`) ends the
//! output quietly; human text is wrapped to the terminal as the views are.

use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

use clap::ValueEnum;

use crate::error::{Error, Result};
use crate::session::Session;

/// What stdout carries: a text view, or one JSON document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Text,
    Json,
}

/// Output of one command run.
#[derive(Debug, Clone, Copy)]
pub struct Printer {
    pub format: Format,
}

impl Printer {
    pub fn new(format: Format) -> Printer {
        Printer { format }
    }

    /// The command's output, on stdout: its text view, or its JSON document.
    pub fn out(&self, text: &str) -> Result<()> {
        write_stdout(text)
    }

    /// Human text: with a text view on stdout; on stderr when stdout is the JSON document
    /// alone (a script reads that, a person this).
    pub fn say(&self, text: &str) -> Result<()> {
        match self.format {
            Format::Text => write_stdout(text),
            Format::Json => {
                write_stderr(text);
                Ok(())
            }
        }
    }

    /// A note for the person at the terminal, on stderr, wrapped.
    pub fn note(&self, text: &str) {
        write_stderr(&wrapped(text));
    }

    /// Text already laid out (a view), on stderr: when stdout carries something else.
    pub fn note_raw(&self, text: &str) {
        write_stderr(text);
    }

    /// Where the per-call record lines of an apply, backout or drill go: with the human text.
    pub fn records(&self) -> Box<dyn Write> {
        match self.format {
            Format::Text => Box::new(Quiet(std::io::stdout())),
            Format::Json => Box::new(Quiet(std::io::stderr())),
        }
    }

    /// `--stats`: the number of AWS API calls and the wall time, on stderr.
    pub fn stats(&self, session: &Session, started: Instant) {
        let calls = session.calls.snapshot();
        let detail: Vec<String> = calls.iter().map(|(op, n)| format!("{op} {n}")).collect();
        self.note(&format!(
            "stats: {} AWS API calls in {:.2} s ({})\n",
            session.calls.total(),
            started.elapsed().as_secs_f64(),
            detail.join(", ")
        ));
    }
}

/// Human text laid out as the views are: wrapped to the terminal's width (100 columns off
/// one), continuation lines indented.
pub fn wrapped(text: &str) -> String {
    crate::render::layout::wrap_lines(text, crate::render::layout::stdout_width())
}

fn write_stdout(text: &str) -> Result<()> {
    let mut stdout = std::io::stdout().lock();
    match stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
    {
        // A closed pipe (`cis-fix plan | head`) is not an error worth reporting.
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        other => other.map_err(|source| Error::Write {
            path: PathBuf::from("<stdout>"),
            source,
        }),
    }
}

/// Said, not output: a closed stderr is no reason to stop.
fn write_stderr(text: &str) {
    crate::term::to_stderr(text);
}

/// A stream whose closed pipe is quiet: record lines stop reaching it, the run goes on.
struct Quiet<W: Write>(W);

impl<W: Write> Write for Quiet<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self.0.write(buf) {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(buf.len()),
            other => other,
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self.0.flush() {
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            other => other,
        }
    }
}
