//! Events read one at a time from a reader (a file, a gzip file, standard input), so that
//! memory stays bounded whatever the input's size: a CloudTrail file's `Records` array is
//! walked with serde_json's streaming deserializer, JSON lines are read line by line, and a
//! JSON array element by element. Accepts what the whole-input reader (`super::reference`,
//! in the tests) accepts, with the same positions (`Records[N]`, `line N`, `[N]`).

use std::cell::Cell;
use std::fmt;
use std::io::{BufRead, BufReader, Read};
use std::ops::ControlFlow;

use serde::de::{DeserializeSeed, Deserializer as _, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use super::fields::{Fields, Skipped};
use super::{json_kind, Event, EventsError, GZIP_MAGIC};

/// The largest one event may be, in bytes of JSON text: CloudTrail's events are at most a
/// few hundred KB, and a line longer than this is not an event but a broken input.
pub const MAX_EVENT: usize = 16 << 20;

/// How much is read from a file or a decoder at a time.
const BUFFER: usize = 256 * 1024;

/// How many bytes of JSON lines are read ahead, then parsed (see [`Lines`]).
pub const LINES_BLOCK: usize = 1 << 20;

/// What the caller says after each event: go on, or stop reading (`--max-matches`).
pub type Flow = ControlFlow<()>;

/// `reader`'s bytes, decompressed when they are gzip (sniffed from the first two bytes).
pub fn decoded<'r>(reader: impl Read + Send + 'r) -> std::io::Result<Box<dyn BufRead + Send + 'r>> {
    let mut buffered = BufReader::with_capacity(BUFFER, reader);
    if buffered.fill_buf()?.starts_with(&GZIP_MAGIC) {
        let decoder = flate2::bufread::MultiGzDecoder::new(buffered);
        return Ok(Box::new(BufReader::with_capacity(BUFFER, decoder)));
    }
    Ok(Box::new(buffered))
}

/// Calls `each` with every event of `reader` (already decoded), in order, until it breaks.
/// Returns how many events were read.
pub fn for_each(
    reader: &mut dyn BufRead,
    limit: usize,
    each: &mut dyn FnMut(Event) -> Flow,
) -> Result<u64, EventsError> {
    for_each_kept(reader, limit, &Fields::all(), each)
}

/// [`for_each`], keeping of each event only `fields` (see [`Fields`]).
pub fn for_each_kept(
    reader: &mut dyn BufRead,
    limit: usize,
    fields: &Fields,
    each: &mut dyn FnMut(Event) -> Flow,
) -> Result<u64, EventsError> {
    let skipped_lines = skip_preamble(reader)?;
    let mut stream = Stream {
        each,
        fields,
        read: 0,
        stopped: false,
    };
    let first = reader.fill_buf().map_err(io_error)?.first().copied();
    match first {
        Some(first @ (b'[' | b'{')) => document(reader, first, limit, skipped_lines, &mut stream)?,
        _ => lines(reader, limit, skipped_lines.saturating_add(1), &mut stream)?,
    }
    Ok(stream.read)
}

/// The most of a CloudTrail file (or a JSON array) held to be parsed in memory: serde_json
/// parses a slice several times faster than a reader, which it takes byte by byte.
/// CloudTrail delivers files of a few MB decompressed; larger ones are streamed.
const HELD: usize = 8 << 20;

/// A CloudTrail file, an array, or a first object then JSON lines: held and parsed in
/// memory when it fits in [`HELD`] and the limit (then no event in it can pass the limit),
/// else streamed from what was held and the rest of the reader.
fn document(
    reader: &mut dyn BufRead,
    first: u8,
    limit: usize,
    skipped_lines: usize,
    stream: &mut Stream,
) -> Result<(), EventsError> {
    let cap = HELD.min(limit);
    let mut held = Vec::new();
    loop {
        // fill_buf and consume, not read: the decoder below is called as when streaming,
        // so that a read error comes after the same bytes.
        let (n, over) = match reader.fill_buf() {
            Ok(buffer) => {
                let over = held.len().saturating_add(buffer.len()) > cap;
                if !over {
                    held.extend_from_slice(buffer);
                }
                (buffer.len(), over)
            }
            Err(e) => {
                let mut rest = std::io::Cursor::new(held).chain(ReadError(Some(e)));
                return streamed(&mut rest, first, limit, skipped_lines, stream);
            }
        };
        if over {
            let mut rest = std::io::Cursor::new(held).chain(reader);
            return streamed(&mut rest, first, limit, skipped_lines, stream);
        }
        if n == 0 {
            return in_memory(&held, first, limit, skipped_lines, stream);
        }
        reader.consume(n);
    }
}

