//! A control's values held to the limits AWS documents for the calls that send them
//! ([`crate::limits`]), and so is what cis-fix derives from them: the names it gives, the
//! alarm's tags and description, the drill's state reason. Checked as the catalog loads, so
//! that a value AWS would refuse stops cis-fix before any call, not half-way through an apply.

use toml::Spanned;

use super::ControlCtx;
use crate::error::Result;
use crate::limits::{self, TextLimit};
use crate::ownership;

/// Where each catalog value goes: every parameter it is sent as.
pub(super) const PATTERN: &[TextLimit] = &[limits::FILTER_PATTERN];
pub(super) const METRIC_NAME: &[TextLimit] =
    &[limits::FILTER_METRIC_NAME, limits::ALARM_METRIC_NAME];
pub(super) const NAMESPACE: &[TextLimit] =
    &[limits::FILTER_METRIC_NAMESPACE, limits::ALARM_NAMESPACE];
pub(super) const METRIC_VALUE: &[TextLimit] = &[limits::METRIC_VALUE];

/// A value cis-fix sends as each of `parameters`.
pub(super) fn text(
    ctx: &ControlCtx,
    field: &str,
    value: &Spanned<String>,
    parameters: &[TextLimit],
) -> Result<()> {
    for limit in parameters {
        limit.check(value.get_ref()).map_err(|problem| {
            ctx.err(
                value.span().start,
                field,
                format!("{} {problem}", shown(value.get_ref())),
            )
        })?;
    }
    Ok(())
}

/// The metric's namespace: outside AWS's own, and within what both calls take.
pub(super) fn namespace(ctx: &ControlCtx, namespace: &Spanned<String>) -> Result<()> {
    // AWS reserves `AWS/` for its services' metrics (PutMetricData: "you should not specify
    // a namespace that begins with AWS/").
    if namespace.get_ref().starts_with("AWS/") {
        return Err(ctx.err(
            namespace.span().start,
            "namespace",
            format!(
                "{} starts with `AWS/`, which AWS reserves for its own metrics",
                shown(namespace.get_ref())
            ),
        ));
    }
    text(ctx, "namespace", namespace, NAMESPACE)
}

/// A setting AWS takes only from a list.
pub(super) fn one_of(
    ctx: &ControlCtx,
    field: &str,
    value: &Spanned<String>,
    valid: &[&str],
) -> Result<()> {
    if valid.contains(&value.get_ref().as_str()) {
        return Ok(());
    }
    Err(ctx.err(
        value.span().start,
        field,
        format!(
            "{} is not one of {}",
            shown(value.get_ref()),
            valid.join(", ")
        ),
    ))
}

/// `Period` and `EvaluationPeriods`, each and together.
pub(super) fn evaluation(
    ctx: &ControlCtx,
    period: &Spanned<i32>,
    evaluation_periods: &Spanned<i32>,
) -> Result<()> {
    let (seconds, count) = (*period.get_ref(), *evaluation_periods.get_ref());
    if !limits::period_ok(seconds) {
        return Err(ctx.err(
            period.span().start,
            "period",
            format!("{seconds} seconds; cloudwatch:PutMetricAlarm's Period takes 10, 20, 30 or a multiple of 60"),
        ));
    }
    let at = evaluation_periods.span().start;
    if count < limits::EVALUATION_PERIODS_MIN {
        return Err(ctx.err(
            at,
            "evaluation_periods",
            format!(
                "{count}; cloudwatch:PutMetricAlarm's EvaluationPeriods takes at least {}",
                limits::EVALUATION_PERIODS_MIN
            ),
        ));
    }
    let window = i64::from(seconds) * i64::from(count);
    let max = limits::evaluation_window_max(seconds);
    if window > max {
        let short = if max < limits::EVALUATION_WINDOW_MAX {
            " for a period under an hour"
        } else {
            ""
        };
        return Err(ctx.err(
            at,
            "evaluation_periods",
            format!("{count} periods of {seconds} seconds are {window} seconds; cloudwatch:PutMetricAlarm takes at most {max}{short} (EvaluationPeriods × Period)"),
        ));
    }
    Ok(())
}

/// The account and region the derived names are computed for: their digests have a fixed
/// length, so any account and region give names of the same length.
const ACCOUNT: &str = "000000000000";
const REGION: &str = "us-east-1";

