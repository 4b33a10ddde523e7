//! `exec` extensions: Python fixtures speaking the line protocol themselves.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

use serde_json::json;

use super::behaviours::*;
use super::{assert_code, ends_soon, reaped, TestApp, CALL, FD_COUNT};
use crate::backup::extension::protocol::*;
use crate::error::ErrorCode;

#[test]
fn exec_extension_answers_every_hook_with_the_promised_environment() {
    let _g = FD_COUNT.read();
    // A descriptor opened without O_CLOEXEC, as a careless host application might have.
    // SAFETY: dup(2) of our own stderr; the result is owned right away.
    let leaked = unsafe { OwnedFd::from_raw_fd(libc::dup(2)) };
    assert!(leaked.as_raw_fd() > 2);
    let t = TestApp::python("well_behaved.py");
    let ext = t.start().unwrap();
    let info = answers_every_hook(&t, &ext);
    // 0, 1, 2 and the descriptor listing /proc/self/fd: nothing of ours crossed over.
    assert_eq!(info["fds"], json!([0, 1, 2, 3]));
    assert_eq!(
        ext.call(GET_RESTORE_COMPATIBILITY_INFO, vec![json!("peer")], CALL)
            .unwrap(),
        json!("restore-compat:peer")
    );
    // A timeout too large to add to the clock means "no timeout".
    assert!(ext.call(ON_PROCESS, vec![], Duration::MAX).is_ok());
    // It exits by itself once stdin closes, well before the grace period ends.
    let pid = ext.pid();
    let started = Instant::now();
    ext.shutdown(Duration::from_secs(5));
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
    assert!(reaped(pid));
}

#[test]
fn exec_extension_serves_calls_concurrently() {
    let _g = FD_COUNT.read();
    serves_calls_concurrently(&TestApp::python("well_behaved.py"));
}

#[test]
fn exec_extension_that_hangs_times_out() {
    let _g = FD_COUNT.read();
    hang_times_out(&TestApp::python("hangs.py"));
}

#[test]
fn exec_extension_that_exits_mid_call_died() {
    let _g = FD_COUNT.read();
    exit_is_died(&TestApp::python("exits.py"));
}

#[test]
fn exec_extension_that_throws_is_an_exception() {
    let _g = FD_COUNT.read();
    throw_is_exception(&TestApp::python("throws.py"));
}

#[test]
fn exec_extension_never_ready_is_a_boot_timeout() {
    let _g = FD_COUNT.read();
    never_ready_is_boot_timeout(
        &TestApp::new(crate::device::app::ExtensionLaunch::Exec(vec![
            "sh".into(),
            super::fixture("never_ready.sh")
                .to_string_lossy()
                .into_owned(),
        ])),
        Duration::from_millis(300),
    );
}

#[test]
fn stdout_that_is_not_json_is_a_protocol_error_and_the_child_is_killed() {
    let _g = FD_COUNT.read();
    let t = TestApp::python("garbage.py");
    let ext = t.start().unwrap();
    let pid = ext.pid();
    assert_code(
        ext.call(ON_BACKUP, vec![], CALL),
        ErrorCode::ExtensionDied,
        "protocol error: stdout line not JSON",
    );
    assert!(!ext.is_alive());
    assert!(reaped(pid));
}

#[test]
fn death_is_noticed_even_when_a_grandchild_holds_stdout_and_the_grandchild_is_killed() {
    let _g = FD_COUNT.read();
    let t = TestApp::python("orphan.py");
    let ext = t.start().unwrap();
    let started = Instant::now();
    assert_code(
        ext.call(ON_BACKUP_EX, vec![json!("")], Duration::from_secs(30)),
        ErrorCode::ExtensionDied,
        "exit status: 4",
    );
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    let grandchild = t.recorded_pid("grandchild");
    assert!(ends_soon(grandchild), "grandchild {grandchild} still runs");
}

