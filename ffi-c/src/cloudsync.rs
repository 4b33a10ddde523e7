//! `@ohos.file.cloudSync` for C: FileSync and GallerySync (`ohf_file_sync`), CloudFileCache
//! (`ohf_cloud_file_cache`), the gallery's Download (`ohf_download`) and getFileSyncState. Only
//! translation: the behaviour is `ohfile_core::cloudsync`'s; listener bookkeeping is in
//! cloudsync_listeners.rs.
//!
//! Argument errors (a NULL pointer, a NULL callback, a missing bundle) are 401, as the JS API's
//! are: the codes of this module are the ones `@ohos.file.cloudSync` documents.

use std::ffi::{c_char, c_void};
use std::sync::Arc;
use std::time::Duration;

use ohfile_core::cloudsync::download::{self, DownloadKind, Downloader};
use ohfile_core::cloudsync::syncer::Syncer;
use ohfile_core::cloudsync::{DownloadProgress, SyncProgress, SyncScope};
use ohfile_core::{Error, ErrorCode};

use crate::boundary::{ffi_call, ohf_status};
use crate::cloudsync_listeners::{in_any_callback, ohf_user_data_free_cb, Listeners, Registration};
use crate::ohf_device;
use crate::strings::c_string;

// ------------------------------------------------------------------ the documented numbers

/// A SyncState value (OHF_SYNC_STATE_*): where a sync run is.
pub type ohf_sync_state = i32;
/// SyncState.UPLOADING: the run is uploading local changes.
pub const OHF_SYNC_STATE_UPLOADING: ohf_sync_state = 0;
/// SyncState.UPLOAD_FAILED: the run failed while uploading (see the error).
pub const OHF_SYNC_STATE_UPLOAD_FAILED: ohf_sync_state = 1;
/// SyncState.DOWNLOADING: the run is bringing cloud changes down.
pub const OHF_SYNC_STATE_DOWNLOADING: ohf_sync_state = 2;
/// SyncState.DOWNLOAD_FAILED: the run failed while downloading (see the error).
pub const OHF_SYNC_STATE_DOWNLOAD_FAILED: ohf_sync_state = 3;
/// SyncState.COMPLETED: the run finished.
pub const OHF_SYNC_STATE_COMPLETED: ohf_sync_state = 4;
/// SyncState.STOPPED: the run was stopped (ohf_file_sync_stop).
pub const OHF_SYNC_STATE_STOPPED: ohf_sync_state = 5;

/// An ErrorType value (OHF_SYNC_ERROR_*): why a sync run failed.
pub type ohf_sync_error = i32;
/// ErrorType.NO_ERROR.
pub const OHF_SYNC_ERROR_NO_ERROR: ohf_sync_error = 0;
/// ErrorType.NETWORK_UNAVAILABLE: the device lost its network.
pub const OHF_SYNC_ERROR_NETWORK_UNAVAILABLE: ohf_sync_error = 1;
/// ErrorType.WIFI_UNAVAILABLE.
pub const OHF_SYNC_ERROR_WIFI_UNAVAILABLE: ohf_sync_error = 2;
/// ErrorType.BATTERY_LEVEL_LOW: below 10 % without a charger.
pub const OHF_SYNC_ERROR_BATTERY_LEVEL_LOW: ohf_sync_error = 3;
/// ErrorType.BATTERY_LEVEL_WARNING.
pub const OHF_SYNC_ERROR_BATTERY_LEVEL_WARNING: ohf_sync_error = 4;
/// ErrorType.CLOUD_STORAGE_FULL: the cloud quota is used up.
pub const OHF_SYNC_ERROR_CLOUD_STORAGE_FULL: ohf_sync_error = 5;
/// ErrorType.LOCAL_STORAGE_FULL: no room on the device for a download.
pub const OHF_SYNC_ERROR_LOCAL_STORAGE_FULL: ohf_sync_error = 6;
/// ErrorType.DEVICE_TEMPERATURE_TOO_HIGH.
pub const OHF_SYNC_ERROR_DEVICE_TEMPERATURE_TOO_HIGH: ohf_sync_error = 7;
/// ErrorType.REMOTE_SERVER_ABNORMAL: the cloud failed.
pub const OHF_SYNC_ERROR_REMOTE_SERVER_ABNORMAL: ohf_sync_error = 8;
/// ErrorType.RESPONSE_TIME_OUT.
pub const OHF_SYNC_ERROR_RESPONSE_TIME_OUT: ohf_sync_error = 9;
/// ErrorType.UNKNOWN_ERROR.
pub const OHF_SYNC_ERROR_UNKNOWN_ERROR: ohf_sync_error = 10;

