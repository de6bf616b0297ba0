//! The report as CSV (RFC 4180, by the `csv` crate): one row per control and account, the
//! columns of [`COLUMNS`], findings joined by ` | ` in one cell.

use super::{RenderError, Report};

/// The header row, in order.
pub const COLUMNS: [&str; 13] = [
    "account_id",
    "account_name",
    "control_id",
    "slug",
    "title",
    "level",
    "state",
    "status",
    "finding_codes",
    "findings",
    "log_group",
    "alarm",
    "topic_arn",
];

pub fn render(report: &Report) -> Result<String, RenderError> {
    let mut writer = ::csv::Writer::from_writer(Vec::new());
    let error = |e: ::csv::Error| RenderError::Csv(e.to_string());
    writer.write_record(COLUMNS).map_err(error)?;
    for (account, result) in report.results() {
        let c = &result.control;
        let codes: Vec<&str> = c.findings.iter().map(|f| f.code.as_str()).collect();
        let messages: Vec<&str> = c.findings.iter().map(|f| f.message.as_str()).collect();
        let chain = c.chain.as_ref().or(c.delivery_unproven.as_ref());
        let level = c.level.to_string();
        writer
            .write_record([
                account.account_id.as_str(),
                account.name.as_deref().unwrap_or(""),
                &c.id,
                &c.slug,
                &c.title,
                &level,
                result.state.name(),
                c.status.as_str(),
                &codes.join(" | "),
                &messages.join(" | "),
                chain.map(|ch| ch.log_group.as_str()).unwrap_or(""),
                chain.map(|ch| ch.alarm.as_str()).unwrap_or(""),
                chain.map(|ch| ch.topic_arn.as_str()).unwrap_or(""),
            ])
            .map_err(error)?;
    }
    let bytes = writer
        .into_inner()
        .map_err(|e| RenderError::Csv(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| RenderError::Csv(e.to_string()))
}
