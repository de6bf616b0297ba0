//! Who gets paged never changes without being asked (issue 19): cis-fix's alarms stay on their
//! topic while it waits for a confirmation or has lost its subscriber, `--notify` is honoured
//! (or refused) when every control is compliant, and the question names where the writes go.

use serde_json::Value;

use crate::harness::{assert_ok, queue, stderr, writes, Account, TrailSpec};
use crate::prompt::Terminal;

const GROUP: &str = "cloudtrail/management";
const AUTH_FAILURES: &str =
    "{ ($.eventName = ConsoleLogin) && ($.errorMessage = \"Failed authentication\") }";

/// An account whose 5.6 chain is whole on the team's topic `security-alerts`.
async fn team_account() -> (Account, String) {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    account
        .filter(GROUP, "auth", AUTH_FAILURES, "AuthFailures", "CISBenchmark")
        .await;
    let team = account.topic("security-alerts").await;
    let (_, inbox) = account.queue("team-inbox").await;
    account.subscribe(&team, "sqs", &inbox).await;
    account
        .alarm("auth", "AuthFailures", "CISBenchmark", Some(&team), true)
        .await;
    (account, team)
}

/// The put_metric_alarm actions of a JSON plan that change an alarm's actions.
fn moved_alarms(plan: &Value) -> Vec<String> {
    plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| {
            a["changes"]
                .as_array()
                .is_some_and(|c| c.iter().any(|c| c["attribute"] == "alarm_actions"))
        })
        .map(|a| a["alarm_name"].as_str().unwrap().to_string())
        .collect()
}

fn codes_of(plan: &Value) -> Vec<String> {
    plan["controls"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|c| c["findings"].as_array().unwrap().iter())
        .map(|f| f["code"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn alarms_stay_on_cis_fixs_topic_while_it_waits_or_has_lost_its_subscriber() {
    let (account, _team) = team_account().await;
    assert_ok(&account.run(&[
        "apply",
        "--notify",
        "email:oncall@example.com",
        "--auto-approve",
    ]));
    let own = account.topic_arn("cis-fix-alerts");
    // The email is pending. A plain plan keeps cis-fix's alarms on cis-fix's topic (the team's
    // topic, which delivers, is not a reason to move them), and says what waits.
    let plan = account.plan(&[]);
    assert_eq!(plan["actions"], serde_json::json!([]), "{plan:#}");
    assert!(
        codes_of(&plan).contains(&"subscription_pending".to_string()),
        "{plan:#}"
    );
    account.reset_calls();
    assert_ok(&account.run(&["apply", "--auto-approve"]));
    assert!(writes(&account).is_empty(), "{:?}", writes(&account));

    // Confirmed: compliant, on cis-fix's topic.
    account.confirm_topic(&own);
    let out = account.run(&["plan", "--detailed-exitcode"]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        crate::harness::stdout(&out)
    );

    // The subscriber goes away: the alarms stay, and the plan says how to subscribe one.
    let subs = account
        .sns()
        .list_subscriptions_by_topic()
        .topic_arn(&own)
        .send()
        .await
        .unwrap();
    for s in subs.subscriptions() {
        account
            .sns()
            .unsubscribe()
            .subscription_arn(s.subscription_arn().unwrap())
            .send()
            .await
            .unwrap();
    }
    let plan = account.plan(&[]);
    assert!(moved_alarms(&plan).is_empty(), "{plan:#}");
    assert_eq!(plan["actions"], serde_json::json!([]), "{plan:#}");
    let findings = plan.to_string();
    assert!(
        findings.contains("cis-fix keeps them on it; pass --notify"),
        "{plan:#}"
    );
    // Asked, it changes: --notify subscribes the endpoint to cis-fix's topic.
    let plan = account.plan(&["--notify", &queue(&account)]);
    let subscribe: Vec<&Value> = plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|a| a["action"] == "subscribe")
        .collect();
    assert_eq!(subscribe.len(), 1, "{plan:#}");
    assert_eq!(subscribe[0]["topic_arn"], own.as_str());
    assert!(moved_alarms(&plan).is_empty(), "{plan:#}");
}

#[tokio::test]
async fn notify_is_honoured_when_every_control_is_compliant() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    assert_ok(&account.run(&[
        "apply",
        "--controls",
        "5.6",
        "--notify",
        &queue(&account),
        "--auto-approve",
    ]));
    // Every selected control is compliant; a new endpoint is subscribed to cis-fix's topic.
    let args = ["--controls", "5.6", "--notify", "email:oncall@example.com"];
    let plan = account.plan(&args);
    let actions: Vec<&str> = plan["actions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["subscribe"], "{plan:#}");
    let mut apply = vec!["apply"];
    apply.extend(args);
    apply.push("--auto-approve");
    account.reset_calls();
    assert_ok(&account.run(&apply));
    assert_eq!(writes(&account), ["TagResource", "Subscribe"]);
    // Done: nothing more to do.
    assert_eq!(account.plan(&args)["actions"], serde_json::json!([]));

    // Compliant on a topic cis-fix did not create: refused in one line, nothing written.
    let (team, _) = team_account().await;
    team.reset_calls();
    let out = team.run(&[
        "apply",
        "--controls",
        "5.6",
        "--notify",
        "email:oncall@example.com",
        "--auto-approve",
    ]);
    assert_eq!(out.status.code(), Some(1));
    let err = stderr(&out);
    assert!(
        err.contains("--notify: every selected control in us-east-1 is compliant, and its alarms notify security-alerts, which cis-fix did not create")
            && err.trim_end().lines().count() == 1,
        "{err}"
    );
    assert!(!err.contains("oncall@"), "{err}");
    assert!(writes(&team).is_empty(), "{:?}", writes(&team));
}

#[tokio::test]
async fn the_question_names_the_region_the_writes_go_to() {
    let account = Account::new().await;
    account.trail(TrailSpec::good("main", GROUP)).await;
    let notify = queue(&account);
    // Trails read from eu-west-1; the log group, and every write, are in us-east-1.
    let args = [
        "apply",
        "--region",
        "eu-west-1",
        "--controls",
        "5.6",
        "--notify",
        notify.as_str(),
    ];
    account.reset_calls();
    let mut terminal = Terminal::start(&account, &args);
    terminal.wait_for_question();
    terminal.type_keys("no\n");
    let (code, screen) = terminal.finish();
    assert_eq!(code, Some(1), "{screen}");
    assert!(
        screen.contains(&format!(
            "Apply 4 changes to account {} in us-east-1?",
            account.id
        )),
        "{screen}"
    );
    assert!(writes(&account).is_empty(), "{:?}", writes(&account));

    assert_ok(&account.run(&[
        "apply",
        "--controls",
        "5.6",
        "--notify",
        &notify,
        "--auto-approve",
    ]));
    let mut terminal = Terminal::start(&account, &["backout", "--region", "eu-west-1"]);
    terminal.wait_for_question();
    terminal.type_keys("no\n");
    let (_, screen) = terminal.finish();
    assert!(
        screen.contains(&format!(
            "Remove 4 resources created by cis-fix from account {} in us-east-1?",
            account.id
        )),
        "{screen}"
    );
}
