//! Test fixtures: device roots in a temp dir sharing one cloud folder, an installed app, and
//! edits of `device.json` that running code may read at any moment.

use std::fs;
use std::path::{Path, PathBuf};
use std::sync::atomic::AtomicBool;
use std::sync::Mutex;

use serde_json::{Map, Value};

use crate::cloudsync::backend::{
    ChangePage, CloudBackend, DeleteCondition, GetOptions, ObjectMeta, PutOptions,
};
use crate::cloudsync::cloud_error::CloudResult;
use crate::cloudsync::engine::{run_tuned, RunControl, RunOutcome, RunReport, Tuning};
use crate::cloudsync::local_store::LocalStore;
use crate::cloudsync::progress::SyncState;
use crate::cloudsync::scope::SyncScope;
use crate::cloudsync::state_db::{FileRow, StateDb};
use crate::device::Device;

/// The app every test device has installed.
pub const BUNDLE: &str = "com.example.notes";

/// A temp dir with a shared cloud folder and any number of devices.
pub struct World {
    pub tmp: tempfile::TempDir,
    pub cloud_dir: PathBuf,
}

impl World {
    /// An empty world: a temp dir with a cloud folder.
    pub fn new() -> World {
        let tmp = tempfile::tempdir().unwrap();
        let cloud_dir = tmp.path().join("cloud");
        fs::create_dir_all(&cloud_dir).unwrap();
        World { tmp, cloud_dir }
    }

    /// A device `name` using the shared cloud, with [`BUNDLE`] installed.
    pub fn device(&self, name: &str) -> Device {
        let root = self.tmp.path().join(name);
        let app = root.join("apps").join(BUNDLE);
        fs::create_dir_all(app.join("sandbox")).unwrap();
        fs::write(app.join("bundle.json"), "{}").unwrap();
        let json = serde_json::json!({ "cloud": self.cloud_dir, "cloudFsync": false });
        fs::write(root.join("device.json"), json.to_string()).unwrap();
        Device::open(Some(&root)).unwrap()
    }

    /// The shared cloud (no fsync: tests need no durability against power loss).
    pub fn cloud(&self) -> LocalStore {
        let store = LocalStore::open(&self.cloud_dir).unwrap();
        store.set_fsync(false);
        store
    }
}

/// The app scope of [`BUNDLE`].
pub fn app() -> SyncScope {
    SyncScope::App(BUNDLE.to_string())
}

/// Sets `key` in the device's `device.json` (`Value::Null` removes it), atomically: runs read
/// the file while tests change it.
pub fn set_device_json(device: &Device, key: &str, value: Value) {
    let path = device.root().join("device.json");
    let mut map: Map<String, Value> = fs::read_to_string(&path)
        .ok()
        .and_then(|s| serde_json::from_str(&s).ok())
        .unwrap_or_default();
    if value.is_null() {
        map.remove(key);
    } else {
        map.insert(key.to_string(), value);
    }
    let tmp = path.with_extension("json.tmp");
    fs::write(&tmp, Value::Object(map).to_string()).unwrap();
    fs::rename(&tmp, &path).unwrap();
}

/// The synced folder of `scope` on `device`.
pub fn folder(device: &Device, scope: &SyncScope) -> PathBuf {
    scope.local_dir(device)
}

/// Writes `data` at `rel` in the app folder of `device` (parents created).
pub fn write(device: &Device, rel: &str, data: &[u8]) {
    let p = folder(device, &app()).join(rel);
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, data).unwrap();
}

/// Reads `rel` of the app folder of `device`, `None` when absent.
pub fn read(device: &Device, rel: &str) -> Option<Vec<u8>> {
    fs::read(folder(device, &app()).join(rel)).ok()
}

/// Every regular file of the app folder, as (relative path, content), sorted.
pub fn files(device: &Device) -> Vec<(String, Vec<u8>)> {
    let root = folder(device, &app());
    let mut out = Vec::new();
    fn walk(root: &Path, dir: &Path, out: &mut Vec<(String, Vec<u8>)>) {
        let Ok(entries) = fs::read_dir(dir) else {
            return;
        };
        for e in entries {
            let e = e.unwrap();
            let t = e.file_type().unwrap();
            if t.is_dir() {
                walk(root, &e.path(), out);
            } else if t.is_file() {
                let rel = e
                    .path()
                    .strip_prefix(root)
                    .unwrap()
                    .to_string_lossy()
                    .into_owned();
                out.push((rel, fs::read(e.path()).unwrap()));
            }
        }
    }
    walk(&root, &root, &mut out);
    out.sort();
    out
}

