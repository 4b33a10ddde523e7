//! Backup and restore sessions (`SessionBackup`, `SessionRestore`): one per device at a time,
//! bundles scheduled at most three at once, each bundle driven by its own worker thread through
//! its app's extension hooks, its files handed over as real fds, every event delivered in order
//! by the session's dispatcher thread.
//!
//! Threads, not async: the work is blocking file I/O and child processes, and the C face wants a
//! thread it can name in its header ("callbacks run on the session's event thread").

pub mod control;
pub mod events;
pub mod infos;
pub mod lock;
pub mod progress;

mod backup_flow;
mod extras;
mod hooks;
mod restore_flow;

use std::collections::{HashMap, VecDeque};
use std::fs::File;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::thread::{self, JoinHandle};
use std::time::Duration;

use once_cell::sync::Lazy;

pub use control::{
    BundleCtl, DEFAULT_SEND_RATE, DEFAULT_TIMEOUT_MS, MAX_SEND_RATE, MAX_TIMEOUT_MS,
};
pub use events::{EventSink, FileReady, SessionEvent};
pub use extras::backup_version_json;
pub use infos::BundleInfos;
pub use lock::Scenario;

use self::control::Stop;
use self::events::EventQueue;
use self::lock::SessionLock;
use crate::backup::capabilities::{read_remote_capabilities, RemoteBundleInfo};
use crate::backup::extension::ExtensionHostConfig;
use crate::device::Device;
use crate::error::{Error, ErrorCode, Result};

/// Bundles whose extensions run at the same time.
pub const MAX_BUNDLES_IN_FLIGHT: usize = 3;

/// Version names OpenHarmony treats as "restore whatever the old device said".
const SPECIAL_VERSION_NAMES: [&str; 6] = [
    "0.0.0.0",
    "99.99.99.999",
    "99.99.99.998",
    "99.99.99.997",
    "99.99.99.996",
    "99.99.99.995",
];

/// How the service runs: how to start extensions, and who the caller is (conflict messages).
#[derive(Clone, Debug)]
pub struct ServiceConfig {
    /// Extension start-up settings.
    pub extension: ExtensionHostConfig,
    /// The caller's name, shown to a conflicting second session.
    pub caller_name: String,
    /// Every bundle's timer, instead of OpenHarmony's (15 minutes for app hooks, at least 15
    /// minutes for the data phase). `OHFILE_BUNDLE_TIMEOUT_MS` sets it; for tests and tools that
    /// must not wait that long for a client that never publishes.
    pub bundle_timeout_ms: Option<u64>,
}

/// The environment variable behind [`ServiceConfig::bundle_timeout_ms`].
pub const BUNDLE_TIMEOUT_ENV: &str = "OHFILE_BUNDLE_TIMEOUT_MS";

impl ServiceConfig {
    /// Defaults, with the environment overrides the extension host documents and
    /// `OHFILE_BUNDLE_TIMEOUT_MS`.
    pub fn from_env() -> ServiceConfig {
        let bundle_timeout_ms = std::env::var(BUNDLE_TIMEOUT_ENV)
            .ok()
            .and_then(|v| v.trim().parse::<u64>().ok())
            .filter(|ms| *ms <= MAX_TIMEOUT_MS as u64);
        ServiceConfig {
            extension: ExtensionHostConfig::from_env(),
            caller_name: format!("pid {}", std::process::id()),
            bundle_timeout_ms,
        }
    }

    fn new_ctl(&self, name: &str) -> Arc<BundleCtl> {
        Arc::new(BundleCtl::with_timeout(
            name,
            self.bundle_timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS),
        ))
    }
}

/// Files a restore bundle received from the client and whether it was published.
#[derive(Debug, Default)]
pub(crate) struct Inbox {
    pub handles: VecDeque<String>,
    pub published: bool,
}

