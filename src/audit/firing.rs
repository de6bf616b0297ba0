//! Whether an alarm goes to `ALARM` for every matching event, and only then.
//!
//! CIS asks for an alarm that tells someone about *an* unauthorized call, *a* root sign-in.
//! An alarm on the right metric can still never fire for a single event: a threshold of 5, a
//! `LessThan` comparison, 3 of 3 datapoints, a unit the filter never publishes, a filter that
//! publishes 0, or `Average` diluted by the filter's `defaultValue`. Or it can sit in `ALARM`
//! with no event at all, and so never notify again. This module does the arithmetic from the
//! filter's metric transformation and the alarm's settings.
//!
//! The model: in a period with `k ≥ 0` matching events and `n ≥ 0` other log events, the
//! filter publishes its `metricValue` `v` once per matching event and, when it has a
//! `defaultValue` `d`, `d` once per other event (without one, nothing). The alarm fires
//! reliably only if
//! - its comparison holds for every `k ≥ 1` and every `n ≥ 0`: neither how many matching
//!   events there are nor how much other traffic there is may decide whether anyone hears of
//!   them; and
//! - it is not in `ALARM` in a period with `k = 0` and `n ≥ 1`: else it stays in `ALARM` and a
//!   new event makes no transition, so no notification.
//!
//! With `n` (or `k`) fixed, each statistic is monotone in the other count, so the comparison
//! holds for all of them exactly when it holds at the first count and at the limit (where a
//! limit the statistic only approaches needs the comparison's closure).

use super::plan::{finding, Code, Finding};
use crate::inventory::{Alarm, MetricFilter};

/// What is known of whether an alarm fires on one matching event.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Firing {
    Fires,
    /// It cannot fire reliably on every matching event, or it cannot leave `ALARM`; the
    /// finding states the arithmetic.
    Never(Finding),
    /// It cannot be decided from the settings alone.
    Unverified(Finding),
}

/// Counts beyond this are "very many" (and exact as `f64`).
const MANY: f64 = 9_007_199_254_740_992.0;

#[derive(Debug, Clone, Copy, PartialEq)]
enum Statistic {
    Sum,
    SampleCount,
    Average,
    Minimum,
    Maximum,
}

impl Statistic {
    fn parse(s: &str) -> Option<Self> {
        Some(match s {
            "Sum" => Self::Sum,
            "SampleCount" => Self::SampleCount,
            "Average" => Self::Average,
            "Minimum" => Self::Minimum,
            "Maximum" => Self::Maximum,
            _ => return None,
        })
    }

    fn name(self) -> &'static str {
        match self {
            Self::Sum => "Sum",
            Self::SampleCount => "SampleCount",
            Self::Average => "Average",
            Self::Minimum => "Minimum",
            Self::Maximum => "Maximum",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Comparison {
    Ge,
    Gt,
    Lt,
    Le,
}

impl Comparison {
    fn parse(operator: &str) -> Option<Self> {
        Some(match operator {
            "GreaterThanOrEqualToThreshold" => Self::Ge,
            "GreaterThanThreshold" => Self::Gt,
            "LessThanThreshold" => Self::Lt,
            "LessThanOrEqualToThreshold" => Self::Le,
            _ => return None,
        })
    }

    fn holds(self, x: f64, t: f64) -> bool {
        match self {
            Self::Ge => x >= t,
            Self::Gt => x > t,
            Self::Lt => x < t,
            Self::Le => x <= t,
        }
    }

    /// Whether values tending to `x` (never reaching it) all satisfy the comparison, given
    /// that the first of them does: the comparison's closure.
    fn holds_near(self, x: f64, t: f64) -> bool {
        match self {
            Self::Ge | Self::Gt => x >= t,
            Self::Lt | Self::Le => x <= t,
        }
    }

    fn symbol(self) -> &'static str {
        match self {
            Self::Ge => "≥",
            Self::Gt => ">",
            Self::Lt => "<",
            Self::Le => "≤",
        }
    }
}

/// A value the statistic takes in the limit: `attained` when some finite count gives it.
#[derive(Debug, Clone, Copy)]
struct Limit {
    value: f64,
    attained: bool,
}

/// `x` times a count growing without bound.
fn unbounded(x: f64) -> Limit {
    if x == 0.0 {
        Limit {
            value: 0.0,
            attained: true,
        }
    } else {
        Limit {
            value: x.signum() * f64::INFINITY,
            attained: false,
        }
    }
}

/// The alarm's arithmetic: statistic, comparison, threshold, and the filter's values.
#[derive(Debug, Clone, Copy)]
struct Model {
    statistic: Statistic,
    comparison: Comparison,
    threshold: f64,
    value: f64,
    default: Option<f64>,
}

impl Model {
    /// The statistic of a period with `k` matching events and `n` other log events; `None`
    /// when the filter publishes nothing in it.
    fn stat(&self, k: f64, n: f64) -> Option<f64> {
        let (n, d) = match self.default {
            Some(d) => (n, d),
            None => (0.0, 0.0),
        };
        if k + n == 0.0 {
            return None;
        }
        let v = self.value;
        Some(match self.statistic {
            Statistic::Sum => k * v + n * d,
            Statistic::SampleCount => k + n,
            Statistic::Average => (k * v + n * d) / (k + n),
            Statistic::Minimum if k == 0.0 => d,
            Statistic::Minimum if n == 0.0 => v,
            Statistic::Minimum => v.min(d),
            Statistic::Maximum if k == 0.0 => d,
            Statistic::Maximum if n == 0.0 => v,
            Statistic::Maximum => v.max(d),
        })
    }

