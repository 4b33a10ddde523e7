//! On-demand download (`CloudFileCache`, gallery `Download`), `cleanCache`, `getFileSyncState`.
//!
//! A [`Downloader`] is one JS/C instance: its listeners are its own. Downloads themselves are
//! process-wide: two starts of one file (from any instances) share one task, whose thread
//! fetches the object ([`fetch_object_guarded`](super::fetch::fetch_object_guarded): resumable
//! partial, hash-checked, placed only while nothing is at the name) and tells every instance
//! that joined it. Progress, all from that thread: a RUNNING event when the fetch begins, then
//! at most one every [`RUNNING_EVERY`], then exactly one final event (COMPLETED, FAILED with its
//! [`DownloadErrorType`](super::DownloadErrorType), or STOPPED). A file that is already local
//! completes at once and is never overwritten: a local edit wins over the cloud copy here, and
//! the sync run settles the two.

mod clean;
mod listeners;
mod local_file;
mod sync_state;
mod task;

#[cfg(test)]
mod tests;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub use listeners::DownloadListener;
pub use sync_state::{file_sync_state, file_sync_states, MAX_SYNC_STATE_URIS};
pub use task::RUNNING_EVERY;

use listeners::Listeners;
use task::{key_of, lock, Launch, Task};

use super::backend::CloudBackend;
use super::conditions::Conditions;
use super::engine::{Entry, SyncedFolder};
use super::fetch;
use super::scope::{parse_uri, SyncScope};
use super::state_db::{Position, StateDb};
use crate::device::Device;
use crate::error::{Error, ErrorCode, Result};

/// How long `stop` waits for a download to wind down before it returns anyway (the task still
/// stops, and cleans when asked, on its own).
const STOP_WAIT: Duration = Duration::from_secs(30);

/// Which class an instance is: the app drive's `CloudFileCache` or the gallery's `Download`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DownloadKind {
    /// `CloudFileCache`: files of an app's cloud folder (`file://<bundle>/data/storage/el2/cloud/…`).
    FileCache,
    /// Gallery `Download`: `file://media/…`; `stop` always deletes the partial data.
    Gallery,
}

/// One `CloudFileCache` / `Download` instance.
pub struct Downloader {
    device: Device,
    kind: DownloadKind,
    /// The cloud to fetch from; `None`: the device's ([`open_cloud`](super::open_cloud)).
    cloud: Option<Arc<dyn CloudBackend>>,
    listeners: Arc<Listeners>,
    /// The downloads this instance started or joined (finished ones are pruned lazily).
    tasks: Mutex<Vec<Arc<Task>>>,
}

impl Downloader {
    /// A new instance on `device`, fetching from the device's cloud.
    pub fn new(device: Device, kind: DownloadKind) -> Arc<Downloader> {
        Arc::new(Downloader {
            device,
            kind,
            cloud: None,
            listeners: Arc::default(),
            tasks: Mutex::default(),
        })
    }

    /// A new instance fetching from `cloud` (a backend the caller already holds). Downloads it
    /// starts use that backend; downloads it joins keep the one they started with.
    pub fn with_cloud(
        device: Device,
        kind: DownloadKind,
        cloud: Arc<dyn CloudBackend>,
    ) -> Arc<Downloader> {
        Arc::new(Downloader {
            device,
            kind,
            cloud: Some(cloud),
            listeners: Arc::default(),
            tasks: Mutex::default(),
        })
    }

    /// The class of this instance.
    pub fn kind(&self) -> DownloadKind {
        self.kind
    }

    /// Adds a progress listener (`on('progress', cb)`); returns its id for [`Self::unsubscribe`].
    /// Listeners run on the download's thread, never while a lock is held, and should not block.
    pub fn subscribe(&self, f: DownloadListener) -> u64 {
        self.listeners.add(f)
    }

    /// Removes one listener (`off('progress', cb)`); whether it was there.
    pub fn unsubscribe(&self, id: u64) -> bool {
        self.listeners.remove(id)
    }

    /// Removes every listener (`off('progress')`).
    pub fn unsubscribe_all(&self) {
        self.listeners.clear()
    }

    /// The scope and relative path of `uri`, which must belong to this kind (else 14000002).
    fn parse(&self, uri: &str) -> Result<(SyncScope, String)> {
        let (scope, rel) = parse_uri(&self.device, uri)?;
        match (self.kind, &scope) {
            (DownloadKind::FileCache, SyncScope::App(_))
            | (DownloadKind::Gallery, SyncScope::Gallery) => Ok((scope, rel)),
            (DownloadKind::FileCache, SyncScope::Gallery) => Err(Error::new(
                ErrorCode::InvalidUri,
                format!("{uri:?}: CloudFileCache downloads files of an app's cloud folder, not gallery files"),
            )),
            (DownloadKind::Gallery, SyncScope::App(_)) => Err(Error::new(
                ErrorCode::InvalidUri,
                format!("{uri:?}: Download takes gallery URIs (file://media/…)"),
            )),
        }
    }

