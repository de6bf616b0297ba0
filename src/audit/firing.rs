//! Whether one matching event in one period puts an alarm in `ALARM`.
//!
//! CIS asks for an alarm that tells someone about *an* unauthorized call, *a* root sign-in.
//! An alarm on the right metric can still never fire for a single event: a threshold of 5, a
//! `LessThan` comparison, 3 of 3 datapoints, a unit the filter never publishes, a filter that
//! publishes 0, or `Average` diluted by the filter's `defaultValue`. This module does the
//! arithmetic from the filter's metric transformation and the alarm's settings.
//!
//! The model: in the period with the matching event, the filter publishes its `metricValue`
//! `v` once, and, when it has a `defaultValue` `d`, `d` once for each of the `n ≥ 0` other log
//! events of that period. The alarm fires reliably only if its comparison holds for every `n`:
//! how much other traffic there is must not decide whether anyone hears of the event.

use super::plan::{finding, Finding};
use crate::inventory::{Alarm, MetricFilter};

/// What is known of whether an alarm fires on one matching event.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Firing {
    Fires,
    /// It cannot fire (reliably) on one event; the finding states the arithmetic.
    Never(Finding),
    /// It cannot be decided from the settings alone.
    Unverified(Finding),
}

/// Representative counts of other events in the period: none, one, and very many (where
/// averages tend to the default value and sums grow without bound).
const OTHERS: [f64; 3] = [0.0, 1.0, 1.0e9];

pub(super) fn check(filter: &MetricFilter, alarm: &Alarm) -> Firing {
    let name = &alarm.name;
    let unverified = |why: String| {
        Firing::Unverified(finding(
            "alarm_firing_unverified",
            format!("alarm `{name}`: {why}, so cis-fix cannot tell whether one matching event makes it fire"),
        ))
    };

    // Unit: an alarm with a unit sees only datapoints of that unit; a filter without one
    // publishes with unit `None`.
    let published = filter.unit.as_deref().unwrap_or("None");
    if let Some(unit) = alarm.unit.as_deref() {
        if unit != published {
            return Firing::Never(finding(
                "alarm_unit_mismatch",
                format!(
                    "alarm `{name}` watches datapoints with unit {unit}, but filter `{}` publishes its metric with unit {published}: the alarm never sees them",
                    filter.name
                ),
            ));
        }
    }

    // M of N: one event gives one breaching datapoint.
    let periods = alarm.evaluation_periods.unwrap_or(1);
    let needed = alarm.datapoints_to_alarm.unwrap_or(periods);
    if needed > 1 {
        if alarm.treat_missing_data.as_deref() == Some("breaching") {
            return unverified(format!(
                "it needs {needed} of {periods} breaching datapoints and treats missing data as breaching"
            ));
        }
        return Firing::Never(finding(
            "alarm_needs_several_datapoints",
            format!(
                "alarm `{name}` needs {needed} of {periods} datapoints to breach (DatapointsToAlarm/EvaluationPeriods); one matching event gives one: set both to 1"
            ),
        ));
    }

    if let Some(extended) = &alarm.extended_statistic {
        return unverified(format!("it uses the extended statistic {extended}"));
    }
    let Some(statistic) = alarm.statistic.as_deref() else {
        return unverified("it has no statistic".to_string());
    };
    let Some(threshold) = alarm.threshold else {
        return unverified("it has no static threshold (an anomaly detection band?)".to_string());
    };
    let Some(operator) = alarm.comparison_operator.as_deref() else {
        return unverified("it has no comparison operator".to_string());
    };
    let Some(compare) = comparison(operator) else {
        return unverified(format!(
            "its comparison {operator} is not a static threshold"
        ));
    };
    let Ok(value) = filter.metric_value.trim().parse::<f64>() else {
        return unverified(format!(
            "filter `{}` publishes `{}` for a matching event, a value taken from the event",
            filter.name, filter.metric_value
        ));
    };

    let outcomes: Vec<(f64, f64, bool)> = OTHERS
        .iter()
        .filter(|&&n| n == 0.0 || filter.default_value.is_some())
        .filter_map(|&n| {
            let stat = statistic_value(statistic, value, filter.default_value, n)?;
            Some((n, stat, compare(stat, threshold)))
        })
        .collect();
    let Some(&(_, alone, _)) = outcomes.first() else {
        return unverified(format!(
            "its statistic {statistic} is not one cis-fix knows"
        ));
    };
    let symbol = symbol(operator);
    if outcomes.iter().all(|(_, _, fires)| *fires) {
        return Firing::Fires;
    }
    if outcomes.iter().all(|(_, _, fires)| !*fires) {
        return Firing::Never(finding(
            "alarm_threshold_unreachable",
            format!(
                "alarm `{name}` needs {statistic} {symbol} {} per {} s; one matching event gives {}",
                number(threshold),
                alarm.period.unwrap_or(0),
                number(alone)
            ),
        ));
    }
    // It depends on the rest of the traffic.
    let (n, stat, _) = outcomes
        .iter()
        .find(|(_, _, fires)| !*fires)
        .copied()
        .unwrap_or((0.0, alone, false));
    Firing::Never(finding(
        "alarm_statistic_unreliable",
        format!(
            "alarm `{name}` uses {statistic}, and filter `{}` publishes defaultValue {} for every other log event: with one matching event among {} others in a period, {statistic} is {}, not {symbol} {}; use Sum",
            filter.name,
            number(filter.default_value.unwrap_or(0.0)),
            if n >= 1.0e9 { "very many".to_string() } else { number(n) },
            number(stat),
            number(threshold)
        ),
    ))
}

