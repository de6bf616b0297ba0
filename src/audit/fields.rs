//! Metric-filter fields that narrow or reshape a chain (CloudWatch Logs `MetricFilter`):
//! `fieldSelectionCriteria`, `emitSystemFieldDimensions` and `applyOnTransformedLogs`. They
//! serve log centralization across an organization, and each can leave a filter that covers the
//! control's pattern counting nothing, or counting where no alarm looks:
//!
//! - `fieldSelectionCriteria` lets through only the events whose *log source* (the account or
//!   region that sent them to the log group, not CloudTrail's `recipientAccountId`) it
//!   selects. Which sources send a log group the trail's events is not something cis-fix can
//!   read, so such a filter never proves a chain.
//! - `emitSystemFieldDimensions` publishes the metric as one series per source account or
//!   region: see [`system_dimensions`].
//! - `applyOnTransformedLogs: true` runs the pattern on the log transformer's output, not on the
//!   CloudTrail record. That is provably harmless only when the log group has no transformer:
//!   neither its own (`GetTransformer`) nor one from an account policy whose selection criteria
//!   may cover it (`DescribeAccountPolicies`, `TRANSFORMER_POLICY`).

use super::plan::{finding, Code, Finding};
use crate::inventory::{Alarm, MetricFilter, RegionSnapshot, TransformerPolicy};

/// Why a covering filter does not count whatever alarm watches it: it sees only some log
/// sources, or a transformer's output. `None` when neither is so.
pub(super) fn narrowed(filter: &MetricFilter, region: &RegionSnapshot) -> Option<Finding> {
    if let Some(criteria) = &filter.field_selection_criteria {
        return Some(selection_criteria(filter, criteria));
    }
    if !filter.apply_on_transformed_logs {
        return None;
    }
    let why = match transformer(region, &filter.log_group) {
        Transformer::None => return None,
        Transformer::Own => "the log group has a transformer of its own".to_string(),
        Transformer::Policy(p) => format!(
            "the account's transformer policy `{}` applies to the log group ({})",
            p.name,
            p.selection_criteria
                .as_deref()
                .map_or("it selects every log group".to_string(), |c| format!(
                    "selection criteria `{c}`"
                ))
        ),
        Transformer::Unread(permission) => format!(
            "cis-fix could not read whether the log group has a transformer ({permission} was denied)"
        ),
    };
    Some(finding(
        Code::FilterOnTransformedLogs,
        format!(
            "filter `{}` on log group `{}` runs on transformed logs (applyOnTransformedLogs), and {why}: its pattern sees the transformer's output, not the CloudTrail record, so cis-fix cannot prove that it matches the control's events and the filter does not count; set applyOnTransformedLogs to false, or let cis-fix add its own filter",
            filter.name, filter.log_group
        ),
    ))
}

fn selection_criteria(filter: &MetricFilter, criteria: &str) -> Finding {
    let account = criteria.contains("@aws.account");
    let region = criteria.contains("@aws.region");
    let left_out = match (account, region) {
        (true, true) => "from accounts or regions",
        (true, false) => "from accounts",
        (false, true) => "from regions",
        (false, false) => "from log sources",
    };
    finding(
        Code::FilterSelectionCriteria,
        format!(
            "filter `{}` on log group `{}` has fieldSelectionCriteria `{criteria}`: only log events whose source (the account or region that sent them to the log group, not CloudTrail's recipientAccountId) it selects reach the filter, so it leaves out every event sent {left_out} it does not select, and cis-fix cannot tell which sources send this log group the trail's events; the filter does not count: remove the criteria, or let cis-fix add its own filter",
            filter.name, filter.log_group
        ),
    )
}

