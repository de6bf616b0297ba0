//! `cis-fix export` (issue 8): the Terraform and CloudFormation it writes, read by real tools
//! (python-hcl2, cfn-lint), compared argument by argument with the plan, and deployed on the
//! emulator, after which cis-fix judges and backs out what was deployed as its own.

use std::path::Path;
use std::process::Command;

use serde_json::{json, Map, Value};

use crate::harness::words;
use crate::harness::{
    assert_ok, path_in_repo, python, queue, stderr, stdout, writes, Account, TrailSpec,
};

/// The demo's half-compliant account (examples/seed_account.py).
async fn demo_account() -> Account {
    Account::demo().await
}

fn export_tools(args: &[&str]) -> Value {
    let out = Command::new(python())
        .arg(path_in_repo("tests/emulator/export_tools.py"))
        .args(args)
        .output()
        .expect("run export_tools.py");
    assert!(
        out.status.success(),
        "export_tools {args:?}: {}\n{}",
        stderr(&out),
        stdout(&out)
    );
    serde_json::from_slice(&out.stdout).expect("export_tools prints JSON")
}

/// `cis-fix export FORMAT args… --out FILE`; asserts it ran and wrote nothing to AWS.
fn export(account: &Account, format: &str, args: &[&str], out: &Path) {
    account.reset_calls();
    let mut all = vec!["export", format];
    all.extend_from_slice(args);
    let path = out.to_str().unwrap();
    all.extend_from_slice(&["--out", path]);
    assert_ok(&account.run(&all));
    assert!(writes(account).is_empty(), "{:?}", writes(account));
}

/// cfn-lint, pinned in the test venv, on a template: no errors and no warnings.
fn cfn_lint(template: &Path) {
    let lint = python().with_file_name("cfn-lint");
    let out = Command::new(&lint)
        .arg(template)
        .output()
        .unwrap_or_else(|e| panic!("run {}: {e}", lint.display()));
    assert!(
        out.status.success() && out.stdout.is_empty(),
        "cfn-lint on {}:\n{}{}\n{}",
        template.display(),
        stdout(&out),
        stderr(&out),
        std::fs::read_to_string(template).unwrap()
    );
}

/// `terraform fmt -check` where Terraform is installed: the export is laid out as it would
/// lay it out (and parses). python-hcl2 checks the content everywhere.
fn terraform_fmt(file: &Path) {
    let Ok(out) = Command::new("terraform")
        .args(["fmt", "-check", "-diff"])
        .arg(file)
        .env("TF_CLI_CONFIG_FILE", "/dev/null")
        .output()
    else {
        eprintln!("terraform is not installed: layout not checked by `terraform fmt`");
        return;
    };
    assert!(
        out.status.success(),
        "terraform fmt would change {}:\n{}{}",
        file.display(),
        stdout(&out),
        stderr(&out)
    );
}

/// The plan's actions as the calls they make: everything but the plan's own bookkeeping.
fn calls(plan: &Value) -> Vec<Value> {
    plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| {
            let mut call = a.as_object().unwrap().clone();
            for key in ["mode", "control", "region", "reason"] {
                call.remove(key);
            }
            // The JSON plan leaves the topic's key out when there is none.
            Value::Object(call)
        })
        .collect()
}

