//! `cis-fix schema [plan|saved-plan|org-plan|saved-org-plan|apply-result|backout-result]`:
//! the JSON Schema of each JSON document cis-fix
//! writes, generated from the Rust types so that it cannot drift from them.

use clap::Args;

use super::output::print;
use super::ExitStatus;
use crate::error::Result;
use crate::schema::Document;

#[derive(Debug, Args)]
pub struct SchemaArgs {
    /// The document: `plan --format json` (plan), `plan --out FILE` (saved-plan),
    /// `plan --org --format json` (org-plan), `plan --org --out FILE` (saved-org-plan),
    /// `apply --format json` (apply-result) or `backout --format json` (backout-result).
    #[arg(value_enum, default_value_t = Document::Plan)]
    pub document: Document,
}

pub(super) fn run(args: SchemaArgs) -> Result<ExitStatus> {
    print(&(crate::schema::text(args.document) + "\n"))?;
    Ok(ExitStatus::Success)
}
