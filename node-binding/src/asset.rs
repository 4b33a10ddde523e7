//! `@ohos.security.asset` for Node: each call runs one core operation on the calling app's
//! process-wide store of the device (`AssetStore::shared_at`), the Promise forms on libuv's pool
//! (AsyncTask), the `*Sync` forms on the calling thread.
//!
//! An AssetMap crosses as one byte array and its attribute count `attrs`, so that a call makes no
//! JS object per attribute: `attrs` times `[tag, kind, a, b]` as native-endian u32s (kind 1 bool:
//! a = 0 or 1; kind 2 number: a; kind 3 bytes: offset a and length b), then the byte values, the
//! offsets counting from their start. The facade packs into one buffer it keeps for the purpose
//! (allocating an ArrayBuffer costs about a microsecond) and zeroes it after the call; every
//! function here copies what it needs before it returns, the Promise forms included.
//!
//! Query results come back in the same spirit: a native-endian u32 `n`, then n u32s
//! `[rows, (attributes, [tag, kind, a, b] per attribute) per row]`, then the byte values.
//! `querySync` writes them into a buffer the facade passes when they fit there and returns their
//! length, else returns them in a new Uint8Array; the Promise form always returns a new one.

use std::path::Path;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use ohfile_core::asset::tags::{
    self, Accessibility, AuthType, ConflictResolution, OperationType, ReturnType, SyncType,
    WrapType,
};
use ohfile_core::asset::{self, AssetMap, AssetStore, SyncResult, Value};
use ohfile_core::{Device, Error, ErrorCode};

use crate::errors::to_napi;
use crate::pool::{pooled, PooledCall};

const KIND_BOOL: u32 = 1;
const KIND_NUMBER: u32 = 2;
const KIND_BYTES: u32 = 3;

/// `asset.SyncResult`; the counts are absent when the core omits them.
#[napi(object)]
pub struct AssetSyncResult {
    /// 0, or the error code that made the sync fail.
    pub result_code: i32,
    /// The assets that should have been synced.
    pub total_count: Option<u32>,
    /// How many of them were not.
    pub failed_count: Option<u32>,
}

/// The enums of `@ohos.security.asset` from the core's tables: `[[name, value], ...]` each.
#[napi(object)]
pub struct AssetEnums {
    pub tags: Vec<(String, u32)>,
    pub accessibility: Vec<(String, u32)>,
    pub auth_type: Vec<(String, u32)>,
    pub sync_type: Vec<(String, u32)>,
    pub conflict_resolution: Vec<(String, u32)>,
    pub return_type: Vec<(String, u32)>,
    pub operation_type: Vec<(String, u32)>,
    pub wrap_type: Vec<(String, u32)>,
}

fn pairs(all: &[(&str, u32)]) -> Vec<(String, u32)> {
    all.iter().map(|(n, v)| (n.to_string(), *v)).collect()
}

/// `[[name, value]]` of one of the core's `#[repr(u32)]` enums.
macro_rules! enum_pairs {
    ($t:ty) => {
        <$t>::ALL
            .iter()
            .map(|(n, v)| (n.to_string(), *v as u32))
            .collect::<Vec<(String, u32)>>()
    };
}

/// Every tag and enum member with its number, from the core (one source for the facade).
#[napi(js_name = "assetEnums")]
pub fn asset_enums() -> AssetEnums {
    AssetEnums {
        tags: pairs(tags::all_tags()),
        accessibility: enum_pairs!(Accessibility),
        auth_type: enum_pairs!(AuthType),
        sync_type: pairs(SyncType::ALL),
        conflict_resolution: enum_pairs!(ConflictResolution),
        return_type: enum_pairs!(ReturnType),
        operation_type: enum_pairs!(OperationType),
        wrap_type: enum_pairs!(WrapType),
    }
}