/// A State value (OHF_DOWNLOAD_STATE_*): where one download is.
pub type ohf_download_state = i32;
/// State.RUNNING: bytes are arriving.
pub const OHF_DOWNLOAD_STATE_RUNNING: ohf_download_state = 0;
/// State.COMPLETED: the file is in place, complete and hash-checked.
pub const OHF_DOWNLOAD_STATE_COMPLETED: ohf_download_state = 1;
/// State.FAILED: see the error.
pub const OHF_DOWNLOAD_STATE_FAILED: ohf_download_state = 2;
/// State.STOPPED: stopped by a _stop function.
pub const OHF_DOWNLOAD_STATE_STOPPED: ohf_download_state = 3;
/// State.MISSING: the download task is missing.
pub const OHF_DOWNLOAD_STATE_MISSING: ohf_download_state = 4;

/// A DownloadErrorType value (OHF_DOWNLOAD_ERROR_*): why a download failed.
pub type ohf_download_error = i32;
/// DownloadErrorType.NO_ERROR.
pub const OHF_DOWNLOAD_ERROR_NO_ERROR: ohf_download_error = 0;
/// DownloadErrorType.UNKNOWN_ERROR.
pub const OHF_DOWNLOAD_ERROR_UNKNOWN_ERROR: ohf_download_error = 1;
/// DownloadErrorType.NETWORK_UNAVAILABLE.
pub const OHF_DOWNLOAD_ERROR_NETWORK_UNAVAILABLE: ohf_download_error = 2;
/// DownloadErrorType.LOCAL_STORAGE_FULL.
pub const OHF_DOWNLOAD_ERROR_LOCAL_STORAGE_FULL: ohf_download_error = 3;
/// DownloadErrorType.CONTENT_NOT_FOUND: the cloud no longer has the file.
pub const OHF_DOWNLOAD_ERROR_CONTENT_NOT_FOUND: ohf_download_error = 4;
/// DownloadErrorType.FREQUENT_USER_REQUESTS.
pub const OHF_DOWNLOAD_ERROR_FREQUENT_USER_REQUESTS: ohf_download_error = 5;

/// A FileSyncState value (OHF_FILE_SYNC_STATE_*): what getFileSyncState reports for one file.
pub type ohf_file_sync_state = i32;
/// FileSyncState.UPLOADING.
pub const OHF_FILE_SYNC_STATE_UPLOADING: ohf_file_sync_state = 0;
/// FileSyncState.DOWNLOADING.
pub const OHF_FILE_SYNC_STATE_DOWNLOADING: ohf_file_sync_state = 1;
/// FileSyncState.COMPLETED: in step with the cloud (local, or cloud-only).
pub const OHF_FILE_SYNC_STATE_COMPLETED: ohf_file_sync_state = 2;
/// FileSyncState.STOPPED.
pub const OHF_FILE_SYNC_STATE_STOPPED: ohf_file_sync_state = 3;
/// FileSyncState.TO_BE_UPLOADED: a local change waits for the next run.
pub const OHF_FILE_SYNC_STATE_TO_BE_UPLOADED: ohf_file_sync_state = 4;
/// FileSyncState.UPLOAD_SUCCESS.
pub const OHF_FILE_SYNC_STATE_UPLOAD_SUCCESS: ohf_file_sync_state = 5;
/// FileSyncState.UPLOAD_FAILURE.
pub const OHF_FILE_SYNC_STATE_UPLOAD_FAILURE: ohf_file_sync_state = 6;

// ------------------------------------------------------------------ events

/// SyncProgress: one event of a sync run.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ohf_sync_progress {
    /// OHF_SYNC_STATE_*.
    pub state: ohf_sync_state,
    /// OHF_SYNC_ERROR_* (NO_ERROR while working and on success).
    pub error: ohf_sync_error,
}

/// DownloadProgress: one event of a download. `uri` is valid only during the call.
#[repr(C)]
pub struct ohf_download_progress {
    /// OHF_DOWNLOAD_STATE_*.
    pub state: ohf_download_state,
    /// Bytes downloaded so far.
    pub processed: u64,
    /// The file's size in bytes.
    pub size: u64,
    /// The file's uri, as passed to the _start function (never NULL).
    pub uri: *const c_char,
    /// OHF_DOWNLOAD_ERROR_* (NO_ERROR unless state is FAILED).
    pub error: ohf_download_error,
}

/// A listener of a sync handle (see ohf_file_sync_on_progress for its thread).
pub type ohf_sync_progress_cb =
    Option<unsafe extern "C" fn(user_data: *mut c_void, progress: *const ohf_sync_progress)>;

/// A listener of a download handle (see ohf_cloud_file_cache_on_progress for its thread).
pub type ohf_download_progress_cb =
    Option<unsafe extern "C" fn(user_data: *mut c_void, progress: *const ohf_download_progress)>;

impl From<SyncProgress> for ohf_sync_progress {
    fn from(p: SyncProgress) -> Self {
        ohf_sync_progress {
            state: p.state as i32,
            error: p.error as i32,
        }
    }
}

// ------------------------------------------------------------------ arguments

/// 401 for a missing argument: the code `@ohos.file.cloudSync` gives invalid parameters.
fn param_null(name: &str) -> Error {
    Error::new(ErrorCode::ParameterError, format!("{name} is NULL"))
}

