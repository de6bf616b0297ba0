//! The JSON-parsing limit `cis-fix pattern test` stands behind, measured: serde_json parses
//! every event and builds nothing (or, with `--value`, builds each as a `serde_json::Value`),
//! on every core, with nothing else done. Used by examples/bench-pattern-test.sh.
//!
//! Usage: cargo run --release --example parse-limit -- [--value] FILE.jsonl
//!        cargo run --release --example parse-limit -- [--value] FILE.json.gz...
//! A JSON-lines file is cut into one line-aligned byte range per core; gzipped CloudTrail
//! files (`{"Records": [...]}`) are shared out whole, each decompressed then parsed.
//! Prints the events (or files) parsed.

use std::fs::File;
use std::io::{BufRead, BufReader, Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use serde::de::IgnoredAny;

type Failure = Box<dyn std::error::Error + Send + Sync>;

fn main() -> Result<(), Failure> {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let build_values = args.first().is_some_and(|a| a == "--value");
    if build_values {
        args.remove(0);
    }
    let files: Vec<PathBuf> = args.into_iter().map(PathBuf::from).collect();
    let cores = thread::available_parallelism().map_or(1, |n| n.get());
    let parsed = match files.as_slice() {
        [one] if !is_gzip(one) => json_lines(one, cores, build_values)?,
        [] => return Err("usage: parse-limit [--value] FILE.jsonl | FILE.json.gz...".into()),
        many => gzipped_records(many, cores, build_values)?,
    };
    println!("{parsed} parsed on {cores} cores");
    Ok(())
}

fn is_gzip(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "gz")
}

fn parse(bytes: &[u8], build_values: bool) -> Result<(), Failure> {
    match build_values {
        true => serde_json::from_slice::<serde_json::Value>(bytes).map(drop)?,
        false => serde_json::from_slice::<IgnoredAny>(bytes).map(drop)?,
    }
    Ok(())
}

/// One line-aligned byte range of the file per core; returns the lines parsed.
fn json_lines(path: &Path, cores: usize, build_values: bool) -> Result<usize, Failure> {
    let size = std::fs::metadata(path)?.len();
    let bound = |i: usize| size / cores as u64 * i as u64;
    thread::scope(|scope| {
        let workers: Vec<_> = (0..cores)
            .map(|i| {
                let (start, end) = (bound(i), if i + 1 == cores { size } else { bound(i + 1) });
                scope.spawn(move || lines_in(path, start, end, build_values))
            })
            .collect();
        let mut total = 0;
        for worker in workers {
            total += worker.join().map_err(|_| "a worker panicked")??;
        }
        Ok(total)
    })
}

/// The lines that start in `start..end` (a line starts after a newline, or at 0).
fn lines_in(path: &Path, start: u64, end: u64, build_values: bool) -> Result<usize, Failure> {
    let mut file = File::open(path)?;
    let mut at = start.saturating_sub(1);
    file.seek(SeekFrom::Start(at))?;
    let mut reader = BufReader::with_capacity(1 << 20, file);
    let mut line = Vec::new();
    if start > 0 {
        at += reader.read_until(b'\n', &mut line)? as u64;
    }
    let mut parsed = 0;
    while at < end {
        line.clear();
        let n = reader.read_until(b'\n', &mut line)?;
        if n == 0 {
            break;
        }
        at += n as u64;
        if !line.trim_ascii().is_empty() {
            parse(&line, build_values)?;
            parsed += 1;
        }
    }
    Ok(parsed)
}

/// Gzipped files shared out whole among the cores; returns the files parsed.
fn gzipped_records(files: &[PathBuf], cores: usize, build_values: bool) -> Result<usize, Failure> {
    let next = AtomicUsize::new(0);
    thread::scope(|scope| {
        let workers: Vec<_> = (0..cores)
            .map(|_| {
                scope.spawn(|| -> Result<usize, Failure> {
                    let mut parsed = 0;
                    let mut text = Vec::new();
                    while let Some(path) = files.get(next.fetch_add(1, Ordering::Relaxed)) {
                        text.clear();
                        flate2::read::MultiGzDecoder::new(BufReader::new(File::open(path)?))
                            .read_to_end(&mut text)?;
                        parse(&text, build_values)?;
                        parsed += 1;
                    }
                    Ok(parsed)
                })
            })
            .collect();
        let mut total = 0;
        for worker in workers {
            total += worker.join().map_err(|_| "a worker panicked")??;
        }
        Ok(total)
    })
}
