//! Recorded log events for `cis-fix pattern test`: a CloudTrail log file as S3 stores it
//! (`{"Records": [...]}`, gzipped or not), or a file of JSON lines (one event per line).
//!
//! Pure: bytes in, events with their positions out; the caller reads the files.

use std::io::Read;

use serde_json::Value;

/// One event and where it was found.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// `Records[N]` for a CloudTrail file, `line N` (1-based) for JSON lines.
    pub position: String,
    pub value: Value,
}

/// Why a file could not be read as events; says where.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EventsError(pub String);

/// gzip files start with these two bytes.
const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// Parses a file's bytes into events.
pub fn parse(bytes: &[u8]) -> Result<Vec<Event>, EventsError> {
    let text = if bytes.starts_with(&GZIP_MAGIC) {
        let mut text = String::new();
        flate2::read::MultiGzDecoder::new(bytes)
            .read_to_string(&mut text)
            .map_err(|e| EventsError(format!("not a readable gzip file: {e}")))?;
        text
    } else {
        String::from_utf8(bytes.to_vec()).map_err(|e| {
            EventsError(format!(
                "not UTF-8 text (byte {})",
                e.utf8_error().valid_up_to()
            ))
        })?
    };
    let trimmed = text.trim_start();
    // A CloudTrail file is one JSON object with `Records`; JSON lines start with `{` too, so
    // try the whole text first.
    if trimmed.starts_with('{') {
        if let Ok(Value::Object(mut object)) = serde_json::from_str::<Value>(&text) {
            if let Some(records) = object.remove("Records") {
                let Value::Array(records) = records else {
                    return Err(EventsError("`Records` is not an array".into()));
                };
                return Ok(records
                    .into_iter()
                    .enumerate()
                    .map(|(i, value)| Event {
                        position: format!("Records[{i}]"),
                        value,
                    })
                    .collect());
            }
            return Ok(vec![Event {
                position: "line 1".into(),
                value: Value::Object(object),
            }]);
        }
    }
    let mut events = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let number = index.saturating_add(1);
        if line.trim().is_empty() {
            continue;
        }
        let value: Value = serde_json::from_str(line).map_err(|e| {
            EventsError(format!(
                "line {number}, column {}: not a JSON event ({e})",
                e.column()
            ))
        })?;
        events.push(Event {
            position: format!("line {number}"),
            value,
        });
    }
    Ok(events)
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
}
