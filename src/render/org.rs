//! Views of an organization plan (`cis-fix plan --org`): a matrix of accounts × controls,
//! findings grouped across accounts, actions per account, and the same JSON masking as a
//! single-account plan.
//!
//! An organization may have hundreds of members failing a control for the same reason; each
//! reason is said once, with a count and the first few account ids, not once per member.

use std::fmt::Write as _;

use super::group::{self, count, list, mask, ACCOUNT_MASK};
use super::layout::Page;
use super::{
    chain_line, control_suffix, describe_within, extra_reason, topic_name_in, unplanned_reason,
    Painter, TextOptions, Verbosity, BOLD, DIM, GREEN, RED, YELLOW,
};
use crate::audit::org::{AccountReport, AccountStatus, OrgPlan};
use crate::audit::{AfterApply, Call, Code, Finding, Mode, Status};
use crate::redact::mask_endpoint;

/// Widest account name the matrix shows; longer names are cut with "…".
const NAME_WIDTH: usize = 28;
/// Names are cut down to this before the matrix is split into blocks of columns.
const MIN_NAME_WIDTH: usize = 12;

/// The organization plan as pretty JSON (the documented wire format), with subscription
/// endpoints masked unless `show_endpoints`, as [`super::json`] does for one account.
pub fn org_json(plan: &OrgPlan, show_endpoints: bool) -> String {
    let mut shown = plan.clone();
    if !show_endpoints {
        for action in &mut shown.actions {
            if let Call::Subscribe {
                protocol, endpoint, ..
            } = &mut action.action.call
            {
                *endpoint = mask_endpoint(protocol, endpoint);
            }
        }
    }
    // Strings, numbers, maps and lists only: serialising cannot fail.
    serde_json::to_string_pretty(&shown).unwrap_or_default()
}

/// The organization plan for people, in the order a reviewer reads it: grouped findings,
/// accounts that could not be read, actions per account, and last (on the final screen) the
/// account × control matrix and the summary. `--quiet` keeps only the last two.
pub fn org_text(plan: &OrgPlan, options: TextOptions) -> String {
    let p = Painter(options.color);
    let controls = control_ids(plan);
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {} account{}, region {}, benchmark {} ({} control{})",
        p.bold("cis-fix plan --org:"),
        plan.accounts.len(),
        plural(plan.accounts.len()),
        plan.region,
        crate::term::escape(&plan.benchmark),
        controls.len(),
        plural(controls.len())
    );
    for note in &plan.notes {
        let _ = writeln!(
            out,
            "{} {}",
            p.paint(YELLOW, "note:"),
            crate::term::escape(note)
        );
    }

    if options.verbosity != Verbosity::Quiet {
        let verbose = options.verbosity == Verbosity::Verbose;
        findings(&mut out, &p, plan, &controls, options.width, verbose);
        unreadable(&mut out, &p, plan, options.width);
        actions(&mut out, &p, plan, options);
    }
    out.push('\n');
    // The matrix is laid out to the width itself; wrapping would break its columns.
    let mut text = super::layout::wrap_painted(&out, options.width, p);
    matrix(&mut text, &p, plan, &controls, options.width);

    let mut tail = Page::new(options.width, p);
    tail.blank();
    if plan.actions.is_empty() {
        // "No changes" would read as "all is well": say it only when it is.
        let head = if plan.is_compliant() {
            "No changes."
        } else {
            "Nothing to apply."
        };
        tail.line(0, 4, &format!("{head} {}", summary_tail(plan)), None);
    } else {
        tail.styled_prefix(
            0,
            4,
            &format!(
                "Plan: {} to create, {} to change.",
                plan.summary.to_create, plan.summary.to_change
            ),
            Some(BOLD),
            &format!(" {}", summary_tail(plan)),
            None,
        );
    }
    for line in unplanned(plan, options.verbosity == Verbosity::Quiet) {
        tail.line(0, 4, &line, None);
    }
    text.push_str(&tail.finish());
    text
}