/// Terraform's resources turned back into the calls they stand for, references resolved.
/// Every argument is consumed: one left over fails the test.
fn resources_as_calls(tf: &Value) -> Vec<Value> {
    let resources = tf["resources"].as_array().unwrap();
    let by_address = |address: &str| -> &Value {
        let (kind, rest) = address.split_once('.').unwrap();
        let name = rest.split('.').next().unwrap();
        resources
            .iter()
            .find(|r| r["type"] == kind && r["name"] == name)
            .unwrap_or_else(|| panic!("no resource {address}"))
    };
    let resolve = |value: &Value| -> Value {
        let Some(reference) = value.get("ref").and_then(Value::as_str) else {
            return value.clone();
        };
        let target = by_address(reference);
        match reference.rsplit_once('.').unwrap().1 {
            // A topic's ARN, as AWS (and the plan) names it.
            "arn" => {
                let region = "us-east-1";
                let account = tf["providers"][0]["allowed_account_ids"][0]
                    .as_str()
                    .unwrap();
                json!(format!(
                    "arn:aws:sns:{region}:{account}:{}",
                    target["args"]["name"].as_str().unwrap()
                ))
            }
            "name" => target["args"]["metric_transformation"]["name"].clone(),
            "namespace" => target["args"]["metric_transformation"]["namespace"].clone(),
            other => panic!("unexpected reference {reference} ({other})"),
        }
    };
    // The tags apply would give, once the deployment's own mark is checked and set aside.
    let apply_tags = |mut tags: Value| -> Value {
        let deployed_by = tags
            .as_object_mut()
            .and_then(|t| t.remove("cis-fix:deployed-by"));
        assert_eq!(deployed_by, Some(json!("terraform workspace default")));
        tags
    };
    resources
        .iter()
        .map(|r| {
            let mut args: Map<String, Value> = r["args"].as_object().unwrap().clone();
            let mut take = |key: &str| {
                let value = args
                    .remove(key)
                    .unwrap_or_else(|| panic!("{} has no {key}", r["name"]));
                resolve(&value)
            };
            let call = match r["type"].as_str().unwrap() {
                "aws_sns_topic" => json!({
                    "action": "create_topic",
                    "topic_name": take("name"),
                    "topic_arn": resolve(&json!({"ref": format!("aws_sns_topic.{}.arn", r["name"].as_str().unwrap())})),
                    "tags": apply_tags(take("tags")),
                }),
                "aws_sns_topic_subscription" => json!({
                    "action": "subscribe",
                    "topic_arn": take("topic_arn"),
                    "protocol": take("protocol"),
                    "endpoint": take("endpoint"),
                }),
                "aws_cloudwatch_log_metric_filter" => {
                    let metric = take("metric_transformation");
                    json!({
                        "action": "put_metric_filter",
                        "log_group_name": take("log_group_name"),
                        "filter_name": take("name"),
                        "filter_pattern": take("pattern"),
                        "metric_name": metric["name"],
                        "namespace": metric["namespace"],
                        "metric_value": metric["value"],
                    })
                }
                "aws_cloudwatch_metric_alarm" => {
                    // apply enables the actions explicitly; the export must too.
                    assert_eq!(take("actions_enabled"), json!(true));
                    let actions: Vec<Value> = take("alarm_actions")
                        .as_array()
                        .unwrap()
                        .iter()
                        .map(resolve)
                        .collect();
                    json!({
                        "action": "put_metric_alarm",
                        "alarm_name": take("alarm_name"),
                        "alarm_description": take("alarm_description"),
                        "metric_name": take("metric_name"),
                        "namespace": take("namespace"),
                        "statistic": take("statistic"),
                        "period": take("period"),
                        "threshold": take("threshold").as_f64().map(|t| json!(t)),
                        "comparison_operator": take("comparison_operator"),
                        "evaluation_periods": take("evaluation_periods"),
                        "alarm_actions": actions,
                        "tags": apply_tags(take("tags")),
                    })
                }
                other => panic!("unexpected resource type {other}"),
            };
            assert!(args.is_empty(), "{} has arguments the plan does not: {args:?}", r["name"]);
            call
        })
        .collect()
}

fn sorted(mut calls: Vec<Value>) -> Vec<Value> {
    calls.sort_by_key(|c| c.to_string());
    calls
}