    /// Starts downloading `uri` (`start(uri)`), or joins the download of it already running in
    /// this process. Returns once the download is accepted; the work and every event happen on
    /// the download's thread. A file that is already local completes at once.
    ///
    /// 14000002 for a bad URI, 13900002 when there is no such file (no local file and no
    /// cloud-only entry), 13900025 when the rest of it does not fit on local storage.
    pub fn start(&self, uri: &str) -> Result<()> {
        let (scope, rel) = self.parse(uri)?;
        let folder = SyncedFolder::open(&self.device, &scope)?;
        let local_size = match folder.entry(&rel)? {
            Entry::File(s) => Some(s.size),
            Entry::Other => {
                return Err(Error::new(
                    ErrorCode::NoSuchFile,
                    format!("{rel} is not a regular file"),
                ))
            }
            Entry::Absent => {
                self.check_downloadable(&scope, &rel)?;
                None
            }
        };
        let task = task::launch(Launch {
            device: &self.device,
            scope: &scope,
            rel: &rel,
            uri,
            local_size,
            cloud: self.cloud.clone(),
            who: &self.listeners,
        })?;
        let mut tasks = lock(&self.tasks);
        tasks.retain(|t| !t.is_finished());
        if !tasks.iter().any(|t| Arc::ptr_eq(t, &task)) {
            tasks.push(task);
        }
        Ok(())
    }

    /// A file with no local copy can be downloaded when its row says it is in the cloud only and
    /// what is left of it fits on local storage.
    fn check_downloadable(&self, scope: &SyncScope, rel: &str) -> Result<()> {
        let row = StateDb::open(&self.device, scope)?.get(rel)?;
        let row = match row {
            Some(r) if r.position == Position::Cloud => r,
            // Local once, file gone: deleted on this device (the sync run will delete it in the
            // cloud); bringing it back would undo the deletion.
            Some(_) => {
                return Err(Error::new(
                    ErrorCode::NoSuchFile,
                    format!("{rel} was deleted on this device"),
                ))
            }
            None => {
                return Err(Error::new(
                    ErrorCode::NoSuchFile,
                    format!("{rel}: no such file, locally or in the cloud"),
                ))
            }
        };
        let have = match &row.cloud_version {
            Some(v) => fetch::partial_len(&self.device, scope, rel, v)?,
            None => 0,
        };
        let need = row.size.saturating_sub(have);
        let conds = Conditions::read(&self.device, scope)?;
        if !conds.local_space_for(&task::space_dir(&self.device, scope), need) {
            return Err(Error::new(
                ErrorCode::NoSpace,
                format!("{rel} needs {need} bytes of local storage"),
            ));
        }
        Ok(())
    }

    /// Stops the download of `uri` (`stop(uri, needClean)`): its listeners get STOPPED. The
    /// partial data stay for a later `start` to resume, unless `need_clean` (always for the
    /// gallery's `Download`). Nothing running is fine (the partial data are still deleted when
    /// asked); a bad URI is 14000002. Returns once the download has ended.
    pub fn stop(&self, uri: &str, need_clean: bool) -> Result<()> {
        let (scope, rel) = self.parse(uri)?;
        let clean = need_clean || self.kind == DownloadKind::Gallery;
        let key = key_of(&self.device, &scope, &rel);
        if let Some(t) = task::unfinished(&key) {
            t.stop_and_wait(clean, STOP_WAIT);
        }
        // Also after a task: it may have ended on its own before it saw the clean flag.
        if clean && task::unfinished(&key).is_none() {
            fetch::discard_partial(&self.device, &scope, &rel)?;
        }
        Ok(())
    }

    /// `cleanCache(uri)`: turns a synced local file back into a cloud-only entry and deletes the
    /// local copy (and any partial download). A file with local changes not uploaded yet is
    /// refused (13900001); no such file is 13900002; a bad URI 14000002.
    pub fn clean_cache(&self, uri: &str) -> Result<()> {
        let (scope, rel) = self.parse(uri)?;
        let key = key_of(&self.device, &scope, &rel);
        if let Some(t) = task::unfinished(&key) {
            t.stop_and_wait(true, STOP_WAIT);
        }
        clean::clean_cache(&self.device, &scope, &rel)
    }

    /// Waits until every download this instance started or joined has ended (its final event
    /// delivered), at most `timeout`; whether they all did. From a listener, the download
    /// calling it is not waited for.
    pub fn wait_idle(&self, timeout: Option<Duration>) -> bool {
        let deadline = timeout.map(|t| Instant::now() + t);
        let me = std::thread::current().id();
        loop {
            let next = {
                let mut tasks = lock(&self.tasks);
                tasks.retain(|t| !t.is_finished());
                tasks.iter().find(|t| !t.runs_on(me)).cloned()
            };
            match next {
                None => return true,
                Some(t) => {
                    if !t.wait(deadline) {
                        return false;
                    }
                }
            }
        }
    }
}
