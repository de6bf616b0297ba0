//! Format version 2: a control's `[control.watch_rule]`, a second path for its notification
//! that does not go through the metric chain (an EventBridge rule on CloudTrail's management
//! events, notifying a topic of its own: docs/hardened.md, "A second path").
//!
//! Checked as the catalog loads, like every value cis-fix sends: the event pattern is JSON of
//! the shape EventBridge takes and within `PutRule`'s limit, and the rule name cis-fix derives
//! from the slug is one `PutRule` accepts.

use serde::Deserialize;
use toml::Spanned;

use super::ControlCtx;
use crate::error::Result;
use crate::limits;
use crate::ownership;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub(super) struct WatchRuleSchema {
    event_pattern: Spanned<String>,
}

/// A control's EventBridge rule, as catalog data.
#[derive(Debug, Clone, PartialEq)]
pub struct WatchRule {
    /// The event pattern as written: what `PutRule` is sent.
    pub event_pattern_text: String,
    /// The same, parsed: a rule's pattern is compared as JSON, since EventBridge may return
    /// it with other spacing or key order than it was sent.
    pub event_pattern: serde_json::Value,
}

impl WatchRule {
    /// Whether a rule's pattern, as `ListRules` returns it, is this one. Unparsable text is
    /// not (it cannot be the pattern cis-fix sent).
    pub fn same_pattern(&self, text: &str) -> bool {
        serde_json::from_str::<serde_json::Value>(text).is_ok_and(|v| v == self.event_pattern)
    }
}

/// The control's watch rule, if it has one: refused in a version 1 file; the pattern valid,
/// within limits, and the rule name within `PutRule`'s.
pub(super) fn read(
    ctx: &ControlCtx,
    version: u32,
    slug: &str,
    schema: &Option<Spanned<WatchRuleSchema>>,
) -> Result<Option<WatchRule>> {
    let Some(schema) = schema else {
        return Ok(None);
    };
    if version < 2 {
        return Err(ctx.err(
            schema.span().start,
            "watch_rule",
            "needs format_version = 2; the file says 1",
        ));
    }
    let text = &schema.get_ref().event_pattern;
    super::check::text(
        ctx,
        "watch_rule.event_pattern",
        text,
        &[limits::EVENT_PATTERN],
    )?;
    let value = parse_pattern(ctx, text)?;
    let name = ownership::watch_rule_name(slug);
    limits::RULE_NAME.check(&name).map_err(|problem| {
        ctx.err(
            schema.span().start,
            "watch_rule",
            format!("the rule name `{name}` {problem}; a shorter slug makes it fit"),
        )
    })?;
    Ok(Some(WatchRule {
        event_pattern_text: text.get_ref().clone(),
        event_pattern: value,
    }))
}

/// The pattern as JSON, an error pointing at the line inside the string where it went wrong.
fn parse_pattern(ctx: &ControlCtx, text: &Spanned<String>) -> Result<serde_json::Value> {
    let field = "watch_rule.event_pattern";
    let start = text.span().start;
    let body = start + super::string_body_offset(ctx.src.text, start);
    let value: serde_json::Value = serde_json::from_str(text.get_ref()).map_err(|e| {
        let at = body + offset_of(text.get_ref(), e.line(), e.column());
        ctx.err(at, field, format!("invalid JSON: {e}"))
    })?;
    shape(&value, "").map_err(|problem| ctx.err(start, field, problem))?;
    Ok(value)
}

/// EventBridge's shape: an object whose every leaf is a non-empty array of match values
/// (EventBridge User Guide, "Creating event patterns": "the values they match are in arrays").
/// A pattern of any other shape is refused by `PutRule` as InvalidEventPatternException.
fn shape(value: &serde_json::Value, path: &str) -> std::result::Result<(), String> {
    let serde_json::Value::Object(fields) = value else {
        return Err(match path {
            "" => "must be a JSON object".into(),
            _ => format!("`{path}` must be an object or an array of values"),
        });
    };
    if fields.is_empty() {
        return Err(match path {
            "" => "must not be empty: it would match no event".into(),
            _ => format!("`{path}` is an empty object"),
        });
    }
    for (key, field) in fields {
        let here = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        match field {
            serde_json::Value::Array(values) if values.is_empty() => {
                return Err(format!(
                    "`{here}` is an empty array: it would match nothing"
                ))
            }
            serde_json::Value::Array(_) => {}
            other => shape(other, &here)?,
        }
    }
    Ok(())
}

/// The byte offset of serde_json's 1-based `line` and `column` in `text`.
fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let before: usize = text
        .split_inclusive('\n')
        .take(line.saturating_sub(1))
        .map(str::len)
        .sum();
    (before + column.saturating_sub(1)).min(text.len())
}

#[cfg(test)]
mod tests {
    use crate::catalog::parse;

    /// A format-2 catalog with one control and the given `[control.watch_rule]` body.
    fn catalog(version: u32, slug: &str, watch: &str) -> String {
        format!(
            r#"format_version = {version}
benchmark = "mine"
title = "Mine"
[defaults]
namespace = "Mine"
metric_value = "1"
statistic = "Sum"
period = 300
threshold = 1
comparison_operator = "GreaterThanOrEqualToThreshold"
evaluation_periods = 1
[[control]]
id = "M1"
slug = "{slug}"
title = "t"
level = 1
metric_name = "M1"
pattern = '{{ $.eventName = DeleteTopic }}'
{watch}
"#
        )
    }

    const GOOD: &str = r#"[control.watch_rule]
event_pattern = '''
{ "source": ["aws.sns"], "detail-type": ["AWS API Call via CloudTrail"],
  "detail": { "eventName": ["DeleteTopic"], "requestParameters": { "topicArn": [{ "prefix": "arn:" }] } } }
'''"#;

