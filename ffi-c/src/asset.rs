//! The asset store (`@ohos.security.asset`) for C: `ohf_asset_*` over a store opened for an
//! explicit device and owner, and the conversions between C attribute arrays and core `AssetMap`s
//! that the OpenHarmony NDK names (`asset/ndk.rs`, declared in `include/asset/asset_api.h`) share.
//!
//! The `ohf_asset_*` structs have exactly the layout of the NDK's `Asset_*` structs (the NDK
//! functions take the same Rust types), so a program may pass one for the other.

/// The OpenHarmony NDK names, declared by the hand-written include/asset/ headers, not ohfile.h.
/// cbindgen:ignore
mod ndk;

use std::collections::BTreeMap;
use std::ffi::c_char;
use std::ptr;
use std::sync::{Arc, Mutex};

use ohfile_core::asset::tags::TagType;
use ohfile_core::asset::{self, AssetMap, AssetStore, SyncResult, Value};
use ohfile_core::{Device, Error, ErrorCode};

use crate::boundary::{ffi_call, ohf_status, utf8_arg};
use crate::ohf_device;

/// At most this many attributes in one array (as OpenHarmony's SDK).
const MAX_ATTRS: u32 = 64;

/// Bytes: `size` bytes at `data` (the NDK's Asset_Blob).
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ohf_asset_blob {
    /// The number of bytes.
    pub size: u32,
    /// The bytes (NULL when `size` is 0 in a result).
    pub data: *mut u8,
}

/// The value of an attribute; the member meant follows from the tag's type bits (the top four:
/// 1 bool, 2 number, 3 bytes). The NDK's Asset_Value.
#[repr(C)]
#[derive(Clone, Copy)]
pub union ohf_asset_value {
    /// For bool tags.
    pub boolean: bool,
    /// For number tags.
    pub u32: u32,
    /// For bytes tags.
    pub blob: ohf_asset_blob,
}

/// One attribute: a tag (`asset.Tag`, `ASSET_TAG_*`) and its value. The NDK's Asset_Attr.
#[repr(C)]
#[derive(Clone, Copy)]
pub struct ohf_asset_attr {
    /// The tag.
    pub tag: u32,
    /// Its value.
    pub value: ohf_asset_value,
}

/// One asset of a query result: its attributes. The NDK's Asset_Result.
#[repr(C)]
pub struct ohf_asset_result {
    /// The number of attributes.
    pub count: u32,
    /// The attributes (owned by the result set).
    pub attrs: *mut ohf_asset_attr,
}

/// The assets a query found; release with ohf_asset_result_set_free. The NDK's Asset_ResultSet.
#[repr(C)]
pub struct ohf_asset_result_set {
    /// The number of assets.
    pub count: u32,
    /// The assets.
    pub results: *mut ohf_asset_result,
}

/// How the last sync of an app's assets went (querySyncResult). The NDK's Asset_SyncResult.
#[repr(C)]
#[derive(Clone, Copy, Default)]
pub struct ohf_asset_sync_result {
    /// 0, or the error code that made the sync fail.
    pub result_code: i32,
    /// The assets that should have been synced (0 when the sync failed before counting).
    pub total_count: u32,
    /// How many of them were not (0 when the sync failed before counting).
    pub failed_count: u32,
}

/// The asset store of one app (the owner) on one device (see ohf_asset_store_open).
pub struct ohf_asset_store {
    device: Device,
    owner: String,
    // The process-wide store of this device and app (AssetStore::shared). Calls on one handle are
    // serialised, as documented; the store itself may be used by other handles at the same time.
    store: Mutex<Arc<AssetStore>>,
}

impl ohf_asset_store {
    fn with<T>(&self, f: impl FnOnce(&AssetStore) -> Result<T, Error>) -> Result<T, Error> {
        let guard = self.store.lock().unwrap_or_else(|p| p.into_inner());
        f(&guard)
    }
}

/// Whether `code` is one the asset APIs document (201, 202, 401, 24000001–24000019).
fn is_asset_code(code: i32) -> bool {
    matches!(code, 0 | 201 | 202 | 401 | 24000001..=24000019)
}

