//! OpenHarmony's asset NDK (`include/asset/asset_api.h`): the `OH_Asset_*` names over the store of
//! the calling app. On OpenHarmony the system knows the caller; here it is `$OHFILE_BUNDLE`, on the
//! device `$OHFILE_ROOT` (ohfile's default device when unset), both read at each call; the store
//! is the process-wide one of that device and app (`AssetStore::shared_at`), so a call does not
//! open the device or the app's databases again. The structs are the `ohf_asset_*` ones, whose
//! layouts are the NDK's.

#![allow(non_snake_case)] // the NDK's names

use ohfile_core::asset::AssetStore;
use ohfile_core::{Error, ErrorCode};

use super::{
    asset_call, bad_arg, find_attr, free_blob, free_result_set, ohf_asset_attr, ohf_asset_blob,
    ohf_asset_result, ohf_asset_result_set, ohf_asset_sync_result, read_attrs, result_set_of,
    sync_result_of,
};

/// The environment variable naming the calling app (its bundle name).
const BUNDLE_ENV: &str = "OHFILE_BUNDLE";

/// Runs `f` on the calling app's store: 24000011 (the bundle manager cannot name the caller)
/// without `$OHFILE_BUNDLE`, 24000001 when the device cannot be opened.
fn with_caller_store<T>(f: impl FnOnce(&AssetStore) -> Result<T, Error>) -> Result<T, Error> {
    let owner = std::env::var(BUNDLE_ENV)
        .ok()
        .filter(|v| !v.is_empty())
        .ok_or_else(|| {
            Error::new(
                ErrorCode::AssetBmsError,
                format!("the calling app is unknown: set {BUNDLE_ENV} to its bundle name"),
            )
        })?;
    AssetStore::with_shared_at(None, &owner, f)
}

/// OH_Asset_Add: adds an asset for the calling app.
#[no_mangle]
pub unsafe extern "C" fn OH_Asset_Add(attributes: *const ohf_asset_attr, attr_cnt: u32) -> i32 {
    let invalid = ErrorCode::ParameterError;
    asset_call(invalid, || {
        let map = read_attrs(attributes, attr_cnt, "attributes", invalid)?;
        with_caller_store(|s| s.add(&map))
    })
}

/// OH_Asset_Remove: removes the calling app's assets that match `query`.
#[no_mangle]
pub unsafe extern "C" fn OH_Asset_Remove(query: *const ohf_asset_attr, query_cnt: u32) -> i32 {
    let invalid = ErrorCode::ParameterError;
    asset_call(invalid, || {
        let map = read_attrs(query, query_cnt, "query", invalid)?;
        with_caller_store(|s| s.remove(&map))
    })
}

/// OH_Asset_Update: updates the calling app's asset that `query` names.
#[no_mangle]
pub unsafe extern "C" fn OH_Asset_Update(
    query: *const ohf_asset_attr,
    query_cnt: u32,
    attributes_to_update: *const ohf_asset_attr,
    update_cnt: u32,
) -> i32 {
    let invalid = ErrorCode::ParameterError;
    asset_call(invalid, || {
        let query = read_attrs(query, query_cnt, "query", invalid)?;
        let update = read_attrs(
            attributes_to_update,
            update_cnt,
            "attributesToUpdate",
            invalid,
        )?;
        with_caller_store(|s| s.update(&query, &update))
    })
}

/// OH_Asset_PreQuery: opens an authentication session; `*challenge` receives its challenge.
#[no_mangle]
pub unsafe extern "C" fn OH_Asset_PreQuery(
    query: *const ohf_asset_attr,
    query_cnt: u32,
    challenge: *mut ohf_asset_blob,
) -> i32 {
    let invalid = ErrorCode::ParameterError;
    asset_call(invalid, || {
        let map = read_attrs(query, query_cnt, "query", invalid)?;
        if challenge.is_null() {
            return Err(bad_arg(invalid, "challenge is NULL"));
        }
        let bytes = with_caller_store(|s| s.pre_query(&map))?;
        *challenge = super::blob_of(bytes);
        Ok(())
    })
}

/// OH_Asset_Query: `*resultSet` receives the calling app's assets that match `query`.
#[no_mangle]
pub unsafe extern "C" fn OH_Asset_Query(
    query: *const ohf_asset_attr,
    query_cnt: u32,
    result_set: *mut ohf_asset_result_set,
) -> i32 {
    let invalid = ErrorCode::ParameterError;
    asset_call(invalid, || {
        let map = read_attrs(query, query_cnt, "query", invalid)?;
        if result_set.is_null() {
            return Err(bad_arg(invalid, "resultSet is NULL"));
        }
        let maps = with_caller_store(|s| s.query(&map))?;
        *result_set = result_set_of(maps);
        Ok(())
    })
}

/// OH_Asset_PostQuery: ends the authentication session `handle` names.
#[no_mangle]
pub unsafe extern "C" fn OH_Asset_PostQuery(handle: *const ohf_asset_attr, handle_cnt: u32) -> i32 {
    let invalid = ErrorCode::ParameterError;
    asset_call(invalid, || {
        let map = read_attrs(handle, handle_cnt, "handle", invalid)?;
        with_caller_store(|s| s.post_query(&map))
    })
}

/// OH_Asset_QuerySyncResult: how the last sync of the calling app's assets went. Every argument
/// error is 24000018, as OpenHarmony's SDK reports it.
#[no_mangle]
pub unsafe extern "C" fn OH_Asset_QuerySyncResult(
    query: *const ohf_asset_attr,
    query_cnt: u32,
    sync_result: *mut ohf_asset_sync_result,
) -> i32 {
    let invalid = ErrorCode::AssetParamVerificationFailed;
    asset_call(invalid, || {
        let map = read_attrs(query, query_cnt, "query", invalid)?;
        if sync_result.is_null() {
            return Err(bad_arg(invalid, "syncResult is NULL"));
        }
        let result = with_caller_store(|s| s.query_sync_result(&map))?;
        *sync_result = sync_result_of(result);
        Ok(())
    })
}

/// OH_Asset_ParseAttr: the attribute `tag` of one query result, or NULL.
#[no_mangle]
pub unsafe extern "C" fn OH_Asset_ParseAttr(
    result: *const ohf_asset_result,
    tag: u32,
) -> *mut ohf_asset_attr {
    find_attr(result, tag)
}

/// OH_Asset_FreeBlob: releases a challenge from OH_Asset_PreQuery and empties `*blob`.
#[no_mangle]
pub unsafe extern "C" fn OH_Asset_FreeBlob(blob: *mut ohf_asset_blob) {
    let _ = asset_call(ErrorCode::ParameterError, || {
        if let Some(b) = blob.as_mut() {
            free_blob(b);
        }
        Ok(())
    });
}

/// OH_Asset_FreeResultSet: releases a result set from OH_Asset_Query and empties `*resultSet`.
#[no_mangle]
pub unsafe extern "C" fn OH_Asset_FreeResultSet(result_set: *mut ohf_asset_result_set) {
    let _ = asset_call(ErrorCode::ParameterError, || {
        if let Some(s) = result_set.as_mut() {
            free_result_set(s);
        }
        Ok(())
    });
}
