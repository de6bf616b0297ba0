//! The benchmark versions (issue 19): cis-7.0 by default, another version's ids pointed to
//! this one's, and an account applied under one version still whole under the next.

use crate::harness::{assert_ok, queue, stderr, stdout, Account, TrailSpec};

const GROUP: &str = "cloudtrail/management";

#[tokio::test]
async fn the_newest_benchmark_is_the_default_and_older_ids_point_to_its_own() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    let plan = account.plan(&["--controls", "5.1"]);
    assert_eq!(plan["benchmark"], "cis-7.0");
    assert_eq!(plan["controls"][0]["id"], "5.1");

    // v5.0's numbering: one line, exit 1, before any call.
    account.reset_calls();
    let out = account.run(&["plan", "--controls", "4.1"]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.starts_with(
            "error: 4.1 is cis-5.0's numbering; in cis-7.0 it is 5.1 (unauthorized-api-calls)"
        ) && err.trim_end().lines().count() == 1,
        "{err}"
    );
    assert!(account.calls().is_empty(), "{:?}", account.calls());
    // With that version named, its ids are its own; slugs are every version's.
    let v5 = account.plan(&["--benchmark", "cis-5.0", "--controls", "4.1"]);
    assert_eq!(v5["controls"][0]["slug"], "unauthorized-api-calls");
    for benchmark in ["cis-1.2", "cis-5.0", "cis-6.0", "cis-7.0"] {
        let by_slug = account.plan(&["--benchmark", benchmark, "--controls", "root-account-usage"]);
        assert_eq!(by_slug["controls"][0]["slug"], "root-account-usage");
    }
    let out = account.run(&["--version"]);
    assert!(
        stdout(&out).contains("cis-6.0, cis-7.0 (default)"),
        "{}",
        stdout(&out)
    );
}

#[tokio::test]
async fn an_account_applied_under_cis_5_0_is_whole_under_cis_7_0() {
    // With a queue the chains are whole; with an email address the subscription stays pending,
    // so the controls are not compliant yet and the plan looks at cis-fix's own alarms for drift.
    for pending in [false, true] {
        let account = Account::new().await;
        account.trail(TrailSpec::good("main", GROUP)).await;
        let notify = match pending {
            false => queue(&account),
            true => "email:sec@example.com".to_string(),
        };
        assert_ok(&account.run(&[
            "apply",
            "--benchmark",
            "cis-5.0",
            "--notify",
            &notify,
            "--auto-approve",
        ]));
        // The alarms' descriptions say `CIS 4.N`; under cis-7.0 that is no change.
        let plan = account.plan(&["--notify", &notify]);
        assert_eq!(plan["benchmark"], "cis-7.0");
        assert_eq!(plan["actions"], serde_json::json!([]), "{notify}: {plan:#}");
        if pending {
            continue;
        }
        let out = account.run(&["plan", "--notify", &notify, "--detailed-exitcode"]);
        assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));
        // Backout under cis-7.0 removes what cis-5.0's apply made, tagged by this version's ids.
        let out = account.run(&["backout", "--auto-approve"]);
        assert_ok(&out);
        assert!(stdout(&out).contains("[5.1]"), "{}", stdout(&out));
    }
}