/// Runs an asset function body: the boundary of `ffi_call`, with every status an asset code.
/// `invalid` is the code of an argument error (401, or 24000018 for querySyncResult); anything
/// that is not an asset code (an internal panic) becomes 24000001, the service being unavailable.
pub(crate) fn asset_call(invalid: ErrorCode, f: impl FnOnce() -> Result<(), Error>) -> ohf_status {
    let status = ffi_call(|| {
        f().map_err(|e| {
            if e.code() == ErrorCode::ParameterError && invalid != ErrorCode::ParameterError {
                Error::new(invalid, e.detail().to_string())
            } else {
                e
            }
        })
    });
    if is_asset_code(status) {
        status
    } else {
        ErrorCode::AssetServiceUnavailable.code()
    }
}

/// An argument error with the code of the calling function.
pub(crate) fn bad_arg(invalid: ErrorCode, detail: impl Into<String>) -> Error {
    Error::new(invalid, detail)
}

/// Reads `count` C attributes into a map. Each value is read as the type its tag's top nibble
/// names; a tag with no valid type, an empty or NULL byte array, a NULL array with a non-zero
/// count, or more than 64 attributes is `invalid`. A repeated tag keeps its last value.
///
/// # Safety
/// `attrs` must be NULL or point to `count` attributes whose byte arrays are readable.
pub(crate) unsafe fn read_attrs(
    attrs: *const ohf_asset_attr,
    count: u32,
    name: &str,
    invalid: ErrorCode,
) -> Result<AssetMap, Error> {
    if count == 0 {
        return Ok(BTreeMap::new());
    }
    if attrs.is_null() {
        return Err(bad_arg(invalid, format!("{name} is NULL")));
    }
    if count > MAX_ATTRS {
        return Err(bad_arg(
            invalid,
            format!("{name}: {count} attributes, at most {MAX_ATTRS}"),
        ));
    }
    let mut map = AssetMap::new();
    for i in 0..count as usize {
        let attr = attrs.add(i);
        let tag = (*attr).tag;
        let value = match TagType::of(tag) {
            // Read the byte, not a Rust bool: C may have stored any non-zero value.
            Some(TagType::Bool) => Value::Bool(*ptr::addr_of!((*attr).value).cast::<u8>() != 0),
            Some(TagType::Number) => Value::Number((*attr).value.u32),
            Some(TagType::Bytes) => {
                let blob = (*attr).value.blob;
                if blob.data.is_null() || blob.size == 0 {
                    return Err(bad_arg(
                        invalid,
                        format!("{name}[{i}] (tag {tag:#010x}): the byte array is empty"),
                    ));
                }
                Value::Bytes(std::slice::from_raw_parts(blob.data, blob.size as usize).to_vec())
            }
            None => {
                return Err(bad_arg(
                    invalid,
                    format!("{name}[{i}]: tag {tag:#010x} has no valid value type"),
                ))
            }
        };
        map.insert(tag, value);
    }
    Ok(map)
}

/// Bytes in library-allocated memory (NULL for none), released by free_blob.
fn blob_of(bytes: Vec<u8>) -> ohf_asset_blob {
    if bytes.is_empty() {
        return ohf_asset_blob {
            size: 0,
            data: ptr::null_mut(),
        };
    }
    let size = bytes.len() as u32;
    let data = Box::into_raw(bytes.into_boxed_slice()).cast::<u8>();
    ohf_asset_blob { size, data }
}

/// One asset's attributes in library-allocated memory, in tag order.
fn result_of(map: AssetMap) -> ohf_asset_result {
    let attrs: Vec<ohf_asset_attr> = map
        .into_iter()
        .map(|(tag, value)| ohf_asset_attr {
            tag,
            value: match value {
                Value::Bool(b) => ohf_asset_value { boolean: b },
                Value::Number(n) => ohf_asset_value { u32: n },
                Value::Bytes(b) => ohf_asset_value { blob: blob_of(b) },
            },
        })
        .collect();
    if attrs.is_empty() {
        return ohf_asset_result {
            count: 0,
            attrs: ptr::null_mut(),
        };
    }
    let count = attrs.len() as u32;
    let attrs = Box::into_raw(attrs.into_boxed_slice()).cast::<ohf_asset_attr>();
    ohf_asset_result { count, attrs }
}

/// A query's answer in library-allocated memory, released by free_result_set.
pub(crate) fn result_set_of(maps: Vec<AssetMap>) -> ohf_asset_result_set {
    if maps.is_empty() {
        return ohf_asset_result_set {
            count: 0,
            results: ptr::null_mut(),
        };
    }
    let results: Vec<ohf_asset_result> = maps.into_iter().map(result_of).collect();
    let count = results.len() as u32;
    let results = Box::into_raw(results.into_boxed_slice()).cast::<ohf_asset_result>();
    ohf_asset_result_set { count, results }
}