/// The restore side of a bundle: what the client asked for, waiting for the worker.
#[derive(Debug, Default)]
pub(crate) struct RestoreInbox {
    pub inbox: Mutex<Inbox>,
    pub cond: Condvar,
}

impl RestoreInbox {
    pub fn lock(&self) -> MutexGuard<'_, Inbox> {
        self.inbox.lock().unwrap_or_else(|p| p.into_inner())
    }
}

/// What a restore bundle restores.
pub(crate) struct RestorePlan {
    /// The installed bundle that receives the data.
    pub target: String,
    /// The old device's description of the bundle.
    pub remote: RemoteBundleInfo,
    /// Requests from the client.
    pub inbox: Arc<RestoreInbox>,
}

pub(crate) enum JobKind {
    Backup,
    Incremental(backup_flow::Previous),
    Restore(RestorePlan),
}

/// One bundle of `IncrementalBackupSession.appendBundles`.
#[derive(Debug)]
pub struct IncrementalBackupData {
    /// The bundle.
    pub bundle_name: String,
    /// When its previous backup ran (Unix seconds).
    pub last_incremental_time: i64,
    /// The manifest of its previous backup (an empty file: there was none).
    pub manifest: File,
    /// `parameters` (JSON text; kept for the app, unused by the service).
    pub parameters: String,
    /// Bigger runs earlier; ties keep their order.
    pub priority: i64,
}

/// One bundle queued or running in a session.
pub(crate) struct Job {
    pub name: String,
    pub ctl: Arc<BundleCtl>,
    pub infos: BundleInfos,
    pub kind: JobKind,
    /// Bigger starts earlier (IncrementalBackupData.priority; -1 when not given).
    pub priority: i64,
}

/// How a bundle's worker ended.
pub(crate) enum Outcome {
    /// It never began (the failing onBundleBegin was sent): no onBundleEnd.
    NotStarted,
    /// It began; onBundleEnd carries this.
    Finished(Result<()>),
}

#[derive(Default)]
struct State {
    queue: VecDeque<Job>,
    bundles: HashMap<String, Arc<BundleCtl>>,
    inboxes: HashMap<String, Arc<RestoreInbox>>,
    running: usize,
}

pub(crate) struct Inner {
    pub device: Device,
    pub scenario: Scenario,
    pub config: ServiceConfig,
    pub events: EventQueue,
    lock: Mutex<Option<SessionLock>>,
    state: Mutex<State>,
    released: AtomicBool,
    died: AtomicBool,
    /// A getBackupDataSize scan is running (one at a time).
    scanning: Arc<AtomicBool>,
    workers: Mutex<Vec<JoinHandle<()>>>,
}

/// The sessions of this process, for the module-level `updateTimer`/`updateSendRate`.
static SESSIONS: Lazy<Mutex<Vec<Weak<Inner>>>> = Lazy::new(|| Mutex::new(Vec::new()));

/// A backup or restore session.
pub struct Session {
    inner: Arc<Inner>,
}

impl Inner {
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether events may still go out (not released, service alive).
    pub fn live(&self) -> bool {
        !self.released.load(Ordering::SeqCst) && !self.died.load(Ordering::SeqCst)
    }

    /// Sends a bundle event unless the session was released meanwhile.
    pub fn emit(&self, event: SessionEvent) {
        if self.live() {
            self.events.send(event);
        }
    }

