//! One running download and the process-wide registry of them. A task belongs to no instance:
//! every instance that started it has joined it and hears its events, and it runs to its end
//! on its own thread whether or not those instances are still around.

use std::collections::HashMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, LazyLock, Mutex, MutexGuard, Weak};
use std::thread::{self, ThreadId};
use std::time::{Duration, Instant};

use super::listeners::Listeners;
use crate::cloudsync::backend::{CloudBackend, ObjectMeta};
use crate::cloudsync::conditions::{Conditions, Network};
use crate::cloudsync::engine::{in_step, mark_downloaded, Entry, SyncedFolder};
use crate::cloudsync::fetch::{self, FetchControl, GuardedOutcome, PlaceGuard};
use crate::cloudsync::location::open_cloud;
use crate::cloudsync::progress::{DownloadErrorType, DownloadProgress, DownloadState};
use crate::cloudsync::scope::SyncScope;
use crate::cloudsync::state_db::{Dirty, LocalStat, Position, StateDb, UploadStatus};
use crate::device::Device;
use crate::error::{Error, ErrorCode, Result};

/// RUNNING events of one download are at least this far apart (at most ~10 per second).
pub const RUNNING_EVERY: Duration = Duration::from_millis(100);

/// Which file a task downloads: the device root, the cloud namespace and the relative path.
pub(crate) type TaskKey = (PathBuf, String, String);

/// Every task of this process that has not finished yet, by file.
static REGISTRY: LazyLock<Mutex<HashMap<TaskKey, Arc<Task>>>> = LazyLock::new(Default::default);

/// Locks `m`, carrying on past a panic elsewhere (the data are plain lists and flags).
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// One download of one file.
pub(crate) struct Task {
    key: TaskKey,
    device: Device,
    scope: SyncScope,
    rel: String,
    uri: String,
    /// Set by `stop`; the fetch checks it between chunks.
    stop: AtomicBool,
    /// With `stop`: delete the partial data too.
    clean: AtomicBool,
    state: Mutex<TaskState>,
    ended: Condvar,
    /// The task's thread (kept so tests can tell it has returned).
    handle: Mutex<Option<thread::JoinHandle<()>>>,
}

struct TaskState {
    /// The instances that started this download (each hears every event).
    joined: Vec<Weak<Listeners>>,
    finished: bool,
    thread: Option<ThreadId>,
}

/// What a task does once it runs.
enum Plan {
    /// The file is already local: report it complete.
    Local(u64),
    /// Bring it down from the cloud.
    Fetch,
}

impl Task {
    /// Whether the task's thread has ended (its final event delivered).
    pub(crate) fn is_finished(&self) -> bool {
        lock(&self.state).finished
    }

    /// Waits for the end of the task, at most until `deadline`; whether it ended.
    pub(crate) fn wait(&self, deadline: Option<Instant>) -> bool {
        let mut st = lock(&self.state);
        while !st.finished {
            match deadline {
                None => st = self.ended.wait(st).unwrap_or_else(|e| e.into_inner()),
                Some(d) => {
                    let now = Instant::now();
                    if now >= d {
                        return false;
                    }
                    st = self
                        .ended
                        .wait_timeout(st, d - now)
                        .unwrap_or_else(|e| e.into_inner())
                        .0;
                }
            }
        }
        true
    }

    /// Asks the task to stop (and to delete its partial data when `clean`), then waits for it to
    /// end, unless the caller is the task's own thread (a listener calling stop).
    pub(crate) fn stop_and_wait(&self, clean: bool, limit: Duration) {
        if clean {
            self.clean.store(true, Ordering::SeqCst);
        }
        self.stop.store(true, Ordering::SeqCst);
        let own = lock(&self.state).thread == Some(thread::current().id());
        if !own {
            self.wait(Some(Instant::now() + limit));
        }
    }

    /// Whether the task's thread has returned.
    #[cfg(test)]
    pub(crate) fn thread_ended(&self) -> bool {
        match lock(&self.handle).as_ref() {
            Some(h) => h.is_finished(),
            None => true,
        }
    }

    /// Whether `id` is the task's own thread.
    pub(crate) fn runs_on(&self, id: ThreadId) -> bool {
        lock(&self.state).thread == Some(id)
    }

    fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }

    fn join(&self, who: &Arc<Listeners>) {
        let mut st = lock(&self.state);
        let w = Arc::downgrade(who);
        if !st.joined.iter().any(|j| j.ptr_eq(&w)) {
            st.joined.push(w);
        }
    }

    /// Delivers `p` to every joined instance's listeners (no lock held while they run).
    fn emit(&self, p: &DownloadProgress) {
        let joined: Vec<Arc<Listeners>> = lock(&self.state)
            .joined
            .iter()
            .filter_map(Weak::upgrade)
            .collect();
        for l in joined {
            l.deliver(p);
        }
    }

    fn event(&self, state: DownloadState, processed: u64, size: u64, error: DownloadErrorType) {
        self.emit(&DownloadProgress {
            state,
            processed,
            size,
            uri: self.uri.clone(),
            error,
        });
    }
}

