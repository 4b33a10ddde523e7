//! C strings across the boundary: arrays of strings in, library-allocated strings out (released
//! only with ohf_string_free, so the caller never mixes allocators).

use std::ffi::{c_char, CString};

use ohfile_core::Error;

use crate::boundary::{ffi_call, null_arg, utf8_arg};

/// `s` as a C string; a NUL inside (never in names, possibly in an app's text) becomes a space.
pub(crate) fn c_string(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).unwrap_or_default()
}

/// Reads `count` NUL-terminated UTF-8 strings from `array` (which may be NULL when `count` is 0).
/// A NULL array or element, or invalid UTF-8, is 13900020 naming the argument (`names[2]`).
///
/// # Safety
/// `array` must be NULL or point to `count` pointers, each NULL or a NUL-terminated string.
pub(crate) unsafe fn string_array(
    array: *const *const c_char,
    count: usize,
    name: &str,
) -> Result<Vec<String>, Error> {
    if count == 0 {
        return Ok(Vec::new());
    }
    if array.is_null() {
        return Err(null_arg(name));
    }
    (0..count)
        .map(|i| utf8_arg(*array.add(i), &format!("{name}[{i}]")).map(str::to_string))
        .collect()
}

/// Releases a string that an ohfile function returned through an out-parameter (for example
/// ohf_backup_get_backup_info). NULL is a no-op. Never pass it memory from another allocator.
#[no_mangle]
pub unsafe extern "C" fn ohf_string_free(s: *mut c_char) {
    let _ = ffi_call(|| {
        if !s.is_null() {
            drop(CString::from_raw(s));
        }
        Ok(())
    });
}