    fn check_usable(&self, scenario: Scenario) -> Result<()> {
        if self.died.load(Ordering::SeqCst) {
            return Err(Error::new(
                ErrorCode::IpcError,
                "the backup service of this session died; create a new session",
            ));
        }
        if self.released.load(Ordering::SeqCst) {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                "the session was released",
            ));
        }
        if scenario != self.scenario {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                format!(
                    "this call belongs to a {} session, not a {} one",
                    scenario.as_str(),
                    self.scenario.as_str()
                ),
            ));
        }
        Ok(())
    }

    fn stop_all(&self, why: Stop) {
        for ctl in self.state().bundles.values() {
            ctl.stop(why);
        }
        for inbox in self.state().inboxes.values() {
            inbox.cond.notify_all();
        }
    }

    /// The service can no longer serve the session: tell the client once, stop everything.
    fn die(&self, why: &str) {
        if self.released.load(Ordering::SeqCst) || self.died.swap(true, Ordering::SeqCst) {
            return;
        }
        eprintln!("ohfile: backup service died: {why}");
        self.events.discard_pending();
        self.stop_all(Stop::Released);
        self.events.send(SessionEvent::ServiceDied);
    }
}

impl Session {
    /// `new SessionBackup(callbacks)` / `new SessionRestore(callbacks)`: takes the device's session
    /// lock (13500013 with OpenHarmony's JSON message when another session holds it).
    pub fn new(
        device: Device,
        scenario: Scenario,
        config: ServiceConfig,
        sink: Arc<dyn EventSink>,
    ) -> Result<Session> {
        let lock = SessionLock::acquire(&device, scenario, &config.caller_name)?;
        let events = EventQueue::start(sink)
            .map_err(|e| Error::io(&e, "cannot start the session's event thread"))?;
        let inner = Arc::new(Inner {
            device,
            scenario,
            config,
            events,
            lock: Mutex::new(Some(lock)),
            state: Mutex::new(State::default()),
            released: AtomicBool::new(false),
            died: AtomicBool::new(false),
            scanning: Arc::new(AtomicBool::new(false)),
            workers: Mutex::new(Vec::new()),
        });
        let mut sessions = SESSIONS.lock().unwrap_or_else(|p| p.into_inner());
        sessions.retain(|w| w.strong_count() > 0);
        sessions.push(Arc::downgrade(&inner));
        drop(sessions);
        spawn_monitor(Arc::downgrade(&inner));
        Ok(Session { inner })
    }

    /// The session's scenario.
    pub fn scenario(&self) -> Scenario {
        self.inner.scenario
    }

    /// Whether the calling thread is this session's event thread (inside a callback).
    pub fn on_event_thread(&self) -> bool {
        self.inner.events.on_dispatcher_thread()
    }

    /// SessionBackup.appendBundles(names, infos?): unknown bundles get onBundleBegin(13500005),
    /// bundles that do not allow backup onBundleBegin(13500001); the rest are scheduled. Returns
    /// once accepted; may be called again.
    pub fn append_backup_bundles(&self, names: &[String], infos: Option<&[String]>) -> Result<()> {
        self.inner.check_usable(Scenario::Backup)?;
        let infos = per_bundle_infos(names, infos)?;
        let mut jobs = Vec::new();
        let mut rejected = Vec::new();
        for (name, infos) in names.iter().zip(infos) {
            if infos.broadcast_only || self.in_session(name) {
                continue;
            }
            match self.inner.device.app(name) {
                Err(e) => rejected.push(e.with_data(name)),
                Ok(app) if !app.config.allow_to_backup_restore => rejected.push(
                    Error::new(
                        ErrorCode::BackupForbidden,
                        format!("{name} does not allow backup (allowToBackupRestore)"),
                    )
                    .with_data(name),
                ),
                Ok(_) => jobs.push(Job {
                    name: name.clone(),
                    ctl: self.inner.config.new_ctl(name),
                    infos,
                    kind: JobKind::Backup,
                    priority: -1,
                }),
            }
        }
        self.accept(jobs, rejected);
        Ok(())
    }

