//! The one place where Rust meets C: every exported body runs inside [`ffi_call`], which turns
//! errors into a status plus a thread-local message and never lets a panic unwind into C.

use std::cell::RefCell;
use std::ffi::{c_char, CStr, CString};
use std::panic::{catch_unwind, AssertUnwindSafe};

use ohfile_core::{Error, ErrorCode};

/// The status every fallible function returns: 0 or a public OpenHarmony error code
/// (see `enum ohf_status_code`).
#[allow(non_camel_case_types)]
pub type ohf_status = i32;

/// Success.
const OK: ohf_status = 0;

thread_local! {
    static LAST_ERROR: RefCell<CString> = RefCell::new(CString::default());
}

/// Records `msg` as this thread's last error message.
fn set_last_error(msg: &str) {
    let c = CString::new(msg.replace('\0', " ")).unwrap_or_default();
    LAST_ERROR.with(|m| *m.borrow_mut() = c);
}

/// The message of the last failing call on this thread (empty after a successful one). The
/// pointer stays valid until the next ohfile call on the same thread.
pub fn last_error_ptr() -> *const c_char {
    LAST_ERROR.with(|m| m.borrow().as_ptr())
}

/// Runs `f`, mapping its error to a status and message, and a panic to 13900042.
pub fn ffi_call(f: impl FnOnce() -> Result<(), Error>) -> ohf_status {
    match catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => {
            set_last_error("");
            OK
        }
        Ok(Err(e)) => {
            set_last_error(&e.message());
            e.code().code()
        }
        Err(panic) => {
            let what = panic
                .downcast_ref::<&str>()
                .map(|s| s.to_string())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".into());
            set_last_error(&format!(
                "{}: internal panic: {what}",
                ErrorCode::UnknownError.message()
            ));
            ErrorCode::UnknownError.code()
        }
    }
}

/// 13900020 for a NULL pointer argument.
pub fn null_arg(name: &str) -> Error {
    Error::new(ErrorCode::InvalidArgument, format!("{name} is NULL"))
}

/// Reads a NUL-terminated UTF-8 argument; invalid UTF-8 is 13900020.
///
/// # Safety
/// `p` must be NULL or point to a NUL-terminated string that outlives the call.
pub unsafe fn utf8_arg<'a>(p: *const c_char, name: &str) -> Result<&'a str, Error> {
    if p.is_null() {
        return Err(null_arg(name));
    }
    CStr::from_ptr(p).to_str().map_err(|_| {
        Error::new(
            ErrorCode::InvalidArgument,
            format!("{name} is not valid UTF-8"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panics_become_unknown_error_with_a_message() {
        let status = ffi_call(|| panic!("boom"));
        assert_eq!(status, 13900042);
        let msg = unsafe { CStr::from_ptr(last_error_ptr()) }
            .to_str()
            .unwrap()
            .to_string();
        assert!(msg.contains("boom"), "{msg}");
        assert_eq!(ffi_call(|| Ok(())), 0);
        assert_eq!(unsafe { CStr::from_ptr(last_error_ptr()) }.to_bytes(), b"");
    }
}