fn streamed(
    reader: &mut dyn BufRead,
    first: u8,
    limit: usize,
    skipped_lines: usize,
    stream: &mut Stream,
) -> Result<(), EventsError> {
    match first {
        b'[' => array(reader, limit, skipped_lines, stream),
        _ => object_then_lines(reader, limit, skipped_lines, stream),
    }
}

/// A read error met while holding an input, given back where it was met.
struct ReadError(Option<std::io::Error>);

impl Read for ReadError {
    fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
        self.0.take().map_or(Ok(0), Err)
    }
}

impl BufRead for ReadError {
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.0.take().map_or(Ok(&[]), Err)
    }

    fn consume(&mut self, _: usize) {}
}

/// [`streamed`] on a held input, with the same visitors and the same errors: a CloudTrail
/// file or an array parsed from memory; a first object without `Records` (JSON lines, a
/// single event) read as from a reader, no event having been handed on yet.
fn in_memory(
    held: &[u8],
    first: u8,
    limit: usize,
    skipped_lines: usize,
    stream: &mut Stream,
) -> Result<(), EventsError> {
    let tally = Tally::new(limit);
    let mut walk = Walk::new(stream, &tally);
    let mut de = serde_json::Deserializer::from_slice(held);
    if first == b'[' {
        let elements = Elements {
            walk: &mut walk,
            label: "",
        };
        let result = de.deserialize_seq(elements).and_then(|()| de.end());
        return finish(result, walk, skipped_lines, "not a JSON array of events");
    }
    let top = de.deserialize_map(TopLevel { walk: &mut walk });
    if !walk.records_seen {
        let mut reader = held;
        return object_then_lines(&mut reader, limit, skipped_lines, walk.stream);
    }
    let result = top.and_then(|_| de.end());
    finish(result, walk, skipped_lines, "not a CloudTrail log file")
}

/// The caller's callback and what it was given.
struct Stream<'c> {
    each: &'c mut dyn FnMut(Event) -> Flow,
    fields: &'c Fields,
    read: u64,
    stopped: bool,
}

impl Stream<'_> {
    /// Hands one event over; an array element or a line that is not an object is refused.
    fn give(&mut self, position: String, value: Value) -> Result<(), EventsError> {
        if !value.is_object() {
            return Err(EventsError(format!(
                "{position}: not a JSON event (an event is a JSON object, this is {})",
                json_kind(&value)
            )));
        }
        self.read = self.read.saturating_add(1);
        if (self.each)(Event { position, value }).is_break() {
            self.stopped = true;
        }
        Ok(())
    }
}

fn io_error(e: std::io::Error) -> EventsError {
    EventsError(read_failure(&e))
}

/// A read error in words: a gzip file cut short says so.
fn read_failure(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::UnexpectedEof => format!("truncated gzip data: {e}"),
        std::io::ErrorKind::InvalidInput | std::io::ErrorKind::InvalidData => {
            format!("corrupt gzip data: {e}")
        }
        _ => format!("read failed: {e}"),
    }
}

/// Skips a byte order mark and leading whitespace; returns the newlines skipped.
fn skip_preamble(reader: &mut dyn BufRead) -> Result<usize, EventsError> {
    if reader
        .fill_buf()
        .map_err(io_error)?
        .starts_with(b"\xef\xbb\xbf")
    {
        reader.consume(3);
    }
    let mut newlines = 0usize;
    loop {
        let buffer = reader.fill_buf().map_err(io_error)?;
        let blank = buffer
            .iter()
            .take_while(|b| b.is_ascii_whitespace())
            .count();
        newlines =
            newlines.saturating_add(buffer.iter().take(blank).filter(|b| **b == b'\n').count());
        let done = blank < buffer.len() || buffer.is_empty();
        reader.consume(blank);
        if done {
            return Ok(newlines);
        }
    }
}

/// JSON lines: one event per line, blank lines skipped; `number` is the first line's.
fn lines(
    reader: &mut dyn BufRead,
    limit: usize,
    number: usize,
    stream: &mut Stream,
) -> Result<(), EventsError> {
    let mut next = number;
    loop {
        let lines = read_lines(reader, limit, LINES_BLOCK, &mut next);
        give_lines(&lines, limit, stream)?;
        if lines.end || stream.stopped {
            return Ok(());
        }
    }
}

