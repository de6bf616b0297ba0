//! Arguments, exit codes and environment handling of the real binary.

use std::process::Command;
use std::time::{Duration, Instant};

use crate::harness::{isolate, stderr, stdout, Account};

fn cis_fix(args: &[&str]) -> std::process::Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cis-fix"));
    cmd.args(args);
    isolate(&mut cmd);
    cmd.output().expect("run cis-fix")
}

#[test]
fn bad_arguments_exit_1_with_a_clear_message() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["plan", "--notify", "pager:123"],
            "unknown protocol `pager`",
        ),
        (
            &["plan", "--notify", "email:nobody"],
            "not a valid email endpoint",
        ),
        (&["plan", "--format", "yaml"], "invalid value 'yaml'"),
        (&["plan", "--topic-arn", "alerts"], "not an SNS topic ARN"),
        (&["plan", "--benchmark", "cis-9"], "invalid value 'cis-9'"),
        (&["plan", "--controls", "5.1,9.9"], "unknown control"),
        (
            &["plan", "--catalog", "/nonexistent/catalog.toml"],
            "cannot read catalog /nonexistent/catalog.toml",
        ),
        (
            &[
                "plan",
                "--notify",
                "email:a@example.com",
                "--topic-arn",
                "arn:aws:sns:us-east-1:111122223333:t",
            ],
            "cannot be used with",
        ),
        (&["frobnicate"], "unrecognized subcommand"),
    ];
    for (args, expected) in cases {
        let out = cis_fix(args);
        assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
        assert!(
            stderr(&out).contains(expected),
            "{args:?}: {}",
            stderr(&out)
        );
        assert!(stdout(&out).is_empty(), "{args:?}");
    }
    // The unknown-controls error says the valid ones in a few words, and where to see them.
    let out = cis_fix(&["plan", "--controls", "9.9"]);
    assert_eq!(
        stderr(&out),
        "error: unknown control 9.9; valid for cis-7.0: 5.1–5.15, or their slugs; `cis-fix controls` lists them\n"
    );
}

/// The commands that make no AWS call.
const OFFLINE: [&[&str]; 7] = [
    &["pattern", "check"],
    &["pattern", "test"],
    &["controls"],
    &["schema"],
    &["completions"],
    &["man"],
    &["iam-policy"],
];

#[test]
fn offline_commands_show_and_take_only_their_own_options() {
    for command in OFFLINE {
        let help = stdout(&cis_fix(&[command, &["--help"]].concat()));
        for aws in ["--profile", "--timeout", "--max-attempts", "AWS connection"] {
            assert!(
                !help.contains(aws),
                "{command:?} --help lists {aws}:\n{help}"
            );
        }
        // Given anyway, it is refused, not ignored.
        let out = cis_fix(&[command, &["--profile", "audit"]].concat());
        assert_eq!(out.status.code(), Some(1), "{command:?}: {}", stderr(&out));
        assert!(
            stderr(&out).starts_with("error: unexpected argument '--profile' found"),
            "{command:?}: {}",
            stderr(&out)
        );
    }
    // Nor does their environment reach them: a bad AWS_MAX_ATTEMPTS is no reason to fail.
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cis-fix"));
    isolate(&mut cmd);
    let out = cmd
        .args(["controls", "--controls", "5.1"])
        .env("AWS_MAX_ATTEMPTS", "0")
        .env("CIS_FIX_TIMEOUT", "soon")
        .output()
        .expect("run cis-fix");
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
}

#[test]
fn pattern_commands_refuse_controls_which_they_would_ignore() {
    // `check` compares one control, named with --control: a list is refused, pointing at it.
    let args = [
        "pattern",
        "check",
        "--control",
        "5.3",
        "--controls",
        "5.1",
        "{ $.a = 1 }",
    ];
    let out = cis_fix(&args);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
    let said = stderr(&out);
    assert!(
        said.starts_with("error: unexpected argument '--controls' found")
            && said.contains("a similar argument exists: '--control'"),
        "{args:?}: {said}"
    );
    assert!(stdout(&out).is_empty(), "{args:?}");
    // `test` counts several controls with --controls, or lists one's matches: not both.
    let args = [
        "pattern",
        "test",
        "--controls",
        "5.1",
        "--control",
        "5.3",
        "-",
    ];
    let out = cis_fix(&args);
    assert_eq!(out.status.code(), Some(1), "{args:?}: {}", stderr(&out));
    let said = stderr(&out);
    assert!(
        said.starts_with(
            "error: the argument '--controls <IDS>' cannot be used with '--control <ID>'"
        ),
        "{said}"
    );
    assert!(stdout(&out).is_empty());
}

