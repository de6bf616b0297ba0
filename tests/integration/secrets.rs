//! Secrets by another spelling (issue 18, item 7): whatever the case or spacing of a
//! `--notify` protocol, whether the endpoints come from `--notify` or `--notify-file`, and for
//! a saved organization plan's `--external-id`, no secret reaches any output stream.

use std::path::Path;
use std::process::Output;

use crate::harness::{assert_ok, stderr, stdout, writes, Account, TrailSpec};
use crate::org::{organization_of_one, ORG_GROUP};

const GROUP: &str = "cloudtrail/management";
/// A webhook's token, typed on the command line.
const TOKEN: &str = "XoXb5ecretT0ken";
/// A webhook's token that only the notify file holds.
const FILE_TOKEN: &str = "F1leT0kenS3cret";
/// Email local parts.
const LOCAL: &str = "alice7local";
const OTHER_LOCAL: &str = "bob7local";
const FILE_LOCAL: &str = "carol7local";
/// A password in a webhook URL.
const PASSWORD: &str = "Pa55w0rdS3cret";
const EXTERNAL_ID: &str = "ext-1d-S3cret";
const SECRETS: [&str; 7] = [
    TOKEN,
    FILE_TOKEN,
    LOCAL,
    OTHER_LOCAL,
    FILE_LOCAL,
    PASSWORD,
    EXTERNAL_ID,
];

/// Runs `cis-fix ARGS`: asserts its exit code, and that no secret is in stdout or stderr;
/// returns both.
fn run_clean(account: &Account, args: &[&str], code: i32) -> String {
    let out = account.run(args);
    assert_clean(args, &out, code)
}

fn assert_clean(args: &[&str], out: &Output, code: i32) -> String {
    let all = format!("{}{}", stdout(out), stderr(out));
    assert_eq!(out.status.code(), Some(code), "{args:?}:\n{all}");
    for secret in SECRETS {
        assert!(!all.contains(secret), "{args:?} printed {secret}:\n{all}");
    }
    all
}

/// `--notify` values in other spellings: upper case, capitalised, a leading space.
fn spelled_notify() -> Vec<String> {
    vec![
        format!("HTTPS:https://hooks.example.com/services/T000/{TOKEN}"),
        format!("Email:{LOCAL}@example.com"),
        format!(" email:{OTHER_LOCAL}@example.org"),
        format!("https://hookuser:{PASSWORD}@hooks.example.com/cis"),
    ]
}

fn with_notify<'a>(base: &[&'a str], values: &'a [String]) -> Vec<&'a str> {
    let mut args = base.to_vec();
    for value in values {
        args.extend(["--notify", value.as_str()]);
    }
    args
}

fn write_notify_file(path: &Path) {
    std::fs::write(
        path,
        format!(
            "# The team's endpoints.\n\n  HTTPS:https://hooks.example.com/services/{FILE_TOKEN}\n\
             \tEmail:{FILE_LOCAL}@example.com\r\n"
        ),
    )
    .unwrap();
}

#[tokio::test]
async fn no_secret_by_any_spelling_or_from_a_notify_file_reaches_any_output() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    let dir = tempfile::tempdir().unwrap();
    let notify_path = dir.path().join("notify.txt");
    write_notify_file(&notify_path);
    let notify_file = notify_path.to_str().unwrap();
    let argv_plan = dir.path().join("argv-plan.json");
    let file_plan = dir.path().join("file-plan.json");
    let (argv_plan, file_plan) = (argv_plan.to_str().unwrap(), file_plan.to_str().unwrap());
    let values = spelled_notify();
    let argv = with_notify(&["plan", "--controls", "5.1"], &values);
    let file = ["plan", "--controls", "5.1", "--notify-file", notify_file];

    for extra in [&[][..], &["--format", "json"][..], &["-v", "--stats"][..]] {
        let all = run_clean(&account, &[&argv[..], extra].concat(), 0);
        for masked in [
            "hooks.example.com/****",
            "a****@example.com",
            "b****@example.org",
            "https://****@hooks.example.com/****",
        ] {
            assert!(all.contains(masked), "{extra:?}: no {masked}:\n{all}");
        }
        let all = run_clean(&account, &[&file[..], extra].concat(), 0);
        assert!(
            all.contains("hooks.example.com/****") && all.contains("c****@example.com"),
            "{extra:?}:\n{all}"
        );
    }
    run_clean(&account, &[&argv[..], &["--out", argv_plan]].concat(), 0);
    run_clean(&account, &[&file[..], &["--out", file_plan]].concat(), 0);
    // The file's endpoints are in the plan, in clear, as --notify's would be.
    let saved = std::fs::read_to_string(file_plan).unwrap();
    assert!(
        saved.contains(FILE_TOKEN) && saved.contains(&format!("{FILE_LOCAL}@example.com")),
        "{saved}"
    );

    refuse_bad_values(&account, dir.path());
    export_with_a_notify_file(&account, dir.path(), notify_file);

    // The apply changes the account, so both saved plans are stale now.
    let apply = ["apply", "--controls", "5.1", "--notify-file", notify_file];
    run_clean(&account, &[&apply[..], &["--auto-approve"]].concat(), 0);
    let stale = stale_error(&account, argv_plan);
    for masked in [
        "--notify https:https://hooks.example.com/****",
        "--notify email:a****@example.com",
        "--notify email:b****@example.org",
        "--notify https://****@hooks.example.com/****",
        "are masked (****) here: put the real ones back",
    ] {
        assert!(stale.contains(masked), "no {masked}: {stale}");
    }
    // The command to make the plan again names the file, not what it holds.
    let stale = stale_error(&account, file_plan);
    assert!(
        stale.contains(&format!(
            "cis-fix plan --controls 5.1 --notify-file {notify_file} --out {file_plan}"
        )) && !stale.contains("masked"),
        "{stale}"
    );

    // What the account now holds (pending subscriptions) is masked too, in every view.
    for args in [&["plan", "-v"][..], &["plan", "--format", "json"][..]] {
        run_clean(&account, args, 0);
    }
    run_clean(&account, &["backout", "--auto-approve", "-v"], 0);
}