    /// SessionRestore.appendBundles(capabilitiesFd, names, infos?): the capability file of the old
    /// device is validated (an invalid one rejects 13900020 after every bundle got
    /// onBundleBegin(13500005)); a bundle not installed or not in the file gets 13500005, one the
    /// file or the app marks as not allowed 13500001.
    pub fn append_restore_bundles(
        &self,
        capabilities: &File,
        names: &[String],
        infos: Option<&[String]>,
    ) -> Result<()> {
        self.inner.check_usable(Scenario::Restore)?;
        let infos = per_bundle_infos(names, infos)?;
        let caps = match read_remote_capabilities(capabilities) {
            Ok(c) => c,
            Err(e) => {
                for name in names {
                    self.inner.emit(SessionEvent::BundleBegin(Err(Error::new(
                        ErrorCode::BundleInfoEmpty,
                        e.detail(),
                    )
                    .with_data(name))));
                }
                return Err(e);
            }
        };
        let mut jobs = Vec::new();
        let mut rejected = Vec::new();
        for (name, infos) in names.iter().zip(infos) {
            if infos.broadcast_only || self.in_session(name) {
                continue;
            }
            let target = infos.target_of(name).to_string();
            let Some(remote) = caps.bundle(name) else {
                rejected.push(
                    Error::new(
                        ErrorCode::BundleInfoEmpty,
                        format!("{name} is not in the capability file"),
                    )
                    .with_data(name),
                );
                continue;
            };
            let app = match self.inner.device.app(&target) {
                Ok(app) => app,
                Err(e) => {
                    rejected.push(
                        Error::new(
                            e.code(),
                            format!("{} (restore target of {name})", e.detail()),
                        )
                        .with_data(name),
                    );
                    continue;
                }
            };
            let special = SPECIAL_VERSION_NAMES.iter().any(|v| {
                remote.version_name == *v || remote.version_name.starts_with(&format!("{v}-"))
            });
            if (!remote.all_to_backup && !special) || !app.config.allow_to_backup_restore {
                rejected.push(
                    Error::new(
                        ErrorCode::BackupForbidden,
                        format!("{name} does not allow restore"),
                    )
                    .with_data(name),
                );
                continue;
            }
            let plan = RestorePlan {
                target,
                remote: remote.clone(),
                inbox: Arc::new(RestoreInbox::default()),
            };
            jobs.push(Job {
                name: name.clone(),
                ctl: self.inner.config.new_ctl(name),
                infos,
                kind: JobKind::Restore(plan),
                priority: -1,
            });
        }
        self.accept(jobs, rejected);
        Ok(())
    }

    /// IncrementalBackupSession.appendBundles(list, infos?): like a backup append, each bundle
    /// compared with the manifest of its previous backup. A manifest that cannot be read or
    /// parsed rejects the whole call (13900020): a full backup is never assumed silently.
    pub fn append_incremental_bundles(
        &self,
        list: Vec<IncrementalBackupData>,
        infos: Option<&[String]>,
    ) -> Result<()> {
        self.inner.check_usable(Scenario::Backup)?;
        let names: Vec<String> = list.iter().map(|d| d.bundle_name.clone()).collect();
        let infos = per_bundle_infos(&names, infos)?;
        let mut previous = Vec::with_capacity(list.len());
        for d in &list {
            let manifest =
                crate::backup::incremental::Manifest::read_from(&d.manifest).map_err(|e| {
                    Error::new(
                        e.code(),
                        format!("the previous manifest of {}: {}", d.bundle_name, e.detail()),
                    )
                    .with_data(&d.bundle_name)
                })?;
            previous.push(backup_flow::Previous {
                manifest,
                last_time: d.last_incremental_time,
            });
        }
        let mut jobs = Vec::new();
        let mut rejected = Vec::new();
        for ((d, infos), prev) in list.into_iter().zip(infos).zip(previous) {
            let name = d.bundle_name;
            if infos.broadcast_only || self.in_session(&name) {
                continue;
            }
            match self.inner.device.app(&name) {
                Err(e) => rejected.push(e.with_data(&name)),
                Ok(app) if !app.config.allow_to_backup_restore => rejected.push(
                    Error::new(
                        ErrorCode::BackupForbidden,
                        format!("{name} does not allow backup (allowToBackupRestore)"),
                    )
                    .with_data(&name),
                ),
                Ok(_) => jobs.push(Job {
                    ctl: self.inner.config.new_ctl(&name),
                    name,
                    infos,
                    kind: JobKind::Incremental(prev),
                    priority: d.priority,
                }),
            }
        }
        self.accept(jobs, rejected);
        Ok(())
    }

