//! `report --to-security-hub`'s one write: an account's ASFF findings imported into its
//! Security Hub with `BatchImportFindings`, in batches of at most 100 (AWS's limit), each
//! finding at most 240 KB. A finding keeps its `Id` from run to run, so a second import
//! updates the findings of the first rather than adding new ones.
//!
//! AWS takes a finding of the default product only from the account it names
//! (`AwsAccountId`): each account's findings are imported with that account's own session.

use aws_sdk_securityhub::types::{
    AwsSecurityFinding, Compliance, ComplianceStatus, FindingProviderFields,
    FindingProviderSeverity, Partition, Recommendation, RecordState, Remediation, Resource,
    Severity, SeverityLabel, StatusReason,
};

use crate::error::Error;
use crate::render::report::asff::{self, Finding};
use crate::session::errors::aws_error;
use crate::session::Session;

/// AWS's limit on the findings of one `BatchImportFindings` call.
pub const MAX_BATCH: usize = 100;
/// The IAM action of the import, for messages.
pub const ACTION: &str = "securityhub:BatchImportFindings";

/// What became of one account's import.
#[derive(Debug)]
pub struct Imported {
    pub account: String,
    pub region: String,
    /// Findings Security Hub accepted.
    pub imported: usize,
    /// Findings it refused (or cis-fix did not send): (finding id, why).
    pub refused: Vec<(String, String)>,
    /// The call that failed, when one did: the findings not yet sent were not imported.
    pub error: Option<Error>,
}

/// Imports `findings` (all of them `account`'s) into Security Hub in `region`, with
/// `session`, the account's own.
pub async fn import(
    session: &Session,
    region: &str,
    account: &str,
    findings: &[Finding],
) -> Imported {
    let mut done = Imported {
        account: account.to_string(),
        region: region.to_string(),
        imported: 0,
        refused: vec![],
        error: None,
    };
    let (fitting, too_large): (Vec<&Finding>, Vec<&Finding>) = findings
        .iter()
        .partition(|f| asff::size(f) <= asff::MAX_FINDING_BYTES);
    done.refused.extend(too_large.into_iter().map(|f| {
        let why = format!(
            "not sent: {} bytes, over Security Hub's {} KB limit on a finding",
            asff::size(f),
            asff::MAX_FINDING_BYTES / 1024
        );
        (f.id.clone(), why)
    }));
    let client = session.securityhub(region);
    for batch in fitting.chunks(MAX_BATCH) {
        let request = client
            .batch_import_findings()
            .set_findings(Some(batch.iter().map(|f| sdk_finding(f)).collect()));
        match request.send().await {
            Ok(out) => {
                let refused = out.failed_findings();
                done.imported += usize::try_from(out.success_count().unwrap_or(0)).unwrap_or(0);
                done.refused.extend(refused.iter().map(|f| {
                    let why = match (f.error_code(), f.error_message()) {
                        (Some(code), Some(message)) => format!("{code}: {message}"),
                        (code, message) => code.or(message).unwrap_or("refused").to_string(),
                    };
                    (f.id().unwrap_or_default().to_string(), why)
                }));
            }
            Err(e) => {
                done.error = Some(aws_error(ACTION, region, e));
                break;
            }
        }
    }
    done
}

/// The finding as the SDK sends it: the same members, field by field.
fn sdk_finding(f: &Finding) -> AwsSecurityFinding {
    let severity = Severity::builder()
        .label(SeverityLabel::from(f.severity.label.as_str()))
        .build();
    let provider = FindingProviderFields::builder()
        .severity(
            FindingProviderSeverity::builder()
                .label(SeverityLabel::from(
                    f.finding_provider_fields.severity.label.as_str(),
                ))
                .build(),
        )
        .set_types(Some(f.finding_provider_fields.types.clone()))
        .build();
    AwsSecurityFinding::builder()
        .schema_version(&f.schema_version)
        .id(&f.id)
        .product_arn(&f.product_arn)
        .product_name(&f.product_name)
        .generator_id(&f.generator_id)
        .aws_account_id(&f.aws_account_id)
        .region(&f.region)
        .set_types(Some(f.types.clone()))
        .created_at(&f.created_at)
        .updated_at(&f.updated_at)
        .severity(severity)
        .title(&f.title)
        .description(&f.description)
        .set_remediation(f.remediation.as_ref().map(|r| {
            Remediation::builder()
                .recommendation(
                    Recommendation::builder()
                        .text(&r.recommendation.text)
                        .build(),
                )
                .build()
        }))
        .set_product_fields(Some(f.product_fields.clone().into_iter().collect()))
        .set_resources(Some(f.resources.iter().map(sdk_resource).collect()))
        .compliance(sdk_compliance(&f.compliance))
        .record_state(RecordState::from(f.record_state.as_str()))
        .finding_provider_fields(provider)
        .build()
}

fn sdk_resource(r: &asff::Resource) -> Resource {
    Resource::builder()
        .r#type(&r.kind)
        .id(&r.id)
        .partition(Partition::from(r.partition.as_str()))
        .region(&r.region)
        .build()
}

fn sdk_compliance(c: &asff::Compliance) -> Compliance {
    Compliance::builder()
        .status(ComplianceStatus::from(c.status.as_str()))
        .set_related_requirements(Some(c.related_requirements.clone()))
        .set_status_reasons(
            Some(
                c.status_reasons
                    .iter()
                    .map(|r| {
                        StatusReason::builder()
                            .reason_code(&r.reason_code)
                            .set_description(r.description.clone())
                            .build()
                    })
                    .collect::<Vec<_>>(),
            )
            .filter(|reasons| !reasons.is_empty()),
        )
        .build()
}
