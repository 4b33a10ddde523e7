//! The per-folder sync state machine the faces use: `start()` checks the device conditions and
//! begins a run on a worker thread, or — during a run — queues exactly one more run (OpenHarmony
//! coalesces the same way); `stop()` asks the run to end (idle: nothing to do); listeners get the
//! run's events in order and, when they register, the current state at once. A run that
//! completes with NO_ERROR records the last sync time.
//!
//! One `Syncer` exists per (device root, namespace) in a process, so every `FileSync` instance of
//! an app shares its runs and events. Across processes the engine's run lock keeps runs apart.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use once_cell::sync::Lazy;

use super::conditions::Conditions;
use super::engine::{run_once, RunControl, RunOutcome};
use super::location::open_cloud;
use super::progress::{SyncErrorType, SyncProgress, SyncState};
use super::scope::SyncScope;
use super::state_db::{StateDb, META_LAST_SYNC_TIME};
use crate::device::Device;
use crate::error::Result;

/// Meta key: the last terminal event (`"<state>,<error>"`), replayed to listeners of a process
/// that has not seen a run itself.
const META_LAST_EVENT: &str = "lastEvent";

/// A progress listener. Called on the syncer's worker thread (the replay at registration on the
/// registering thread); it must not block for long.
pub type SyncListener = Arc<dyn Fn(SyncProgress) + Send + Sync>;

#[derive(Default)]
struct Inner {
    running: bool,
    /// The terminal event is being delivered (the syncer is idle but `wait_idle` still waits,
    /// so a waiter returns only after every listener has seen the end).
    delivering: bool,
    /// A start arrived during the run: run once more before reporting.
    pending: bool,
    /// The stop flag of the run in flight.
    stop: Arc<AtomicBool>,
    /// The last event sent (what a new listener is told).
    current: Option<SyncProgress>,
    listeners: Vec<(u64, SyncListener)>,
    next_id: u64,
}

/// The sync state machine of one synced folder.
pub struct Syncer {
    device: Device,
    scope: SyncScope,
    inner: Mutex<Inner>,
    idle: Condvar,
    /// Serialises event delivery with the replay to a new listener, so no listener ever sees an
    /// older state after a newer one.
    emit_lock: Mutex<()>,
    /// The thread delivering events right now: a listener that subscribes from inside its
    /// callback is already in order and must not wait for the lock its own delivery holds.
    emitting_on: Mutex<Option<std::thread::ThreadId>>,
}

/// The syncers of this process by (device root, namespace).
type Registry = HashMap<(PathBuf, String), Weak<Syncer>>;

static REGISTRY: Lazy<Mutex<Registry>> = Lazy::new(|| Mutex::new(HashMap::new()));

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

impl Syncer {
    /// The process's syncer of `scope` on `device`.
    pub fn for_scope(device: &Device, scope: SyncScope) -> Result<Arc<Syncer>> {
        let key = (device.root().to_path_buf(), scope.namespace().to_string());
        let mut reg = lock(&REGISTRY);
        reg.retain(|_, w| w.strong_count() > 0);
        if let Some(s) = reg.get(&key).and_then(Weak::upgrade) {
            return Ok(s);
        }
        // Open the state database once now, so a broken state folder fails the constructor
        // rather than the first run.
        StateDb::open(device, &scope)?;
        let s = Arc::new(Syncer {
            device: device.clone(),
            scope,
            inner: Mutex::new(Inner::default()),
            idle: Condvar::new(),
            emit_lock: Mutex::new(()),
            emitting_on: Mutex::new(None),
        });
        reg.insert(key, Arc::downgrade(&s));
        Ok(s)
    }

    /// The folder this syncer syncs.
    pub fn scope(&self) -> &SyncScope {
        &self.scope
    }