/// What an alarm on a filter with `emitSystemFieldDimensions` sees, as a finding: never
/// enough to count.
///
/// Such a filter publishes its metric with the dimensions `@aws.account` and/or `@aws.region`
/// (plus its own), one series per value, the value being the source of each matching event. A
/// CloudWatch alarm watches one metric: namespace, name and the *full* dimension set with its
/// values. So an alarm without those dimensions sees no series at all, and an alarm on one
/// value sees only that account's or region's events. The alarms together would see every
/// series only if they covered every source that can send the log group a matching event, and
/// that set is not readable: centralization rules live in another service (and often another
/// account), and any account or region may be added to them tomorrow. A metric-math alarm
/// (`SEARCH` over the series) could cover them all, but cis-fix does not evaluate metric math.
/// Hence this never proves a chain: the sound verdict is "not compliant", whatever the alarm.
pub(super) fn system_dimensions(alarm: &Alarm, filter: &MetricFilter) -> Finding {
    let system = &filter.emit_system_field_dimensions;
    let per: Vec<&str> = system
        .iter()
        .map(|d| match d.as_str() {
            "@aws.account" => "account",
            "@aws.region" => "region",
            other => other,
        })
        .collect();
    let mut published: Vec<String> = filter.dimensions.iter().chain(system).cloned().collect();
    published.sort();
    let mut watched = alarm.dimensions.clone();
    watched.sort();
    let sees = if watched == published {
        format!(
            "alarm `{}` watches a single one of those series (dimensions [{}]), so it never sees events sent from any other source {}",
            alarm.name,
            watched.join(", "),
            per.join(" or ")
        )
    } else {
        format!(
            "alarm `{}` watches it with dimensions [{}], so it sees none of them",
            alarm.name,
            watched.join(", ")
        )
    };
    finding(
        Code::FilterSystemDimensions,
        format!(
            "filter `{}` publishes {}/{} with emitSystemFieldDimensions [{}]: one series per source {} (dimensions [{}]); {sees}, and cis-fix cannot know every source that sends this log group events, so no alarm on one series is proven to see them all; remove emitSystemFieldDimensions from the filter, or let cis-fix add its own filter and alarm",
            filter.name,
            filter.metric_namespace,
            filter.metric_name,
            system.join(", "),
            per.join(" and "),
            published.join(", ")
        ),
    )
}

/// The transformer a log group's events pass through, as far as the snapshot tells.
enum Transformer<'a> {
    /// Provably none: the filter sees the CloudTrail record.
    None,
    Own,
    Policy(&'a TransformerPolicy),
    /// Not read (denied): the permission that would tell.
    Unread(&'static str),
}

fn transformer<'a>(region: &'a RegionSnapshot, log_group: &str) -> Transformer<'a> {
    let Some(read) = &region.transformers else {
        return Transformer::Unread("logs:GetTransformer");
    };
    match read.own.get(log_group) {
        None => return Transformer::Unread("logs:GetTransformer"),
        // A log group's own transformer overrides any account policy.
        Some(true) => return Transformer::Own,
        Some(false) => {}
    }
    let Some(policies) = &read.policies else {
        return Transformer::Unread("logs:DescribeAccountPolicies");
    };
    match policies.iter().find(|p| may_apply(p, log_group)) {
        Some(p) => Transformer::Policy(p),
        None => Transformer::None,
    }
}

/// Whether a transformer policy may apply to the log group: unless its selection criteria
/// are `LogGroupNamePrefix IN [...]` (the only filter AWS supports for the type) with no
/// prefix of the group's name, assume it does.
fn may_apply(policy: &TransformerPolicy, log_group: &str) -> bool {
    let Some(criteria) = &policy.selection_criteria else {
        return true;
    };
    match prefixes(criteria) {
        Some(prefixes) if !prefixes.is_empty() => {
            prefixes.iter().any(|p| log_group.starts_with(p.as_str()))
        }
        _ => true,
    }
}

