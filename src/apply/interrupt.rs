//! Ctrl-C: between two writes, never in the middle of one.
//!
//! Once cis-fix listens for Ctrl-C, the system's default (end the process) is gone for the
//! rest of the run, so one watcher, started on first use, decides for every Ctrl-C: while a
//! [`Deferral`] is held, the first one only asks its holder to stop at the next safe point;
//! otherwise, and on a second one, the process exits 130 at once (128 + SIGINT, as a shell
//! reports a process that Ctrl-C ended).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Mutex, MutexGuard, Once, PoisonError};

use futures::FutureExt;

/// The exit code of a run that Ctrl-C stopped.
pub const EXIT_CODE: u8 = 130;

/// A registered Ctrl-C listener: resolves on the next Ctrl-C.
pub type Listener = Pin<Box<dyn Future<Output = std::io::Result<()>> + Send>>;

struct State {
    holders: usize,
    requested: bool,
    /// Said on stderr at the first Ctrl-C, and at a second one before exiting.
    notice: Option<&'static str>,
    abandoned: Option<&'static str>,
}

static STATE: Mutex<State> = Mutex::new(State {
    holders: 0,
    requested: false,
    notice: None,
    abandoned: None,
});
static WATCHER: Once = Once::new();

fn state() -> MutexGuard<'static, State> {
    // The state stays consistent under a panic elsewhere: every update is one assignment.
    STATE.lock().unwrap_or_else(PoisonError::into_inner)
}

/// While held, a first Ctrl-C is recorded for [`Deferral::requested`] instead of ending
/// the process.
pub struct Deferral(());

impl Deferral {
    /// `notice` is said on stderr at the first Ctrl-C; `abandoned` at a second one, which
    /// still ends the process at once.
    pub fn new(notice: Option<&'static str>, abandoned: Option<&'static str>) -> Deferral {
        start_watcher();
        let mut state = state();
        state.holders += 1;
        state.notice = notice;
        state.abandoned = abandoned;
        Deferral(())
    }

    /// Whether Ctrl-C was pressed since this deferral began.
    pub fn requested(&self) -> bool {
        state().requested
    }
}

impl Drop for Deferral {
    fn drop(&mut self) {
        let mut state = state();
        state.holders = state.holders.saturating_sub(1);
        if state.holders == 0 {
            state.requested = false;
            state.notice = None;
            state.abandoned = None;
        }
    }
}

/// A Ctrl-C listener registered now, not when first awaited, so that no Ctrl-C falls between
/// two listeners. `None` when there is no runtime or the handler cannot be installed: Ctrl-C
/// then keeps its default.
pub fn listen() -> Option<Listener> {
    tokio::runtime::Handle::try_current().ok()?;
    let mut listener: Listener = Box::pin(tokio::signal::ctrl_c());
    // The first poll installs the handler and subscribes; a fresh subscription never sees an
    // earlier Ctrl-C, so it is pending unless registration failed.
    match (&mut listener).now_or_never() {
        None => Some(listener),
        Some(_) => None,
    }
}

fn start_watcher() {
    WATCHER.call_once(|| {
        if let Some(listener) = listen() {
            tokio::spawn(watch(listener));
        }
    });
}

async fn watch(mut listener: Listener) {
    loop {
        if listener.await.is_err() {
            return;
        }
        // Listen again before acting, so that a quick second Ctrl-C is not lost.
        let next = listen();
        let (stop_now, say) = {
            let mut state = state();
            if state.holders > 0 && !state.requested && next.is_some() {
                state.requested = true;
                (false, state.notice)
            } else {
                (true, state.abandoned)
            }
        };
        if let Some(text) = say {
            let write = || {
                let text = crate::render::layout::for_stderr(text);
                crate::term::to_stderr(&format!("\n{text}"));
            };
            if stop_now {
                // The process ends without unwinding: take the progress line off for good.
                crate::term::clear_status();
                write();
            } else {
                // Above the progress line, which is drawn again under it.
                crate::term::suspend(write);
            }
        } else if stop_now {
            crate::term::clear_status();
        }
        match next {
            Some(next) if !stop_now => listener = next,
            _ => std::process::exit(i32::from(EXIT_CODE)),
        }
    }
}