    fn in_session(&self, name: &str) -> bool {
        self.inner.state().bundles.contains_key(name)
    }

    /// Reports the rejected bundles, queues the accepted ones and starts what may start. When
    /// nothing at all is left to do, onAllBundlesEnd follows the rejections (OpenHarmony leaves a
    /// client that appended only rejected bundles waiting forever; we do not).
    fn accept(&self, jobs: Vec<Job>, rejected: Vec<Error>) {
        let nothing_left = {
            let mut st = self.inner.state();
            for job in jobs {
                st.bundles.insert(job.name.clone(), job.ctl.clone());
                if let JobKind::Restore(plan) = &job.kind {
                    st.inboxes.insert(job.name.clone(), plan.inbox.clone());
                }
                // Higher priority first; equal priorities keep their order.
                let at = st
                    .queue
                    .iter()
                    .position(|q| q.priority < job.priority)
                    .unwrap_or(st.queue.len());
                st.queue.insert(at, job);
            }
            st.queue.is_empty() && st.running == 0
        };
        let any_rejected = !rejected.is_empty();
        for e in rejected {
            self.inner.emit(SessionEvent::BundleBegin(Err(e)));
        }
        if nothing_left && any_rejected {
            self.inner.emit(SessionEvent::AllBundlesEnd(Ok(())));
        }
        schedule(&self.inner);
    }

    /// SessionRestore.getFileHandle({bundleName, uri}): queued until the bundle starts, answered
    /// by onFileReady with writable fds. The uri must be one plain name of `[0-9A-Za-z_.]`.
    pub fn get_file_handle(&self, bundle: &str, uri: &str) -> Result<()> {
        self.inner.check_usable(Scenario::Restore)?;
        validate_uri(uri)?;
        let inbox = self.restore_inbox(bundle)?;
        let mut i = inbox.lock();
        if i.published {
            return Err(Error::new(
                ErrorCode::OperationNotPermitted,
                format!("{bundle} was already published"),
            ));
        }
        i.handles.push_back(uri.to_string());
        inbox.cond.notify_all();
        Ok(())
    }

    /// SessionRestore.publishFile({bundleName, uri: ""}): every file of the bundle was written;
    /// restore it. Once per bundle; a non-empty uri is 13900001.
    pub fn publish_file(&self, bundle: &str, uri: &str) -> Result<()> {
        self.inner.check_usable(Scenario::Restore)?;
        if !uri.is_empty() {
            return Err(Error::new(
                ErrorCode::OperationNotPermitted,
                "publishFile takes an empty uri: it publishes the whole bundle",
            ));
        }
        let inbox = self.restore_inbox(bundle)?;
        let mut i = inbox.lock();
        if i.published {
            return Err(Error::new(
                ErrorCode::OperationNotPermitted,
                format!("{bundle} was already published"),
            ));
        }
        i.published = true;
        inbox.cond.notify_all();
        Ok(())
    }

    fn restore_inbox(&self, bundle: &str) -> Result<Arc<RestoreInbox>> {
        self.inner
            .state()
            .inboxes
            .get(bundle)
            .cloned()
            .ok_or_else(|| {
                Error::new(
                    ErrorCode::InvalidArgument,
                    format!("bundle {bundle:?} is not in this session"),
                )
            })
    }

    /// release(): ends the session at once. Bundles still running are stopped (their extensions
    /// killed and their temp data removed) without further events; the device is free again.
    pub fn release(&self) -> Result<()> {
        if self.inner.released.swap(true, Ordering::SeqCst) {
            return Err(Error::new(
                ErrorCode::InvalidArgument,
                "the session was already released",
            ));
        }
        teardown(&self.inner);
        Ok(())
    }
}

