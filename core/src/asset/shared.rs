//! One opened store per (device, app) per process, for the faces that call per operation without
//! a handle (the Node module, the NDK's `OH_Asset_*`). Opening a store reads the app's profile and
//! opens SQLite, which would otherwise dominate every call.
//!
//! A kept store is reused only while `<root>/state/asset/db` is the same folder (device, inode and
//! birth time) as when it was kept: a device removed and made again, or its asset state wiped,
//! gets a fresh store instead of connections to deleted files. That costs one `stat` per call, or
//! none while change notification says nothing along that path changed ([`changes`]).
//! Everything else a store depends on it checks itself (device.json and bundle.json per use).

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use super::changes;
use super::store::AssetStore;
use crate::device::{Device, ROOT_ENV};
use crate::error::{Error, ErrorCode, Result};

/// How many stores are kept (each holds its SQLite connections open).
const KEPT: usize = 16;

/// The identity of a folder: device, inode and (where the file system records it) birth time,
/// so that a folder made again under a recycled inode number is still told apart.
type FolderId = Option<(u64, u64, Option<SystemTime>)>;

fn folder_id(path: &Path) -> FolderId {
    let m = std::fs::metadata(path).ok()?;
    Some((m.dev(), m.ino(), m.created().ok()))
}

struct Kept {
    root: PathBuf,
    owner: String,
    folder: FolderId,
    /// The change-notification generation armed before `folder` was last taken: while it is
    /// current, the folder is the same one without a `stat`.
    armed: Option<u64>,
    store: Arc<AssetStore>,
}

/// The kept stores, most recently used last.
static KEPT_STORES: Mutex<Vec<Kept>> = Mutex::new(Vec::new());

/// A device that cannot be opened leaves the asset service unable to serve: 24000001 with the
/// reason (the asset APIs document no file-system codes).
fn unavailable(e: Error) -> Error {
    let why = if e.detail().is_empty() {
        e.code().message().to_string()
    } else {
        e.detail().to_string()
    };
    Error::new(ErrorCode::AssetServiceUnavailable, why)
}

/// The kept store of `owner` under `root`, or one opened with the device `open` gives.
fn kept_or_open(
    root: &Path,
    owner: &str,
    open: impl FnOnce() -> Result<Device>,
) -> Result<Arc<AssetStore>> {
    let generation = changes::generation();
    let mut kept = KEPT_STORES.lock().unwrap_or_else(|p| p.into_inner());
    let found = kept.iter().position(|k| k.root == root && k.owner == owner);
    if let Some(i) = found {
        if generation.is_some() && kept[i].armed == generation {
            let k = kept.remove(i);
            let store = k.store.clone();
            kept.push(k);
            return Ok(store);
        }
    }
    let db_dir = root.join("state/asset/db");
    // Armed before looking: a change after the look is an event.
    let armed = generation.and_then(|_| changes::watch(&db_dir, true));
    let folder = folder_id(&db_dir);
    if let Some(i) = found {
        if kept[i].folder == folder {
            let mut k = kept.remove(i);
            k.armed = armed;
            let store = k.store.clone();
            kept.push(k);
            return Ok(store);
        }
        kept.remove(i); // its folder was replaced (or made since): open afresh
    }
    // Opened under the lock, so that concurrent first calls share one store.
    let store = Arc::new(AssetStore::open(&open()?, owner)?);
    kept.push(Kept {
        root: root.to_path_buf(),
        owner: owner.to_string(),
        folder,
        armed,
        store: store.clone(),
    });
    if kept.len() > KEPT {
        kept.remove(0);
    }
    Ok(store)
}

impl AssetStore {
    /// The process-wide store of `owner` on `device` (see the module docs): the same store for
    /// every call while the device's asset databases stay where they are.
    pub fn shared(device: &Device, owner: &str) -> Result<Arc<AssetStore>> {
        kept_or_open(device.root(), owner, || Ok(device.clone()))
    }

    /// The process-wide store of `owner` on the device at `root` (`None`: `$OHFILE_ROOT`, else
    /// the default device), opening the device only when no store is kept for it. A device that
    /// cannot be opened is 24000001.
    pub fn shared_at(root: Option<&Path>, owner: &str) -> Result<Arc<AssetStore>> {
        let from_env;
        let root = match root {
            Some(r) => r,
            None => match std::env::var_os(ROOT_ENV).filter(|v| !v.is_empty()) {
                Some(r) => {
                    from_env = PathBuf::from(r);
                    &from_env
                }
                // The default device is created on first use: resolving it is Device::open's job.
                None => {
                    return AssetStore::shared(&Device::open(None).map_err(unavailable)?, owner)
                }
            },
        };
        kept_or_open(root, owner, || {
            Device::open(Some(root)).map_err(unavailable)
        })
    }

    /// Runs `f`, one operation, on [`AssetStore::shared_at`]`(root, owner)`, looking at the device's
    /// files once for the whole call (finding the store and the operation's own checks).
    pub fn with_shared_at<T>(
        root: Option<&Path>,
        owner: &str,
        f: impl FnOnce(&AssetStore) -> Result<T>,
    ) -> Result<T> {
        changes::at_once(|| f(&*AssetStore::shared_at(root, owner)?))
    }
}
