//! `@ohos.file.cloudSync` for Node: FileSync / GallerySync over the core [`Syncer`],
//! CloudFileCache / Download over the core [`Downloader`], and getFileSyncState.
//!
//! Progress reaches JS through one weak threadsafe function per native object, so a registered
//! listener alone never keeps a script alive. While a run or a download is in flight the facade
//! (`lib/cloudsync.js`) holds the event loop open itself and polls `isBusy()` to know when to let
//! go. Calls that block (pre-flight checks read `device.json`, a download's stop waits for it to
//! wind down) run on libuv's pool; only the documented synchronous ones (`cleanCache`,
//! `getFileSyncState(uri)`) run on the JS thread.

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi_derive::napi;
use ohfile_core::cloudsync::download::{self, DownloadKind, Downloader};
use ohfile_core::cloudsync::syncer::Syncer;
use ohfile_core::cloudsync::{DownloadProgress, SyncProgress, SyncScope};
use ohfile_core::Device;

use crate::errors::to_napi;
use crate::pool::{pooled, PooledCall};

/// `SyncProgress` as JS sees it: `{state, error}`.
#[napi(object)]
pub struct SyncProgressObject {
    /// `SyncState`.
    pub state: i32,
    /// `ErrorType`.
    pub error: i32,
}

impl From<SyncProgress> for SyncProgressObject {
    fn from(p: SyncProgress) -> Self {
        SyncProgressObject {
            state: p.state as i32,
            error: p.error as i32,
        }
    }
}

/// `DownloadProgress` as JS sees it: `{state, processed, size, uri, error}` (bytes).
#[napi(object)]
pub struct DownloadProgressObject {
    /// `State`.
    pub state: i32,
    /// Bytes downloaded so far.
    pub processed: i64,
    /// Size of the cloud file in bytes.
    pub size: i64,
    /// The file's uri.
    pub uri: String,
    /// `DownloadErrorType`.
    pub error: i32,
}

impl From<&DownloadProgress> for DownloadProgressObject {
    fn from(p: &DownloadProgress) -> Self {
        DownloadProgressObject {
            state: p.state as i32,
            processed: i64::try_from(p.processed).unwrap_or(i64::MAX),
            size: i64::try_from(p.size).unwrap_or(i64::MAX),
            uri: p.uri.clone(),
            error: p.error as i32,
        }
    }
}

/// The facade's sync-progress dispatcher; weak, so it never keeps a script alive by itself.
pub type SyncProgressFn =
    ThreadsafeFunction<SyncProgressObject, (), SyncProgressObject, Status, false, true>;
/// The facade's download-progress dispatcher; weak, like [`SyncProgressFn`].
pub type DownloadProgressFn =
    ThreadsafeFunction<DownloadProgressObject, (), DownloadProgressObject, Status, false, true>;

fn open_device(root: Option<String>) -> ohfile_core::Result<Device> {
    Device::open(root.as_deref().map(Path::new))
}

/// The native side of FileSync and GallerySync: the process's syncer of one folder, plus at most
/// one listener (OpenHarmony keeps one callback per instance).
#[napi]
pub struct NativeSyncer {
    syncer: Arc<Syncer>,
    listener: Mutex<Option<u64>>,
}

#[napi]
impl NativeSyncer {
    /// FileSync(bundleName) on the device at `root` (null: the default device); 401 for a
    /// malformed or unknown bundle.
    #[napi(factory)]
    pub fn for_app(root: Option<String>, bundle: String) -> Result<Self> {
        let device = open_device(root).map_err(to_napi)?;
        let scope = SyncScope::app(&device, &bundle).map_err(to_napi)?;
        Self::open(&device, scope)
    }

    /// GallerySync() on the device at `root`.
    #[napi(factory)]
    pub fn for_gallery(root: Option<String>) -> Result<Self> {
        let device = open_device(root).map_err(to_napi)?;
        Self::open(&device, SyncScope::Gallery)
    }

    fn open(device: &Device, scope: SyncScope) -> Result<Self> {
        Ok(NativeSyncer {
            syncer: Syncer::for_scope(device, scope).map_err(to_napi)?,
            listener: Mutex::new(None),
        })
    }

    /// start(): pre-flight checks (22400001/2/3), then the run goes on in the background; a start
    /// during a run queues one more.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn start(&self) -> AsyncTask<PooledCall<()>> {
        let s = self.syncer.clone();
        pooled(move || s.start())
    }

    /// stop(): the run ends with STOPPED; succeeds when idle.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn stop(&self) -> AsyncTask<PooledCall<()>> {
        let s = self.syncer.clone();
        pooled(move || s.stop())
    }

    /// getLastSyncTime(): ms since the epoch of the last run that completed with NO_ERROR, 0 before.
    #[napi(ts_return_type = "Promise<number>")]
    pub fn last_sync_time(&self) -> AsyncTask<PooledCall<i64>> {
        let s = self.syncer.clone();
        pooled(move || s.last_sync_time())
    }

    /// Sends progress to `f` (replacing an earlier listener). The syncer replays its current
    /// state during the call; true when it did, so the facade can wait for that event.
    #[napi]
    pub fn listen(&self, f: SyncProgressFn) -> bool {
        let registering = Arc::new(AtomicBool::new(true));
        let replayed = Arc::new(AtomicBool::new(false));
        let (during, seen) = (registering.clone(), replayed.clone());
        let id = self.syncer.subscribe(Arc::new(move |p: SyncProgress| {
            if during.load(Ordering::SeqCst) {
                seen.store(true, Ordering::SeqCst);
            }
            f.call(p.into(), ThreadsafeFunctionCallMode::NonBlocking);
        }));
        registering.store(false, Ordering::SeqCst);
        if let Some(old) = self.swap_listener(Some(id)) {
            self.syncer.unsubscribe(old);
        }
        replayed.load(Ordering::SeqCst)
    }

    /// Drops the listener; false when there was none.
    #[napi]
    pub fn unlisten(&self) -> bool {
        match self.swap_listener(None) {
            Some(id) => self.syncer.unsubscribe(id),
            None => false,
        }
    }

    /// Whether a run is in flight (or queued) in this process.
    #[napi]
    pub fn is_busy(&self) -> bool {
        self.syncer.is_running()
    }

    fn swap_listener(&self, id: Option<u64>) -> Option<u64> {
        match self.listener.lock() {
            Ok(mut l) => std::mem::replace(&mut *l, id),
            Err(p) => std::mem::replace(&mut *p.into_inner(), id),
        }
    }
}