/// Whole JSON lines read ahead: the unit they are parsed in, by the reader itself or by
/// several workers at once (`pattern test` on one large file).
#[derive(Debug)]
pub struct Lines {
    bytes: Vec<u8>,
    /// The number of the first line.
    first: usize,
    /// The read error met after these lines: reported at the next line.
    failure: Option<std::io::Error>,
    /// Nothing is to be read after these lines: the end, a read error, or a line past the
    /// limit (read up to just past it, to be refused).
    pub end: bool,
}

/// The next lines of `reader`, numbered from `next` (which moves on past them), until
/// `size` bytes or more are read, or [`Lines::end`].
pub fn read_lines(reader: &mut dyn BufRead, limit: usize, size: usize, next: &mut usize) -> Lines {
    let cap = u64::try_from(limit).unwrap_or(u64::MAX).saturating_add(1);
    let mut lines = Lines {
        bytes: Vec::with_capacity(size.saturating_add(64 * 1024)),
        first: *next,
        failure: None,
        end: false,
    };
    while lines.bytes.len() < size {
        let before = lines.bytes.len();
        match reader.take(cap).read_until(b'\n', &mut lines.bytes) {
            Ok(0) => lines.end = true,
            Ok(n) => {
                *next = next.saturating_add(1);
                lines.end = n > limit;
            }
            Err(e) => {
                lines.bytes.truncate(before);
                lines.failure = Some(e);
                lines.end = true;
            }
        }
        if lines.end {
            break;
        }
    }
    lines
}

/// Calls `each` with the events of `lines`, keeping `fields` of each, until it breaks.
/// Returns how many events were read.
pub fn lines_events(
    lines: &Lines,
    limit: usize,
    fields: &Fields,
    each: &mut dyn FnMut(Event) -> Flow,
) -> Result<u64, EventsError> {
    let mut stream = Stream {
        each,
        fields,
        read: 0,
        stopped: false,
    };
    give_lines(lines, limit, &mut stream)?;
    Ok(stream.read)
}

fn give_lines(lines: &Lines, limit: usize, stream: &mut Stream) -> Result<(), EventsError> {
    let mut number = lines.first;
    for line in lines.bytes.split_inclusive(|b| *b == b'\n') {
        if stream.stopped {
            return Ok(());
        }
        if line.len() > limit {
            return Err(too_large(&format!("line {number}"), limit));
        }
        if !line.trim_ascii().is_empty() {
            let value = parse_line(line, stream.fields).map_err(|e| {
                EventsError(format!(
                    "line {number}, column {}: not a JSON event ({e})",
                    e.column()
                ))
            })?;
            stream.give(format!("line {number}"), value)?;
        }
        number = number.saturating_add(1);
    }
    match &lines.failure {
        Some(e) if !stream.stopped => {
            Err(EventsError(format!("line {number}: {}", read_failure(e))))
        }
        _ => Ok(()),
    }
}

/// One line's event, as `serde_json::from_slice` reads it (trailing data refused).
fn parse_line(line: &[u8], fields: &Fields) -> serde_json::Result<Value> {
    let mut de = serde_json::Deserializer::from_slice(line);
    let value = fields.seed().deserialize(&mut de)?;
    de.end()?;
    Ok(value)
}

/// When `reader`'s events are JSON lines (the first line, if an object, a whole event
/// without `Records`), skips what precedes them and returns the first line's number, so
/// that they may be read with [`read_lines`] and parsed elsewhere. Otherwise consumes
/// nothing, leaving the reader to [`for_each_kept`]. Looks no further than one buffer.
pub fn lines_ahead(reader: &mut dyn BufRead, limit: usize) -> Result<Option<usize>, EventsError> {
    let buffer = reader.fill_buf().map_err(io_error)?;
    let bom = if buffer.starts_with(b"\xef\xbb\xbf") {
        3
    } else {
        0
    };
    let rest = buffer.get(bom..).unwrap_or_default();
    let blank = rest.iter().take_while(|b| b.is_ascii_whitespace()).count();
    let Some(body) = rest.get(blank..).filter(|body| !body.is_empty()) else {
        return Ok(None);
    };
    let plain = match body.first() {
        Some(b'[') => false,
        Some(b'{') => is_plain_event_line(body, limit),
        _ => true,
    };
    if !plain {
        return Ok(None);
    }
    let newlines = rest.iter().take(blank).filter(|b| **b == b'\n').count();
    reader.consume(bom + blank);
    Ok(Some(newlines.saturating_add(1)))
}