    /// Starts a run, after the pre-flight checks (22400002 no network, 22400001 cloud switch off,
    /// 22400003 battery low). During a run it succeeds and queues one more run.
    pub fn start(self: &Arc<Self>) -> Result<()> {
        Conditions::read(&self.device, &self.scope)?.preflight()?;
        let mut inner = lock(&self.inner);
        if inner.running {
            inner.pending = true;
            return Ok(());
        }
        inner.running = true;
        inner.pending = false;
        inner.stop = Arc::new(AtomicBool::new(false));
        drop(inner);
        let me = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name("ohfile-sync".into())
            .spawn(move || me.work());
        if let Err(e) = spawned {
            let mut inner = lock(&self.inner);
            inner.running = false;
            self.idle.notify_all();
            return Err(crate::error::Error::io(&e, "cannot start the sync thread"));
        }
        Ok(())
    }

    /// Asks the run in flight to stop (it ends with a STOPPED event); a queued run is dropped.
    /// Idle: nothing to do.
    pub fn stop(&self) -> Result<()> {
        let mut inner = lock(&self.inner);
        if inner.running {
            inner.stop.store(true, Ordering::SeqCst);
            inner.pending = false;
        }
        Ok(())
    }

    /// Adds a listener and tells it the current state (the run's latest event, or the last
    /// terminal event this folder recorded) at once, on this thread.
    pub fn subscribe(&self, f: SyncListener) -> u64 {
        let reentrant = *lock(&self.emitting_on) == Some(std::thread::current().id());
        let _order = (!reentrant).then(|| lock(&self.emit_lock));
        let (id, current) = {
            let mut inner = lock(&self.inner);
            inner.next_id += 1;
            let id = inner.next_id;
            inner.listeners.push((id, Arc::clone(&f)));
            (id, inner.current)
        };
        if let Some(p) = current.or_else(|| self.recorded_event()) {
            deliver(&f, p);
        }
        id
    }

    /// Removes a listener; false when it was not registered.
    pub fn unsubscribe(&self, id: u64) -> bool {
        let mut inner = lock(&self.inner);
        let before = inner.listeners.len();
        inner.listeners.retain(|(i, _)| *i != id);
        inner.listeners.len() != before
    }

    /// When the last run that completed with NO_ERROR ended, in ms since the epoch (0: never).
    pub fn last_sync_time(&self) -> Result<i64> {
        let db = StateDb::open(&self.device, &self.scope)?;
        Ok(db.meta_i64(META_LAST_SYNC_TIME)?.unwrap_or(0))
    }

    /// Whether a run is in flight (or queued).
    pub fn is_running(&self) -> bool {
        lock(&self.inner).running
    }