impl Drop for Session {
    fn drop(&mut self) {
        if !self.inner.released.swap(true, Ordering::SeqCst) {
            teardown(&self.inner);
        }
    }
}

fn teardown(inner: &Arc<Inner>) {
    inner.events.discard_pending();
    inner.stop_all(Stop::Released);
    let on_event_thread = inner.events.on_dispatcher_thread();
    if !on_event_thread {
        let workers: Vec<JoinHandle<()>> =
            std::mem::take(&mut *inner.workers.lock().unwrap_or_else(|p| p.into_inner()));
        for w in workers {
            let _ = w.join();
        }
    }
    inner.events.close();
    if let Ok(mut l) = inner.lock.lock() {
        l.take();
    }
}

/// One `BundleInfos` per name (`infos`, when given, must have one string per bundle).
fn per_bundle_infos(names: &[String], infos: Option<&[String]>) -> Result<Vec<BundleInfos>> {
    match infos {
        None => Ok(names.iter().map(|_| BundleInfos::default()).collect()),
        Some(i) if i.len() == names.len() => Ok(i.iter().map(|s| BundleInfos::parse(s)).collect()),
        Some(i) => Err(Error::new(
            ErrorCode::InvalidArgument,
            format!(
                "infos has {} entries for {} bundles; give one per bundle",
                i.len(),
                names.len()
            ),
        )),
    }
}

/// A restore uri: one plain name of `[0-9A-Za-z_.]`, at most 255 bytes, not `.` or `..`.
pub fn validate_uri(uri: &str) -> Result<()> {
    let ok = !uri.is_empty()
        && uri.len() <= 255
        && uri != "."
        && uri != ".."
        && uri
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'.');
    if ok {
        Ok(())
    } else {
        Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("uri {uri:?} is not a file name of [0-9A-Za-z_.]"),
        ))
    }
}

/// Starts queued bundles while fewer than three run.
fn schedule(inner: &Arc<Inner>) {
    loop {
        let job = {
            let mut st = inner.state();
            if !inner.live() || st.running >= MAX_BUNDLES_IN_FLIGHT {
                return;
            }
            let Some(job) = st.queue.pop_front() else {
                return;
            };
            st.running += 1;
            job
        };
        let inner2 = inner.clone();
        let spawned = thread::Builder::new()
            .name(format!("ohfile-bundle-{}", job.name))
            .spawn(move || run_job(inner2, job));
        match spawned {
            Ok(h) => inner
                .workers
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .push(h),
            Err(e) => {
                inner.die(&format!("cannot start a worker thread: {e}"));
                return;
            }
        }
    }
}

/// A bundle from start to end, then the all-bundles check.
fn run_job(inner: Arc<Inner>, job: Job) {
    let ctl = job.ctl.clone();
    let name = job.name.clone();
    let watchdog = {
        let ctl = ctl.clone();
        thread::Builder::new()
            .name(format!("ohfile-timer-{name}"))
            .spawn(move || ctl.watch())
            .ok()
    };
    let result = catch_unwind(AssertUnwindSafe(|| match &job.kind {
        JobKind::Backup | JobKind::Incremental(_) => backup_flow::run(&inner, &job),
        JobKind::Restore(plan) => restore_flow::run(&inner, &job, plan),
    }));
    ctl.finish();
    if let Some(w) = watchdog {
        let _ = w.join();
    }
    match result {
        Ok(Outcome::NotStarted) => {}
        Ok(Outcome::Finished(r)) => {
            let r = match (r, ctl.stopped()) {
                (Err(_), Some(Stop::TimedOut)) => Err(Error::new(
                    ErrorCode::ExtensionTimeout,
                    format!("bundle {name} timed out"),
                )),
                // A cancelled bundle ends as a success (OpenHarmony's onBundleEnd(0)).
                (_, Some(Stop::Cancelled)) => Ok(()),
                (r, _) => r,
            };
            inner.emit(SessionEvent::BundleEnd(
                r.map(|_| name.clone()).map_err(|e| e.with_data(&name)),
            ));
        }
        Err(_) => inner.die(&format!("the worker of bundle {name} panicked")),
    }
    let all_done = {
        let mut st = inner.state();
        st.bundles.remove(&name);
        st.inboxes.remove(&name);
        st.running -= 1;
        st.queue.is_empty() && st.running == 0
    };
    schedule(&inner);
    if all_done {
        inner.emit(SessionEvent::AllBundlesEnd(Ok(())));
    }
}

