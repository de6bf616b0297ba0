//! The only code that writes to AWS: performing a plan's actions, and a backout's removals.
//!
//! Everything cis-fix creates carries its marks from the call that creates it (see
//! [`crate::ownership`]), so an apply stopped part-way leaves nothing unmarked behind.

pub mod drill;
pub mod interrupt;

use std::io::Write;

use aws_sdk_cloudwatch::types::{ComparisonOperator, Statistic};
use aws_smithy_types::error::metadata::ProvideErrorMetadata;

use crate::audit::backout::{Removal, RemoveCall};
use crate::audit::{Action, Call};
use crate::error::{Error, Result};
use crate::inventory::aws::aws_error;
use crate::ownership;
use crate::pattern;
use crate::session::Session;
use interrupt::Deferral;

/// Performs the actions in order, printing each as it completes. Ctrl-C lets the call in
/// flight finish and starts no other.
pub async fn apply(session: &Session, actions: &[Action], out: &mut dyn Write) -> Result<usize> {
    let interrupt = Deferral::new(Some(STOPPING), Some(ABANDONED_APPLY));
    for (done, action) in actions.iter().enumerate() {
        if interrupt.requested() {
            return Err(Error::Interrupted {
                progress: progress_of(done, actions.len(), "change", "made"),
                advice: TO_FINISH_APPLY,
            });
        }
        perform(session, action)
            .await
            .map_err(|e| stopped(e, done))?;
        progress(
            out,
            &format!(
                "{} {}",
                sign(action),
                crate::render::describe(action, false)
            ),
        );
    }
    Ok(actions.len())
}

/// Removes, in order, printing each as it completes. Ctrl-C as for [`apply`].
pub async fn remove(session: &Session, removals: &[Removal], out: &mut dyn Write) -> Result<usize> {
    let interrupt = Deferral::new(Some(STOPPING), Some(ABANDONED_BACKOUT));
    for (done, removal) in removals.iter().enumerate() {
        if interrupt.requested() {
            return Err(Error::Interrupted {
                progress: progress_of(done, removals.len(), "resource", "removed"),
                advice: TO_FINISH_BACKOUT,
            });
        }
        perform_removal(session, removal)
            .await
            .map_err(|e| stopped(e, done))?;
        progress(
            out,
            &format!("- {}", crate::render::describe_removal(removal, false)),
        );
    }
    Ok(removals.len())
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

fn progress(out: &mut dyn Write, line: &str) {
    // Progress is informational: a closed stdout must not abort the writes in flight.
    let _ = writeln!(out, "  {line}: done");
    let _ = out.flush();
}

/// Says how far a run got when a call fails, and how to carry on.
fn stopped(error: Error, done: usize) -> Error {
    match error {
        Error::Aws {
            operation,
            region,
            message,
        } => Error::Aws {
            operation,
            region,
            message: format!(
                "{message} ({done} change{} made before it; run the same command again to finish, or `cis-fix backout` to remove what cis-fix created)",
                if done == 1 { " was" } else { "s were" }
            ),
        },
        other => other,
    }
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
            if out.topic_arn.as_deref() != Some(topic_arn.as_str()) {
                return Err(Error::Aws {
                    operation: "sns:CreateTopic",
                    region: Some(region.to_string()),
                    message: format!(
                        "created {} where the plan expected {topic_arn}",
                        out.topic_arn.unwrap_or_default()
                    ),
                });
            }
        }
        Call::Subscribe {
            topic_arn,
            protocol,
            endpoint,
        } => {
            let sns = session.sns(region);
            // Record the endpoint on cis-fix's topic before subscribing, so that backout knows
            // the subscription is cis-fix's even if this run stops right after it.
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
        }
        Call::PutMetricFilter {
            log_group_name,
            filter_name,
            filter_pattern,
            metric_name,
            metric_namespace,
            metric_value,
        } => {
            // Some emulators accept patterns AWS would reject; never write one we cannot read.
            pattern::parse(filter_pattern).map_err(|e| {
                Error::Usage(format!(
                    "refusing to create filter {filter_name}: its pattern is invalid {e}"
                ))
            })?;
            let transformation = aws_sdk_cloudwatchlogs::types::MetricTransformation::builder()
                .metric_name(metric_name)
                .metric_namespace(metric_namespace)
                .metric_value(metric_value)
                .build()
                .map_err(|e| {
                    Error::Usage(format!("invalid metric for filter {filter_name}: {e}"))
                })?;
            session
                .logs(region)
                .put_metric_filter()
                .log_group_name(log_group_name)
                .filter_name(filter_name)
                .filter_pattern(filter_pattern)
                .metric_transformations(transformation)
                .send()
                .await
                .map_err(|e| aws_error("logs:PutMetricFilter", region, e))?;
        }
        Call::PutMetricAlarm {
            alarm_name,
            alarm_description,
            metric_name,
            namespace,
            statistic,
            period,
            threshold,
            comparison_operator,
            evaluation_periods,
            alarm_actions,
            tags,
        } => {
            let mut put = session
                .cloudwatch(region)
                .put_metric_alarm()
                .alarm_name(alarm_name)
                .alarm_description(alarm_description)
                .metric_name(metric_name)
                .namespace(namespace)
                .statistic(Statistic::from(statistic.as_str()))
                .period(*period)
                .threshold(*threshold)
                .comparison_operator(ComparisonOperator::from(comparison_operator.as_str()))
                .evaluation_periods(*evaluation_periods)
                .actions_enabled(true)
                .set_alarm_actions(Some(alarm_actions.clone()));
            for (key, value) in tags {
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
        }
    }
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