    fn fires(&self, k: f64, n: f64) -> bool {
        self.stat(k, n)
            .is_some_and(|x| self.comparison.holds(x, self.threshold))
    }

    /// The statistic as the matching events grow in number, with no other event.
    fn many_matching(&self) -> Limit {
        match self.statistic {
            Statistic::Sum => unbounded(self.value),
            Statistic::SampleCount => unbounded(1.0),
            _ => Limit {
                value: self.value,
                attained: true,
            },
        }
    }

    /// The statistic with `k` matching events (0 or 1) as the other events, each publishing
    /// `d`, grow in number.
    fn much_traffic(&self, k: f64, d: f64) -> Limit {
        let v = self.value;
        match self.statistic {
            Statistic::Sum if d == 0.0 => Limit {
                value: k * v,
                attained: true,
            },
            Statistic::Sum => unbounded(d),
            Statistic::SampleCount => unbounded(1.0),
            Statistic::Average => Limit {
                value: d,
                attained: k == 0.0 || v == d,
            },
            Statistic::Minimum if k == 0.0 => Limit {
                value: d,
                attained: true,
            },
            Statistic::Maximum if k == 0.0 => Limit {
                value: d,
                attained: true,
            },
            Statistic::Minimum => Limit {
                value: v.min(d),
                attained: true,
            },
            Statistic::Maximum => Limit {
                value: v.max(d),
                attained: true,
            },
        }
    }

    /// Whether the comparison holds at a limit the statistic tends to from a value where it
    /// holds.
    fn holds_at(&self, limit: Limit) -> bool {
        if limit.attained {
            self.comparison.holds(limit.value, self.threshold)
        } else {
            self.comparison.holds_near(limit.value, self.threshold)
        }
    }

    /// Whether the comparison holds somewhere on the way to a limit.
    fn reached_at(&self, limit: Limit) -> bool {
        if limit.attained || limit.value.is_infinite() {
            self.comparison.holds(limit.value, self.threshold)
        } else {
            // Approached from one side: only a strictly better value is ever reached.
            match self.comparison {
                Comparison::Ge | Comparison::Gt => limit.value > self.threshold,
                Comparison::Lt | Comparison::Le => limit.value < self.threshold,
            }
        }
    }

    /// Why the alarm does not fire for some `k ≥ 1`, `n ≥ 0`, with a witness.
    fn missed(&self) -> Option<Miss> {
        if !self.fires(1.0, 0.0) {
            return Some(Miss::One);
        }
        if !self.holds_at(self.many_matching()) {
            let k = first(2.0, |k| !self.fires(k, 0.0));
            return Some(Miss::Matching(k));
        }
        if let Some(d) = self.default {
            if !self.fires(1.0, 1.0) || !self.holds_at(self.much_traffic(1.0, d)) {
                let n = first(1.0, |n| !self.fires(1.0, n));
                return Some(Miss::Traffic(n));
            }
        }
        None
    }

    /// With a `defaultValue`: the first count of other events that, with no matching event,
    /// puts the alarm in `ALARM` (`Some(None)` for very many).
    fn stuck(&self) -> Option<Option<f64>> {
        let d = self.default?;
        let reached = self.fires(0.0, 1.0) || self.reached_at(self.much_traffic(0.0, d));
        reached.then(|| first(1.0, |n| self.fires(0.0, n)))
    }

