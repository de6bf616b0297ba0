//! `cis-fix controls`: what each control checks and what cis-fix creates for it, from the
//! catalog alone. No credentials, no AWS call.

use clap::Args;

use super::args::{Color, Controls, Format};
use super::output::print;
use super::ExitStatus;
use crate::error::Result;
use crate::render::controls;

#[derive(Debug, Args)]
pub struct ControlsArgs {
    #[command(flatten)]
    pub selected: Controls,

    /// Output format. JSON gives each pattern exactly as `apply` sends it.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    pub format: Format,

    #[command(flatten)]
    pub color: Color,
}

pub(super) fn run(args: ControlsArgs) -> Result<ExitStatus> {
    let catalog = args.selected.catalog()?;
    match args.format {
        Format::Text => print(&controls::text(&catalog, args.color.painter()))?,
        Format::Json => print(&(controls::json(&catalog) + "\n"))?,
    }
    Ok(ExitStatus::Success)
}