/// The task of this file that is running and not being stopped, if any.
pub(crate) fn running(key: &TaskKey) -> Option<Arc<Task>> {
    lock(&REGISTRY).get(key).filter(|t| !t.stopping()).cloned()
}

/// The unfinished task of this file, stopping or not.
pub(crate) fn unfinished(key: &TaskKey) -> Option<Arc<Task>> {
    lock(&REGISTRY).get(key).cloned()
}

/// The registry key of `rel` in `scope` on `device`.
pub(crate) fn key_of(device: &Device, scope: &SyncScope, rel: &str) -> TaskKey {
    (
        device.root().to_path_buf(),
        scope.namespace().to_string(),
        rel.to_string(),
    )
}

/// What `start` needs to launch or join a download.
pub(crate) struct Launch<'a> {
    pub device: &'a Device,
    pub scope: &'a SyncScope,
    pub rel: &'a str,
    pub uri: &'a str,
    /// The local file's size when it is already local (nothing to fetch).
    pub local_size: Option<u64>,
    pub cloud: Option<Arc<dyn CloudBackend>>,
    pub who: &'a Arc<Listeners>,
}

/// Joins the running download of the file, or starts one on a new thread. The task is returned
/// so the instance can wait for it.
pub(crate) fn launch(l: Launch<'_>) -> Result<Arc<Task>> {
    let key = key_of(l.device, l.scope, l.rel);
    let mut reg = lock(&REGISTRY);
    let previous = reg.get(&key).cloned();
    if let Some(t) = previous.as_ref().filter(|t| !t.stopping()) {
        t.join(l.who);
        return Ok(t.clone());
    }
    let task = Arc::new(Task {
        key: key.clone(),
        device: l.device.clone(),
        scope: l.scope.clone(),
        rel: l.rel.to_string(),
        uri: l.uri.to_string(),
        stop: AtomicBool::new(false),
        clean: AtomicBool::new(false),
        state: Mutex::new(TaskState {
            joined: vec![Arc::downgrade(l.who)],
            finished: false,
            thread: None,
        }),
        ended: Condvar::new(),
        handle: Mutex::new(None),
    });
    let plan = match l.local_size {
        Some(n) => Plan::Local(n),
        None => Plan::Fetch,
    };
    let t = task.clone();
    let cloud = l.cloud;
    // A stopping task of the same file still owns its partial data: the new one waits for it.
    let spawned = thread::Builder::new()
        .name("ohfile-download".into())
        .spawn(move || {
            lock(&t.state).thread = Some(thread::current().id());
            if let Some(p) = previous {
                p.wait(None);
            }
            let end = catch_unwind(AssertUnwindSafe(|| run(&t, plan, cloud)))
                .unwrap_or_else(|_| End::failed(0, 0, DownloadErrorType::UnknownError));
            finish(&t, end);
        });
    match spawned {
        Ok(h) => {
            *lock(&task.handle) = Some(h);
            reg.insert(key, task.clone());
            Ok(task)
        }
        Err(e) => Err(Error::io(&e, "cannot start a download thread")),
    }
}

/// How a task ended: its final event.
struct End {
    state: DownloadState,
    processed: u64,
    size: u64,
    error: DownloadErrorType,
}

impl End {
    fn failed(processed: u64, size: u64, error: DownloadErrorType) -> End {
        End {
            state: DownloadState::Failed,
            processed,
            size,
            error,
        }
    }
}

/// The download error type of a failure (OpenHarmony's classification).
pub(crate) fn error_type(e: &Error) -> DownloadErrorType {
    match e.code() {
        ErrorCode::NoSpace | ErrorCode::QuotaExceeded => DownloadErrorType::LocalStorageFull,
        ErrorCode::NetworkUnavailable => DownloadErrorType::NetworkUnavailable,
        ErrorCode::NoSuchFile => DownloadErrorType::ContentNotFound,
        _ => DownloadErrorType::UnknownError,
    }
}

fn run(task: &Task, plan: Plan, cloud: Option<Arc<dyn CloudBackend>>) -> End {
    if let Plan::Local(size) = plan {
        return End {
            state: DownloadState::Completed,
            processed: size,
            size,
            error: DownloadErrorType::NoError,
        };
    }
    let mut processed = 0;
    let mut size = 0;
    match fetch_into_place(task, cloud, &mut processed, &mut size) {
        Ok(Landed::Placed) => End {
            state: DownloadState::Completed,
            processed: size,
            size,
            error: DownloadErrorType::NoError,
        },
        Ok(Landed::Stopped) => {
            if task.clean.load(Ordering::SeqCst) {
                let _ = fetch::discard_partial(&task.device, &task.scope, &task.rel);
            }
            End {
                state: DownloadState::Stopped,
                processed,
                size,
                error: DownloadErrorType::NoError,
            }
        }
        Err(e) => End::failed(processed, size, error_type(&e)),
    }
}

