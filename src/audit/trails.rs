//! Which trails qualify for the CIS Monitoring controls (audit step 1), and why not.

use super::plan::TrailReport;
use crate::inventory::{
    AdvancedEventSelector, EventSelector, LogGroupRef, RegionSnapshot, Snapshot, Trail,
};

/// Why a trail does not count. Each reads as the end of "trail X …".
pub fn problems(trail: &Trail) -> Vec<String> {
    if trail.details_hidden {
        // Whether it logs and what it records only its owner can tell.
        return vec![format!(
            "is {} of account {}, whose status and event selectors only that account can read",
            if trail.is_organization_trail {
                "the organization trail"
            } else {
                "a trail"
            },
            trail.owner().unwrap_or("(unknown)")
        )];
    }
    let mut problems = Vec::new();
    if !trail.is_multi_region {
        problems.push("is not multi-region (IsMultiRegionTrail is false)".to_string());
    }
    if !trail.is_logging {
        problems.push("is not logging (GetTrailStatus.IsLogging is false)".to_string());
    }
    if let Err(why) = records_all_management_events(trail) {
        problems.push(why);
    }
    problems
}

/// Whether the trail records every management event, read and write, from every source.
fn records_all_management_events(trail: &Trail) -> Result<(), String> {
    if !trail.advanced_event_selectors.is_empty() {
        return advanced(&trail.advanced_event_selectors);
    }
    if trail.event_selectors.is_empty() {
        // A trail without custom selectors logs all management events.
        return Ok(());
    }
    classic(&trail.event_selectors)
}

fn classic(selectors: &[EventSelector]) -> Result<(), String> {
    let mut read = false;
    let mut write = false;
    let mut excluded: Vec<&str> = Vec::new();
    for s in selectors.iter().filter(|s| s.include_management_events) {
        if !s.exclude_management_event_sources.is_empty() {
            excluded.extend(
                s.exclude_management_event_sources
                    .iter()
                    .map(String::as_str),
            );
            continue;
        }
        match s.read_write_type.as_str() {
            "ReadOnly" => read = true,
            "WriteOnly" => write = true,
            _ => {
                read = true;
                write = true;
            }
        }
    }
    coverage(read, write, &excluded)
}

fn advanced(selectors: &[AdvancedEventSelector]) -> Result<(), String> {
    let mut read = false;
    let mut write = false;
    let mut excluded: Vec<&str> = Vec::new();
    for selector in selectors {
        let is_management = selector
            .field_selectors
            .iter()
            .any(|f| f.field == "eventCategory" && f.equals.iter().any(|v| v == "Management"));
        if !is_management {
            continue;
        }
        let mut covers_read = true;
        let mut covers_write = true;
        let mut restricted = false;
        for f in &selector.field_selectors {
            match f.field.as_str() {
                "eventCategory" => {}
                "readOnly" => {
                    let only = |v: &str| f.equals.iter().all(|e| e == v) && !f.equals.is_empty();
                    if only("true") {
                        covers_write = false;
                    } else if only("false") {
                        covers_read = false;
                    }
                    if !f.not_equals.is_empty() {
                        // `readOnly != true` is write-only, and so on.
                        covers_read &= !f.not_equals.iter().any(|v| v == "true");
                        covers_write &= !f.not_equals.iter().any(|v| v == "false");
                    }
                }
                _ => {
                    // Any other condition (e.g. eventSource != kms.amazonaws.com) drops events.
                    restricted = true;
                    excluded.extend(f.not_equals.iter().map(String::as_str));
                    if f.not_equals.is_empty() {
                        excluded.push(f.field.as_str());
                    }
                }
            }
        }
        if restricted {
            continue;
        }
        read |= covers_read;
        write |= covers_write;
    }
    coverage(read, write, &excluded)
}

fn coverage(read: bool, write: bool, excluded: &[&str]) -> Result<(), String> {
    let exclusion = if excluded.is_empty() {
        String::new()
    } else {
        format!(
            " (management events are restricted: {})",
            excluded.join(", ")
        )
    };
    match (read, write) {
        (true, true) => Ok(()),
        (false, true) => Err(format!("records only write management events{exclusion}")),
        (true, false) => Err(format!(
            "records only read-only management events{exclusion}"
        )),
        (false, false) if !excluded.is_empty() => {
            Err(format!("does not record all management events{exclusion}"))
        }
        (false, false) => Err("does not record management events".to_string()),
    }
}

/// A log group that a qualifying trail writes to: where a chain may start.
pub(crate) struct Target<'a> {
    pub(crate) log_group: LogGroupRef,
    pub(crate) trails: Vec<&'a str>,
    pub(crate) region: &'a RegionSnapshot,
}

/// A log group written only by trails that do not qualify, kept to explain near-chains.
pub(crate) struct Unqualified<'a> {
    pub(crate) log_group: LogGroupRef,
    pub(crate) trail: &'a str,
    pub(crate) problems: Vec<String>,
}