/// A NUL-terminated UTF-8 argument; NULL or invalid UTF-8 is 401.
unsafe fn str_arg<'a>(p: *const c_char, name: &str) -> Result<&'a str, Error> {
    if p.is_null() {
        return Err(param_null(name));
    }
    std::ffi::CStr::from_ptr(p).to_str().map_err(|_| {
        Error::new(
            ErrorCode::ParameterError,
            format!("{name} is not valid UTF-8"),
        )
    })
}

unsafe fn out_arg<'a, T>(p: *mut T, name: &str) -> Result<&'a mut T, Error> {
    p.as_mut().ok_or_else(|| param_null(name))
}

/// A millisecond timeout: negative waits for ever.
fn timeout(ms: i64) -> Option<Duration> {
    u64::try_from(ms).ok().map(Duration::from_millis)
}

/// 13900020 for a call that is not allowed inside a progress callback: it could wait for the
/// very callback it is called from (the library delivers an event to every listener of a folder
/// before the next, and waits for that delivery).
fn refuse_in_callback(what: &str) -> Result<(), Error> {
    if in_any_callback() {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("{what} cannot be called from a progress callback"),
        ));
    }
    Ok(())
}

// ------------------------------------------------------------------ FileSync / GallerySync

/// A FileSync (an app's cloud folder) or GallerySync (the device's media/ folder) (see
/// ohf_file_sync_new, ohf_gallery_sync_new).
///
/// Cloud sync in C (`@ohos.file.cloudSync`): ohf_file_sync, ohf_cloud_file_cache, ohf_download
/// and ohf_cloud_sync_get_file_sync_state(s). Their functions return 401
/// (OHF_STATUS_PARAMETER_ERROR) for a NULL or non-UTF-8 argument, as the JS API does for invalid
/// parameters. Every function of a handle but its _free may be called from any thread, also
/// concurrently.
pub struct ohf_file_sync {
    syncer: Arc<Syncer>,
    listeners: Listeners,
}

unsafe fn file_sync_new(
    dev: *const ohf_device,
    scope: impl FnOnce(&ohf_device) -> Result<SyncScope, Error>,
    out: *mut *mut ohf_file_sync,
) -> ohf_status {
    ffi_call(|| {
        let dev = dev.as_ref().ok_or_else(|| param_null("dev"))?;
        let out = out_arg(out, "out")?;
        let scope = scope(dev)?;
        let syncer = Syncer::for_scope(&dev.inner, scope)?;
        *out = Box::into_raw(Box::new(ohf_file_sync {
            syncer,
            listeners: Listeners::default(),
        }));
        Ok(())
    })
}

/// new FileSync(bundleName): syncs the app's cloud folder
/// (`<root>/apps/<bundle>/sandbox/data/storage/el2/cloud/`) with its namespace in the device's
/// cloud. `bundle_name` NULL is the calling app, `$OHFILE_BUNDLE` (`new FileSync()`). `dev` may be
/// freed afterwards. A NULL `dev`/`out`, no bundle, or a bundle that is malformed or not installed
/// is 401. Release the handle with ohf_file_sync_free.
///
/// Handles of one folder share its syncer (one per folder in the process; one run at a time
/// across processes), so a run started through one is seen by the listeners of all.
#[no_mangle]
pub unsafe extern "C" fn ohf_file_sync_new(
    dev: *const ohf_device,
    bundle_name: *const c_char,
    out: *mut *mut ohf_file_sync,
) -> ohf_status {
    file_sync_new(
        dev,
        |dev| {
            let bundle = if bundle_name.is_null() {
                std::env::var("OHFILE_BUNDLE")
                    .ok()
                    .filter(|b| !b.is_empty())
                    .ok_or_else(|| {
                        Error::new(
                            ErrorCode::ParameterError,
                            "bundle_name is NULL and $OHFILE_BUNDLE (the calling app) is not set",
                        )
                    })?
            } else {
                str_arg(bundle_name, "bundle_name")?.to_string()
            };
            SyncScope::app(&dev.inner, &bundle)
        },
        out,
    )
}

/// new GallerySync(): syncs the device's gallery, `<root>/media/`, with the cloud's `media`
/// namespace. Otherwise exactly an ohf_file_sync (ohf_file_sync_get_last_sync_time works too).
#[no_mangle]
pub unsafe extern "C" fn ohf_gallery_sync_new(
    dev: *const ohf_device,
    out: *mut *mut ohf_file_sync,
) -> ohf_status {
    file_sync_new(dev, |_| Ok(SyncScope::Gallery), out)
}

/// start(): starts a sync run (pull, then push) in the background and returns. Its progress
/// reaches the listeners. While a run is in flight this succeeds and queues exactly one more run.
/// Pre-flight checks of the device's conditions (device.json): 22400002 without network,
/// 22400001 when the app's cloud switch is off, 22400003 below 10 % battery without a charger.
#[no_mangle]
pub unsafe extern "C" fn ohf_file_sync_start(sync: *mut ohf_file_sync) -> ohf_status {
    ffi_call(|| {
        let s = sync.as_ref().ok_or_else(|| param_null("sync"))?;
        s.syncer.start()
    })
}