/// The C shape of a sync result: an omitted count is 0.
pub(crate) fn sync_result_of(r: SyncResult) -> ohf_asset_sync_result {
    ohf_asset_sync_result {
        result_code: r.result_code,
        total_count: r.total_count.unwrap_or(0),
        failed_count: r.failed_count.unwrap_or(0),
    }
}

/// Zeroes and frees the bytes of `blob` (library-allocated), then empties it.
///
/// # Safety
/// `blob.data` must be NULL or come from blob_of with this size.
pub(crate) unsafe fn free_blob(blob: &mut ohf_asset_blob) {
    if !blob.data.is_null() && blob.size > 0 {
        // Secrets do not outlive their use in freed memory.
        for i in 0..blob.size as usize {
            ptr::write_volatile(blob.data.add(i), 0);
        }
        drop(Box::from_raw(ptr::slice_from_raw_parts_mut(
            blob.data,
            blob.size as usize,
        )));
    }
    blob.data = ptr::null_mut();
    blob.size = 0;
}

/// Frees a result set from result_set_of and empties it.
///
/// # Safety
/// `set` must be empty or come from result_set_of, unchanged.
pub(crate) unsafe fn free_result_set(set: &mut ohf_asset_result_set) {
    if !set.results.is_null() && set.count > 0 {
        let results = Box::from_raw(ptr::slice_from_raw_parts_mut(
            set.results,
            set.count as usize,
        ));
        for result in results.iter() {
            if result.attrs.is_null() || result.count == 0 {
                continue;
            }
            let mut attrs = Box::from_raw(ptr::slice_from_raw_parts_mut(
                result.attrs,
                result.count as usize,
            ));
            for attr in attrs.iter_mut() {
                if TagType::of(attr.tag) == Some(TagType::Bytes) {
                    free_blob(&mut attr.value.blob);
                }
            }
        }
    }
    set.results = ptr::null_mut();
    set.count = 0;
}

/// The attribute `tag` of `result`, or NULL.
///
/// # Safety
/// `result` must be NULL or a result of a result set from this library.
pub(crate) unsafe fn find_attr(result: *const ohf_asset_result, tag: u32) -> *mut ohf_asset_attr {
    let Some(result) = result.as_ref() else {
        return ptr::null_mut();
    };
    if result.attrs.is_null() {
        return ptr::null_mut();
    }
    (0..result.count as usize)
        .map(|i| result.attrs.add(i))
        .find(|a| (**a).tag == tag)
        .unwrap_or(ptr::null_mut())
}

/// Opens the asset store of the app `owner` (a bundle name) on `dev` (which may be freed
/// afterwards). On success `*out` receives a handle to release with ohf_asset_store_free. A
/// handle may be used from any thread; calls on one handle run one at a time. A bad owner name is
/// 401; a store that cannot be opened is 24000008 or 24000014.
#[no_mangle]
pub unsafe extern "C" fn ohf_asset_store_open(
    dev: *const ohf_device,
    owner: *const c_char,
    out: *mut *mut ohf_asset_store,
) -> ohf_status {
    let invalid = ErrorCode::ParameterError;
    asset_call(invalid, || {
        let dev = dev
            .as_ref()
            .ok_or_else(|| bad_arg(invalid, "dev is NULL"))?;
        let owner = utf8_arg(owner, "owner").map_err(|e| bad_arg(invalid, e.detail()))?;
        if out.is_null() {
            return Err(bad_arg(invalid, "out is NULL"));
        }
        let store = AssetStore::shared(&dev.inner, owner)?;
        *out = Box::into_raw(Box::new(ohf_asset_store {
            device: dev.inner.clone(),
            owner: owner.to_string(),
            store: Mutex::new(store),
        }));
        Ok(())
    })
}

/// Releases a store handle. NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn ohf_asset_store_free(store: *mut ohf_asset_store) {
    let _ = ffi_call(|| {
        if !store.is_null() {
            drop(Box::from_raw(store));
        }
        Ok(())
    });
}

/// The store behind a handle argument.
unsafe fn store_arg<'a>(store: *const ohf_asset_store) -> Result<&'a ohf_asset_store, Error> {
    store
        .as_ref()
        .ok_or_else(|| bad_arg(ErrorCode::ParameterError, "store is NULL"))
}

