//! The Organizations reads: the organization's management account and its accounts. Still
//! "the inventory is the only reader".

use super::aws::aws_error;
use crate::error::{Error, Result};
use crate::session::Session;

/// An account of the organization, as `ListAccounts` gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgAccount {
    pub id: String,
    pub name: String,
    /// `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`.
    pub status: String,
}

/// Every account of the caller's organization (all pages). Only the management account or a
/// delegated administrator may list them.
pub async fn list_accounts(session: &Session) -> Result<Vec<OrgAccount>> {
    let client = session.organizations();
    let mut pages = client.list_accounts().into_paginator().send();
    let mut accounts = Vec::new();
    while let Some(page) = pages.next().await {
        let page = page.map_err(|e| Error::Organization {
            message: aws_error("organizations:ListAccounts", &session.region, e).to_string(),
        })?;
        for a in page.accounts.unwrap_or_default() {
            accounts.push(OrgAccount {
                id: a.id.unwrap_or_default(),
                name: a.name.unwrap_or_default(),
                status: a.status.map(|s| s.as_str().to_string()).unwrap_or_default(),
            });
        }
    }
    Ok(accounts)
}