/// The actions, grouped by account; a reason line only where it adds to the action line.
fn actions(out: &mut String, p: &Painter, plan: &OrgPlan, options: TextOptions) {
    let mut page = Page::new(options.width, *p);
    let mut current: Option<&str> = None;
    let mut shared_fixes: Option<usize> = None;
    for a in &plan.actions {
        if current != Some(a.account_id.as_str()) {
            current = Some(a.account_id.as_str());
            // When every action here serves the same accounts (the organization trail's chain),
            // say so once in the heading rather than under each action.
            let mut here = plan.actions.iter().filter(|b| b.account_id == a.account_id);
            shared_fixes = here
                .next()
                .map(|first| first.fixes.len())
                .filter(|n| *n > 1 && here.all(|b| b.fixes.len() == *n));
            page.blank();
            let heading = match shared_fixes {
                Some(n) => format!(
                    "Actions in account {}, each fixing {n} accounts",
                    labelled(plan, &a.account_id)
                ),
                None => format!("Actions in account {}", labelled(plan, &a.account_id)),
            };
            page.line(0, 4, &heading, Some(BOLD));
        }
        let (sign, style) = match a.action.mode {
            Mode::Create => ("+", GREEN),
            Mode::Change => ("~", YELLOW),
        };
        let home = Some((a.account_id.as_str(), plan.region.as_str()));
        page.styled_prefix(
            2,
            4,
            sign,
            Some(style),
            &format!(
                " {}{}",
                describe_within(home, &a.action, options.show_endpoints),
                control_suffix(a.action.control.as_deref())
            ),
            None,
        );
        // A fix to the organization trail's chain serves every member relying on it.
        let fixes = (a.fixes.len() > 1 && shared_fixes.is_none())
            .then(|| format!("fixes {} accounts", a.fixes.len()));
        let extra = match (extra_reason(&a.action), fixes) {
            (Some(reason), Some(fixes)) => Some(format!("{reason}; {fixes}")),
            (reason, fixes) => reason.or(fixes),
        };
        if let Some(extra) = extra {
            page.line(6, 4, &extra, Some(DIM));
        }
    }
    out.push_str(&page.finish());
}

/// The selected controls, in catalog order (every account reports all of them; the union
/// keeps a column for a control only some account reports).
fn control_ids(plan: &OrgPlan) -> Vec<&str> {
    let mut ids: Vec<&str> = Vec::new();
    for c in plan.accounts.iter().flat_map(|a| &a.controls) {
        if !ids.contains(&c.id.as_str()) {
            ids.push(c.id.as_str());
        }
    }
    ids
}

/// One row per account, one column per control, padded before painting so colour codes do
/// not break the alignment. Laid out to `width` ([`Layout::of`]), so that no row ever wraps.
fn matrix(out: &mut String, p: &Painter, plan: &OrgPlan, controls: &[&str], width: usize) {
    // Account names come from AWS Organizations: escaped before they are measured.
    let names: Vec<String> = plan
        .accounts
        .iter()
        .map(|a| crate::term::escape(&a.name).into_owned())
        .collect();
    let layout = Layout::of(plan, &names, controls, width);
    let sep = " ".repeat(layout.gap);
    let label_width = layout.id_width + 1 + layout.name_width;
    for (b, block) in layout.blocks.iter().enumerate() {
        if b > 0 {
            out.push('\n');
        }
        let (Some(ids), Some(ws)) = (
            controls.get(block.clone()),
            layout.widths.get(block.clone()),
        ) else {
            continue;
        };
        let last = ids.len().saturating_sub(1);
        let heads: Vec<String> = ids
            .iter()
            .zip(ws)
            .enumerate()
            .map(|(i, (c, w))| pad(c, *w, i == last))
            .collect();
        let _ = writeln!(
            out,
            "{}  {}",
            p.bold(&format!("{:<width$}", "Accounts", width = label_width + 2)),
            heads.join(&sep)
        );
        for (account, name) in plan.accounts.iter().zip(&names) {
            let cells = cells(p, account, ids, ws);
            let label = format!(
                "{:<id_width$} {:<name_width$}",
                account.account_id,
                short_name(name, layout.name_width),
                id_width = layout.id_width,
                name_width = layout.name_width,
            );
            let _ = writeln!(out, "  {label}  {}", cells.join(&sep));
        }
    }
}

/// One account's cells for the controls `ids`, each padded to its width, then painted.
fn cells(p: &Painter, account: &AccountReport, ids: &[&str], widths: &[usize]) -> Vec<String> {
    let last = ids.len().saturating_sub(1);
    ids.iter()
        .zip(widths)
        .enumerate()
        .map(|(i, (id, w))| {
            let status = account
                .controls
                .iter()
                .find(|c| c.id == *id)
                .map(|c| c.status);
            let text = pad(cell(status), *w, i == last);
            match status {
                Some(Status::Compliant) => p.green(&text),
                Some(Status::NonCompliant) => p.red(&text),
                Some(Status::Blocked | Status::NotAuditable) => p.yellow(&text),
                None => text,
            }
        })
        .collect()
}

/// How the matrix fits its width: long names are cut first, and if the columns still do not
/// fit they are shown in blocks of as many controls as fit, each under its own header.
struct Layout {
    id_width: usize,
    name_width: usize,
    /// Each control column's width.
    widths: Vec<usize>,
    /// Blanks between columns.
    gap: usize,
    /// The control columns of each block, in order.
    blocks: Vec<std::ops::Range<usize>>,
}

