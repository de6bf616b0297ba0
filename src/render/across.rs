//! Views of backout and drill across accounts: each account's section as one account's view
//! says it, and a section several accounts share said once under a heading that names them
//! (see [`super::group`]), so that 200 members in the same situation take one section.

use super::group::{self, subject};
use super::{drill_body, heading, removal_body, TextOptions};
use crate::audit::backout::RemovalPlan;
use crate::audit::drill::AccountDrill;

/// What backout will remove and keep, per group of accounts; each section ends in a blank
/// line.
pub fn removals(parts: &[(&str, &str, &RemovalPlan)], options: TextOptions) -> String {
    let sections = parts.iter().map(|(account, region, plan)| {
        (
            *account,
            *region,
            removal_body(account, region, plan, options),
        )
    });
    grouped("cis-fix backout:", sections, "\n", options)
}

/// What a drill will do and skip, per group of accounts; sections apart by a blank line.
pub fn drills(accounts: &[AccountDrill], options: TextOptions) -> String {
    let sections = accounts.iter().map(|d| {
        (
            d.account_id.as_str(),
            d.region.as_str(),
            drill_body(&d.account_id, &d.region, &d.targets, &d.skipped, options),
        )
    });
    let text = grouped("cis-fix drill:", sections, "\n", options);
    // Apart, not after: the caller says what comes next.
    text.strip_suffix('\n').map(str::to_string).unwrap_or(text)
}

/// Each group's heading and section, each followed by `after`.
fn grouped<'a>(
    command: &str,
    sections: impl Iterator<Item = (&'a str, &'a str, String)>,
    after: &str,
    options: TextOptions,
) -> String {
    let mut region = "";
    let groups = group::sections(sections.map(|(account, r, body)| {
        region = r;
        (account, body)
    }));
    let mut out = String::new();
    for g in groups {
        let subject = format!("{}, region {region}", subject(&g.accounts));
        out.push_str(&heading(command, &subject, options));
        out.push_str(g.text());
        out.push_str(after);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::backout::{Removal, RemoveCall};
    use crate::render::Verbosity;

    fn options(verbosity: Verbosity) -> TextOptions {
        TextOptions {
            color: false,
            show_endpoints: false,
            width: 200,
            verbosity,
        }
    }

    /// The removal of an SQS queue's subscription to cis-fix's topic, both in `account`.
    fn queue_of(account: &str) -> RemovalPlan {
        let topic_arn = format!("arn:aws:sns:us-east-1:{account}:cis-fix-alerts");
        RemovalPlan {
            removals: vec![Removal {
                control: None,
                region: "us-east-1".into(),
                call: RemoveCall::Unsubscribe {
                    subscription_arn: format!("{topic_arn}:1"),
                    topic_arn,
                    protocol: "sqs".into(),
                    endpoint: format!("arn:aws:sqs:us-east-1:{account}:security"),
                },
            }],
            kept: vec![],
        }
    }

    #[test]
    fn twelve_accounts_with_nothing_to_remove_take_one_section() {
        let ids: Vec<String> = (0..12).map(|i| format!("1000000000{i:02}")).collect();
        let empty = RemovalPlan::default();
        let parts: Vec<(&str, &str, &RemovalPlan)> = ids
            .iter()
            .map(|id| (id.as_str(), "us-east-1", &empty))
            .collect();
        for verbosity in [Verbosity::Normal, Verbosity::Quiet] {
            let text = removals(&parts, options(verbosity));
            assert_eq!(text.matches("cis-fix backout:").count(), 1, "{text}");
            assert!(
                text.starts_with("cis-fix backout: 12 accounts (100000000000, 100000000001, 100000000002, 100000000003, 100000000004, … and 7 more), region us-east-1\n"),
                "{text}"
            );
        }
    }

    #[test]
    fn accounts_unsubscribing_their_own_queue_share_a_section_and_one_stands_apart() {
        let (a, b, c) = ("111111111111", "222222222222", "333333333333");
        let plans = [queue_of(a), queue_of(b), RemovalPlan::default()];
        let parts = [
            (a, "us-east-1", &plans[0]),
            (b, "us-east-1", &plans[1]),
            (c, "us-east-1", &plans[2]),
        ];
        let text = removals(&parts, options(Verbosity::Normal));
        assert_eq!(
            text,
            "cis-fix backout: 2 accounts (111111111111, 222222222222), region us-east-1\n\n\
             Actions (- destroy)\n  - unsubscribe sqs arn:aws:sqs:us-east-1:<account>:security from cis-fix-alerts\n\n\
             Plan: 1 to destroy.\n\n\
             cis-fix backout: account 333333333333, region us-east-1\n\n\
             Nothing to remove: no resource created by cis-fix was found.\n\n"
        );
    }

    #[test]
    fn one_account_reads_as_one_accounts_view() {
        let a = "111111111111";
        let plan = queue_of(a);
        let text = removals(&[(a, "us-east-1", &plan)], options(Verbosity::Normal));
        let one = crate::render::removal_text(a, "us-east-1", &plan, options(Verbosity::Normal));
        assert_eq!(text, one + "\n");
    }
}