/// The statistic of a period holding one `value` and `others` datapoints of `default`.
fn statistic_value(statistic: &str, value: f64, default: Option<f64>, others: f64) -> Option<f64> {
    let d = default.unwrap_or(0.0);
    let others = if default.is_some() { others } else { 0.0 };
    Some(match statistic {
        "Sum" => value + others * d,
        "SampleCount" => 1.0 + others,
        "Average" => (value + others * d) / (1.0 + others),
        "Minimum" if others > 0.0 => value.min(d),
        "Maximum" if others > 0.0 => value.max(d),
        "Minimum" | "Maximum" => value,
        _ => return None,
    })
}

fn comparison(operator: &str) -> Option<fn(f64, f64) -> bool> {
    Some(match operator {
        "GreaterThanOrEqualToThreshold" => |a, t| a >= t,
        "GreaterThanThreshold" => |a, t| a > t,
        "LessThanThreshold" => |a, t| a < t,
        "LessThanOrEqualToThreshold" => |a, t| a <= t,
        _ => return None,
    })
}

fn symbol(operator: &str) -> &'static str {
    match operator {
        "GreaterThanOrEqualToThreshold" => "≥",
        "GreaterThanThreshold" => ">",
        "LessThanThreshold" => "<",
        "LessThanOrEqualToThreshold" => "≤",
        _ => "?",
    }
}

