//! The only code that writes to AWS: performing a plan's actions, a backout's removals, and
//! the report's import into Security Hub ([`security_hub`]).
//!
//! Everything cis-fix creates carries its marks from the call that creates it (see
//! [`crate::ownership`]), so an apply stopped part-way leaves nothing unmarked behind.

pub mod drill;
pub mod guard;
pub mod interrupt;
pub mod org_result;
pub mod progress;
pub mod result;
pub mod security_hub;

use std::collections::BTreeMap;
use std::io::Write;

use aws_sdk_cloudwatch::types::{ComparisonOperator, Statistic};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::audit::backout::{Removal, RemoveCall};
use crate::audit::{Action, AlarmCall, Call, FilterCall, RuleCall};
use crate::error::{Error, Result};
use crate::ownership;
use crate::pattern;
use crate::session::errors::aws_error;
use crate::session::Session;
pub use guard::Guard;
use interrupt::Deferral;
use progress::Progress;

/// What became of one call of a run.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Done,
    /// The call failed; the error as AWS (or cis-fix's own check) gave it.
    Failed(String),
    /// Not started: an earlier call failed, or Ctrl-C stopped the run.
    NotAttempted,
}

/// What a run of calls did: one outcome per call, in order, and why it stopped early.
#[derive(Debug)]
pub struct Run {
    pub outcomes: Vec<Outcome>,
    /// The failure or Ctrl-C that stopped the run, worded for the end of the run (how far it
    /// got, and how to carry on); `None` when every call was made.
    pub stop: Option<Error>,
}

impl Run {
    /// How many calls were made.
    pub fn done(&self) -> usize {
        self.outcomes
            .iter()
            .filter(|o| **o == Outcome::Done)
            .count()
    }

    /// Whether Ctrl-C stopped the run.
    pub fn interrupted(&self) -> bool {
        matches!(self.stop, Some(Error::Interrupted { .. }))
    }

    /// The number of calls made, or what stopped the run.
    pub fn into_result(self) -> Result<usize> {
        let done = self.done();
        match self.stop {
            Some(error) => Err(error),
            None => Ok(done),
        }
    }
}

/// The words of one kind of run: what a call does, and how to carry on after a stop.
struct Words {
    noun: &'static str,
    verb: &'static str,
    abandoned: &'static str,
    to_finish: &'static str,
}

const APPLY: Words = Words {
    noun: "change",
    verb: "made",
    abandoned: ABANDONED_APPLY,
    to_finish: TO_FINISH_APPLY,
};

const BACKOUT: Words = Words {
    noun: "resource",
    verb: "removed",
    abandoned: ABANDONED_BACKOUT,
    to_finish: TO_FINISH_BACKOUT,
};

/// How the per-call record lines read: as the plan's own lines do.
#[derive(Debug, Clone, Copy)]
pub struct Records<'a> {
    /// The (account, region) the run works in: there, topics go by name and the region
    /// without saying.
    pub home: Option<(&'a str, &'a str)>,
    /// Columns to wrap the lines to.
    pub width: usize,
    /// `--quiet`: no record lines, only the summary the caller prints.
    pub quiet: bool,
}

impl Default for Records<'_> {
    fn default() -> Self {
        Records {
            home: None,
            width: crate::render::layout::stdout_width(),
            quiet: false,
        }
    }
}

/// Performs the actions in order, writing each to `out` as it completes (`  + …: done`), with
/// a progress line on stderr when it is a terminal. Right before each, `guard` reads what it
/// writes to and refuses what is not cis-fix's to write. Ctrl-C lets the call in flight finish
/// and starts no other; a failed call or a refusal stops the run too.
pub async fn apply(
    session: &Session,
    guard: &Guard<'_>,
    actions: &[Action],
    records: Records<'_>,
    out: &mut dyn Write,
) -> Run {
    let labels: Vec<String> = actions
        .iter()
        .map(|a| {
            format!(
                "{} {}{}",
                sign(a),
                crate::render::describe_within(records.home, a, false),
                crate::render::control_suffix(a.control.as_deref())
            )
        })
        .collect();
    let calls = actions.iter().map(|action| async move {
        guard::check_action(session, guard, action).await?;
        perform(session, action).await
    });
    run(calls, &labels, records, out, &APPLY).await
}

