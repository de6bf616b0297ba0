//! `cis-fix pattern test`'s work: the events of each input (a file, a directory walked
//! recursively, `-` for standard input) that a pattern matches, as logs:TestMetricFilter
//! would match them, offline. Events are read one at a time ([`events::stream`]); files are
//! spread over worker threads, and the results handed on in path order whatever the
//! parallelism, so that `--max-matches` always stops at the same events. (`pattern check` is
//! pure: [`crate::audit::accepted::check`].)

use std::collections::VecDeque;
use std::io::BufRead;
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{sync_channel, Receiver, SyncSender};
use std::sync::Mutex;

use serde_json::Value;
use time::{Date, OffsetDateTime};

use crate::error::{Error, Result};
use crate::events::{self, fields::Fields, stream};
use crate::pattern::Pattern;
use crate::render::pattern::{Matched, Summary, SHOWN};

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
/// first pattern's matches on (else only counts are kept), and the size of the blocks of
/// lines the workers share when one input is JSON lines (standard input, or a file of at
/// least two blocks): so that one large file is read by every core.
#[derive(Debug, Clone, Copy)]
pub struct Options {
    pub window: Window,
    pub max_matches: Option<u64>,
    pub jobs: usize,
    pub list: bool,
    pub block: usize,
}

/// What a worker says about its job, in order.
enum Message {
    /// A match of the first pattern, and how many events of the job were read by then.
    Match(Box<Matched>, u64),
    /// The job is done: its events and the matches of each pattern.
    Done(u64, Vec<u64>),
    Failed(Error),
}

/// Matches a worker may hold before the writer takes them.
const QUEUE: usize = 256;

/// What a worker reads: a file it opens itself, an input opened already, or a block of an
/// input's lines.
enum Source {
    Open(Input),
    Reader(Box<dyn BufRead + Send>),
    Lines(stream::Lines),
}

struct Job {
    /// The input's name, as the output gives it.
    name: String,
    source: Source,
    to_writer: SyncSender<Message>,
}

/// Tests every input with every pattern; hands the first pattern's matches to `each`, in
/// input order then event order, and returns the totals. An event handed on holds what the
/// patterns name and what the output shows ([`SHOWN`]), nothing else.
pub fn test(
    patterns: &[Pattern],
    inputs: &[Input],
    options: &Options,
    each: &mut dyn FnMut(&Matched) -> Result<()>,
) -> Result<Summary> {
    let jobs = options.jobs.max(1);
    let fields = kept_fields(patterns, options);
    let (job_tx, job_rx) = sync_channel::<Job>(0);
    let job_rx = Mutex::new(job_rx);
    std::thread::scope(|scope| {
        for _ in 0..jobs {
            scope.spawn(|| work(&job_rx, patterns, &fields, options));
        }
        let mut writer = Writer {
            summary: Summary::new(patterns.len()),
            options,
            each,
        };
        let mut units = Units {
            inputs: inputs.iter(),
            ahead: None,
            block: options.block.max(1),
        };
        // At most `jobs` jobs in flight: each has its worker, so one is always free to take
        // the next job while the writer waits on the first (no deadlock), and memory is
        // bounded by `jobs` jobs' worth of queued matches (and blocks of lines). The next
        // unit is read before waiting, while the workers work.
        let mut pending: VecDeque<Receiver<Message>> = VecDeque::new();
        while !writer.summary.stopped {
            let Some(unit) = units.next() else { break };
            while pending.len() >= jobs && !writer.summary.stopped {
                writer.drain(pending.pop_front())?;
            }
            if writer.summary.stopped {
                break;
            }
            let (to_writer, from_worker) = sync_channel(QUEUE);
            match unit {
                Unit::Failed(error) => {
                    let _ = to_writer.send(Message::Failed(error));
                }
                Unit::Job(name, source) => {
                    let job = Job {
                        name,
                        source,
                        to_writer,
                    };
                    job_tx
                        .send(job)
                        .map_err(|_| Error::Usage("the pattern test workers stopped".into()))?;
                }
            }
            pending.push_back(from_worker);
        }
        drop(job_tx);
        while !writer.summary.stopped && !pending.is_empty() {
            writer.drain(pending.pop_front())?;
        }
        Ok(writer.summary)
    })
}

/// What is read of each event: what the patterns name, `eventTime` for a window, and what
/// the output shows of a match.
fn kept_fields(patterns: &[Pattern], options: &Options) -> Fields {
    let mut fields = Fields::default();
    for pattern in patterns {
        pattern.keep(&mut fields);
    }
    if !options.window.is_open() {
        fields.member("eventTime").keep_whole();
    }
    if options.list {
        for name in SHOWN {
            fields.member(name).keep_whole();
        }
    }
    fields
}

/// One job to hand to a worker, or an input that could not be opened (reported in turn).
enum Unit {
    Job(String, Source),
    Failed(Error),
}

