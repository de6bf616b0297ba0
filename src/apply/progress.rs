//! The progress line of apply, backout and drill: on stderr, only on a terminal.
//!
//! It sits under the per-call records (`  + create_topic …: done`), which stay the record of
//! what was made: every line printed while the bar is up goes through [`Progress::record`] or
//! [`crate::term::suspend`], which take the bar off the screen, print, and draw it again, so
//! that nothing is garbled (the bar is the terminal's status line, [`crate::term::show_status`],
//! so that code which does not hold it can print above it too). The bar is cleared when the run
//! ends, and never hides the cursor (indicatif 0.17 draws with `\r`, line clears and cursor
//! moves only), so nothing is left to restore whatever ends the process.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::term;

/// How often the spinner turns, so that a slow call does not look like a hang.
const TICK: Duration = Duration::from_millis(120);

/// A progress line for `total` steps, shown while this value lives.
pub struct Progress {
    bar: Option<ProgressBar>,
    /// The bar's ticket as the status line, while it is shown.
    ticket: Option<u64>,
    total: usize,
}

impl Progress {
    /// Shown only when stderr is a terminal and there is something to do.
    pub fn new(total: usize) -> Progress {
        let bar = (total > 0 && std::io::stderr().is_terminal()).then(|| {
            let bar = ProgressBar::with_draw_target(
                Some(u64::try_from(total).unwrap_or(u64::MAX)),
                ProgressDrawTarget::stderr(),
            );
            if let Ok(style) = ProgressStyle::with_template("{spinner} [{bar:24}] {wide_msg}") {
                bar.set_style(style.progress_chars("=> "));
            }
            bar.enable_steady_tick(TICK);
            bar
        });
        let ticket = bar.as_ref().map(term::show_status);
        Progress { bar, ticket, total }
    }

    /// Step `index` (from 0) has started: "3 of 27: put_metric_filter …".
    pub fn start(&self, index: usize, label: &str) {
        if let Some(bar) = &self.bar {
            bar.set_position(u64::try_from(index).unwrap_or(u64::MAX));
            let label = term::escape(label);
            bar.set_message(format!("{} of {}: {label}", index + 1, self.total));
        }
    }

    /// `done` steps are finished; `message` says what is still going on.
    pub fn set(&self, done: usize, message: &str) {
        if let Some(bar) = &self.bar {
            bar.set_position(u64::try_from(done).unwrap_or(u64::MAX));
            bar.set_message(term::escape(message).into_owned());
        }
    }

    /// Writes `line` (with its line end) to `out`, above the bar.
    pub fn record(&self, out: &mut dyn Write, line: &str) {
        let mut write = || {
            // A record, not output that must arrive: a closed pipe must not abort the writes
            // in flight.
            let _ = out.write_all(line.as_bytes());
            let _ = out.flush();
        };
        match &self.bar {
            Some(bar) => bar.suspend(write),
            None => write(),
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
            if let Some(ticket) = self.ticket {
                term::forget_status(ticket);
            }
        }
    }
}
