//! GeneralCallbacks for C: the struct of function pointers a session calls, and the event sink
//! that turns the core's session events into those calls on the session's event thread.

use std::ffi::{c_char, c_int, c_void, CString};
use std::os::fd::IntoRawFd;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard};

use ohfile_core::backup::session::{EventSink, SessionEvent};
use ohfile_core::Error;

use crate::boundary::{ffi_call, ohf_status};
use crate::strings::c_string;

/// The version of ohf_backup_callbacks this library understands (set by
/// ohf_backup_callbacks_init).
pub const OHF_BACKUP_CALLBACKS_VERSION: u32 = 1;

/// A file handed to on_file_ready (the `File` of the docs). The strings are valid only during the
/// call.
#[repr(C)]
pub struct ohf_file_ready {
    /// The bundle the file belongs to (never NULL).
    pub bundle_name: *const c_char,
    /// The file's name: a tar part (`part.1.tar`), a big file's name, or `manage.json` in backup;
    /// the uri passed to ohf_session_get_file_handle in restore ("" on failure; never NULL).
    pub uri: *const c_char,
    /// Backup: the data to read. Restore: where to write the file. -1 on failure.
    pub fd: c_int,
    /// Restore: where to write the file's manifest (may be left empty). -1 when none.
    pub manifest_fd: c_int,
}

/// The callbacks of a backup or restore session (GeneralCallbacks). Initialise with
/// ohf_backup_callbacks_init, then set the members you need; a NULL member is skipped. The struct
/// is copied by ohf_session_backup_new / ohf_session_restore_new.
///
/// Threads: every callback runs on the session's event thread (one thread per session), one at a
/// time and never concurrently for one session, in the documented order (per bundle:
/// on_bundle_begin, on_process*, on_file_ready*, on_result_report?, on_bundle_end; then
/// on_all_bundles_end). A callback must not block for long: the session's work waits for it.
/// It may call the session's functions (ohf_session_get_file_handle, ohf_session_publish_file,
/// ohf_session_release, …), including ohf_session_free as the last thing it does with the
/// session. Strings passed to callbacks are UTF-8, never NULL ("" when absent), and valid only
/// during the call. On success `err` is 0 and `err_message` is "".
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ohf_backup_callbacks {
    /// OHF_BACKUP_CALLBACKS_VERSION (set by ohf_backup_callbacks_init); another value is 13900020.
    pub version: u32,
    /// Passed unchanged as the first argument of every callback.
    pub user_data: *mut c_void,
    /// onFileReady. On success (`err` == 0) the callee OWNS `file->fd` and `file->manifest_fd`
    /// (when not -1) and must close them. On failure `file->bundle_name` is the bundle and both
    /// fds are -1. When this member is NULL the library closes the fds itself.
    pub on_file_ready: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            err: ohf_status,
            err_message: *const c_char,
            file: *const ohf_file_ready,
        ),
    >,
    /// onBundleBegin: the bundle started, or could not (`err`, e.g. 13500005 for an unknown
    /// bundle); `bundle_name` is set either way.
    pub on_bundle_begin: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            err: ohf_status,
            err_message: *const c_char,
            bundle_name: *const c_char,
        ),
    >,
    /// onBundleEnd: the bundle finished (`err` == 0) or failed.
    pub on_bundle_end: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            err: ohf_status,
            err_message: *const c_char,
            bundle_name: *const c_char,
        ),
    >,
    /// onAllBundlesEnd: every bundle appended so far has ended.
    pub on_all_bundles_end: Option<
        unsafe extern "C" fn(user_data: *mut c_void, err: ohf_status, err_message: *const c_char),
    >,
    /// onBackupServiceDied: the service can no longer serve the session; later calls fail with
    /// 13600001. Free the session and start a new one.
    pub on_backup_service_died: Option<unsafe extern "C" fn(user_data: *mut c_void)>,
    /// onResultReport: the text the app's extension returned (or an ErrorInfo JSON).
    pub on_result_report: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            bundle_name: *const c_char,
            result: *const c_char,
        ),
    >,
    /// onProcess: progress or a per-file error of a bundle, as `{"processResult":{…}}` JSON.
    pub on_process: Option<
        unsafe extern "C" fn(
            user_data: *mut c_void,
            bundle_name: *const c_char,
            process: *const c_char,
        ),
    >,
    /// Called exactly once, after the last callback has returned, when the session is freed
    /// (inside ohf_session_free, or on the event thread right after the callback that freed the
    /// session returns). Not called when creating the session fails.
    pub user_data_free: Option<unsafe extern "C" fn(user_data: *mut c_void)>,
}