/// Whether `body` starts with a whole line holding one event without `Records` (well within
/// the limit): the first object [`object_then_lines`] would read, then the next lines.
fn is_plain_event_line(body: &[u8], limit: usize) -> bool {
    let Some(end) = body.iter().position(|b| *b == b'\n') else {
        return false;
    };
    let line = body.get(..=end).unwrap_or_default();
    if line.len().saturating_add(2) > limit {
        return false;
    }
    matches!(
        serde_json::from_slice::<Value>(line),
        Ok(Value::Object(members)) if !members.contains_key("Records")
    )
}

fn too_large(position: &str, limit: usize) -> EventsError {
    EventsError(format!(
        "{position}: an event of more than {}, the most cis-fix reads as one event",
        super::size(limit)
    ))
}

/// Counts what serde_json takes from a reader: newlines (to number the lines after a first
/// object), and bytes since the current event began (to refuse one over the limit).
struct Tally {
    newlines: Cell<usize>,
    bytes: Cell<usize>,
    event_start: Cell<usize>,
    limit: usize,
    over: Cell<bool>,
}

impl Tally {
    fn new(limit: usize) -> Tally {
        Tally {
            newlines: Cell::new(0),
            bytes: Cell::new(0),
            event_start: Cell::new(0),
            limit,
            over: Cell::new(false),
        }
    }

    /// An event begins here.
    fn mark(&self) {
        self.event_start.set(self.bytes.get());
    }
}

struct Counted<'a, 'r> {
    inner: &'a mut (dyn BufRead + 'r),
    tally: &'a Tally,
}

impl Read for Counted<'_, '_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        let taken = buf.get(..n).unwrap_or_default();
        let tally = self.tally;
        let newlines = taken.iter().filter(|b| **b == b'\n').count();
        tally
            .newlines
            .set(tally.newlines.get().saturating_add(newlines));
        tally.bytes.set(tally.bytes.get().saturating_add(n));
        if tally.bytes.get().saturating_sub(tally.event_start.get()) > tally.limit {
            tally.over.set(true);
            return Err(std::io::Error::other("event too large"));
        }
        Ok(n)
    }
}

/// The visitors' shared state: the stream, the tally, and whether `Records` was met.
struct Walk<'w, 'c> {
    stream: &'w mut Stream<'c>,
    tally: &'w Tally,
    records_seen: bool,
    /// The first error of the caller's (a record that is not an object), kept whole.
    refused: Option<EventsError>,
}

impl<'w, 'c> Walk<'w, 'c> {
    fn new(stream: &'w mut Stream<'c>, tally: &'w Tally) -> Self {
        Walk {
            stream,
            tally,
            records_seen: false,
            refused: None,
        }
    }
}

/// serde_json's error for "stop here": the caller broke, or refused an event.
const STOP: &str = "cis-fix: stop";

/// A JSON array of events, element by element.
fn array(
    reader: &mut dyn BufRead,
    limit: usize,
    skipped_lines: usize,
    stream: &mut Stream,
) -> Result<(), EventsError> {
    let tally = Tally::new(limit);
    let mut walk = Walk::new(stream, &tally);
    let mut de = serde_json::Deserializer::from_reader(Counted {
        inner: reader,
        tally: &tally,
    });
    let result = de
        .deserialize_seq(Elements {
            walk: &mut walk,
            label: "",
        })
        .and_then(|()| de.end());
    finish(result, walk, skipped_lines, "not a JSON array of events")
}

/// What a serde_json error means here: the caller stopped, an event was refused, one was
/// too large, or the JSON is broken at a line and column.
fn finish(
    result: serde_json::Result<()>,
    walk: Walk,
    skipped_lines: usize,
    what: &str,
) -> Result<(), EventsError> {
    let Err(e) = result else { return Ok(()) };
    if let Some(refused) = walk.refused {
        return Err(refused);
    }
    if walk.stream.stopped && e.to_string().starts_with(STOP) {
        return Ok(());
    }
    let line = e.line().saturating_add(skipped_lines);
    if walk.tally.over.get() {
        return Err(too_large(&format!("line {line}"), walk.tally.limit));
    }
    if let Some(io) = e.io_error_kind() {
        let io = std::io::Error::from(io);
        return Err(EventsError(format!("line {line}: {}", read_failure(&io))));
    }
    Err(EventsError(format!(
        "line {line}, column {}: {what} ({e})",
        e.column()
    )))
}

