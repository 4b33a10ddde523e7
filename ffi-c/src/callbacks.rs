//! GeneralCallbacks for C: the struct of function pointers a session calls, and the event sink
//! that turns the core's session events into those calls on the session's event thread.

use std::ffi::{c_char, c_int, c_void, CString};
use std::os::fd::IntoRawFd;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, MutexGuard};

use ohfile_core::backup::session::{EventSink, SessionEvent};
use ohfile_core::{Error, ErrorCode};

use crate::boundary::{ffi_call, null_arg, ohf_status};
use crate::strings::c_string;

/// The version of ohf_backup_callbacks this header declares (set by ohf_backup_callbacks_init).
/// Version 2 added on_backup_size_report; the library still accepts version-1 structs, which
/// end before it.
pub const OHF_BACKUP_CALLBACKS_VERSION: u32 = 2;

/// The size of a version-1 struct: every member before on_backup_size_report.
const V1_SIZE: usize = std::mem::offset_of!(ohf_backup_callbacks, on_backup_size_report);

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
    /// Incremental backup: the manifest of exactly this item's files, to read (for `manage.json`
    /// the manifest of every current file: the next run's previous manifest). Restore: where to
    /// write the file's manifest (may be left empty). -1 in a plain backup and on failure.
    pub manifest_fd: c_int,
}

/// The callbacks of a backup or restore session (GeneralCallbacks). Initialise with
/// ohf_backup_callbacks_init, then set the members you need; a NULL member is skipped. The struct
/// is copied by ohf_session_backup_new / ohf_session_incremental_new / ohf_session_restore_new.
///
/// Versions: members are only ever added at the end, and `version` says how many there are. A
/// struct of version 1 (from a program built against an older header) ends after user_data_free;
/// the library reads no further and such a session never calls on_backup_size_report.
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
    /// OHF_BACKUP_CALLBACKS_VERSION (set by ohf_backup_callbacks_init), or 1 for the struct of
    /// the version-1 header; another value is 13900020.
    pub version: u32,
    /// Passed unchanged as the first argument of every callback.
    pub user_data: *mut c_void,
    /// onFileReady. On success (`err` == 0) the callee OWNS `file->fd` and `file->manifest_fd`
    /// (when not -1) and must close them. On failure `file->bundle_name` is the bundle and both
    /// fds are -1. When this member is NULL the library closes the fds itself (manifest_fd
    /// included).
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
    /// onBackupSizeReport (version 2): a progress report of ohf_session_get_backup_data_size,
    /// `{"scaned":[{"bundleName":…,"dataSize":…,"incDataSize":…},…],"scanning":"…"}` (sic:
    /// "scaned", as OpenHarmony spells it); every 5 s while scanning and once at the end, with
    /// "scanning" "".
    pub on_backup_size_report:
        Option<unsafe extern "C" fn(user_data: *mut c_void, report_info: *const c_char)>,
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
        on_backup_size_report: None,
    };

    /// The bytes a struct of `version` has; None for a version this library does not know.
    fn size_of_version(version: u32) -> Option<usize> {
        match version {
            1 => Some(V1_SIZE),
            OHF_BACKUP_CALLBACKS_VERSION => Some(std::mem::size_of::<ohf_backup_callbacks>()),
            _ => None,
        }
    }

    /// Copies the caller's struct, reading only as many bytes as its `version` says it has; the
    /// members it does not have stay NULL.
    ///
    /// # Safety
    /// `p` must be NULL or point to a struct of at least the size its `version` names.
    pub(crate) unsafe fn read(p: *const ohf_backup_callbacks) -> Result<Self, Error> {
        if p.is_null() {
            return Err(null_arg("callbacks"));
        }
        // `version` is the first member of every version: read it alone, then the rest.
        let version = p.cast::<u32>().read();
        let size = Self::size_of_version(version).ok_or_else(|| {
            Error::new(
                ErrorCode::InvalidArgument,
                format!(
                    "callbacks->version is {version}; this library supports 1 to \
                     {OHF_BACKUP_CALLBACKS_VERSION} (initialise the struct with \
                     ohf_backup_callbacks_init)"
                ),
            )
        })?;
        let mut copy = Self::EMPTY;
        // SAFETY: `size` bytes are readable at `p` (the caller's promise for its version) and
        // never exceed our struct; they are a prefix of the same #[repr(C)] layout.
        std::ptr::copy_nonoverlapping(p.cast::<u8>(), (&mut copy as *mut Self).cast::<u8>(), size);
        Ok(copy)
    }
}

