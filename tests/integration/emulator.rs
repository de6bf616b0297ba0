//! The emulator's own tests (CBOR translation, accounts, pending subscriptions, faults),
//! run here so that the README's one test command covers them.

use std::process::Command;

use crate::harness::{path_in_repo, python};

#[test]
fn emulator_adapter_unit_tests_pass() {
    let out = Command::new(python())
        .args(["-m", "unittest", "discover", "-s"])
        .arg(path_in_repo("tests/emulator"))
        .current_dir(path_in_repo(""))
        .output()
        .expect("run the emulator's unit tests");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success(),
        "emulator unit tests failed:\n{stderr}"
    );
    assert!(stderr.contains("OK"), "{stderr}");
}
