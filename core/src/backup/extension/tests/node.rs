//! Node module extensions run by `node-binding/lib/extension-host.mjs`.

use std::time::Duration;

use serde_json::json;

use super::behaviours::*;
use super::{assert_code, TestApp, CALL, FD_COUNT};
use crate::backup::extension::protocol::*;
use crate::error::ErrorCode;

#[test]
fn node_extension_answers_every_hook_and_keeps_stdout_for_the_protocol() {
    let _g = FD_COUNT.read();
    let t = TestApp::node("ext.mjs");
    let ext = t.start().unwrap();
    // ext.mjs logs with console.log and writes to process.stdout directly; both would break the
    // protocol if the host did not divert them to stderr.
    answers_every_hook(&t, &ext);
    // Not overridden: the base class's default.
    assert_eq!(
        ext.call(GET_RESTORE_COMPATIBILITY_INFO, vec![json!("peer")], CALL)
            .unwrap(),
        json!("")
    );
    ext.shutdown(Duration::from_secs(2));
}

#[test]
fn node_commonjs_extension_can_require_the_base_class() {
    let _g = FD_COUNT.read();
    let ext = TestApp::node("ext.cjs").start().unwrap();
    assert_eq!(
        ext.call(ON_BACKUP_EX, vec![json!("x")], CALL).unwrap(),
        json!("cjs:x")
    );
    // The defaults of the base class.
    assert_eq!(ext.call(ON_PROCESS, vec![], CALL).unwrap(), json!(""));
    assert_eq!(ext.call(GET_BACKUP_INFO, vec![], CALL).unwrap(), json!(""));
    assert_eq!(
        ext.call(ON_RESTORE_EX, vec![bundle_version(1, "1"), json!("")], CALL)
            .unwrap(),
        json!("")
    );
    assert_eq!(
        ext.call(ON_RELEASE, vec![json!(SCENARIO_RESTORE)], CALL)
            .unwrap(),
        serde_json::Value::Null
    );
    ext.shutdown(Duration::from_secs(2));
}

#[test]
fn node_extension_serves_calls_concurrently() {
    let _g = FD_COUNT.read();
    serves_calls_concurrently(&TestApp::node("ext.mjs"));
}

#[test]
fn node_extension_that_hangs_times_out() {
    let _g = FD_COUNT.read();
    hang_times_out(&TestApp::node("hangs.mjs"));
}

#[test]
fn node_extension_that_exits_mid_call_died() {
    let _g = FD_COUNT.read();
    exit_is_died(&TestApp::node("exits.mjs"));
}

#[test]
fn node_extension_that_throws_or_rejects_is_an_exception() {
    let _g = FD_COUNT.read();
    let t = TestApp::node("throws.mjs");
    throw_is_exception(&t);
    let ext = t.start().unwrap();
    assert_code(
        ext.call(ON_RESTORE_EX, vec![bundle_version(1, "1"), json!("")], CALL),
        ErrorCode::ExtensionException,
        "restore refused",
    );
}

#[test]
fn node_extension_never_ready_is_a_boot_timeout() {
    let _g = FD_COUNT.read();
    // Long enough for node to load the module (it records its pid), short of its 60 s wait.
    never_ready_is_boot_timeout(&TestApp::node("never_ready.mjs"), Duration::from_secs(3));
}

#[test]
fn node_module_without_a_default_export_is_a_boot_failure() {
    let _g = FD_COUNT.read();
    assert_code(
        TestApp::node("no_default.mjs").start(),
        ErrorCode::ExtensionBootFailed,
        "has no default export class",
    );
}
