//! `@ohos.security.asset` for Node: each call opens the calling app's store on the device and runs
//! one core operation, the Promise forms on libuv's pool (AsyncTask), the `*Sync` forms on the
//! calling thread. Opened stores are kept (see [`store`]).
//!
//! An AssetMap crosses as two typed arrays, so that a call makes a handful of JS objects rather
//! than a few per attribute: `desc`, a Uint32Array of `[tag, kind, a, b]` per attribute (kind 1
//! bool: a = 0 or 1; kind 2 number: a; kind 3 bytes: offset a and length b in `bytes`), and
//! `bytes`, a Uint8Array of the byte values one after the other. Query results come back the same
//! way, `desc` holding `[rows, (attributes, [tag, kind, a, b] per attribute) per row]`.

use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::sync::{Arc, Mutex};

use napi::bindgen_prelude::*;
use napi::Task;
use napi_derive::napi;
use ohfile_core::asset::tags::{
    self, Accessibility, AuthType, ConflictResolution, OperationType, ReturnType, SyncType,
    WrapType,
};
use ohfile_core::asset::{self, AssetMap, AssetStore, SyncResult, Value};
use ohfile_core::{Device, Error, ErrorCode};

use crate::errors::to_napi;

/// Query results: see the module docs.
#[napi(object)]
pub struct AssetRows {
    /// `[rows, (attributes, [tag, kind, a, b]...)...]`.
    pub desc: Uint32Array,
    /// The byte values.
    pub bytes: Uint8Array,
}

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

/// A packed AssetMap → AssetMap (copying the bytes; a repeated tag keeps its last value). A
/// malformed packing (never made by the facade) is 401.
fn to_map(desc: &[u32], bytes: &[u8]) -> ohfile_core::Result<AssetMap> {
    let bad = || Error::new(ErrorCode::ParameterError, "malformed attributes");
    let attrs = desc.chunks_exact(4);
    if !attrs.remainder().is_empty() {
        return Err(bad());
    }
    attrs
        .map(|d| {
            let value = match d[1] {
                KIND_BOOL => Value::Bool(d[2] != 0),
                KIND_NUMBER => Value::Number(d[2]),
                KIND_BYTES => {
                    let (at, len) = (d[2] as usize, d[3] as usize);
                    Value::Bytes(bytes.get(at..at + len).ok_or_else(bad)?.to_vec())
                }
                _ => return Err(bad()),
            };
            Ok((d[0], value))
        })
        .collect()
}

/// Query results → their packing (see the module docs).
fn to_rows(rows: Vec<AssetMap>) -> AssetRows {
    let mut desc = vec![rows.len() as u32];
    let mut bytes = Vec::new();
    for row in rows {
        desc.push(row.len() as u32);
        for (tag, v) in row {
            let (kind, a, b) = match v {
                Value::Bool(x) => (KIND_BOOL, x as u32, 0),
                Value::Number(n) => (KIND_NUMBER, n, 0),
                Value::Bytes(b) => {
                    let at = bytes.len() as u32;
                    bytes.extend_from_slice(&b);
                    (KIND_BYTES, at, b.len() as u32)
                }
            };
            desc.extend_from_slice(&[tag, kind, a, b]);
        }
    }
    AssetRows {
        desc: Uint32Array::new(desc),
        bytes: Uint8Array::new(bytes),
    }
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
            Error::new(ErrorCode::AssetServiceUnavailable, e.message())
        }
    })
}

/// How many opened stores are kept (each holds its SQLite connections open).
const CACHED_STORES: usize = 8;

/// The identity of the folders an opened store depends on: the device root and its asset
/// databases' folder (device and inode). A store is reused only while both are the same folders,
/// so a device removed and made again, or its asset state wiped, opens afresh. (The app's
/// bundle.json is read when its store opens, as OpenHarmony reads an app's profile at install.)
#[derive(Clone, PartialEq, Eq)]
struct Stamp {
    root: String,
    owner: String,
    folders: [Option<(u64, u64)>; 2],
}

impl Stamp {
    fn of(root: &str, owner: &str) -> Stamp {
        let id = |p: &Path| std::fs::metadata(p).ok().map(|m| (m.dev(), m.ino()));
        let root_path = Path::new(root);
        Stamp {
            root: root.to_string(),
            owner: owner.to_string(),
            folders: [id(root_path), id(&root_path.join("state/asset/db"))],
        }
    }
}

/// Opened stores, most recently used last. Opening one reads the device, the app's profile and
/// keys and opens SQLite (about half a millisecond), which would otherwise dominate every call.
static STORES: Mutex<Vec<Cached>> = Mutex::new(Vec::new());