/// Removes, in order, writing each to `out` as it completes (`  - …: done`). The guard, Ctrl-C
/// and failures as for [`apply`].
pub async fn remove(
    session: &Session,
    guard: &Guard<'_>,
    removals: &[Removal],
    records: Records<'_>,
    out: &mut dyn Write,
) -> Run {
    let labels: Vec<String> = removals
        .iter()
        .map(|r| {
            format!(
                "- {}{}",
                crate::render::describe_removal_within(records.home, r, false),
                crate::render::control_suffix(r.control.as_deref())
            )
        })
        .collect();
    let calls = removals.iter().map(|removal| async move {
        guard::check_removal(session, guard, removal).await?;
        perform_removal(session, removal).await
    });
    run(calls, &labels, records, out, &BACKOUT).await
}

/// Makes the calls one after the other. `labels` name them, one each, for the record lines
/// and the progress line (endpoints masked there: the bar is not the record).
async fn run<F>(
    calls: impl Iterator<Item = F>,
    labels: &[String],
    records: Records<'_>,
    out: &mut dyn Write,
    words: &Words,
) -> Run
where
    F: std::future::Future<Output = Result<()>>,
{
    let total = labels.len();
    let interrupt = Deferral::new(Some(STOPPING), Some(words.abandoned));
    let progress = Progress::new(total);
    let mut outcomes = vec![Outcome::NotAttempted; total];
    let mut stop = None;
    for ((index, call), label) in calls.enumerate().zip(labels) {
        if interrupt.requested() {
            stop = Some(Error::Interrupted {
                progress: progress_of(index, total, words.noun, words.verb),
                advice: words.to_finish,
            });
            break;
        }
        progress.start(index, label);
        let result = call.await;
        let Some(outcome) = outcomes.get_mut(index) else {
            break;
        };
        match result {
            Ok(()) => {
                *outcome = Outcome::Done;
                if !records.quiet {
                    let line = format!("  {label}: done\n");
                    progress.record(
                        out,
                        &crate::render::layout::wrap_lines(&line, records.width),
                    );
                }
            }
            Err(e) => {
                *outcome = Outcome::Failed(e.to_string());
                stop = Some(stopped(e, index, words));
                break;
            }
        }
    }
    // Off the screen before the caller says how the run ended. (A Ctrl-C during the last
    // call stops nothing: everything was made, so the run ends as a complete one.)
    drop(progress);
    Run { outcomes, stop }
}

const STOPPING: &str =
    "Interrupted: stopping once the call in flight completes (press Ctrl-C again to stop at once).";
const ABANDONED_APPLY: &str = "Stopped at once: the call in flight may or may not have been made. Every call is safe to repeat: run the same command again to finish, or `cis-fix backout` to remove what cis-fix created.";
const ABANDONED_BACKOUT: &str = "Stopped at once: the call in flight may or may not have been made. Every call is safe to repeat: run the same command again to remove the rest.";
const TO_FINISH_APPLY: &str =
    "run the same command again to finish, or `cis-fix backout` to remove what cis-fix created";
const TO_FINISH_BACKOUT: &str = "run the same command again to remove the rest";

/// "3 of 27 changes were made".
fn progress_of(done: usize, total: usize, noun: &str, verb: &str) -> String {
    format!(
        "{done} of {total} {noun}{} {} {verb}",
        if total == 1 { "" } else { "s" },
        if done == 1 { "was" } else { "were" }
    )
}

fn sign(action: &Action) -> &'static str {
    match action.mode {
        crate::audit::Mode::Create => "+",
        crate::audit::Mode::Change => "~",
    }
}

/// Says how far a run got when a call fails, and how to carry on.
fn stopped(error: Error, done: usize, words: &Words) -> Error {
    match error {
        Error::Aws {
            operation,
            region,
            message,
        } => Error::Aws {
            operation,
            region,
            message: format!("{message} ({})", so_far(done, words)),
        },
        Error::Refused { what, why } => Error::Refused {
            what,
            why: format!("{why} ({})", so_far(done, words)),
        },
        other => other,
    }
}