    /// Waits until no run is in flight; false on timeout.
    pub fn wait_idle(&self, timeout: Option<Duration>) -> bool {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut inner = lock(&self.inner);
        while inner.running || inner.delivering {
            match deadline {
                None => inner = self.idle.wait(inner).unwrap_or_else(|p| p.into_inner()),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return false;
                    }
                    inner = self
                        .idle
                        .wait_timeout(inner, d - now)
                        .unwrap_or_else(|p| p.into_inner())
                        .0;
                }
            }
        }
        true
    }

    /// The worker: runs until no run is queued, then sends the terminal event.
    fn work(self: Arc<Self>) {
        loop {
            let stop = Arc::clone(&lock(&self.inner).stop);
            let outcome = self.run(&stop);
            let stopped = stop.load(Ordering::SeqCst);
            let terminal = match outcome {
                RunOutcome::Completed if !stopped => {
                    let mut inner = lock(&self.inner);
                    if inner.pending {
                        inner.pending = false;
                        continue;
                    }
                    drop(inner);
                    // The time is recorded before COMPLETED goes out, so a listener that asks
                    // for it on COMPLETED sees the new value.
                    let _ = self.record_success();
                    SyncProgress {
                        state: SyncState::Completed,
                        error: SyncErrorType::NoError,
                    }
                }
                RunOutcome::Completed | RunOutcome::Stopped => SyncProgress {
                    state: SyncState::Stopped,
                    error: SyncErrorType::NoError,
                },
                RunOutcome::Failed { state, error } => SyncProgress { state, error },
            };
            let _ = self.record_event(terminal);
            // Terminal event and "idle" are published together: a start() made after a listener
            // saw the terminal event always begins a new run.
            let _order = lock(&self.emit_lock);
            let listeners = {
                let mut inner = lock(&self.inner);
                inner.current = Some(terminal);
                inner.running = false;
                inner.delivering = true;
                inner.pending = false;
                inner.listeners.clone()
            };
            self.deliver_all(&listeners, terminal);
            lock(&self.inner).delivering = false;
            self.idle.notify_all();
            return;
        }
    }

    fn run(&self, stop: &AtomicBool) -> RunOutcome {
        let failed = RunOutcome::Failed {
            state: SyncState::DownloadFailed,
            error: SyncErrorType::UnknownError,
        };
        let cloud = match open_cloud(&self.device) {
            Ok(c) => c,
            Err(_) => return failed,
        };
        let progress = |state: SyncState| {
            self.emit(SyncProgress {
                state,
                error: SyncErrorType::NoError,
            });
        };
        let ctl = RunControl {
            stop,
            progress: &progress,
        };
        catch_unwind(AssertUnwindSafe(|| {
            run_once(&self.device, &self.scope, &*cloud, &ctl)
        }))
        .unwrap_or(failed)
    }

    fn emit(&self, p: SyncProgress) {
        let _order = lock(&self.emit_lock);
        let listeners = {
            let mut inner = lock(&self.inner);
            inner.current = Some(p);
            inner.listeners.clone()
        };
        self.deliver_all(&listeners, p);
    }

    /// Calls every listener with `p`; the caller holds `emit_lock`.
    fn deliver_all(&self, listeners: &[(u64, SyncListener)], p: SyncProgress) {
        *lock(&self.emitting_on) = Some(std::thread::current().id());
        for (_, f) in listeners {
            deliver(f, p);
        }
        *lock(&self.emitting_on) = None;
    }

    fn record_success(&self) -> Result<()> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_millis() as i64)
            .unwrap_or(0);
        let mut db = StateDb::open(&self.device, &self.scope)?;
        db.write(|tx| tx.set_meta(META_LAST_SYNC_TIME, &now.to_string()))
    }

    fn record_event(&self, p: SyncProgress) -> Result<()> {
        let mut db = StateDb::open(&self.device, &self.scope)?;
        db.write(|tx| {
            tx.set_meta(
                META_LAST_EVENT,
                &format!("{},{}", p.state as i32, p.error as i32),
            )
        })
    }

    fn recorded_event(&self) -> Option<SyncProgress> {
        let db = StateDb::open(&self.device, &self.scope).ok()?;
        let v = db.meta(META_LAST_EVENT).ok()??;
        let (s, e) = v.split_once(',')?;
        Some(SyncProgress {
            state: SyncState::from_i32(s.parse().ok()?)?,
            error: SyncErrorType::from_i32(e.parse().ok()?)?,
        })
    }
}