type Cached = (Stamp, Arc<AssetStore>);

/// The store of `owner` on the device at `root` (null: the default device, opened every time).
fn store(root: Option<&str>, owner: &str) -> ohfile_core::Result<Arc<AssetStore>> {
    let Some(root) = root else {
        return AssetStore::open(&device(None)?, owner).map(Arc::new);
    };
    let stamp = Stamp::of(root, owner);
    let mut stores = STORES.lock().unwrap_or_else(|p| p.into_inner());
    if let Some(i) = stores.iter().position(|(s, _)| *s == stamp) {
        let entry = stores.remove(i);
        let store = entry.1.clone();
        stores.push(entry);
        return Ok(store);
    }
    // Entries of this device and app that no longer match are stale.
    stores.retain(|(s, _)| !(s.root == stamp.root && s.owner == stamp.owner));
    drop(stores);
    let store = Arc::new(AssetStore::open(&device(Some(root))?, owner)?);
    let mut stores = STORES.lock().unwrap_or_else(|p| p.into_inner());
    // Opening may have created the databases' folder: key the entry on what exists now.
    stores.push((Stamp::of(root, owner), store.clone()));
    if stores.len() > CACHED_STORES {
        stores.remove(0);
    }
    Ok(store)
}

/// Runs one core call that produces a value on libuv's pool.
pub struct AssetCall<T: Send + ToNapiValue + TypeName + 'static>(
    Option<Box<dyn FnOnce() -> ohfile_core::Result<T> + Send>>,
);

impl<T: Send + ToNapiValue + TypeName + 'static> Task for AssetCall<T> {
    type Output = T;
    type JsValue = T;

    fn compute(&mut self) -> Result<T> {
        match self.0.take() {
            Some(f) => f().map_err(to_napi),
            None => Err(to_napi(Error::new(
                ErrorCode::AssetServiceUnavailable,
                "the call ran twice",
            ))),
        }
    }

    fn resolve(&mut self, _env: Env, v: T) -> Result<T> {
        Ok(v)
    }
}

fn later<T: Send + ToNapiValue + TypeName + 'static>(
    f: impl FnOnce() -> ohfile_core::Result<T> + Send + 'static,
) -> AsyncTask<AssetCall<T>> {
    AsyncTask::new(AssetCall(Some(Box::new(f))))
}

/// asset.add(attributes) for `owner` on the device at `root` (null: the default device).
#[napi(js_name = "assetAdd", ts_return_type = "Promise<void>")]
pub fn asset_add(
    root: Option<String>,
    owner: String,
    desc: Uint32Array,
    bytes: Uint8Array,
) -> Result<AsyncTask<AssetCall<()>>> {
    let map = to_map(&desc, &bytes).map_err(to_napi)?;
    Ok(later(move || store(root.as_deref(), &owner)?.add(&map)))
}

/// asset.addSync(attributes).
#[napi(js_name = "assetAddSync")]
pub fn asset_add_sync(
    root: Option<String>,
    owner: String,
    desc: Uint32Array,
    bytes: Uint8Array,
) -> Result<()> {
    now(root, owner, &desc, &bytes, |s, m| s.add(m))
}

/// Runs one operation on the calling thread.
fn now<T>(
    root: Option<String>,
    owner: String,
    desc: &[u32],
    bytes: &[u8],
    f: impl FnOnce(&AssetStore, &AssetMap) -> ohfile_core::Result<T>,
) -> Result<T> {
    to_map(desc, bytes)
        .and_then(|m| f(&*store(root.as_deref(), &owner)?, &m))
        .map_err(to_napi)
}

/// asset.remove(query).
#[napi(js_name = "assetRemove", ts_return_type = "Promise<void>")]
pub fn asset_remove(
    root: Option<String>,
    owner: String,
    desc: Uint32Array,
    bytes: Uint8Array,
) -> Result<AsyncTask<AssetCall<()>>> {
    let map = to_map(&desc, &bytes).map_err(to_napi)?;
    Ok(later(move || store(root.as_deref(), &owner)?.remove(&map)))
}

/// asset.removeSync(query).
#[napi(js_name = "assetRemoveSync")]
pub fn asset_remove_sync(
    root: Option<String>,
    owner: String,
    desc: Uint32Array,
    bytes: Uint8Array,
) -> Result<()> {
    now(root, owner, &desc, &bytes, |s, m| s.remove(m))
}

