//! cis-fix: audit an AWS account against the CIS AWS Foundations Benchmark Monitoring
//! controls, plan what is missing, and (later) fix and undo it.
//!
//! A functional core with I/O at the edges:
//! - [`catalog`] loads the desired state (`plans/*.toml`) into typed controls;
//! - [`pattern`] is the CloudWatch Logs filter-pattern language: parser, evaluator and
//!   semantic comparison;
//! - [`policy`] judges SNS topic and KMS key policies: may CloudWatch provably deliver?
//! - [`inventory`] is the only code that reads AWS, into a plain [`inventory::Snapshot`];
//! - [`audit`] is pure: (catalog, snapshot, options) → findings and ordered actions;
//! - [`render`] shows a plan as text or JSON;
//! - [`export`] writes what an apply would create as Terraform or CloudFormation;
//! - [`apply`] is the only code that writes to AWS: it performs actions and removals;
//! - [`ownership`] defines the marks cis-fix puts on what it creates;
//! - [`events`] reads recorded log events (CloudTrail files, JSON lines) for `pattern test`;
//! - [`redact`] masks what output must not show in clear (endpoints, URL credentials); it is
//!   the bottom floor, importing nothing from the crate;
//! - [`outfile`] writes the files a user names with `--out`: checked, created privately and
//!   exclusively, renamed into place.
//! - [`term`] escapes what may not reach a terminal (control characters, bidi overrides).
//! - [`limits`] holds the limits AWS documents for the values cis-fix sends, checked before
//!   any call; like [`redact`], it imports nothing from the crate.

// Nothing a user or AWS sends may panic cis-fix: outside tests, no unwrap, expect, panic or
// indexing that could fail. (Tests may, and are compiled with `cfg(test)`.)
#![cfg_attr(
    not(test),
    deny(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing,
        clippy::unreachable,
        clippy::todo
    )
)]

pub mod apply;
pub mod audit;
pub mod catalog;
pub mod cli;
pub mod error;
pub mod events;
pub mod export;
pub mod inventory;
pub mod limits;
pub mod outfile;
pub mod ownership;
pub mod pattern;
pub mod policy;
pub mod printer;
pub mod redact;
pub mod render;
pub mod run;
pub mod saved;
pub mod schema;
pub mod session;
pub mod term;