/// "3 changes were made before it; run the same command again to finish, …".
fn so_far(done: usize, words: &Words) -> String {
    format!(
        "{done} {}{} {} {} before it; {}",
        words.noun,
        if done == 1 { "" } else { "s" },
        if done == 1 { "was" } else { "were" },
        words.verb,
        words.to_finish
    )
}

async fn perform(session: &Session, action: &Action) -> Result<()> {
    let region = action.region.as_str();
    match &action.call {
        Call::CreateTopic {
            topic_name,
            topic_arn,
            tags,
            kms_master_key_id,
        } => {
            let key = kms_master_key_id.as_deref();
            create_topic(session, region, topic_name, topic_arn, tags, key).await
        }
        Call::Subscribe {
            topic_arn,
            protocol,
            endpoint,
        } => subscribe(session, region, topic_arn, protocol, endpoint).await,
        Call::PutMetricFilter(filter) => put_metric_filter(session, action, filter).await,
        Call::PutMetricAlarm(alarm) => put_metric_alarm(session, region, alarm).await,
        Call::PutRule(rule) => put_rule(session, region, rule).await,
        Call::PutTargets {
            rule_name,
            target_id,
            target_arn,
        } => put_targets(session, region, rule_name, target_id, target_arn).await,
        Call::SetTopicPolicy { topic_arn, policy } => session
            .sns(region)
            .set_topic_attributes()
            .topic_arn(topic_arn)
            .attribute_name("Policy")
            .attribute_value(policy)
            .send()
            .await
            .map(|_| ())
            .map_err(|e| aws_error("sns:SetTopicAttributes", region, e)),
    }
}

/// The watch rule, `ENABLED`, on the default bus, with its tags. `PutRule` does not apply
/// tags to a rule that exists (EventBridge API Reference, PutRule: "If you are updating an
/// existing rule, the tags are not changed"): a changed rule keeps the ones it was proven by.
async fn put_rule(session: &Session, region: &str, rule: &RuleCall) -> Result<()> {
    let mut put = session
        .events(region)
        .put_rule()
        .name(&rule.rule_name)
        .event_pattern(&rule.event_pattern)
        .description(&rule.description)
        .state(aws_sdk_eventbridge::types::RuleState::Enabled);
    for (key, value) in &rule.tags {
        let tag = aws_sdk_eventbridge::types::Tag::builder()
            .key(key)
            .value(value)
            .build()
            .map_err(|e| {
                Error::Usage(format!(
                    "invalid tag {key} for rule {}: {e}",
                    rule.rule_name
                ))
            })?;
        put = put.tags(tag);
    }
    let out = put
        .send()
        .await
        .map_err(|e| aws_error("events:PutRule", region, e))?;
    if out.rule_arn.as_deref() != Some(rule.rule_arn.as_str()) {
        return Err(Error::Aws {
            operation: "events:PutRule",
            region: Some(region.to_string()),
            message: format!(
                "put {} where the plan expected {} (the topic policy names that one)",
                out.rule_arn.unwrap_or_default(),
                rule.rule_arn
            ),
        });
    }
    Ok(())
}

/// The rule's one target, with no role: SNS takes the topic policy. PutTargets reports a
/// target it could not add in `FailedEntries`, not as an error, so that is checked.
async fn put_targets(
    session: &Session,
    region: &str,
    rule_name: &str,
    target_id: &str,
    target_arn: &str,
) -> Result<()> {
    let target = aws_sdk_eventbridge::types::Target::builder()
        .id(target_id)
        .arn(target_arn)
        .build()
        .map_err(|e| Error::Usage(format!("invalid target for rule {rule_name}: {e}")))?;
    let out = session
        .events(region)
        .put_targets()
        .rule(rule_name)
        .targets(target)
        .send()
        .await
        .map_err(|e| aws_error("events:PutTargets", region, e))?;
    match out.failed_entries.unwrap_or_default().first() {
        None => Ok(()),
        Some(failed) => Err(Error::Aws {
            operation: "events:PutTargets",
            region: Some(region.to_string()),
            message: format!(
                "{}: {}",
                failed.error_code.as_deref().unwrap_or("failed"),
                failed.error_message.as_deref().unwrap_or("no message")
            ),
        }),
    }
}