/// stop(): stops the run in flight (its listeners then get STOPPED) and drops a queued one; the
/// next start finishes the job. Succeeds when nothing runs. Returns without waiting for the run
/// to wind down: ohf_file_sync_wait_idle does that.
#[no_mangle]
pub unsafe extern "C" fn ohf_file_sync_stop(sync: *mut ohf_file_sync) -> ohf_status {
    ffi_call(|| {
        let s = sync.as_ref().ok_or_else(|| param_null("sync"))?;
        s.syncer.stop()
    })
}

/// getLastSyncTime(): when the last run that completed without error ended, in milliseconds
/// since the Unix epoch; 0 before the first such run.
#[no_mangle]
pub unsafe extern "C" fn ohf_file_sync_get_last_sync_time(
    sync: *mut ohf_file_sync,
    out_ms: *mut i64,
) -> ohf_status {
    ffi_call(|| {
        let s = sync.as_ref().ok_or_else(|| param_null("sync"))?;
        let out = out_arg(out_ms, "out_ms")?;
        *out = s.syncer.last_sync_time()?;
        Ok(())
    })
}

/// on('progress', callback): adds a listener; `*out_id` (never 0) names it for
/// ohf_file_sync_off_progress. The folder's current state, or the last run's final event (also
/// one recorded by another process), is delivered at once, on the calling thread, before this
/// returns. Later events run on the folder's worker thread, one at a time, in order: DOWNLOADING
/// and UPLOADING while working, then one of COMPLETED, UPLOAD_FAILED / DOWNLOAD_FAILED with the
/// error, or STOPPED.
///
/// A callback must not block for long: the run waits for it. It may call this library's
/// functions, e.g. ohf_file_sync_start, or ohf_file_sync_off_progress for itself; the
/// _on_progress and _wait_idle functions of any handle, which could wait for the callback itself,
/// return 13900020 there. `user_data_free` (may be NULL) is called once when the listener is
/// removed, after its last call. On failure (NULL `sync`, `callback` or `out_id`: 401) nothing is
/// kept and `user_data_free` is not called.
#[no_mangle]
pub unsafe extern "C" fn ohf_file_sync_on_progress(
    sync: *mut ohf_file_sync,
    callback: ohf_sync_progress_cb,
    user_data: *mut c_void,
    user_data_free: ohf_user_data_free_cb,
    out_id: *mut u64,
) -> ohf_status {
    ffi_call(|| {
        let s = sync.as_ref().ok_or_else(|| param_null("sync"))?;
        let callback = callback.ok_or_else(|| param_null("callback"))?;
        let out = out_arg(out_id, "out_id")?;
        refuse_in_callback("ohf_file_sync_on_progress")?;
        let syncer = &s.syncer;
        *out = s
            .listeners
            .add(user_data, user_data_free, |reg: Arc<Registration>| {
                syncer.subscribe(Arc::new(move |p: SyncProgress| {
                    let event = ohf_sync_progress::from(p);
                    // SAFETY: the caller's callback with its user_data, as registered.
                    reg.call(|ud| unsafe { callback(ud, &event) });
                }))
            });
        Ok(())
    })
}

/// off('progress'[, callback]): removes the listener `id`, or every listener of this handle when
/// `id` is 0; an id that is not registered is ignored. No call of a removed listener starts
/// after this returns; from outside a progress callback it also waits for a call in progress on
/// another thread, so user_data may be released right after (its user_data_free has run). From
/// inside a progress callback it returns at once and user_data_free runs when the call in
/// progress returns.
#[no_mangle]
pub unsafe extern "C" fn ohf_file_sync_off_progress(
    sync: *mut ohf_file_sync,
    id: u64,
) -> ohf_status {
    ffi_call(|| {
        let s = sync.as_ref().ok_or_else(|| param_null("sync"))?;
        s.listeners.remove(id, |core_id| {
            s.syncer.unsubscribe(core_id);
        });
        Ok(())
    })
}

/// Waits until no run is in flight or queued, at most `timeout_ms` milliseconds (negative: no
/// limit). `*out_idle` is true when the folder is idle, false when the time ran out. When it is
/// true, the final event of the run that ended has been delivered to every listener. From a
/// progress callback: 13900020.
#[no_mangle]
pub unsafe extern "C" fn ohf_file_sync_wait_idle(
    sync: *mut ohf_file_sync,
    timeout_ms: i64,
    out_idle: *mut bool,
) -> ohf_status {
    ffi_call(|| {
        let s = sync.as_ref().ok_or_else(|| param_null("sync"))?;
        let out = out_arg(out_idle, "out_idle")?;
        refuse_in_callback("ohf_file_sync_wait_idle")?;
        let idle = s.syncer.wait_idle(timeout(timeout_ms));
        if idle {
            // The syncer reports idle before it delivers the final event (so that a start() from
            // that event's callback begins a new run), and delivers every event under the lock a
            // new subscription takes for its replay: subscribing waits for that delivery to end.
            let barrier = s.syncer.subscribe(Arc::new(|_| {}));
            s.syncer.unsubscribe(barrier);
        }
        *out = idle;
        Ok(())
    })
}