impl ohf_backup_callbacks {
    const EMPTY: ohf_backup_callbacks = ohf_backup_callbacks {
        version: OHF_BACKUP_CALLBACKS_VERSION,
        user_data: std::ptr::null_mut(),
        on_file_ready: None,
        on_bundle_begin: None,
        on_bundle_end: None,
        on_all_bundles_end: None,
        on_backup_service_died: None,
        on_result_report: None,
        on_process: None,
        user_data_free: None,
    };
}

/// Zeroes `callbacks` and sets its version to OHF_BACKUP_CALLBACKS_VERSION. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn ohf_backup_callbacks_init(callbacks: *mut ohf_backup_callbacks) {
    let _ = ffi_call(|| {
        if !callbacks.is_null() {
            // write, not assignment: the caller's struct may be uninitialised memory.
            callbacks.write(ohf_backup_callbacks::EMPTY);
        }
        Ok(())
    });
}

/// Who is inside a callback, and whether the session was freed.
#[derive(Default)]
struct Delivery {
    /// Callbacks in progress (more than one when a callback's call into the session delivers an
    /// event inline).
    depth: usize,
    /// The session was freed: no more callbacks.
    closed: bool,
    /// user_data_free has been called (or is being called).
    user_data_freed: bool,
}

/// A session's callbacks as the core's event sink.
pub(crate) struct CallbackSink {
    callbacks: ohf_backup_callbacks,
    delivery: Mutex<Delivery>,
}

// SAFETY: the callbacks and user_data are only used on the session's event thread (and
// user_data_free once, after the last callback), as the header documents; registering them is
// the caller's promise that this is fine.
unsafe impl Send for CallbackSink {}
unsafe impl Sync for CallbackSink {}

impl CallbackSink {
    pub fn new(callbacks: ohf_backup_callbacks) -> Arc<CallbackSink> {
        Arc::new(CallbackSink {
            callbacks,
            delivery: Mutex::new(Delivery::default()),
        })
    }

    fn delivery(&self) -> MutexGuard<'_, Delivery> {
        self.delivery.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// No callback runs after this; user_data_free runs now, or when the callback in progress
    /// returns (the session was freed from inside it).
    pub fn close(&self) {
        let free_now = {
            let mut d = self.delivery();
            d.closed = true;
            d.depth == 0 && !std::mem::replace(&mut d.user_data_freed, true)
        };
        if free_now {
            self.free_user_data();
        }
    }

    fn free_user_data(&self) {
        if let Some(free) = self.callbacks.user_data_free {
            // SAFETY: the caller's finalizer for its own user_data, called once.
            let _ = catch_unwind(AssertUnwindSafe(|| unsafe {
                free(self.callbacks.user_data)
            }));
        }
    }

    /// Enters a callback unless the session was freed.
    fn enter(&self) -> bool {
        let mut d = self.delivery();
        if d.closed {
            return false;
        }
        d.depth += 1;
        true
    }

    fn leave(&self) {
        let free_now = {
            let mut d = self.delivery();
            d.depth -= 1;
            d.closed && d.depth == 0 && !std::mem::replace(&mut d.user_data_freed, true)
        };
        if free_now {
            self.free_user_data();
        }
    }

