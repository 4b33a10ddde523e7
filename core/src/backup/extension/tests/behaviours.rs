//! Checks shared by the `exec` (Python) and Node fixtures, which behave alike.

use std::thread;
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use super::{assert_code, json_of, reaped, TestApp, CALL};
use crate::backup::extension::protocol::*;
use crate::backup::extension::Extension;
use crate::error::ErrorCode;

/// The hooks every well-behaved fixture answers the same way; returns its getBackupInfo JSON.
pub fn answers_every_hook(t: &TestApp, ext: &Extension) -> Value {
    assert_eq!(ext.call(ON_BACKUP, vec![], CALL).unwrap(), Value::Null);
    let r = ext
        .call(ON_BACKUP_EX, vec![json!("{\"sleepMs\":0}")], CALL)
        .unwrap();
    assert_eq!(
        json_of(&r),
        json!({"type": "ErrorInfo", "errorCode": 0, "errorInfo": "backed up {\"sleepMs\":0}"})
    );
    let backup_dir = t.app.sandbox().join("data/storage/el2/base/.backup");
    assert_eq!(
        std::fs::read_to_string(backup_dir.join("marker.txt")).unwrap(),
        "from onBackupEx"
    );
    let version = bundle_version(7, "1.0.7");
    assert_eq!(
        ext.call(ON_RESTORE, vec![version.clone()], CALL).unwrap(),
        Value::Null
    );
    let r = ext
        .call(ON_RESTORE_EX, vec![version, json!("restore info")], CALL)
        .unwrap();
    assert_eq!(
        json_of(&r),
        json!({"bundleVersion": {"code": 7, "name": "1.0.7"}, "restoreInfo": "restore info"})
    );
    let progress = json_of(&ext.call(ON_PROCESS, vec![], CALL).unwrap());
    assert_eq!(progress["progressInfo"][0]["processed"], json!(100));
    assert_eq!(
        ext.call(ON_RELEASE, vec![json!(SCENARIO_BACKUP)], CALL)
            .unwrap(),
        Value::Null
    );
    assert_eq!(
        ext.call(GET_BACKUP_COMPATIBILITY_INFO, vec![json!("peer")], CALL)
            .unwrap(),
        json!("backup-compat:peer")
    );
    assert_code(
        ext.call("onSomethingElse", vec![], CALL),
        ErrorCode::InvalidArgument,
        "unknown method",
    );

    let info = json_of(&ext.call(GET_BACKUP_INFO, vec![], CALL).unwrap());
    let sandbox = std::path::absolute(t.app.sandbox()).unwrap();
    assert_eq!(info["bundle"], json!("com.example.ext"));
    assert_eq!(info["sandbox"], json!(sandbox.to_str().unwrap()));
    assert_eq!(
        info["backupDir"],
        json!(format!(
            "{}/data/storage/el2/base/.backup/",
            sandbox.display()
        ))
    );
    let cwd = std::fs::canonicalize(&t.app.dir).unwrap();
    assert_eq!(info["cwd"], json!(cwd.to_str().unwrap()));
    info
}

/// onProcess is answered while onBackupEx is still running.
pub fn serves_calls_concurrently(t: &TestApp) {
    let ext = t.start().unwrap();
    let started = Instant::now();
    thread::scope(|s| {
        let backup = s.spawn(|| {
            let r = ext.call(ON_BACKUP_EX, vec![json!("{\"sleepMs\":800}")], CALL);
            (r, started.elapsed())
        });
        thread::sleep(Duration::from_millis(100));
        let progress = json_of(&ext.call(ON_PROCESS, vec![], CALL).unwrap());
        let progress_at = started.elapsed();
        let (r, backup_at) = backup.join().unwrap();
        assert!(r.unwrap().as_str().unwrap().contains("backed up"));
        // Answered before onBackupEx finished, and saw its progress still at 0.
        assert_eq!(progress["progressInfo"][0]["processed"], json!(0));
        assert!(progress_at < backup_at, "{progress_at:?} !< {backup_at:?}");
    });
    ext.shutdown(Duration::from_secs(2));
}

/// A hook that never answers times out; the extension keeps serving other hooks.
pub fn hang_times_out(t: &TestApp) {
    let ext = t.start().unwrap();
    let started = Instant::now();
    assert_code(
        ext.call(ON_BACKUP_EX, vec![json!("")], Duration::from_millis(300)),
        ErrorCode::ExtensionTimeout,
        "onBackupEx did not answer within 300 ms",
    );
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(300) && took < Duration::from_secs(3),
        "{took:?}"
    );
    assert!(ext.is_alive());
    assert_eq!(
        ext.call(ON_PROCESS, vec![], CALL).unwrap(),
        json!("still here")
    );
}

/// A child exiting mid-call fails the call at once (not at its timeout) and is reaped.
pub fn exit_is_died(t: &TestApp) {
    let ext = t.start().unwrap();
    let pid = ext.pid();
    let started = Instant::now();
    assert_code(
        ext.call(ON_BACKUP_EX, vec![json!("")], Duration::from_secs(30)),
        ErrorCode::ExtensionDied,
        "exit status: 3",
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(!ext.is_alive());
    assert!(reaped(pid), "{pid} is still our child");
    // Later calls fail at once too.
    let started = Instant::now();
    assert_code(
        ext.call(ON_PROCESS, vec![], Duration::from_secs(30)),
        ErrorCode::ExtensionDied,
        "exit status: 3",
    );
    assert!(started.elapsed() < Duration::from_millis(100));
}

/// A hook that throws is 13500007 with the thrown message.
pub fn throw_is_exception(t: &TestApp) {
    let ext = t.start().unwrap();
    assert_code(
        ext.call(ON_BACKUP_EX, vec![json!("")], CALL),
        ErrorCode::ExtensionException,
        "disk on fire",
    );
    // The extension survives its hook's exception.
    assert!(ext.is_alive());
    assert_eq!(ext.call(ON_BACKUP, vec![], CALL).unwrap(), Value::Null);
}

/// An extension that never prints its ready line is 13500002 at the start timeout, and reaped.
pub fn never_ready_is_boot_timeout(t: &TestApp, start_timeout: Duration) {
    let started = Instant::now();
    assert_code(
        t.start_with(start_timeout),
        ErrorCode::ExtensionBootTimeout,
        &format!("within {} ms", start_timeout.as_millis()),
    );
    let took = started.elapsed();
    assert!(
        took >= start_timeout && took < start_timeout + Duration::from_secs(3),
        "{took:?}"
    );
    let pid = t.recorded_pid("pid");
    assert!(reaped(pid), "{pid} is still our child");
}
