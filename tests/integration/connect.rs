//! A wrong connection or configuration fails fast and says what is wrong: bad endpoint URLs,
//! unreachable and silent endpoints, missing profiles, malformed regions; and `--profile`
//! selects a profile's credentials, region and endpoint.
//!
//! Time bounds are generous (a check before any call takes milliseconds; the bounds are
//! seconds): they catch a hang or a long silence, not a slow machine.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use crate::harness::{isolate, stderr, stdout, Account, REGION};

/// The real binary with the developer's AWS settings removed, and credentials and region of
/// an account nobody will ever reach.
fn cis_fix(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cis-fix"));
    cmd.args(args);
    isolate(&mut cmd);
    cmd.env("AWS_ACCESS_KEY_ID", "111122223333")
        .env("AWS_SECRET_ACCESS_KEY", "not-a-secret")
        .env("AWS_REGION", REGION);
    cmd
}

fn timed(cmd: &mut Command) -> (Output, Duration) {
    let started = Instant::now();
    let out = cmd.output().expect("run cis-fix");
    (out, started.elapsed())
}

/// Exit 1, nothing on stdout, one line on stderr containing `expected`, within `bound`.
/// How long a refusal made before any call may take: a process start and a config read, on a
/// loaded two-core machine running the whole suite (2 s proved too tight there), and still
/// far below a wait on the network (retries, timeouts), which these refusals must never do.
const QUICK: Duration = Duration::from_secs(8);

fn assert_one_line_error(out: &Output, took: Duration, bound: Duration, expected: &str) {
    let err = stderr(out);
    // The status and the time in every message: a failure under load says which it was.
    assert_eq!(
        out.status.code(),
        Some(1),
        "{:?} after {took:?}: {err}",
        out.status
    );
    assert!(took < bound, "took {took:?}: {err}");
    assert!(stdout(out).is_empty(), "{}", stdout(out));
    assert_eq!(
        err.lines().count(),
        1,
        "{} lines after {took:?}: {err:?}",
        err.lines().count()
    );
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains(expected), "expected {expected:?} in: {err}");
}

/// Runs `cmd` with stderr read line by line as it comes: each line with when it came.
fn stderr_lines_as_they_come(cmd: &mut Command) -> (Vec<(Duration, String)>, Output) {
    let started = Instant::now();
    let mut child = cmd
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start cis-fix");
    let err = child.stderr.take().expect("stderr");
    let lines: Vec<(Duration, String)> = BufReader::new(err)
        .lines()
        .map(|line| (started.elapsed(), line.expect("read stderr")))
        .collect();
    let out = child.wait_with_output().expect("wait for cis-fix");
    (lines, out)
}

/// A loopback port nobody listens on: one the system just gave out and took back.
fn refused_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.local_addr().expect("address").port()
}

#[test]
fn a_bad_endpoint_url_is_one_quick_line_naming_the_setting_and_value() {
    let cases = [
        (
            "AWS_ENDPOINT_URL",
            "localhost:4566",
            "AWS_ENDPOINT_URL=\"localhost:4566\" is not a valid endpoint URL: it has no http:// or https:// scheme; write http://localhost:4566 (or https://localhost:4566), or unset it to use AWS's own endpoints",
        ),
        (
            "AWS_ENDPOINT_URL",
            "ftp://localhost:4566",
            "AWS_ENDPOINT_URL=\"ftp://localhost:4566\" is not a valid endpoint URL: its scheme is `ftp`, not http or https",
        ),
        ("AWS_ENDPOINT_URL", "http://:4566", "it has no host"),
        (
            "AWS_ENDPOINT_URL_STS",
            "127.0.0.1:4566",
            "AWS_ENDPOINT_URL_STS=\"127.0.0.1:4566\" is not a valid endpoint URL",
        ),
        (
            "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS",
            "http://localhost:99999",
            "its port `99999` is not a number from 1 to 65535",
        ),
    ];
    for (variable, value, expected) in cases {
        let (out, took) = timed(cis_fix(&["plan"]).env(variable, value));
        assert_one_line_error(&out, took, QUICK, expected);
    }

    // The profile's endpoint_url is checked too, and named with the profile and file.
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("config");
    std::fs::write(&config, "[profile dev]\nendpoint_url = localhost:4566\n").expect("write");
    let (out, took) = timed(
        cis_fix(&["plan"])
            .env("AWS_CONFIG_FILE", &config)
            .env("AWS_PROFILE", "dev"),
    );
    assert_one_line_error(
        &out,
        took,
        QUICK,
        &format!(
            "endpoint_url=\"localhost:4566\" in profile `dev` of {} is not a valid endpoint URL",
            config.display()
        ),
    );
}

