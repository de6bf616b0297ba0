//! The minimal IAM policy of each command that calls AWS. The files in `examples/` are the one
//! copy: `cis-fix iam-policy COMMAND` prints them as they are, and the integration tests check
//! each against every call its command makes in the emulator.
//!
//! A floor module: it imports nothing from the crate.

/// Whose policy: a command, or a side of a run across an organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PolicyFor {
    /// Reads only: trails, metric filters, alarms, topics, subscriptions, keys.
    Plan,
    /// The reads, and create and tag topics, subscriptions, metric filters and alarms.
    Apply,
    /// The reads, and delete what cis-fix created: subscriptions, topics, filters, alarms, watch
    /// rules.
    Backout,
    /// The reads, the alarm history, and cloudwatch:SetAlarmState.
    Drill,
    /// As plan: export reads as plan does and never writes.
    Export,
    /// The reads, and securityhub:BatchImportFindings for --to-security-hub.
    Report,
    /// The reads, and the log group's size and events: logs:DescribeLogGroups,
    /// logs:FilterLogEvents.
    Forecast,
    /// With --org or --accounts, the caller: organizations:ListAccounts, sts:AssumeRole, and
    /// what plan, apply, backout, drill and report do in its own account.
    OrgManagement,
    /// With --org or --accounts, the role assumed in each member: what plan, apply, backout,
    /// drill and report do there.
    OrgMember,
}

impl PolicyFor {
    /// Every one, in the order `--help` lists them.
    pub const ALL: [PolicyFor; 9] = [
        PolicyFor::Plan,
        PolicyFor::Apply,
        PolicyFor::Backout,
        PolicyFor::Drill,
        PolicyFor::Export,
        PolicyFor::Report,
        PolicyFor::Forecast,
        PolicyFor::OrgManagement,
        PolicyFor::OrgMember,
    ];