async fn create_topic(
    session: &Session,
    region: &str,
    topic_name: &str,
    topic_arn: &str,
    tags: &BTreeMap<String, String>,
    kms_master_key_id: Option<&str>,
) -> Result<()> {
    let mut create = session.sns(region).create_topic().name(topic_name);
    if let Some(key) = kms_master_key_id {
        create = create.attributes("KmsMasterKeyId", key);
    }
    for (key, value) in tags {
        create = create.tags(sns_tag(key, value)?);
    }
    let out = create
        .send()
        .await
        .map_err(|e| aws_error("sns:CreateTopic", region, e))?;
    if out.topic_arn.as_deref() != Some(topic_arn) {
        return Err(Error::Aws {
            operation: "sns:CreateTopic",
            region: Some(region.to_string()),
            message: format!(
                "created {} where the plan expected {topic_arn}",
                out.topic_arn.unwrap_or_default()
            ),
        });
    }
    Ok(())
}

async fn subscribe(
    session: &Session,
    region: &str,
    topic_arn: &str,
    protocol: &str,
    endpoint: &str,
) -> Result<()> {
    let sns = session.sns(region);
    // Record the endpoint on cis-fix's topic before subscribing, so that backout knows the
    // subscription is cis-fix's even if this run stops right after it.
    sns.tag_resource()
        .resource_arn(topic_arn)
        .tags(sns_tag(
            &ownership::endpoint_tag_key(protocol, endpoint),
            protocol,
        )?)
        .send()
        .await
        .map_err(|e| aws_error("sns:TagResource", region, e))?;
    sns.subscribe()
        .topic_arn(topic_arn)
        .protocol(protocol)
        .endpoint(endpoint)
        .return_subscription_arn(true)
        .send()
        .await
        .map_err(|e| aws_error("sns:Subscribe", region, e))?;
    Ok(())
}

async fn put_metric_filter(session: &Session, action: &Action, filter: &FilterCall) -> Result<()> {
    let region = action.region.as_str();
    let name = &filter.filter_name;
    // Some emulators accept patterns AWS would reject; never write one we cannot read.
    pattern::parse(&filter.filter_pattern).map_err(|e| {
        Error::Usage(format!(
            "refusing to create filter {name}: its pattern is invalid {e}"
        ))
    })?;
    let transformation = aws_sdk_cloudwatchlogs::types::MetricTransformation::builder()
        .metric_name(&filter.metric_name)
        .metric_namespace(&filter.metric_namespace)
        .metric_value(&filter.metric_value)
        .build()
        .map_err(|e| Error::Usage(format!("invalid metric for filter {name}: {e}")))?;
    // PutMetricFilter "creates or updates" a filter; AWS does not document that an update
    // without one of these fields clears it, so a change that removes one sends it cleared
    // (the API model allows an empty string and an empty list).
    let clears = |attribute: &str| action.changes.iter().any(|c| c.attribute == attribute);
    session
        .logs(region)
        .put_metric_filter()
        .log_group_name(&filter.log_group_name)
        .filter_name(name)
        .filter_pattern(&filter.filter_pattern)
        .metric_transformations(transformation)
        .set_apply_on_transformed_logs(clears("apply_on_transformed_logs").then_some(false))
        .set_field_selection_criteria(clears("field_selection_criteria").then(String::new))
        .set_emit_system_field_dimensions(clears("emit_system_field_dimensions").then(Vec::new))
        .send()
        .await
        .map_err(|e| aws_error("logs:PutMetricFilter", region, e))?;
    Ok(())
}