/// asset.update(query, attributesToUpdate).
#[napi(js_name = "assetUpdate", ts_return_type = "Promise<void>")]
pub fn asset_update(
    root: Option<String>,
    owner: String,
    query_desc: Uint32Array,
    query_bytes: Uint8Array,
    update_desc: Uint32Array,
    update_bytes: Uint8Array,
) -> Result<AsyncTask<AssetCall<()>>> {
    let query = to_map(&query_desc, &query_bytes).map_err(to_napi)?;
    let update = to_map(&update_desc, &update_bytes).map_err(to_napi)?;
    Ok(later(move || {
        store(root.as_deref(), &owner)?.update(&query, &update)
    }))
}

/// asset.updateSync(query, attributesToUpdate).
#[napi(js_name = "assetUpdateSync")]
pub fn asset_update_sync(
    root: Option<String>,
    owner: String,
    query_desc: Uint32Array,
    query_bytes: Uint8Array,
    update_desc: Uint32Array,
    update_bytes: Uint8Array,
) -> Result<()> {
    let update = to_map(&update_desc, &update_bytes).map_err(to_napi)?;
    now(root, owner, &query_desc, &query_bytes, |s, q| {
        s.update(q, &update)
    })
}

/// asset.preQuery(query): the challenge.
#[napi(js_name = "assetPreQuery", ts_return_type = "Promise<Uint8Array>")]
pub fn asset_pre_query(
    root: Option<String>,
    owner: String,
    desc: Uint32Array,
    bytes: Uint8Array,
) -> Result<AsyncTask<AssetCall<Uint8Array>>> {
    let map = to_map(&desc, &bytes).map_err(to_napi)?;
    Ok(later(move || {
        store(root.as_deref(), &owner)?
            .pre_query(&map)
            .map(Uint8Array::new)
    }))
}

/// asset.preQuerySync(query).
#[napi(js_name = "assetPreQuerySync")]
pub fn asset_pre_query_sync(
    root: Option<String>,
    owner: String,
    desc: Uint32Array,
    bytes: Uint8Array,
) -> Result<Uint8Array> {
    now(root, owner, &desc, &bytes, |s, m| s.pre_query(m)).map(Uint8Array::new)
}

/// asset.query(query): the matching assets, packed.
#[napi(js_name = "assetQuery", ts_return_type = "Promise<AssetRows>")]
pub fn asset_query(
    root: Option<String>,
    owner: String,
    desc: Uint32Array,
    bytes: Uint8Array,
) -> Result<AsyncTask<AssetCall<AssetRows>>> {
    let map = to_map(&desc, &bytes).map_err(to_napi)?;
    Ok(later(move || {
        store(root.as_deref(), &owner)?.query(&map).map(to_rows)
    }))
}

/// asset.querySync(query).
#[napi(js_name = "assetQuerySync")]
pub fn asset_query_sync(
    root: Option<String>,
    owner: String,
    desc: Uint32Array,
    bytes: Uint8Array,
) -> Result<AssetRows> {
    now(root, owner, &desc, &bytes, |s, m| s.query(m)).map(to_rows)
}

/// asset.postQuery(handle).
#[napi(js_name = "assetPostQuery", ts_return_type = "Promise<void>")]
pub fn asset_post_query(
    root: Option<String>,
    owner: String,
    desc: Uint32Array,
    bytes: Uint8Array,
) -> Result<AsyncTask<AssetCall<()>>> {
    let map = to_map(&desc, &bytes).map_err(to_napi)?;
    Ok(later(move || {
        store(root.as_deref(), &owner)?.post_query(&map)
    }))
}

/// asset.postQuerySync(handle).
#[napi(js_name = "assetPostQuerySync")]
pub fn asset_post_query_sync(
    root: Option<String>,
    owner: String,
    desc: Uint32Array,
    bytes: Uint8Array,
) -> Result<()> {
    now(root, owner, &desc, &bytes, |s, m| s.post_query(m))
}

/// asset.querySyncResult(query).
#[napi(
    js_name = "assetQuerySyncResult",
    ts_return_type = "Promise<AssetSyncResult>"
)]
pub fn asset_query_sync_result(
    root: Option<String>,
    owner: String,
    desc: Uint32Array,
    bytes: Uint8Array,
) -> Result<AsyncTask<AssetCall<AssetSyncResult>>> {
    let map = to_map(&desc, &bytes).map_err(to_napi)?;
    Ok(later(move || {
        store(root.as_deref(), &owner)?
            .query_sync_result(&map)
            .map(to_sync_result)
    }))
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
) -> AsyncTask<AssetCall<Uint8Array>> {
    let challenge = challenge.to_vec();
    later(move || {
        asset::authenticate_user(&device(root.as_deref())?, &owner, &challenge).map(Uint8Array::new)
    })
}
