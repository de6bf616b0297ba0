//! The report as JUnit XML, the de-facto schema Jenkins, GitLab, JUnit 5 and `junitparser`
//! read: one `<testsuite>` per account, one `<testcase>` per control (docs/report.md,
//! "JUnit"). Written by `quick-xml`, which escapes every attribute and text.
//!
//! A control found wanting is a `<failure>`; one cis-fix could not audit is an `<error>`
//! (the check itself could not run, as `cis-fix` exits 1 rather than 2 for it); one whose
//! only gap is a subscription its owner has not confirmed yet is `<skipped>`: nothing is
//! wrong that the operator can fix, and a human step is pending.

use std::io;

use quick_xml::events::{BytesDecl, BytesText, Event};
use quick_xml::Writer;

use super::{AccountEvidence, ControlResult, RenderError, Report, State};
use crate::audit::Chain;

/// What a test case's outcome is in JUnit terms.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Passed,
    Failure,
    Error,
    Skipped,
}

pub fn outcome(state: State) -> Outcome {
    match state {
        State::Compliant => Outcome::Passed,
        State::NonCompliant | State::Blocked => Outcome::Failure,
        State::AwaitingConfirmation => Outcome::Skipped,
        State::NotAuditable => Outcome::Error,
    }
}

pub fn render(report: &Report) -> Result<String, RenderError> {
    let bytes = write(report).map_err(|e| RenderError::Junit(e.to_string()))?;
    String::from_utf8(bytes).map_err(|e| RenderError::Junit(e.to_string()))
}

fn write(report: &Report) -> io::Result<Vec<u8>> {
    let mut writer = Writer::new_with_indent(Vec::new(), b' ', 2);
    writer.write_event(Event::Decl(BytesDecl::new("1.0", Some("UTF-8"), None)))?;
    let counts = Counts::of(report.accounts.iter().flat_map(|a| &a.results));
    let mut attributes = vec![("name", "cis-fix report".to_string())];
    attributes.extend(counts.attributes());
    writer
        .create_element("testsuites")
        .with_attributes(attributes.iter().map(|(k, v)| (*k, v.as_str())))
        .write_inner_content(|w| {
            for account in &report.accounts {
                suite(w, report, account)?;
            }
            Ok(())
        })?;
    let mut bytes = writer.into_inner();
    bytes.push(b'\n');
    Ok(bytes)
}

/// The `tests`, `failures`, `errors` and `skipped` of a suite or of the whole report.
struct Counts {
    tests: usize,
    failures: usize,
    errors: usize,
    skipped: usize,
}

impl Counts {
    fn of<'a>(results: impl Iterator<Item = &'a ControlResult>) -> Counts {
        let mut counts = Counts {
            tests: 0,
            failures: 0,
            errors: 0,
            skipped: 0,
        };
        for result in results {
            counts.tests += 1;
            match outcome(result.state) {
                Outcome::Passed => {}
                Outcome::Failure => counts.failures += 1,
                Outcome::Error => counts.errors += 1,
                Outcome::Skipped => counts.skipped += 1,
            }
        }
        counts
    }

    /// With `time` 0: cis-fix reads every account before it judges any control, so no
    /// time is a control's own.
    fn attributes(&self) -> [(&'static str, String); 5] {
        [
            ("tests", self.tests.to_string()),
            ("failures", self.failures.to_string()),
            ("errors", self.errors.to_string()),
            ("skipped", self.skipped.to_string()),
            ("time", "0".to_string()),
        ]
    }
}

fn suite(w: &mut Writer<Vec<u8>>, report: &Report, account: &AccountEvidence) -> io::Result<()> {
    let counts = Counts::of(account.results.iter());
    let name = match &account.name {
        Some(name) => format!("{} ({name})", account.account_id),
        None => account.account_id.clone(),
    };
    // The Ant schema's timestamp has no zone: generated_at is UTC.
    let timestamp = report.generated_at.trim_end_matches('Z').to_string();
    let mut attributes = vec![("name", clean(&name)), ("timestamp", timestamp)];
    attributes.extend(counts.attributes());
    w.create_element("testsuite")
        .with_attributes(attributes.iter().map(|(k, v)| (*k, v.as_str())))
        .write_inner_content(|w| {
            properties(w, report, account)?;
            for result in &account.results {
                case(w, account, result)?;
            }
            Ok(())
        })?;
    Ok(())
}

