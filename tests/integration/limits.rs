//! A catalog or option whose values AWS would refuse is refused before any call (issue 19,
//! section 3): one line, exit 1, nothing asked of AWS, rather than an apply failing half-way.

use crate::harness::{path_in_repo, stderr, Account, TrailSpec};

/// cis-5.0's catalog with the first line that starts with `find` replaced, written to `name`
/// in `dir`; and the 1-based number of that line.
fn catalog_with(
    dir: &tempfile::TempDir,
    name: &str,
    find: &str,
    replace: impl Fn(&str) -> String,
) -> (String, usize) {
    let original = std::fs::read_to_string(path_in_repo("plans/cis-5.0.toml")).unwrap();
    let start = original.find(find).unwrap_or_else(|| panic!("no {find}"));
    let end = start + original[start..].find('\n').unwrap();
    let line = original[..start].matches('\n').count() + 1;
    let edited = format!(
        "{}{}{}",
        &original[..start],
        replace(&original[start..end]),
        &original[end..]
    );
    let path = dir.path().join(name);
    std::fs::write(&path, edited).unwrap();
    (path.to_str().unwrap().to_string(), line)
}

/// A filter pattern AWS takes in every way but its length: `length` characters.
fn pattern_of(length: usize) -> String {
    let frame = r#"{ $.userIdentity.type = "" }"#.len();
    format!(
        r#"pattern = '{{ $.userIdentity.type = "{}" }}'"#,
        "R".repeat(length - frame)
    )
}

#[tokio::test]
async fn a_catalog_over_aws_limits_is_refused_in_one_line_before_any_call() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", "ct-logs")).await;
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (
            catalog_with(&dir, "long.toml", "pattern = ", |_| pattern_of(1025)),
            "field `pattern`: the value is 1025 characters; logs:PutMetricFilter's filterPattern takes at most 1024 characters",
        ),
        (
            catalog_with(&dir, "star.toml", "namespace = ", |_| {
                r#"namespace = "CIS*Benchmark""#.into()
            }),
            "field `namespace`: `CIS*Benchmark` contains `*`; logs:PutMetricFilter's metricNamespace must match [^:*$]* (no `:`, `*` or `$`)",
        ),
    ];
    for ((path, line), says) in cases {
        let plan = ["plan", "--catalog", &path];
        let apply = ["apply", "--catalog", &path, "--auto-approve"];
        for args in [&plan[..], &apply[..]] {
            let command = args[0];
            account.reset_calls();
            let out = account.run(args);
            let err = stderr(&out);
            assert_eq!(out.status.code(), Some(1), "{command}: {err}");
            assert_eq!(err.lines().count(), 1, "{command}: {err}");
            assert!(
                err.starts_with(&format!("error: invalid catalog {path}:line {line}, ")),
                "{command}: {err}"
            );
            assert!(err.contains(says), "{command}: {err}");
            assert!(
                account.calls().is_empty(),
                "{command}: {:?}",
                account.calls()
            );
        }
    }
    // At the limit, the same catalog plans: the refusal is the limit's, not the edit's.
    let (path, _) = catalog_with(&dir, "at-limit.toml", "pattern = ", |_| pattern_of(1024));
    let plan = account.plan(&["--catalog", &path, "--controls", "4.1"]);
    assert_eq!(plan["controls"][0]["id"], "4.1");
}

#[tokio::test]
async fn more_notify_endpoints_than_a_topic_has_tags_for_are_refused_before_any_call() {
    let account = Account::new().await;
    let endpoints: Vec<String> = (0..50)
        .map(|i| format!("email:sec{i}@example.com"))
        .collect();
    let mut args = vec!["plan"];
    for endpoint in &endpoints {
        args.extend(["--notify", endpoint.as_str()]);
    }
    account.reset_calls();
    let out = account.run(&args);
    let err = stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
    assert!(
        err.starts_with("error: --notify: 50 endpoints,")
            && err.contains("SNS takes at most 50 tags on a topic: pass at most 49"),
        "{err}"
    );
    assert!(account.calls().is_empty(), "{:?}", account.calls());
}