    #[test]
    fn a_watch_rule_is_read_and_compared_as_json() {
        let c = parse(&catalog(2, "mine", GOOD), "mine.toml").expect("loads");
        let rule = c.controls[0].watch_rule.as_ref().expect("has a rule");
        assert!(rule.same_pattern(
            r#"{"detail":{"requestParameters":{"topicArn":[{"prefix":"arn:"}]},"eventName":["DeleteTopic"]},"detail-type":["AWS API Call via CloudTrail"],"source":["aws.sns"]}"#
        ));
        assert!(!rule.same_pattern(r#"{"source":["aws.sns"]}"#));
        assert!(!rule.same_pattern("not json"));
    }

    #[test]
    fn a_version_1_file_may_not_have_one() {
        let err = parse(&catalog(1, "mine", GOOD), "mine.toml").unwrap_err();
        assert_eq!(
            err.to_string(),
            "invalid catalog mine.toml:line 19, column 1: control M1, field `watch_rule`: needs format_version = 2; the file says 1"
        );
    }

    #[test]
    fn invalid_json_points_at_its_line() {
        let bad = "[control.watch_rule]\nevent_pattern = '''\n{ \"source\": [\"aws.sns\"],\n  \"detail\": { \"eventName\": [\"DeleteTopic\" } }\n'''";
        let err = parse(&catalog(2, "mine", bad), "mine.toml").unwrap_err();
        let text = err.to_string();
        assert!(
            text.starts_with("invalid catalog mine.toml:line 22, column "),
            "points at the broken line: {text}"
        );
        assert!(
            text.contains("control M1, field `watch_rule.event_pattern`: invalid JSON"),
            "{text}"
        );
    }

    #[test]
    fn the_shape_is_eventbridges() {
        let cases = [
            (r#"'["aws.sns"]'"#, "must be a JSON object"),
            ("'{}'", "must not be empty"),
            (
                r#"'{"source": "aws.sns"}'"#,
                "`source` must be an object or an array",
            ),
            (r#"'{"source": []}'"#, "`source` is an empty array"),
            (r#"'{"detail": {}}'"#, "`detail` is an empty object"),
        ];
        for (pattern, problem) in cases {
            let watch = format!("[control.watch_rule]\nevent_pattern = {pattern}");
            let err = parse(&catalog(2, "mine", &watch), "mine.toml").unwrap_err();
            assert!(err.to_string().contains(problem), "{pattern}: {err}");
        }
    }

    #[test]
    fn the_pattern_and_the_rule_name_are_held_to_putrules_limits() {
        let long = format!(
            "[control.watch_rule]\nevent_pattern = '{{\"source\": [\"{}\"]}}'",
            "a".repeat(4096)
        );
        let err = parse(&catalog(2, "mine", &long), "mine.toml").unwrap_err();
        assert!(err.to_string().contains("4096"), "{err}");
        // cis-fix- (8) + slug + -watch (6): a 51-character slug is one too many.
        let slug = "s".repeat(51);
        let err = parse(&catalog(2, &slug, GOOD), "mine.toml").unwrap_err();
        assert!(
            err.to_string()
                .contains("field `watch_rule`: the rule name"),
            "{err}"
        );
        let slug = "s".repeat(50);
        assert!(parse(&catalog(2, &slug, GOOD), "mine.toml").is_ok());
    }

    #[test]
    fn only_h13_of_the_built_in_catalogs_has_one() {
        for name in crate::catalog::builtin_names() {
            let c = crate::catalog::load_builtin(name).expect("loads");
            let with: Vec<&str> = c
                .controls
                .iter()
                .filter(|c| c.watch_rule.is_some())
                .map(|c| c.id.as_str())
                .collect();
            let expected: &[&str] = if name == "hardened" { &["H13"] } else { &[] };
            assert_eq!(with, expected, "{name}");
        }
    }

    /// Every string in `value` under a key named `key`, at any depth.
    fn strings_under(value: &serde_json::Value, key: &str, out: &mut Vec<String>) {
        match value {
            serde_json::Value::Object(fields) => {
                for (k, v) in fields {
                    match v {
                        serde_json::Value::Array(items) if k == key => {
                            out.extend(items.iter().filter_map(|i| i.as_str().map(str::to_string)))
                        }
                        _ => strings_under(v, key, out),
                    }
                }
            }
            serde_json::Value::Array(items) => {
                items.iter().for_each(|i| strings_under(i, key, out))
            }
            _ => {}
        }
    }

    #[test]
    fn h13s_rule_watches_the_calls_its_filter_watches() {
        let catalog = crate::catalog::load_builtin("hardened").expect("loads");
        let h13 = catalog
            .controls
            .iter()
            .find(|c| c.id == "H13")
            .expect("H13");
        let rule = h13.watch_rule.as_ref().expect("H13 has a watch rule");
        let mut in_rule = Vec::new();
        strings_under(&rule.event_pattern, "eventName", &mut in_rule);
        in_rule.sort();
        let names = regex::Regex::new(r"\$\.eventName = (\w+)").expect("regex");
        let mut in_filter: Vec<String> = names
            .captures_iter(&h13.pattern_text)
            .map(|c| c[1].to_string())
            .collect();
        in_filter.sort();
        assert_eq!(in_rule, in_filter);
        let mut sources = Vec::new();
        strings_under(&rule.event_pattern, "eventSource", &mut sources);
        sources.sort();
        sources.dedup();
        assert_eq!(
            sources,
            [
                "events.amazonaws.com",
                "logs.amazonaws.com",
                "monitoring.amazonaws.com",
                "sns.amazonaws.com"
            ]
        );
    }
}
