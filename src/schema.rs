//! JSON Schemas (2020-12) of the JSON documents cis-fix writes, generated from the Rust types
//! with `schemars`. The committed copies live in `schemas/`; a test fails when they drift.
//!
//! Generated rather than written by hand so that a schema cannot disagree with what serde
//! writes: the derives read the same `#[serde]` attributes (`flatten`, `tag`, `rename_all`,
//! `skip_serializing_if`) the serializer obeys. They describe what cis-fix *writes* (the
//! serialize contract): a field that is always written is required, one skipped when empty or
//! absent is optional. The integration tests validate every such document they read against
//! the committed schema, with an independent validator (Python `jsonschema`).

use schemars::generate::SchemaSettings;
use schemars::{JsonSchema, Schema};

use crate::apply::org_result::{OrgApplyResult, OrgBackoutResult};
use crate::apply::result::{ApplyResult, BackoutResult};
use crate::audit::org::OrgPlan;
use crate::audit::Plan;
use crate::coverage::Coverage;
use crate::saved::{SavedOrgPlan, SavedPlan};

/// The JSON Schema dialect every schema declares (`$schema`).
pub const DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";

/// A JSON document cis-fix writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Document {
    /// `plan --format json`.
    Plan,
    /// `plan --out FILE`.
    SavedPlan,
    /// `plan --org --format json` (and `--accounts`).
    OrgPlan,
    /// `plan --org --out FILE` (and `--accounts`).
    SavedOrgPlan,
    /// `apply --format json`.
    ApplyResult,
    /// `backout --format json`.
    BackoutResult,
    /// `apply --org --format json` (and `--accounts`, or a saved organization plan).
    OrgApplyResult,
    /// `backout --org --format json` (and `--accounts`).
    OrgBackoutResult,
    /// `coverage --format json`.
    Coverage,
    /// `report --format json`.
    Report,
    /// `forecast --format json`.
    Forecast,
}

impl Document {
    /// Every document, in the order `cis-fix schema --help` lists them.
    pub const ALL: [Document; 11] = [
        Document::Plan,
        Document::SavedPlan,
        Document::OrgPlan,
        Document::SavedOrgPlan,
        Document::ApplyResult,
        Document::BackoutResult,
        Document::OrgApplyResult,
        Document::OrgBackoutResult,
        Document::Coverage,
        Document::Report,
        Document::Forecast,
    ];

