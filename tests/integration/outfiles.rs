//! `--out` onto what is not a regular file (issue 18, item 8): a device, a FIFO or a symbolic
//! link is refused in one line, before any AWS call, and left exactly as it was.
//!
//! Safe as root: the devices written at are `mknod` copies of /dev/null in a temporary
//! directory, so that a regression replaces that node, not the machine's. The real
//! /dev/null is only tried against an endpoint that answers nothing, where even a regression
//! stops at the first AWS call, before any write.

use std::os::unix::fs::{FileTypeExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::Output;

use crate::harness::{queue, stderr, stdout, Account, TrailSpec};

const GROUP: &str = "cloudtrail/management";

/// What a path is, as far as a test can tell: its type, mode and device number, and for a
/// symbolic link its target and the target's mode and content.
fn state(path: &Path) -> String {
    let meta = std::fs::symlink_metadata(path).unwrap();
    let kind = meta.file_type();
    let mut seen = format!(
        "dir={} file={} link={} char={} fifo={} mode={:o} rdev={}",
        kind.is_dir(),
        kind.is_file(),
        kind.is_symlink(),
        kind.is_char_device(),
        kind.is_fifo(),
        meta.mode(),
        meta.rdev()
    );
    if kind.is_symlink() {
        let target = std::fs::read_link(path).unwrap();
        seen += &format!(" -> {}", target.display());
        // Not the test's own stdout (`/proc/self/fd/1`): it grows as tests log.
        let followed = !target.starts_with("/proc");
        if let Some(target_meta) = std::fs::metadata(path).ok().filter(|_| followed) {
            seen += &format!(" mode={:o}", target_meta.mode());
            if target_meta.is_file() {
                seen += &format!(" {:?}", std::fs::read_to_string(path).unwrap());
            }
            if target_meta.is_dir() {
                seen += &format!(" entries={}", std::fs::read_dir(path).unwrap().count());
            }
        }
    }
    seen
}

/// The targets that are not regular files, each with what the refusal must call it.
struct Targets {
    _dir: tempfile::TempDir,
    all: Vec<(PathBuf, &'static str)>,
}

fn targets() -> Targets {
    let dir = tempfile::tempdir().unwrap();
    let at = |name: &str| dir.path().join(name);
    let ok = |cmd: &mut std::process::Command| assert!(cmd.status().unwrap().success());
    ok(std::process::Command::new("mkfifo").arg(at("pipe")));
    let theirs = at("theirs.json");
    std::fs::write(&theirs, "their content").unwrap();
    std::os::unix::fs::symlink(&theirs, at("link.json")).unwrap();
    std::os::unix::fs::symlink("/proc/self/fd/1", at("stdout")).unwrap();
    let mut all = vec![
        (at("pipe"), "a FIFO (named pipe)"),
        (at("link.json"), "a symbolic link"),
        (at("stdout"), "a symbolic link"),
    ];
    // Root (as in containers and CI) can make a device; others test the real one below.
    let device = at("null");
    let made = std::process::Command::new("mknod")
        .arg(&device)
        .args(["c", "1", "3"])
        .status()
        .is_ok_and(|s| s.success());
    if made {
        all.push((device, "a character device"));
    }
    Targets { _dir: dir, all }
}

/// Exit 1, one line on stderr that says what `path` is and points to `--out -`, nothing on
/// stdout.
fn assert_refused(args: &[&str], out: &Output, path: &str, what: &str) {
    let err = stderr(out);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {err}");
    assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
    assert!(
        err.contains(&format!("cannot write {path}: it is {what}")) && err.contains("--out -"),
        "{args:?}: {err}"
    );
    assert!(stdout(out).is_empty(), "{args:?}: {}", stdout(out));
}

/// Runs `args` with `--out path` and expects the refusal, no AWS call, and `path` untouched.
fn assert_out_refused(account: &Account, args: &[&str], path: &Path, what: &str) {
    let shown = path.to_str().unwrap();
    let args = [args, &["--out", shown]].concat();
    let before = state(path);
    account.reset_calls();
    assert_refused(&args, &account.run(&args), shown, what);
    assert!(
        account.calls().is_empty(),
        "{args:?}: {:?}",
        account.calls()
    );
    assert_eq!(state(path), before, "{args:?}");
}

/// Refused with the real /dev/null, against an endpoint that answers nothing.
fn assert_dev_null_refused(account: &Account, args: &[&str]) {
    let args = [args, &["--out", "/dev/null"]].concat();
    let before = state(Path::new("/dev/null"));
    let out = account
        .command(&args)
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .args(["--max-attempts", "1", "--timeout", "5"])
        .output()
        .unwrap();
    assert_refused(&args, &out, "/dev/null", "a character device");
    assert_eq!(state(Path::new("/dev/null")), before);
}

#[tokio::test]
async fn plan_out_onto_a_device_a_fifo_or_a_link_is_refused_and_left_as_it_was() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    let notify = queue(&account);
    let plan = ["plan", "--controls", "5.1", "--notify", &notify];
    let targets = targets();
    for (path, what) in &targets.all {
        assert_out_refused(&account, &plan, path, what);
        assert_out_refused(&account, &[&plan[..], &["--org"]].concat(), path, what);
    }
    assert_dev_null_refused(&account, &plan);
}

#[tokio::test]
async fn export_out_onto_a_device_a_fifo_or_a_link_is_refused_and_left_as_it_was() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    let notify = queue(&account);
    let export = [
        "export",
        "terraform",
        "--controls",
        "5.1",
        "--notify",
        &notify,
    ];
    let targets = targets();
    for (path, what) in &targets.all {
        assert_out_refused(&account, &export, path, what);
    }
    assert_dev_null_refused(&account, &export);

    // A link to a directory, typed as a directory or not.
    let dir = tempfile::tempdir().unwrap();
    let real = dir.path().join("real");
    std::fs::create_dir(&real).unwrap();
    let link = dir.path().join("stacks");
    std::os::unix::fs::symlink(&real, &link).unwrap();
    let with_slash = PathBuf::from(format!("{}/", link.display()));
    let cloudformation = [
        "export",
        "cloudformation",
        "--controls",
        "5.1",
        "--notify",
        &notify,
    ];
    for args in [&export, &cloudformation] {
        for path in [&link, &with_slash] {
            assert_out_refused(&account, args, path, "a symbolic link");
        }
    }
    assert_eq!(std::fs::read_dir(&real).unwrap().count(), 0);

    // `--out -` is stdout, as for plan: no file named `-`.
    let out = account
        .command(&[&export[..], &["--out", "-"]].concat())
        .current_dir(dir.path())
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(stdout(&out).contains("resource \"aws_cloudwatch_metric_alarm\""));
    assert!(!dir.path().join("-").exists());
}