/// Watches that the device's session lock is still ours; when the state is wiped under the
/// session, the service can no longer serve it (onBackupServiceDied, then 13600001).
fn spawn_monitor(weak: Weak<Inner>) {
    let _ = thread::Builder::new()
        .name("ohfile-session-monitor".into())
        .spawn(move || loop {
            thread::sleep(Duration::from_millis(250));
            let Some(inner) = weak.upgrade() else { return };
            if inner.released.load(Ordering::SeqCst) || inner.died.load(Ordering::SeqCst) {
                return;
            }
            let valid = inner
                .lock
                .lock()
                .map(|l| l.as_ref().map(|l| l.still_valid()).unwrap_or(false))
                .unwrap_or(false);
            if !valid {
                inner.die("the device's session state was removed");
                return;
            }
        });
}

fn live_sessions() -> Vec<Arc<Inner>> {
    SESSIONS
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .filter_map(Weak::upgrade)
        .filter(|s| s.live())
        .collect()
}

fn running_ctl(bundle: &str, scenario: Option<Scenario>) -> Option<Arc<BundleCtl>> {
    live_sessions()
        .into_iter()
        .filter(|s| scenario.is_none_or(|sc| s.scenario == sc))
        .find_map(|s| {
            s.state()
                .bundles
                .get(bundle)
                .filter(|c| c.is_running())
                .cloned()
        })
}

/// backup.updateTimer(bundle, ms): ms in [0, 14400000] (else 401); restarts the running timer,
/// 0 ends the bundle now with 13500003. False when the bundle is not running in this process.
pub fn update_timer(bundle: &str, ms: i64) -> Result<bool> {
    if !(0..=MAX_TIMEOUT_MS).contains(&ms) {
        return Err(Error::new(
            ErrorCode::ParameterError,
            format!("timeout {ms} ms is outside [0, {MAX_TIMEOUT_MS}]"),
        ));
    }
    Ok(match running_ctl(bundle, None) {
        Some(ctl) => {
            ctl.update_timer(ms as u64);
            true
        }
        None => false,
    })
}

/// backup.updateSendRate(bundle, rate): fds per second for a running backup bundle (negative →
/// 401, above 10000 clamped, 0 pauses). False when the bundle is not running in a backup session.
pub fn update_send_rate(bundle: &str, rate: i64) -> Result<bool> {
    if rate < 0 {
        return Err(Error::new(
            ErrorCode::ParameterError,
            format!("send rate {rate} is negative"),
        ));
    }
    Ok(match running_ctl(bundle, Some(Scenario::Backup)) {
        Some(ctl) => {
            ctl.update_send_rate(rate.min(MAX_SEND_RATE) as u32);
            true
        }
        None => false,
    })
}

/// backup.getBackupInfo(bundle): the text the app's extension returns from getBackupInfo, or None
/// when the bundle is unknown, has no extension, or the extension fails.
pub fn get_backup_info(device: &Device, bundle: &str, config: &ServiceConfig) -> Option<String> {
    hooks::backup_info(device, bundle, &config.extension)
}

#[cfg(test)]
mod tests;
