//! cis-fix: audit an AWS account, or every account of an organization, against the CIS AWS
//! Foundations Benchmark Monitoring controls, plan what is missing, fix it and undo it.
//!
//! A functional core with I/O at the edges. The modules, from the floor up: each imports only
//! modules listed before it, except that [`inventory`] and [`ownership`] use each other (the
//! reader looks for cis-fix's marks; the marks are read off inventory types).
//!
//! The floor, importing nothing from the crate:
//! - [`pattern`] is the CloudWatch Logs filter-pattern language: parser, evaluator and
//!   semantic comparison;
//! - [`policy`] judges SNS topic and KMS key policies: may CloudWatch provably deliver?
//! - [`events`] reads recorded log events (CloudTrail files, JSON lines) for `pattern test`;
//! - [`redact`] masks what output must not show in clear (endpoints, URL credentials);
//! - [`term`] escapes what may not reach a terminal (control characters, bidi overrides), and
//!   owns the one status line on stderr, which every notice prints above;
//! - [`iam`] holds the minimal IAM policy of each command (`examples/iam-*.json`);
//! - [`limits`] holds the limits AWS documents for the values cis-fix sends, checked before
//!   any call.
//!
//! Connecting and reading:
//! - [`error`] is the one error type, and the exit code each kind means;
//! - [`outfile`] writes the files a user names with `--out`: checked, created privately and
//!   exclusively, renamed into place;
//! - [`session`] connects to AWS (the configuration checked locally first), counts and watches
//!   every call, and words a failed one for reader and writer alike ([`session::errors`]);
//! - [`inventory`] is the only code that reads AWS, into a plain [`inventory::Snapshot`];
//! - [`ownership`] defines the marks cis-fix puts on what it creates;
//! - [`catalog`] loads the desired state (`plans/*.toml`) into typed controls.
//!
//! The core and its views:
//! - [`audit`] is pure: (catalog, snapshot, options) → findings and ordered actions;
//! - [`render`] shows a plan as text or JSON;
//! - [`export`] writes what an apply would create as Terraform or CloudFormation;
//! - [`org`] is the multi-account layer: which accounts, a session and a read for each, and
//!   per-account failures kept as data.
//!
//! The edges:
//! - [`apply`] is the only code that writes to AWS: it performs actions and removals;
//! - [`saved`] keeps a plan in a file (`plan --out`), applied only if it comes out the same;
//! - [`schema`] generates the JSON Schemas of what cis-fix writes (committed in `schemas/`);
//! - [`cli`] is the command tree, one file per command; `main` runs it.

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
        clippy::todo,
        // A closed pipe makes these panic: output goes through printer and term instead.
        clippy::print_stdout,
        clippy::print_stderr
    )
)]

pub mod apply;
pub mod audit;
pub mod catalog;
pub mod cli;
pub mod coverage;
pub mod error;
pub mod events;
pub mod export;
pub mod forecast;
pub mod iam;
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
