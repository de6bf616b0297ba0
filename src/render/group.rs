//! Saying a situation many accounts share once, as `plan --org` does (`×12 accounts: A, B, …
//! and 7 more`): each account's section is compared with its own id (and the digests derived
//! from it) masked, and identical sections are shown once, naming their accounts.

use std::sync::LazyLock;

use regex::Regex;

/// What an account's own id reads as in a section shared by several accounts.
pub const ACCOUNT_MASK: &str = "<account>";

/// How many ids a list names before it says how many more.
pub const SHOWN_ACCOUNTS: usize = 5;

/// The 8-hex digest that ends a name cis-fix derives from an account (a metric filter's, a
/// second alarm's) or an endpoint tag: it differs per account, like the id it hashes.
static DIGEST: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"\b(cis-fix-[a-z0-9-]*[a-z0-9]-|cis-fix:endpoint:)[0-9a-f]{8}\b").ok()
});

/// Accounts whose sections read the same once each one's own id is masked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group<'a> {
    /// The first account's section as it is (shown when the group has one account).
    pub first: String,
    /// The section with the account's id and digests masked (shown for several).
    pub masked: String,
    pub accounts: Vec<&'a str>,
    /// Every account's section is `first` to the letter (members relying on the management
    /// account's chain name its filter alike): nothing differs, so nothing is masked.
    pub same: bool,
}

impl Group<'_> {
    /// The section to show: the accounts' own when they all read the same, or the shared one.
    pub fn text(&self) -> &str {
        if self.same {
            &self.first
        } else {
            &self.masked
        }
    }
}

/// `text` with `account`'s id, and the digests cis-fix derives from it, masked.
pub fn mask(text: &str, account: &str) -> String {
    let text = match account.is_empty() {
        true => text.to_string(),
        false => text.replace(account, ACCOUNT_MASK),
    };
    match DIGEST.as_ref() {
        Some(digest) => digest.replace_all(&text, "${1}<digest>").into_owned(),
        None => text,
    }
}

/// `(account, section)` pairs grouped by their masked sections, in order of first appearance.
pub fn sections<'a>(items: impl IntoIterator<Item = (&'a str, String)>) -> Vec<Group<'a>> {
    let mut groups: Vec<Group<'a>> = Vec::new();
    for (account, text) in items {
        let masked = mask(&text, account);
        match groups.iter_mut().find(|g| g.masked == masked) {
            Some(group) => {
                group.same &= group.first == text;
                group.accounts.push(account);
            }
            None => groups.push(Group {
                first: text,
                masked,
                accounts: vec![account],
                same: true,
            }),
        }
    }
    groups
}

/// `×3 accounts`.
pub fn count(n: usize) -> String {
    format!("×{n} account{}", if n == 1 { "" } else { "s" })
}

/// The first few ids, then how many more.
pub fn list(accounts: &[&str]) -> String {
    let shown: Vec<&str> = accounts.iter().take(SHOWN_ACCOUNTS).copied().collect();
    let more = accounts.len().saturating_sub(SHOWN_ACCOUNTS);
    if more == 0 {
        shown.join(", ")
    } else {
        format!("{}, … and {more} more", shown.join(", "))
    }
}

/// `account A` for one, `3 accounts (A, B, C)` for several: the subject of a section's
/// heading.
pub fn subject(accounts: &[&str]) -> String {
    match accounts {
        [one] => format!("account {one}"),
        _ => format!("{} accounts ({})", accounts.len(), list(accounts)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str = "111111111111";
    const B: &str = "222222222222";

    #[test]
    fn sections_that_differ_only_by_their_own_account_are_one() {
        let section = |id: &str, digest: &str| {
            format!("- delete_topic arn:aws:sns:us-east-1:{id}:cis-fix-alerts\n- delete_metric_filter cis-fix-root-account-usage-{digest}\n")
        };
        let groups = sections([
            (A, section(A, "0011aabb")),
            (B, section(B, "99ff8877")),
            ("333333333333", "Nothing to remove.\n".to_string()),
        ]);
        assert_eq!(groups.len(), 2);
        assert_eq!(groups[0].accounts, [A, B]);
        assert_eq!(
            groups[0].text(),
            "- delete_topic arn:aws:sns:us-east-1:<account>:cis-fix-alerts\n- delete_metric_filter cis-fix-root-account-usage-<digest>\n"
        );
        assert_eq!(groups[1].text(), "Nothing to remove.\n");
    }

    #[test]
    fn another_account_named_in_a_section_is_not_masked() {
        // A member's skip names the management account: that is what it shares.
        let skip = |_: &str| format!("its chain is account {A}'s\n");
        let groups = sections([(B, skip(B)), ("333333333333", skip("333333333333"))]);
        assert_eq!(groups.len(), 1);
        assert!(groups[0].text().contains(A));
    }

    #[test]
    fn a_group_of_one_shows_its_own_section() {
        let groups = sections([(A, format!("topic arn:aws:sns:us-east-1:{A}:t\n"))]);
        assert_eq!(
            groups[0].text(),
            format!("topic arn:aws:sns:us-east-1:{A}:t\n")
        );
    }

    #[test]
    fn sections_the_same_to_the_letter_keep_their_digests() {
        // The management account's filter, named alike in every member relying on it.
        let line = "filter cis-fix-root-account-usage-0011aabb of account 999988887777\n";
        let groups = sections([(A, line.to_string()), (B, line.to_string())]);
        assert_eq!(groups.len(), 1);
        assert_eq!(groups[0].text(), line);
    }

    #[test]
    fn endpoint_tags_are_masked_too() {
        assert_eq!(
            mask("cis-fix:endpoint:00962a6f = sqs", A),
            "cis-fix:endpoint:<digest> = sqs"
        );
    }

    #[test]
    fn lists_name_five_then_count() {
        let ids: Vec<String> = (0..8).map(|i| format!("10000000000{i}")).collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        assert_eq!(
            list(&ids),
            "100000000000, 100000000001, 100000000002, 100000000003, 100000000004, … and 3 more"
        );
        assert_eq!(subject(&ids[..1]), "account 100000000000");
        assert_eq!(count(1), "×1 account");
        assert_eq!(count(8), "×8 accounts");
    }
}