/// Calls a listener; a panicking listener is not allowed to take the worker down.
fn deliver(f: &SyncListener, p: SyncProgress) {
    let _ = catch_unwind(AssertUnwindSafe(|| f(p)));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cloudsync::engine::test_support::{app, cloud_files, set_device_json, write, World};
    use crate::error::ErrorCode;
    use serde_json::json;

    type Events = Arc<Mutex<Vec<SyncProgress>>>;

    fn listen(s: &Syncer) -> (Events, u64) {
        let events: Events = Arc::default();
        let e = Arc::clone(&events);
        let id = s.subscribe(Arc::new(move |p| lock(&e).push(p)));
        (events, id)
    }

    fn terminal(events: &Events) -> Vec<SyncProgress> {
        lock(events)
            .iter()
            .copied()
            .filter(|p| !matches!(p.state, SyncState::Uploading | SyncState::Downloading))
            .collect()
    }

    const COMPLETED: SyncProgress = SyncProgress {
        state: SyncState::Completed,
        error: SyncErrorType::NoError,
    };
    const STOPPED: SyncProgress = SyncProgress {
        state: SyncState::Stopped,
        error: SyncErrorType::NoError,
    };

    #[test]
    fn a_run_uploads_reports_completed_and_records_the_time() {
        let w = World::new();
        let a = w.device("a");
        write(&a, "notes/1.txt", b"one");
        let s = Syncer::for_scope(&a, app()).unwrap();
        assert_eq!(s.last_sync_time().unwrap(), 0);
        let (events, _) = listen(&s);
        assert!(lock(&events).is_empty(), "nothing to replay before any run");
        let before = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap()
            .as_millis() as i64;
        s.start().unwrap();
        assert!(s.wait_idle(Some(Duration::from_secs(30))));
        let ev = lock(&events).clone();
        assert_eq!(ev.last(), Some(&COMPLETED));
        assert!(ev[..ev.len() - 1]
            .iter()
            .all(|p| p.error == SyncErrorType::NoError
                && matches!(p.state, SyncState::Uploading | SyncState::Downloading)));
        assert!(ev.contains(&SyncProgress {
            state: SyncState::Uploading,
            error: SyncErrorType::NoError
        }));
        let t = s.last_sync_time().unwrap();
        assert!(t >= before, "{t} < {before}");
        assert_eq!(
            cloud_files(&w.cloud()),
            vec![("notes/1.txt".to_string(), b"one".to_vec())]
        );
        // One syncer per folder per process: a second handle shares its state.
        assert!(Arc::ptr_eq(&s, &Syncer::for_scope(&a, app()).unwrap()));
    }

    #[test]
    fn preflight_errors_reject_start_and_start_nothing() {
        let w = World::new();
        let a = w.device("a");
        let s = Syncer::for_scope(&a, app()).unwrap();
        for (key, value, code) in [
            ("network", json!("none"), ErrorCode::NetworkUnavailable),
            (
                "cloudSwitch",
                json!({ "com.example.notes": false }),
                ErrorCode::CloudNotReady,
            ),
            ("batteryLevel", json!(9), ErrorCode::BatteryLevelWarning),
        ] {
            set_device_json(&a, key, value);
            assert_eq!(s.start().unwrap_err().code(), code, "{key}");
            assert!(!s.is_running());
            set_device_json(&a, key, serde_json::Value::Null);
        }
        // Charging makes a low battery fine.
        set_device_json(&a, "batteryLevel", json!(3));
        set_device_json(&a, "charging", json!(true));
        s.start().unwrap();
        assert!(s.wait_idle(Some(Duration::from_secs(30))));
    }

    #[test]
    fn a_start_during_a_run_queues_exactly_one_more_run() {
        let w = World::new();
        let a = w.device("a");
        for i in 0..300 {
            write(&a, &format!("f{i}.txt"), format!("{i}").as_bytes());
        }
        let s = Syncer::for_scope(&a, app()).unwrap();
        let (events, _) = listen(&s);
        // On the first event of the first run, add a file and start again twice.
        let s2 = Arc::clone(&s);
        let a2 = a.clone();
        let once = AtomicBool::new(false);
        s.subscribe(Arc::new(move |p| {
            if p.state == SyncState::Uploading && !once.swap(true, Ordering::SeqCst) {
                write(&a2, "late.txt", b"late");
                s2.start().unwrap();
                s2.start().unwrap();
            }
        }));
        s.start().unwrap();
        assert!(s.wait_idle(Some(Duration::from_secs(60))));
        assert_eq!(
            terminal(&events),
            vec![COMPLETED],
            "one report for both runs"
        );
        let keys: Vec<String> = cloud_files(&w.cloud())
            .into_iter()
            .map(|(k, _)| k)
            .collect();
        assert!(
            keys.contains(&"late.txt".to_string()),
            "the queued run did the late work"
        );
        assert_eq!(keys.len(), 301);
    }

    #[test]
    fn stop_mid_run_reports_stopped_and_a_later_start_finishes() {
        let w = World::new();
        let a = w.device("a");
        for i in 0..400 {
            write(&a, &format!("d/f{i}.txt"), format!("{i}").as_bytes());
        }
        let s = Syncer::for_scope(&a, app()).unwrap();
        let (events, _) = listen(&s);
        let s2 = Arc::clone(&s);
        let stopper = s.subscribe(Arc::new(move |p| {
            if p.state == SyncState::Uploading {
                s2.stop().unwrap();
            }
        }));
        s.start().unwrap();
        assert!(s.wait_idle(Some(Duration::from_secs(60))));
        assert_eq!(terminal(&events), vec![STOPPED]);
        assert_eq!(
            s.last_sync_time().unwrap(),
            0,
            "a stopped run is not a sync"
        );
        assert!(
            cloud_files(&w.cloud()).len() < 400,
            "stopped before the end"
        );
        assert!(s.unsubscribe(stopper));
        assert!(!s.unsubscribe(stopper));
        s.start().unwrap();
        assert!(s.wait_idle(Some(Duration::from_secs(60))));
        assert_eq!(terminal(&events), vec![STOPPED, COMPLETED]);
        assert_eq!(cloud_files(&w.cloud()).len(), 400);
        // Stop when idle is fine and changes nothing.
        s.stop().unwrap();
        assert!(!s.is_running());
    }

    #[test]
    fn losing_the_network_fails_the_run_with_its_error() {
        let w = World::new();
        let a = w.device("a");
        for i in 0..400 {
            write(&a, &format!("f{i}"), b"x");
        }
        let s = Syncer::for_scope(&a, app()).unwrap();
        let (events, _) = listen(&s);
        let a2 = a.clone();
        s.subscribe(Arc::new(move |p| {
            if p.state == SyncState::Uploading {
                set_device_json(&a2, "network", json!("none"));
            }
        }));
        s.start().unwrap();
        assert!(s.wait_idle(Some(Duration::from_secs(60))));
        assert_eq!(
            terminal(&events),
            vec![SyncProgress {
                state: SyncState::UploadFailed,
                error: SyncErrorType::NetworkUnavailable
            }]
        );
        assert_eq!(s.last_sync_time().unwrap(), 0);
    }

    #[test]
    fn a_new_listener_is_told_the_current_state_even_in_a_fresh_process() {
        let w = World::new();
        let a = w.device("a");
        write(&a, "x", b"x");
        {
            let s = Syncer::for_scope(&a, app()).unwrap();
            s.start().unwrap();
            assert!(s.wait_idle(Some(Duration::from_secs(30))));
            let (events, _) = listen(&s);
            assert_eq!(lock(&events).clone(), vec![COMPLETED]);
        }
        // All handles dropped: the next one is new, as in another process, and replays what the
        // folder recorded.
        let s = Syncer::for_scope(&a, app()).unwrap();
        let (events, _) = listen(&s);
        assert_eq!(lock(&events).clone(), vec![COMPLETED]);
    }

    #[test]
    fn a_listener_may_subscribe_and_unsubscribe_from_its_callback() {
        let w = World::new();
        let a = w.device("a");
        write(&a, "x", b"x");
        let s = Syncer::for_scope(&a, app()).unwrap();
        let inner_events: Events = Arc::default();
        let (s2, ie) = (Arc::clone(&s), Arc::clone(&inner_events));
        let added = AtomicBool::new(false);
        s.subscribe(Arc::new(move |p| {
            if p.state == SyncState::Completed && !added.swap(true, Ordering::SeqCst) {
                let ie = Arc::clone(&ie);
                // Replayed at once, on this thread, without deadlocking on the delivery.
                let id = s2.subscribe(Arc::new(move |p| lock(&ie).push(p)));
                assert!(s2.unsubscribe(id));
            }
        }));
        s.start().unwrap();
        assert!(s.wait_idle(Some(Duration::from_secs(30))));
        assert_eq!(lock(&inner_events).clone(), vec![COMPLETED]);
    }

    #[test]
    fn a_panicking_listener_does_not_stop_the_run() {
        let w = World::new();
        let a = w.device("a");
        write(&a, "x", b"x");
        let s = Syncer::for_scope(&a, app()).unwrap();
        s.subscribe(Arc::new(|_| panic!("listener bug")));
        let (events, _) = listen(&s);
        s.start().unwrap();
        assert!(s.wait_idle(Some(Duration::from_secs(30))));
        assert_eq!(terminal(&events), vec![COMPLETED]);
    }
}