impl Layout {
    fn of(plan: &OrgPlan, names: &[String], controls: &[&str], width: usize) -> Layout {
        let id_width = plan
            .accounts
            .iter()
            .map(|a| a.account_id.chars().count())
            .max()
            .unwrap_or(0);
        let longest_name = names
            .iter()
            .map(|n| n.chars().count().min(NAME_WIDTH))
            .max()
            .unwrap_or(0);
        let widths: Vec<usize> = controls.iter().map(|c| c.len().max(3)).collect();
        let cells_width = |gap: usize| {
            widths
                .iter()
                .map(|w| w + gap)
                .sum::<usize>()
                .saturating_sub(gap)
        };
        // Two spaces between columns, or one if that is what makes them fit on one row.
        let fits =
            |gap: usize, name: usize| 2 + id_width + 1 + name + 2 + cells_width(gap) <= width;
        let gap = if fits(2, longest_name.min(MIN_NAME_WIDTH)) {
            2
        } else {
            1
        };
        // What the names may take when every column fits on one row.
        let room_for_name = width.saturating_sub(2 + id_width + 1 + 2 + cells_width(gap));
        let name_width = if room_for_name >= longest_name.min(MIN_NAME_WIDTH) {
            longest_name.min(room_for_name)
        } else {
            longest_name.min(MIN_NAME_WIDTH)
        };
        let room_for_cells = width.saturating_sub(2 + id_width + 1 + name_width + 2);
        let blocks = blocks(&widths, gap, room_for_cells);
        Layout {
            id_width,
            name_width,
            widths,
            gap,
            blocks,
        }
    }
}

/// As few blocks of columns as fit in `room`, of balanced size: never a lone column left
/// over.
fn blocks(widths: &[usize], gap: usize, room: usize) -> Vec<std::ops::Range<usize>> {
    let count_blocks = |per_block: usize| widths.len().div_ceil(per_block.max(1));
    let mut per_block = widths.len().max(1);
    while per_block > 1
        && widths
            .chunks(per_block)
            .any(|chunk| chunk.iter().map(|w| w + gap).sum::<usize>() - gap > room)
    {
        per_block -= 1;
    }
    let blocks_needed = count_blocks(per_block);
    let balanced = widths.len().div_ceil(blocks_needed.max(1)).max(1);
    (0..widths.len())
        .step_by(balanced)
        .map(|start| start..(start + balanced).min(widths.len()))
        .collect()
}

fn cell(status: Option<Status>) -> &'static str {
    match status {
        Some(Status::Compliant) => "ok",
        Some(Status::NonCompliant) => "NO",
        Some(Status::Blocked) => "blk",
        Some(Status::NotAuditable) => "n/a",
        None => "-",
    }
}

/// Pads `text` to `width`, except in the last column (no trailing blanks).
fn pad(text: &str, width: usize, last: bool) -> String {
    if last {
        text.to_string()
    } else {
        format!("{text:<width$}")
    }
}

fn short_name(name: &str, width: usize) -> String {
    if name.chars().count() <= width {
        return name.to_string();
    }
    let mut cut: String = name.chars().take(width.saturating_sub(1)).collect();
    if width > 0 {
        cut.push('…');
    }
    cut
}

/// One reason many accounts share: the finding with each account's own id masked.
struct Group<'a> {
    control: &'a str,
    code: Code,
    message: String,
    diff: Option<String>,
    counterexample: Option<String>,
    /// The first account's own finding, shown as is when no other account shares it.
    first: &'a Finding,
    accounts: Vec<&'a str>,
}

/// Groups of [`Group`]s that say the same thing for the same accounts: one line naming every
/// control they concern, as the single-account plan does.
struct Said<'a> {
    controls: Vec<&'a str>,
    group: Group<'a>,
}

/// The findings of every audited account that is not compliant: grouped per control by
/// (code, message, diff, counterexample) with the account's own id masked, then across
/// controls when the same accounts fail the same way, so that 200 members missing 15 links
/// read as a handful of lines. With `-v`, then each compliant control's chain, grouped alike.
fn findings(
    out: &mut String,
    p: &Painter,
    plan: &OrgPlan,
    controls: &[&str],
    width: usize,
    verbose: bool,
) {
    let said = across_controls(per_control(plan, controls));
    let chains = if verbose {
        chains(plan, controls)
    } else {
        Vec::new()
    };
    if said.is_empty() && chains.is_empty() {
        return;
    }
    let mut page = Page::new(width, *p);
    page.blank();
    page.line(0, 0, "Findings", Some(BOLD));
    for s in &said {
        let who = if s.controls.len() > 1 && s.controls.len() == controls.len() {
            format!("all {} controls", s.controls.len())
        } else {
            s.controls.join(", ")
        };
        say_group(&mut page, &who, &s.group);
    }
    for g in &chains {
        page.line(2, 4, g.text(), Some(DIM));
        page.line(
            6,
            4,
            &format!("{}: {}", count(g.accounts.len()), list(&g.accounts)),
            Some(DIM),
        );
    }
    out.push_str(&page.finish());
}

