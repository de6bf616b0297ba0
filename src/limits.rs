//! The limits AWS documents for the values cis-fix sends, as data, in one place.
//!
//! A value over one of these is refused by AWS when the call is made, which for an apply is
//! half-way through. So every value cis-fix sends is checked against them before any call:
//! a catalog's values and what cis-fix derives from them when the catalog is loaded
//! (`catalog::check`), the options' values when they are parsed (`audit::options`).
//!
//! Sources: the API references (Length Constraints, Pattern, Valid Values), which are AWS's
//! service models as botocore ships them (`botocore/data/*/service-2.json`, read to confirm):
//! - CloudWatch Logs `PutMetricFilter` (`logGroupName`, `filterName`, `filterPattern`) and
//!   `MetricTransformation` (`metricName`, `metricNamespace`, `metricValue`);
//! - CloudWatch `PutMetricAlarm` (`AlarmName`, `AlarmDescription`, `MetricName`, `Namespace`,
//!   `Period`, `EvaluationPeriods`, `Statistic`, `ComparisonOperator`), `SetAlarmState`
//!   (`StateReason`) and `Tag` (`Key`, `Value`);
//! - SNS `CreateTopic` (`Name`: "between 1 and 256 characters", ASCII letters, numbers,
//!   `_` and `-`), `Tag` (`Key`, `Value`) and `TagLimitExceeded` ("Can't add more than 50
//!   tags to a topic");
//! - KMS `DescribeKey` (`KeyId`, which `CreateTopic`'s `KmsMasterKeyId` takes) and
//!   `CreateAlias` (`AliasName`).
//!
//! This module imports nothing from the crate, so that every layer can use it.

/// A string parameter of an AWS call, and what its API reference allows.
#[derive(Debug, Clone, Copy)]
pub struct TextLimit {
    /// The call, as IAM names it: `logs:PutMetricFilter`.
    pub call: &'static str,
    /// The parameter, as the API reference names it: `filterPattern`.
    pub parameter: &'static str,
    pub min: usize,
    pub max: usize,
    /// Characters the documented pattern excludes anywhere (`[^:*$]*` excludes `:*$`).
    pub forbidden: &'static str,
    /// Characters it excludes as the first one (`[^:].*` excludes a leading `:`).
    pub forbidden_first: &'static str,
    /// The only characters it allows, when its pattern is a set (SNS topic names).
    pub only: Option<Allowed>,
    /// The documented pattern, quoted in errors.
    pub pattern: &'static str,
}

/// A set of allowed characters, and how an error describes it.
#[derive(Debug, Clone, Copy)]
pub struct Allowed {
    pub test: fn(char) -> bool,
    pub described: &'static str,
}

const ANY: TextLimit = TextLimit {
    call: "",
    parameter: "",
    min: 0,
    max: usize::MAX,
    forbidden: "",
    forbidden_first: "",
    only: None,
    pattern: "",
};

// ---- CloudWatch Logs: PutMetricFilter ----------------------------------------------------

/// `filterPattern`: length 0 to 1024.
pub const FILTER_PATTERN: TextLimit = TextLimit {
    call: "logs:PutMetricFilter",
    parameter: "filterPattern",
    max: 1024,
    ..ANY
};
/// `filterName`: length 1 to 512, pattern `[^:*]*`.
pub const FILTER_NAME: TextLimit = TextLimit {
    call: "logs:PutMetricFilter",
    parameter: "filterName",
    min: 1,
    max: 512,
    forbidden: ":*",
    pattern: "[^:*]*",
    ..ANY
};
/// `logGroupName`: length 1 to 512 (pattern `[\.\-_/#A-Za-z0-9]+`). cis-fix does not choose
/// log group names; the longest one is where a derived value is at its longest.
pub const LOG_GROUP_NAME: TextLimit = TextLimit {
    call: "logs:PutMetricFilter",
    parameter: "logGroupName",
    min: 1,
    max: 512,
    ..ANY
};
/// `MetricTransformation.metricName`: length up to 255, pattern `[^:*$]*`.
pub const FILTER_METRIC_NAME: TextLimit = TextLimit {
    call: "logs:PutMetricFilter",
    parameter: "metricName",
    max: 255,
    forbidden: ":*$",
    pattern: "[^:*$]*",
    ..ANY
};
/// `MetricTransformation.metricNamespace`: length up to 255, pattern `[^:*$]*`.
pub const FILTER_METRIC_NAMESPACE: TextLimit = TextLimit {
    call: "logs:PutMetricFilter",
    parameter: "metricNamespace",
    max: 255,
    forbidden: ":*$",
    pattern: "[^:*$]*",
    ..ANY
};
/// `MetricTransformation.metricValue`: length up to 100.
pub const METRIC_VALUE: TextLimit = TextLimit {
    call: "logs:PutMetricFilter",
    parameter: "metricValue",
    max: 100,
    ..ANY
};

