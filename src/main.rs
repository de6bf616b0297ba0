#![deny(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::print_stdout,
    clippy::print_stderr
)]

use std::process::ExitCode;

use cis_fix::error::Error;
use cis_fix::render::layout::for_stderr;
use cis_fix::term::to_stderr;
use clap::Parser;

fn main() -> ExitCode {
    let cli = match cis_fix::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // --help and --version are not errors. Every real usage error exits 1, not clap's
            // default 2, which --detailed-exitcode reserves for "not compliant".
            let code = if e.use_stderr() { 1 } else { 0 };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    match cis_fix::cli::run(cli) {
        Ok(outcome) => ExitCode::from(outcome.code()),
        // Stopping at the user's word is no error: say what happened, without the prefix.
        Err(
            e @ (Error::Cancelled(_) | Error::CancelledByInterrupt | Error::Interrupted { .. }),
        ) => {
            to_stderr(&for_stderr(&format!("{e}\n")));
            ExitCode::from(code(&e))
        }
        // A message may carry AWS's text or a file's: escaped, but for its own line ends, and
        // wrapped on a terminal.
        Err(e) => {
            to_stderr(&for_stderr(&format!("error: {e}\n")));
            ExitCode::from(code(&e))
        }
    }
}

/// 130 when Ctrl-C stopped the run (see `cis_fix::apply::interrupt`); otherwise the error's
/// own code.
fn code(error: &Error) -> u8 {
    match error {
        Error::CancelledByInterrupt | Error::Interrupted { .. } => {
            cis_fix::apply::interrupt::EXIT_CODE
        }
        other => other.exit_code(),
    }
}