/// A first object: a CloudTrail file's, whose `Records` are streamed, or the first of JSON
/// lines (or a single event), after which the rest is read as JSON lines.
fn object_then_lines(
    reader: &mut dyn BufRead,
    limit: usize,
    skipped_lines: usize,
    stream: &mut Stream,
) -> Result<(), EventsError> {
    let tally = Tally::new(limit);
    let mut walk = Walk::new(stream, &tally);
    let mut de = serde_json::Deserializer::from_reader(Counted {
        inner: &mut *reader,
        tally: &tally,
    });
    let first = de.deserialize_map(TopLevel { walk: &mut walk });
    let records = walk.records_seen;
    let what = if records {
        "not a CloudTrail log file"
    } else {
        "not a JSON event"
    };
    match first {
        Err(e) => return finish(Err(e), walk, skipped_lines, what),
        Ok(_) if records => {
            let end = de.end();
            return finish(end, walk, skipped_lines, what);
        }
        Ok(object) => {
            let line = skipped_lines.saturating_add(1);
            walk.stream
                .give(format!("line {line}"), Value::Object(object))?;
        }
    }
    drop(de);
    // serde_json reads no further than an object's closing brace: the reader is where the
    // first line's remainder starts.
    let number = skipped_lines
        .saturating_add(tally.newlines.get())
        .saturating_add(1);
    rest_of_line(reader, number)?;
    lines(reader, limit, number.saturating_add(1), walk.stream)
}

/// After a first object, its line must hold nothing else (one event per line).
fn rest_of_line(reader: &mut dyn BufRead, number: usize) -> Result<(), EventsError> {
    let mut rest = Vec::new();
    reader
        .take(BUFFER as u64)
        .read_until(b'\n', &mut rest)
        .map_err(io_error)?;
    if rest.trim_ascii().is_empty() {
        return Ok(());
    }
    Err(EventsError(format!(
        "line {number}: not a JSON event (more follows the event on its line)"
    )))
}

/// The top-level object: `Records` streamed, every other member kept (a single event).
struct TopLevel<'a, 'w, 'c> {
    walk: &'a mut Walk<'w, 'c>,
}

impl<'de> Visitor<'de> for TopLevel<'_, '_, '_> {
    type Value = Map<String, Value>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut kept = Map::new();
        self.walk.tally.mark();
        while let Some(key) = map.next_key::<String>()? {
            if key == "Records" {
                self.walk.records_seen = true;
                map.next_value_seed(RecordsValue {
                    walk: &mut *self.walk,
                })?;
            } else if let Some(fields) = self.walk.stream.fields.of_member(&key) {
                let value = map.next_value_seed(fields.seed())?;
                kept.insert(key, value);
            } else {
                map.next_value::<Skipped>()?;
            }
            if !self.walk.records_seen {
                continue;
            }
            // Members beside `Records` are not events: each is held on its own.
            self.walk.tally.mark();
        }
        Ok(kept)
    }
}

/// `Records`' value: an array of events, or an error.
struct RecordsValue<'a, 'w, 'c> {
    walk: &'a mut Walk<'w, 'c>,
}

impl<'de> DeserializeSeed<'de> for RecordsValue<'_, '_, '_> {
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, de: D) -> Result<(), D::Error> {
        de.deserialize_any(Elements {
            walk: self.walk,
            label: "Records",
        })
    }
}

/// An array's elements, each handed over as an event at `label[N]`.
struct Elements<'a, 'w, 'c> {
    walk: &'a mut Walk<'w, 'c>,
    label: &'static str,
}

impl<'de> Visitor<'de> for Elements<'_, '_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of events")
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let mut index = 0usize;
        loop {
            self.walk.tally.mark();
            let fields = self.walk.stream.fields;
            let Some(value) = seq.next_element_seed(fields.seed())? else {
                return Ok(());
            };
            let position = format!("{}[{index}]", self.label);
            if let Err(refused) = self.walk.stream.give(position, value) {
                self.walk.refused = Some(refused);
                return Err(serde::de::Error::custom(STOP));
            }
            if self.walk.stream.stopped {
                return Err(serde::de::Error::custom(STOP));
            }
            index = index.saturating_add(1);
        }
    }
}

#[cfg(test)]
mod tests;