// ---- CloudWatch: PutMetricAlarm, SetAlarmState, Tag --------------------------------------

/// `AlarmName`: length 1 to 255.
pub const ALARM_NAME: TextLimit = TextLimit {
    call: "cloudwatch:PutMetricAlarm",
    parameter: "AlarmName",
    min: 1,
    max: 255,
    ..ANY
};
/// `AlarmDescription`: length 0 to 1024.
pub const ALARM_DESCRIPTION: TextLimit = TextLimit {
    call: "cloudwatch:PutMetricAlarm",
    parameter: "AlarmDescription",
    max: 1024,
    ..ANY
};
/// `MetricName`: length 1 to 255.
pub const ALARM_METRIC_NAME: TextLimit = TextLimit {
    call: "cloudwatch:PutMetricAlarm",
    parameter: "MetricName",
    min: 1,
    max: 255,
    ..ANY
};
/// `Namespace`: length 1 to 255, pattern `[^:].*`.
pub const ALARM_NAMESPACE: TextLimit = TextLimit {
    call: "cloudwatch:PutMetricAlarm",
    parameter: "Namespace",
    min: 1,
    max: 255,
    forbidden_first: ":",
    pattern: "[^:].*",
    ..ANY
};
/// `Tag.Key`: length 1 to 128.
pub const ALARM_TAG_KEY: TextLimit = TextLimit {
    call: "cloudwatch:PutMetricAlarm",
    parameter: "Tags.Key",
    min: 1,
    max: 128,
    ..ANY
};
/// `Tag.Value`: length 0 to 256.
pub const ALARM_TAG_VALUE: TextLimit = TextLimit {
    call: "cloudwatch:PutMetricAlarm",
    parameter: "Tags.Value",
    max: 256,
    ..ANY
};
/// `SetAlarmState`'s `StateReason` (the drill's): length 0 to 1023.
pub const STATE_REASON: TextLimit = TextLimit {
    call: "cloudwatch:SetAlarmState",
    parameter: "StateReason",
    max: 1023,
    ..ANY
};

/// `Statistic`'s valid values.
pub const STATISTICS: &[&str] = &["SampleCount", "Average", "Sum", "Minimum", "Maximum"];
/// `ComparisonOperator`'s valid values for a static threshold (the other three are for
/// anomaly detection bands, which cis-fix does not create).
pub const COMPARISON_OPERATORS: &[&str] = &[
    "GreaterThanOrEqualToThreshold",
    "GreaterThanThreshold",
    "LessThanThreshold",
    "LessThanOrEqualToThreshold",
];
/// `Period`: "Valid values are 10, 20, 30, and any multiple of 60."
pub const PERIODS_UNDER_A_MINUTE: &[i32] = &[10, 20, 30];
pub const PERIOD_MULTIPLE: i32 = 60;
/// `EvaluationPeriods`: at least 1.
pub const EVALUATION_PERIODS_MIN: i32 = 1;
/// `Period` × `EvaluationPeriods`: "can't be more than 604,800 seconds. For alarms with a
/// period of less than one hour (3,600 seconds), the total evaluation period can't be longer
/// than one day (86,400 seconds)."
pub const EVALUATION_WINDOW_MAX: i64 = 604_800;
pub const EVALUATION_WINDOW_MAX_SHORT: i64 = 86_400;
pub const SHORT_PERIOD_BELOW: i64 = 3_600;

// ---- SNS: CreateTopic, Tag; KMS key references --------------------------------------------

