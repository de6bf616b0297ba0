//! `cis-fix pattern test`'s work: the events of each input (a file, a directory walked
//! recursively, `-` for standard input) that a pattern matches, as logs:TestMetricFilter
//! would match them, offline. Events are read one at a time ([`events::stream`]); files are
//! spread over worker threads, and the results handed on in path order whatever the
//! parallelism, so that `--max-matches` always stops at the same events. (`pattern check` is
//! pure: [`crate::audit::accepted::check`].)

use std::collections::VecDeque;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Mutex;

use serde_json::Value;
use time::{Date, OffsetDateTime};

use crate::error::{Error, Result};
use crate::events::{self, stream};
use crate::pattern::Pattern;
use crate::render::pattern::{Matched, Summary};

/// One input: standard input or a file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Stdin,
    File(PathBuf),
}

impl Input {
    /// As the output names it: the path as given, `-` for standard input.
    pub fn name(&self) -> String {
        match self {
            Input::Stdin => "-".into(),
            Input::File(path) => path.display().to_string(),
        }
    }
}

/// The events wanted, by `eventTime`: from `since` (inclusive) to `until` (exclusive).
#[derive(Debug, Clone, Copy, Default)]
pub struct Window {
    pub since: Option<OffsetDateTime>,
    pub until: Option<OffsetDateTime>,
}

impl Window {
    fn is_open(&self) -> bool {
        self.since.is_none() && self.until.is_none()
    }

    /// Whether an event falls in the window; one without a readable `eventTime` does not,
    /// unless the window is open.
    fn holds(&self, event: &Value) -> bool {
        if self.is_open() {
            return true;
        }
        let format = time::format_description::well_known::Rfc3339;
        let time = event
            .get("eventTime")
            .and_then(Value::as_str)
            .and_then(|t| OffsetDateTime::parse(t, &format).ok());
        let Some(time) = time else { return false };
        self.since.is_none_or(|s| time >= s) && self.until.is_none_or(|u| time < u)
    }

    /// Whether a file delivered on `day` may hold events of the window: CloudTrail delivers
    /// within minutes, so a day's margin on each side is enough.
    fn may_hold(&self, day: Date) -> bool {
        let after = self
            .since
            .is_none_or(|s| s.date().previous_day().is_none_or(|d| day >= d));
        let before = self
            .until
            .is_none_or(|u| u.date().next_day().is_none_or(|d| day <= d));
        after && before
    }
}

/// The delivery date in a CloudTrail path: the first `YYYY/MM/DD` run of components.
pub fn path_date(path: &Path) -> Option<Date> {
    let parts: Vec<&str> = path.iter().filter_map(|p| p.to_str()).collect();
    parts.windows(3).find_map(|w| {
        let [year, month, day] = w else { return None };
        let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
        if !(digits(year, 4) && digits(month, 2) && digits(day, 2)) {
            return None;
        }
        let month = time::Month::try_from(month.parse::<u8>().ok()?).ok()?;
        Date::from_calendar_date(year.parse().ok()?, month, day.parse().ok()?).ok()
    })
}

/// Whether a file met while walking a directory is a log file: JSON or JSON lines, gzipped
/// or not, and not a CloudTrail digest (which holds hashes, not events).
fn is_log_file(path: &Path) -> bool {
    let name = path.to_string_lossy();
    let log = [".json", ".json.gz", ".jsonl", ".jsonl.gz"]
        .iter()
        .any(|ext| name.ends_with(ext));
    log && !path.iter().any(|part| part == "CloudTrail-Digest")
}

/// The inputs the arguments name, in order: a directory's files sorted by path, and only
/// the files whose delivery date (if their path has one) may hold events of the window.
pub fn inputs(args: &[PathBuf], window: &Window) -> Result<Vec<Input>> {
    let mut found = Vec::new();
    for arg in args {
        if arg.as_os_str() == "-" {
            found.push(Input::Stdin);
        } else if arg.is_dir() {
            walk(arg, &mut found)?;
        } else {
            found.push(Input::File(arg.clone()));
        }
    }
    found.retain(|input| match input {
        Input::File(path) => path_date(path).is_none_or(|day| window.may_hold(day)),
        Input::Stdin => true,
    });
    Ok(found)
}

fn walk(dir: &Path, found: &mut Vec<Input>) -> Result<()> {
    for entry in walkdir::WalkDir::new(dir).sort_by_file_name() {
        let entry = entry
            .map_err(|e| Error::Usage(format!("cannot read directory {}: {e}", dir.display())))?;
        if entry.file_type().is_file() && is_log_file(entry.path()) {
            found.push(Input::File(entry.into_path()));
        }
    }
    Ok(())
}

/// How to test: the window, where to stop, how many worker threads, whether to hand the
/// first pattern's matches on (else only counts are kept).
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub window: Window,
    pub max_matches: Option<u64>,
    pub jobs: usize,
    pub list: bool,
}

/// What a worker says about its file, in order.
enum Message {
    /// A match of the first pattern, and how many events of the file were read by then.
    Match(Box<Matched>, u64),
    /// The file is read: its events and the matches of each pattern.
    Done(u64, Vec<u64>),
    Failed(Error),
}

/// Matches a worker may hold before the writer takes them.
const QUEUE: usize = 256;

struct Job {
    input: Input,
    to_writer: SyncSender<Message>,
}

