//! The whole-input reader that `pattern test` used before it streamed: bytes in, events
//! with their positions out, within [`MAX_INPUT`] through [`read_capped`]. Test code only: it
//! is the reference the streaming reader ([`super::stream`]) is property-tested against.

use std::borrow::Cow;
use std::io::Read;

use serde_json::Value;

use super::{json_kind, size, Event, EventsError, GZIP_MAGIC};

/// The most one input may hold, read or decompressed: 1 GiB. CloudTrail delivers files of a
/// few MB (tens of MB decompressed), and JSON-lines exports of a few hundred MB fit; an 18 MB
/// gzip of newlines, which decompresses to some 18 GB, does not.
pub const MAX_INPUT: usize = 1 << 30;

/// How much [`read_capped`] reads at a time.
const CHUNK: usize = 64 * 1024;

/// Why [`read_capped`] stopped.
#[derive(Debug)]
pub enum CappedError {
    /// There is more than the limit.
    TooLarge,
    Io(std::io::Error),
}

/// Reads `reader` to its end into `out`, refusing more than `limit` bytes in all. `out` never
/// holds more than the limit, and its buffer never reserves more than that either (a `Vec`
/// left to grow by doubling may reserve twice what it holds).
pub fn read_capped(
    reader: &mut impl Read,
    limit: usize,
    out: &mut Vec<u8>,
) -> Result<(), CappedError> {
    let mut chunk = vec![0; CHUNK];
    loop {
        let n = match reader.read(&mut chunk) {
            Ok(0) => return Ok(()),
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(CappedError::Io(e)),
        };
        let wanted = out.len().saturating_add(n);
        if wanted > limit {
            return Err(CappedError::TooLarge);
        }
        if wanted > out.capacity() {
            // Doubling, but never past the limit (nor short of what is wanted: it is within).
            let grown = out
                .capacity()
                .saturating_mul(2)
                .max(CHUNK)
                .min(limit)
                .max(wanted);
            out.reserve_exact(grown.saturating_sub(out.len()));
        }
        out.extend_from_slice(chunk.get(..n).unwrap_or_default());
    }
}

/// What to do about an input over the limit: said after what was refused.
pub fn too_large_advice(limit: usize) -> String {
    format!(
        "{}, the most cis-fix reads from one input. Split it into smaller files and pass them all (each is read on its own)",
        size(limit)
    )
}

/// A reader that counts the bytes taken from it: where in a gzip file decoding failed.
struct Counting<'a> {
    bytes: &'a [u8],
    read: usize,
}

impl Read for Counting<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.bytes.read(buf)?;
        self.read = self.read.saturating_add(n);
        Ok(n)
    }
}

/// The text of a gzip file, or where and how it is broken (a copy cut short in transfer is
/// the common case), or that it decompresses to more than `limit`.
fn gunzip(bytes: &[u8], limit: usize) -> Result<String, EventsError> {
    let mut input = Counting { bytes, read: 0 };
    let mut decoded = Vec::new();
    let mut decoder = flate2::read::MultiGzDecoder::new(&mut input);
    let result = read_capped(&mut decoder, limit, &mut decoded);
    drop(decoder);
    if let Err(CappedError::TooLarge) = result {
        return Err(EventsError(format!(
            "refused: it decompresses to more than {}",
            too_large_advice(limit)
        )));
    }
    if let Err(CappedError::Io(e)) = result {
        let what = if e.kind() == std::io::ErrorKind::UnexpectedEof {
            "truncated"
        } else {
            "corrupt"
        };
        return Err(EventsError(format!(
            "{what} gzip data: decoding failed at byte {} of {} ({} bytes decoded before): {e}",
            input.read,
            bytes.len(),
            decoded.len()
        )));
    }
    String::from_utf8(decoded).map_err(|e| {
        EventsError(format!(
            "the decompressed data is not UTF-8 text (byte {})",
            e.utf8_error().valid_up_to()
        ))
    })
}

/// Parses a file's bytes into events; a gzip file may decompress to [`MAX_INPUT`] at most.
pub fn parse(bytes: &[u8]) -> Result<Vec<Event>, EventsError> {
    parse_within(bytes, MAX_INPUT)
}