/// What cis-fix derives from a control's slug, within what AWS takes, where the account
/// makes it longest; then the drill's state reason, which also carries the id.
pub(super) fn derived(ctx: &ControlCtx, id_at: usize, slug: &str, slug_at: usize) -> Result<()> {
    for (what, value, limit) in from_slug(slug) {
        limit.check(&value).map_err(|problem| {
            ctx.err(
                slug_at,
                "slug",
                format!(
                    "{what} {problem}; use a slug of at most {} characters",
                    longest_slug(slug.len())
                ),
            )
        })?;
    }
    limits::STATE_REASON
        .check(&ownership::drill_reason(&ctx.id, slug))
        .map_err(|problem| {
            ctx.err(
                id_at,
                "id",
                format!("the state reason `cis-fix drill` sets with it {problem}; shorten the id"),
            )
        })
}

/// The values cis-fix derives from a slug, each with the parameter it is sent as. The log
/// group is as long as AWS allows: the alarm description's record names it.
fn from_slug(slug: &str) -> Vec<(&'static str, String, TextLimit)> {
    let log_group = "a".repeat(limits::LOG_GROUP_NAME.max);
    let filter = ownership::filter_name(ACCOUNT, REGION, &log_group, slug);
    let record = ownership::AlarmRecord {
        control: slug.to_string(),
        filter: Some(ownership::FilterRef {
            log_group,
            name: filter.clone(),
        }),
    };
    let mut values = vec![(
        "the metric filter name cis-fix gives it",
        filter,
        limits::FILTER_NAME,
    )];
    for name in ownership::alarm_names(ACCOUNT, REGION, slug) {
        values.push(("the alarm name cis-fix gives it", name, limits::ALARM_NAME));
    }
    for (key, value) in ownership::alarm_tags(slug) {
        values.push(("the alarm's tag key", key, limits::ALARM_TAG_KEY));
        values.push(("the alarm's tag value", value, limits::ALARM_TAG_VALUE));
    }
    // The readable part gives way to the record, so the record alone decides the length.
    let description = ownership::alarm_description("", "", &record);
    values.push((
        "the alarm description's record (for a log group name as long as AWS allows)",
        description,
        limits::ALARM_DESCRIPTION,
    ));
    values
}

/// The longest slug shorter than `than` whose derived values AWS all takes.
fn longest_slug(than: usize) -> usize {
    (1..than)
        .rev()
        .find(|n| {
            from_slug(&"a".repeat(*n))
                .iter()
                .all(|(_, value, limit)| limit.check(value).is_ok())
        })
        .unwrap_or(0)
}

