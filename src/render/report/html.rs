//! The report as HTML: not written yet (built in the next commits of issue 22).

use super::Report;

pub fn render(_report: &Report) -> String {
    String::new()
}
