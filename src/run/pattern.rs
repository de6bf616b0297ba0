//! `cis-fix pattern test`'s work: the events of each file (`-`: standard input) that a pattern
//! matches, as logs:TestMetricFilter would match them, offline. (`pattern check` is pure:
//! [`crate::audit::accepted::check`].)

use std::path::Path;

use crate::error::{Error, Result};
use crate::events;
use crate::pattern::Pattern;
use crate::render::pattern::Matched;

/// What `pattern test` found: the matched events, in file order, and how many were read.
pub struct Tested {
    pub matched: Vec<Matched>,
    pub total: usize,
}

/// Reads every file in turn and keeps the events `pattern` matches.
pub fn test(pattern: &Pattern, files: &[impl AsRef<Path>]) -> Result<Tested> {
    let mut matched = Vec::new();
    let mut total = 0usize;
    for path in files {
        let path = path.as_ref();
        let bytes = read_within(path, events::MAX_INPUT)?;
        let events = events::parse(&bytes).map_err(|e| {
            Error::Usage(format!("cannot read events from {}: {e}", path.display()))
        })?;
        total = total.saturating_add(events.len());
        let file = path.display().to_string();
        matched.extend(
            events
                .into_iter()
                .filter(|event| pattern.matches(&event.value))
                .map(|event| Matched {
                    file: file.clone(),
                    event,
                }),
        );
    }
    Ok(Tested { matched, total })
}

/// A file's bytes (`-`: standard input), at most `limit` of them.
fn read_within(path: &Path, limit: usize) -> Result<Vec<u8>> {
    let fail = |e: std::io::Error| Error::Usage(format!("cannot read {}: {e}", path.display()));
    let too_large = || {
        Error::Usage(format!(
            "cannot read events from {}: refused: it holds more than {}",
            path.display(),
            events::too_large_advice(limit)
        ))
    };
    let mut bytes = Vec::new();
    let read = if path.as_os_str() == "-" {
        events::read_capped(&mut std::io::stdin().lock(), limit, &mut bytes)
    } else {
        let mut file = std::fs::File::open(path).map_err(fail)?;
        // A file's size is known: refused before it is read, else read into a buffer of that
        // size (as `fs::read` does) rather than grown to it.
        let size = file.metadata().map(|m| m.len()).unwrap_or(0);
        match usize::try_from(size) {
            Ok(size) if size <= limit => bytes.reserve_exact(size),
            _ => return Err(too_large()),
        }
        events::read_capped(&mut file, limit, &mut bytes)
    };
    match read {
        Ok(()) => Ok(bytes),
        Err(events::CappedError::TooLarge) => Err(too_large()),
        Err(events::CappedError::Io(e)) => Err(fail(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_file_over_the_limit_is_refused_and_one_within_it_is_read() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("events.json");
        std::fs::write(&path, b"{\"a\": 1}\n\n").unwrap();
        assert_eq!(read_within(&path, 10).unwrap(), b"{\"a\": 1}\n\n");
        let err = read_within(&path, 9).unwrap_err().to_string();
        assert_eq!(
            err,
            format!(
                "cannot read events from {}: refused: it holds more than 9 bytes, the most cis-fix reads from one input. Split it into smaller files and pass them all (each is read on its own)",
                path.display()
            )
        );
    }

    #[test]
    fn the_matches_of_every_file_are_kept_in_order_with_their_file() {
        let dir = tempfile::tempdir().unwrap();
        let (one, two) = (dir.path().join("one.json"), dir.path().join("two.json"));
        std::fs::write(&one, "{\"eventName\": \"A\"}\n{\"eventName\": \"B\"}\n").unwrap();
        std::fs::write(&two, "{\"eventName\": \"A\", \"eventID\": \"2\"}\n").unwrap();
        let pattern = crate::pattern::parse("{ $.eventName = A }").unwrap();
        let tested = test(&pattern, &[&one, &two]).unwrap();
        assert_eq!(tested.total, 3);
        let found: Vec<(String, String)> = tested
            .matched
            .iter()
            .map(|m| (m.file.clone(), m.event.position.clone()))
            .collect();
        assert_eq!(
            found,
            [
                (one.display().to_string(), "line 1".to_string()),
                (two.display().to_string(), "line 1".to_string())
            ]
        );
    }
}