    /// Whether the alarm fires on every matching event and is not stuck without one.
    fn sound(&self) -> bool {
        self.missed().is_none() && self.stuck().is_none()
    }
}

/// Why an alarm misses matching events.
enum Miss {
    /// One matching event alone.
    One,
    /// This many matching events (`None`: very many).
    Matching(Option<f64>),
    /// One matching event among this many others (`None`: very many).
    Traffic(Option<f64>),
}

/// The least count from `from` for which `fails` holds, `fails` being monotone; `None` when
/// only counts beyond [`MANY`] would do.
fn first(from: f64, fails: impl Fn(f64) -> bool) -> Option<f64> {
    if fails(from) {
        return Some(from);
    }
    let (mut lo, mut hi) = (from, from * 2.0);
    while !fails(hi) {
        if hi >= MANY {
            return None;
        }
        lo = hi;
        hi *= 2.0;
    }
    // fails(hi), !fails(lo)
    while hi - lo > 1.0 {
        let mid = ((lo + hi) / 2.0).floor();
        if fails(mid) {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Some(hi)
}

/// One check of an alarm on a filter: `None` when it finds nothing wrong.
type Rule = fn(&MetricFilter, &Alarm) -> Option<Firing>;

/// The checks, in order: the first that finds something decides. An alarm none of them faults
/// goes to `ALARM` for every matching event, and only then.
const RULES: [Rule; 3] = [unit_mismatch, several_datapoints, arithmetic];

pub(super) fn check(filter: &MetricFilter, alarm: &Alarm) -> Firing {
    RULES
        .iter()
        .find_map(|rule| rule(filter, alarm))
        .unwrap_or(Firing::Fires)
}

fn unverified(alarm: &Alarm, why: String) -> Firing {
    Firing::Unverified(finding(
        Code::AlarmFiringUnverified,
        format!(
            "alarm `{}`: {why}, so cis-fix cannot tell whether one matching event makes it fire",
            alarm.name
        ),
    ))
}

/// An alarm with a unit sees only datapoints of that unit; a filter without one publishes
/// with unit `None`.
fn unit_mismatch(filter: &MetricFilter, alarm: &Alarm) -> Option<Firing> {
    let published = filter.unit.as_deref().unwrap_or("None");
    let unit = alarm.unit.as_deref().filter(|unit| *unit != published)?;
    Some(Firing::Never(finding(
        Code::AlarmUnitMismatch,
        format!(
            "alarm `{}` watches datapoints with unit {unit}, but filter `{}` publishes its metric with unit {published}: the alarm never sees them",
            alarm.name, filter.name
        ),
    )))
}

/// M of N: one event gives one breaching datapoint.
fn several_datapoints(_: &MetricFilter, alarm: &Alarm) -> Option<Firing> {
    let periods = alarm.evaluation_periods.unwrap_or(1);
    let needed = alarm.datapoints_to_alarm.unwrap_or(periods);
    if needed <= 1 {
        return None;
    }
    if alarm.treat_missing_data.as_deref() == Some("breaching") {
        return Some(unverified(
            alarm,
            format!(
                "it needs {needed} of {periods} breaching datapoints and treats missing data as breaching"
            ),
        ));
    }
    Some(Firing::Never(finding(
        Code::AlarmNeedsSeveralDatapoints,
        format!(
            "alarm `{}` needs {needed} of {periods} datapoints to breach (DatapointsToAlarm/EvaluationPeriods); one matching event gives one: set both to 1",
            alarm.name
        ),
    )))
}

/// One fault of the threshold arithmetic: `None` when it has none.
type Fault = fn(&Case) -> Option<Finding>;

/// The arithmetic's faults, in order: the first found decides.
const FAULTS: [Fault; 3] = [misses_events, stuck_by_other_events, stuck_by_missing_data];

/// The threshold arithmetic, on the settings it reads: unverified when one is missing or
/// is not a static threshold cis-fix knows.
fn arithmetic(filter: &MetricFilter, alarm: &Alarm) -> Option<Firing> {
    let case = match Case::read(filter, alarm) {
        Ok(case) => case,
        Err(why) => return Some(unverified(alarm, why)),
    };
    FAULTS
        .iter()
        .find_map(|fault| fault(&case))
        .map(Firing::Never)
}

/// An alarm whose settings the arithmetic can read, with its filter, and the words its
/// findings use for them.
struct Case<'a> {
    filter: &'a MetricFilter,
    alarm: &'a Alarm,
    model: Model,
    /// The comparison as AWS names it (`GreaterThanOrEqualToThreshold`).
    operator: &'a str,
}

impl<'a> Case<'a> {
    /// Reads the settings, in this order; the first missing or unknown one is why the
    /// arithmetic cannot be done.
    fn read(filter: &'a MetricFilter, alarm: &'a Alarm) -> Result<Case<'a>, String> {
        if let Some(extended) = &alarm.extended_statistic {
            return Err(format!("it uses the extended statistic {extended}"));
        }
        let Some(statistic) = alarm.statistic.as_deref() else {
            return Err("it has no statistic".to_string());
        };
        let Some(threshold) = alarm.threshold else {
            return Err("it has no static threshold (an anomaly detection band?)".to_string());
        };
        let Some(operator) = alarm.comparison_operator.as_deref() else {
            return Err("it has no comparison operator".to_string());
        };
        let Some(comparison) = Comparison::parse(operator) else {
            return Err(format!(
                "its comparison {operator} is not a static threshold"
            ));
        };
        let Ok(value) = filter.metric_value.trim().parse::<f64>() else {
            return Err(format!(
                "filter `{}` publishes `{}` for a matching event, a value taken from the event",
                filter.name, filter.metric_value
            ));
        };
        let Some(statistic) = Statistic::parse(statistic) else {
            return Err(format!(
                "its statistic {statistic} is not one cis-fix knows"
            ));
        };
        let model = Model {
            statistic,
            comparison,
            threshold,
            value,
            default: filter.default_value,
        };
        Ok(Case {
            filter,
            alarm,
            model,
            operator,
        })
    }

    fn stat(&self) -> &'static str {
        self.model.statistic.name()
    }

