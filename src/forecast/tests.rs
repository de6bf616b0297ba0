use super::*;

const DAY: i64 = MS_PER_DAY;
/// 2026-11-01T00:00:00Z.
const NOV_1: i64 = 1_793_491_200_000;

fn control(id: &str) -> Control {
    let catalog = crate::catalog::load_builtin("cis-7.0").unwrap();
    catalog.controls.into_iter().find(|c| c.id == id).unwrap()
}

fn event(at: i64, name: &str, arn: Option<&str>, ip: &str) -> Event {
    let identity = match arn {
        Some(arn) => serde_json::json!({"type": "IAMUser", "arn": arn}),
        None => serde_json::json!({"type": "AWSService"}),
    };
    let record = serde_json::json!({
        "eventName": name, "userIdentity": identity, "sourceIPAddress": ip
    });
    Event {
        timestamp_ms: at,
        message: record.to_string(),
    }
}

fn alarm(statistic: &str, period: i32, threshold: f64, operator: &str, n: i32) -> AlarmSpec {
    AlarmSpec {
        statistic: statistic.into(),
        period,
        threshold,
        comparison_operator: operator.into(),
        evaluation_periods: n,
    }
}

#[test]
fn days_cover_the_window_and_count_zeros() {
    let window = Window {
        start_ms: NOV_1 + 3_600_000,
        end_ms: NOV_1 + 2 * DAY + 60_000,
    };
    assert_eq!(window.days(), ["2026-11-01", "2026-11-02", "2026-11-03"]);
    let control = control("5.1");
    let mut tally = Tally::new(&control.alarm);
    for at in [NOV_1 + 7_200_000, NOV_1 + 7_300_000, NOV_1 + 2 * DAY] {
        tally.add(&event(
            at,
            "GetObject",
            Some("arn:aws:iam::1:user/a"),
            "203.0.113.7",
        ));
    }
    let forecast = control_forecast(&control, &tally, &window, Ending::Complete, 3);
    let days: Vec<(String, u64)> = forecast
        .per_day
        .iter()
        .map(|d| (d.date.clone(), d.matches))
        .collect();
    assert_eq!(
        days,
        [
            ("2026-11-01".to_string(), 2),
            ("2026-11-02".to_string(), 0),
            ("2026-11-03".to_string(), 1)
        ]
    );
    assert_eq!(
        (forecast.matches, forecast.complete, forecast.pages),
        (3, true, 3)
    );
    // Two events in one 5-minute period, one in another: two periods, two episodes.
    assert_eq!(forecast.alarm.periods_in_alarm, 2);
    assert_eq!(forecast.alarm.alarm_episodes, 2);
    assert_eq!(forecast.alarm.busiest_period, 2);
}

#[test]
fn the_top_values_are_the_most_frequent_with_ties_by_value() {
    let control = control("5.1");
    let mut tally = Tally::new(&control.alarm);
    let who = |n: usize| format!("arn:aws:iam::1:user/u{n}");
    for n in 0..7 {
        for _ in 0..=n {
            tally.add(&event(
                NOV_1,
                &format!("Op{n}"),
                Some(&who(n)),
                "198.51.100.1",
            ));
        }
    }
    tally.add(&event(NOV_1, "Op0", None, "198.51.100.2"));
    tally.add(&Event {
        timestamp_ms: NOV_1,
        message: "not JSON".into(),
    });
    let window = Window {
        start_ms: NOV_1,
        end_ms: NOV_1 + 1,
    };
    let forecast = control_forecast(&control, &tally, &window, Ending::Complete, 1);
    assert_eq!(forecast.matches, 28 + 2);
    let names: Vec<(&str, u64)> = forecast
        .top
        .event_names
        .iter()
        .map(|c| (c.value.as_str(), c.count))
        .collect();
    assert_eq!(
        names,
        [("Op6", 7), ("Op5", 6), ("Op4", 5), ("Op3", 4), ("Op2", 3)]
    );
    assert_eq!(forecast.top.identities.len(), TOP);
    assert_eq!(forecast.top.identities[0].value, who(6));
    let ips: Vec<(&str, u64)> = forecast
        .top
        .source_ips
        .iter()
        .map(|c| (c.value.as_str(), c.count))
        .collect();
    assert_eq!(ips, [("198.51.100.1", 28), ("198.51.100.2", 1)]);
    // An event without an ARN is named by its identity type.
    let mut service = Tally::new(&control.alarm);
    service.add(&event(NOV_1, "Op", None, "x"));
    let forecast = control_forecast(&control, &service, &window, Ending::Complete, 1);
    assert_eq!(forecast.top.identities[0].value, "AWSService");
}