/// `CreateTopic`'s `Name`: 1 to 256 ASCII letters, digits, `_` and `-`.
pub const TOPIC_NAME: TextLimit = TextLimit {
    call: "sns:CreateTopic",
    parameter: "Name",
    min: 1,
    max: 256,
    only: Some(Allowed {
        test: |c| c.is_ascii_alphanumeric() || c == '-' || c == '_',
        described: "letters, digits, `-` or `_`",
    }),
    ..ANY
};
/// `Tag.Key`: length 1 to 128.
pub const TOPIC_TAG_KEY: TextLimit = TextLimit {
    call: "sns:CreateTopic",
    parameter: "Tags.Key",
    min: 1,
    max: 128,
    ..ANY
};
/// `Tag.Value`: length 0 to 256.
pub const TOPIC_TAG_VALUE: TextLimit = TextLimit {
    call: "sns:CreateTopic",
    parameter: "Tags.Value",
    max: 256,
    ..ANY
};
/// "Can't add more than 50 tags to a topic" (`TagLimitExceeded`).
pub const TOPIC_TAGS_MAX: usize = 50;
/// KMS `KeyId` (a key id, key ARN, alias name or alias ARN): length 1 to 2048.
pub const KMS_KEY_ID: TextLimit = TextLimit {
    call: "sns:CreateTopic",
    parameter: "Attributes.KmsMasterKeyId",
    min: 1,
    max: 2048,
    ..ANY
};
/// KMS `AliasName` (with its `alias/` prefix): 1 to 256 letters, digits, `/`, `_` and `-`.
pub const KMS_ALIAS_NAME: TextLimit = TextLimit {
    call: "kms:CreateAlias",
    parameter: "AliasName",
    min: 1,
    max: 256,
    only: Some(Allowed {
        test: |c| c.is_ascii_alphanumeric() || matches!(c, '/' | '_' | '-'),
        described: "letters, digits, `/`, `_` or `-`",
    }),
    ..ANY
};

// ---- EventBridge: PutRule ------------------------------------------------------------------
// The events service model (botocore `events/2015-10-07/service-2.json`): `EventPattern`
// max 4096; `RuleName` 1 to 64 of `[\.\-_A-Za-z0-9]+`.

/// `EventPattern`: at most 4,096 characters.
pub const EVENT_PATTERN: TextLimit = TextLimit {
    call: "events:PutRule",
    parameter: "EventPattern",
    max: 4096,
    ..ANY
};
/// `Name`: 1 to 64 letters, digits, `.`, `-` and `_`.
pub const RULE_NAME: TextLimit = TextLimit {
    call: "events:PutRule",
    parameter: "Name",
    min: 1,
    max: 64,
    only: Some(Allowed {
        test: |c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'),
        described: "letters, digits, `.`, `-` or `_`",
    }),
    ..ANY
};

/// A value's length as AWS counts it. The references give lengths in characters; this counts
/// UTF-16 code units, which is never fewer than characters and is what a Java service's
/// `String.length()` counts, so that a value accepted here is accepted there under either
/// reading. (For the ASCII that cis-fix's own values are made of, all readings agree.)
pub fn length(value: &str) -> usize {
    value.encode_utf16().count()
}

/// The longest prefix of `text` whose [`length`] is at most `max`.
pub fn truncate(text: &str, max: usize) -> &str {
    let mut used = 0;
    for (at, c) in text.char_indices() {
        used += c.len_utf16();
        if used > max {
            return text.get(..at).unwrap_or_default();
        }
    }
    text
}

impl TextLimit {
    /// What AWS would refuse in `value`, as a phrase that follows the value's name: "is 1025
    /// characters; logs:PutMetricFilter's filterPattern takes at most 1024 characters".
    pub fn check(&self, value: &str) -> Result<(), String> {
        let length = length(value);
        let name = format!("{}'s {}", self.call, self.parameter);
        if length > self.max || length < self.min {
            let range = if self.min == 0 {
                format!("at most {}", self.max)
            } else {
                format!("{} to {}", self.min, self.max)
            };
            let what = self.only.map_or("characters", |o| o.described);
            return Err(format!(
                "is {length} characters; {name} takes {range} {what}"
            ));
        }
        if let Some(c) = value.chars().find(|c| self.forbidden.contains(*c)) {
            return Err(format!(
                "contains `{c}`; {name} must match {} (no {})",
                self.pattern,
                quoted(self.forbidden)
            ));
        }
        if let Some(c) = value
            .chars()
            .next()
            .filter(|c| self.forbidden_first.contains(*c))
        {
            return Err(format!(
                "starts with `{c}`; {name} must match {} (no {} first)",
                self.pattern,
                quoted(self.forbidden_first)
            ));
        }
        match self.only {
            Some(only) if !value.chars().all(only.test) => Err(format!(
                "has characters other than {}, which is all {name} takes",
                only.described
            )),
            _ => Ok(()),
        }
    }
}