/// A number as a person writes it: `1`, not `1.0`.
fn number(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1.0e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filter(value: &str, default: Option<f64>) -> MetricFilter {
        MetricFilter {
            name: "f".into(),
            metric_value: value.into(),
            default_value: default,
            ..Default::default()
        }
    }

    fn alarm(statistic: &str, operator: &str, threshold: f64) -> Alarm {
        Alarm {
            name: "a".into(),
            statistic: Some(statistic.into()),
            comparison_operator: Some(operator.into()),
            threshold: Some(threshold),
            period: Some(300),
            evaluation_periods: Some(1),
            ..Default::default()
        }
    }

    fn code(f: &Firing) -> &str {
        match f {
            Firing::Fires => "fires",
            Firing::Never(x) | Firing::Unverified(x) => &x.code,
        }
    }

    const GE: &str = "GreaterThanOrEqualToThreshold";

    #[test]
    fn the_cis_alarm_fires_on_one_event() {
        assert_eq!(
            check(&filter("1", None), &alarm("Sum", GE, 1.0)),
            Firing::Fires
        );
        assert_eq!(
            check(&filter("1", Some(0.0)), &alarm("Sum", GE, 1.0)),
            Firing::Fires
        );
        assert_eq!(
            check(&filter("1", None), &alarm("SampleCount", GE, 1.0)),
            Firing::Fires
        );
        assert_eq!(
            check(
                &filter("1", None),
                &alarm("Maximum", "GreaterThanThreshold", 0.0)
            ),
            Firing::Fires
        );
        // Without a default value nothing else is published, so Average is the event's value.
        assert_eq!(
            check(&filter("1", None), &alarm("Average", GE, 1.0)),
            Firing::Fires
        );
    }

    #[test]
    fn a_threshold_one_event_cannot_reach_states_the_arithmetic() {
        let f = check(&filter("1", None), &alarm("Sum", GE, 5.0));
        assert_eq!(code(&f), "alarm_threshold_unreachable");
        let Firing::Never(x) = f else { panic!() };
        assert!(
            x.message
                .contains("needs Sum ≥ 5 per 300 s; one matching event gives 1"),
            "{}",
            x.message
        );
        assert_eq!(
            code(&check(&filter("0", None), &alarm("Sum", GE, 1.0))),
            "alarm_threshold_unreachable"
        );
        assert_eq!(
            code(&check(
                &filter("1", None),
                &alarm("Sum", "LessThanThreshold", 1.0)
            )),
            "alarm_threshold_unreachable"
        );
    }

    #[test]
    fn average_with_a_default_value_is_diluted_by_other_traffic() {
        let f = check(&filter("1", Some(0.0)), &alarm("Average", GE, 1.0));
        assert_eq!(code(&f), "alarm_statistic_unreliable");
        let Firing::Never(x) = f else { panic!() };
        assert!(x.message.contains("Average is 0.5"), "{}", x.message);
        // SampleCount with a default counts every log event: fires, but that is noise, not the
        // event; still, one matching event alone reaches 1.
        assert_eq!(
            check(&filter("1", Some(0.0)), &alarm("SampleCount", GE, 1.0)),
            Firing::Fires
        );
        // Minimum with a default of 0 drops to 0 whenever anything else is logged.
        assert_eq!(
            code(&check(&filter("1", Some(0.0)), &alarm("Minimum", GE, 1.0))),
            "alarm_statistic_unreliable"
        );
    }

    #[test]
    fn m_of_n_needs_several_events() {
        let mut a = alarm("Sum", GE, 1.0);
        a.evaluation_periods = Some(3);
        let f = check(&filter("1", None), &a);
        assert_eq!(code(&f), "alarm_needs_several_datapoints");
        let Firing::Never(x) = f else { panic!() };
        assert!(x.message.contains("3 of 3"), "{}", x.message);
        a.datapoints_to_alarm = Some(1);
        assert_eq!(check(&filter("1", None), &a), Firing::Fires);
        a.datapoints_to_alarm = Some(2);
        a.treat_missing_data = Some("breaching".into());
        assert_eq!(
            code(&check(&filter("1", None), &a)),
            "alarm_firing_unverified"
        );
    }

    #[test]
    fn units_must_agree() {
        let mut a = alarm("Sum", GE, 1.0);
        a.unit = Some("Count".into());
        assert_eq!(code(&check(&filter("1", None), &a)), "alarm_unit_mismatch");
        let mut f = filter("1", None);
        f.unit = Some("Count".into());
        assert_eq!(check(&f, &a), Firing::Fires);
        a.unit = Some("None".into());
        assert_eq!(check(&filter("1", None), &a), Firing::Fires);
    }

    #[test]
    fn what_the_settings_cannot_tell_is_unverified() {
        assert_eq!(
            code(&check(&filter("$.count", None), &alarm("Sum", GE, 1.0))),
            "alarm_firing_unverified"
        );
        let mut a = alarm("Sum", GE, 1.0);
        a.statistic = None;
        a.extended_statistic = Some("p99".into());
        assert_eq!(
            code(&check(&filter("1", None), &a)),
            "alarm_firing_unverified"
        );
        let a = alarm("Sum", "LessThanLowerOrGreaterThanUpperThreshold", 1.0);
        assert_eq!(
            code(&check(&filter("1", None), &a)),
            "alarm_firing_unverified"
        );
    }
}