    fn symbol(&self) -> &'static str {
        self.model.comparison.symbol()
    }

    fn threshold(&self) -> String {
        number(self.model.threshold)
    }

    fn period(&self) -> i32 {
        self.alarm.period.unwrap_or(0)
    }

    fn treat(&self) -> Option<&'a str> {
        self.alarm.treat_missing_data.as_deref()
    }

    fn default(&self) -> String {
        number(self.filter.default_value.unwrap_or(0.0))
    }

    /// The statistic of a period with `k` matching and `n` other events, as a finding says it.
    fn value_at(&self, k: f64, n: f64) -> String {
        number(self.model.stat(k, n).unwrap_or(0.0))
    }
}

/// Matching events the alarm does not fire for: one alone, many, or one among other traffic.
fn misses_events(case: &Case) -> Option<Finding> {
    let name = &case.alarm.name;
    let (stat, symbol, t, period) = (case.stat(), case.symbol(), case.threshold(), case.period());
    Some(match case.model.missed()? {
        Miss::One => finding(
            Code::AlarmThresholdUnreachable,
            format!(
                "alarm `{name}` needs {stat} {symbol} {t} per {period} s; one matching event gives {}",
                case.value_at(1.0, 0.0)
            ),
        ),
        Miss::Matching(k) => {
            let how_many = match k {
                Some(k) => format!(
                    "{} matching events in {period} s give {stat} {}",
                    number(k),
                    case.value_at(k, 0.0)
                ),
                None => format!("enough matching events in {period} s take {stat} past {t}"),
            };
            finding(
                Code::AlarmThresholdUnreachable,
                format!(
                    "alarm `{name}` uses {} {t}: {how_many} and no alarm",
                    case.operator
                ),
            )
        }
        Miss::Traffic(n) => {
            let n = n.unwrap_or(MANY);
            let others = if n >= MANY {
                "very many".to_string()
            } else {
                number(n)
            };
            finding(
                Code::AlarmStatisticUnreliable,
                format!(
                    "alarm `{name}` uses {stat}, and filter `{}` publishes defaultValue {} for every other log event: with one matching event among {others} others in a period, {stat} is {}, not {symbol} {t}{}",
                    case.filter.name,
                    case.default(),
                    case.value_at(1.0, n),
                    advice(&case.model, case.treat())
                ),
            )
        }
    })
}