#[test]
fn a_refused_endpoint_is_named_and_announced_at_once() {
    let port = refused_port();
    let endpoint = format!("http://127.0.0.1:{port}");
    let started = Instant::now();
    let (lines, out) = stderr_lines_as_they_come(
        cis_fix(&["plan", "--max-attempts", "4"]).env("AWS_ENDPOINT_URL", &endpoint),
    );
    let took = started.elapsed();
    let all: Vec<&str> = lines.iter().map(|(_, l)| l.as_str()).collect();
    assert_eq!(out.status.code(), Some(1), "{all:#?}");
    assert!(took < Duration::from_secs(20), "took {took:?}: {all:#?}");

    // The first line comes as soon as the first connection is refused.
    let (when, first) = lines.first().expect("a line on stderr");
    assert!(*when < Duration::from_secs(5), "first line after {when:?}");
    assert!(first.starts_with("waiting for "), "{all:#?}");
    assert!(
        first.contains(&format!(
            " at {endpoint}: connection refused, attempt 2 of 4"
        )),
        "{all:#?}"
    );
    // Then one line saying what failed, naming the endpoint; notices only before it.
    let (last, notices) = all.split_last().expect("lines");
    assert!(last.starts_with("error: AWS call "), "{all:#?}");
    assert!(
        last.contains(&format!("cannot reach {endpoint}: connection refused")),
        "{all:#?}"
    );
    assert!(
        notices.iter().all(|l| l.starts_with("waiting for ")),
        "{all:#?}"
    );
}

#[test]
fn a_silent_endpoint_is_announced_then_times_out() {
    // Accepts connections and never answers.
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let endpoint = format!("http://{}", listener.local_addr().expect("address"));
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for stream in listener.incoming() {
            held.push(stream);
        }
    });
    let started = Instant::now();
    let (lines, out) = stderr_lines_as_they_come(
        cis_fix(&["plan", "--timeout", "5"]).env("AWS_ENDPOINT_URL", &endpoint),
    );
    let took = started.elapsed();
    let all: Vec<&str> = lines.iter().map(|(_, l)| l.as_str()).collect();
    assert_eq!(out.status.code(), Some(1), "{all:#?}");
    assert!(took < Duration::from_secs(20), "took {took:?}: {all:#?}");

    let (when, first) = lines.first().expect("a line on stderr");
    assert!(*when < Duration::from_secs(5), "first line after {when:?}");
    assert!(
        first.starts_with("waiting for ")
            && first.contains(&format!(" at {endpoint}: no reply yet, attempt 1 of 8")),
        "{all:#?}"
    );
    let last = all.last().expect("lines");
    assert!(last.starts_with("error: AWS call "), "{all:#?}");
    assert!(
        last.contains(&format!("no reply from {endpoint} within 5 s"))
            && last.contains("--timeout"),
        "{all:#?}"
    );
}