#[tokio::test]
async fn terraform_declares_exactly_the_plans_actions_and_deploys_to_compliance() {
    let account = demo_account().await;
    let notify = queue(&account);
    let before = account.state().await;
    let plan = account.plan(&["--notify", &notify]);
    let dir = tempfile::tempdir().unwrap();
    let tf = dir.path().join("cis-fix.tf");
    export(&account, "terraform", &["--notify", &notify], &tf);

    terraform_fmt(&tf);
    // Every argument of every resource is the plan's, and every action is a resource.
    let parsed = export_tools(&["hcl2json", tf.to_str().unwrap()]);
    assert_eq!(
        sorted(resources_as_calls(&parsed)),
        sorted(calls(&plan)),
        "{}",
        std::fs::read_to_string(&tf).unwrap()
    );
    assert_eq!(parsed["imports"], json!([]));
    assert_eq!(parsed["providers"].as_array().unwrap().len(), 1);
    assert_eq!(
        parsed["providers"][0]["allowed_account_ids"],
        json!([account.id])
    );
    let text = std::fs::read_to_string(&tf).unwrap();
    assert!(text.starts_with("# cis-fix export terraform"), "{text}");
    assert!(
        text.contains(&format!("from account {}", account.id)),
        "{text}"
    );
    // What exists is named with the reason, not declared again.
    assert!(
        text.contains("Reuses metric CISBenchmark/RootUsage: the existing filter"),
        "{text}"
    );

    // Deploy what it declares; then cis-fix judges the controls as apply would leave them.
    let fixed: Vec<String> = plan["controls"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["after_apply"] == "compliant")
        .map(|c| c["id"].as_str().unwrap().to_string())
        .collect();
    assert!(fixed.len() >= 10, "{plan:#}");
    let deployed = export_tools(&[
        "deploy",
        tf.to_str().unwrap(),
        "--endpoint",
        &account.emulator.url(),
    ]);
    let deployed = deployed.as_array().unwrap();
    assert_eq!(deployed.len(), plan["actions"].as_array().unwrap().len());
    let out = account.run(&[
        "plan",
        "--detailed-exitcode",
        "--controls",
        &fixed.join(","),
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));

    // backout recognises every deployed resource as cis-fix's, and leaves it to the Terraform
    // state that owns it, naming it; forced, it removes exactly those, and the account is as
    // it was.
    account.reset_calls();
    let out = account.run(&["backout", "--auto-approve"]);
    assert_ok(&out);
    assert!(writes(&account).is_empty(), "{:?}", writes(&account));
    // (Words, whatever the wrapping.)
    let text = words(&stdout(&out));
    assert!(
        text.contains("owned by terraform workspace default") && text.contains("--force"),
        "{text}"
    );
    account.reset_calls();
    assert_ok(&account.run(&["backout", "--force", "--auto-approve"]));
    let removals = writes(&account)
        .iter()
        .filter(|op| !op.starts_with("Tag"))
        .count();
    assert_eq!(removals, deployed.len(), "{:?}", writes(&account));
    assert_eq!(account.state().await, before);
}