/// The prefixes of `LogGroupNamePrefix IN ["a", "b"]`; `None` for anything else.
fn prefixes(criteria: &str) -> Option<Vec<String>> {
    let rest = criteria.trim().strip_prefix("LogGroupNamePrefix")?;
    let list = rest.trim_start().strip_prefix("IN")?.trim();
    list.starts_with('[')
        .then(|| serde_json::from_str(list).ok())
        .flatten()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::inventory::Transformers;

    fn on_transformed(group: &str) -> MetricFilter {
        MetricFilter {
            log_group: group.into(),
            name: "f".into(),
            apply_on_transformed_logs: true,
            ..MetricFilter::default()
        }
    }

    fn region(own: &[(&str, bool)], policies: Option<&[Option<&str>]>) -> RegionSnapshot {
        RegionSnapshot {
            transformers: Some(Transformers {
                own: own.iter().map(|(g, has)| (g.to_string(), *has)).collect(),
                policies: policies.map(|ps| {
                    ps.iter()
                        .map(|c| TransformerPolicy {
                            name: "p".into(),
                            selection_criteria: c.map(str::to_string),
                        })
                        .collect()
                }),
            }),
            ..RegionSnapshot::default()
        }
    }

    fn code(filter: &MetricFilter, region: &RegionSnapshot) -> Option<Code> {
        narrowed(filter, region).map(|f| f.code)
    }

    #[test]
    fn transformed_logs_count_only_without_any_transformer() {
        let f = on_transformed("ct");
        let none = Some(Code::FilterOnTransformedLogs);
        // Provably no transformer: neither its own nor a policy that may select it.
        assert_eq!(code(&f, &region(&[("ct", false)], Some(&[]))), None);
        let elsewhere = [Some(r#"LogGroupNamePrefix IN ["/aws/lambda", "app-"]"#)];
        assert_eq!(code(&f, &region(&[("ct", false)], Some(&elsewhere))), None);
        // Its own; a policy for every group or by a matching prefix; one cis-fix cannot read.
        assert_eq!(code(&f, &region(&[("ct", true)], Some(&[]))), none);
        assert_eq!(code(&f, &region(&[("ct", false)], Some(&[None]))), none);
        let prefix = [Some(r#" LogGroupNamePrefix  IN ["c"] "#)];
        assert_eq!(code(&f, &region(&[("ct", false)], Some(&prefix))), none);
        let unknown = [Some(r#"LogGroupNamePrefix NOT IN ["c"]"#)];
        assert_eq!(code(&f, &region(&[("ct", false)], Some(&unknown))), none);
        // Denied reads leave it unproven, naming the permission.
        let denied = narrowed(&f, &region(&[], Some(&[]))).unwrap();
        assert!(
            denied.message.contains("logs:GetTransformer"),
            "{}",
            denied.message
        );
        let denied = narrowed(&f, &region(&[("ct", false)], None)).unwrap();
        assert!(denied.message.contains("logs:DescribeAccountPolicies"));
        assert_eq!(code(&f, &RegionSnapshot::default()), none);
        // A filter on the original events needs none of this.
        let plain = MetricFilter {
            apply_on_transformed_logs: false,
            ..f
        };
        assert_eq!(code(&plain, &RegionSnapshot::default()), None);
    }

    #[test]
    fn selection_criteria_never_count_and_say_what_they_leave_out() {
        let f = MetricFilter {
            name: "central".into(),
            log_group: "ct".into(),
            field_selection_criteria: Some(r#"@aws.account = "111122223333""#.into()),
            ..MetricFilter::default()
        };
        let why = narrowed(&f, &RegionSnapshot::default()).unwrap();
        assert_eq!(why.code, Code::FilterSelectionCriteria);
        assert!(why.message.contains(r#"`@aws.account = "111122223333"`"#));
        assert!(why
            .message
            .contains("sent from accounts it does not select"));
        assert!(why.message.contains("not CloudTrail's recipientAccountId"));
    }

    #[test]
    fn system_dimensions_say_what_the_alarm_sees() {
        let f = MetricFilter {
            name: "f".into(),
            metric_namespace: "CISBenchmark".into(),
            metric_name: "RootUsage".into(),
            emit_system_field_dimensions: vec!["@aws.account".into()],
            ..MetricFilter::default()
        };
        let mut alarm = Alarm {
            name: "a".into(),
            ..Alarm::default()
        };
        let none = system_dimensions(&alarm, &f);
        assert_eq!(none.code, Code::FilterSystemDimensions);
        assert!(
            none.message.contains("sees none of them"),
            "{}",
            none.message
        );
        alarm.dimensions = vec!["@aws.account".into()];
        let one = system_dimensions(&alarm, &f).message;
        assert!(one.contains("a single one of those series"), "{one}");
        assert!(one.contains("any other source account"), "{one}");
    }
}

/// The whole audit: a chain through such a filter is compliant only where proven, and
/// neither reused nor left drifted by the planner.
#[cfg(test)]
mod audit_tests {
    use super::*;
    use crate::audit::tests::{
        account, alarm, audit, catalog, filter, subscription, topic_arn, ACCOUNT, GROUP, REGION,
    };
    use crate::audit::{Call, Mode, Options, Plan, Status};
    use crate::inventory::{ReadFailure, Snapshot, Transformers};
    use crate::ownership;

    fn pattern() -> String {
        catalog(&["4.6"]).controls[0].pattern_text.clone()
    }

    /// 4.6 wired through `f`: its alarm notifies a topic with a confirmed subscriber.
    fn chain(f: MetricFilter, alarm_dimensions: &[&str]) -> Snapshot {
        let mut s = account();
        let topic = topic_arn("ops");
        let r = s.regions.get_mut(REGION).unwrap();
        let mut a = alarm("failures", &f.metric_name, Some(&topic));
        a.dimensions = alarm_dimensions.iter().map(|d| d.to_string()).collect();
        r.metric_filters.push(f);
        r.alarms.push(a);
        r.subscriptions.push(subscription(
            &topic,
            "sqs",
            "arn:aws:sqs:us-east-1:1:q",
            true,
        ));
        s
    }

    fn covering() -> MetricFilter {
        filter(GROUP, "failures", &pattern(), "Failures")
    }

    fn plan_of(s: &Snapshot) -> Plan {
        let options = Options {
            notify: vec!["email:sec@example.com".parse().unwrap()],
            ..Options::default()
        };
        audit(&catalog(&["4.6"]), s, &options)
    }

    fn verdict(s: &Snapshot) -> (Status, Vec<Code>) {
        let plan = plan_of(s);
        let c = &plan.controls[0];
        (c.status, c.findings.iter().map(|f| f.code).collect())
    }

    fn with_transformers(mut s: Snapshot, own: bool, policies: &[Option<&str>]) -> Snapshot {
        s.regions.get_mut(REGION).unwrap().transformers = Some(Transformers {
            own: [(GROUP.to_string(), own)].into(),
            policies: Some(
                policies
                    .iter()
                    .map(|c| TransformerPolicy {
                        name: "central".into(),
                        selection_criteria: c.map(str::to_string),
                    })
                    .collect(),
            ),
        });
        s
    }

    #[test]
    fn a_plain_chain_is_compliant() {
        assert_eq!(verdict(&chain(covering(), &[])).0, Status::Compliant);
    }

    #[test]
    fn selection_criteria_are_not_proven_compliant() {
        let f = MetricFilter {
            field_selection_criteria: Some(format!(r#"@aws.account = "{ACCOUNT}""#)),
            ..covering()
        };
        let (status, codes) = verdict(&chain(f, &[]));
        assert_eq!(status, Status::NonCompliant);
        assert!(codes.contains(&Code::FilterSelectionCriteria), "{codes:?}");
    }

    #[test]
    fn system_dimensions_are_not_compliant_for_an_alarm_on_one_series_or_none() {
        let f = MetricFilter {
            emit_system_field_dimensions: vec!["@aws.account".into()],
            ..covering()
        };
        for dimensions in [&[][..], &["@aws.account"], &["@aws.region"]] {
            let (status, codes) = verdict(&chain(f.clone(), dimensions));
            assert_eq!(status, Status::NonCompliant, "{dimensions:?}");
            assert!(codes.contains(&Code::FilterSystemDimensions), "{codes:?}");
        }
    }

    #[test]
    fn transformed_logs_are_compliant_only_without_a_transformer() {
        let f = MetricFilter {
            apply_on_transformed_logs: true,
            ..covering()
        };
        let unread = chain(f.clone(), &[]);
        let cases = [
            (
                with_transformers(unread.clone(), false, &[]),
                Status::Compliant,
            ),
            (
                with_transformers(
                    unread.clone(),
                    false,
                    &[Some(r#"LogGroupNamePrefix IN ["/aws/"]"#)],
                ),
                Status::Compliant,
            ),
            (
                with_transformers(unread.clone(), true, &[]),
                Status::NonCompliant,
            ),
            (
                with_transformers(unread.clone(), false, &[None]),
                Status::NonCompliant,
            ),
            (
                with_transformers(
                    unread.clone(),
                    false,
                    &[Some(r#"LogGroupNamePrefix IN ["ct-"]"#)],
                ),
                Status::NonCompliant,
            ),
            (unread, Status::NonCompliant),
        ];
        for (i, (s, expected)) in cases.into_iter().enumerate() {
            let (status, codes) = verdict(&s);
            assert_eq!(status, expected, "case {i}: {codes:?}");
            assert_eq!(
                codes.contains(&Code::FilterOnTransformedLogs),
                expected != Status::Compliant,
                "case {i}: {codes:?}"
            );
        }
    }

    #[test]
    fn a_denied_transformer_read_leaves_the_control_not_auditable() {
        let f = MetricFilter {
            apply_on_transformed_logs: true,
            ..covering()
        };
        let mut s = chain(f, &[]);
        s.regions.get_mut(REGION).unwrap().transformers = Some(Transformers::default());
        s.unreadable.push(ReadFailure {
            permission: "logs:GetTransformer".into(),
            region: REGION.into(),
        });
        let plan = plan_of(&s);
        assert_eq!(plan.controls[0].status, Status::NotAuditable);
        assert!(plan.controls[0].findings[0]
            .message
            .contains("logs:GetTransformer"));
    }

    /// A covering filter without an alarm: reused for cis-fix's alarm, unless it uses one of
    /// the fields (or publishes with dimensions, which cis-fix's alarm does not watch).
    #[test]
    fn a_filter_that_narrows_or_splits_its_metric_is_not_reused() {
        let filter_actions = |f: MetricFilter| {
            let mut s = account();
            s.regions.get_mut(REGION).unwrap().metric_filters.push(f);
            let plan = plan_of(&s);
            plan.actions
                .iter()
                .filter(|a| a.call.name() == "put_metric_filter")
                .count()
        };
        assert_eq!(filter_actions(covering()), 0, "the plain filter is reused");
        let variants = [
            MetricFilter {
                field_selection_criteria: Some(r#"@aws.region = "us-east-1""#.into()),
                ..covering()
            },
            MetricFilter {
                emit_system_field_dimensions: vec!["@aws.region".into()],
                ..covering()
            },
            MetricFilter {
                apply_on_transformed_logs: true,
                ..covering()
            },
            MetricFilter {
                dimensions: vec!["EventName".into()],
                ..covering()
            },
        ];
        for f in variants {
            assert_eq!(filter_actions(f.clone()), 1, "{f:?}");
        }
    }

    #[test]
    fn cis_fixs_own_filter_with_these_fields_is_changed_back() {
        let control = &catalog(&["4.6"]).controls[0];
        let name = ownership::filter_name(ACCOUNT, REGION, GROUP, &control.slug);
        let own = MetricFilter {
            field_selection_criteria: Some(r#"@aws.account IN ["1", "2"]"#.into()),
            emit_system_field_dimensions: vec!["@aws.account".into(), "@aws.region".into()],
            apply_on_transformed_logs: true,
            metric_name: control.metric.name.clone(),
            ..filter(GROUP, &name, &control.pattern_text, "unused")
        };
        let mut s = account();
        s.regions.get_mut(REGION).unwrap().metric_filters.push(own);
        let plan = plan_of(&s);
        let change = plan
            .actions
            .iter()
            .find(|a| matches!(a.call, Call::PutMetricFilter(_)))
            .unwrap();
        assert_eq!(change.mode, Mode::Change);
        let changes: Vec<String> = change.changes.iter().map(|c| c.summary()).collect();
        assert_eq!(
            changes,
            [
                r#"field_selection_criteria @aws.account IN ["1", "2"] → (unset)"#,
                "emit_system_field_dimensions @aws.account, @aws.region → (unset)",
                "apply_on_transformed_logs true → (unset)",
            ]
        );
    }
}