/// asset.add(attributes): adds an asset (SECRET and ALIAS required). 401 for a missing,
/// mistyped, empty, disallowed or out-of-range attribute (or more than 64); 24000003 when the
/// alias exists and CONFLICT_RESOLUTION is not OVERWRITE; 24000005 when the device's lock state
/// or password does not allow it.
#[no_mangle]
pub unsafe extern "C" fn ohf_asset_add(
    store: *const ohf_asset_store,
    attrs: *const ohf_asset_attr,
    count: u32,
) -> ohf_status {
    let invalid = ErrorCode::ParameterError;
    asset_call(invalid, || {
        let s = store_arg(store)?;
        let map = read_attrs(attrs, count, "attrs", invalid)?;
        s.with(|st| st.add(&map))
    })
}

/// asset.remove(query): removes the assets that match. 24000002 when none does.
#[no_mangle]
pub unsafe extern "C" fn ohf_asset_remove(
    store: *const ohf_asset_store,
    query: *const ohf_asset_attr,
    count: u32,
) -> ohf_status {
    let invalid = ErrorCode::ParameterError;
    asset_call(invalid, || {
        let s = store_arg(store)?;
        let map = read_attrs(query, count, "query", invalid)?;
        s.with(|st| st.remove(&map))
    })
}

/// asset.update(query, attributesToUpdate): the query names one asset by ALIAS; the update may
/// change the secret and the normal and local labels. 24000002 when no asset matches.
#[no_mangle]
pub unsafe extern "C" fn ohf_asset_update(
    store: *const ohf_asset_store,
    query: *const ohf_asset_attr,
    query_count: u32,
    update: *const ohf_asset_attr,
    update_count: u32,
) -> ohf_status {
    let invalid = ErrorCode::ParameterError;
    asset_call(invalid, || {
        let s = store_arg(store)?;
        let query = read_attrs(query, query_count, "query", invalid)?;
        let update = read_attrs(update, update_count, "update", invalid)?;
        s.with(|st| st.update(&query, &update))
    })
}

/// asset.preQuery(query): opens a user-authentication session for assets with AUTH_TYPE ANY;
/// `*out_challenge` receives its 32-byte challenge (release with ohf_asset_blob_free). End the
/// session with ohf_asset_post_query. 24000016 beyond 16 sessions per app (32 in all).
#[no_mangle]
pub unsafe extern "C" fn ohf_asset_pre_query(
    store: *const ohf_asset_store,
    query: *const ohf_asset_attr,
    count: u32,
    out_challenge: *mut ohf_asset_blob,
) -> ohf_status {
    let invalid = ErrorCode::ParameterError;
    asset_call(invalid, || {
        let s = store_arg(store)?;
        let map = read_attrs(query, count, "query", invalid)?;
        if out_challenge.is_null() {
            return Err(bad_arg(invalid, "out_challenge is NULL"));
        }
        let challenge = s.with(|st| st.pre_query(&map))?;
        *out_challenge = blob_of(challenge);
        Ok(())
    })
}

/// asset.query(query): `*out` receives the matching assets (at least one: none is 24000002),
/// released with ohf_asset_result_set_free. RETURN_TYPE ALL (with the secret) needs ALIAS, else
/// 24000017; for AUTH_TYPE ANY assets also AUTH_CHALLENGE and AUTH_TOKEN (wrong: 24000004).
#[no_mangle]
pub unsafe extern "C" fn ohf_asset_query(
    store: *const ohf_asset_store,
    query: *const ohf_asset_attr,
    count: u32,
    out: *mut ohf_asset_result_set,
) -> ohf_status {
    let invalid = ErrorCode::ParameterError;
    asset_call(invalid, || {
        let s = store_arg(store)?;
        let map = read_attrs(query, count, "query", invalid)?;
        if out.is_null() {
            return Err(bad_arg(invalid, "out is NULL"));
        }
        let maps = s.with(|st| st.query(&map))?;
        *out = result_set_of(maps);
        Ok(())
    })
}

/// asset.postQuery(handle): ends the authentication session whose AUTH_CHALLENGE `handle` holds.
#[no_mangle]
pub unsafe extern "C" fn ohf_asset_post_query(
    store: *const ohf_asset_store,
    handle: *const ohf_asset_attr,
    count: u32,
) -> ohf_status {
    let invalid = ErrorCode::ParameterError;
    asset_call(invalid, || {
        let s = store_arg(store)?;
        let map = read_attrs(handle, count, "handle", invalid)?;
        s.with(|st| st.post_query(&map))
    })
}

