use std::io::Write;

use super::*;

fn options(jobs: usize, max_matches: Option<u64>) -> Options {
    Options {
        window: Window::default(),
        max_matches,
        jobs,
        list: true,
        block: stream::LINES_BLOCK,
    }
}

/// Files `f00.json` … of `per_file` JSON lines each; every third event an `A`.
fn tree(files: usize, per_file: usize) -> (tempfile::TempDir, Vec<Input>) {
    let dir = tempfile::tempdir().unwrap();
    for f in 0..files {
        let lines: Vec<String> = (0..per_file)
            .map(|e| {
                let name = if (f + e) % 3 == 0 { "A" } else { "B" };
                format!("{{\"eventName\": \"{name}\", \"eventID\": \"{f}-{e}\"}}")
            })
            .collect();
        std::fs::write(dir.path().join(format!("f{f:02}.json")), lines.join("\n")).unwrap();
    }
    let found = inputs(&[dir.path().to_path_buf()], &Window::default()).unwrap();
    (dir, found)
}

fn run(inputs: &[Input], options: &Options) -> (Vec<String>, Summary) {
    let pattern = crate::pattern::parse("{ $.eventName = A }").unwrap();
    let mut ids = Vec::new();
    let summary = test(&[pattern], inputs, options, &mut |m| {
        ids.push(m.event.value["eventID"].as_str().unwrap_or("?").to_string());
        Ok(())
    })
    .unwrap();
    (ids, summary)
}

#[test]
fn the_order_is_the_files_then_the_events_whatever_the_workers() {
    let (_dir, found) = tree(12, 700);
    let (one, summary) = run(&found, &options(1, None));
    assert_eq!(summary.events, 12 * 700);
    assert_eq!(summary.matched, one.len() as u64);
    assert_eq!(one.first().map(String::as_str), Some("0-0"));
    for jobs in [2, 3, 8] {
        let (many, again) = run(&found, &options(jobs, None));
        assert_eq!(many, one, "{jobs} workers");
        assert_eq!(again, summary);
    }
}

#[test]
fn max_matches_stops_at_the_same_events_every_time() {
    let (_dir, found) = tree(6, 900);
    let (all, _) = run(&found, &options(1, None));
    for max in [1, 5, 300, 301, 1000] {
        let (first, summary) = run(&found, &options(1, Some(max)));
        assert_eq!(first, all[..max as usize], "{max}");
        assert!(summary.stopped);
        for jobs in [2, 4] {
            let (again, same) = run(&found, &options(jobs, Some(max)));
            assert_eq!(
                (again, same),
                (first.clone(), summary.clone()),
                "{max}, {jobs}"
            );
        }
    }
}

/// One file of `lines` JSON lines (every third event an `A`), and its input.
fn one_file(lines: usize) -> (tempfile::TempDir, Vec<Input>) {
    let dir = tempfile::tempdir().unwrap();
    let text: String = (0..lines)
        .map(|e| {
            let name = if e % 3 == 0 { "A" } else { "B" };
            format!("{{\"eventName\": \"{name}\", \"eventID\": \"{e}\"}}\n")
        })
        .collect();
    let path = dir.path().join("big.jsonl");
    std::fs::write(&path, text).unwrap();
    (dir, vec![Input::File(path)])
}

/// A file read ahead in blocks of lines that the workers share: the same matches in the
/// same order, the same stop with `--max-matches`, whatever the blocks and workers.
#[test]
fn one_large_file_shared_out_in_blocks_reads_the_same_events() {
    let (_dir, found) = one_file(3000);
    let whole = |jobs, max| Options {
        block: usize::MAX / 4,
        ..options(jobs, max)
    };
    let (all, summary) = run(&found, &whole(1, None));
    assert_eq!((all.len(), summary.events), (1000, 3000));
    for block in [1, 100, 4096] {
        for jobs in [1, 2, 4] {
            let shared = |max| Options {
                block,
                ..options(jobs, max)
            };
            assert_eq!(run(&found, &shared(None)), (all.clone(), summary.clone()));
            for max in [1, 5, 300, 1000] {
                // Counts per pattern are incomplete when stopped (and never shown then).
                let totals = |s: Summary| (s.events, s.matched, s.stopped);
                let (first, stopped) = run(&found, &shared(Some(max)));
                assert_eq!(first, all[..max as usize], "{block} {jobs} {max}");
                let expected = totals(run(&found, &whole(1, Some(max))).1);
                assert_eq!(totals(stopped), expected, "{block} {jobs} {max}");
            }
        }
    }
}