/// The inputs as jobs, in order: a file per job, or, for an input of JSON lines read
/// ahead, a block of lines per job.
struct Units<'a> {
    inputs: std::slice::Iter<'a, Input>,
    ahead: Option<Ahead>,
    block: usize,
}

/// An input being read ahead in blocks of lines: its name, reader and next line's number.
struct Ahead {
    name: String,
    reader: Box<dyn BufRead + Send>,
    next: usize,
}

impl Units<'_> {
    fn next(&mut self) -> Option<Unit> {
        loop {
            if let Some(ahead) = self.ahead.as_mut() {
                let lines = stream::read_lines(
                    &mut *ahead.reader,
                    stream::MAX_EVENT,
                    self.block,
                    &mut ahead.next,
                );
                let name = ahead.name.clone();
                if lines.end {
                    self.ahead = None;
                }
                return Some(Unit::Job(name, Source::Lines(lines)));
            }
            let input = self.inputs.next()?;
            if let Some(unit) = self.start(input) {
                return Some(unit);
            }
        }
    }

    /// The job for a new input; `None` when it is read ahead from now on.
    fn start(&mut self, input: &Input) -> Option<Unit> {
        let name = input.name();
        if !self.worth_reading_ahead(input) {
            return Some(Unit::Job(name, Source::Open(input.clone())));
        }
        let mut reader = match open(input) {
            Ok(reader) => reader,
            Err(error) => return Some(Unit::Failed(error)),
        };
        match stream::lines_ahead(&mut *reader, stream::MAX_EVENT) {
            Err(e) => Some(Unit::Failed(unreadable(&name, e))),
            Ok(None) => Some(Unit::Job(name, Source::Reader(reader))),
            Ok(Some(next)) => {
                self.ahead = Some(Ahead { name, reader, next });
                None
            }
        }
    }

    /// Standard input and files of two blocks or more: small files are shared out whole.
    fn worth_reading_ahead(&self, input: &Input) -> bool {
        let at_least = u64::try_from(self.block)
            .unwrap_or(u64::MAX)
            .saturating_mul(2);
        match input {
            Input::Stdin => true,
            Input::File(path) => {
                std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.len() >= at_least)
            }
        }
    }
}

fn unreadable(name: &str, e: events::EventsError) -> Error {
    Error::Usage(format!("cannot read events from {name}: {e}"))
}

/// The writer's side: the totals so far, and where matches go.
struct Writer<'a> {
    summary: Summary,
    options: &'a Options,
    each: &'a mut dyn FnMut(&Matched) -> Result<()>,
}

impl Writer<'_> {
    /// Takes one job's messages to its end (or to `--max-matches`).
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

/// A worker: takes jobs until there are none, and says what it finds in each.
fn work(jobs: &Mutex<Receiver<Job>>, patterns: &[Pattern], fields: &Fields, options: &Options) {
    loop {
        let job = match jobs.lock() {
            Ok(receiver) => receiver.recv(),
            Err(_) => return,
        };
        let Ok(Job {
            name,
            source,
            to_writer,
        }) = job
        else {
            return;
        };
        let tester = Tester {
            name: &name,
            to_writer: &to_writer,
            patterns,
            fields,
            options,
        };
        let message = match tester.test(source) {
            Ok(Some((events, counts))) => Message::Done(events, counts),
            Ok(None) => continue,
            Err(error) => Message::Failed(error),
        };
        // The writer may have stopped (`--max-matches`): nobody to tell.
        let _ = to_writer.send(message);
    }
}

/// What a worker tests a job with.
struct Tester<'a> {
    name: &'a str,
    to_writer: &'a SyncSender<Message>,
    patterns: &'a [Pattern],
    fields: &'a Fields,
    options: &'a Options,
}

impl Tester<'_> {
    /// The job's events and each pattern's matches, or `None` when the writer stopped
    /// listening.
    fn test(&self, source: Source) -> Result<Option<(u64, Vec<u64>)>> {
        let (patterns, options) = (self.patterns, self.options);
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
                file: self.name.to_string(),
                event,
            });
            if self
                .to_writer
                .send(Message::Match(matched, events))
                .is_err()
            {
                gone = true;
                return ControlFlow::Break(());
            }
            // No job needs more than `--max-matches` of its own.
            match options.max_matches {
                Some(max) if listed >= max => ControlFlow::Break(()),
                _ => ControlFlow::Continue(()),
            }
        };
        let limit = stream::MAX_EVENT;
        let read = match source {
            Source::Open(input) => {
                let mut reader = open(&input)?;
                stream::for_each_kept(&mut *reader, limit, self.fields, &mut each)
            }
            Source::Reader(mut reader) => {
                stream::for_each_kept(&mut *reader, limit, self.fields, &mut each)
            }
            Source::Lines(lines) => stream::lines_events(&lines, limit, self.fields, &mut each),
        };
        read.map_err(|e| unreadable(self.name, e))?;
        Ok((!gone).then_some((events, counts)))
    }
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