    /// The file in the source tree that holds the policy.
    pub fn file(self) -> &'static str {
        match self {
            PolicyFor::Plan | PolicyFor::Export => "examples/iam-plan.json",
            PolicyFor::Apply => "examples/iam-apply.json",
            PolicyFor::Backout => "examples/iam-backout.json",
            PolicyFor::Drill => "examples/iam-drill.json",
            PolicyFor::Report => "examples/iam-report.json",
            PolicyFor::Forecast => "examples/iam-forecast.json",
            PolicyFor::OrgManagement => "examples/iam-org-management.json",
            PolicyFor::OrgMember => "examples/iam-org-member.json",
        }
    }

    /// The policy document, as the file writes it.
    pub fn text(self) -> &'static str {
        match self {
            PolicyFor::Plan | PolicyFor::Export => include_str!("../examples/iam-plan.json"),
            PolicyFor::Apply => include_str!("../examples/iam-apply.json"),
            PolicyFor::Backout => include_str!("../examples/iam-backout.json"),
            PolicyFor::Drill => include_str!("../examples/iam-drill.json"),
            PolicyFor::Report => include_str!("../examples/iam-report.json"),
            PolicyFor::Forecast => include_str!("../examples/iam-forecast.json"),
            PolicyFor::OrgManagement => include_str!("../examples/iam-org-management.json"),
            PolicyFor::OrgMember => include_str!("../examples/iam-org-member.json"),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use super::*;

    /// The actions a policy allows; every statement an unconditional `Allow` on `*`.
    fn actions(policy: PolicyFor) -> BTreeSet<String> {
        let document: serde_json::Value = serde_json::from_str(policy.text()).unwrap();
        assert_eq!(document["Version"], "2012-10-17", "{policy:?}");
        let mut all = BTreeSet::new();
        for statement in document["Statement"].as_array().unwrap() {
            assert_eq!(statement["Effect"], "Allow", "{policy:?}");
            assert_eq!(statement["Resource"], "*", "{policy:?}");
            assert!(statement.get("Condition").is_none(), "{policy:?}");
            for action in statement["Action"].as_array().unwrap() {
                let action = action.as_str().unwrap().to_string();
                assert!(all.insert(action.clone()), "{policy:?}: {action} twice");
            }
        }
        all
    }

    fn set(actions: &[&str]) -> BTreeSet<String> {
        actions.iter().map(|a| a.to_string()).collect()
    }

    /// The policies agree with each other: each command's is the plan's reads and what the
    /// command alone does, and the organization's are their union. (Whether each allows every
    /// call its command makes is for the integration tests, which see the calls.)
    #[test]
    fn each_policy_is_the_reads_and_what_its_command_alone_does() {
        let reads = actions(PolicyFor::Plan);
        assert!(reads.iter().all(|a| {
            let name = a.split(':').nth(1).unwrap_or_default();
            ["Describe", "Get", "List", "Test"]
                .iter()
                .any(|verb| name.starts_with(verb))
        }));
        let creates = set(&[
            "sns:CreateTopic",
            "sns:TagResource",
            "sns:Subscribe",
            "logs:PutMetricFilter",
            "cloudwatch:PutMetricAlarm",
            "cloudwatch:TagResource",
            "sns:SetTopicAttributes",
            // The guard's read of a watch rule right before writing it (not the plan's).
            "events:DescribeRule",
            "events:PutRule",
            "events:PutTargets",
            "events:TagResource",
        ]);
        let deletes = set(&[
            "sns:Unsubscribe",
            "sns:DeleteTopic",
            "logs:DeleteMetricFilter",
            "cloudwatch:DeleteAlarms",
            // The guard's read of a watch rule right before deleting it.
            "events:DescribeRule",
            "events:RemoveTargets",
            "events:DeleteRule",
        ]);
        let drill = set(&[
            "cloudwatch:DescribeAlarmHistory",
            "cloudwatch:SetAlarmState",
        ]);
        // report --to-security-hub's one write.
        let import = set(&["securityhub:BatchImportFindings"]);
        // forecast's reads of the log group's size and events (event data: not plan's).
        let forecast = set(&["logs:DescribeLogGroups", "logs:FilterLogEvents"]);
        let with = |extra: &[&BTreeSet<String>]| {
            let mut all = reads.clone();
            for more in extra {
                all.extend(more.iter().cloned());
            }
            all
        };
        assert_eq!(actions(PolicyFor::Export), reads);
        assert_eq!(actions(PolicyFor::Apply), with(&[&creates]));
        assert_eq!(actions(PolicyFor::Backout), with(&[&deletes]));
        assert_eq!(actions(PolicyFor::Drill), with(&[&drill]));
        assert_eq!(actions(PolicyFor::Report), with(&[&import]));
        assert_eq!(actions(PolicyFor::Forecast), with(&[&forecast]));
        let member = with(&[&creates, &deletes, &drill, &import, &forecast]);
        assert_eq!(actions(PolicyFor::OrgMember), member);
        let organization = set(&["organizations:ListAccounts", "sts:AssumeRole"]);
        let management: BTreeSet<String> = member.union(&organization).cloned().collect();
        assert_eq!(actions(PolicyFor::OrgManagement), management);
    }

    #[test]
    fn each_policy_is_its_file() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        for policy in PolicyFor::ALL {
            let file = std::fs::read_to_string(root.join(policy.file())).unwrap();
            assert_eq!(policy.text(), file, "{policy:?}");
        }
        // Every policy file is some command's.
        let files: BTreeSet<&str> = PolicyFor::ALL.iter().map(|p| p.file()).collect();
        for entry in std::fs::read_dir(root.join("examples")).unwrap() {
            let name = entry.unwrap().file_name().to_string_lossy().into_owned();
            if name.starts_with("iam-") {
                assert!(
                    files.contains(format!("examples/{name}").as_str()),
                    "{name}"
                );
            }
        }
    }
}