    /// The document's name on the command line (`cis-fix schema NAME`) and in `schemas/`.
    pub fn name(self) -> &'static str {
        match self {
            Document::Plan => "plan",
            Document::SavedPlan => "saved-plan",
            Document::OrgPlan => "org-plan",
            Document::SavedOrgPlan => "saved-org-plan",
            Document::ApplyResult => "apply-result",
            Document::BackoutResult => "backout-result",
            Document::OrgApplyResult => "org-apply-result",
            Document::OrgBackoutResult => "org-backout-result",
            Document::Coverage => "coverage",
            Document::Report => "report",
            Document::Forecast => "forecast",
        }
    }

    /// Where the committed copy lives, relative to the repository: `schemas/NAME.schema.json`.
    pub fn path(self) -> String {
        format!("schemas/{}.schema.json", self.name())
    }

    fn title(self) -> &'static str {
        match self {
            Document::Plan => "cis-fix plan",
            Document::SavedPlan => "cis-fix saved plan",
            Document::OrgPlan => "cis-fix organization plan",
            Document::SavedOrgPlan => "cis-fix saved organization plan",
            Document::ApplyResult => "cis-fix apply result",
            Document::BackoutResult => "cis-fix backout result",
            Document::OrgApplyResult => "cis-fix organization apply result",
            Document::OrgBackoutResult => "cis-fix organization backout result",
            Document::Coverage => "cis-fix coverage",
            Document::Report => "cis-fix report",
            Document::Forecast => "cis-fix forecast",
        }
    }

    fn description(self) -> &'static str {
        match self {
            Document::Plan => {
                "What `cis-fix plan --format json` prints: the audit of one account (trails, \
                 each control's verdict and chain) and the ordered calls an apply would make. \
                 Subscription endpoints are masked unless `--show-endpoints`."
            }
            Document::SavedPlan => {
                "What `cis-fix plan --out FILE` writes and `cis-fix apply FILE` reads: the \
                 plan, and what it was made from (benchmark or catalog with its SHA-256, \
                 controls, options), so that `apply FILE` makes it again from a fresh read and \
                 applies it only if the actions are exactly the file's; and a digest of what \
                 it observed, to say what changed. Subscription endpoints are in clear."
            }
            Document::OrgPlan => {
                "What `cis-fix plan --org --format json` (or `--accounts`) prints: the audit of \
                 every account reached, and the actions per account with the accounts each one \
                 makes compliant. Subscription endpoints are masked unless `--show-endpoints`."
            }
            Document::SavedOrgPlan => {
                "What `cis-fix plan --org --out FILE` (or `--accounts`) writes and `cis-fix \
                 apply FILE` reads: the organization plan, and what it was made from \
                 (benchmark or catalog, controls, options, the accounts and the role), so that \
                 `apply FILE` makes it again from fresh reads and applies it only if the actions \
                 are exactly the file's; and per account a digest of what it observed. \
                 Subscription endpoints are in clear."
            }
            Document::ApplyResult
            | Document::BackoutResult
            | Document::OrgApplyResult
            | Document::OrgBackoutResult => self.result_description(),
            Document::Coverage => {
                "What `cis-fix coverage --format json` prints: every AWS technique of Stratus \
                 Red Team with the controls of the benchmark or catalog whose pattern matches \
                 one of the technique's CloudTrail records under every reading AWS's \
                 documentation leaves open (`caught_by`), those that match under some readings \
                 only (`ambiguous`), its status, why it is not caught when it is not \
                 (`reason`), and its records (call, error code, origin and source); then the \
                 counts. Computed offline from the records compiled into cis-fix; exit 0."
            }
            Document::Report => {
                "What `cis-fix report --format json` prints: the selected controls as the catalog \
                 defines them (with the catalog file and line), and for every account of the run \
                 each control's state (`compliant`, `non_compliant`, `awaiting_confirmation`, \
                 `blocked`, `not_auditable`) with the chain that proves it or the findings that \
                 explain it, as `plan --format json` has them; an account that could not be read \
                 has every control `not_auditable`. Then the counts per state. The other formats \
                 of `cis-fix report` are views of this document (docs/report.md)."
            }
            Document::Forecast => {
                "What `cis-fix forecast --format json` prints: the log group scanned (its \
                 account, region, trails, retention, stored bytes and the bytes the window \
                 likely holds), the window (`since`, `until`), notes (the window reaching past \
                 the retention, a scan beyond 10 GB), and per selected control the events \
                 CloudWatch Logs matched with the control's pattern (FilterLogEvents), per day, \
                 the alarm replayed on them with the control's statistic, period, threshold, \
                 comparison and evaluation periods, and the top event names, identities and \
                 source IPs. A control whose scan stopped early (`--max-events`, Ctrl-C, an \
                 error) has `complete` false and every figure is \"at least\"; then the counts."
            }
        }
    }

    /// What the results of `apply` and `backout` say.
    fn result_description(self) -> &'static str {
        match self {
            Document::ApplyResult => {
                "What `cis-fix apply --format json` prints on stdout (the plan, the question and \
                 the progress go to stderr): each of the plan's actions, written as the plan \
                 writes them, with its outcome (`done`, `failed` with its `error`, or \
                 `not_attempted` after a failure or Ctrl-C), the counts, and every selected \
                 control's status before and after, computed from the plan and the outcomes. \
                 Printed once the apply is approved, or when there is nothing to do; a run \
                 refused or cancelled before any call prints none. The exit status is the \
                 text mode's: 0 when every control is `compliant` or `awaits_confirmation` \
                 after, 2 when one stays otherwise, 1 when a call failed, 130 on Ctrl-C. \
                 Across accounts, see `org-apply-result`. Subscription endpoints are masked \
                 unless `--show-endpoints`."
            }
            Document::BackoutResult => {
                "What `cis-fix backout --format json` prints on stdout (the list, the question \
                 and the progress go to stderr): each removal with its outcome (`done`, \
                 `failed` with its `error`, or `not_attempted` after a failure or Ctrl-C), what \
                 cis-fix created but keeps, the counts, and the selected controls' status \
                 after the removals, from the account read again and audited as `cis-fix \
                 plan` does (backout's own reads cannot decide compliance: they skip the \
                 topics' delivery); after Ctrl-C, or when that read fails, `controls` is absent \
                 and `controls_unknown` says why. Printed once the backout is approved, or when \
                 there is nothing to remove; a run refused or cancelled before any call prints \
                 none. The exit status is the text mode's: 0 done, 1 when a call failed, 130 \
                 on Ctrl-C. Across accounts, see `org-backout-result`. Subscription \
                 endpoints are masked unless `--show-endpoints`."
            }
            Document::OrgApplyResult => {
                "What `cis-fix apply --format json` prints on stdout across accounts (`--org`, \
                 `--accounts`, or a saved organization plan): each of the organization plan's \
                 actions, written as that plan writes them (with its account and the accounts \
                 it fixes), with its outcome; the counts; and every account with why its calls \
                 stopped, if they did, and each selected control's status before and after, \
                 computed from the plan and the outcomes. An account that fails part-way does \
                 not stop the others; Ctrl-C stops the run (`interrupted`). Printed once the \
                 apply is approved, or when there is nothing to do. The exit status is the \
                 text mode's: 0 done, 1 when a call failed in some account, 130 on Ctrl-C. \
                 Subscription endpoints are masked unless `--show-endpoints`."
            }
            Document::OrgBackoutResult => {
                "What `cis-fix backout --format json` prints on stdout across accounts \
                 (`--org`, `--accounts`): per account read in full, each removal with its \
                 outcome, what is kept and why, the counts, why its removals stopped if they \
                 did, and the selected controls' status from the accounts read again and \
                 audited as `cis-fix plan --org` does (`controls_unknown` says why when they \
                 were not); the removals' counts across the accounts; and the accounts not \
                 read in full, so not touched, with why. Printed once the backout is \
                 approved, or when there is nothing to remove. The exit status is the text \
                 mode's: 0 done, 1 when a call failed or an account could not be read, 130 on \
                 Ctrl-C. Subscription endpoints are masked unless `--show-endpoints`."
            }
            _ => "",
        }
    }
}