/// [`parse`], with a gzip file decompressing to `limit` bytes at most.
fn parse_within(bytes: &[u8], limit: usize) -> Result<Vec<Event>, EventsError> {
    // Plain text is read where it lies: a copy would double what a large input costs.
    let text: Cow<str> = if bytes.starts_with(&GZIP_MAGIC) {
        Cow::Owned(gunzip(bytes, limit)?)
    } else {
        Cow::Borrowed(
            std::str::from_utf8(bytes)
                .map_err(|e| EventsError(format!("not UTF-8 text (byte {})", e.valid_up_to())))?,
        )
    };
    // Editors on Windows save UTF-8 with a byte order mark, which JSON does not allow.
    let text = text.strip_prefix('\u{feff}').unwrap_or(&text);
    let trimmed = text.trim_start();
    // A CloudTrail file is one JSON object with `Records`; JSON lines start with `{` too, so
    // try the whole text first.
    let mut whole_error = None;
    // A JSON array of events, as `aws logs filter-log-events` users often save them.
    if trimmed.starts_with('[') {
        return match serde_json::from_str::<Value>(text) {
            Ok(Value::Array(events)) => events_of(events, |i| format!("[{i}]")),
            Ok(_) => Err(EventsError("not a JSON array of events".into())),
            Err(e) => Err(EventsError(format!(
                "line {}, column {}: not a JSON array of events ({e})",
                e.line(),
                e.column()
            ))),
        };
    }
    if trimmed.starts_with('{') {
        match serde_json::from_str::<Value>(text) {
            Err(e) => whole_error = Some(e),
            Ok(Value::Object(mut object)) => {
                if let Some(records) = object.remove("Records") {
                    let Value::Array(records) = records else {
                        return Err(EventsError("`Records` is not an array".into()));
                    };
                    return events_of(records, |i| format!("Records[{i}]"));
                }
                return Ok(vec![Event {
                    position: "line 1".into(),
                    value: Value::Object(object),
                }]);
            }
            Ok(_) => {}
        }
    }
    let mut events = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = index.saturating_add(1);
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = match serde_json::from_str(line) {
            Ok(value) => value,
            Err(e) => {
                // Not JSON lines either: a broken CloudTrail file (pretty-printed, say) is
                // broken where the whole-document parser says, not on its first line.
                if let Some(whole) = whole_error.filter(|_| text.contains("\"Records\"")) {
                    return Err(EventsError(format!(
                        "line {}, column {}: not a CloudTrail log file ({whole})",
                        whole.line(),
                        whole.column()
                    )));
                }
                return Err(EventsError(format!(
                    "line {number}, column {}: not a JSON event ({e})",
                    e.column()
                )));
            }
        };
        if !value.is_object() {
            return Err(EventsError(format!(
                "line {number}: not a JSON event (an event is a JSON object, this is {})",
                json_kind(&value)
            )));
        }
        events.push(Event {
            position: format!("line {number}"),
            value,
        });
    }
    Ok(events)
}

