//! Recorded log events for `cis-fix pattern test`: a CloudTrail log file as S3 stores it
//! (`{"Records": [...]}`, gzipped or not), or a file of JSON lines (one event per line).
//!
//! `pattern test` reads its inputs through [`stream`], one event at a time, keeping of each
//! event what [`fields`] says. The whole-input reader it replaced is `reference`, compiled
//! for the tests only: the oracle the streaming reader is property-tested against.

use serde_json::Value;

pub mod fields;
#[cfg(test)]
mod reference;
pub mod stream;

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
pub(crate) const GZIP_MAGIC: [u8; 2] = [0x1f, 0x8b];

/// A JSON value's type, as messages name it (`an array`). The policy evaluator words its own
/// errors alike, but keeps its own copy: it imports nothing from the crate, so that it can
/// stand alone, and events must not lean on it for a sentence.
pub(crate) fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// `limit` bytes as people count them: `1 GiB`, `64 KiB`, `1000 bytes`.
pub(crate) fn size(limit: usize) -> String {
    for (unit, name) in [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")] {
        if limit >= unit && limit % unit == 0 {
            return format!("{} {name}", limit / unit);
        }
    }
    format!("{limit} bytes")
}
