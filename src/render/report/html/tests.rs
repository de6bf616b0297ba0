//! The HTML page on the report's fixtures: the matrix's cells, the marked links, escaping,
//! and nothing loaded from elsewhere. (Parsed with html5lib in tests/integration/report_html.rs.)

use regex::Regex;

use super::super::tests::{one_account, organization};
use super::*;

/// The matrix's cells as (account, control, state in the class, state in data-state).
fn cells(page: &str) -> Vec<(String, String, String, String)> {
    let cell = Regex::new(
        r#"<td class="cell s-([a-z_]+)" title="[^"]*" data-account="([^"]*)" data-control="([^"]*)" data-state="([a-z_]+)""#,
    )
    .unwrap();
    cell.captures_iter(page)
        .map(|c| (c[2].into(), c[3].into(), c[1].into(), c[4].into()))
        .collect()
}

/// The card of account `row`'s control `column`, up to its end.
fn card(page: &str, row: usize, column: usize) -> &str {
    let start = page
        .find(&format!(r#"id="r-{row}-{column}""#))
        .unwrap_or_else(|| panic!("no card r-{row}-{column}"));
    let end = page[start..].find("</article>").unwrap() + start;
    &page[start..end]
}

fn mark(card: &str, link: Link) -> String {
    let re = Regex::new(&format!(
        r#"data-link="{}" data-mark="([a-z]+)""#,
        link.name()
    ))
    .unwrap();
    re.captures(card)
        .unwrap_or_else(|| panic!("no {link:?} in {card}"))[1]
        .to_string()
}

#[test]
fn the_matrix_has_one_cell_per_account_and_control_with_its_state() {
    for report in [one_account(), organization()] {
        let page = render(&report);
        let found = cells(&page);
        let expected: Vec<(String, String, String, String)> = report
            .results()
            .map(|(a, r)| {
                let state = r.state.name().to_string();
                (
                    a.account_id.clone(),
                    r.control.id.clone(),
                    state.clone(),
                    state,
                )
            })
            .collect();
        assert_eq!(found, expected);
    }
    // One account: one row.
    let page = render(&one_account());
    assert_eq!(
        page.matches("<tr>").count(),
        2,
        "a header row and one account row"
    );
}

#[test]
fn a_missing_filter_marks_the_filter_link_and_what_follows_it_unreached() {
    let report = one_account();
    let result = &report.accounts[0].results[0];
    assert_eq!(result.control.id, "4.1");
    assert_eq!(result.state, State::NonCompliant);
    let codes: Vec<Code> = result.control.findings.iter().map(|f| f.code).collect();
    assert_eq!(codes, [Code::NoCoveringFilter]);
    let page = render(&report);
    let card = card(&page, 0, 0);
    let marks: Vec<String> = Link::ALL.iter().map(|l| mark(card, *l)).collect();
    assert_eq!(
        marks,
        ["ok", "ok", "broken", "unreached", "unreached", "unreached"]
    );
    assert!(card.contains("no_covering_filter"), "{card}");
}

#[test]
fn an_unconfirmed_subscription_is_pending_and_a_compliant_chain_is_named() {
    let report = one_account();
    let page = render(&report);
    // 4.3: whole but for its subscription.
    let waiting = card(&page, 0, 1);
    assert_eq!(mark(waiting, Link::Subscription), "pending");
    assert_eq!(mark(waiting, Link::Alarm), "ok");
    // 4.6: compliant, every link there, with the chain's names; folded away.
    let passing = card(&page, 0, 2);
    assert!(Link::ALL.iter().all(|l| mark(passing, *l) == "ok"));
    let chain = report.accounts[0].results[2].control.chain.clone().unwrap();
    assert!(passing.contains(&format!(">{}<", chain.alarm)), "{passing}");
    let details = page.find("<details class=\"passing\">").unwrap();
    assert!(page.find(r#"id="r-0-2""#).unwrap() > details);
}

#[test]
fn no_trail_marks_the_trail_and_an_unread_account_lists_its_controls() {
    let report = organization();
    let page = render(&report);
    let blocked = card(&page, 1, 0);
    assert_eq!(mark(blocked, Link::Trail), "broken");
    assert_eq!(mark(blocked, Link::Filter), "unreached");
    // The account that could not be read: its reason, once; no chain drawn.
    let unread = &page[page.find(r#"id="a-3""#).unwrap()..];
    let unread = &unread[..unread.find("</section>").unwrap()];
    assert!(unread.contains("AccessDenied assuming OrganizationAccountAccessRole"));
    assert!(!unread.contains("data-link="), "{unread}");
    assert_eq!(unread.matches("data-control=").count(), 3);
}

#[test]
fn text_from_aws_and_the_catalog_is_escaped() {
    let mut report = one_account();
    let attack = r#"<script>alert("x")</script>"#;
    report.accounts[0].name = Some(attack.into());
    report.accounts[0].results[0].control.findings[0].message =
        format!("filter `{attack}` {attack}");
    report.controls[0].title = format!("\"><img src=x onerror=alert(1)>{attack}");
    report.benchmark_title = attack.into();
    let page = render(&report);
    assert!(!page.contains("<script"), "{page}");
    assert!(!page.contains("<img"), "{page}");
    assert!(page.contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;"));
    // A quote cannot close the attribute it is in.
    assert!(page.contains("&quot;&gt;&lt;img src=x"));
}

#[test]
fn nothing_is_loaded_from_elsewhere() {
    let attributes = Regex::new(r#"\b(src|href|srcset|action|data|poster)="([^"]*)""#).unwrap();
    let href = Regex::new(r##"href="#([^"]+)""##).unwrap();
    for report in [one_account(), organization()] {
        let page = render(&report);
        for reference in attributes.captures_iter(&page) {
            assert!(reference[2].starts_with('#'), "{}", &reference[0]);
        }
        for loader in ["http://", "https://", "url(", "@import", "<script", "<link"] {
            assert!(!page.contains(loader), "{loader}");
        }
        // Every in-page link has its target.
        for target in href.captures_iter(&page) {
            assert!(
                page.contains(&format!(r#"id="{}""#, &target[1])),
                "{}",
                &target[1]
            );
        }
    }
}

#[test]
fn the_summary_counts_each_state() {
    let report = organization();
    let page = render(&report);
    for state in State::ALL {
        let n = count(&report, state);
        assert!(
            page.contains(&format!(
                r#"<strong data-count="{}">{n}</strong>"#,
                state.name()
            )),
            "{state:?}"
        );
    }
    assert!(report.summary.blocked > 0 && report.summary.not_auditable > 0);
}

#[test]
fn every_code_that_names_a_link_names_the_one_its_description_is_about() {
    // Spot checks across the table, one per link and the ones that name none.
    assert_eq!(broken_link(Code::NoQualifyingTrail), Some(Link::Trail));
    assert_eq!(
        broken_link(Code::FilterOnUnqualifiedLogGroup),
        Some(Link::LogGroup)
    );
    assert_eq!(broken_link(Code::NearMissFilter), Some(Link::Filter));
    assert_eq!(broken_link(Code::AlarmActionsDisabled), Some(Link::Alarm));
    assert_eq!(
        broken_link(Code::TopicPolicyDeniesCloudwatch),
        Some(Link::Topic)
    );
    assert_eq!(broken_link(Code::NeedsSubscriber), Some(Link::Subscription));
    assert_eq!(broken_link(Code::WatchRuleMissing), None);
    assert_eq!(broken_link(Code::NotAuditable), None);
    // Every code's description names the kind of thing its link is.
    for &code in Code::ALL {
        let words = code.description().to_lowercase();
        let named = match broken_link(code) {
            Some(Link::Trail) => words.contains("trail"),
            Some(Link::LogGroup) => words.contains("log group"),
            Some(Link::Filter) => words.contains("filter") || words.contains("pattern"),
            Some(Link::Alarm) => words.contains("alarm"),
            Some(Link::Topic) => words.contains("topic") || words.contains("delivery"),
            Some(Link::Subscription) => words.contains("subscri"),
            None => true,
        };
        assert!(named, "{code}: {words}");
    }
}