/// How a download that did not fail ended.
enum Landed {
    /// The file is local (`size` says how big).
    Placed,
    /// Stopped first; the partial data are kept.
    Stopped,
}

/// Downloads the file and records it.
fn fetch_into_place(
    task: &Task,
    cloud: Option<Arc<dyn CloudBackend>>,
    processed: &mut u64,
    size: &mut u64,
) -> Result<Landed> {
    if task.stopping() {
        return Ok(Landed::Stopped);
    }
    let (device, scope, rel) = (&task.device, &task.scope, task.rel.as_str());
    let folder = SyncedFolder::open(device, scope)?;
    // A sync run may have brought the file down since `start` looked.
    if let Entry::File(s) = folder.entry(rel)? {
        (*processed, *size) = (s.size, s.size);
        return Ok(Landed::Placed);
    }
    if Conditions::read(device, scope)?.network == Network::None {
        return Err(Error::new(
            ErrorCode::NetworkUnavailable,
            "the device has no network",
        ));
    }
    let cloud = match cloud {
        Some(c) => c,
        None => open_cloud(device)?,
    };
    let meta = cloud
        .head(scope.namespace(), rel)
        .map_err(Error::from)?
        .ok_or_else(|| {
            Error::new(
                ErrorCode::NoSuchFile,
                format!("{rel} is no longer in the cloud"),
            )
        })?;
    let have = fetch::partial_len(device, scope, rel, &meta.version)?;
    (*processed, *size) = (have, meta.size);
    task.event(
        DownloadState::Running,
        have,
        meta.size,
        DownloadErrorType::NoError,
    );
    let mut last = Instant::now();
    let outcome = {
        let mut on_progress = |done: u64, total: u64| {
            *processed = done;
            if last.elapsed() >= RUNNING_EVERY {
                last = Instant::now();
                task.event(
                    DownloadState::Running,
                    done,
                    total,
                    DownloadErrorType::NoError,
                );
            }
        };
        let mut ctl = FetchControl {
            stop: &task.stop,
            progress: &mut on_progress,
        };
        // Absent: a file that appears at the name during the download is never overwritten.
        fetch::fetch_object_guarded(
            device,
            scope,
            cloud.as_ref(),
            &meta,
            PlaceGuard::Absent,
            &mut ctl,
        )?
    };
    match outcome {
        GuardedOutcome::Stopped => Ok(Landed::Stopped),
        GuardedOutcome::LocalChanged => match folder.entry(rel)? {
            // Someone else's file is there now (a sync run's, or the app's): it is the local copy.
            Entry::File(s) => {
                (*processed, *size) = (s.size, s.size);
                Ok(Landed::Placed)
            }
            _ => Err(Error::new(
                ErrorCode::FileExists,
                format!("{rel}: something that is not a file took its place"),
            )),
        },
        GuardedOutcome::Done(stat) => {
            if record(device, scope, &meta, stat)? {
                Ok(Landed::Placed)
            } else {
                // Deleted in the cloud (and pulled) while it came down: bringing it back would
                // undo the deletion.
                folder.remove_if_unchanged(rel, &stat)?;
                Err(Error::new(
                    ErrorCode::NoSuchFile,
                    format!("{rel} was deleted from the cloud during the download"),
                ))
            }
        }
    }
}

/// Where free space is asked for: the synced folder, or the device root before it exists.
pub(crate) fn space_dir(device: &Device, scope: &SyncScope) -> PathBuf {
    let dir = scope.local_dir(device);
    if dir.is_dir() {
        dir
    } else {
        device.root().to_path_buf()
    }
}

/// Records a file just downloaded: in step with the local copy, at the fetched version, nothing
/// to upload (OpenHarmony's "initial after download"). `false` when the row no longer has a
/// place for it (the file was deleted meanwhile).
fn record(device: &Device, scope: &SyncScope, meta: &ObjectMeta, stat: LocalStat) -> Result<bool> {
    let mut db = StateDb::open(device, scope)?;
    db.write(|tx| {
        // Both decisions read the row inside the transaction: a sync run may have changed it.
        if mark_downloaded(tx, meta, stat)? {
            return Ok(true);
        }
        match tx.get(&meta.key)? {
            // The cloud had a newer version than the placeholder knew: the placeholder moves on
            // to the version now local, as the next pull would have moved it.
            Some(r) if r.position == Position::Cloud && r.dirty == Dirty::Synced => {
                tx.upsert(&in_step(meta, stat, UploadStatus::Unknown))?;
                Ok(true)
            }
            _ => Ok(false),
        }
    })
}

/// Ends the task: out of the registry (no one joins it any more), the final event to everyone
/// who joined, then waiters are woken.
fn finish(task: &Arc<Task>, end: End) {
    {
        let mut reg = lock(&REGISTRY);
        if reg.get(&task.key).is_some_and(|t| Arc::ptr_eq(t, task)) {
            reg.remove(&task.key);
        }
    }
    task.event(end.state, end.processed, end.size, end.error);
    lock(&task.state).finished = true;
    task.ended.notify_all();
}