#[test]
fn credentials_in_an_endpoint_url_are_masked_everywhere() {
    // Refused, with the -v call log on: the notice, the log and the error all name it.
    let port = refused_port();
    let (out, took) = timed(
        cis_fix(&["plan", "-v", "--timeout", "3", "--max-attempts", "2"]).env(
            "AWS_ENDPOINT_URL",
            format!("http://user:pw@127.0.0.1:{port}"),
        ),
    );
    let (out_text, err) = (stdout(&out), stderr(&out));
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(took < Duration::from_secs(20), "took {took:?}: {err}");
    assert!(
        !out_text.contains("pw") && !err.contains("pw"),
        "{out_text}{err}"
    );
    let masked = format!("http://****@127.0.0.1:{port}");
    assert!(
        err.lines()
            .any(|l| l.starts_with("waiting for ") && l.contains(&format!(" at {masked}: "))),
        "{err}"
    );
    let last = err.lines().last().unwrap_or_default();
    assert!(
        last.starts_with("error: AWS call ") && last.contains(&masked),
        "{err}"
    );

    // Refused locally, before any call: the value and the suggested fix are masked.
    for (value, shown) in [
        (
            "user:pw@localhost:4566",
            "AWS_ENDPOINT_URL=\"****@localhost:4566\" is not a valid endpoint URL: it has no http:// or https:// scheme; write http://****@localhost:4566 (or https://****@localhost:4566)",
        ),
        (
            "ftp://user:pw@x",
            "AWS_ENDPOINT_URL=\"ftp://****@x\" is not a valid endpoint URL: its scheme is `ftp`",
        ),
        (
            "http://user:pw@",
            "AWS_ENDPOINT_URL=\"http://****@\" is not a valid endpoint URL: it has no host",
        ),
        (
            "http://user:p/pw@localhost:4566",
            "AWS_ENDPOINT_URL=\"http://****@localhost:4566\" is not a valid endpoint URL",
        ),
    ] {
        let (out, took) = timed(cis_fix(&["plan"]).env("AWS_ENDPOINT_URL", value));
        assert_one_line_error(&out, took, QUICK, shown);
        assert!(!stderr(&out).contains("pw"), "{value}: {}", stderr(&out));
    }

    // The same in a profile's endpoint_url.
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("config");
    std::fs::write(
        &config,
        "[profile dev]\nendpoint_url = user:pw@localhost:4566\n",
    )
    .expect("write");
    let (out, took) = timed(
        cis_fix(&["plan"])
            .env("AWS_CONFIG_FILE", &config)
            .env("AWS_PROFILE", "dev"),
    );
    assert_one_line_error(
        &out,
        took,
        QUICK,
        "endpoint_url=\"****@localhost:4566\" in profile `dev`",
    );
    assert!(!stderr(&out).contains("pw"), "{}", stderr(&out));
}

#[test]
fn a_missing_profile_names_the_profile_and_the_files_looked_in() {
    let dir = tempfile::tempdir().expect("temp dir");
    let config = dir.path().join("config");
    let credentials = dir.path().join("credentials");
    std::fs::write(&config, "[default]\nregion = us-east-1\n[profile dev]\n").expect("write");
    let files = format!(
        "is not defined in {} (AWS_CONFIG_FILE) or {} (AWS_SHARED_CREDENTIALS_FILE, which does not exist); defined there: default, dev.",
        config.display(),
        credentials.display()
    );
    let with_files = |cmd: &mut Command| {
        cmd.env("AWS_CONFIG_FILE", &config)
            .env("AWS_SHARED_CREDENTIALS_FILE", &credentials);
    };

    // --profile, on every command that talks to AWS; it wins over AWS_PROFILE.
    for args in [
        &["plan", "--profile", "nope"][..],
        &["export", "terraform", "--profile", "nope"],
        &["apply", "--profile", "nope", "--auto-approve"],
        &["backout", "--profile", "nope", "--auto-approve"],
        &["drill", "--profile", "nope", "--auto-approve"],
    ] {
        let mut cmd = cis_fix(args);
        with_files(&mut cmd);
        let (out, took) = timed(cmd.env("AWS_PROFILE", "dev"));
        assert_one_line_error(
            &out,
            took,
            QUICK,
            &format!("AWS profile `nope` (from --profile) {files}"),
        );
    }

    let mut cmd = cis_fix(&["plan"]);
    with_files(&mut cmd);
    let (out, took) = timed(cmd.env("AWS_PROFILE", "nope"));
    assert_one_line_error(
        &out,
        took,
        QUICK,
        &format!("AWS profile `nope` (from AWS_PROFILE) {files}"),
    );
    assert!(stderr(&out).contains("aws configure --profile nope"));
}