/// A packed AssetMap (see the module docs) → AssetMap, copying the bytes; a repeated tag keeps its
/// last value. A malformed packing (never made by the facade) is 401.
fn to_map(packed: &[u8], attrs: u32) -> ohfile_core::Result<AssetMap> {
    let bad = || Error::new(ErrorCode::ParameterError, "malformed attributes");
    let desc_len = attrs as usize * 16;
    let desc = packed.get(..desc_len).ok_or_else(bad)?;
    let bytes = &packed[desc_len..];
    desc.chunks_exact(16)
        .map(|d| {
            let w =
                |i: usize| u32::from_ne_bytes([d[4 * i], d[4 * i + 1], d[4 * i + 2], d[4 * i + 3]]);
            let value = match w(1) {
                KIND_BOOL => Value::Bool(w(2) != 0),
                KIND_NUMBER => Value::Number(w(2)),
                KIND_BYTES => {
                    let (at, len) = (w(2) as usize, w(3) as usize);
                    Value::Bytes(bytes.get(at..at + len).ok_or_else(bad)?.to_vec())
                }
                _ => return Err(bad()),
            };
            Ok((w(0), value))
        })
        .collect()
}

/// The size of the packing of `rows` (see the module docs).
fn rows_len(rows: &[AssetMap]) -> usize {
    let words: usize = 2 + rows.iter().map(|r| 1 + 4 * r.len()).sum::<usize>();
    let bytes: usize = rows
        .iter()
        .flat_map(|r| r.values())
        .map(|v| match v {
            Value::Bytes(b) => b.len(),
            _ => 0,
        })
        .sum();
    4 * words + bytes
}

/// Packs `rows` into `out`, exactly [`rows_len`] bytes long. The rows' copies of the byte values
/// (secrets among them) are zeroed as they are packed: the packing is the only copy left.
fn pack_rows(rows: Vec<AssetMap>, out: &mut [u8]) {
    let mut at = 0;
    let mut word = |w: u32| {
        out[at..at + 4].copy_from_slice(&w.to_ne_bytes());
        at += 4;
    };
    let words = 1 + rows.iter().map(|r| 1 + 4 * r.len()).sum::<usize>();
    word(words as u32);
    word(rows.len() as u32);
    let mut offset = 0u32;
    for row in &rows {
        word(row.len() as u32);
        for (tag, v) in row {
            let (kind, a, b) = match v {
                Value::Bool(x) => (KIND_BOOL, *x as u32, 0),
                Value::Number(n) => (KIND_NUMBER, *n, 0),
                Value::Bytes(b) => {
                    offset += b.len() as u32;
                    (KIND_BYTES, offset - b.len() as u32, b.len() as u32)
                }
            };
            for w in [*tag, kind, a, b] {
                word(w);
            }
        }
    }
    for row in rows {
        for (_, v) in row {
            if let Value::Bytes(mut b) = v {
                out[at..at + b.len()].copy_from_slice(&b);
                at += b.len();
                b.fill(0);
            }
        }
    }
}

/// `rows` packed in a new buffer.
fn to_rows(rows: Vec<AssetMap>) -> Vec<u8> {
    let mut out = vec![0; rows_len(&rows)];
    pack_rows(rows, &mut out);
    out
}

fn to_sync_result(r: SyncResult) -> AssetSyncResult {
    AssetSyncResult {
        result_code: r.result_code,
        total_count: r.total_count,
        failed_count: r.failed_count,
    }
}

/// Whether `code` is one the asset APIs document.
fn is_asset_code(code: i32) -> bool {
    matches!(code, 201 | 202 | 401 | 24000001..=24000019)
}

/// The device at `root` (null: the default): one that cannot be opened leaves the asset service
/// unable to serve (24000001), with the reason.
fn device(root: Option<&str>) -> ohfile_core::Result<Device> {
    Device::open(root.map(Path::new)).map_err(|e| {
        if is_asset_code(e.code().code()) {
            e
        } else {
            Error::new(ErrorCode::AssetServiceUnavailable, e.detail().to_string())
        }
    })
}

