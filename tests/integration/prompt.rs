//! The confirmation question and Ctrl-C, through a real pseudo-terminal (util-linux `script`):
//! only a typed `yes` line approves, and Ctrl-C never leaves a change half-told.

use std::io::{Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::harness::words;
use crate::harness::{assert_ok, isolate, queue, status, stdout, writes, Account, TrailSpec};

const GROUP: &str = "cloudtrail/management";
const CANCELLED: &str = "cancelled; nothing was changed";

/// cis-fix running on a pseudo-terminal: what it shows (stdout and stderr together, as on a
/// screen), and a keyboard.
pub(crate) struct Terminal {
    child: Child,
    keyboard: ChildStdin,
    screen: Arc<Mutex<Vec<u8>>>,
    /// Set once the screen has shown everything: script(1) closed its output.
    ended: Arc<AtomicBool>,
}

impl Terminal {
    /// On a terminal 200 columns wide: wide enough that no line the tests look for wraps.
    pub(crate) fn start(account: &Account, args: &[&str]) -> Terminal {
        Terminal::start_sized(account, args, 200)
    }

    /// On a terminal `columns` wide.
    pub(crate) fn start_sized(account: &Account, args: &[&str], columns: u16) -> Terminal {
        let mut inner = vec![
            format!("stty cols {columns} rows 50;"),
            env!("CARGO_BIN_EXE_cis-fix").to_string(),
        ];
        inner.extend(args.iter().map(|a| a.to_string()));
        let mut cmd = Command::new("script");
        cmd.args(["-qec", &inner.join(" "), "/dev/null"]);
        isolate(&mut cmd);
        cmd.env("AWS_ENDPOINT_URL", account.emulator.url())
            .env("AWS_ACCESS_KEY_ID", &account.id)
            .env("AWS_SECRET_ACCESS_KEY", "test-secret")
            .env("AWS_REGION", "us-east-1")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null());
        let mut child = cmd.spawn().expect("run script(1)");
        let keyboard = child.stdin.take().expect("stdin");
        let mut output = child.stdout.take().expect("stdout");
        let screen = Arc::new(Mutex::new(Vec::new()));
        let shown = Arc::clone(&screen);
        let ended = Arc::new(AtomicBool::new(false));
        let closed = Arc::clone(&ended);
        std::thread::spawn(move || {
            let mut buf = [0u8; 4096];
            while let Ok(n) = output.read(&mut buf) {
                if n == 0 {
                    break;
                }
                shown.lock().unwrap().extend_from_slice(&buf[..n]);
            }
            closed.store(true, Ordering::SeqCst);
        });
        Terminal {
            child,
            keyboard,
            screen,
            ended,
        }
    }

    pub(crate) fn screen(&self) -> String {
        String::from_utf8_lossy(&self.screen.lock().unwrap()).into_owned()
    }

    /// Waits until the screen shows `text`.
    pub(crate) fn wait_for(&self, text: &str) {
        let deadline = Instant::now() + Duration::from_secs(60);
        while !self.screen().contains(text) {
            assert!(
                Instant::now() < deadline,
                "no {text:?} on:\n{}",
                self.screen()
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub(crate) fn wait_for_question(&self) {
        self.wait_for("will be accepted: ");
    }

    pub(crate) fn type_keys(&mut self, keys: &str) {
        self.keyboard.write_all(keys.as_bytes()).expect("type");
        self.keyboard.flush().expect("type");
    }

    /// Waits for cis-fix to end: its exit code and the whole screen.
    pub(crate) fn finish(mut self) -> (Option<i32>, String) {
        let deadline = Instant::now() + Duration::from_secs(120);
        let status = loop {
            if let Some(status) = self.child.try_wait().expect("wait for script(1)") {
                break status;
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("cis-fix did not end:\n{}", self.screen());
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        // The last lines may still be in the pipe when script(1) has exited: read to its end,
        // rather than for a fixed time that a loaded machine can outlast.
        while !self.ended.load(Ordering::SeqCst) {
            if Instant::now() > deadline {
                panic!("script(1) output did not end:\n{}", self.screen());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        (status.code(), self.screen())
    }
}

/// The screen never hid the cursor, so nothing is left to restore.
fn assert_cursor_never_hidden(screen: &str) {
    assert!(!screen.contains("\x1b[?25l"), "{screen:?}");
}

#[tokio::test]
async fn only_a_typed_yes_line_approves() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    let notify = queue(&account);
    let args = ["apply", "--controls", "5.6", "--notify", notify.as_str()];
    let question = format!(
        "Apply 4 changes to account {} in us-east-1? Only 'yes' will be accepted: ",
        account.id
    );

    for keys in [
        "y\n",                         // the old single key, now with Enter
        "y\ncis-fix apply\n",          // a pasted runbook whose next line starts with y
        "yes please\ncis-fix apply\n", // a pasted line that starts with yes
        "Yes\n",
        "yes \n",
        "no\n",
        "\n",   // an empty line
        "\x04", // Ctrl-D: end of input
    ] {
        account.reset_calls();
        let mut terminal = Terminal::start(&account, &args);
        terminal.wait_for_question();
        terminal.type_keys(keys);
        let (code, screen) = terminal.finish();
        assert_eq!(code, Some(1), "{keys:?}:\n{screen}");
        assert!(screen.contains(&question), "{keys:?}:\n{screen}");
        assert!(
            screen.trim_end().ends_with(CANCELLED),
            "{keys:?}:\n{screen}"
        );
        assert!(!screen.contains("error:"), "{keys:?}:\n{screen}");
        assert!(
            writes(&account).is_empty(),
            "{keys:?}: {:?}",
            writes(&account)
        );
    }

    let mut terminal = Terminal::start(&account, &args);
    terminal.wait_for_question();
    terminal.type_keys("yes\n");
    let (code, screen) = terminal.finish();
    assert_eq!(code, Some(0), "{screen}");
    assert!(screen.contains("Apply complete: 4 created"), "{screen}");
    assert_cursor_never_hidden(&screen);
    assert_eq!(
        status(&account.plan(&["--controls", "5.6"]), "5.6"),
        "compliant"
    );

    // drill and backout ask the same way, naming what is at stake and where.
    account.reset_calls();
    let mut terminal = Terminal::start(&account, &["drill", "--controls", "5.6"]);
    terminal.wait_for_question();
    terminal.type_keys("y\n");
    let (code, screen) = terminal.finish();
    assert_eq!(code, Some(1), "{screen}");
    assert!(
        screen.contains(&format!(
            "Send a test notification for 1 control in account {} in us-east-1? Only 'yes' will be accepted: ",
            account.id
        )),
        "{screen}"
    );
    assert!(screen.trim_end().ends_with(CANCELLED), "{screen}");
    assert!(writes(&account).is_empty(), "{:?}", writes(&account));

    account.reset_calls();
    let mut terminal = Terminal::start(&account, &["backout"]);
    terminal.wait_for_question();
    terminal.type_keys("y\n");
    let (code, screen) = terminal.finish();
    assert_eq!(code, Some(1), "{screen}");
    assert!(
        screen.contains(&format!(
            "Remove 4 resources created by cis-fix from account {} in us-east-1? Only 'yes' will be accepted: ",
            account.id
        )),
        "{screen}"
    );
    assert!(writes(&account).is_empty(), "{:?}", writes(&account));
}

#[tokio::test]
async fn ctrl_c_at_the_question_cancels_with_130_and_writes_nothing() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    let notify = queue(&account);
    account.reset_calls();
    let mut terminal = Terminal::start(
        &account,
        &["apply", "--controls", "5.6", "--notify", notify.as_str()],
    );
    terminal.wait_for_question();
    terminal.type_keys("ye\x03");
    let (code, screen) = terminal.finish();
    assert_eq!(code, Some(130), "{screen}");
    assert!(screen.trim_end().ends_with(CANCELLED), "{screen}");
    assert_cursor_never_hidden(&screen);
    assert!(writes(&account).is_empty(), "{:?}", writes(&account));
}

/// Starts an apply of every control with each metric filter taking `delay_ms`, approves it,
/// and waits until the filters are being written.
async fn slow_apply(account: &Account, delay_ms: u64) -> Terminal {
    slow_apply_sized(account, delay_ms, 200).await
}

async fn slow_apply_sized(account: &Account, delay_ms: u64, columns: u16) -> Terminal {
    account.trail(TrailSpec::good("main", GROUP)).await;
    account.faults_with(serde_json::json!({
        "kinds": ["delay"], "operations": ["PutMetricFilter"], "rate": 1.0, "delay_ms": delay_ms
    }));
    let notify = queue(account);
    let args = ["apply", "--notify", notify.as_str()];
    let mut terminal = Terminal::start_sized(account, &args, columns);
    terminal.wait_for_question();
    terminal.type_keys("yes\n");
    // The subscription precedes the filters; the first filter is then in flight.
    let deadline = Instant::now() + Duration::from_secs(30);
    while !writes(account).iter().any(|w| w == "Subscribe") {
        assert!(
            Instant::now() < deadline,
            "no writes:\n{}",
            terminal.screen()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    terminal
}

#[tokio::test]
async fn ctrl_c_during_an_apply_stops_between_calls_and_a_second_apply_converges() {
    let account = Account::new().await;
    let mut terminal = slow_apply(&account, 1500).await;
    terminal.type_keys("\x03");
    let (code, screen) = terminal.finish();
    assert_eq!(code, Some(130), "{screen}");
    assert!(
        screen.contains("Interrupted: stopping once the call in flight completes"),
        "{screen}"
    );
    // How many changes were made, and how to converge.
    let told = screen
        .split("interrupted: ")
        .nth(1)
        .unwrap_or_else(|| panic!("no count:\n{screen}"));
    let made: usize = told
        .split(" of ")
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no count:\n{screen}"));
    assert!(
        told.starts_with(&format!(
            "{made} of 32 changes were made; run the same command again to finish, or `cis-fix backout` to remove what cis-fix created"
        )),
        "{screen}"
    );
    // The topic and subscription, and at most the filter that was in flight.
    assert!((2..=3).contains(&made), "{screen}");

    // No call started after the Ctrl-C: what the account holds is exactly what was told.
    std::thread::sleep(Duration::from_millis(2000));
    account.clear_faults();
    let written = writes(&account);
    let filters = written.iter().filter(|w| *w == "PutMetricFilter").count();
    assert_eq!(filters, made - 2, "{written:?}\n{screen}");
    assert!(
        !written.iter().any(|w| w == "PutMetricAlarm"),
        "{written:?}"
    );

    let notify = queue(&account);
    assert_ok(&account.run(&["apply", "--notify", &notify, "--auto-approve"]));
    let out = account.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
}

#[tokio::test]
async fn a_second_ctrl_c_stops_at_once() {
    let account = Account::new().await;
    let mut terminal = slow_apply(&account, 8000).await;
    // Past the subscription's reply, so that the Ctrl-C finds the first filter in flight.
    std::thread::sleep(Duration::from_millis(500));
    let started = Instant::now();
    terminal.type_keys("\x03");
    terminal.wait_for("Interrupted: stopping once the call in flight completes");
    terminal.type_keys("\x03");
    let (code, screen) = terminal.finish();
    account.clear_faults();
    assert_eq!(code, Some(130), "{screen}");
    assert!(
        started.elapsed() < Duration::from_secs(6),
        "waited for the call in flight: {:?}",
        started.elapsed()
    );
    assert!(
        screen.contains("Stopped at once: the call in flight may or may not have been made"),
        "{screen}"
    );
}

#[tokio::test]
async fn a_name_taken_while_the_question_waits_is_never_written_to() {
    // A colleague creates the alarm cis-fix is about to create, while cis-fix waits for `yes`.
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    let notify = queue(&account);
    let args = ["apply", "--controls", "5.6", "--notify", notify.as_str()];
    let mut terminal = Terminal::start(&account, &args);
    terminal.wait_for_question();
    let alarm = "cis-fix-console-authentication-failures";
    account.alarm(alarm, "Logins", "Team", None, false).await;
    account.reset_calls();
    terminal.type_keys("yes\n");
    let (code, screen) = terminal.finish();
    assert_eq!(code, Some(1), "{screen}");
    let said = words(&screen);
    assert!(
        said.contains(&format!(
            "refusing to create alarm {alarm}: an alarm named {alarm} exists now"
        )) && said.contains("3 changes were made before it"),
        "{screen}"
    );
    // The colleague's alarm is as they made it: their metric, actions off, no tags.
    let found = account
        .cloudwatch()
        .describe_alarms()
        .alarm_names(alarm)
        .send()
        .await
        .unwrap();
    let found = &found.metric_alarms()[0];
    assert_eq!(found.metric_name(), Some("Logins"));
    assert_eq!(found.actions_enabled(), Some(false));
    let tags = account
        .cloudwatch()
        .list_tags_for_resource()
        .resource_arn(found.alarm_arn().unwrap())
        .send()
        .await
        .unwrap();
    assert!(tags.tags().is_empty(), "{tags:?}");
    let written = writes(&account);
    assert!(
        !written.iter().any(|op| op == "PutMetricAlarm"),
        "{written:?}"
    );
    assert_eq!(
        written,
        ["CreateTopic", "TagResource", "Subscribe", "PutMetricFilter"],
        "the calls before the alarm, then none"
    );

    // The same for the topic: taken at the prompt, nothing at all is written.
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    let notify = queue(&account);
    let args = ["apply", "--controls", "5.6", "--notify", notify.as_str()];
    let mut terminal = Terminal::start(&account, &args);
    terminal.wait_for_question();
    let topic = account.topic("cis-fix-alerts").await;
    account.reset_calls();
    terminal.type_keys("yes\n");
    let (code, screen) = terminal.finish();
    assert_eq!(code, Some(1), "{screen}");
    let said = words(&screen);
    assert!(
        said.contains("refusing to create topic cis-fix-alerts") && said.contains("exists now"),
        "{screen}"
    );
    assert!(writes(&account).is_empty(), "{:?}", writes(&account));
    let tags = account
        .sns()
        .list_tags_for_resource()
        .resource_arn(&topic)
        .send()
        .await
        .unwrap();
    assert!(tags.tags().is_empty(), "{tags:?}");
}

/// The lines a screen shows at the end: colours and line clears dropped, and of a line the
/// progress bar drew over (`\r`), only what was drawn last.
fn shown_lines(screen: &str) -> Vec<String> {
    let controls = regex::Regex::new(r"\x1b\[[0-9;?]*[A-Za-z]").unwrap();
    let plain = controls.replace_all(screen, "");
    plain
        .split('\n')
        .map(|line| {
            let line = line.strip_suffix('\r').unwrap_or(line);
            line.rsplit('\r').next().unwrap_or(line).to_string()
        })
        .collect()
}

/// Every line of `screen` fits in `columns`, and `said` is there, wrapped or not.
fn assert_wrapped(screen: &str, columns: usize, said: &str) {
    let lines = shown_lines(screen);
    for line in &lines {
        assert!(
            line.chars().count() <= columns,
            "{line:?} is wider than {columns}:\n{screen}"
        );
    }
    let said_all = words(&lines.join(" "));
    assert!(said_all.contains(said), "no {said:?} in:\n{screen}");
}

#[tokio::test]
async fn the_question_errors_and_ctrl_c_lines_wrap_to_the_terminal() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    let notify = queue(&account);
    // The question, on a terminal 60 columns wide, and Ctrl-C's word after it.
    let args = ["apply", "--controls", "5.6", "--notify", notify.as_str()];
    let mut terminal = Terminal::start_sized(&account, &args, 60);
    terminal.wait_for_question();
    terminal.type_keys("\x03");
    let (code, screen) = terminal.finish();
    assert_eq!(code, Some(130), "{screen}");
    let question = format!(
        "Apply 4 changes to account {} in us-east-1? Only 'yes' will be accepted:",
        account.id
    );
    assert_wrapped(&screen, 60, &question);
    assert_wrapped(&screen, 60, CANCELLED);

    // An error line.
    let terminal = Terminal::start_sized(&account, &["plan", "--controls", "9.9"], 60);
    let (code, screen) = terminal.finish();
    assert_eq!(code, Some(1), "{screen}");
    assert_wrapped(&screen, 60, "error: unknown control 9.9; valid for cis-7.0: 5.1–5.15, or their slugs; `cis-fix controls` lists them");

    // Ctrl-C during the writes: the notice and the count, under the progress line.
    let account = Account::new().await;
    let mut terminal = slow_apply_sized(&account, 1500, 60).await;
    terminal.type_keys("\x03");
    let (code, screen) = terminal.finish();
    account.clear_faults();
    assert_eq!(code, Some(130), "{screen}");
    assert_wrapped(&screen, 60, "Interrupted: stopping once the call in flight completes (press Ctrl-C again to stop at once).");
    assert_wrapped(&screen, 60, "changes were made; run the same command again to finish, or `cis-fix backout` to remove what cis-fix created");
}
