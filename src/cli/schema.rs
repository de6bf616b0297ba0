//! `cis-fix schema DOCUMENT`: the JSON Schema of each JSON document cis-fix writes, generated
//! from the Rust types so that it cannot drift from them.

use clap::Args;

use super::output::print;
use super::ExitStatus;
use crate::error::Result;
use crate::schema::Document;

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// The document: `plan --format json` (plan), `plan --out FILE` (saved-plan),
    /// `plan --org --format json` (org-plan), `plan --org --out FILE` (saved-org-plan),
    /// `apply --format json` (apply-result), `backout --format json` (backout-result), and
    /// across accounts `apply --org --format json` (org-apply-result) and `backout --org
    /// --format json` (org-backout-result); `coverage --format json` (coverage); `report
    /// --format json` (report); `forecast --format json` (forecast).
    #[arg(value_enum, default_value_t = Document::Plan)]
    pub document: Document,
}

pub(super) fn run(args: SchemaArgs) -> Result<ExitStatus> {
    print(&(crate::schema::text(args.document) + "\n"))?;
    Ok(ExitStatus::Success)
}