/// asset.querySyncResult(query): how the last sync of the app's assets went; `query` may hold
/// GROUP_ID and REQUIRE_ATTR_ENCRYPTED. `*out` is {0, 0, 0} when none happened; the counts are 0
/// when the sync failed before counting. Every argument error, a NULL `out` included, is
/// 24000018.
#[no_mangle]
pub unsafe extern "C" fn ohf_asset_query_sync_result(
    store: *const ohf_asset_store,
    query: *const ohf_asset_attr,
    count: u32,
    out: *mut ohf_asset_sync_result,
) -> ohf_status {
    let invalid = ErrorCode::AssetParamVerificationFailed;
    asset_call(invalid, || {
        let s = store
            .as_ref()
            .ok_or_else(|| bad_arg(invalid, "store is NULL"))?;
        let map = read_attrs(query, count, "query", invalid)?;
        if out.is_null() {
            return Err(bad_arg(invalid, "out is NULL"));
        }
        let result = s.with(|st| st.query_sync_result(&map))?;
        *out = sync_result_of(result);
        Ok(())
    })
}

/// ohfile's software stand-in for user authentication (OpenHarmony's user-auth service): turns a
/// challenge from ohf_asset_pre_query (or OH_Asset_PreQuery) of this store's app into an auth
/// token to pass as AUTH_TOKEN with the same AUTH_CHALLENGE to the query. `*out_token` is
/// released with ohf_asset_blob_free. A challenge that is not one of the app's open preQuery
/// sessions (never issued, another app's, closed by postQuery or expired) is 24000004. The device
/// needs a lock-screen password (the credential the user proves), else 24000005; a challenge that
/// is not 32 bytes is 401.
#[no_mangle]
pub unsafe extern "C" fn ohf_asset_authenticate_user(
    store: *const ohf_asset_store,
    challenge: *const u8,
    challenge_len: usize,
    out_token: *mut ohf_asset_blob,
) -> ohf_status {
    let invalid = ErrorCode::ParameterError;
    asset_call(invalid, || {
        let s = store_arg(store)?;
        if challenge.is_null() {
            return Err(bad_arg(invalid, "challenge is NULL"));
        }
        if out_token.is_null() {
            return Err(bad_arg(invalid, "out_token is NULL"));
        }
        let challenge = std::slice::from_raw_parts(challenge, challenge_len);
        let token = asset::authenticate_user(&s.device, &s.owner, challenge)?;
        *out_token = blob_of(token);
        Ok(())
    })
}

/// The attribute `tag` of one asset of a query result, or NULL when it has none (or `result` is
/// NULL). The pointer is into the result set: valid until ohf_asset_result_set_free.
#[no_mangle]
pub unsafe extern "C" fn ohf_asset_result_find(
    result: *const ohf_asset_result,
    tag: u32,
) -> *const ohf_asset_attr {
    find_attr(result, tag)
}

/// Zeroes and releases bytes this library returned (a challenge, a token) and empties `*blob`.
/// NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn ohf_asset_blob_free(blob: *mut ohf_asset_blob) {
    let _ = ffi_call(|| {
        if let Some(b) = blob.as_mut() {
            free_blob(b);
        }
        Ok(())
    });
}