#[test]
fn a_broken_line_of_a_file_read_in_blocks_is_reported_at_its_line() {
    let (dir, found) = one_file(3000);
    let path = dir.path().join("big.jsonl");
    let mut text = std::fs::read_to_string(&path).unwrap();
    let at = text.match_indices('\n').nth(2499).unwrap().0;
    text.insert_str(at + 1, "{not json}\n");
    std::fs::write(&path, text).unwrap();
    let pattern = crate::pattern::parse("{ $.eventName = A }").unwrap();
    let error = |block| {
        let options = Options {
            block,
            ..options(2, None)
        };
        test(
            std::slice::from_ref(&pattern),
            &found,
            &options,
            &mut |_| Ok(()),
        )
        .unwrap_err()
        .to_string()
    };
    let whole = error(usize::MAX / 4);
    assert!(whole.contains("big.jsonl: line 2501, column 2"), "{whole}");
    assert_eq!(error(100), whole);
    assert_eq!(error(1), whole);
}

#[test]
fn counts_every_pattern_in_one_pass_and_reports_a_broken_file() {
    let (dir, found) = tree(3, 10);
    let patterns = [
        crate::pattern::parse("{ $.eventName = A }").unwrap(),
        crate::pattern::parse("{ $.eventName = B }").unwrap(),
    ];
    let counts_only = Options {
        list: false,
        ..options(2, None)
    };
    let summary = test(&patterns, &found, &counts_only, &mut |_| Ok(())).unwrap();
    assert_eq!(
        (summary.counts[0] + summary.counts[1], summary.events),
        (30, 30)
    );
    assert_eq!(summary.counts[0], 10);
    std::fs::write(dir.path().join("f01.json"), "{\"a\": 1}\n{not json}\n").unwrap();
    let err = test(&patterns, &found, &counts_only, &mut |_| Ok(()))
        .unwrap_err()
        .to_string();
    assert!(err.contains("f01.json: line 2, column"), "{err}");
}

#[test]
fn dates_come_from_cloudtrail_paths() {
    let path = Path::new("AWSLogs/o-abc/111122223333/CloudTrail/eu-west-1/2026/11/03/x.json.gz");
    let date = Date::from_calendar_date(2026, time::Month::November, 3).unwrap();
    assert_eq!(path_date(path), Some(date));
    assert_eq!(
        path_date(Path::new("AWSLogs/1/CloudTrail/2026/13/03/x.json")),
        None
    );
    assert_eq!(path_date(Path::new("logs/x.json")), None);
    let at = |d: u8| date.replace_day(d).unwrap().midnight().assume_utc();
    let window = Window {
        since: Some(at(5)),
        until: Some(at(10)),
    };
    let day = |d: u8| date.replace_day(d).unwrap();
    let kept: Vec<u8> = (1..15).filter(|d| window.may_hold(day(*d))).collect();
    assert_eq!(kept, [4, 5, 6, 7, 8, 9, 10, 11]);
    let event = |t: &str| serde_json::json!({ "eventTime": t });
    assert!(window.holds(&event("2026-11-05T00:00:00Z")));
    assert!(!window.holds(&event("2026-11-10T00:00:00Z")));
    assert!(!window.holds(&serde_json::json!({})));
    assert!(Window::default().holds(&serde_json::json!({})));
}

#[test]
fn a_directory_is_walked_in_path_order_for_log_files_only() {
    let dir = tempfile::tempdir().unwrap();
    let trail = |account: &str, day: &str| {
        let path = dir.path().join(format!(
            "AWSLogs/{account}/CloudTrail/us-east-1/2026/11/{day}"
        ));
        std::fs::create_dir_all(&path).unwrap();
        path
    };
    for (account, day) in [("222", "02"), ("111", "09"), ("111", "01")] {
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(b"{\"Records\": []}").unwrap();
        std::fs::write(
            trail(account, day).join("log.json.gz"),
            gz.finish().unwrap(),
        )
        .unwrap();
    }
    std::fs::write(trail("111", "01").join("notes.txt"), "x").unwrap();
    let digest = dir
        .path()
        .join("AWSLogs/111/CloudTrail-Digest/us-east-1/2026/11/01");
    std::fs::create_dir_all(&digest).unwrap();
    std::fs::write(digest.join("d.json.gz"), "x").unwrap();
    let names = |window: &Window| -> Vec<String> {
        inputs(&[dir.path().to_path_buf()], window)
            .unwrap()
            .iter()
            .map(|i| i.name().replacen(&dir.path().display().to_string(), "", 1))
            .collect()
    };
    assert_eq!(
        names(&Window::default()),
        [
            "/AWSLogs/111/CloudTrail/us-east-1/2026/11/01/log.json.gz",
            "/AWSLogs/111/CloudTrail/us-east-1/2026/11/09/log.json.gz",
            "/AWSLogs/222/CloudTrail/us-east-1/2026/11/02/log.json.gz",
        ]
    );
    let since = Date::from_calendar_date(2026, time::Month::November, 4).unwrap();
    let window = Window {
        since: Some(since.midnight().assume_utc()),
        until: None,
    };
    assert_eq!(
        names(&window),
        ["/AWSLogs/111/CloudTrail/us-east-1/2026/11/09/log.json.gz"]
    );
}