/// A value as an error shows it: whole when short and on one line, else by its length alone.
fn shown(value: &str) -> String {
    if limits::length(value) <= 64 && !value.chars().any(char::is_control) {
        format!("`{value}`")
    } else {
        "the value".to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::super::parse;
    use super::*;

    /// A catalog of one control; each test edits one line of it.
    const BASE: &str = r#"format_version = 1
benchmark = "mine"
title = "My controls"

[defaults]
namespace = "CISBenchmark"
metric_value = "1"
statistic = "Sum"
period = 300
threshold = 1.0
comparison_operator = "GreaterThanOrEqualToThreshold"
evaluation_periods = 1

[[control]]
id = "1"
slug = "root-account-usage"
title = "t"
level = 1
metric_name = "RootUsage"
pattern = '{ $.userIdentity.type = "Root" }'
"#;

    fn with(old: &str, new: &str) -> String {
        assert!(BASE.contains(old), "{old}");
        BASE.replacen(old, new, 1)
    }

    /// A valid pattern of exactly `length` characters.
    fn pattern_of(length: usize) -> String {
        let frame = r#"{ $.userIdentity.type = "" }"#.len();
        format!(
            r#"{{ $.userIdentity.type = "{}" }}"#,
            "R".repeat(length - frame)
        )
    }

    fn accepted(text: &str) {
        if let Err(e) = parse(text, "mine.toml") {
            panic!("refused: {e}");
        }
    }

    /// Refused in one line naming the file, the line, the field and each of `words`.
    fn refused(text: &str, line: usize, field: &str, words: &[&str]) -> String {
        let err = parse(text, "mine.toml").unwrap_err().to_string();
        assert!(err.starts_with("invalid catalog mine.toml:"), "{err}");
        assert!(
            err.contains(&format!("mine.toml:line {line},")),
            "line {line}: {err}"
        );
        assert!(err.contains(&format!("field `{field}`")), "{field}: {err}");
        for word in words {
            assert!(err.contains(word), "{word}: {err}");
        }
        assert_eq!(err.lines().count(), 1, "{err}");
        err
    }

    #[test]
    fn the_pattern_takes_1024_characters() {
        let line = r#"pattern = '{ $.userIdentity.type = "Root" }'"#;
        accepted(&with(line, &format!("pattern = '{}'", pattern_of(1024))));
        let err = refused(
            &with(line, &format!("pattern = '{}'", pattern_of(1025))),
            20,
            "pattern",
            &[
                "1025 characters",
                "logs:PutMetricFilter's filterPattern takes at most 1024",
            ],
        );
        // Too long to show; the length says it.
        assert!(!err.contains("RRRR"), "{err}");
    }

    #[test]
    fn the_metric_name_takes_255_characters_without_colon_star_or_dollar() {
        let line = r#"metric_name = "RootUsage""#;
        accepted(&with(
            line,
            &format!(r#"metric_name = "{}""#, "M".repeat(255)),
        ));
        refused(
            &with(line, &format!(r#"metric_name = "{}""#, "M".repeat(256))),
            19,
            "metric_name",
            &[
                "256 characters",
                "logs:PutMetricFilter's metricName takes at most 255",
            ],
        );
        refused(
            &with(line, r#"metric_name = "  ""#),
            19,
            "metric_name",
            &["cloudwatch:PutMetricAlarm's MetricName takes 1 to 255"],
        );
        for bad in [":", "*", "$"] {
            refused(
                &with(line, &format!(r#"metric_name = "Root{bad}Usage""#)),
                19,
                "metric_name",
                &[&format!("contains `{bad}`"), "[^:*$]*"],
            );
        }
    }

    #[test]
    fn the_namespace_takes_255_characters_without_colon_star_or_dollar() {
        let line = r#"namespace = "CISBenchmark""#;
        accepted(&with(
            line,
            &format!(r#"namespace = "{}""#, "N".repeat(255)),
        ));
        refused(
            &with(line, &format!(r#"namespace = "{}""#, "N".repeat(256))),
            6,
            "namespace",
            &[
                "256 characters",
                "logs:PutMetricFilter's metricNamespace takes at most 255",
            ],
        );
        refused(
            &with(line, r#"namespace = "Security*""#),
            6,
            "namespace",
            &[
                "`Security*` contains `*`",
                "metricNamespace must match [^:*$]*",
            ],
        );
        refused(
            &with(line, r#"namespace = ":Security""#),
            6,
            "namespace",
            &["contains `:`"],
        );
        refused(
            &with(line, r#"namespace = """#),
            6,
            "namespace",
            &["cloudwatch:PutMetricAlarm's Namespace takes 1 to 255"],
        );
        refused(
            &with(line, r#"namespace = "AWS/Mine""#),
            6,
            "namespace",
            &["AWS reserves"],
        );
        // On the control, the error points at the control's line.
        let own = with("level = 1", "level = 1\nnamespace = \"A$B\"");
        refused(&own, 19, "namespace", &["contains `$`"]);
    }

    #[test]
    fn the_metric_value_takes_100_characters() {
        let line = r#"metric_value = "1""#;
        accepted(&with(
            line,
            &format!(r#"metric_value = "{}""#, "1".repeat(100)),
        ));
        refused(
            &with(line, &format!(r#"metric_value = "{}""#, "1".repeat(101))),
            7,
            "metric_value",
            &[
                "101 characters",
                "logs:PutMetricFilter's metricValue takes at most 100",
            ],
        );
    }

    #[test]
    fn statistic_and_operator_come_from_aws_lists() {
        refused(
            &with(r#"statistic = "Sum""#, r#"statistic = "p99""#),
            8,
            "statistic",
            &["`p99` is not one of SampleCount, Average, Sum"],
        );
        // Valid for PutMetricAlarm, but only on anomaly detection bands.
        refused(
            &with(
                r#"comparison_operator = "GreaterThanOrEqualToThreshold""#,
                r#"comparison_operator = "LessThanLowerThreshold""#,
            ),
            11,
            "comparison_operator",
            &["is not one of"],
        );
    }

    #[test]
    fn periods_are_10_20_30_or_minutes() {
        for ok in [10, 20, 30, 60, 120, 3600] {
            accepted(&with("period = 300", &format!("period = {ok}")));
        }
        for bad in [0, -60, 5, 45, 90] {
            refused(
                &with("period = 300", &format!("period = {bad}")),
                9,
                "period",
                &["Period takes 10, 20, 30 or a multiple of 60"],
            );
        }
        refused(
            &with("evaluation_periods = 1", "evaluation_periods = 0"),
            12,
            "evaluation_periods",
            &["EvaluationPeriods takes at least 1"],
        );
    }

    #[test]
    fn the_evaluation_window_is_a_day_under_hourly_periods_and_a_week_above() {
        let both = |period: i32, count: i32| {
            with("period = 300", &format!("period = {period}")).replacen(
                "evaluation_periods = 1",
                &format!("evaluation_periods = {count}"),
                1,
            )
        };
        accepted(&both(300, 288));
        refused(
            &both(300, 289),
            12,
            "evaluation_periods",
            &["86700 seconds", "at most 86400 for a period under an hour"],
        );
        accepted(&both(3600, 168));
        refused(
            &both(3600, 169),
            12,
            "evaluation_periods",
            &[
                "608400 seconds",
                "at most 604800 (EvaluationPeriods × Period)",
            ],
        );
        // No overflow: the product is taken in 64 bits.
        refused(
            &both(2_147_483_640, 2_147_483_647),
            12,
            "evaluation_periods",
            &["at most 604800"],
        );
    }

    /// The longest slug every derived value fits, and what decides it: the alarm description's
    /// record names the slug twice (as the control and in the filter's name) and a log group
    /// of up to 512 characters, in 1024.
    const LONGEST_SLUG: usize = 214;

    #[test]
    fn a_slug_is_as_long_as_the_names_tags_and_description_it_makes_allow() {
        assert_eq!(longest_slug(1000), LONGEST_SLUG);
        let line = r#"slug = "root-account-usage""#;
        let slug = |n: usize| format!(r#"slug = "{}""#, "s".repeat(n));
        accepted(&with(line, &slug(LONGEST_SLUG)));
        refused(
            &with(line, &slug(LONGEST_SLUG + 1)),
            16,
            "slug",
            &[
                "the alarm description's record",
                "1025 characters",
                "cloudwatch:PutMetricAlarm's AlarmDescription takes at most 1024",
                "use a slug of at most 214 characters",
            ],
        );
        // Longer still, the alarm name goes over first.
        refused(
            &with(line, &slug(239)),
            16,
            "slug",
            &[
                "the alarm name cis-fix gives it is 256 characters",
                "AlarmName takes 1 to 255",
            ],
        );
        // At the longest slug and log group, the record is whole in the description.
        let name = "s".repeat(LONGEST_SLUG);
        let log_group = "g".repeat(512);
        let record = ownership::AlarmRecord {
            control: name.clone(),
            filter: Some(ownership::FilterRef {
                name: ownership::filter_name("123456789012", "ap-southeast-3", &log_group, &name),
                log_group,
            }),
        };
        let text = ownership::alarm_description("4.1", &"t".repeat(500), &record);
        assert!(limits::length(&text) <= 1024, "{}", limits::length(&text));
        assert_eq!(ownership::alarm_record(Some(&text)), Some(record));
    }

    #[test]
    fn the_id_fits_the_drills_state_reason() {
        let line = r#"id = "1""#;
        // The reason's own words and the slug leave this much of 1023 for the id.
        // (A one-digit id less its digit: a number is said `CIS control N`.)
        let fixed = ownership::drill_reason("0", "root-account-usage").len() - 1;
        let room = 1023 - fixed;
        accepted(&with(line, &format!(r#"id = "{}""#, "9".repeat(room))));
        refused(
            &with(line, &format!(r#"id = "{}""#, "9".repeat(room + 1))),
            15,
            "id",
            &[
                "cis-fix drill",
                "1024 characters",
                "cloudwatch:SetAlarmState's StateReason takes at most 1023",
            ],
        );
    }
}