/// The function behind ohf_backup_callbacks_init for programs built against the version-1 header
/// (which declared it as a function): fills a version-1 struct, i.e. zeroes every member up to
/// user_data_free and sets `version` to 1, writing nothing beyond. NULL is a no-op. Programs built
/// against this header reach ohf_backup_callbacks_init_version through the macro instead.
#[no_mangle]
pub unsafe extern "C" fn ohf_backup_callbacks_init(callbacks: *mut ohf_backup_callbacks) {
    let _ = ffi_call(|| {
        if callbacks.is_null() {
            return Ok(());
        }
        init_version(callbacks, 1)
    });
}

/// Zeroes a struct of `version` (1 or OHF_BACKUP_CALLBACKS_VERSION), writing exactly the size of
/// that version, and sets its `version`. The macro ohf_backup_callbacks_init(callbacks) is this
/// with the header's OHF_BACKUP_CALLBACKS_VERSION, its status discarded. NULL or an unknown
/// version is 13900020 and writes nothing.
#[no_mangle]
pub unsafe extern "C" fn ohf_backup_callbacks_init_version(
    callbacks: *mut ohf_backup_callbacks,
    version: u32,
) -> ohf_status {
    ffi_call(|| {
        if callbacks.is_null() {
            return Err(null_arg("callbacks"));
        }
        init_version(callbacks, version)
    })
}

/// Writes an empty struct of `version` over the first bytes of `callbacks` (not NULL).
unsafe fn init_version(callbacks: *mut ohf_backup_callbacks, version: u32) -> Result<(), Error> {
    let size = ohf_backup_callbacks::size_of_version(version).ok_or_else(|| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!(
                "version {version} is not a version of ohf_backup_callbacks (1 to \
                 {OHF_BACKUP_CALLBACKS_VERSION})"
            ),
        )
    })?;
    let init = ohf_backup_callbacks {
        version,
        ..ohf_backup_callbacks::EMPTY
    };
    // SAFETY: the caller's struct has at least `size` bytes (that is what its version means);
    // copied, not assigned: it may be uninitialised memory.
    std::ptr::copy_nonoverlapping(
        (&init as *const ohf_backup_callbacks).cast::<u8>(),
        callbacks.cast::<u8>(),
        size,
    );
    Ok(())
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
            SessionEvent::BackupSizeReport(report) => {
                // NULL for a version-1 struct, which has no such member.
                if let Some(on) = cb.on_backup_size_report {
                    let report = c_string(&report);
                    on(ud, report.as_ptr());
                }
            }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_version_1_struct_is_the_old_layout() {
        // version (padded to a pointer) and nine pointers: 80 bytes on 64-bit, 40 on 32-bit.
        assert_eq!(V1_SIZE, 10 * std::mem::size_of::<usize>());
        assert_eq!(
            std::mem::size_of::<ohf_backup_callbacks>(),
            V1_SIZE + std::mem::size_of::<usize>()
        );
    }

    #[test]
    fn init_and_read_stay_within_the_version_s_size() {
        let mut cb = [0xabu8; std::mem::size_of::<ohf_backup_callbacks>()];
        let p = cb.as_mut_ptr().cast::<ohf_backup_callbacks>();
        unsafe { ohf_backup_callbacks_init(p) };
        assert!(cb[V1_SIZE..].iter().all(|b| *b == 0xab));
        assert_eq!(u32::from_ne_bytes(cb[..4].try_into().unwrap()), 1);
        let read = unsafe { ohf_backup_callbacks::read(p) }.unwrap();
        assert_eq!(read.version, 1);
        assert!(read.on_backup_size_report.is_none());
        assert_eq!(unsafe { ohf_backup_callbacks_init_version(p, 3) }, 13900020);
        assert_eq!(unsafe { ohf_backup_callbacks_init_version(p, 2) }, 0);
        assert!(cb[V1_SIZE..].iter().all(|b| *b == 0));
    }
}