/// `apply FILE` of a stale plan: exit 1, no write, no secret; the error.
fn stale_error(account: &Account, plan: &str) -> String {
    account.reset_calls();
    let all = run_clean(account, &["apply", plan], 1);
    assert!(all.contains("stale"), "{all}");
    assert!(writes(account).is_empty(), "{:?}", writes(account));
    all
}

/// Values that do not parse, typed or in a file, and a file that cannot be read: one line
/// each (but clap's usage lines), exit 1, before any AWS call, the value never echoed.
fn refuse_bad_values(account: &Account, dir: &Path) {
    account.reset_calls();
    for (value, shown) in [
        (
            format!("HTTPS:http://hooks.example.com/{TOKEN}"),
            "'https:http://hooks.example.com/****'",
        ),
        (format!("Email:{LOCAL}"), "'email:****'"),
        (format!(" SQS:{TOKEN}"), "'sqs:****'"),
        (format!("Https:https://hookuser:{PASSWORD}@/x"), "****@"),
    ] {
        let all = run_clean(account, &["plan", "--notify", &value], 1);
        assert!(all.contains(shown) && all.contains("(masked)"), "{all}");
    }
    let bad = dir.join("bad.txt");
    std::fs::write(
        &bad,
        format!("# one good, one bad\nsms:+15555550100\nHTTPS:https://hookuser:{PASSWORD}@/x\n"),
    )
    .unwrap();
    let bad = bad.to_str().unwrap();
    let all = run_clean(account, &["plan", "--notify-file", bad], 1);
    assert!(
        all.starts_with(&format!(
            "error: --notify-file {bad}, line 3: 'https:https://****@"
        )) && all.contains("(masked)")
            && all.trim_end().lines().count() == 1,
        "{all}"
    );
    let missing = dir.join("missing.txt");
    let missing = missing.to_str().unwrap();
    let all = run_clean(account, &["apply", "--notify-file", missing], 1);
    assert!(
        all.starts_with(&format!("error: --notify-file {missing}: cannot read it"))
            && all.trim_end().lines().count() == 1,
        "{all}"
    );
    // A saved plan holds its endpoints; an existing topic takes none.
    for args in [
        &["apply", "plan.json", "--notify-file", missing][..],
        &[
            "plan",
            "--topic-arn",
            "arn:aws:sns:us-east-1:111122223333:t",
            "--notify-file",
            missing,
        ][..],
    ] {
        let all = run_clean(account, args, 1);
        assert!(all.contains("cannot be used with"), "{args:?}: {all}");
    }
    assert!(account.calls().is_empty(), "{:?}", account.calls());
}

/// `export` takes `--notify-file` as `plan` does; its file holds the endpoints (it must), in
/// a file of mode 0600, and no output stream does.
fn export_with_a_notify_file(account: &Account, dir: &Path, notify_file: &str) {
    let out = dir.join("export");
    let path = out.join("cis.tf");
    std::fs::create_dir(&out).unwrap();
    let path = path.to_str().unwrap();
    let args = [
        "export",
        "terraform",
        "--controls",
        "5.1",
        "--notify-file",
        notify_file,
        "--out",
        path,
    ];
    let all = run_clean(account, &args, 0);
    assert!(all.contains("readable by you only"), "{all}");
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(FILE_TOKEN), "{text}");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
    }
}

#[tokio::test]
async fn a_stale_organization_plan_shows_neither_its_endpoints_nor_its_external_id() {
    let (management, member) = organization_of_one().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("org-plan.json");
    let file = path.to_str().unwrap();
    let values = spelled_notify();
    let base = [
        "plan",
        "--org",
        "--controls",
        "5.6",
        "--external-id",
        EXTERNAL_ID,
    ];
    let plan = with_notify(&base, &values);
    for extra in [&["--out", file][..], &["--format", "json"][..], &["-v"][..]] {
        run_clean(&management, &[&plan[..], extra].concat(), 0);
    }
    let saved = std::fs::read_to_string(&path).unwrap();
    assert!(
        saved.contains(EXTERNAL_ID),
        "the plan keeps it to assume the role"
    );

    management
        .filter(
            ORG_GROUP,
            "new",
            "{ $.eventName = ConsoleLogin }",
            "Logins",
            "CISBenchmark",
        )
        .await;
    management.reset_calls();
    member.reset_calls();
    let all = run_clean(&management, &["apply", file], 1);
    assert!(
        all.contains("stale")
            && all.contains(&management.id)
            && all.contains("--external-id ****")
            && all.contains("--external-id in that command are masked (****)"),
        "{all}"
    );
    assert!(writes(&management).is_empty(), "{:?}", writes(&management));
    assert!(writes(&member).is_empty(), "{:?}", writes(&member));

    // A fresh plan of the same command applies, and says nothing secret either.
    run_clean(&management, &[&plan[..], &["--out", file]].concat(), 0);
    let out = management.run(&["apply", file]);
    assert_ok(&out);
    assert_clean(&["apply", file], &out, 0);
}
