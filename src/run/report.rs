//! report's work for `--to-security-hub`: each account's ASFF findings imported into its own
//! Security Hub with its own session ([`crate::apply::security_hub`]), one account after the
//! other. An account that fails does not stop the others.

use super::Observed;
use crate::apply::security_hub::{self, Imported, ACTION};
use crate::error::Error;
use crate::render::report::asff::{self, Finding};
use crate::render::report::Report;
use crate::session::errors::is_denied;
use crate::session::Session;

/// Imports the report's findings, account by account, in the run's region.
pub async fn to_security_hub(observed: &Observed, report: &Report) -> Vec<Imported> {
    let findings = asff::findings(report);
    let mut done = Vec::new();
    for account in &report.accounts {
        let id = account.account_id.as_str();
        let own: Vec<Finding> = findings
            .iter()
            .filter(|f| f.aws_account_id == id)
            .cloned()
            .collect();
        let imported = match session_of(observed, id) {
            Some(session) => security_hub::import(session, &report.region, id, &own).await,
            None => Imported {
                account: id.to_string(),
                region: report.region.clone(),
                imported: 0,
                refused: vec![],
                error: Some(Error::Usage(format!(
                    "no session in account {id} (it was not read in full), so its {} findings were not imported",
                    own.len()
                ))),
            },
        };
        done.push(imported);
    }
    done
}

/// The session that reads (and may write in) `account`.
fn session_of<'a>(observed: &'a Observed, account: &str) -> Option<&'a Session> {
    match observed {
        Observed::One(one) => Some(&one.session),
        Observed::Many(many) => many.reads.sessions.get(account),
    }
}

/// One line per account that imported: `Imported 15 findings into Security Hub in account
/// 111122223333 (us-east-1)`.
pub fn summary(imports: &[Imported]) -> String {
    imports
        .iter()
        .filter(|i| i.imported > 0 || (i.error.is_none() && i.refused.is_empty()))
        .map(|i| {
            format!(
                "Imported {} finding{} into Security Hub in account {} ({})\n",
                i.imported,
                if i.imported == 1 { "" } else { "s" },
                i.account,
                i.region
            )
        })
        .collect()
}

/// What went wrong, one line for each account that failed: the denied permission and the
/// account, or the findings Security Hub refused. `None` when every finding was imported.
pub fn failure(imports: &[Imported]) -> Option<Error> {
    let lines: Vec<String> = imports.iter().filter_map(account_failure).collect();
    if lines.is_empty() {
        return None;
    }
    Some(Error::Aws {
        operation: ACTION,
        region: imports.first().map(|i| i.region.clone()),
        message: format!("{}; the report itself was written", lines.join("; ")),
    })
}

fn account_failure(import: &Imported) -> Option<String> {
    let account = &import.account;
    if let Some(error) = &import.error {
        let message = match error {
            Error::Aws { message, .. } => message.clone(),
            other => other.to_string(),
        };
        let advice = if is_denied(&message) {
            format!("; grant {ACTION} there (`cis-fix iam-policy report`)")
        } else if message.starts_with("InvalidAccessException") {
            // Security Hub's word for an account where it is not enabled.
            format!("; enable Security Hub in that account in {}", import.region)
        } else {
            String::new()
        };
        return Some(format!("account {account}: {message}{advice}"));
    }
    let (id, why) = import.refused.first()?;
    let more = import.refused.len() - 1;
    Some(format!(
        "account {account} refused {} finding{} ({id}: {why}{})",
        import.refused.len(),
        if import.refused.len() == 1 { "" } else { "s" },
        if more > 0 {
            format!("; and {more} more")
        } else {
            String::new()
        }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn imported(imported: usize, refused: &[(&str, &str)], error: Option<&str>) -> Imported {
        Imported {
            account: "111122223333".into(),
            region: "us-east-1".into(),
            imported,
            refused: refused
                .iter()
                .map(|(id, why)| (id.to_string(), why.to_string()))
                .collect(),
            error: error.map(|message| Error::Aws {
                operation: ACTION,
                region: Some("us-east-1".into()),
                message: message.into(),
            }),
        }
    }

    #[test]
    fn each_account_that_failed_is_named_with_the_permission_or_the_refused_findings() {
        let all_in = imported(15, &[], None);
        assert_eq!(
            summary(std::slice::from_ref(&all_in)),
            "Imported 15 findings into Security Hub in account 111122223333 (us-east-1)\n"
        );
        assert!(failure(&[all_in]).is_none());

        let denied = imported(0, &[], Some("AccessDeniedException: not authorized"));
        assert_eq!(summary(std::slice::from_ref(&denied)), "");
        let text = failure(&[denied])
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            text.contains("account 111122223333: AccessDeniedException")
                && text.contains("grant securityhub:BatchImportFindings there"),
            "{text}"
        );

        let refused = imported(
            13,
            &[("a", "InvalidInput: bad"), ("b", "InvalidInput")],
            None,
        );
        let text = failure(&[refused])
            .map(|e| e.to_string())
            .unwrap_or_default();
        assert!(
            text.contains(
                "account 111122223333 refused 2 findings (a: InvalidInput: bad; and 1 more)"
            ),
            "{text}"
        );
    }
}
