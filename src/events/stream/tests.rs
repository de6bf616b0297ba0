use std::io::Write;

use proptest::prelude::*;

use super::*;

/// Every event of `bytes` (gzip sniffed), through the streaming reader.
fn read(bytes: &[u8], limit: usize) -> Result<Vec<Event>, EventsError> {
    let mut reader = decoded(bytes).map_err(io_error)?;
    let mut events = Vec::new();
    for_each(&mut *reader, limit, &mut |event| {
        events.push(event);
        Flow::Continue(())
    })?;
    Ok(events)
}

fn gzip(bytes: &[u8]) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    gz.write_all(bytes).unwrap();
    gz.finish().unwrap()
}

fn positions(events: &[Event]) -> Vec<&str> {
    events.iter().map(|e| e.position.as_str()).collect()
}

#[test]
fn streams_a_cloudtrail_file_plain_and_gzipped() {
    let file =
        br#"{"Records": [{"eventName": "ConsoleLogin"}, {"eventName": "GetObject"}], "x": 1}"#;
    let events = read(file, MAX_EVENT).unwrap();
    assert_eq!(positions(&events), ["Records[0]", "Records[1]"]);
    assert_eq!(events[1].value["eventName"], "GetObject");
    assert_eq!(read(&gzip(file), MAX_EVENT).unwrap(), events);
    assert_eq!(events, crate::events::reference::parse(file).unwrap());
}

#[test]
fn streams_json_lines_and_arrays_with_their_positions() {
    let lines = b"\n{\"a\": 1}\n\n  {\"a\": 2}\n";
    assert_eq!(
        positions(&read(lines, MAX_EVENT).unwrap()),
        ["line 2", "line 4"]
    );
    assert_eq!(
        read(lines, MAX_EVENT).unwrap(),
        crate::events::reference::parse(lines).unwrap()
    );
    let array = br#"[{"a": 1}, {"a": 2}]"#;
    assert_eq!(positions(&read(array, MAX_EVENT).unwrap()), ["[0]", "[1]"]);
    let single = b"{\n  \"eventName\": \"A\"\n}\n";
    assert_eq!(positions(&read(single, MAX_EVENT).unwrap()), ["line 1"]);
    let bom = b"\xef\xbb\xbf{\"a\": 1}\n";
    assert_eq!(read(bom, MAX_EVENT).unwrap().len(), 1);
    assert!(read(b"", MAX_EVENT).unwrap().is_empty());
}