/// Tests every input with every pattern; hands the first pattern's matches to `each`, in
/// input order then event order, and returns the totals.
pub fn test(
    patterns: &[Pattern],
    inputs: &[Input],
    options: &Options,
    each: &mut dyn FnMut(&Matched) -> Result<()>,
) -> Result<Summary> {
    let jobs = options.jobs.max(1);
    let (job_tx, job_rx) = sync_channel::<Job>(0);
    let job_rx = Mutex::new(job_rx);
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| work(&job_rx, patterns, options));
        }
        let mut writer = Writer {
            summary: Summary::new(patterns.len()),
            options,
            each,
        };
        // At most `jobs` files in flight: each has its worker, so one is always free to
        // take the next job while the writer waits on the first (no deadlock), and memory
        // is bounded by `jobs` files' worth of queued matches.
        let mut pending: VecDeque<Receiver<Message>> = VecDeque::new();
        for input in inputs {
            while pending.len() >= jobs && !writer.summary.stopped {
                writer.drain(pending.pop_front())?;
            }
            if writer.summary.stopped {
                break;
            }
            let (to_writer, from_worker) = sync_channel(QUEUE);
            let job = Job {
                input: input.clone(),
                to_writer,
            };
            job_tx
                .send(job)
                .map_err(|_| Error::Usage("the pattern test workers stopped".into()))?;
            pending.push_back(from_worker);
        }
        drop(job_tx);
        while !writer.summary.stopped && !pending.is_empty() {
            writer.drain(pending.pop_front())?;
        }
        Ok(writer.summary)
    })
}

/// The writer's side: the totals so far, and where matches go.
struct Writer<'a> {
    summary: Summary,
    options: &'a Options,
    each: &'a mut dyn FnMut(&Matched) -> Result<()>,
}

impl Writer<'_> {
    /// Takes one file's messages to its end (or to `--max-matches`).
    fn drain(&mut self, from_worker: Option<Receiver<Message>>) -> Result<()> {
        let Some(from_worker) = from_worker else {
            return Ok(());
        };
        for message in from_worker.iter() {
            match message {
                Message::Match(matched, read) => {
                    (self.each)(&matched)?;
                    self.summary.matched = self.summary.matched.saturating_add(1);
                    if self.options.max_matches == Some(self.summary.matched) {
                        self.summary.events = self.summary.events.saturating_add(read);
                        self.summary.stopped = true;
                        return Ok(());
                    }
                }
                Message::Done(events, counts) => {
                    self.summary.add(events, &counts);
                    return Ok(());
                }
                Message::Failed(error) => return Err(error),
            }
        }
        Err(Error::Usage("a pattern test worker stopped".into()))
    }
}

/// A worker: takes files until there are none, and says what it finds in each.
fn work(jobs: &Mutex<Receiver<Job>>, patterns: &[Pattern], options: &Options) {
    loop {
        let job = match jobs.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        let Ok(job) = job else { return };
        let message = match test_one(&job, patterns, options) {
            Ok(Some((events, counts))) => Message::Done(events, counts),
            Ok(None) => continue,
            Err(error) => Message::Failed(error),
        };
        // The writer may have stopped (`--max-matches`): nobody to tell.
        let _ = job.to_writer.send(message);
    }
}

/// One file's events and each pattern's matches, or `None` when the writer stopped
/// listening.
fn test_one(job: &Job, patterns: &[Pattern], options: &Options) -> Result<Option<(u64, Vec<u64>)>> {
    let name = job.input.name();
    let mut reader = open(&job.input)?;
    let mut counts = vec![0u64; patterns.len()];
    let (mut events, mut listed, mut gone) = (0u64, 0u64, false);
    let mut each = |event: events::Event| {
        if !options.window.holds(&event.value) {
            return ControlFlow::Continue(());
        }
        events = events.saturating_add(1);
        for (count, pattern) in counts.iter_mut().zip(patterns) {
            if pattern.matches(&event.value) {
                *count = count.saturating_add(1);
            }
        }
        let first = counts.first().copied().unwrap_or(0);
        if !options.list || first == listed {
            return ControlFlow::Continue(());
        }
        listed = first;
        let matched = Box::new(Matched {
            file: name.clone(),
            event,
        });
        if job.to_writer.send(Message::Match(matched, events)).is_err() {
            gone = true;
            return ControlFlow::Break(());
        }
        // No file needs more than `--max-matches` of its own.
        match options.max_matches {
            Some(max) if listed >= max => ControlFlow::Break(()),
            _ => ControlFlow::Continue(()),
        }
    };
    stream::for_each(&mut *reader, stream::MAX_EVENT, &mut each)
        .map_err(|e| Error::Usage(format!("cannot read events from {name}: {e}")))?;
    Ok((!gone).then_some((events, counts)))
}

/// An input's bytes, decompressed when gzip.
fn open(input: &Input) -> Result<Box<dyn std::io::BufRead + Send>> {
    let name = input.name();
    let fail = |e: std::io::Error| Error::Usage(format!("cannot read {name}: {e}"));
    match input {
        Input::Stdin => stream::decoded(std::io::stdin()).map_err(fail),
        Input::File(path) => {
            stream::decoded(std::fs::File::open(path).map_err(fail)?).map_err(fail)
        }
    }
}

#[cfg(test)]
mod tests;
