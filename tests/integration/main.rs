//! Integration tests: the real `cis-fix` binary against the test AWS emulator.
//! All in one test binary, so the AWS SDK is linked once.

mod apply;
mod audit;
mod benchmarks;
mod cli;
mod connect;
mod coverage;
mod delivery;
mod emulator;
mod export;
mod faults;
mod filter_fields;
mod forecast;
mod hardened;
mod harness;
mod honest;
mod limits;
mod org;
mod outfiles;
mod ownership;
mod paging;
mod parity;
mod pattern_sql;
mod pattern_stream;
mod prompt;
mod report;
mod report_asff;
mod report_html;
mod report_junit;
mod report_ocsf;
mod report_sarif;
mod secrets;
mod selection;
mod snapshots;
mod terminal;
mod verdicts;