#[test]
fn malformed_input_is_refused_with_its_position() {
    let err = read(b"{\"a\": 1}\n{\"a\": \n", MAX_EVENT).unwrap_err().0;
    assert!(err.starts_with("line 2, column"), "{err}");
    let broken = b"{\"Records\": [\n  {\"eventName\": \"A\",\n   \"eventID\": \"e-1\"";
    let err = read(broken, MAX_EVENT).unwrap_err().0;
    assert!(err.starts_with("line 3, column "), "{err}");
    assert!(err.contains("not a CloudTrail log file"), "{err}");
    let err = read(br#"{"Records": [{"a": 1}, 3]}"#, MAX_EVENT)
        .unwrap_err()
        .0;
    assert!(err.starts_with("Records[1]: not a JSON event"), "{err}");
    let err = read(b"[{\"a\": 1}, \"x\"]", MAX_EVENT).unwrap_err().0;
    assert!(err.starts_with("[1]: not a JSON event"), "{err}");
    assert!(read(b"{\"Records\": 3}", MAX_EVENT).is_err());
    let err = read(b"{\"a\": 1} {\"b\": 2}\n", MAX_EVENT).unwrap_err().0;
    assert!(err.starts_with("line 1: not a JSON event"), "{err}");
    let gz = gzip(br#"{"Records": [{"eventName": "A"}, {"eventName": "B"}]}"#);
    let err = read(&gz[..gz.len() / 2], MAX_EVENT).unwrap_err().0;
    assert!(err.contains("gzip data"), "{err}");
}

#[test]
fn an_event_past_the_limit_is_refused_in_every_form() {
    let big = format!("{{\"a\": \"{}\"}}", "x".repeat(100));
    let lines = format!("{{\"a\": 1}}\n{big}\n");
    let err = read(lines.as_bytes(), 50).unwrap_err().0;
    assert!(
        err.starts_with("line 2: an event of more than 50 bytes"),
        "{err}"
    );
    let records = format!("{{\"Records\": [{{\"a\": 1}}, {big}]}}");
    let err = read(records.as_bytes(), 50).unwrap_err().0;
    assert!(err.contains("an event of more than 50 bytes"), "{err}");
    // Many small records add up to more than the limit: each is measured alone.
    let many: Vec<String> = (0..20).map(|i| format!("{{\"a\": {i}}}")).collect();
    let records = format!("{{\"Records\": [{}]}}", many.join(","));
    assert_eq!(read(records.as_bytes(), 50).unwrap().len(), 20);
}

#[test]
fn the_caller_can_stop_the_reading() {
    let many: Vec<String> = (0..10).map(|i| format!("{{\"a\": {i}}}")).collect();
    for text in [
        format!("{{\"Records\": [{}]}}", many.join(",")),
        many.join("\n"),
        format!("[{}]", many.join(",")),
    ] {
        let mut seen = 0;
        let read = for_each(&mut text.as_bytes(), MAX_EVENT, &mut |_| {
            seen += 1;
            if seen == 3 {
                Flow::Break(())
            } else {
                Flow::Continue(())
            }
        })
        .unwrap();
        assert_eq!((seen, read), (3, 3), "{text}");
    }
}

/// A CloudTrail-like record from generated fields.
fn record() -> impl Strategy<Value = Value> {
    let name = prop::sample::select(vec!["ConsoleLogin", "GetObject", "PutBucketPolicy"]);
    let error = prop::option::of(prop::sample::select(vec![
        "AccessDenied",
        "Failed authentication",
    ]));
    (name, error, 0u32..1000).prop_map(|(name, error, id)| {
        let mut event = serde_json::json!({"eventName": name, "eventID": id.to_string()});
        if let Some(error) = error {
            event["errorCode"] = error.into();
        }
        event
    })
}

proptest! {
    /// Streaming finds the same events, at the same positions, as the whole-file parse, in
    /// each form an input takes (plain and gzipped).
    #[test]
    fn streaming_and_the_whole_file_parse_agree(
        records in prop::collection::vec(record(), 0..20),
        form in 0usize..3,
        gzipped: bool,
    ) {
        let lines: Vec<String> = records.iter().map(Value::to_string).collect();
        let text = match form {
            0 => serde_json::json!({"Records": records}).to_string(),
            1 => lines.join("\n"),
            _ => Value::from(records.clone()).to_string(),
        };
        let bytes = if gzipped { gzip(text.as_bytes()) } else { text.into_bytes() };
        let whole = crate::events::reference::parse(&bytes).unwrap();
        let streamed = read(&bytes, MAX_EVENT).unwrap();
        prop_assert_eq!(&streamed, &whole);
        let pattern = crate::pattern::parse("{ $.errorCode = \"AccessDenied\" }").unwrap();
        let count = |events: &[Event]| events.iter().filter(|e| pattern.matches(&e.value)).count();
        prop_assert_eq!(count(&streamed), count(&whole));
    }
}

/// Every event of `bytes` read as `pattern test` reads a large input: JSON lines read ahead
/// in blocks of `size` bytes, each parsed on its own; other forms by [`for_each`].
fn read_in_blocks(bytes: &[u8], limit: usize, size: usize) -> Result<Vec<Event>, EventsError> {
    let mut reader = decoded(bytes).map_err(io_error)?;
    let mut events = Vec::new();
    let mut keep = |event| {
        events.push(event);
        Flow::Continue(())
    };
    let Some(mut next) = lines_ahead(&mut *reader, limit)? else {
        for_each(&mut *reader, limit, &mut keep)?;
        return Ok(events);
    };
    loop {
        let lines = read_lines(&mut *reader, limit, size, &mut next);
        lines_events(&lines, limit, &Fields::all(), &mut keep)?;
        if lines.end {
            return Ok(events);
        }
    }
}

#[test]
fn json_lines_read_in_blocks_are_the_same_events_and_errors() {
    let long = format!("{{\"eventName\": \"{}\"}}", "x".repeat(300));
    let inputs = [
        "{\"a\": 1}\n{\"a\": 2}\n\n{\"a\": 3}".to_string(),
        "\u{feff}\n\n  {\"a\": 1}\r\n{\"a\": 2}\n".to_string(),
        "{\"a\": 1}\n{\"a\": 2}\n{\"a\": \n{\"a\": 4}\n".to_string(),
        "{\"a\": 1}\n[1]\n".to_string(),
        "{\"a\": 1}\n{\"a\": 2}\n".to_string() + &long + "\n{\"a\": 3}\n",
        "\"x\"\n{\"a\": 1}\n".to_string(),
        "{\"Records\": [{\"a\": 1}]}\n".to_string(),
        "{\"a\": 1} {\"a\": 2}\n{\"a\": 3}\n".to_string(),
        "{\n  \"a\": 1\n}\n".to_string(),
        "[{\"a\": 1},\n{\"a\": 2}]".to_string(),
        "\n\n".to_string(),
    ];
    for text in &inputs {
        let lines = (1..40)
            .map(|i| format!("{{\"i\": {i}}}\n"))
            .collect::<String>();
        for text in [text.clone(), lines.clone() + text, text.clone() + &lines] {
            for bytes in [text.as_bytes().to_vec(), gzip(text.as_bytes())] {
                let whole = read(&bytes, 200);
                for size in [1, 7, 64, 100_000] {
                    assert_eq!(
                        read_in_blocks(&bytes, 200, size),
                        whole,
                        "{text:?} in {size}"
                    );
                }
            }
        }
    }
}

#[test]
fn a_read_error_in_json_lines_is_at_the_same_line_in_blocks() {
    let text: String = (1..2000).map(|i| format!("{{\"i\": {i}}}\n")).collect();
    let gz = gzip(text.as_bytes());
    let cut = &gz[..gz.len() / 2];
    let whole = read(cut, MAX_EVENT).unwrap_err();
    assert!(whole.0.contains("truncated gzip data"), "{whole}");
    for size in [1, 100, 4096] {
        assert_eq!(read_in_blocks(cut, MAX_EVENT, size), Err(whole.clone()));
    }
}

/// A CloudTrail file or an array small enough is parsed in memory, a larger one streamed:
/// the same events and the same errors at the same positions either way.
#[test]
fn held_and_streamed_documents_read_the_same() {
    let records: Vec<String> = (0..400).map(|i| format!("{{\"i\": {i}}}")).collect();
    let joined = records.join(",\n");
    let inputs = [
        format!("{{\"Records\": [{joined}], \"x\": 1}}"),
        format!("{{\"x\": [1], \"Records\": [\n{joined}\n]}}\n\n"),
        format!("{{\"Records\": [{joined}, {{\"i\": tru}}]}}"),
        format!("{{\"Records\": [{joined}, 7]}}"),
        format!("{{\"Records\": [{joined}]}} trailing"),
        "{\"Records\": {\"i\": 1}}".to_string(),
        format!("[{joined}]"),
        format!("[{joined},\n]"),
        format!("{}\n{{\"i\": 1}}", records[0]),
        format!("{{\n\"i\": 1\n}}\n{joined}"),
    ];
    for text in &inputs {
        for bytes in [text.as_bytes().to_vec(), gzip(text.as_bytes())] {
            let held = read(&bytes, MAX_EVENT);
            let streamed = read(&bytes, 100);
            assert_eq!(streamed, held, "{text:.60}");
        }
        // A gzip file cut short: the same error after the same events.
        let gz = gzip(text.as_bytes());
        let cut = &gz[..gz.len() * 2 / 3];
        assert_eq!(read(cut, 100), read(cut, MAX_EVENT), "{text:.60}");
    }
}