#[test]
fn the_alarm_is_replayed_with_the_controls_settings() {
    let period = |n: i64| n * 300_000;
    let counts = |spec: &AlarmSpec, at: &[i64]| {
        let mut tally = Tally::new(spec);
        for &t in at {
            tally.add(&event(t, "X", None, "x"));
        }
        let per_period = tally.per_period.clone();
        alarm_forecast(spec, "1", &per_period)
    };
    // Periods 0, 1, 2 busy (3, 1, 2 events), 3 empty, 4 busy (1 event).
    let at = [
        period(0),
        period(0) + 1,
        period(0) + 2,
        period(1),
        period(2),
        period(2) + 5,
        period(4),
    ];
    let one = counts(
        &alarm("Sum", 300, 1.0, "GreaterThanOrEqualToThreshold", 1),
        &at,
    );
    assert_eq!(
        (one.periods_in_alarm, one.alarm_episodes, one.busiest_period),
        (4, 2, 3)
    );
    let two = counts(
        &alarm("Sum", 300, 2.0, "GreaterThanOrEqualToThreshold", 1),
        &at,
    );
    assert_eq!((two.periods_in_alarm, two.alarm_episodes), (2, 2));
    let over = counts(&alarm("Sum", 300, 2.0, "GreaterThanThreshold", 1), &at);
    assert_eq!((over.periods_in_alarm, over.alarm_episodes), (1, 1));
    // Two periods in a row needed: periods 1 and 2 (after 0 and 1); 4 has no busy neighbour.
    let pair = counts(
        &alarm("Sum", 300, 1.0, "GreaterThanOrEqualToThreshold", 2),
        &at,
    );
    assert_eq!((pair.periods_in_alarm, pair.alarm_episodes), (2, 1));
    // A longer period folds them together: 0-2 in one 15-minute period, 4 in the next.
    let long = counts(
        &alarm("Sum", 900, 4.0, "GreaterThanOrEqualToThreshold", 1),
        &at,
    );
    assert_eq!((long.periods_in_alarm, long.busiest_period), (1, 6));
    // The average of a constant 1 never exceeds 1.
    let average = counts(&alarm("Average", 300, 1.0, "GreaterThanThreshold", 1), &at);
    assert_eq!(average.periods_in_alarm, 0);
    let none = counts(
        &alarm("Sum", 300, 1.0, "GreaterThanOrEqualToThreshold", 1),
        &[],
    );
    assert_eq!((none.periods_in_alarm, none.busiest_period), (0, 0));
}

#[test]
fn a_stopped_scan_says_so() {
    let control = control("5.1");
    let tally = Tally::new(&control.alarm);
    let window = Window {
        start_ms: NOV_1,
        end_ms: NOV_1 + DAY,
    };
    let ending = Ending::Stopped("--max-events 10".into());
    let forecast = control_forecast(&control, &tally, &window, ending, 2);
    assert!(!forecast.complete);
    assert_eq!(forecast.stopped.as_deref(), Some("--max-events 10"));
    let json = serde_json::to_value(&forecast).unwrap();
    assert_eq!(json["complete"], false);
}

#[test]
fn retention_and_size_are_said_before_the_figures() {
    let now = NOV_1 + 30 * DAY;
    let mut group = LogGroup {
        account_id: "111122223333".into(),
        region: "us-east-1".into(),
        name: "trail".into(),
        trails: vec!["main".into()],
        organization: false,
        retention_days: Some(7),
        stored_bytes: Some(70_000_000_000),
        estimated_scan_bytes: None,
    };
    let window = Window {
        start_ms: now - 14 * DAY,
        end_ms: now,
    };
    group.estimate(&window, now);
    // The window covers all 7 kept days: all the stored bytes.
    assert_eq!(group.estimated_scan_bytes, Some(70_000_000_000));
    let notes = notes(&group, &window, now);
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(notes[0].contains("retention (7 days)"), "{}", notes[0]);
    assert!(notes[0].contains("2026-11-24"), "{}", notes[0]);
    assert!(notes[1].contains("pattern sql"), "{}", notes[1]);
    let short = Window {
        start_ms: now - DAY,
        end_ms: now,
    };
    group.estimate(&short, now);
    assert_eq!(group.estimated_scan_bytes, Some(10_000_000_000));
    assert!(super::notes(&group, &short, now).is_empty());
    group.retention_days = None;
    group.estimate(&short, now);
    assert_eq!(group.estimated_scan_bytes, Some(70_000_000_000));
}

#[test]
fn times_are_rfc3339() {
    assert_eq!(rfc3339(NOV_1), "2026-11-01T00:00:00Z");
}