/// Removes the handle's listeners (as ohf_file_sync_off_progress with id 0) and frees it. A run
/// in flight is not stopped: other handles of the folder, and a later one, see it (call
/// ohf_file_sync_stop first to end it). NULL is a no-op. Must not run concurrently with another
/// call on the same handle, nor from one of its callbacks.
#[no_mangle]
pub unsafe extern "C" fn ohf_file_sync_free(sync: *mut ohf_file_sync) {
    let _ = ffi_call(|| {
        if !sync.is_null() {
            let s = Box::from_raw(sync);
            s.listeners.remove(0, |core_id| {
                s.syncer.unsubscribe(core_id);
            });
        }
        Ok(())
    });
}

// ------------------------------------------------------------------ CloudFileCache / Download

/// A downloader and the listeners registered through one handle.
struct DownloaderHandle {
    downloader: Arc<Downloader>,
    listeners: Listeners,
}

impl DownloaderHandle {
    fn new(dev: &ohf_device, kind: DownloadKind) -> DownloaderHandle {
        DownloaderHandle {
            downloader: Downloader::new(dev.inner.clone(), kind),
            listeners: Listeners::default(),
        }
    }

    unsafe fn start(&self, uri: *const c_char) -> Result<(), Error> {
        self.downloader.start(str_arg(uri, "uri")?)
    }

    unsafe fn stop(&self, uri: *const c_char, need_clean: bool) -> Result<(), Error> {
        self.downloader.stop(str_arg(uri, "uri")?, need_clean)
    }

    fn on_progress(
        &self,
        what: &str,
        callback: ohf_download_progress_cb,
        user_data: *mut c_void,
        user_data_free: ohf_user_data_free_cb,
        out_id: *mut u64,
    ) -> Result<(), Error> {
        let callback = callback.ok_or_else(|| param_null("callback"))?;
        // SAFETY: NULL-checked; the caller's pointer to a u64.
        let out = unsafe { out_arg(out_id, "out_id")? };
        refuse_in_callback(what)?;
        let downloader = &self.downloader;
        *out = self
            .listeners
            .add(user_data, user_data_free, |reg: Arc<Registration>| {
                downloader.subscribe(Arc::new(move |p: &DownloadProgress| {
                    reg.call(|ud| {
                        let uri = c_string(&p.uri);
                        let event = ohf_download_progress {
                            state: p.state as i32,
                            processed: p.processed,
                            size: p.size,
                            uri: uri.as_ptr(),
                            error: p.error as i32,
                        };
                        // SAFETY: the caller's callback with its user_data, as registered.
                        unsafe { callback(ud, &event) };
                    });
                }))
            });
        Ok(())
    }

    fn off_progress(&self, id: u64) {
        self.listeners.remove(id, |core_id| {
            self.downloader.unsubscribe(core_id);
        });
    }

    fn wait_idle(&self, timeout_ms: i64, out_idle: *mut bool, what: &str) -> Result<(), Error> {
        // SAFETY: NULL-checked; the caller's pointer to a bool.
        let out = unsafe { out_arg(out_idle, "out_idle")? };
        refuse_in_callback(what)?;
        *out = self.downloader.wait_idle(timeout(timeout_ms));
        Ok(())
    }
}

/// CloudFileCache: brings cloud-only files of apps' cloud folders down on demand (see
/// ohf_cloud_file_cache_new).
pub struct ohf_cloud_file_cache {
    inner: DownloaderHandle,
}

/// Download: brings gallery files (`file://media/…`) down on demand (see ohf_download_new).
pub struct ohf_download {
    inner: DownloaderHandle,
}

/// new CloudFileCache(): a downloader of files in apps' cloud folders on `dev` (which may be
/// freed afterwards); data is not shared between handles. Release it with
/// ohf_cloud_file_cache_free. A NULL argument is 401.
#[no_mangle]
pub unsafe extern "C" fn ohf_cloud_file_cache_new(
    dev: *const ohf_device,
    out: *mut *mut ohf_cloud_file_cache,
) -> ohf_status {
    ffi_call(|| {
        let dev = dev.as_ref().ok_or_else(|| param_null("dev"))?;
        let out = out_arg(out, "out")?;
        let inner = DownloaderHandle::new(dev, DownloadKind::FileCache);
        *out = Box::into_raw(Box::new(ohf_cloud_file_cache { inner }));
        Ok(())
    })
}

