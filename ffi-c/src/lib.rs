//! libohfile: the C ABI of ohfile. Only translation lives here; behaviour is in `ohfile-core`.
#![allow(non_camel_case_types)]
#![allow(clippy::missing_safety_doc)] // the safety contract of each function is in the header

mod asset;
mod boundary;
mod callbacks;
pub mod cloudsync;
mod cloudsync_listeners;
mod session;
mod session_incremental;
mod strings;

use std::ffi::{c_char, c_int, CString};
use std::os::fd::IntoRawFd;
use std::path::Path;

use ohfile_core::{backup, Device, ErrorCode};
use once_cell::sync::Lazy;

pub use boundary::ohf_status;
use boundary::{ffi_call, null_arg, utf8_arg};
pub use callbacks::{ohf_backup_callbacks, ohf_file_ready, OHF_BACKUP_CALLBACKS_VERSION};
pub use session::ohf_session;
pub use session_incremental::{ohf_incremental_backup_data, ohf_incremental_backup_time};

/// An opened device root (see ohf_device_open).
pub struct ohf_device {
    inner: Device,
}

static VERSION: Lazy<CString> =
    Lazy::new(|| CString::new(ohfile_core::VERSION).unwrap_or_default());
static STATUS_MESSAGES: Lazy<Vec<(i32, CString)>> = Lazy::new(|| {
    ErrorCode::ALL
        .iter()
        .map(|c| (c.code(), CString::new(c.message()).unwrap_or_default()))
        .collect()
});

/// The library version, e.g. "0.1.0" (static storage; never NULL).
#[no_mangle]
pub extern "C" fn ohf_version() -> *const c_char {
    VERSION.as_ptr()
}

/// The message of the last failing ohfile call on the calling thread ("" after a successful call;
/// never NULL). Valid until the next ohfile call on the same thread.
#[no_mangle]
pub extern "C" fn ohf_last_error_message() -> *const c_char {
    boundary::last_error_ptr()
}

/// The documented message of a status ("OK" for 0, "" for a value that is not a public code).
/// Static storage; never NULL.
#[no_mangle]
pub extern "C" fn ohf_status_message(status: ohf_status) -> *const c_char {
    if status == 0 {
        return c"OK".as_ptr();
    }
    STATUS_MESSAGES
        .iter()
        .find(|(c, _)| *c == status)
        .map(|(_, m)| m.as_ptr())
        .unwrap_or(c"".as_ptr())
}

/// Opens the device at `root` (NULL: the default device, `$OHFILE_ROOT` or
/// `${XDG_DATA_HOME:-$HOME/.local/share}/ohfile`). On success `*out` receives a handle to release
/// with ohf_device_free. A root that is missing or not a directory, or a malformed device.json,
/// is an error status with a message naming the path.
#[no_mangle]
pub unsafe extern "C" fn ohf_device_open(
    root: *const c_char,
    out: *mut *mut ohf_device,
) -> ohf_status {
    ffi_call(|| {
        if out.is_null() {
            return Err(null_arg("out"));
        }
        let root = if root.is_null() {
            None
        } else {
            Some(utf8_arg(root, "root")?)
        };
        let inner = Device::open(root.map(Path::new))?;
        *out = Box::into_raw(Box::new(ohf_device { inner }));
        Ok(())
    })
}

/// Releases a device handle. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn ohf_device_free(dev: *mut ohf_device) {
    if !dev.is_null() {
        drop(Box::from_raw(dev));
    }
}

/// backup.getLocalCapabilities: writes the device's capability JSON into an anonymous temp file
/// and stores an open, read-only-positioned-at-0 file descriptor in `*out_fd`. The caller owns the
/// descriptor and closes it with close(2).
#[no_mangle]
pub unsafe extern "C" fn ohf_backup_get_local_capabilities(
    dev: *const ohf_device,
    out_fd: *mut c_int,
) -> ohf_status {
    ffi_call(|| {
        let dev = dev.as_ref().ok_or_else(|| null_arg("dev"))?;
        if out_fd.is_null() {
            return Err(null_arg("out_fd"));
        }
        let file = backup::write_local_capabilities(&dev.inner)?;
        *out_fd = file.into_raw_fd();
        Ok(())
    })
}