/// `:*$` as "`:`, `*` or `$`".
fn quoted(chars: &str) -> String {
    let each: Vec<String> = chars.chars().map(|c| format!("`{c}`")).collect();
    match each.split_last() {
        Some((last, rest)) if !rest.is_empty() => format!("{} or {last}", rest.join(", ")),
        _ => each.concat(),
    }
}

/// `Period`: 10, 20, 30 or a multiple of 60 seconds.
pub fn period_ok(period: i32) -> bool {
    PERIODS_UNDER_A_MINUTE.contains(&period) || (period > 0 && period % PERIOD_MULTIPLE == 0)
}

/// The longest `Period` × `EvaluationPeriods` AWS takes for an alarm of this period, seconds.
pub fn evaluation_window_max(period: i32) -> i64 {
    if i64::from(period) < SHORT_PERIOD_BELOW {
        EVALUATION_WINDOW_MAX_SHORT
    } else {
        EVALUATION_WINDOW_MAX
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_at_the_limit_pass_and_one_over_fails() {
        assert!(FILTER_PATTERN.check(&"a".repeat(1024)).is_ok());
        assert!(FILTER_PATTERN.check("").is_ok());
        let err = FILTER_PATTERN.check(&"a".repeat(1025)).unwrap_err();
        assert_eq!(
            err,
            "is 1025 characters; logs:PutMetricFilter's filterPattern takes at most 1024 characters"
        );
        let err = ALARM_METRIC_NAME.check("").unwrap_err();
        assert_eq!(
            err,
            "is 0 characters; cloudwatch:PutMetricAlarm's MetricName takes 1 to 255 characters"
        );
    }

    #[test]
    fn patterns_refuse_their_characters() {
        let err = FILTER_METRIC_NAMESPACE.check("Sec*rity").unwrap_err();
        assert_eq!(
            err,
            "contains `*`; logs:PutMetricFilter's metricNamespace must match [^:*$]* (no `:`, `*` or `$`)"
        );
        assert!(FILTER_METRIC_NAMESPACE.check("Security/CIS").is_ok());
        let err = ALARM_NAMESPACE.check(":x").unwrap_err();
        assert_eq!(
            err,
            "starts with `:`; cloudwatch:PutMetricAlarm's Namespace must match [^:].* (no `:` first)"
        );
        assert!(ALARM_NAMESPACE.check("x:y").is_ok());
        assert!(FILTER_NAME.check("cis-fix-a$b").is_ok());
        assert!(FILTER_NAME.check("a:b").is_err());
        let err = TOPIC_NAME.check("x.fifo").unwrap_err();
        assert_eq!(
            err,
            "has characters other than letters, digits, `-` or `_`, which is all sns:CreateTopic's Name takes"
        );
        assert!(TOPIC_NAME.check(&"a".repeat(256)).is_ok());
        assert!(TOPIC_NAME.check(&"a".repeat(257)).is_err());
    }

    #[test]
    fn lengths_count_utf16_units_and_truncation_respects_them() {
        assert_eq!(length("abc"), 3);
        assert_eq!(length("é"), 1);
        // Outside the Basic Multilingual Plane: one character, two UTF-16 units.
        assert_eq!(length("𝄞"), 2);
        assert_eq!(truncate("ab𝄞c", 3), "ab");
        assert_eq!(truncate("ab𝄞c", 4), "ab𝄞");
        assert_eq!(truncate("abc", 10), "abc");
        assert_eq!(truncate("abc", 0), "");
    }

    #[test]
    fn periods_and_their_windows() {
        for ok in [10, 20, 30, 60, 300, 86_400] {
            assert!(period_ok(ok), "{ok}");
        }
        for bad in [0, -60, 1, 15, 45, 90, 61] {
            assert!(!period_ok(bad), "{bad}");
        }
        assert_eq!(evaluation_window_max(3_540), 86_400);
        assert_eq!(evaluation_window_max(3_600), 604_800);
    }
}