/// start(uri): starts bringing the file down in the background and returns; progress reaches the
/// listeners (at most about 10 RUNNING events per second, then COMPLETED, FAILED or STOPPED). The
/// content goes to a temp file, is checked against the cloud version's hash, and appears under
/// its name only complete. Partial data kept by an earlier stop is resumed. Two starts of one uri
/// (from any handles of the process) share one download. A file that is already local completes
/// at once (a local copy is never overwritten). A uri outside an app's cloud folder (a gallery
/// uri included) is 14000002; a file the folder does not have (locally or in the cloud) is
/// 13900002; no room for it is 13900025.
#[no_mangle]
pub unsafe extern "C" fn ohf_cloud_file_cache_start(
    cache: *mut ohf_cloud_file_cache,
    uri: *const c_char,
) -> ohf_status {
    ffi_call(|| {
        let c = cache.as_ref().ok_or_else(|| param_null("cache"))?;
        c.inner.start(uri)
    })
}

/// stop(uri, needClean): stops the file's download (its listeners get STOPPED) and returns once
/// it has ended. `need_clean` false keeps the partial data, so the next start resumes; true
/// deletes it. Nothing running is fine; a bad uri is 14000002.
#[no_mangle]
pub unsafe extern "C" fn ohf_cloud_file_cache_stop(
    cache: *mut ohf_cloud_file_cache,
    uri: *const c_char,
    need_clean: bool,
) -> ohf_status {
    ffi_call(|| {
        let c = cache.as_ref().ok_or_else(|| param_null("cache"))?;
        c.inner.stop(uri, need_clean)
    })
}

/// cleanCache(uri): turns a synced local file back into a cloud-only entry and frees its space
/// (synchronous; a download of it is stopped first). A file with local changes not uploaded yet
/// is 13900001; no such file 13900002; a bad uri 14000002.
#[no_mangle]
pub unsafe extern "C" fn ohf_cloud_file_cache_clean_cache(
    cache: *mut ohf_cloud_file_cache,
    uri: *const c_char,
) -> ohf_status {
    ffi_call(|| {
        let c = cache.as_ref().ok_or_else(|| param_null("cache"))?;
        c.inner.downloader.clean_cache(str_arg(uri, "uri")?)
    })
}

/// on('progress', callback): adds a listener of every download of this handle; `*out_id` (never
/// 0) names it for ohf_cloud_file_cache_off_progress. Callbacks run on the library's download
/// threads: the events of one uri arrive one at a time and in order, those of different uris
/// may arrive concurrently on different threads. A callback must not block for long; it may
/// call this library's functions, e.g. ohf_cloud_file_cache_off_progress for itself, except the
/// _on_progress and _wait_idle functions (13900020 there, as for ohf_file_sync_on_progress).
/// `user_data_free` (may be NULL) is called once when the listener is removed, after its last
/// call. NULL `cache`, `callback` or `out_id` is 401 (then nothing is kept and user_data_free is
/// not called).
#[no_mangle]
pub unsafe extern "C" fn ohf_cloud_file_cache_on_progress(
    cache: *mut ohf_cloud_file_cache,
    callback: ohf_download_progress_cb,
    user_data: *mut c_void,
    user_data_free: ohf_user_data_free_cb,
    out_id: *mut u64,
) -> ohf_status {
    ffi_call(|| {
        let c = cache.as_ref().ok_or_else(|| param_null("cache"))?;
        c.inner.on_progress(
            "ohf_cloud_file_cache_on_progress",
            callback,
            user_data,
            user_data_free,
            out_id,
        )
    })
}

/// off('progress'[, callback]): removes the listener `id`, or every listener of this handle when
/// `id` is 0, with the guarantees of ohf_file_sync_off_progress.
#[no_mangle]
pub unsafe extern "C" fn ohf_cloud_file_cache_off_progress(
    cache: *mut ohf_cloud_file_cache,
    id: u64,
) -> ohf_status {
    ffi_call(|| {
        let c = cache.as_ref().ok_or_else(|| param_null("cache"))?;
        c.inner.off_progress(id);
        Ok(())
    })
}

/// Waits until no download of this handle is in flight, at most `timeout_ms` milliseconds
/// (negative: no limit); `*out_idle` false means the time ran out. The final event of every
/// download that ended has been delivered by then. From a progress callback: 13900020.
#[no_mangle]
pub unsafe extern "C" fn ohf_cloud_file_cache_wait_idle(
    cache: *mut ohf_cloud_file_cache,
    timeout_ms: i64,
    out_idle: *mut bool,
) -> ohf_status {
    ffi_call(|| {
        let c = cache.as_ref().ok_or_else(|| param_null("cache"))?;
        c.inner
            .wait_idle(timeout_ms, out_idle, "ohf_cloud_file_cache_wait_idle")
    })
}

/// Removes the handle's listeners and frees it. Downloads in flight are not stopped by this
/// (stop them first to end them). NULL is a no-op. Must not run concurrently with another call
/// on the same handle, nor from one of its callbacks.
#[no_mangle]
pub unsafe extern "C" fn ohf_cloud_file_cache_free(cache: *mut ohf_cloud_file_cache) {
    let _ = ffi_call(|| {
        if !cache.is_null() {
            Box::from_raw(cache).inner.off_progress(0);
        }
        Ok(())
    });
}