#[tokio::test]
async fn cloudformation_passes_cfn_lint_with_one_template_per_account_and_region() {
    let account = demo_account().await;
    let notify = queue(&account);
    let dir = tempfile::tempdir().unwrap();
    let template = dir.path().join("stack.yaml");
    export(
        &account,
        "cloudformation",
        &["--notify", &notify],
        &template,
    );
    cfn_lint(&template);
    let text = std::fs::read_to_string(&template).unwrap();
    assert!(text.contains("!Ref CisFixAlertsTopic"), "{text}");
    assert!(text.contains("Type: AWS::CloudWatch::Alarm"), "{text}");

    // Two accounts: a template each, named <account>-<region>.yaml, each lint-clean.
    let account = Account::new().await;
    account
        .trail(TrailSpec::good("main", "cloudtrail/main"))
        .await;
    let other = Account::new().await;
    other
        .trail(TrailSpec::good("main", "cloudtrail/other"))
        .await;
    account.organization(&[&other]);
    let accounts = format!("{},{}", account.id, other.id);
    // A trailing `/` names a directory even before it exists.
    let stacks = dir.path().join("stacks/");
    other.reset_calls();
    export(
        &account,
        "cloudformation",
        &[
            "--accounts",
            &accounts,
            "--controls",
            "5.1,5.6",
            "--notify",
            &notify,
        ],
        &stacks,
    );
    assert!(writes(&other).is_empty(), "{:?}", writes(&other));
    let mut files: Vec<String> = std::fs::read_dir(&stacks)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    files.sort();
    let mut want = vec![
        format!("{}-us-east-1.yaml", account.id),
        format!("{}-us-east-1.yaml", other.id),
    ];
    want.sort();
    assert_eq!(files, want);
    for file in &files {
        cfn_lint(&stacks.join(file));
    }
    // Without --out, several templates cannot go to stdout.
    let out = account.run(&[
        "export",
        "cloudformation",
        "--accounts",
        &accounts,
        "--notify",
        &notify,
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("pass --out DIR"), "{}", stderr(&out));
}

#[tokio::test]
async fn terraform_for_several_accounts_has_a_provider_each_with_the_assumed_role() {
    let account = Account::new().await;
    account
        .trail(TrailSpec::good("main", "cloudtrail/main"))
        .await;
    let other = Account::new().await;
    other
        .trail(TrailSpec::good("main", "cloudtrail/other"))
        .await;
    account.organization(&[&other]);
    let accounts = format!("{},{}", account.id, other.id);
    let notify = queue(&account);
    let dir = tempfile::tempdir().unwrap();
    let tf = dir.path().join("org.tf");
    export(
        &account,
        "terraform",
        &[
            "--accounts",
            &accounts,
            "--controls",
            "5.6",
            "--notify",
            &notify,
            "--external-id",
            "s3cr3t-external",
        ],
        &tf,
    );
    terraform_fmt(&tf);
    let text = std::fs::read_to_string(&tf).unwrap();
    assert!(
        !text.contains("s3cr3t-external"),
        "the external ID leaked:\n{text}"
    );
    let parsed = export_tools(&["hcl2json", tf.to_str().unwrap()]);
    let providers = parsed["providers"].as_array().unwrap();
    assert_eq!(providers.len(), 2, "{text}");
    let of = |id: &str| {
        providers
            .iter()
            .find(|p| p["allowed_account_ids"] == json!([id]))
            .unwrap_or_else(|| panic!("no provider for {id}:\n{text}"))
    };
    assert_eq!(of(&account.id)["assume_role"], Value::Null);
    assert_eq!(
        of(&other.id)["assume_role"]["role_arn"],
        json!(format!(
            "arn:aws:iam::{}:role/OrganizationAccountAccessRole",
            other.id
        ))
    );
    assert_eq!(
        of(&other.id)["assume_role"]["external_id"],
        json!({"ref": "var.external_id"})
    );
    // Each resource names its account's provider; deployed, each lands in its account.
    for r in parsed["resources"].as_array().unwrap() {
        assert!(r["provider"].as_str().is_some(), "{r}");
    }
    export_tools(&[
        "deploy",
        tf.to_str().unwrap(),
        "--endpoint",
        &account.emulator.url(),
    ]);
    for a in [&account, &other] {
        let out = a.run(&["plan", "--detailed-exitcode", "--controls", "5.6"]);
        assert_eq!(out.status.code(), Some(0), "{}: {}", a.id, stdout(&out));
    }
}

#[tokio::test]
async fn export_refuses_input_errors_and_says_when_nothing_is_to_create() {
    let account = Account::new().await;
    account
        .trail(TrailSpec::good("main", "cloudtrail/main"))
        .await;
    let missing = account.topic_arn("does-not-exist");
    let out = account.run(&["export", "terraform", "--topic-arn", &missing]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    assert!(stderr(&out).contains("--topic-arn"), "{}", stderr(&out));
    assert!(stderr(&out).contains(&missing), "{}", stderr(&out));

    // Once everything is compliant: a comment-only file that says so, exit 0.
    let notify = queue(&account);
    assert_ok(&account.run(&[
        "apply",
        "--controls",
        "5.6",
        "--notify",
        &notify,
        "--auto-approve",
    ]));
    for format in ["terraform", "cloudformation"] {
        let out = account.run(&["export", format, "--controls", "5.6"]);
        assert_ok(&out);
        let text = stdout(&out);
        assert!(text.lines().all(|l| l.starts_with('#')), "{text}");
        assert!(
            text.contains("Nothing to create: every selected control is compliant."),
            "{text}"
        );
    }
}

#[tokio::test]
async fn an_export_that_holds_endpoints_is_private_and_says_so() {
    use std::os::unix::fs::PermissionsExt;
    const TOKEN: &str = "T0KEN-XoXb5ecret";
    let account = Account::new().await;
    account
        .trail(TrailSpec::good("main", "cloudtrail/main"))
        .await;
    let hook = format!("https://bob:pw@hooks.example.com/services/{TOKEN}");
    let mode = |path: &Path| std::fs::metadata(path).unwrap().permissions().mode() & 0o777;
    let dir = tempfile::tempdir().unwrap();

    // One file: mode 0600 (an existing, readable one too), and one note naming it.
    let tf = dir.path().join("cis-fix.tf");
    std::fs::write(&tf, "").unwrap();
    std::fs::set_permissions(&tf, std::fs::Permissions::from_mode(0o644)).unwrap();
    let yaml = dir.path().join("stack.yaml");
    for (format, path) in [("terraform", &tf), ("cloudformation", &yaml)] {
        let out = account.run(&[
            "export",
            format,
            "--notify",
            &hook,
            "--out",
            path.to_str().unwrap(),
        ]);
        assert_ok(&out);
        // Deployable: the file holds the endpoint, as a saved plan does.
        assert!(std::fs::read_to_string(path).unwrap().contains(&hook));
        assert_eq!(mode(path), 0o600, "{format}");
        let err = stderr(&out);
        assert_eq!(
            err.matches("holds the subscription endpoints in clear")
                .count(),
            1,
            "{err}"
        );
        assert!(
            err.contains(&format!(
                "The export in {} holds the subscription endpoints in clear: it is readable by you only (mode 0600)",
                path.display()
            )),
            "{err}"
        );
        assert!(!err.contains(TOKEN) && !err.contains("pw@"), "{err}");
        assert!(stdout(&out).is_empty(), "{}", stdout(&out));
    }

    // A directory of templates: each private, named in the one note.
    let stacks = dir.path().join("stacks");
    let out = account.run(&[
        "export",
        "cloudformation",
        "--notify",
        &hook,
        "--out",
        &format!("{}/", stacks.display()),
    ]);
    assert_ok(&out);
    let written: Vec<_> = std::fs::read_dir(&stacks)
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    assert!(!written.is_empty());
    let err = stderr(&out);
    for path in &written {
        assert_eq!(mode(path), 0o600, "{}", path.display());
        assert!(err.contains(&path.display().to_string()), "{err}");
    }
    assert_eq!(
        err.matches("holds the subscription endpoints in clear")
            .count(),
        1,
        "{err}"
    );

    // On stdout: the note goes to stderr, once, and the token only to stdout.
    for format in ["terraform", "cloudformation"] {
        let out = account.run(&["export", format, "--notify", &hook]);
        assert_ok(&out);
        assert!(stdout(&out).contains(&hook), "{}", stdout(&out));
        let err = stderr(&out);
        assert_eq!(
            err.matches(
                "The export on stdout holds the subscription endpoints in clear: keep it private."
            )
            .count(),
            1,
            "{err}"
        );
        assert!(!err.contains(TOKEN), "{err}");
    }

    // A queue's ARN is no secret: no note, and the file keeps the usual mode.
    let notify = queue(&account);
    let plain = dir.path().join("queue.tf");
    let out = account.run(&[
        "export",
        "terraform",
        "--notify",
        &notify,
        "--out",
        plain.to_str().unwrap(),
    ]);
    assert_ok(&out);
    assert!(!stderr(&out).contains("in clear"), "{}", stderr(&out));
    // (The mode a plain write gives under this umask.)
    let reference = dir.path().join("reference");
    std::fs::write(&reference, "").unwrap();
    assert_eq!(mode(&plain), mode(&reference));
}

/// The hardened catalog's H13 has a second path, an EventBridge rule notifying
/// cis-fix-chain-watch: the export declares it whole (rule, target, topic, its policy and
/// subscription), cfn-lint and python-hcl2 read it, and deployed it makes H13 compliant. A
/// rule that exists and needs changing is left to `cis-fix apply`, said before anything is
/// written.
#[tokio::test]
async fn a_hardened_export_declares_the_watch_path_and_deploys_to_compliance() {
    let account = Account::new().await;
    account
        .trail(TrailSpec::good("main", "cloudtrail/main"))
        .await;
    let notify = queue(&account);
    let before = account.state().await;
    let select = [
        "--benchmark",
        "hardened",
        "--controls",
        "H13",
        "--notify",
        &notify,
    ];
    let dir = tempfile::tempdir().unwrap();

    let template = dir.path().join("stack.yaml");
    export(&account, "cloudformation", &select, &template);
    cfn_lint(&template);
    let text = std::fs::read_to_string(&template).unwrap();
    for expected in [
        "Type: AWS::Events::Rule",
        "Name: cis-fix-alarm-chain-tampering-watch",
        "Arn: !Ref CisFixChainWatchTopic",
        "Type: AWS::SNS::TopicPolicy",
        "- !Ref CisFixChainWatchTopic",
        "aws:SourceArn",
    ] {
        assert!(text.contains(expected), "{expected}:\n{text}");
    }

    let tf = dir.path().join("cis-fix.tf");
    export(&account, "terraform", &select, &tf);
    terraform_fmt(&tf);
    let parsed = export_tools(&["hcl2json", tf.to_str().unwrap()]);
    let resources = parsed["resources"].as_array().unwrap();
    let of =
        |kind: &str| -> Vec<&Value> { resources.iter().filter(|r| r["type"] == kind).collect() };
    let [rule] = of("aws_cloudwatch_event_rule")[..] else {
        panic!("one rule: {parsed:#}");
    };
    assert_eq!(rule["args"]["name"], "cis-fix-alarm-chain-tampering-watch");
    let [target] = of("aws_cloudwatch_event_target")[..] else {
        panic!("one target: {parsed:#}");
    };
    let rule_name = format!(
        "aws_cloudwatch_event_rule.{}.name",
        rule["name"].as_str().unwrap()
    );
    assert_eq!(target["args"]["rule"], json!({ "ref": rule_name }));
    let [policy] = of("aws_sns_topic_policy")[..] else {
        panic!("one topic policy: {parsed:#}");
    };
    assert_eq!(policy["args"]["arn"], target["args"]["arn"]);

    let deployed = export_tools(&[
        "deploy",
        tf.to_str().unwrap(),
        "--endpoint",
        &account.emulator.url(),
    ]);
    let plan_args = [
        "plan",
        "--benchmark",
        "hardened",
        "--controls",
        "H13",
        "--detailed-exitcode",
    ];
    let out = account.run(&plan_args);
    assert_eq!(out.status.code(), Some(0), "{}", stdout(&out));

    // The target removed by someone: the rule exists, and the export will not adopt it.
    account
        .events()
        .remove_targets()
        .rule("cis-fix-alarm-chain-tampering-watch")
        .ids(target["args"]["target_id"].as_str().unwrap())
        .send()
        .await
        .unwrap();
    account.reset_calls();
    let mut refused = vec!["export", "terraform"];
    refused.extend_from_slice(&select);
    let out = account.run(&refused);
    assert_eq!(out.status.code(), Some(1), "{}", stdout(&out));
    assert!(
        words(&stderr(&out))
            .contains("cis-fix's rule cis-fix-alarm-chain-tampering-watch in account")
            && stderr(&out).contains("cis-fix apply"),
        "{}",
        stderr(&out)
    );
    assert!(writes(&account).is_empty(), "{:?}", writes(&account));

    // backout leaves the deployment to its state; forced, it removes all of it.
    assert_ok(&account.run(&["backout", "--force", "--auto-approve"]));
    assert_eq!(account.state().await, before, "deployed: {deployed:#}");
}