/// The root schema of `T` as cis-fix writes it, with `document`'s title and description.
fn root<T: JsonSchema>(document: Document) -> serde_json::Value {
    let generator = SchemaSettings::draft2020_12()
        .for_serialize()
        .into_generator();
    let mut schema: Schema = generator.into_root_schema_for::<T>();
    schema.insert("$schema".into(), DIALECT.into());
    schema.insert("title".into(), document.title().into());
    schema.insert("description".into(), document.description().into());
    schema.to_value()
}

/// The JSON Schema of `document`.
pub fn schema(document: Document) -> serde_json::Value {
    match document {
        Document::Plan => root::<Plan>(document),
        Document::SavedPlan => root::<SavedPlan>(document),
        Document::OrgPlan => root::<OrgPlan>(document),
        Document::SavedOrgPlan => root::<SavedOrgPlan>(document),
        Document::ApplyResult => root::<ApplyResult>(document),
        Document::BackoutResult => root::<BackoutResult>(document),
        Document::OrgApplyResult => root::<OrgApplyResult>(document),
        Document::OrgBackoutResult => root::<OrgBackoutResult>(document),
        Document::Coverage => root::<Coverage>(document),
        Document::Report => root::<crate::render::report::Report>(document),
        Document::Forecast => root::<crate::forecast::Forecast>(document),
    }
}

/// The schema of `document`, pretty-printed, without a trailing newline.
pub fn text(document: Document) -> String {
    // A schema is strings, bools, numbers, maps and lists: serialising it cannot fail.
    serde_json::to_string_pretty(&schema(document)).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::ValueEnum;

    #[test]
    fn the_committed_schemas_are_the_generated_ones() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
        let stale: Vec<Document> = Document::ALL
            .into_iter()
            .filter(|document| {
                let committed =
                    std::fs::read_to_string(root.join(document.path())).unwrap_or_default();
                committed != text(*document) + "\n"
            })
            .collect();
        assert!(
            stale.is_empty(),
            "{} differ from the schemas of the types; regenerate with\n{}",
            stale
                .iter()
                .map(|d| d.path())
                .collect::<Vec<_>>()
                .join(", "),
            stale
                .iter()
                .map(|d| format!("    cargo run -q -- schema {} > {}\n", d.name(), d.path()))
                .collect::<String>()
        );
    }

    #[test]
    fn names_are_the_command_line_ones() {
        for document in Document::ALL {
            let value = document.to_possible_value().unwrap();
            assert_eq!(value.get_name(), document.name());
        }
        assert_eq!(Document::value_variants(), Document::ALL);
    }

    #[test]
    fn schemas_declare_2020_12_and_say_what_they_are() {
        for document in Document::ALL {
            let schema = schema(document);
            assert_eq!(schema["$schema"], DIALECT);
            assert_eq!(schema["title"], document.title());
            assert_eq!(schema["type"], "object");
            // Every reference resolves within the document.
            let text = text(document);
            for reference in text.split("\"$ref\": \"").skip(1) {
                let pointer = reference.split('"').next().unwrap();
                let pointer = pointer.strip_prefix('#').unwrap();
                assert!(schema.pointer(pointer).is_some(), "{pointer}");
            }
        }
    }

    #[test]
    fn what_is_written_is_required_and_what_may_be_skipped_is_not() {
        let plan = schema(Document::Plan);
        let required = |def: &str| plan["$defs"][def]["required"].clone();
        // `default` alone is still always written.
        assert!(required("Chain")
            .as_array()
            .unwrap()
            .contains(&"account_id".into()));
        // `skip_serializing_if` may leave it out.
        assert!(!required("Chain")
            .as_array()
            .unwrap()
            .contains(&"evidence".into()));
        assert!(!plan["required"]
            .as_array()
            .unwrap()
            .contains(&"input_errors".into()));
    }
}