/// new Download(): a downloader of gallery files (`file://media/<path>`) on `dev` (which may be
/// freed afterwards). Release it with ohf_download_free. A NULL argument is 401.
#[no_mangle]
pub unsafe extern "C" fn ohf_download_new(
    dev: *const ohf_device,
    out: *mut *mut ohf_download,
) -> ohf_status {
    ffi_call(|| {
        let dev = dev.as_ref().ok_or_else(|| param_null("dev"))?;
        let out = out_arg(out, "out")?;
        let inner = DownloaderHandle::new(dev, DownloadKind::Gallery);
        *out = Box::into_raw(Box::new(ohf_download { inner }));
        Ok(())
    })
}

/// start(uri): starts bringing a gallery file down, as ohf_cloud_file_cache_start does for app
/// files. A uri that is not `file://media/<path>` is 14000002; a missing file 13900002.
#[no_mangle]
pub unsafe extern "C" fn ohf_download_start(
    download: *mut ohf_download,
    uri: *const c_char,
) -> ohf_status {
    ffi_call(|| {
        let d = download.as_ref().ok_or_else(|| param_null("download"))?;
        d.inner.start(uri)
    })
}

/// stop(uri): stops the file's download, returning once it has ended, and always deletes its
/// partial data (the next start begins again).
#[no_mangle]
pub unsafe extern "C" fn ohf_download_stop(
    download: *mut ohf_download,
    uri: *const c_char,
) -> ohf_status {
    ffi_call(|| {
        let d = download.as_ref().ok_or_else(|| param_null("download"))?;
        d.inner.stop(uri, true)
    })
}

/// on('progress', callback): as ohf_cloud_file_cache_on_progress (same threads and rules).
#[no_mangle]
pub unsafe extern "C" fn ohf_download_on_progress(
    download: *mut ohf_download,
    callback: ohf_download_progress_cb,
    user_data: *mut c_void,
    user_data_free: ohf_user_data_free_cb,
    out_id: *mut u64,
) -> ohf_status {
    ffi_call(|| {
        let d = download.as_ref().ok_or_else(|| param_null("download"))?;
        d.inner.on_progress(
            "ohf_download_on_progress",
            callback,
            user_data,
            user_data_free,
            out_id,
        )
    })
}

/// off('progress'[, callback]): as ohf_cloud_file_cache_off_progress (0: every listener).
#[no_mangle]
pub unsafe extern "C" fn ohf_download_off_progress(
    download: *mut ohf_download,
    id: u64,
) -> ohf_status {
    ffi_call(|| {
        let d = download.as_ref().ok_or_else(|| param_null("download"))?;
        d.inner.off_progress(id);
        Ok(())
    })
}

/// As ohf_cloud_file_cache_wait_idle.
#[no_mangle]
pub unsafe extern "C" fn ohf_download_wait_idle(
    download: *mut ohf_download,
    timeout_ms: i64,
    out_idle: *mut bool,
) -> ohf_status {
    ffi_call(|| {
        let d = download.as_ref().ok_or_else(|| param_null("download"))?;
        d.inner
            .wait_idle(timeout_ms, out_idle, "ohf_download_wait_idle")
    })
}

/// As ohf_cloud_file_cache_free. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn ohf_download_free(download: *mut ohf_download) {
    let _ = ffi_call(|| {
        if !download.is_null() {
            Box::from_raw(download).inner.off_progress(0);
        }
        Ok(())
    });
}

// ------------------------------------------------------------------ getFileSyncState

/// getFileSyncState(uri): the sync state of one file of an app's cloud folder or the gallery on
/// `dev`, in `*out_state` (OHF_FILE_SYNC_STATE_*). A cloud-only file is COMPLETED. A malformed
/// uri or one outside a synced folder is 14000002; a file neither local nor in the folder's
/// cloud state is 13900002; a NULL argument 401.
#[no_mangle]
pub unsafe extern "C" fn ohf_cloud_sync_get_file_sync_state(
    dev: *const ohf_device,
    uri: *const c_char,
    out_state: *mut ohf_file_sync_state,
) -> ohf_status {
    ffi_call(|| {
        let dev = dev.as_ref().ok_or_else(|| param_null("dev"))?;
        let uri = str_arg(uri, "uri")?;
        let out = out_arg(out_state, "out_state")?;
        *out = download::file_sync_state(&dev.inner, uri)? as i32;
        Ok(())
    })
}

