//! The Organizations reads: the organization's management account and its accounts. Still
//! "the inventory is the only reader".

use futures::stream::{self, Stream, StreamExt};

use crate::error::{Error, Result};
use crate::session::errors::aws_error;
use crate::session::Session;

/// An account of the organization, as `ListAccounts` gives it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgAccount {
    pub id: String,
    pub name: String,
    /// `ACTIVE`, `SUSPENDED`, `PENDING_CLOSURE`.
    pub status: String,
}

/// Every account of the caller's organization, page by page as `ListAccounts` answers, so that
/// the accounts of the first page can be read while the next pages are still being listed.
/// A page that fails ends the stream with its error. Only the management account or a
/// delegated administrator may list them.
pub fn accounts(session: &Session) -> impl Stream<Item = Result<OrgAccount>> + '_ {
    let pages = session
        .organizations()
        .list_accounts()
        .into_paginator()
        .send();
    // `None` once a page failed: nothing is listed after an error.
    stream::unfold(Some(pages), move |pages| async move {
        let mut pages = pages?;
        let page = pages.next().await?;
        Some(match page {
            Ok(page) => {
                let listed: Vec<Result<OrgAccount>> = page
                    .accounts
                    .unwrap_or_default()
                    .into_iter()
                    .map(|a| {
                        Ok(OrgAccount {
                            id: a.id.unwrap_or_default(),
                            name: a.name.unwrap_or_default(),
                            status: a.status.map(|s| s.as_str().to_string()).unwrap_or_default(),
                        })
                    })
                    .collect();
                (listed, Some(pages))
            }
            Err(e) => (
                vec![Err(Error::Organization {
                    message: aws_error("organizations:ListAccounts", &session.region, e)
                        .to_string(),
                })],
                None,
            ),
        })
    })
    .flat_map(stream::iter)
}