/// Each compliant control's chain (`-v`), as each account's own plan words it, control by
/// control: accounts whose lines read the same once their own id is masked share one, so
/// that 200 members relying on the organization trail's chain read as one line a control.
fn chains<'a>(plan: &'a OrgPlan, controls: &[&str]) -> Vec<group::Group<'a>> {
    let mut groups = Vec::new();
    for &id in controls {
        let lines = plan.accounts.iter().flat_map(|account| {
            let own = account.account_id.as_str();
            account
                .controls
                .iter()
                .filter(move |c| c.id == id)
                .filter_map(move |c| {
                    let chain = c.chain.as_ref()?;
                    // A topic by name in the caller's account and region, as the view's
                    // actions name it, by ARN elsewhere: members relying on the management
                    // account's chain then read as it does, and share its line.
                    let topic =
                        topic_name_in(&plan.caller_account_id, &plan.region, &chain.topic_arn);
                    Some((own, chain_line(c, chain, topic)))
                })
        });
        groups.extend(group::sections(lines));
    }
    groups
}

/// Each control's findings, grouped across the accounts that share them.
fn per_control<'a>(plan: &'a OrgPlan, controls: &[&'a str]) -> Vec<Group<'a>> {
    let mut groups: Vec<Group> = Vec::new();
    let audited = plan
        .accounts
        .iter()
        .filter(|a| a.status == AccountStatus::Audited);
    for &id in controls {
        for account in audited.clone() {
            let own = account.account_id.as_str();
            let failing = account
                .controls
                .iter()
                .filter(|c| c.id == id && c.status != Status::Compliant);
            for f in failing.flat_map(|c| &c.findings) {
                let message = mask(&f.message, own);
                let diff = f.diff.as_deref().map(|d| mask(d, own));
                let counterexample = f
                    .counterexample
                    .as_ref()
                    .map(|e| mask(&crate::pattern::record_text(e), own));
                let same = groups.iter_mut().find(|g| {
                    g.control == id
                        && g.code == f.code
                        && g.message == message
                        && g.diff == diff
                        && g.counterexample == counterexample
                });
                match same {
                    Some(g) => g.accounts.push(own),
                    None => groups.push(Group {
                        control: id,
                        code: f.code,
                        message,
                        diff,
                        counterexample,
                        first: f,
                        accounts: vec![own],
                    }),
                }
            }
        }
    }
    groups
}

/// Groups that say the same thing for the same accounts, one per line naming their controls.
fn across_controls(groups: Vec<Group<'_>>) -> Vec<Said<'_>> {
    let mut said: Vec<Said> = Vec::new();
    for g in groups {
        let same = said.iter_mut().find(|s| {
            s.group.message == g.message
                && s.group.diff == g.diff
                && s.group.counterexample == g.counterexample
                && s.group.accounts == g.accounts
        });
        match same {
            Some(s) => s.controls.push(g.control),
            None => said.push(Said {
                controls: vec![g.control],
                group: g,
            }),
        }
    }
    said
}

/// One grouped finding, for `who` (its controls): as the one account said it, or masked for
/// many; its counterexample and diff; the accounts it concerns.
fn say_group(page: &mut Page, who: &str, g: &Group<'_>) {
    let alone = g.accounts.len() == 1;
    let message = if alone {
        g.first.message.clone()
    } else {
        // The masked id reads as "each account listed under it".
        g.message
            .replace(&format!("account {ACCOUNT_MASK}"), "each account below")
            .replace(ACCOUNT_MASK, "each account below")
    };
    page.line(2, 4, &format!("{who}: {message}"), None);
    let counterexample = if alone {
        g.first
            .counterexample
            .as_ref()
            .map(crate::pattern::record_text)
    } else {
        g.counterexample.clone()
    };
    if let Some(event) = counterexample {
        page.labelled_json(
            6,
            4,
            "counterexample (matched by the control, missed by the filter):",
            &event,
        );
    }
    let diff = if alone {
        g.first.diff.clone()
    } else {
        g.diff.clone()
    };
    for line in diff.as_deref().unwrap_or_default().lines() {
        let style = match line.chars().next() {
            Some('-') => Some(RED),
            Some('+') => Some(GREEN),
            _ => None,
        };
        page.line(10, 4, line, style);
    }
    page.line(
        6,
        4,
        &format!("{}: {}", count(g.accounts.len()), list(&g.accounts)),
        Some(DIM),
    );
}

/// Accounts that could not be read, grouped by their error (own id masked).
fn unreadable(out: &mut String, p: &Painter, plan: &OrgPlan, width: usize) {
    let mut groups: Vec<(String, &str, Vec<&str>)> = Vec::new();
    for account in plan
        .accounts
        .iter()
        .filter(|a| a.status == AccountStatus::NotAuditable)
    {
        let error = account.error.as_deref().unwrap_or("unknown error");
        let own = account.account_id.as_str();
        let masked = mask(error, own);
        match groups.iter_mut().find(|(m, _, _)| *m == masked) {
            Some((_, _, accounts)) => accounts.push(own),
            None => groups.push((masked, error, vec![own])),
        }
    }
    if groups.is_empty() {
        return;
    }
    let mut page = Page::new(width, *p);
    page.blank();
    page.line(
        0,
        0,
        "Not auditable (nothing is decided or planned in these accounts)",
        Some(BOLD),
    );
    for (masked, first, accounts) in &groups {
        let error: &str = if accounts.len() == 1 { first } else { masked };
        page.styled_prefix(
            2,
            4,
            "n/a",
            Some(YELLOW),
            &format!(" {}: could not be read: {error}", count(accounts.len())),
            None,
        );
        page.line(6, 4, &list(accounts), Some(DIM));
    }
    out.push_str(&page.finish());
}

/// Why some non-compliant controls stay so after an apply, counted over audited accounts:
/// "Nothing can be planned for 13 non-compliant controls in 7 accounts: …".
fn unplanned(plan: &OrgPlan, quiet: bool) -> Vec<String> {
    let mut reasons: Vec<(&'static str, usize, Vec<&str>)> = Vec::new();
    for account in plan
        .accounts
        .iter()
        .filter(|a| a.status == AccountStatus::Audited)
    {
        for c in account
            .controls
            .iter()
            .filter(|c| c.after_apply == Some(AfterApply::NonCompliant))
        {
            let reason = c
                .findings
                .iter()
                .find_map(|f| unplanned_reason(f.code))
                .unwrap_or(if quiet {
                    "run without --quiet to see the findings"
                } else {
                    "see the findings above"
                });
            let own = account.account_id.as_str();
            match reasons.iter_mut().find(|(r, _, _)| *r == reason) {
                Some((_, n, accounts)) => {
                    *n += 1;
                    if !accounts.contains(&own) {
                        accounts.push(own);
                    }
                }
                None => reasons.push((reason, 1, vec![own])),
            }
        }
    }
    reasons
        .into_iter()
        .map(|(reason, n, accounts)| {
            format!(
                "Nothing can be planned for {n} non-compliant control{} in {} account{}: {reason}.",
                plural(n),
                accounts.len(),
                plural(accounts.len())
            )
        })
        .collect()
}

fn summary_tail(plan: &OrgPlan) -> String {
    let s = &plan.summary;
    format!(
        "Accounts: {} ({} not auditable). Controls: {} compliant, {} non-compliant, {} blocked, {} not auditable.",
        s.accounts, s.accounts_not_auditable, s.compliant, s.non_compliant, s.blocked, s.not_auditable
    )
}

/// `123456789012 (name)`, or the id alone for an unnamed account.
fn labelled(plan: &OrgPlan, account_id: &str) -> String {
    match plan
        .accounts
        .iter()
        .find(|a| a.account_id == account_id)
        .map(|a| a.name.as_str())
        .filter(|n| !n.is_empty())
    {
        Some(name) => format!("{account_id} ({name})"),
        None => account_id.to_string(),
    }
}

fn plural(n: usize) -> &'static str {
    if n == 1 {
        ""
    } else {
        "s"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::org::tests::{
        chain_46, notify, org_trail, own_trail, snapshot, MANAGEMENT, ORG_GROUP,
    };
    use crate::audit::org::{audit_org, AccountRead};
    use crate::audit::tests::{catalog, REGION};
    use crate::audit::Options;
    use crate::inventory::Snapshot;

    fn read(account: &str, name: &str, snapshot: Result<Snapshot, String>) -> AccountRead {
        AccountRead {
            account_id: account.into(),
            name: name.into(),
            snapshot,
        }
    }

    /// The management account owns the organization trail and its chain (4.6 whole, 4.1
    /// missing); `workloads` relies on that trail alone; `legacy` has its own chain for 4.6
    /// beside it; `suspended` could not be read.
    fn organization() -> OrgPlan {
        let mut management = snapshot(MANAGEMENT, vec![org_trail(false, true, true)]);
        chain_46(&mut management, ORG_GROUP);
        let workloads = snapshot("111111111111", vec![org_trail(true, true, true)]);
        let mut legacy = snapshot(
            "222222222222",
            vec![
                org_trail(true, true, true),
                own_trail("222222222222", "main", "legacy-logs"),
            ],
        );
        chain_46(&mut legacy, "legacy-logs");
        let reads = vec![
            read(MANAGEMENT, "management", Ok(management)),
            read("111111111111", "workloads-prod", Ok(workloads)),
            read("222222222222", "legacy", Ok(legacy)),
            read(
                "333333333333",
                "suspended",
                Err("cannot assume arn:aws:iam::333333333333:role/OrganizationAccountAccessRole: AccessDenied".into()),
            ),
        ];
        audit_org(
            &catalog(&["4.1", "4.6"]),
            MANAGEMENT,
            REGION,
            &reads,
            &notify(),
        )
    }

    /// The organization of [`organization`] audited on all 15 controls of cis-5.0.
    fn organization_on_every_control() -> OrgPlan {
        let ids: Vec<String> = (1..=15).map(|n| format!("4.{n}")).collect();
        let ids: Vec<&str> = ids.iter().map(String::as_str).collect();
        let mut management = snapshot(MANAGEMENT, vec![org_trail(false, true, true)]);
        chain_46(&mut management, ORG_GROUP);
        let reads = vec![
            read(MANAGEMENT, "management", Ok(management)),
            read(
                "111111111111",
                "workloads-production-eu-and-us-with-a-long-name",
                Ok(snapshot("111111111111", vec![org_trail(true, true, true)])),
            ),
        ];
        audit_org(&catalog(&ids), MANAGEMENT, REGION, &reads, &notify())
    }

    #[test]
    fn the_matrix_fits_the_width_in_blocks_and_comes_last() {
        let plan = organization_on_every_control();
        for width in [60, 80, 100, 120] {
            let out = org_text(
                &plan,
                TextOptions {
                    width,
                    ..TextOptions::default()
                },
            );
            for line in out.lines() {
                assert!(
                    line.chars().count() <= width || !line.trim().contains(' '),
                    "wider than {width}: {line}\n{out}"
                );
            }
            // Every control has its column, and every account its row in every block.
            let heads: Vec<&str> = out.lines().filter(|l| l.starts_with("Accounts")).collect();
            let columns: Vec<&str> = heads
                .iter()
                .flat_map(|h| h.split_whitespace().skip(1))
                .collect();
            let expected: Vec<String> = (1..=15).map(|n| format!("4.{n}")).collect();
            assert_eq!(columns, expected, "{width}: {out}");
            for account in ["999988887777", "111111111111"] {
                assert_eq!(
                    out.lines()
                        .filter(|l| l.starts_with(&format!("  {account} ")))
                        .count(),
                    heads.len(),
                    "{width}: {out}"
                );
            }
            // The matrix and the summary end the output.
            let lines: Vec<&str> = out.lines().collect();
            let last_head = lines
                .iter()
                .rposition(|l| l.starts_with("Accounts"))
                .unwrap();
            let actions = lines
                .iter()
                .rposition(|l| l.starts_with("Actions in account"));
            assert!(actions.is_none_or(|a| a < last_head), "{out}");
            assert!(
                out.lines()
                    .any(|l| l.starts_with("Plan: ") || l.starts_with("Nothing to apply.")),
                "{out}"
            );
        }
        // A wide terminal has room for every column in one block.
        let wide = org_text(
            &plan,
            TextOptions {
                width: 140,
                ..TextOptions::default()
            },
        );
        assert_eq!(
            wide.lines().filter(|l| l.starts_with("Accounts")).count(),
            1,
            "{wide}"
        );
    }

    #[test]
    fn quiet_org_plan_is_the_matrix_and_the_summary() {
        let plan = organization();
        let quiet = org_text(
            &plan,
            TextOptions {
                verbosity: Verbosity::Quiet,
                ..TextOptions::default()
            },
        );
        assert!(
            !quiet.contains("Findings") && !quiet.contains("Actions in account"),
            "{quiet}"
        );
        assert!(quiet.lines().any(|l| l.starts_with("Accounts")), "{quiet}");
        assert!(quiet.lines().any(|l| l.starts_with("Plan: ")), "{quiet}");
        assert!(quiet.lines().count() < org_text(&plan, TextOptions::default()).lines().count());
    }

    #[test]
    fn account_names_and_errors_are_escaped_in_the_matrix_and_the_findings() {
        let mut plan = organization();
        for account in &mut plan.accounts {
            account.name = format!("{}\u{1b}[8m\u{202e}", account.name);
            if let Some(error) = account.error.as_mut() {
                error.push_str("\u{1b}]0;title\u{7}");
            }
        }
        plan.benchmark.push('\n');
        for color in [false, true] {
            let out = org_text(
                &plan,
                TextOptions {
                    color,
                    ..TextOptions::default()
                },
            );
            let unpainted = [
                "\u{1b}[0m",
                "\u{1b}[1m",
                "\u{1b}[2m",
                "\u{1b}[31m",
                "\u{1b}[32m",
                "\u{1b}[33m",
            ]
            .iter()
            .fold(out.clone(), |t, own| t.replace(own, ""));
            assert!(
                !unpainted.contains('\u{1b}') && !out.contains('\u{202e}'),
                "{out:?}"
            );
            assert!(out.contains("legacy\\x1b[8m\\u{202e}"), "{out}");
            assert!(out.contains("\\x1b]0;title\\x07"), "{out}");
            let first = unpainted.lines().next().unwrap();
            assert!(first.starts_with("cis-fix plan --org:"), "{out}");
            assert!(first.contains("cis-5.0\\n (2 controls)"), "{out}");
        }
    }

    #[test]
    fn org_text_plan() {
        insta::assert_snapshot!(org_text(&organization(), TextOptions::default()));
    }

    #[test]
    fn org_json_plan() {
        insta::assert_snapshot!(org_json(&organization(), false));
    }

    #[test]
    fn org_endpoints_are_masked_unless_shown() {
        let plan = organization();
        let masked = org_text(&plan, TextOptions::default());
        assert!(
            masked.contains("s****@example.com") && !masked.contains("security@"),
            "{masked}"
        );
        assert!(!org_json(&plan, false).contains("security@example.com"));
        assert!(org_json(&plan, true).contains("security@example.com"));
        let shown = org_text(
            &plan,
            TextOptions {
                color: false,
                show_endpoints: true,
                ..TextOptions::default()
            },
        );
        assert!(shown.contains("security@example.com"), "{shown}");
    }

    #[test]
    fn org_colour_only_when_asked() {
        let plan = organization();
        assert!(!org_text(&plan, TextOptions::default()).contains('\u{1b}'));
        let coloured = org_text(
            &plan,
            TextOptions {
                color: true,
                show_endpoints: false,
                ..TextOptions::default()
            },
        );
        assert!(coloured.contains('\u{1b}'));
        // At any width, every coloured line ends its colour before its newline.
        for width in [40, 60, 80, 120] {
            let out = org_text(
                &plan,
                TextOptions {
                    color: true,
                    width,
                    ..TextOptions::default()
                },
            );
            for line in out.lines() {
                // The last escape of a line, if any, is a reset.
                if let Some(at) = line.rfind('\u{1b}') {
                    assert!(line[at..].starts_with("\u{1b}[0m"), "{width}: {line:?}");
                }
            }
        }
    }

    /// Fifty members with a bare trail of their own fail 4.1 alike: each reason is one line
    /// with ×50, not fifty paragraphs; three unreadable members likewise.
    #[test]
    fn fifty_members_failing_alike_read_as_one_line() {
        let mut reads = Vec::new();
        for i in 0..50u64 {
            let id = format!("{:012}", 100_000_000_000 + i);
            let s = snapshot(&id, vec![own_trail(&id, "main", "logs")]);
            reads.push(read(&id, &format!("member-{i}"), Ok(s)));
        }
        for i in 0..3u64 {
            let id = format!("{:012}", 200_000_000_000 + i);
            let error = format!("cannot assume arn:aws:iam::{id}:role/Audit: AccessDenied");
            reads.push(read(&id, "closed", Err(error)));
        }
        let plan = audit_org(
            &catalog(&["4.1"]),
            MANAGEMENT,
            REGION,
            &reads,
            &Options::default(),
        );
        // Wide enough that no line wraps: this is about grouping, not layout.
        let out = org_text(
            &plan,
            TextOptions {
                width: 1000,
                ..TextOptions::default()
            },
        );
        let grouped: Vec<&str> = out.lines().filter(|l| l.starts_with("  4.1: ")).collect();
        // One line per reason (no covering filter; no topic to notify), each for all fifty.
        assert_eq!(grouped.len(), 2, "{out}");
        let listed = "      ×50 accounts: 100000000000, 100000000001, 100000000002, 100000000003, \
                      100000000004, … and 45 more";
        assert_eq!(out.lines().filter(|l| *l == listed).count(), 2, "{out}");
        let unread: Vec<&str> = out
            .lines()
            .filter(|l| l.contains("could not be read"))
            .collect();
        assert_eq!(
            unread,
            ["  n/a ×3 accounts: could not be read: cannot assume arn:aws:iam::<account>:role/Audit: AccessDenied"],
            "{out}"
        );
        assert!(out.contains("Nothing to apply."), "{out}");
        assert!(
            out.contains("Accounts: 53 (3 not auditable). Controls: 0 compliant, 50 non-compliant, 0 blocked, 3 not auditable."),
            "{out}"
        );
        // The matrix is aligned: every status cell starts in the same column.
        let columns: Vec<usize> = out
            .lines()
            .filter(|l| l.starts_with("  1000") || l.starts_with("  2000"))
            .map(|l| l.find("NO").or_else(|| l.find("n/a")).unwrap())
            .collect();
        assert_eq!(columns.len(), 53, "{out}");
        assert!(columns.windows(2).all(|w| w[0] == w[1]), "{out}");
    }

    #[test]
    fn a_compliant_organization_says_no_changes() {
        let mut management = snapshot(MANAGEMENT, vec![org_trail(false, true, true)]);
        chain_46(&mut management, ORG_GROUP);
        let member = snapshot("111111111111", vec![org_trail(true, true, true)]);
        let reads = vec![
            read(MANAGEMENT, "management", Ok(management)),
            read("111111111111", "member", Ok(member)),
        ];
        let plan = audit_org(&catalog(&["4.6"]), MANAGEMENT, REGION, &reads, &notify());
        let out = org_text(&plan, TextOptions::default());
        assert!(
            out.contains("No changes. Accounts: 2 (0 not auditable). Controls: 2 compliant"),
            "{out}"
        );
        assert!(!out.contains("Findings"), "{out}");
    }

    fn verbose() -> TextOptions {
        TextOptions {
            verbosity: Verbosity::Verbose,
            // Wide enough that no line wraps: this is about grouping, not layout.
            width: 1000,
            ..TextOptions::default()
        }
    }

    /// The chain lines of an organization view: those naming a trail's links.
    fn chain_lines(out: &str) -> Vec<&str> {
        out.lines().filter(|l| l.contains(" -> alarm ")).collect()
    }

    #[test]
    fn verbose_shows_each_compliant_chain_as_the_account_would_and_only_then() {
        let plan = organization();
        let out = org_text(&plan, verbose());
        // Topics are named as the view's actions name them: by name in the caller's account,
        // by ARN elsewhere. The member relying on the management account's chain then reads
        // as the management account does, and shares its line; legacy has a chain of its own.
        let shared = "  4.6 console-authentication-failures: trail org -> log group aws-controltower/CloudTrailLogs -> filter failures (equivalent) -> alarm failures -> topic ops (1 confirmed subscription)";
        let legacy = "  4.6 console-authentication-failures: trail main -> log group legacy-logs -> filter failures (equivalent) -> alarm failures -> topic arn:aws:sns:us-east-1:222222222222:ops (1 confirmed subscription)";
        assert_eq!(chain_lines(&out), [shared, legacy], "{out}");
        let lines: Vec<&str> = out.lines().collect();
        let after = |line: &str| lines.iter().position(|l| *l == line).map(|i| lines[i + 1]);
        assert_eq!(
            after(shared),
            Some("      ×2 accounts: 999988887777, 111111111111"),
            "{out}"
        );
        assert_eq!(
            after(legacy),
            Some("      ×1 account: 222222222222"),
            "{out}"
        );
        let own = shared;
        // Under the findings, as one account's -v has them.
        let findings = out.find("\nFindings\n").unwrap_or(usize::MAX);
        assert!(findings < out.find(own).unwrap_or(0), "{out}");
        for verbosity in [Verbosity::Normal, Verbosity::Quiet] {
            let options = TextOptions {
                verbosity,
                width: 1000,
                ..TextOptions::default()
            };
            assert!(chain_lines(&org_text(&plan, options)).is_empty());
        }
    }

    /// A management account with 4.6 whole on the organization trail's log group, and
    /// `members` members: those at even places rely on it, the others have a chain of their
    /// own whose filter is named as cis-fix names it, with a digest of the member's id.
    fn members_with_chains(members: u64) -> OrgPlan {
        let mut management = snapshot(MANAGEMENT, vec![org_trail(false, true, true)]);
        chain_46(&mut management, ORG_GROUP);
        let mut reads = vec![read(MANAGEMENT, "management", Ok(management))];
        for i in 0..members {
            let id = format!("{:012}", 100_000_000_000 + i);
            let mut s = snapshot(&id, vec![org_trail(true, true, true)]);
            if i % 2 == 1 {
                s.trails.push(own_trail(&id, "main", "logs"));
                chain_46(&mut s, "logs");
                for r in s.regions.values_mut() {
                    for f in &mut r.metric_filters {
                        f.name = format!("cis-fix-console-authentication-failures-{:08x}", i);
                    }
                }
            }
            reads.push(read(&id, &format!("member-{i}"), Ok(s)));
        }
        audit_org(&catalog(&["4.6"]), MANAGEMENT, REGION, &reads, &notify())
    }

    #[test]
    fn a_chain_many_members_share_is_said_once_however_many_share_it() {
        let twelve = org_text(&members_with_chains(12), verbose());
        // One line for the management account and the six relying on it, one for the six
        // with a chain of their own (their ids and digests masked).
        let lines = chain_lines(&twelve);
        assert_eq!(lines.len(), 2, "{twelve}");
        assert!(
            lines[0].ends_with("-> topic ops (1 confirmed subscription)"),
            "{twelve}"
        );
        assert!(
            lines[1]
                .contains("filter cis-fix-console-authentication-failures-<digest> (equivalent)"),
            "{twelve}"
        );
        assert!(
            lines[1].contains("topic arn:aws:sns:us-east-1:<account>:ops"),
            "{twelve}"
        );
        assert!(
            twelve.contains("\n      ×7 accounts: 999988887777, 100000000000, 100000000002, 100000000004, 100000000006, … and 2 more\n"),
            "{twelve}"
        );
        // Two members more change the counts and the matrix, not the number of chain lines.
        let fourteen = org_text(&members_with_chains(14), verbose());
        assert_eq!(chain_lines(&fourteen).len(), 2, "{fourteen}");
        let matrix_rows = 2;
        assert_eq!(
            fourteen.lines().count(),
            twelve.lines().count() + matrix_rows,
            "{twelve}\n{fourteen}"
        );
        assert!(fourteen.contains("      ×8 accounts: "), "{fourteen}");
        assert!(fourteen.contains("      ×7 accounts: "), "{fourteen}");
    }
}