/// The rows of the app folder of `device`, sorted by path.
pub fn rows(device: &Device) -> Vec<FileRow> {
    let db = StateDb::open(device, &app()).unwrap();
    let mut rows: Vec<FileRow> = db.load_all().unwrap().into_values().collect();
    rows.sort_by(|a, b| a.path.cmp(&b.path));
    rows
}

/// Every object of the app namespace, as (key, content), sorted.
pub fn cloud_files(cloud: &dyn CloudBackend) -> Vec<(String, Vec<u8>)> {
    cloud
        .list(BUNDLE, "")
        .unwrap()
        .into_iter()
        .map(|m| {
            let (data, _) = cloud.get_bytes(BUNDLE, &m.key).unwrap();
            (m.key, data)
        })
        .collect()
}

/// Runs a sync of the app folder with `tuning`, recording the progress states.
pub fn sync_with(
    device: &Device,
    cloud: &dyn CloudBackend,
    tuning: &Tuning,
    on_progress: &(dyn Fn(SyncState) + Sync),
) -> RunReport {
    let stop = AtomicBool::new(false);
    let ctl = RunControl {
        stop: &stop,
        progress: on_progress,
    };
    run_tuned(device, &app(), cloud, &ctl, tuning)
}

/// One complete sync of the app folder; panics unless it completes.
pub fn sync(device: &Device, cloud: &dyn CloudBackend) {
    let report = sync_with(device, cloud, &Tuning::default(), &|_| {});
    assert_eq!(
        report.outcome,
        RunOutcome::Completed,
        "sync of {} failed: {:?}",
        device.root().display(),
        report.error
    );
}

/// A cloud that forwards to another and records the ranges of its gets.
pub struct Recording<'a> {
    pub inner: &'a dyn CloudBackend,
    pub get_offsets: Mutex<Vec<u64>>,
    pub puts: Mutex<Vec<String>>,
}

impl<'a> Recording<'a> {
    pub fn new(inner: &'a dyn CloudBackend) -> Recording<'a> {
        Recording {
            inner,
            get_offsets: Mutex::new(Vec::new()),
            puts: Mutex::new(Vec::new()),
        }
    }
}

impl CloudBackend for Recording<'_> {
    fn put(
        &self,
        ns: &str,
        key: &str,
        data: &mut dyn std::io::Read,
        opts: &PutOptions,
    ) -> CloudResult<ObjectMeta> {
        self.puts.lock().unwrap().push(key.to_string());
        self.inner.put(ns, key, data, opts)
    }

    fn get(
        &self,
        ns: &str,
        key: &str,
        opts: &GetOptions,
        out: &mut dyn std::io::Write,
    ) -> CloudResult<ObjectMeta> {
        self.get_offsets.lock().unwrap().push(opts.offset);
        self.inner.get(ns, key, opts, out)
    }

    fn head(&self, ns: &str, key: &str) -> CloudResult<Option<ObjectMeta>> {
        self.inner.head(ns, key)
    }

    fn list(&self, ns: &str, prefix: &str) -> CloudResult<Vec<ObjectMeta>> {
        self.inner.list(ns, prefix)
    }

    fn delete(&self, ns: &str, key: &str, condition: &DeleteCondition) -> CloudResult<()> {
        self.inner.delete(ns, key, condition)
    }

    fn changes_since(&self, ns: &str, cursor: u64, limit: usize) -> CloudResult<ChangePage> {
        self.inner.changes_since(ns, cursor, limit)
    }
}

/// `n` bytes of a deterministic pattern (differs per `seed`).
pub fn pattern(n: usize, seed: u8) -> Vec<u8> {
    let mut x = u32::from(seed).wrapping_mul(2_654_435_761).wrapping_add(1);
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            x as u8
        })
        .collect()
}
