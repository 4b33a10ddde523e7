//! Resources: no descriptor leaks over many start/shutdown cycles, no zombies, a handle usable
//! from several threads.

use std::time::Duration;

use super::{reaped, TestApp, FD_COUNT};
use crate::backup::extension::protocol::ON_PROCESS;
use crate::backup::extension::Extension;

fn open_fds() -> usize {
    std::fs::read_dir("/proc/self/fd").unwrap().count()
}

#[test]
fn fifty_start_shutdown_cycles_leak_no_fds_and_leave_no_zombies() {
    let _g = FD_COUNT.write();
    let t = TestApp::python("well_behaved.py");
    // One cycle first, so lazily opened process-wide descriptors are already there.
    t.start().unwrap().shutdown(Duration::from_secs(2));
    let before = open_fds();
    let mut pids = Vec::new();
    for i in 0..50 {
        let ext = t.start().unwrap();
        pids.push(ext.pid());
        if i % 2 == 0 {
            ext.call(ON_PROCESS, vec![], Duration::from_secs(10))
                .unwrap();
        }
        ext.shutdown(Duration::from_secs(2));
    }
    let after = open_fds();
    // Each cycle holds three descriptors (stdin socket, stdout and stderr pipes); a leak of any
    // one would show as 50. The slack covers other tests of this binary opening files meanwhile.
    assert!(after <= before + 10, "{before} fds before, {after} after");
    let left: Vec<u32> = pids.into_iter().filter(|&p| !reaped(p)).collect();
    assert!(left.is_empty(), "not reaped: {left:?}");
}

#[test]
fn an_extension_can_be_shared_between_threads() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Extension>();
}