fn write_profile(dir: &Path, account: &Account) -> std::path::PathBuf {
    let config = dir.join("config");
    std::fs::write(
        &config,
        format!(
            "[profile audit]\nregion = {REGION}\nendpoint_url = {}\naws_access_key_id = {}\naws_secret_access_key = test-secret\n",
            account.emulator.url(),
            account.id
        ),
    )
    .expect("write config");
    config
}

#[tokio::test]
async fn profile_selects_credentials_region_and_endpoint_from_the_config_file() {
    let account = Account::new().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let config = write_profile(dir.path(), &account);

    // --profile wins over AWS_PROFILE and over credentials in the environment (here those
    // of another account).
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cis-fix"));
    cmd.args(["plan", "--format", "json", "--profile", "audit"]);
    isolate(&mut cmd);
    cmd.env("AWS_CONFIG_FILE", &config)
        .env("AWS_PROFILE", "other")
        .env("AWS_ACCESS_KEY_ID", "999999999999")
        .env("AWS_SECRET_ACCESS_KEY", "test-secret");
    let out = cmd.output().expect("run cis-fix");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON plan");
    crate::harness::validate(&plan, "plan");
    assert_eq!(plan["account_id"], account.id.as_str(), "{plan:#}");
    assert_eq!(plan["region"], REGION);

    // AWS_PROFILE alone selects it too.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cis-fix"));
    cmd.args(["plan", "--format", "json"]);
    isolate(&mut cmd);
    cmd.env("AWS_CONFIG_FILE", &config)
        .env("AWS_PROFILE", "audit");
    let out = cmd.output().expect("run cis-fix");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    let plan: serde_json::Value = serde_json::from_slice(&out.stdout).expect("JSON plan");
    crate::harness::validate(&plan, "plan");
    assert_eq!(plan["account_id"], account.id.as_str());
}

#[tokio::test]
async fn a_malformed_region_is_refused_before_any_call() {
    let account = Account::new().await;
    for region in ["moon-1", "us-east-1a"] {
        let (out, took) = timed(&mut account.command(&["plan", "--region", region]));
        assert_one_line_error(
            &out,
            took,
            QUICK,
            &format!("`{region}` is not an AWS region name (such as us-east-1"),
        );
    }
    // From the environment too.
    let (out, took) = timed(account.command(&["backout"]).env("AWS_REGION", "moon-1"));
    assert_one_line_error(&out, took, QUICK, "`moon-1` is not an AWS region name");
    assert!(account.calls().is_empty(), "{:?}", account.calls());
    // Partitions other than aws are fine: the check is local and about shape only.
    let out = account.run(&["plan", "--region", "us-gov-west-1", "--format", "json"]);
    assert!(
        !stderr(&out).contains("not an AWS region name"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn timeout_and_profile_are_options_of_every_command_that_calls_aws() {
    for command in ["plan", "apply", "backout", "drill", "export"] {
        let help = stdout(&cis_fix(&[command, "--help"]).output().expect("run"));
        for flag in [
            "AWS connection:",
            "--profile <NAME>",
            "--timeout <SECS>",
            "CIS_FIX_TIMEOUT",
            "--max-attempts <N>",
        ] {
            assert!(help.contains(flag), "{command}: no {flag} in help:\n{help}");
        }
    }
    for (args, env) in [
        (&["plan", "--timeout", "0"][..], None),
        (&["plan"], Some("soon")),
        (&["plan", "--profile", ""], None),
    ] {
        let mut cmd = cis_fix(args);
        if let Some(value) = env {
            cmd.env("CIS_FIX_TIMEOUT", value);
        }
        let (out, _) = timed(&mut cmd);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).starts_with("error: ") && stderr(&out).contains("value"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}