async fn put_metric_alarm(session: &Session, region: &str, alarm: &AlarmCall) -> Result<()> {
    let mut put = session
        .cloudwatch(region)
        .put_metric_alarm()
        .alarm_name(&alarm.alarm_name)
        .alarm_description(&alarm.alarm_description)
        .metric_name(&alarm.metric_name)
        .namespace(&alarm.namespace)
        .statistic(Statistic::from(alarm.statistic.as_str()))
        .period(alarm.period)
        .threshold(alarm.threshold)
        .comparison_operator(ComparisonOperator::from(alarm.comparison_operator.as_str()))
        .evaluation_periods(alarm.evaluation_periods)
        .actions_enabled(true)
        .set_alarm_actions(Some(alarm.alarm_actions.clone()));
    for (key, value) in &alarm.tags {
        put = put.tags(
            aws_sdk_cloudwatch::types::Tag::builder()
                .key(key)
                .value(value)
                .build(),
        );
    }
    put.send()
        .await
        .map_err(|e| aws_error("cloudwatch:PutMetricAlarm", region, e))?;
    Ok(())
}

async fn perform_removal(session: &Session, removal: &Removal) -> Result<()> {
    let region = removal.region.as_str();
    match &removal.call {
        RemoveCall::DeleteAlarm { alarm_name } => {
            session
                .cloudwatch(region)
                .delete_alarms()
                .alarm_names(alarm_name)
                .send()
                .await
                .map(|_| ())
                .or_else(|e| gone_is_done(e, "cloudwatch:DeleteAlarms", region))?;
        }
        RemoveCall::DeleteMetricFilter {
            log_group_name,
            filter_name,
        } => {
            session
                .logs(region)
                .delete_metric_filter()
                .log_group_name(log_group_name)
                .filter_name(filter_name)
                .send()
                .await
                .map(|_| ())
                .or_else(|e| gone_is_done(e, "logs:DeleteMetricFilter", region))?;
        }
        RemoveCall::Unsubscribe {
            subscription_arn, ..
        } => {
            session
                .sns(region)
                .unsubscribe()
                .subscription_arn(subscription_arn)
                .send()
                .await
                .map(|_| ())
                .or_else(|e| gone_is_done(e, "sns:Unsubscribe", region))?;
        }
        RemoveCall::DeleteRule {
            rule_name,
            target_ids,
        } => delete_rule(session, region, rule_name, target_ids).await?,
        RemoveCall::DeleteTopic { topic_arn } => {
            session
                .sns(region)
                .delete_topic()
                .topic_arn(topic_arn)
                .send()
                .await
                .map(|_| ())
                .or_else(|e| gone_is_done(e, "sns:DeleteTopic", region))?;
        }
    }
    Ok(())
}

/// A watch rule's targets, then the rule: EventBridge refuses to delete a rule with targets.
async fn delete_rule(
    session: &Session,
    region: &str,
    rule_name: &str,
    target_ids: &[String],
) -> Result<()> {
    let client = session.events(region);
    if !target_ids.is_empty() {
        let out = client
            .remove_targets()
            .rule(rule_name)
            .set_ids(Some(target_ids.to_vec()))
            .send()
            .await;
        match out {
            Ok(out) => {
                if let Some(failed) = out.failed_entries.unwrap_or_default().first() {
                    return Err(Error::Aws {
                        operation: "events:RemoveTargets",
                        region: Some(region.to_string()),
                        message: format!(
                            "target {} of rule {rule_name}: {}: {}",
                            failed.target_id.as_deref().unwrap_or("?"),
                            failed.error_code.as_deref().unwrap_or("failed"),
                            failed.error_message.as_deref().unwrap_or("no message")
                        ),
                    });
                }
            }
            Err(e) => gone_is_done(e, "events:RemoveTargets", region)?,
        }
    }
    client
        .delete_rule()
        .name(rule_name)
        .send()
        .await
        .map(|_| ())
        .or_else(|e| gone_is_done(e, "events:DeleteRule", region))
}

/// A delete of something already gone is done: its earlier reply may have been lost and the
/// call retried, or someone removed it meanwhile.
fn gone_is_done<E>(error: E, operation: &'static str, region: &str) -> Result<()>
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
{
    match error.code() {
        Some("ResourceNotFound" | "ResourceNotFoundException" | "NotFound") => Ok(()),
        _ => Err(aws_error(operation, region, error)),
    }
}

fn sns_tag(key: &str, value: &str) -> Result<aws_sdk_sns::types::Tag> {
    aws_sdk_sns::types::Tag::builder()
        .key(key)
        .value(value)
        .build()
        .map_err(|e| Error::Usage(format!("invalid tag {key}: {e}")))
}
