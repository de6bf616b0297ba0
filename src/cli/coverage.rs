//! `cis-fix coverage`: which attack techniques the catalog's controls catch, computed by the
//! pattern engine from the technique records compiled into cis-fix. No credentials, no AWS
//! call.

use clap::Args;

use super::args::{Benchmark, Color, Format};
use super::output::print;
use super::ExitStatus;
use crate::coverage;
use crate::error::Result;
use crate::render::coverage as view;
use crate::render::layout::stdout_width;

#[derive(Debug, Args)]
pub struct CoverageArgs {
    // Every control counts (no --controls): a technique is caught by a catalog, not by a
    // selection of it.
    #[command(flatten)]
    pub source: Benchmark,

    /// Output format. JSON gives each technique's records and the controls that match them
    /// (`cis-fix schema coverage`).
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    #[command(flatten)]
    pub color: Color,
}

pub(super) fn run(args: CoverageArgs) -> Result<ExitStatus> {
    let catalog = args.source.full_catalog()?;
    let techniques =
        coverage::stratus_red_team().map_err(|e| crate::error::Error::Techniques(e.to_string()))?;
    let found = coverage::coverage(&catalog, &techniques);
    print(&match args.format {
        Format::Json => view::json(&found),
        Format::Text => view::text(&found, stdout_width(), args.color.painter()),
    })?;
    Ok(ExitStatus::Success)
}