fn properties(
    w: &mut Writer<Vec<u8>>,
    report: &Report,
    account: &AccountEvidence,
) -> io::Result<()> {
    let mut props = vec![
        ("account_id", account.account_id.clone()),
        ("benchmark", report.benchmark.clone()),
        ("region", report.region.clone()),
        ("readable", account.readable.to_string()),
    ];
    if let Some(name) = &account.name {
        props.push(("account_name", name.clone()));
    }
    if let Some(error) = &account.error {
        props.push(("error", error.clone()));
    }
    w.create_element("properties").write_inner_content(|w| {
        for (name, value) in &props {
            w.create_element("property")
                .with_attributes([("name", *name), ("value", clean(value).as_str())])
                .write_empty()?;
        }
        Ok(())
    })?;
    Ok(())
}

fn case(w: &mut Writer<Vec<u8>>, account: &AccountEvidence, r: &ControlResult) -> io::Result<()> {
    let c = &r.control;
    let classname = format!("cis-fix.{}", account.account_id);
    let name = clean(&format!("{} {}: {}", c.id, c.slug, c.title));
    let element = w.create_element("testcase").with_attributes([
        ("classname", classname.as_str()),
        ("name", name.as_str()),
        ("time", "0"),
    ]);
    element.write_inner_content(|w| {
        let (message, kind) = summary(r);
        let tag = match outcome(r.state) {
            Outcome::Passed => None,
            Outcome::Skipped => {
                w.create_element("skipped")
                    .with_attribute(("message", message.as_str()))
                    .write_empty()?;
                None
            }
            Outcome::Failure => Some("failure"),
            Outcome::Error => Some("error"),
        };
        if let Some(tag) = tag {
            w.create_element(tag)
                .with_attributes([("message", message.as_str()), ("type", kind.as_str())])
                .write_text_content(BytesText::new(clean(&findings(r)).trim_end()))?;
        }
        if let Some(chain) = c.chain.as_ref().or(c.delivery_unproven.as_ref()) {
            w.create_element("system-out")
                .write_text_content(BytesText::new(&clean(&describe(chain))))?;
        }
        Ok(())
    })?;
    Ok(())
}

/// A one-line `message` (the first finding's, or the state) and a `type` (its code).
fn summary(r: &ControlResult) -> (String, String) {
    let state = r.state.name().to_string();
    match r.control.findings.first() {
        Some(first) => {
            let more = r.control.findings.len() - 1;
            let suffix = match more {
                0 => String::new(),
                n => format!(" (and {n} more)"),
            };
            (
                one_line(&format!("{state}: {}{suffix}", first.message)),
                first.code.as_str().to_string(),
            )
        }
        None => (state.clone(), state),
    }
}

/// Every finding, `code: message`, with its diff when it has one.
fn findings(r: &ControlResult) -> String {
    let mut text = String::new();
    for finding in &r.control.findings {
        text.push_str(&format!("{}: {}\n", finding.code.as_str(), finding.message));
        if let Some(diff) = &finding.diff {
            for line in diff.lines() {
                text.push_str(&format!("    {line}\n"));
            }
        }
    }
    text
}

/// The chain that proves the control, or would once its delivery is proven.
fn describe(chain: &Chain) -> String {
    let relation = serde_json::to_value(chain.relation)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default();
    format!(
        "trail {} ({}) -> log group {} (account {}) -> metric filter {} ({relation}) -> \
         alarm {} -> topic {} ({} confirmed subscription{})",
        chain.trail,
        chain.region,
        chain.log_group,
        chain.account_id,
        chain.filter,
        chain.alarm,
        chain.topic_arn,
        chain.confirmed_subscriptions,
        if chain.confirmed_subscriptions == 1 {
            ""
        } else {
            "s"
        }
    )
}

fn one_line(text: &str) -> String {
    clean(&text.replace(['\r', '\n'], " "))
}