impl Drop for NativeSyncer {
    fn drop(&mut self) {
        if let Some(id) = self.swap_listener(None) {
            self.syncer.unsubscribe(id);
        }
    }
}

/// The native side of CloudFileCache and the gallery's Download.
#[napi]
pub struct NativeDownloader {
    downloader: Arc<Downloader>,
    listener: Mutex<Option<u64>>,
}

#[napi]
impl NativeDownloader {
    /// CloudFileCache() on the device at `root`: files of apps' cloud folders.
    #[napi(factory)]
    pub fn for_file_cache(root: Option<String>) -> Result<Self> {
        Self::open(root, DownloadKind::FileCache)
    }

    /// Download() on the device at `root`: the gallery's files.
    #[napi(factory)]
    pub fn for_gallery(root: Option<String>) -> Result<Self> {
        Self::open(root, DownloadKind::Gallery)
    }

    fn open(root: Option<String>, kind: DownloadKind) -> Result<Self> {
        let device = open_device(root).map_err(to_napi)?;
        Ok(NativeDownloader {
            downloader: Downloader::new(device, kind),
            listener: Mutex::new(None),
        })
    }

    /// start(uri): the download goes on in the background (two starts of one uri share it).
    #[napi(ts_return_type = "Promise<void>")]
    pub fn start(&self, uri: String) -> AsyncTask<PooledCall<()>> {
        let d = self.downloader.clone();
        pooled(move || d.start(&uri))
    }

    /// stop(uri, needClean): STOPPED; the partial data is kept for a resume unless `need_clean`.
    #[napi(ts_return_type = "Promise<void>")]
    pub fn stop(&self, uri: String, need_clean: bool) -> AsyncTask<PooledCall<()>> {
        let d = self.downloader.clone();
        pooled(move || d.stop(&uri, need_clean))
    }

    /// cleanCache(uri), synchronous as documented: the local copy goes, the file stays cloud-only.
    #[napi]
    pub fn clean_cache(&self, uri: String) -> Result<()> {
        self.downloader.clean_cache(&uri).map_err(to_napi)
    }

    /// Sends progress to `f` (replacing an earlier listener).
    #[napi]
    pub fn listen(&self, f: DownloadProgressFn) {
        let id = self
            .downloader
            .subscribe(Arc::new(move |p: &DownloadProgress| {
                f.call(p.into(), ThreadsafeFunctionCallMode::NonBlocking);
            }));
        if let Some(old) = self.swap_listener(Some(id)) {
            self.downloader.unsubscribe(old);
        }
    }

    /// Drops the listener; false when there was none.
    #[napi]
    pub fn unlisten(&self) -> bool {
        match self.swap_listener(None) {
            Some(id) => self.downloader.unsubscribe(id),
            None => false,
        }
    }

    /// Whether a download of this object is in flight.
    #[napi]
    pub fn is_busy(&self) -> bool {
        !self.downloader.wait_idle(Some(Duration::ZERO))
    }

    fn swap_listener(&self, id: Option<u64>) -> Option<u64> {
        match self.listener.lock() {
            Ok(mut l) => std::mem::replace(&mut *l, id),
            Err(p) => std::mem::replace(&mut *p.into_inner(), id),
        }
    }
}

impl Drop for NativeDownloader {
    fn drop(&mut self) {
        if let Some(id) = self.swap_listener(None) {
            self.downloader.unsubscribe(id);
        }
    }
}

/// getFileSyncState(uri), synchronous: the `FileSyncState` number.
#[napi(js_name = "cloudFileSyncState")]
pub fn cloud_file_sync_state(root: Option<String>, uri: String) -> Result<i32> {
    let device = open_device(root).map_err(to_napi)?;
    download::file_sync_state(&device, &uri)
        .map(|s| s as i32)
        .map_err(to_napi)
}

/// getFileSyncState(uris[]) on libuv's pool: one number per uri; any failure rejects all.
#[napi(
    js_name = "cloudFileSyncStates",
    ts_return_type = "Promise<Array<number>>"
)]
pub fn cloud_file_sync_states(
    root: Option<String>,
    uris: Vec<String>,
) -> AsyncTask<PooledCall<Vec<i32>>> {
    pooled(move || {
        let device = open_device(root)?;
        let states = download::file_sync_states(&device, &uris)?;
        Ok(states.into_iter().map(|s| s as i32).collect())
    })
}