#[test]
fn exit_before_ready_is_a_boot_failure_naming_the_last_stderr_line() {
    let _g = FD_COUNT.read();
    let t = TestApp::sh("echo 'cannot open the database' >&2; exit 5");
    assert_code(
        t.start(),
        ErrorCode::ExtensionBootFailed,
        "exit status: 5) before it was ready; its last stderr line: cannot open the database",
    );
}

#[test]
fn a_program_that_cannot_be_started_is_a_boot_failure() {
    let t = TestApp::new(crate::device::app::ExtensionLaunch::Exec(vec![
        "./no-such-extension".into(),
    ]));
    assert_code(t.start(), ErrorCode::ExtensionBootFailed, "cannot start");
}

#[test]
fn shutdown_kills_an_extension_that_ignores_stdin_closing() {
    let _g = FD_COUNT.read();
    let t = TestApp::sh("echo '{\"ready\":true}'; exec sleep 30");
    let ext = t.start().unwrap();
    let pid = ext.pid();
    assert!(ext.is_alive());
    let started = Instant::now();
    ext.shutdown(Duration::from_millis(200));
    let took = started.elapsed();
    assert!(
        took >= Duration::from_millis(200) && took < Duration::from_secs(2),
        "{took:?}"
    );
    assert!(reaped(pid));
}

#[test]
fn kill_is_idempotent_and_fails_later_calls() {
    let _g = FD_COUNT.read();
    let t = TestApp::python("well_behaved.py");
    let mut ext = t.start().unwrap();
    let pid = ext.pid();
    ext.kill();
    ext.kill();
    assert!(!ext.is_alive());
    assert!(reaped(pid));
    assert_code(
        ext.call(ON_PROCESS, vec![], CALL),
        ErrorCode::ExtensionDied,
        "stopped",
    );
}

#[test]
fn abort_from_another_thread_ends_a_pending_call_at_once() {
    let _g = FD_COUNT.read();
    let t = TestApp::python("hangs.py");
    let ext = t.start().unwrap();
    let pid = ext.pid();
    std::thread::scope(|s| {
        let started = Instant::now();
        let waiting = s.spawn(|| ext.call(ON_BACKUP_EX, vec![json!("")], Duration::from_secs(30)));
        std::thread::sleep(Duration::from_millis(200));
        ext.abort();
        assert_code(waiting.join().unwrap(), ErrorCode::ExtensionDied, "stopped");
        assert!(started.elapsed() < Duration::from_secs(3));
    });
    assert!(!ext.is_alive());
    assert!(reaped(pid));
}

#[test]
fn dropping_an_extension_kills_and_reaps_it() {
    let _g = FD_COUNT.read();
    let t = TestApp::sh("echo '{\"ready\":true}'; exec sleep 30");
    let ext = t.start().unwrap();
    let pid = ext.pid();
    drop(ext);
    assert!(reaped(pid));
}

#[test]
fn a_reply_before_ready_is_a_boot_failure() {
    let _g = FD_COUNT.read();
    let t = TestApp::sh("echo '{\"id\":1,\"result\":null}'; exec sleep 30");
    assert_code(
        t.start(),
        ErrorCode::ExtensionBootFailed,
        "a reply came before the ready line",
    );
}

#[test]
fn hook_results_are_any_json() {
    let _g = FD_COUNT.read();
    // A shell extension answering every request with the same structured result.
    let t = TestApp::sh(
        "echo '{\"ready\":true}'; while read -r line; do \
         id=${line#*\\\"id\\\":}; id=${id%%,*}; \
         echo \"{\\\"id\\\":$id,\\\"result\\\":{\\\"n\\\":[1,2]}}\"; done",
    );
    let ext = t.start().unwrap();
    for _ in 0..3 {
        assert_eq!(
            ext.call(ON_PROCESS, vec![], CALL).unwrap(),
            json!({"n": [1, 2]})
        );
    }
}
