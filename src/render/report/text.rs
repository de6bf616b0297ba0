//! The report as text: one line per control and account, grouped by account, with the
//! findings under each control that is not compliant.

use super::{Report, State};

pub fn render(report: &Report) -> String {
    let mut out = format!(
        "cis-fix report: {} ({}), {} account{}, generated {}\n",
        report.benchmark,
        report.benchmark_title,
        report.accounts.len(),
        if report.accounts.len() == 1 { "" } else { "s" },
        report.generated_at
    );
    for account in &report.accounts {
        out.push_str(&format!("\naccount {}", account.account_id));
        if let Some(name) = &account.name {
            out.push_str(&format!(" ({name})"));
        }
        out.push('\n');
        if let Some(error) = &account.error {
            out.push_str(&format!("  not read in full: {error}\n"));
        }
        for result in &account.results {
            let c = &result.control;
            out.push_str(&format!(
                "  {:<6} {:<22} {}\n",
                c.id,
                result.state.name(),
                c.title
            ));
            if result.state == State::Compliant {
                continue;
            }
            for finding in &c.findings {
                out.push_str(&format!(
                    "         {}: {}\n",
                    finding.code.as_str(),
                    finding.message
                ));
            }
        }
    }
    let s = &report.summary;
    out.push_str(&format!(
        "\n{} results: {} compliant, {} non_compliant, {} awaiting_confirmation, {} blocked, {} not_auditable\n",
        s.accounts * s.controls,
        s.compliant,
        s.non_compliant,
        s.awaiting_confirmation,
        s.blocked,
        s.not_auditable
    ));
    out
}