    /// Calls the member for `event`. The lock is not held: a callback may call into the session.
    unsafe fn call(&self, event: SessionEvent) {
        let cb = &self.callbacks;
        let ud = cb.user_data;
        let ok = c"".as_ptr();
        match event {
            SessionEvent::FileReady(Ok(f)) => {
                // Without a callback the fds are closed when `f` is dropped.
                let Some(on) = cb.on_file_ready else { return };
                let (bundle, uri) = (c_string(&f.bundle_name), c_string(&f.uri));
                let file = ohf_file_ready {
                    bundle_name: bundle.as_ptr(),
                    uri: uri.as_ptr(),
                    fd: f.fd.into_raw_fd(),
                    manifest_fd: f.manifest_fd.map_or(-1, IntoRawFd::into_raw_fd),
                };
                on(ud, 0, ok, &file);
            }
            SessionEvent::FileReady(Err(e)) => {
                let Some(on) = cb.on_file_ready else { return };
                let (status, message, bundle) = failure(&e);
                let file = ohf_file_ready {
                    bundle_name: bundle.as_ptr(),
                    uri: ok,
                    fd: -1,
                    manifest_fd: -1,
                };
                on(ud, status, message.as_ptr(), &file);
            }
            SessionEvent::BundleBegin(r) => bundle_event(cb.on_bundle_begin, ud, r),
            SessionEvent::BundleEnd(r) => bundle_event(cb.on_bundle_end, ud, r),
            SessionEvent::AllBundlesEnd(r) => {
                let Some(on) = cb.on_all_bundles_end else {
                    return;
                };
                match r {
                    Ok(()) => on(ud, 0, ok),
                    Err(e) => {
                        let message = c_string(&e.message());
                        on(ud, e.code().code(), message.as_ptr());
                    }
                }
            }
            SessionEvent::ServiceDied => {
                if let Some(on) = cb.on_backup_service_died {
                    on(ud);
                }
            }
            SessionEvent::ResultReport { bundle, result } => {
                if let Some(on) = cb.on_result_report {
                    let (bundle, result) = (c_string(&bundle), c_string(&result));
                    on(ud, bundle.as_ptr(), result.as_ptr());
                }
            }
            // Delivered to C once the callbacks struct grows an on_backup_size_report member.
            SessionEvent::BackupSizeReport(_) => {}
            SessionEvent::Process { bundle, process } => {
                if let Some(on) = cb.on_process {
                    let (bundle, process) = (c_string(&bundle), c_string(&process));
                    on(ud, bundle.as_ptr(), process.as_ptr());
                }
            }
        }
    }
}

type BundleFn = unsafe extern "C" fn(*mut c_void, ohf_status, *const c_char, *const c_char);

/// on_bundle_begin / on_bundle_end: the bundle is the name on success, the error's data on failure.
unsafe fn bundle_event(on: Option<BundleFn>, ud: *mut c_void, r: Result<String, Error>) {
    let Some(on) = on else { return };
    match r {
        Ok(name) => {
            let name = c_string(&name);
            on(ud, 0, c"".as_ptr(), name.as_ptr());
        }
        Err(e) => {
            let (status, message, bundle) = failure(&e);
            on(ud, status, message.as_ptr(), bundle.as_ptr());
        }
    }
}

/// The status, message and bundle (the error's data, "" when none) of a failed event.
fn failure(e: &Error) -> (ohf_status, CString, CString) {
    (
        e.code().code(),
        c_string(&e.message()),
        c_string(e.data().unwrap_or("")),
    )
}

/// Leaves the callback even if converting the event panicked.
struct Leave<'a>(&'a CallbackSink);

impl Drop for Leave<'_> {
    fn drop(&mut self) {
        self.0.leave();
    }
}

impl EventSink for CallbackSink {
    fn deliver(&self, event: SessionEvent) {
        if !self.enter() {
            return; // freed: dropping the event closes any fds it carries
        }
        let _leave = Leave(self);
        // SAFETY: the caller's callbacks, called as the header documents. A panic on our side of
        // the conversion must not take the session's event thread down with it.
        let _ = catch_unwind(AssertUnwindSafe(|| unsafe { self.call(event) }));
    }
}