/// The events of an array, each an object: a CloudTrail record or a log event is never a
/// bare number or string, and counting one would skew the match count.
fn events_of(
    values: Vec<Value>,
    position: impl Fn(usize) -> String,
) -> Result<Vec<Event>, EventsError> {
    values
        .into_iter()
        .enumerate()
        .map(|(i, value)| {
            if value.is_object() {
                Ok(Event {
                    position: position(i),
                    value,
                })
            } else {
                Err(EventsError(format!(
                    "{}: not a JSON event (an event is a JSON object, this is {})",
                    position(i),
                    json_kind(&value)
                )))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    #[test]
    fn reads_cloudtrail_files_plain_and_gzipped() {
        let file = br#"{"Records": [{"eventName": "ConsoleLogin"}, {"eventName": "GetObject"}]}"#;
        let events = parse(file).unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[1].position, "Records[1]");
        assert_eq!(events[1].value["eventName"], "GetObject");

        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(file).unwrap();
        assert_eq!(parse(&gz.finish().unwrap()).unwrap(), events);
    }

    #[test]
    fn reads_json_lines_and_names_the_bad_line() {
        let events = parse(b"{\"a\": 1}\n\n{\"a\": 2}\n").unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[1].position, "line 3");
        let err = parse(b"{\"a\": 1}\n{\"a\": \n").unwrap_err();
        assert!(err.0.starts_with("line 2, column"), "{err}");
        assert!(parse(&[0x1f, 0x8b, 0, 1]).is_err());
        assert!(parse(b"{\"Records\": 3}").is_err());
    }

    #[test]
    fn a_broken_cloudtrail_file_is_placed_by_the_whole_document_parser() {
        let file = "{\"Records\": [\n  {\"eventName\": \"ConsoleLogin\",\n   \"eventID\": \"e-1\"";
        let err = parse(file.as_bytes()).unwrap_err();
        assert!(err.0.starts_with("line 3, column "), "{err}");
        assert!(err.0.contains("not a CloudTrail log file"), "{err}");
    }

    #[test]
    fn a_truncated_gzip_says_so_and_where() {
        let file = br#"{"Records": [{"eventName": "ConsoleLogin"}, {"eventName": "GetObject"}]}"#;
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        gz.write_all(file).unwrap();
        let gz = gz.finish().unwrap();
        let cut = gz.len() / 2;
        let err = parse(&gz[..cut]).unwrap_err();
        assert!(err.0.starts_with("truncated gzip data"), "{err}");
        assert!(err.0.contains(&format!("of {cut}")), "{err}");
        let mut corrupt = gz.clone();
        corrupt[12] ^= 0xff;
        corrupt[13] ^= 0xff;
        let err = parse(&corrupt).unwrap_err();
        assert!(err.0.contains("gzip data"), "{err}");
    }

    #[test]
    fn a_json_array_of_events_is_read_event_by_event() {
        let events =
            parse(br#"[{"eventName": "ConsoleLogin"}, {"eventName": "GetObject"}]"#).unwrap();
        assert_eq!(events.len(), 2);
        assert_eq!(events[1].position, "[1]");
        assert_eq!(events[1].value["eventName"], "GetObject");
        let err = parse(b"[{\"eventName\": \"A\"}, 3]").unwrap_err().0;
        assert!(err.starts_with("[1]: not a JSON event"), "{err}");
        assert!(parse(b"[{\"eventName\": ").is_err());
    }

    #[test]
    fn records_and_lines_that_are_not_objects_are_refused_with_their_position() {
        let err = parse(br#"{"Records": [{"eventName": "A"}, 1]}"#)
            .unwrap_err()
            .0;
        assert!(err.starts_with("Records[1]: not a JSON event"), "{err}");
        let err = parse(b"{\"eventName\": \"A\"}\n42\n").unwrap_err().0;
        assert!(err.starts_with("line 2: not a JSON event"), "{err}");
    }

    /// Gives `data` a few bytes at a time, as a slow pipe or a decoder does.
    struct Trickle<'a> {
        data: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.step.min(buf.len()).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn the_capped_reader_takes_up_to_the_limit_and_never_reserves_past_it() {
        let data = vec![b'\n'; 100_000];
        for step in [1, 7, 4096, 100_000] {
            let mut out = Vec::new();
            let mut reader = Trickle { data: &data, step };
            read_capped(&mut reader, 100_000, &mut out).unwrap();
            assert_eq!(out, data);
            assert!(out.capacity() <= 100_000, "{step}: {}", out.capacity());

            let mut out = Vec::new();
            let mut reader = Trickle { data: &data, step };
            let err = read_capped(&mut reader, 99_999, &mut out).unwrap_err();
            assert!(matches!(err, CappedError::TooLarge), "{err:?}");
            assert!(out.len() <= 99_999 && out.capacity() <= 99_999, "{step}");
        }
        // A limit under one read's worth, and nothing at all.
        let mut out = Vec::new();
        read_capped(&mut &b"abc"[..], 3, &mut out).unwrap();
        assert_eq!(out, b"abc");
        assert!(matches!(
            read_capped(&mut &b"abcd"[..], 3, &mut Vec::new()),
            Err(CappedError::TooLarge)
        ));
        read_capped(&mut &b""[..], 0, &mut Vec::new()).unwrap();
    }

    #[test]
    fn a_gzip_that_decompresses_past_the_limit_is_refused_in_one_line() {
        let lines = vec![b'\n'; 64 * 1024 + 1];
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::best());
        gz.write_all(&lines).unwrap();
        let gz = gz.finish().unwrap();
        let err = parse_within(&gz, 64 * 1024).unwrap_err().0;
        assert_eq!(
            err,
            "refused: it decompresses to more than 64 KiB, the most cis-fix reads from one input. Split it into smaller files and pass them all (each is read on its own)"
        );
        assert_eq!(parse_within(&gz, 64 * 1024 + 1).unwrap(), vec![]);
        assert_eq!(size(MAX_INPUT), "1 GiB");
        assert_eq!(size(1000), "1000 bytes");
    }

    #[test]
    fn a_byte_order_mark_is_skipped() {
        let mut file = "\u{feff}".as_bytes().to_vec();
        file.extend_from_slice(br#"{"Records": [{"eventName": "ConsoleLogin"}]}"#);
        assert_eq!(parse(&file).unwrap().len(), 1);
        let mut lines = "\u{feff}".as_bytes().to_vec();
        lines.extend_from_slice(b"{\"a\": 1}\n{\"a\": 2}\n");
        assert_eq!(parse(&lines).unwrap().len(), 2);
    }
}