/// With a `defaultValue`, other log events alone put the alarm in `ALARM`.
fn stuck_by_other_events(case: &Case) -> Option<Finding> {
    let n = case.model.stuck()?.unwrap_or(MANY);
    let when = match case.model.statistic {
        Statistic::Average | Statistic::Minimum | Statistic::Maximum => {
            "in every period with other log events".to_string()
        }
        _ if n >= MANY => "with very many other log events in a period".to_string(),
        _ if n == 1.0 => "with 1 other log event in a period".to_string(),
        _ => format!("with {} other log events in a period", number(n)),
    };
    let (stat, symbol, t) = (case.stat(), case.symbol(), case.threshold());
    Some(finding(
        Code::AlarmStuckInAlarm,
        format!(
            "alarm `{}` uses {stat} {symbol} {t}, and filter `{}` publishes defaultValue {} for every other log event: with no matching event, {when}, {stat} is {} {symbol} {t}, so the alarm stays in ALARM and never notifies again{}",
            case.alarm.name,
            case.filter.name,
            case.default(),
            case.value_at(0.0, n),
            advice(&case.model, case.treat())
        ),
    ))
}

/// Without a `defaultValue`, a period without a matching event is missing data: treated as
/// breaching, or ignored, it keeps the alarm in `ALARM`.
fn stuck_by_missing_data(case: &Case) -> Option<Finding> {
    if case.filter.default_value.is_some() {
        return None;
    }
    let stays = match case.treat() {
        Some("breaching") => "treats missing data as breaching: every period without a matching event is in ALARM, so a new event makes no transition and the alarm never notifies",
        Some("ignore") => "treats missing data as ignore (keeps its state): after the first event it stays in ALARM and never notifies again",
        _ => return None,
    };
    Some(finding(
        Code::AlarmStuckInAlarm,
        format!(
            "filter `{}` has no defaultValue, so it publishes nothing in a period without a matching event, and alarm `{}` {stays}: set TreatMissingData to missing or notBreaching",
            case.filter.name, case.alarm.name
        ),
    ))
}