/// Judges every trail, and collects the log groups a chain may start from: those a qualifying
/// trail writes to (sorted), and those only non-qualifying trails write to (to explain why a
/// covering filter there does not count).
pub(crate) fn targets<'a>(
    snapshot: &'a Snapshot,
    empty: &'a RegionSnapshot,
) -> (Vec<TrailReport>, Vec<Target<'a>>, Vec<Unqualified<'a>>) {
    let account = snapshot.account_id.as_str();
    let mut trail_reports = Vec::new();
    let mut targets: Vec<Target> = Vec::new();
    let mut unqualified: Vec<Unqualified> = Vec::new();
    for trail in &snapshot.trails {
        let mut problems = problems(trail);
        let log_group = trail
            .log_group_arn
            .as_deref()
            .and_then(LogGroupRef::from_arn);
        match (&trail.log_group_arn, &log_group) {
            (None, _) => problems.push("does not send to CloudWatch Logs (no CloudWatchLogsLogGroupArn)".into()),
            (Some(arn), None) => problems.push(format!("has a CloudWatchLogsLogGroupArn cis-fix cannot read: {arn}")),
            (Some(_), Some(lg)) if lg.account != account => problems.push(format!(
                "sends to log group `{}` in account {}, not this account ({account}): audit that account with its credentials",
                lg.name, lg.account
            )),
            _ => {}
        }
        trail_reports.push(TrailReport {
            name: trail.name.clone(),
            arn: trail.arn.clone(),
            qualifies: problems.is_empty(),
            log_group: log_group.as_ref().map(|lg| lg.name.clone()),
            problems: problems.clone(),
            organization_owner: trail
                .is_organization_trail
                .then(|| trail.owner().unwrap_or_default().to_string()),
        });
        let Some(lg) = log_group.filter(|lg| lg.account == account) else {
            continue;
        };
        if problems.is_empty() {
            match targets.iter_mut().find(|t| t.log_group == lg) {
                Some(t) => t.trails.push(&trail.name),
                None => targets.push(Target {
                    region: snapshot.region(&lg.region).unwrap_or(empty),
                    log_group: lg,
                    trails: vec![&trail.name],
                }),
            }
        } else {
            unqualified.push(Unqualified {
                log_group: lg,
                trail: &trail.name,
                problems,
            });
        }
    }
    // An organization trail's log group first: its chain serves every member too, so it is
    // the chain to report and, when one is missing, the one to plan.
    let organization = |lg: &LogGroupRef| organization_log_group(snapshot, lg);
    targets.sort_by(|a, b| {
        (!organization(&a.log_group), &a.log_group)
            .cmp(&(!organization(&b.log_group), &b.log_group))
    });
    // A log group counts as qualified when any qualifying trail writes to it.
    unqualified.retain(|u| !targets.iter().any(|t| t.log_group == u.log_group));
    (trail_reports, targets, unqualified)
}

/// Whether an organization trail writes to `log_group` (its chain then serves every member).
pub(crate) fn organization_log_group(snapshot: &Snapshot, log_group: &LogGroupRef) -> bool {
    snapshot.trails.iter().any(|t| {
        t.is_organization_trail
            && t.log_group_arn
                .as_deref()
                .and_then(LogGroupRef::from_arn)
                .as_ref()
                == Some(log_group)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::FieldSelector;

    fn trail() -> Trail {
        Trail {
            name: "t".into(),
            is_multi_region: true,
            is_logging: true,
            ..Default::default()
        }
    }

    fn classic_selector(rw: &str, include: bool) -> EventSelector {
        EventSelector {
            read_write_type: rw.into(),
            include_management_events: include,
            exclude_management_event_sources: vec![],
        }
    }

    fn field(name: &str, equals: &[&str]) -> FieldSelector {
        FieldSelector {
            field: name.into(),
            equals: equals.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        }
    }

    #[test]
    fn default_selectors_qualify() {
        assert!(problems(&trail()).is_empty());
        let mut t = trail();
        t.event_selectors = vec![classic_selector("All", true)];
        assert!(problems(&t).is_empty());
    }

    #[test]
    fn single_region_or_stopped_trails_do_not_qualify() {
        let mut t = trail();
        t.is_multi_region = false;
        t.is_logging = false;
        let p = problems(&t);
        assert_eq!(p.len(), 2);
        assert!(p[0].contains("multi-region") && p[1].contains("not logging"));
    }

    #[test]
    fn write_only_or_excluded_management_events_do_not_qualify() {
        let mut t = trail();
        t.event_selectors = vec![classic_selector("WriteOnly", true)];
        assert!(problems(&t)[0].contains("only write"));
        t.event_selectors = vec![classic_selector("All", false)];
        assert!(problems(&t)[0].contains("does not record management events"));
        let mut excluded = classic_selector("All", true);
        excluded.exclude_management_event_sources = vec!["kms.amazonaws.com".into()];
        t.event_selectors = vec![excluded];
        assert!(problems(&t)[0].contains("kms.amazonaws.com"));
        // Read-only plus write-only selectors together record everything.
        t.event_selectors = vec![
            classic_selector("ReadOnly", true),
            classic_selector("WriteOnly", true),
        ];
        assert!(problems(&t).is_empty());
    }

    #[test]
    fn advanced_selectors() {
        let mut t = trail();
        t.advanced_event_selectors = vec![AdvancedEventSelector {
            name: None,
            field_selectors: vec![field("eventCategory", &["Management"])],
        }];
        assert!(problems(&t).is_empty());

        t.advanced_event_selectors[0]
            .field_selectors
            .push(field("readOnly", &["false"]));
        assert!(problems(&t)[0].contains("only write"));

        t.advanced_event_selectors = vec![AdvancedEventSelector {
            name: None,
            field_selectors: vec![
                field("eventCategory", &["Management"]),
                FieldSelector {
                    field: "eventSource".into(),
                    not_equals: vec!["kms.amazonaws.com".into()],
                    ..Default::default()
                },
            ],
        }];
        assert!(problems(&t)[0].contains("kms.amazonaws.com"));

        // Data events only: no management events at all.
        t.advanced_event_selectors = vec![AdvancedEventSelector {
            name: None,
            field_selectors: vec![
                field("eventCategory", &["Data"]),
                field("resources.type", &["AWS::S3::Object"]),
            ],
        }];
        assert!(problems(&t)[0].contains("does not record management events"));
    }
}