/// getFileSyncState(uris): the states of `count` files, written to `out_states[0..count]` (an
/// array the caller provides) only when every uri is answered; the first bad uri decides the
/// status (14000002, 13900002). At most 100 uris per call (more: 401). `uris`/`out_states` may be
/// NULL when `count` is 0.
#[no_mangle]
pub unsafe extern "C" fn ohf_cloud_sync_get_file_sync_states(
    dev: *const ohf_device,
    uris: *const *const c_char,
    count: usize,
    out_states: *mut ohf_file_sync_state,
) -> ohf_status {
    ffi_call(|| {
        let dev = dev.as_ref().ok_or_else(|| param_null("dev"))?;
        if count > 0 && (uris.is_null() || out_states.is_null()) {
            return Err(param_null(if uris.is_null() {
                "uris"
            } else {
                "out_states"
            }));
        }
        let mut list = Vec::with_capacity(count);
        for i in 0..count {
            list.push(str_arg(*uris.add(i), &format!("uris[{i}]"))?.to_string());
        }
        let states = download::file_sync_states(&dev.inner, &list)?;
        for (i, s) in states.iter().take(count).enumerate() {
            *out_states.add(i) = *s as i32;
        }
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use ohfile_core::cloudsync::{
        DownloadErrorType, DownloadState, FileSyncState, SyncErrorType, SyncState,
    };

    #[test]
    fn the_c_numbers_are_the_core_s() {
        use SyncState as S;
        for (c, r) in [
            (OHF_SYNC_STATE_UPLOADING, S::Uploading),
            (OHF_SYNC_STATE_UPLOAD_FAILED, S::UploadFailed),
            (OHF_SYNC_STATE_DOWNLOADING, S::Downloading),
            (OHF_SYNC_STATE_DOWNLOAD_FAILED, S::DownloadFailed),
            (OHF_SYNC_STATE_COMPLETED, S::Completed),
            (OHF_SYNC_STATE_STOPPED, S::Stopped),
        ] {
            assert_eq!(c, r as i32, "{r:?}");
        }
        use SyncErrorType as E;
        for (c, r) in [
            (OHF_SYNC_ERROR_NO_ERROR, E::NoError),
            (OHF_SYNC_ERROR_NETWORK_UNAVAILABLE, E::NetworkUnavailable),
            (OHF_SYNC_ERROR_WIFI_UNAVAILABLE, E::WifiUnavailable),
            (OHF_SYNC_ERROR_BATTERY_LEVEL_LOW, E::BatteryLevelLow),
            (OHF_SYNC_ERROR_BATTERY_LEVEL_WARNING, E::BatteryLevelWarning),
            (OHF_SYNC_ERROR_CLOUD_STORAGE_FULL, E::CloudStorageFull),
            (OHF_SYNC_ERROR_LOCAL_STORAGE_FULL, E::LocalStorageFull),
            (
                OHF_SYNC_ERROR_DEVICE_TEMPERATURE_TOO_HIGH,
                E::DeviceTemperatureTooHigh,
            ),
            (
                OHF_SYNC_ERROR_REMOTE_SERVER_ABNORMAL,
                E::RemoteServerAbnormal,
            ),
            (OHF_SYNC_ERROR_RESPONSE_TIME_OUT, E::ResponseTimeOut),
            (OHF_SYNC_ERROR_UNKNOWN_ERROR, E::UnknownError),
        ] {
            assert_eq!(c, r as i32, "{r:?}");
        }
        use DownloadState as D;
        for (c, r) in [
            (OHF_DOWNLOAD_STATE_RUNNING, D::Running),
            (OHF_DOWNLOAD_STATE_COMPLETED, D::Completed),
            (OHF_DOWNLOAD_STATE_FAILED, D::Failed),
            (OHF_DOWNLOAD_STATE_STOPPED, D::Stopped),
            (OHF_DOWNLOAD_STATE_MISSING, D::Missing),
        ] {
            assert_eq!(c, r as i32, "{r:?}");
        }
        use DownloadErrorType as DE;
        for (c, r) in [
            (OHF_DOWNLOAD_ERROR_NO_ERROR, DE::NoError),
            (OHF_DOWNLOAD_ERROR_UNKNOWN_ERROR, DE::UnknownError),
            (
                OHF_DOWNLOAD_ERROR_NETWORK_UNAVAILABLE,
                DE::NetworkUnavailable,
            ),
            (OHF_DOWNLOAD_ERROR_LOCAL_STORAGE_FULL, DE::LocalStorageFull),
            (OHF_DOWNLOAD_ERROR_CONTENT_NOT_FOUND, DE::ContentNotFound),
            (
                OHF_DOWNLOAD_ERROR_FREQUENT_USER_REQUESTS,
                DE::FrequentUserRequests,
            ),
        ] {
            assert_eq!(c, r as i32, "{r:?}");
        }
        use FileSyncState as F;
        for (c, r) in [
            (OHF_FILE_SYNC_STATE_UPLOADING, F::Uploading),
            (OHF_FILE_SYNC_STATE_DOWNLOADING, F::Downloading),
            (OHF_FILE_SYNC_STATE_COMPLETED, F::Completed),
            (OHF_FILE_SYNC_STATE_STOPPED, F::Stopped),
            (OHF_FILE_SYNC_STATE_TO_BE_UPLOADED, F::ToBeUploaded),
            (OHF_FILE_SYNC_STATE_UPLOAD_SUCCESS, F::UploadSuccess),
            (OHF_FILE_SYNC_STATE_UPLOAD_FAILURE, F::UploadFailure),
        ] {
            assert_eq!(c, r as i32, "{r:?}");
        }
    }
}