/// `; <the smallest change that makes the alarm sound>`, or nothing when none of those
/// tried does: only changes to what the alarm and filter do now.
fn advice(model: &Model, treat: Option<&str>) -> String {
    // Without a defaultValue, periods without a matching event are missing data.
    let missing_ok = !matches!(treat, Some("breaching" | "ignore"));
    let sum = model.statistic != Statistic::Sum;
    let mut tries: Vec<(&str, Model)> = Vec::new();
    if sum {
        tries.push((
            "use Sum",
            Model {
                statistic: Statistic::Sum,
                ..*model
            },
        ));
    }
    if model.default.is_some_and(|d| d != 0.0) {
        tries.push((
            "set the filter's defaultValue to 0",
            Model {
                default: Some(0.0),
                ..*model
            },
        ));
        if sum {
            tries.push((
                "use Sum and set the filter's defaultValue to 0",
                Model {
                    statistic: Statistic::Sum,
                    default: Some(0.0),
                    ..*model
                },
            ));
        }
    }
    if model.default.is_some() && missing_ok {
        tries.push((
            "remove the filter's defaultValue",
            Model {
                default: None,
                ..*model
            },
        ));
        if sum {
            tries.push((
                "use Sum and remove the filter's defaultValue",
                Model {
                    statistic: Statistic::Sum,
                    default: None,
                    ..*model
                },
            ));
        }
    }
    tries
        .into_iter()
        .find(|(_, m)| m.sound())
        .map(|(what, _)| format!("; {what}"))
        .unwrap_or_default()
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
            Firing::Never(x) | Firing::Unverified(x) => x.code.as_str(),
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
        // SampleCount with a default counts every log event: one other event reaches 1.
        assert_eq!(
            code(&check(
                &filter("1", Some(0.0)),
                &alarm("SampleCount", GE, 1.0)
            )),
            "alarm_stuck_in_alarm"
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

    fn message(f: &Firing) -> String {
        match f {
            Firing::Fires => String::new(),
            Firing::Never(x) | Firing::Unverified(x) => x.message.clone(),
        }
    }

    const GT: &str = "GreaterThanThreshold";
    const LT: &str = "LessThanThreshold";
    const LE: &str = "LessThanOrEqualToThreshold";

    #[test]
    fn cis_fixs_own_settings_fire_on_every_catalog_filter() {
        for text in [
            include_str!("../../plans/cis-1.2.toml"),
            include_str!("../../plans/cis-1.4.toml"),
            include_str!("../../plans/cis-3.0.toml"),
            include_str!("../../plans/cis-5.0.toml"),
        ] {
            let value: toml::Value = toml::from_str(text).unwrap();
            let d = &value["defaults"];
            let mut a = alarm(
                d["statistic"].as_str().unwrap(),
                d["comparison_operator"].as_str().unwrap(),
                d["threshold"].as_float().unwrap(),
            );
            a.evaluation_periods = Some(d["evaluation_periods"].as_integer().unwrap() as i32);
            let f = filter(d["metric_value"].as_str().unwrap(), None);
            assert_eq!(check(&f, &a), Firing::Fires);
            a.treat_missing_data = Some("missing".into());
            assert_eq!(check(&f, &a), Firing::Fires);
            a.treat_missing_data = Some("notBreaching".into());
            assert_eq!(check(&f, &a), Firing::Fires);
        }
    }

    #[test]
    fn a_less_than_comparison_misses_several_events() {
        // 4.5: LessThanThreshold 5.
        let f = check(&filter("1", None), &alarm("Sum", LT, 5.0));
        assert_eq!(code(&f), "alarm_threshold_unreachable");
        assert_eq!(
            message(&f),
            "alarm `a` uses LessThanThreshold 5: 5 matching events in 300 s give Sum 5 and no alarm"
        );
        // 4.15: LessThanOrEqualToThreshold 1.
        let f = check(&filter("1", None), &alarm("Sum", LE, 1.0));
        assert_eq!(code(&f), "alarm_threshold_unreachable");
        assert!(
            message(&f)
                .contains("LessThanOrEqualToThreshold 1: 2 matching events in 300 s give Sum 2"),
            "{}",
            message(&f)
        );
        let f = check(&filter("1", None), &alarm("SampleCount", LT, 3.0));
        assert!(message(&f).contains("3 matching events in 300 s give SampleCount 3"));
        // A negative value below a negative threshold: more events only go further below.
        let f = check(&filter("-1", None), &alarm("Sum", GE, -3.0));
        assert!(message(&f).contains("4 matching events in 300 s give Sum -4"));
        assert_eq!(
            check(&filter("-1", None), &alarm("Sum", LT, 0.0)),
            Firing::Fires
        );
        assert_eq!(
            check(&filter("1", None), &alarm("Average", LE, 1.0)),
            Firing::Fires
        );
    }

    #[test]
    fn a_default_value_that_meets_the_threshold_keeps_the_alarm_in_alarm() {
        // 4.13: Average, metricValue 2, defaultValue 1, threshold 1.
        let f = check(&filter("2", Some(1.0)), &alarm("Average", GE, 1.0));
        assert_eq!(code(&f), "alarm_stuck_in_alarm");
        assert_eq!(
            message(&f),
            "alarm `a` uses Average ≥ 1, and filter `f` publishes defaultValue 1 for every other log event: with no matching event, in every period with other log events, Average is 1 ≥ 1, so the alarm stays in ALARM and never notifies again; use Sum and set the filter's defaultValue to 0"
        );
        let f = check(&filter("1", Some(0.5)), &alarm("Sum", GE, 1.0));
        assert_eq!(code(&f), "alarm_stuck_in_alarm");
        assert!(
            message(&f).contains("with 2 other log events in a period, Sum is 1 ≥ 1"),
            "{}",
            message(&f)
        );
        assert!(message(&f).ends_with("; set the filter's defaultValue to 0"));
        for statistic in ["Maximum", "Minimum", "SampleCount"] {
            assert_eq!(
                code(&check(&filter("1", Some(1.0)), &alarm(statistic, GE, 1.0))),
                "alarm_stuck_in_alarm",
                "{statistic}"
            );
        }
        assert_eq!(
            check(&filter("1", Some(0.0)), &alarm("Maximum", GE, 1.0)),
            Firing::Fires
        );
    }

    #[test]
    fn missing_data_that_breaches_or_keeps_the_state_keeps_the_alarm_in_alarm() {
        for treat in ["breaching", "ignore"] {
            let mut a = alarm("Sum", GE, 1.0);
            a.treat_missing_data = Some(treat.into());
            let f = check(&filter("1", None), &a);
            assert_eq!(code(&f), "alarm_stuck_in_alarm", "{treat}");
            assert!(message(&f).ends_with("set TreatMissingData to missing or notBreaching"));
            // With a defaultValue of 0, every period with log events has a datapoint.
            assert_eq!(check(&filter("1", Some(0.0)), &a), Firing::Fires);
        }
    }

    #[test]
    fn the_advice_never_repeats_what_the_alarm_already_does() {
        // 4.14: Sum with defaultValue -5.
        let f = check(&filter("1", Some(-5.0)), &alarm("Sum", GE, 1.0));
        assert_eq!(code(&f), "alarm_statistic_unreliable");
        assert_eq!(
            message(&f),
            "alarm `a` uses Sum, and filter `f` publishes defaultValue -5 for every other log event: with one matching event among 1 others in a period, Sum is -4, not ≥ 1; set the filter's defaultValue to 0"
        );
        let f = check(&filter("1", Some(0.0)), &alarm("Average", GE, 1.0));
        assert!(message(&f).ends_with("; use Sum"), "{}", message(&f));
        // Dilution toward a default just under the threshold takes many events.
        let f = check(&filter("2", Some(0.999)), &alarm("Average", GE, 1.0));
        assert!(message(&f).contains("among 1001 others"), "{}", message(&f));
        // A default just at the threshold, never reached, keeps Average above it.
        assert_eq!(
            check(&filter("2", Some(1.0)), &alarm("Average", GT, 1.0)),
            Firing::Fires
        );
    }

    /// The statistic of one period as CloudWatch computes it from its datapoints.
    fn simulate(statistic: &str, points: &[f64]) -> Option<f64> {
        if points.is_empty() {
            return None;
        }
        let sum: f64 = points.iter().sum();
        Some(match statistic {
            "Sum" => sum,
            "SampleCount" => points.len() as f64,
            "Average" => sum / points.len() as f64,
            "Minimum" => points.iter().copied().fold(f64::INFINITY, f64::min),
            "Maximum" => points.iter().copied().fold(f64::NEG_INFINITY, f64::max),
            _ => unreachable!(),
        })
    }

    /// Whether the alarm is in ALARM after a period with `k` matching and `n` other events,
    /// following a period that put it in ALARM.
    fn in_alarm(
        statistic: &str,
        operator: &str,
        threshold: f64,
        value: f64,
        default: Option<f64>,
        treat: Option<&str>,
        (k, n): (usize, usize),
    ) -> bool {
        let mut points = vec![value; k];
        if let Some(d) = default {
            points.extend(std::iter::repeat_n(d, n));
        }
        match simulate(statistic, &points) {
            None => matches!(treat, Some("breaching" | "ignore")),
            Some(x) => match operator {
                "GreaterThanOrEqualToThreshold" => x >= threshold,
                "GreaterThanThreshold" => x > threshold,
                "LessThanThreshold" => x < threshold,
                "LessThanOrEqualToThreshold" => x <= threshold,
                _ => unreachable!(),
            },
        }
    }

    use proptest::prelude::*;
    use proptest::sample::select;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(4000))]
        #[test]
        fn a_firing_verdict_agrees_with_simulation(
            statistic in select(vec!["Sum", "SampleCount", "Average", "Minimum", "Maximum"]),
            operator in select(vec![GE, GT, LT, LE]),
            threshold in -8i32..=8,
            value in -6i32..=6,
            default in proptest::option::of(-6i32..=6),
            treat in proptest::option::of(select(vec!["missing", "notBreaching", "breaching", "ignore"])),
        ) {
            let (threshold, value) = (f64::from(threshold) / 2.0, f64::from(value) / 2.0);
            let default = default.map(|d| f64::from(d) / 2.0);
            let mut a = alarm(statistic, operator, threshold);
            a.treat_missing_data = treat.map(str::to_string);
            let verdict = check(&filter(&number(value), default), &a);
            let sim = |kn| in_alarm(statistic, operator, threshold, value, default, treat, kn);
            if verdict == Firing::Fires {
                for k in 1..=5 {
                    for n in 0..=5 {
                        prop_assert!(sim((k, n)), "k={k} n={n}");
                    }
                }
                for n in 1..=5 {
                    prop_assert!(!sim((0, n)), "k=0 n={n}");
                }
            } else {
                // Every verdict but Fires names the arithmetic; one event alone failing is
                // unreachable.
                prop_assert!(!message(&verdict).is_empty());
                if !sim((1, 0)) {
                    prop_assert_eq!(code(&verdict), "alarm_threshold_unreachable");
                }
            }
        }
    }
}