/// XML 1.0 (§2.2) has no way to write most control characters, escaped or not: they become
/// U+FFFD rather than make the document unreadable.
fn clean(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\t' | '\n' | '\r' => c,
            c if (c as u32) < 0x20 || c == '\u{FFFE}' || c == '\u{FFFF}' => '\u{FFFD}',
            c => c,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use quick_xml::events::Event;
    use quick_xml::Reader;

    use super::super::tests::{one_account, organization};
    use super::*;

    /// Each test case as (classname, name, outcome element or "passed"), read back.
    fn cases(xml: &str) -> Vec<(String, String, String)> {
        let mut reader = Reader::from_str(xml);
        let mut cases = Vec::new();
        loop {
            match reader.read_event().unwrap() {
                Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"testcase" => {
                    let attr = |name: &str| {
                        e.try_get_attribute(name)
                            .unwrap()
                            .unwrap()
                            .normalized_value(quick_xml::XmlVersion::Implicit1_0)
                            .unwrap()
                            .into_owned()
                    };
                    cases.push((attr("classname"), attr("name"), "passed".to_string()));
                }
                Event::Start(e) | Event::Empty(e)
                    if matches!(e.name().as_ref(), b"failure" | b"error" | b"skipped") =>
                {
                    let last = cases.last_mut().unwrap();
                    last.2 = String::from_utf8(e.name().as_ref().to_vec()).unwrap();
                }
                Event::Eof => break,
                _ => {}
            }
        }
        cases
    }

    #[test]
    fn one_test_case_per_control_and_account_with_the_state_s_outcome() {
        let report = organization();
        let xml = render(&report).unwrap();
        let cases = cases(&xml);
        assert_eq!(cases.len(), 12);
        for (case, (account, r)) in cases.iter().zip(report.results()) {
            assert_eq!(case.0, format!("cis-fix.{}", account.account_id));
            assert!(case
                .1
                .starts_with(&format!("{} {}: ", r.control.id, r.control.slug)));
            let expected = match r.state {
                State::Compliant => "passed",
                State::NonCompliant | State::Blocked => "failure",
                State::AwaitingConfirmation => "skipped",
                State::NotAuditable => "error",
            };
            assert_eq!(case.2, expected, "{case:?}");
        }
        let s = &report.summary;
        assert!(xml.contains(&format!(
            "<testsuites name=\"cis-fix report\" tests=\"12\" failures=\"{}\" errors=\"{}\" skipped=\"{}\"",
            s.non_compliant + s.blocked,
            s.not_auditable,
            s.awaiting_confirmation
        )), "{xml}");
        assert_eq!(xml.matches("<testsuite ").count(), 4);
    }

    #[test]
    fn a_failure_holds_its_findings_and_a_pass_its_chain() {
        let report = one_account();
        let xml = render(&report).unwrap();
        let finding = &report.accounts[0].results[0].control.findings[0];
        assert!(
            xml.contains(&format!("type=\"{}\"", finding.code.as_str())),
            "{xml}"
        );
        let chain = report.accounts[0].results[2]
            .control
            .chain
            .as_ref()
            .unwrap();
        let text = quick_xml::escape::unescape(&xml).unwrap();
        assert!(text.contains("<system-out>trail "), "{xml}");
        assert!(
            text.contains(&format!("alarm {} -> topic", chain.alarm)),
            "{xml}"
        );
    }

    #[test]
    fn markup_and_control_characters_in_names_and_findings_are_escaped() {
        let mut report = one_account();
        report.accounts[0].name = Some("a<b>&\"c\" \u{1}".into());
        let control = &mut report.accounts[0].results[0].control;
        control.title = "<script>&amp;</script>".into();
        control.findings[0].message = "]]> <!-- \u{7} \n next".into();
        let xml = render(&report).unwrap();
        assert!(!xml.contains('\u{1}') && !xml.contains('\u{7}'));
        let cases = cases(&xml);
        assert_eq!(
            cases[0].1,
            "4.1 unauthorized-api-calls: <script>&amp;</script>"
        );
        assert_eq!(cases[0].2, "failure");
    }
}