#[test]
fn help_and_version_exit_0() {
    for args in [&["--help"][..], &["--version"], &["plan", "--help"]] {
        let out = cis_fix(args);
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert!(!stdout(&out).is_empty());
    }
    let help = stdout(&cis_fix(&["plan", "--help"]));
    for flag in [
        "--benchmark",
        "--controls",
        "--notify",
        "--topic-arn",
        "--detailed-exitcode",
        "--out",
    ] {
        assert!(help.contains(flag), "{flag} missing from help");
    }
}

#[test]
fn a_malformed_catalog_names_file_line_and_field() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mine.toml");
    let text = std::fs::read_to_string(crate::harness::path_in_repo("plans/cis-7.0.toml"))
        .unwrap()
        .replacen("metric_name =", "metric_nam =", 1);
    std::fs::write(&path, text).unwrap();
    let out = cis_fix(&["plan", "--catalog", path.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.contains("mine.toml:line "), "{err}");
    assert!(err.contains("metric_nam"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn missing_credentials_are_one_quick_line() {
    let started = Instant::now();
    let out = cis_fix(&["plan", "--region", "us-east-1"]);
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(err.starts_with("error: no AWS credentials found"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn missing_region_is_one_line() {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_cis-fix"));
    cmd.arg("plan");
    isolate(&mut cmd);
    cmd.env("AWS_ACCESS_KEY_ID", "111122223333")
        .env("AWS_SECRET_ACCESS_KEY", "x");
    let out = cmd.output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("no AWS region configured"),
        "{}",
        stderr(&out)
    );
}

#[tokio::test]
async fn an_unreachable_endpoint_is_an_error_not_a_hang() {
    let account = Account::new().await;
    let out = account
        .command(&["plan"])
        // Nothing listens on port 9 (discard) of loopback here.
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    // Notices while it retries, then one line that names the endpoint.
    let lines: Vec<&str> = err.lines().collect();
    let (last, notices) = lines.split_last().expect("lines on stderr");
    assert!(last.starts_with("error: AWS call "), "{err}");
    assert!(
        last.contains("cannot reach http://127.0.0.1:9: connection refused"),
        "{err}"
    );
    assert!(
        !notices.is_empty() && notices.iter().all(|l| l.starts_with("waiting for ")),
        "{err}"
    );
}

#[tokio::test]
async fn broken_saved_plans_are_refused_in_one_line_without_writes() {
    let account = Account::new().await;
    account
        .trail(crate::harness::TrailSpec::good("main", "ct"))
        .await;
    let dir = tempfile::tempdir().unwrap();
    let good = dir.path().join("good.json");
    let out = account.run(&[
        "plan",
        "--notify",
        "sms:+15555550100",
        "--out",
        good.to_str().unwrap(),
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = std::fs::read_to_string(&good).unwrap();

    let cases: Vec<(&str, String, &str)> = vec![
        ("empty.json", String::new(), "the file is empty"),
        (
            "truncated.json",
            text[..text.len() / 2].to_string(),
            "not JSON (or truncated)",
        ),
        ("not-json.json", "plan: yes\n".into(), "not JSON"),
        (
            "wrong-shape.json",
            "{\"kind\": \"cis-fix-saved-plan\", \"format_version\": 3, \"plan\": 5}".into(),
            "not a valid saved plan",
        ),
        ("other-kind.json", "[1, 2, 3]".into(), "not a saved plan"),
        (
            "future.json",
            text.replace(
                "\"format_version\": 3,\n  \"kind\"",
                "\"format_version\": 99,\n  \"kind\"",
            ),
            "format_version 99 is not supported",
        ),
    ];
    account.reset_calls();
    for (name, content, expected) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, content).unwrap();
        let out = account.run(&["apply", path.to_str().unwrap(), "--auto-approve"]);
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(1), "{name}: {err}");
        assert!(
            err.contains(&format!("cannot use saved plan {}", path.display())),
            "{name}: {err}"
        );
        assert!(err.contains(expected), "{name}: {err}");
        assert_eq!(err.lines().count(), 1, "{name}: {err}");
    }
    let missing = dir.path().join("missing.json");
    let out = account.run(&["apply", missing.to_str().unwrap(), "--auto-approve"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr(&out).contains("missing.json") && stderr(&out).contains("No such file"),
        "{}",
        stderr(&out)
    );
    // Nothing at all reached AWS: the file is checked first.
    assert!(account.calls().is_empty(), "{:?}", account.calls());
}

#[tokio::test]
async fn secrets_never_appear_in_output() {
    let account = Account::new().await;
    let secret = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYSECRETKEY";
    for args in [&["plan"][..], &["plan", "--format", "json"], &["backout"]] {
        let out = account
            .command(args)
            .env("AWS_SECRET_ACCESS_KEY", secret)
            .env("AWS_SESSION_TOKEN", "SESSION-TOKEN-SECRET")
            .output()
            .unwrap();
        let all = format!("{}{}", stdout(&out), stderr(&out));
        assert!(
            !all.contains(secret) && !all.contains("SESSION-TOKEN-SECRET"),
            "{all}"
        );
    }
    // Nor when the endpoint fails.
    let out = account
        .command(&["plan"])
        .env("AWS_SECRET_ACCESS_KEY", secret)
        .env("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
        .output()
        .unwrap();
    assert!(!stderr(&out).contains(secret));
}

#[test]
fn shell_integration_catalog_and_schemas_need_no_aws() {
    // No credentials, no region, no endpoint: these commands never call AWS.
    let out = cis_fix(&["completions", "bash"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let dir = tempfile::tempdir().unwrap();
    let script = dir.path().join("cis-fix.bash");
    std::fs::write(&script, &out.stdout).unwrap();
    let check = Command::new("bash")
        .arg("-n")
        .arg(&script)
        .output()
        .unwrap();
    assert!(check.status.success(), "{}", stderr(&check));
    for shell in ["zsh", "fish", "powershell", "elvish"] {
        let out = cis_fix(&["completions", shell]);
        assert!(out.status.success() && out.stdout.len() > 1000, "{shell}");
    }
    // --benchmark completes to the built-in versions; fish says which is the default.
    assert!(stdout(&out).contains("cis-7.0"), "bash");
    let fish = stdout(&cis_fix(&["completions", "fish"]));
    assert!(fish.contains(r"cis-7.0\t'the newest (default)'"), "{fish}");
    let man = cis_fix(&["man"]);
    assert!(man.status.success());
    assert!(stdout(&man).contains(".TH cis-fix 1"), "{}", stdout(&man));

    let out = cis_fix(&[
        "controls",
        "--benchmark",
        "cis-1.2",
        "--controls",
        "3.1",
        "--format",
        "json",
    ]);
    assert!(out.status.success(), "{}", stderr(&out));
    let doc: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(doc["benchmark"], "cis-1.2");
    assert_eq!(doc["controls"][0]["id"], "3.1");
    assert!(doc["controls"][0]["pattern"]
        .as_str()
        .unwrap()
        .starts_with('{'));
    let out = cis_fix(&["controls", "--controls", "5.6"]);
    assert!(
        stdout(&out).contains("5.6 console-authentication-failures"),
        "{}",
        stdout(&out)
    );
    assert!(
        stdout(&out).contains("  pattern  ($.eventName = \"ConsoleLogin\")"),
        "{}",
        stdout(&out)
    );

    for document in ["plan", "saved-plan", "org-plan", "saved-org-plan"] {
        let out = cis_fix(&["schema", document]);
        assert!(out.status.success(), "{}", stderr(&out));
        let schema: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(
            schema["$schema"], "https://json-schema.org/draft/2020-12/schema",
            "{document}"
        );
    }

    let out = cis_fix(&["--version"]);
    assert!(out.status.success());
    assert!(
        stdout(&out)
            .contains("benchmarks: cis-1.2, cis-1.4, cis-3.0, cis-5.0, cis-6.0, cis-7.0 (default)"),
        "{}",
        stdout(&out)
    );
}

#[tokio::test]
async fn clicolor_force_colours_a_pipe_unless_no_color_and_colour_ends_every_line() {
    let account = Account::new().await;
    account
        .trail(crate::harness::TrailSpec::good("main", "cloudtrail/main"))
        .await;
    let run = |vars: &[(&str, &str)]| {
        let mut cmd = account.command(&["plan", "--controls", "5.1,5.6"]);
        // The harness turns colour off for every other test.
        cmd.env_remove("NO_COLOR");
        for (k, v) in vars {
            cmd.env(k, v);
        }
        stdout(&cmd.output().expect("run cis-fix"))
    };
    assert!(
        !run(&[]).contains('\u{1b}'),
        "a pipe is not coloured by default"
    );
    let forced = run(&[("CLICOLOR_FORCE", "1")]);
    assert!(forced.contains('\u{1b}'), "{forced}");
    // Every coloured line resets before its newline, so a pager shows lines alone.
    for line in forced.lines().filter(|l| l.contains('\u{1b}')) {
        assert_eq!(
            line.rfind("\u{1b}["),
            line.rfind("\u{1b}[0m"),
            "the last escape of {line:?} is not a reset"
        );
    }
    assert!(!run(&[("CLICOLOR_FORCE", "0")]).contains('\u{1b}'));
    assert!(!run(&[("CLICOLOR_FORCE", "1"), ("NO_COLOR", "1")]).contains('\u{1b}'));
}

/// `cis-fix ARGS` in a shell pipeline `SHELL_PIPE` (in which `"$@"` is cis-fix), against
/// `account`: cis-fix's own exit status, and the pipeline's stderr.
fn in_pipeline(account: &Account, pipe: &str, args: &[&str]) -> (Option<i32>, String) {
    let cis_fix = account.command(args);
    let mut shell = Command::new("bash");
    shell
        .args([
            "-c",
            &format!("{pipe}; exit \"${{PIPESTATUS[0]}}\""),
            "bash",
        ])
        .arg(cis_fix.get_program())
        .args(cis_fix.get_args());
    for (name, value) in cis_fix.get_envs() {
        match value {
            Some(value) => shell.env(name, value),
            None => shell.env_remove(name),
        };
    }
    let out = shell.output().expect("run bash");
    (out.status.code(), stderr(&out))
}

#[tokio::test]
async fn a_closed_pipe_ends_the_output_quietly() {
    let account = Account::new().await;
    account
        .trail(crate::harness::TrailSpec::good(
            "main",
            "cloudtrail/management",
        ))
        .await;
    // `-v` logs dozens of calls after `head` has gone, on stdout's pipe, on stderr's, or on both.
    for pipe in [
        "\"$@\" 2>&1 | head -2",
        "\"$@\" | head -1",
        "\"$@\" 2>&1 >/dev/null | head -1 >&2",
    ] {
        for args in [&["plan", "-v"][..], &["plan", "-v", "--format", "json"]] {
            let (code, said) = in_pipeline(&account, pipe, args);
            assert!(!said.contains("panicked"), "{pipe} {args:?}: {said}");
            assert_eq!(code, Some(0), "{pipe} {args:?}: {said}");
        }
    }
    // An error with stderr closed still exits 1, its own code.
    let (code, said) = in_pipeline(&account, "\"$@\" 2>&-", &["plan", "--controls", "9.9"]);
    assert_eq!(code, Some(1), "{said}");
    // Offline commands too.
    for args in [
        &["controls"][..],
        &["man"],
        &["schema"],
        &["completions", "bash"],
    ] {
        let (code, said) = in_pipeline(&account, "\"$@\" | head -1 >/dev/null", args);
        assert_eq!(code, Some(0), "{args:?}: {said}");
    }
}

/// The example lines of `cis-fix COMMAND --help`, as the binary prints them.
fn help_examples(command: &str) -> Vec<String> {
    let help = stdout(&cis_fix(&[command, "--help"]));
    help.lines()
        .skip_while(|line| *line != "Examples:")
        .skip(1)
        .map(|line| line.trim().to_string())
        .filter(|line| line.starts_with("cis-fix "))
        .collect()
}

/// A directory holding what the examples name (`notify.txt`, `cloudtrail/*.json.gz`), and a
/// `bin/cis-fix` that is the binary under test.
fn example_dir() -> tempfile::TempDir {
    use std::io::Write as _;
    let dir = tempfile::tempdir().expect("temp dir");
    std::fs::write(
        dir.path().join("notify.txt"),
        "email:security@example.com\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("cloudtrail")).unwrap();
    let events = r#"{"Records": [{"eventName": "ConsoleLogin", "errorCode": "AccessDenied"}]}"#;
    let file = std::fs::File::create(dir.path().join("cloudtrail/events.json.gz")).unwrap();
    let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
    gz.write_all(events.as_bytes()).unwrap();
    gz.finish().unwrap();
    std::fs::create_dir(dir.path().join("bin")).unwrap();
    std::os::unix::fs::symlink(
        env!("CARGO_BIN_EXE_cis-fix"),
        dir.path().join("bin/cis-fix"),
    )
    .unwrap();
    dir
}

/// Runs one example line in `dir` with a shell, as a user would type it, against `account`;
/// what follows a pipe or a redirection (`| jq …`, `> ~/.config/…`) is left out.
fn run_example(account: &Account, dir: &std::path::Path, line: &str) -> std::process::Output {
    let command_line = line.split(" | ").next().unwrap_or(line);
    let command_line = command_line.split(" > ").next().unwrap_or(command_line);
    let cmd = account.command(&[]);
    let path = format!(
        "{}:{}",
        dir.join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut shell = Command::new("bash");
    shell.args(["-c", command_line]).current_dir(dir);
    for (name, value) in cmd.get_envs() {
        match value {
            Some(value) => shell.env(name, value),
            None => shell.env_remove(name),
        };
    }
    shell.env("PATH", path).stdin(std::process::Stdio::null());
    shell.output().expect("run bash")
}

#[tokio::test]
async fn every_help_example_runs() {
    let commands = [
        "plan",
        "apply",
        "backout",
        "drill",
        "export",
        "forecast",
        "pattern",
        "controls",
        "schema",
        "iam-policy",
        "completions",
        "man",
    ];
    let mut ran = 0;
    for command in commands {
        // Each command's examples in order, on an account of their own.
        let account = Account::new().await;
        account
            .trail(crate::harness::TrailSpec::good(
                "main",
                "cloudtrail/management",
            ))
            .await;
        // Something to remove, and alarms that deliver to drill.
        if command == "backout" || command == "drill" {
            let notify = crate::harness::queue(&account);
            crate::harness::assert_ok(&account.run(&[
                "apply",
                "--notify",
                &notify,
                "--auto-approve",
            ]));
        }
        let dir = example_dir();
        let examples = help_examples(command);
        assert!(examples.len() >= 2, "{command}: {examples:?}");
        for line in examples {
            // Organizations need one to be built: their examples are checked to parse
            // (cli::shell's unit tests), and `--org` itself in tests/integration/org.rs.
            if line.contains("--org") {
                continue;
            }
            let out = run_example(&account, dir.path(), &line);
            let said = format!("{line}\nstdout: {}\nstderr: {}", stdout(&out), stderr(&out));
            let asks = ["apply", "backout", "drill"].contains(&command)
                && !line.contains("--auto-approve")
                && !line.contains(".json");
            if asks {
                // It got as far as the question, which needs a terminal.
                assert_eq!(out.status.code(), Some(1), "{said}");
                assert!(
                    stderr(&out).contains("cannot ask for confirmation"),
                    "{said}"
                );
            } else if line.contains("--detailed-exitcode") {
                assert!(matches!(out.status.code(), Some(0 | 2)), "{said}");
            } else {
                assert_eq!(out.status.code(), Some(0), "{said}");
            }
            assert!(!stdout(&out).is_empty() || line.contains("--out"), "{said}");
            ran += 1;
        }
    }
    assert!(ran >= 20, "{ran}");
}

#[test]
fn every_command_that_prints_text_takes_color() {
    let dir = tempfile::tempdir().unwrap();
    let events = dir.path().join("events.json");
    let event =
        r#"{"eventName":"ConsoleLogin","errorMessage":"Failed authentication","eventID":"e-1"}"#;
    std::fs::write(&events, format!("{event}\n")).unwrap();
    let events = events.to_str().unwrap();
    let printing: [&[&str]; 3] = [
        &["controls", "--controls", "5.6"],
        &[
            "pattern",
            "check",
            "--control",
            "5.6",
            "{ $.eventName = ConsoleLogin }",
        ],
        &["pattern", "test", "--control", "5.6", events],
    ];
    for command in printing {
        let plain = cis_fix(&[command, &["--color", "never"]].concat());
        assert_eq!(
            plain.status.code(),
            Some(0),
            "{command:?}: {}",
            stderr(&plain)
        );
        assert!(
            !stdout(&plain).contains('\u{1b}'),
            "{command:?}: {}",
            stdout(&plain)
        );
        let painted = cis_fix(&[command, &["--color", "always"]].concat());
        assert_eq!(
            painted.status.code(),
            Some(0),
            "{command:?}: {}",
            stderr(&painted)
        );
        let text = stdout(&painted);
        assert!(
            text.contains("\u{1b}["),
            "{command:?} is not coloured: {text}"
        );
        // Colour adds sequences and nothing else.
        let stripped = text
            .split('\u{1b}')
            .enumerate()
            .map(|(i, part)| {
                if i == 0 {
                    part
                } else {
                    &part[part.find('m').unwrap() + 1..]
                }
            })
            .collect::<String>();
        assert_eq!(stripped, stdout(&plain), "{command:?}");
    }
    // export writes code, never coloured; --color is for its notes on stderr.
    let help = stdout(&cis_fix(&["export", "--help"]));
    assert!(help.contains("--color"), "{help}");
}