/// Releases a result set from ohf_asset_query (zeroing every byte array) and empties `*set`.
/// NULL is a no-op.
#[no_mangle]
pub unsafe extern "C" fn ohf_asset_result_set_free(set: *mut ohf_asset_result_set) {
    let _ = ffi_call(|| {
        if let Some(s) = set.as_mut() {
            free_result_set(s);
        }
        Ok(())
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn layouts_match_the_ndk() {
        use std::mem::{align_of, offset_of, size_of};
        // asset_type.h on LP64: Asset_Blob {u32; u8*} = 16, Asset_Value = 16, Asset_Attr = 24.
        assert_eq!(size_of::<ohf_asset_blob>(), 16);
        assert_eq!(offset_of!(ohf_asset_blob, data), 8);
        assert_eq!(size_of::<ohf_asset_value>(), 16);
        assert_eq!(align_of::<ohf_asset_value>(), 8);
        assert_eq!(size_of::<ohf_asset_attr>(), 24);
        assert_eq!(offset_of!(ohf_asset_attr, value), 8);
        assert_eq!(size_of::<ohf_asset_result>(), 16);
        assert_eq!(offset_of!(ohf_asset_result, attrs), 8);
        assert_eq!(size_of::<ohf_asset_result_set>(), 16);
        assert_eq!(size_of::<ohf_asset_sync_result>(), 12);
    }

    #[test]
    fn attributes_are_read_by_their_type_nibble() {
        let alias = b"a1".to_vec();
        let mut attrs = [
            ohf_asset_attr {
                tag: 0x3000_0002,
                value: ohf_asset_value {
                    blob: ohf_asset_blob {
                        size: 2,
                        data: alias.as_ptr() as *mut u8,
                    },
                },
            },
            ohf_asset_attr {
                tag: 0x2000_0010,
                value: ohf_asset_value { u32: 2 },
            },
            ohf_asset_attr {
                tag: 0x1000_0004,
                value: ohf_asset_value { u32: 0x0100 }, // low byte 0: false
            },
        ];
        let map = unsafe { read_attrs(attrs.as_ptr(), 3, "a", ErrorCode::ParameterError) }.unwrap();
        assert_eq!(map.get(&0x3000_0002), Some(&Value::Bytes(b"a1".to_vec())));
        assert_eq!(map.get(&0x2000_0010), Some(&Value::Number(2)));
        assert_eq!(map.get(&0x1000_0004), Some(&Value::Bool(false)));

        attrs[1].tag = 0x4000_0010; // no such type
        let e = unsafe { read_attrs(attrs.as_ptr(), 3, "a", ErrorCode::ParameterError) };
        assert_eq!(e.unwrap_err().code().code(), 401);
        attrs[1].tag = 0x2000_0010;
        attrs[0].value.blob.size = 0;
        let e = unsafe {
            read_attrs(
                attrs.as_ptr(),
                3,
                "a",
                ErrorCode::AssetParamVerificationFailed,
            )
        };
        assert_eq!(e.unwrap_err().code().code(), 24000018);
        let e = unsafe { read_attrs(ptr::null(), 1, "a", ErrorCode::ParameterError) };
        assert_eq!(e.unwrap_err().code().code(), 401);
        let e = unsafe { read_attrs(attrs.as_ptr(), 65, "a", ErrorCode::ParameterError) };
        assert_eq!(e.unwrap_err().code().code(), 401);
        assert!(
            unsafe { read_attrs(ptr::null(), 0, "a", ErrorCode::ParameterError) }
                .unwrap()
                .is_empty()
        );
    }

    #[test]
    fn result_sets_round_trip_and_free_to_empty() {
        let mut m = AssetMap::new();
        m.insert(0x3000_0001, Value::Bytes(b"secret".to_vec()));
        m.insert(0x2000_0003, Value::Number(1));
        m.insert(0x1000_0004, Value::Bool(true));
        let mut set = result_set_of(vec![m, AssetMap::new()]);
        assert_eq!(set.count, 2);
        unsafe {
            let first = set.results;
            let secret = find_attr(first, 0x3000_0001);
            assert!(!secret.is_null());
            let b = (*secret).value.blob;
            assert_eq!(
                std::slice::from_raw_parts(b.data, b.size as usize),
                b"secret"
            );
            assert!((*find_attr(first, 0x1000_0004)).value.boolean);
            assert!(find_attr(first, 0x3000_0002).is_null());
            assert!(find_attr(set.results.add(1), 0x3000_0001).is_null());
            assert!(find_attr(ptr::null(), 0x3000_0001).is_null());
            free_result_set(&mut set);
        }
        assert_eq!(set.count, 0);
        assert!(set.results.is_null());
        let mut empty = result_set_of(Vec::new());
        unsafe { free_result_set(&mut empty) };
    }

    #[test]
    fn statuses_are_asset_codes() {
        assert_eq!(
            asset_call(ErrorCode::ParameterError, || panic!("boom")),
            24000001
        );
        let s = asset_call(ErrorCode::AssetParamVerificationFailed, || {
            Err(Error::new(ErrorCode::ParameterError, "bad tag"))
        });
        assert_eq!(s, 24000018);
        let s = asset_call(ErrorCode::ParameterError, || {
            Err(Error::bare(ErrorCode::AssetNotFound))
        });
        assert_eq!(s, 24000002);
        assert_eq!(
            sync_result_of(SyncResult::new(24000005, 0, 0)).total_count,
            0
        );
    }
}