/// Runs `f` on the process-wide store of `owner` on the device at `root` (null: the default
/// device).
fn on_store<T>(
    root: Option<&str>,
    owner: &str,
    f: impl FnOnce(&AssetStore) -> ohfile_core::Result<T>,
) -> ohfile_core::Result<T> {
    AssetStore::with_shared_at(root.map(Path::new), owner, f)
}

/// asset.add(attributes) for `owner` on the device at `root` (null: the default device).
#[napi(js_name = "assetAdd", ts_return_type = "Promise<void>")]
pub fn asset_add(
    root: Option<String>,
    owner: String,
    packed: &[u8],
    attrs: u32,
) -> Result<AsyncTask<PooledCall<()>>> {
    later(root, owner, packed, attrs, |s, m| s.add(m))
}

/// asset.addSync(attributes).
#[napi(js_name = "assetAddSync")]
pub fn asset_add_sync(
    root: Option<String>,
    owner: String,
    packed: &[u8],
    attrs: u32,
) -> Result<()> {
    now(root, owner, packed, attrs, |s, m| s.add(m))
}

/// Runs one operation on libuv's pool (the map is unpacked now, on the calling thread).
fn later<T: Send + ToNapiValue + TypeName + 'static>(
    root: Option<String>,
    owner: String,
    packed: &[u8],
    attrs: u32,
    f: impl FnOnce(&AssetStore, &AssetMap) -> ohfile_core::Result<T> + Send + 'static,
) -> Result<AsyncTask<PooledCall<T>>> {
    let map = to_map(packed, attrs).map_err(to_napi)?;
    Ok(pooled(move || {
        on_store(root.as_deref(), &owner, |s| f(s, &map))
    }))
}

/// Runs one operation on the calling thread.
fn now<T>(
    root: Option<String>,
    owner: String,
    packed: &[u8],
    attrs: u32,
    f: impl FnOnce(&AssetStore, &AssetMap) -> ohfile_core::Result<T>,
) -> Result<T> {
    to_map(packed, attrs)
        .and_then(|m| on_store(root.as_deref(), &owner, |s| f(s, &m)))
        .map_err(to_napi)
}

/// asset.remove(query).
#[napi(js_name = "assetRemove", ts_return_type = "Promise<void>")]
pub fn asset_remove(
    root: Option<String>,
    owner: String,
    packed: &[u8],
    attrs: u32,
) -> Result<AsyncTask<PooledCall<()>>> {
    later(root, owner, packed, attrs, |s, m| s.remove(m))
}

/// asset.removeSync(query).
#[napi(js_name = "assetRemoveSync")]
pub fn asset_remove_sync(
    root: Option<String>,
    owner: String,
    packed: &[u8],
    attrs: u32,
) -> Result<()> {
    now(root, owner, packed, attrs, |s, m| s.remove(m))
}

/// asset.update(query, attributesToUpdate).
#[napi(js_name = "assetUpdate", ts_return_type = "Promise<void>")]
pub fn asset_update(
    root: Option<String>,
    owner: String,
    query: &[u8],
    query_attrs: u32,
    update: &[u8],
    update_attrs: u32,
) -> Result<AsyncTask<PooledCall<()>>> {
    let query = to_map(query, query_attrs).map_err(to_napi)?;
    let update = to_map(update, update_attrs).map_err(to_napi)?;
    Ok(pooled(move || {
        on_store(root.as_deref(), &owner, |s| s.update(&query, &update))
    }))
}

/// asset.updateSync(query, attributesToUpdate).
#[napi(js_name = "assetUpdateSync")]
pub fn asset_update_sync(
    root: Option<String>,
    owner: String,
    query: &[u8],
    query_attrs: u32,
    update: &[u8],
    update_attrs: u32,
) -> Result<()> {
    let update = to_map(update, update_attrs).map_err(to_napi)?;
    now(root, owner, query, query_attrs, |s, q| s.update(q, &update))
}

