//! `--since` / `--until`: a moment given as a date, an RFC 3339 time or a duration back from
//! now, the same syntax for `pattern test` and `forecast`.

/// `--since`: a date is its midnight (UTC).
pub fn parse_since(text: &str) -> std::result::Result<time::OffsetDateTime, String> {
    when(text, false)
}

/// `--until`: a date is the end of that day.
pub fn parse_until(text: &str) -> std::result::Result<time::OffsetDateTime, String> {
    when(text, true)
}

/// A date (`2026-11-01`), an RFC 3339 time, or a duration back from now (`7d`, `12h`).
fn when(text: &str, end_of_day: bool) -> std::result::Result<time::OffsetDateTime, String> {
    let rfc3339 = time::format_description::well_known::Rfc3339;
    if let Ok(time) = time::OffsetDateTime::parse(text, &rfc3339) {
        return Ok(time);
    }
    // A date is its midnight in UTC, as CloudTrail's paths and times are.
    let midnight = time::OffsetDateTime::parse(&format!("{text}T00:00:00Z"), &rfc3339);
    if let Ok(date) = midnight.map(|t| t.date()) {
        let day = if end_of_day {
            date.next_day()
        } else {
            Some(date)
        };
        return day
            .map(|d| d.midnight().assume_utc())
            .ok_or_else(|| format!("`{text}` is out of range"));
    }
    let ago = humantime::parse_duration(text).map_err(|_| {
        format!("`{text}` is not a date (2026-11-01), an RFC 3339 time or a duration (7d, 12h)")
    })?;
    let ago = time::Duration::try_from(ago).map_err(|e| format!("`{text}`: {e}"))?;
    time::OffsetDateTime::now_utc()
        .checked_sub(ago)
        .ok_or_else(|| format!("`{text}` reaches too far back"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn since_and_until_take_dates_times_and_durations() {
        let day = |text| when(text, false).unwrap();
        assert_eq!(
            day("2026-11-01").to_string(),
            "2026-11-01 0:00:00.0 +00:00:00"
        );
        let end = when("2026-11-01", true).unwrap();
        assert_eq!(end.to_string(), "2026-11-02 0:00:00.0 +00:00:00");
        let time = day("2026-11-01T10:30:00+02:00");
        assert_eq!(
            time.unix_timestamp(),
            day("2026-11-01T08:30:00Z").unix_timestamp()
        );
        let ago = time::OffsetDateTime::now_utc() - day("7d");
        assert!(
            (ago - time::Duration::days(7)).abs() < time::Duration::minutes(1),
            "{ago}"
        );
        assert!((time::OffsetDateTime::now_utc() - day("12h")) > time::Duration::hours(11));
        let err = when("last tuesday", false).unwrap_err();
        assert!(err.contains("is not a date (2026-11-01)"), "{err}");
        assert!(when("2026-13-01", false).is_err());
    }
}