/// asset.preQuery(query): the challenge.
#[napi(js_name = "assetPreQuery", ts_return_type = "Promise<Uint8Array>")]
pub fn asset_pre_query(
    root: Option<String>,
    owner: String,
    packed: &[u8],
    attrs: u32,
) -> Result<AsyncTask<PooledCall<Uint8Array>>> {
    later(root, owner, packed, attrs, |s, m| {
        s.pre_query(m).map(Uint8Array::new)
    })
}

/// asset.preQuerySync(query).
#[napi(js_name = "assetPreQuerySync")]
pub fn asset_pre_query_sync(
    root: Option<String>,
    owner: String,
    packed: &[u8],
    attrs: u32,
) -> Result<Uint8Array> {
    now(root, owner, packed, attrs, |s, m| s.pre_query(m)).map(Uint8Array::new)
}

/// asset.query(query): the matching assets, packed (see the module docs).
#[napi(js_name = "assetQuery", ts_return_type = "Promise<Uint8Array>")]
pub fn asset_query(
    root: Option<String>,
    owner: String,
    packed: &[u8],
    attrs: u32,
) -> Result<AsyncTask<PooledCall<Uint8Array>>> {
    later(root, owner, packed, attrs, |s, m| {
        s.query(m).map(|rows| Uint8Array::new(to_rows(rows)))
    })
}

/// asset.querySync(query): the matching assets packed into `out` when they fit (then their
/// length), else in a new Uint8Array (see the module docs).
#[napi(js_name = "assetQuerySync")]
pub fn asset_query_sync<'env>(
    env: &'env Env,
    root: Option<String>,
    owner: String,
    packed: &[u8],
    attrs: u32,
    mut out: Uint8ArraySlice<'_>,
) -> Result<Either<u32, Uint8ArraySlice<'env>>> {
    let rows = now(root, owner, packed, attrs, |s, m| s.query(m))?;
    let len = rows_len(&rows);
    // SAFETY: a synchronous call: the JS thread waits for it, and only the facade's *Sync forms,
    // on that thread, use this buffer.
    let out = unsafe { out.as_mut() };
    if let Some(dst) = out.get_mut(..len) {
        pack_rows(rows, dst);
        return Ok(Either::A(len as u32));
    }
    let mut own = to_rows(rows);
    let copy = Uint8ArraySlice::copy_from(env, &own);
    own.fill(0);
    copy.map(Either::B)
}

/// asset.postQuery(handle).
#[napi(js_name = "assetPostQuery", ts_return_type = "Promise<void>")]
pub fn asset_post_query(
    root: Option<String>,
    owner: String,
    packed: &[u8],
    attrs: u32,
) -> Result<AsyncTask<PooledCall<()>>> {
    later(root, owner, packed, attrs, |s, m| s.post_query(m))
}

/// asset.postQuerySync(handle).
#[napi(js_name = "assetPostQuerySync")]
pub fn asset_post_query_sync(
    root: Option<String>,
    owner: String,
    packed: &[u8],
    attrs: u32,
) -> Result<()> {
    now(root, owner, packed, attrs, |s, m| s.post_query(m))
}

/// asset.querySyncResult(query).
#[napi(
    js_name = "assetQuerySyncResult",
    ts_return_type = "Promise<AssetSyncResult>"
)]
pub fn asset_query_sync_result(
    root: Option<String>,
    owner: String,
    packed: &[u8],
    attrs: u32,
) -> Result<AsyncTask<PooledCall<AssetSyncResult>>> {
    later(root, owner, packed, attrs, |s, m| {
        s.query_sync_result(m).map(to_sync_result)
    })
}

/// ohfile's software stand-in for user authentication: an auth token for a challenge of one of
/// `owner`'s open preQuery sessions.
#[napi(
    js_name = "assetAuthenticateUser",
    ts_return_type = "Promise<Uint8Array>"
)]
pub fn asset_authenticate_user(
    root: Option<String>,
    owner: String,
    challenge: Uint8Array,
) -> AsyncTask<PooledCall<Uint8Array>> {
    let challenge = challenge.to_vec();
    pooled(move || {
        asset::authenticate_user(&device(root.as_deref())?, &owner, &challenge).map(Uint8Array::new)
    })
}
