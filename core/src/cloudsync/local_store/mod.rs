//! The embedded cloud: an object store in a folder, safe for several processes (several device
//! roots naming the same `"cloud"`) and threads at once.
//!
//! Layout of the folder:
//!
//! ```text
//! <cloud>/
//!   quota.lock                      flock serialising puts while a quota is set
//!   ns/<namespace>/
//!     lock                          flock held around every mutation of the namespace
//!     journal.jsonl                 append-only JSON lines: header, then put/delete records
//!     tmp/<pid>-<random>.part       uploads in progress (flocked by their writer)
//!     blobs/<xx>/<version>          immutable content of live versions (<xx>: last 2 hex digits)
//! ```
//!
//! A put streams into a temp file without any lock (uploads run in parallel), then under the
//! namespace lock checks its condition and the quota, renames the temp file to its blob, appends
//! one journal line (the commit point) and unlinks the replaced blob. Readers take no file lock:
//! they read new journal lines (see [`journal`]) and open blobs, retrying once the blob they looked
//! for has been replaced. Versions are `<seq hex>-<12 random hex>`: unique per put, even across a
//! namespace that is wiped and recreated.
//!
//! Crash leftovers — a temp file, a torn journal line, a blob renamed but not journaled, a
//! replaced blob not yet unlinked — are invisible to readers; temp files are swept by the first
//! mutation of each handle and orphan blobs by compaction.

mod blob;
mod flock;
mod journal;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

pub use self::blob::with_copy_buffer;
use self::blob::{random_u64, sweep_temps, sync_dir, FillError, TempBlob, COPY_BUFFER_SIZE};
use self::flock::FileLock;
use self::journal::{NsIndex, Record, JOURNAL_FORMAT};
use super::backend::{
    ChangePage, CloudBackend, DeleteCondition, GetOptions, ObjectMeta, PutCondition, PutOptions,
};
use super::cloud_error::{CloudError, CloudResult};
use super::location::{cloud_quota, cloud_root};
use super::object_key::{validate_key, validate_namespace};
use crate::device::Device;
use crate::error::{Error, ErrorCode, Result};

/// `quota` value meaning "no quota".
const NO_QUOTA: u64 = u64::MAX;

/// How often a get looks again when the object it found was replaced before it could open it
/// (each retry means another put won meanwhile).
const GET_ATTEMPTS: usize = 64;

/// The embedded cloud backend: a folder.
#[derive(Debug)]
pub struct LocalStore {
    root: PathBuf,
    quota: AtomicU64,
    fsync: AtomicBool,
    namespaces: Mutex<HashMap<String, Arc<Mutex<NsState>>>>,
}

/// What this handle knows of one namespace.
#[derive(Debug, Default)]
struct NsState {
    index: NsIndex,
    /// Stale temp files were swept by this handle.
    swept: bool,
}

impl LocalStore {
    /// A store in `root` (created if missing), without quota, syncing every commit to disk.
    pub fn open(root: impl Into<PathBuf>) -> Result<LocalStore> {
        let root = root.into();
        fs::create_dir_all(root.join("ns")).map_err(|e| {
            Error::io(
                &e,
                format!("cannot create the cloud folder {}", root.display()),
            )
        })?;
        Ok(LocalStore {
            root,
            quota: AtomicU64::new(NO_QUOTA),
            fsync: AtomicBool::new(true),
            namespaces: Mutex::new(HashMap::new()),
        })
    }

    /// The device's cloud: [`cloud_root`] with [`cloud_quota`].
    pub fn for_device(device: &Device) -> Result<LocalStore> {
        let store = LocalStore::open(cloud_root(device)?)?;
        store.set_quota(cloud_quota(device)?);
        Ok(store)
    }

    /// The cloud folder.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// Caps the bytes of live objects in the whole store (all namespaces, as one account's cloud
    /// quota would); `None` lifts the cap. Applies to puts that commit after the call.
    pub fn set_quota(&self, quota: Option<u64>) {
        self.quota
            .store(quota.unwrap_or(NO_QUOTA), Ordering::Relaxed);
    }

    /// The quota in bytes, if any.
    pub fn quota(&self) -> Option<u64> {
        Some(self.quota.load(Ordering::Relaxed)).filter(|&q| q != NO_QUOTA)
    }

    /// Whether commits are `fsync`ed (default on). Off survives a killed process but not a power
    /// cut; benchmarks comparing with tools that do not sync turn it off.
    pub fn set_fsync(&self, on: bool) {
        self.fsync.store(on, Ordering::Relaxed);
    }

    /// Bytes held by live objects in all namespaces.
    pub fn used_bytes(&self) -> Result<u64> {
        self.used_bytes_except(None)
    }

    /// The namespaces that have a journal, sorted.
    pub fn namespaces(&self) -> Result<Vec<String>> {
        let dir = self.root.join("ns");
        let entries = match fs::read_dir(&dir) {
            Ok(e) => e,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(Error::io(&e, format!("cannot read {}", dir.display()))),
        };
        let mut names: Vec<String> = entries
            .flatten()
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|n| validate_namespace(n).is_ok() && self.journal_path(n).is_file())
            .collect();
        names.sort();
        Ok(names)
    }

    /// Rewrites the namespace's journal to one line per key (cursors stay valid) and removes
    /// orphan blobs and stale temp files. Mutations do this on their own when the journal has
    /// grown well past its content.
    pub fn compact(&self, ns: &str) -> CloudResult<()> {
        validate_namespace(ns)?;
        if !self.ns_dir(ns).is_dir() {
            return Ok(());
        }
        let _lock = self.lock_ns(ns)?;
        let slot = self.slot(ns);
        let mut state = lock_state(&slot);
        self.refresh(ns, &mut state)?;
        self.compact_locked(ns, &mut state)
    }

    fn ns_dir(&self, ns: &str) -> PathBuf {
        self.root.join("ns").join(ns)
    }

    fn journal_path(&self, ns: &str) -> PathBuf {
        self.ns_dir(ns).join("journal.jsonl")
    }

    fn blob_path(&self, ns: &str, version: &str) -> PathBuf {
        let shard = &version[version.len().saturating_sub(2)..];
        self.ns_dir(ns).join("blobs").join(shard).join(version)
    }

    fn fsync(&self) -> bool {
        self.fsync.load(Ordering::Relaxed)
    }

    /// This handle's state of `ns`.
    fn slot(&self, ns: &str) -> Arc<Mutex<NsState>> {
        let mut map = self
            .namespaces
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        map.entry(ns.to_string()).or_default().clone()
    }

    /// The namespace lock (its folder created if missing).
    fn lock_ns(&self, ns: &str) -> Result<FileLock> {
        let dir = self.ns_dir(ns);
        let path = dir.join("lock");
        FileLock::acquire(&path)
            .or_else(|e| {
                if e.kind() != io::ErrorKind::NotFound {
                    return Err(e);
                }
                fs::create_dir_all(&dir)?;
                FileLock::acquire(&path)
            })
            .map_err(|e| Error::io(&e, format!("cannot lock {}", path.display())))
    }

    fn refresh(&self, ns: &str, state: &mut NsState) -> Result<()> {
        let path = self.journal_path(ns);
        state
            .index
            .refresh(&path)
            .map_err(|e| Error::io(&e, format!("cannot read {}", path.display())))
    }

    /// Brings the index up to date for a mutation (the namespace lock held): a torn tail is ended
    /// so the next line starts clean, and a new journal gets its header.
    fn prepare_mutation(&self, ns: &str, state: &mut NsState) -> Result<()> {
        self.refresh(ns, state)?;
        if state.index.has_torn_tail() {
            self.append(ns, b"\n")?;
            self.refresh(ns, state)?;
        }
        if state.index.needs_header() {
            let header = Record::Header {
                format: JOURNAL_FORMAT,
                namespace: ns.to_string(),
                base: now_micros(),
            };
            self.append(ns, &header.to_line())?;
            if self.fsync() {
                let dir = self.ns_dir(ns);
                sync_dir(&dir)
                    .map_err(|e| Error::io(&e, format!("cannot sync {}", dir.display())))?;
            }
            self.refresh(ns, state)?;
        }
        if !state.swept {
            sweep_temps(&self.ns_dir(ns).join("tmp"), blob::STALE_TEMP_AGE);
            state.swept = true;
        }
        Ok(())
    }

    /// Appends bytes to the journal (the namespace lock held). On a failed write the partial
    /// bytes are left for the next writer to end as a torn line.
    fn append(&self, ns: &str, bytes: &[u8]) -> Result<()> {
        let path = self.journal_path(ns);
        let mut file = OpenOptions::new()
            .append(true)
            .create(true)
            .open(&path)
            .map_err(|e| Error::io(&e, format!("cannot open {}", path.display())))?;
        file.write_all(bytes)
            .and_then(|()| {
                if self.fsync() {
                    file.sync_data()
                } else {
                    Ok(())
                }
            })
            .map_err(|e| Error::io(&e, format!("cannot append to {}", path.display())))
    }

    /// Appends one record and reads it back into the index (the namespace lock held).
    fn commit(&self, ns: &str, state: &mut NsState, record: &Record) -> Result<()> {
        self.append(ns, &record.to_line())?;
        self.refresh(ns, state)?;
        if state.index.needs_compaction() {
            // The mutation is committed; a failed compaction only leaves a longer journal.
            let _ = self.compact_locked(ns, state);
        }
        Ok(())
    }

    fn remove_blob(&self, ns: &str, version: &str) {
        let _ = fs::remove_file(self.blob_path(ns, version));
    }

    fn compact_locked(&self, ns: &str, state: &mut NsState) -> CloudResult<()> {
        let dir = self.ns_dir(ns);
        let journal = self.journal_path(ns);
        let tmp = dir.join("journal.jsonl.compact");
        let bytes = state.index.compacted(ns);
        let written = File::create(&tmp)
            .and_then(|mut f| {
                f.write_all(&bytes)?;
                if self.fsync() {
                    f.sync_data()?;
                }
                Ok(())
            })
            .and_then(|()| fs::rename(&tmp, &journal))
            .and_then(|()| if self.fsync() { sync_dir(&dir) } else { Ok(()) });
        if let Err(e) = written {
            let _ = fs::remove_file(&tmp);
            return Err(Error::io(&e, format!("cannot compact {}", journal.display())).into());
        }
        self.refresh(ns, state)?;
        // Orphans: blobs of puts that crashed before their journal line, and replaced blobs a
        // crash kept from being unlinked. No put is between rename and commit: we hold the lock.
        if let Ok(shards) = fs::read_dir(dir.join("blobs")) {
            for shard in shards.flatten() {
                let Ok(blobs) = fs::read_dir(shard.path()) else {
                    continue;
                };
                for blob in blobs.flatten() {
                    let name = blob.file_name();
                    if !state.index.is_live_version(&name.to_string_lossy()) {
                        let _ = fs::remove_file(blob.path());
                    }
                }
            }
        }
        sweep_temps(&dir.join("tmp"), blob::STALE_TEMP_AGE);
        state.swept = true;
        Ok(())
    }

    /// Live bytes of every namespace but `except`, each index brought up to date.
    fn used_bytes_except(&self, except: Option<&str>) -> Result<u64> {
        let mut used = 0;
        for ns in self.namespaces()? {
            if Some(ns.as_str()) == except {
                continue;
            }
            let slot = self.slot(&ns);
            let mut state = lock_state(&slot);
            self.refresh(&ns, &mut state)?;
            used += state.index.live_bytes();
        }
        Ok(used)
    }

    /// The current object for a read, after catching up with the journal.
    fn lookup(&self, ns: &str, key: &str) -> CloudResult<Option<ObjectMeta>> {
        validate_namespace(ns)?;
        validate_key(key)?;
        let slot = self.slot(ns);
        let mut state = lock_state(&slot);
        self.refresh(ns, &mut state)?;
        Ok(state.index.get(key).cloned())
    }
}

impl CloudBackend for LocalStore {
    fn put(
        &self,
        ns: &str,
        key: &str,
        data: &mut dyn Read,
        opts: &PutOptions,
    ) -> CloudResult<ObjectMeta> {
        validate_namespace(ns)?;
        validate_key(key)?;
        let tmp_dir = self.ns_dir(ns).join("tmp");
        let mut temp = TempBlob::create(&tmp_dir).map_err(|e| {
            Error::io(
                &e,
                format!("cannot create a temp file in {}", tmp_dir.display()),
            )
        })?;
        let (size, sha256) = temp.fill(data, self.fsync()).map_err(|e| match e {
            FillError::Source(e) => Error::io(&e, format!("cannot read the data for {ns}/{key}")),
            FillError::Store(e) => Error::io(
                &e,
                format!("cannot write {ns}/{key} into {}", self.root.display()),
            ),
        })?;

        let _ns_lock = self.lock_ns(ns)?;
        let quota = self.quota();
        let _quota_lock = match quota {
            Some(_) => {
                let path = self.root.join("quota.lock");
                Some(
                    FileLock::acquire(&path)
                        .map_err(|e| Error::io(&e, format!("cannot lock {}", path.display())))?,
                )
            }
            None => None,
        };
        // Other namespaces first, without holding ours: a handle never holds two indexes at once.
        let used_elsewhere = match quota {
            Some(_) => self.used_bytes_except(Some(ns))?,
            None => 0,
        };
        let slot = self.slot(ns);
        let mut state = lock_state(&slot);
        self.prepare_mutation(ns, &mut state)?;
        let current = state.index.get(key).cloned();
        let holds = match &opts.condition {
            PutCondition::Always => true,
            PutCondition::IfAbsent => current.is_none(),
            PutCondition::IfVersion(v) => current.as_ref().is_some_and(|c| &c.version == v),
        };
        if !holds {
            return Err(CloudError::PreconditionFailed {
                ns: ns.to_string(),
                key: key.to_string(),
                current: current.map(|c| c.version),
            });
        }
        if let Some(quota) = quota {
            let used = used_elsewhere + state.index.live_bytes();
            let replaced = current.as_ref().map_or(0, |c| c.size);
            if used - replaced + size > quota {
                return Err(CloudError::Full {
                    quota,
                    used,
                    needed: size.saturating_sub(replaced),
                });
            }
        }

        let seq = state.index.head() + 1;
        let version = format!("{seq:x}-{:012x}", random_u64() & 0xFFFF_FFFF_FFFF);
        let blob = self.blob_path(ns, &version);
        temp.commit(&blob, self.fsync())
            .map_err(|e| Error::io(&e, format!("cannot store {}", blob.display())))?;
        let meta = ObjectMeta {
            key: key.to_string(),
            size,
            version,
            sha256,
            modified: opts.modified.unwrap_or_else(now_millis),
        };
        let record = Record::Put {
            seq,
            key: meta.key.clone(),
            size,
            version: meta.version.clone(),
            sha256: meta.sha256.clone(),
            modified: meta.modified,
        };
        // On failure the blob stays: the line may be in the journal after all (written but not
        // synced, or whole but for its newline, which the next writer adds). If it is not, the
        // blob is an orphan for compaction.
        self.commit(ns, &mut state, &record)?;
        if let Some(old) = current {
            self.remove_blob(ns, &old.version);
        }
        Ok(meta)
    }

    fn get(
        &self,
        ns: &str,
        key: &str,
        opts: &GetOptions,
        out: &mut dyn Write,
    ) -> CloudResult<ObjectMeta> {
        let mut missing: Option<String> = None;
        for _ in 0..GET_ATTEMPTS {
            let Some(meta) = self.lookup(ns, key)? else {
                return Err(CloudError::NotFound {
                    ns: ns.to_string(),
                    key: key.to_string(),
                });
            };
            if missing.as_deref() == Some(meta.version.as_str()) {
                // Still current after catching up, yet without content: the folder was damaged.
                return Err(Error::new(
                    ErrorCode::IoError,
                    format!(
                        "the content of cloud object {ns}/{key} (version {}) is missing from {}",
                        meta.version,
                        self.root.display()
                    ),
                )
                .into());
            }
            if let Some(want) = &opts.if_version {
                if want != &meta.version {
                    return Err(CloudError::PreconditionFailed {
                        ns: ns.to_string(),
                        key: key.to_string(),
                        current: Some(meta.version),
                    });
                }
            }
            let path = self.blob_path(ns, &meta.version);
            let mut file = match File::open(&path) {
                Ok(f) => f,
                // Replaced since we looked: the journal already says by what.
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    missing = Some(meta.version);
                    continue;
                }
                Err(e) => {
                    return Err(Error::io(&e, format!("cannot open {}", path.display())).into())
                }
            };
            copy_range(&mut file, &path, &meta, opts, out)?;
            return Ok(meta);
        }
        Err(Error::new(
            ErrorCode::TryAgain,
            format!("cloud object {ns}/{key} was replaced {GET_ATTEMPTS} times while being read"),
        )
        .into())
    }

    fn head(&self, ns: &str, key: &str) -> CloudResult<Option<ObjectMeta>> {
        self.lookup(ns, key)
    }

    fn open_local_version(&self, ns: &str, key: &str, version: &str) -> CloudResult<Option<File>> {
        let Some(meta) = self.lookup(ns, key)? else {
            return Ok(None);
        };
        if meta.version != version {
            return Ok(None);
        }
        // Blobs are immutable and named by version: once open, the bytes are that version's
        // even if a newer put replaces (and unlinks) it meanwhile.
        let path = self.blob_path(ns, version);
        match File::open(&path) {
            Ok(f) if f.metadata().map(|m| m.len() == meta.size).unwrap_or(false) => Ok(Some(f)),
            // Replaced or damaged since the lookup: `get` knows how to retry or report it.
            _ => Ok(None),
        }
    }

    fn list(&self, ns: &str, prefix: &str) -> CloudResult<Vec<ObjectMeta>> {
        validate_namespace(ns)?;
        let slot = self.slot(ns);
        let mut state = lock_state(&slot);
        self.refresh(ns, &mut state)?;
        Ok(state.index.list(prefix))
    }

    fn delete(&self, ns: &str, key: &str, condition: &DeleteCondition) -> CloudResult<()> {
        validate_namespace(ns)?;
        validate_key(key)?;
        let failed = |current: Option<String>| CloudError::PreconditionFailed {
            ns: ns.to_string(),
            key: key.to_string(),
            current,
        };
        if !self.ns_dir(ns).is_dir() {
            // Nothing was ever stored here: do not create the namespace just to say so.
            return match condition {
                DeleteCondition::Always => Ok(()),
                DeleteCondition::IfVersion(_) => Err(failed(None)),
            };
        }
        let _ns_lock = self.lock_ns(ns)?;
        let slot = self.slot(ns);
        let mut state = lock_state(&slot);
        self.prepare_mutation(ns, &mut state)?;
        let current = state.index.get(key).cloned();
        let current = match (condition, current) {
            (DeleteCondition::Always, None) => return Ok(()),
            (DeleteCondition::Always, Some(c)) => c,
            (DeleteCondition::IfVersion(v), Some(c)) if &c.version == v => c,
            (DeleteCondition::IfVersion(_), other) => return Err(failed(other.map(|c| c.version))),
        };
        let seq = state.index.head() + 1;
        let record = Record::Delete {
            seq,
            key: key.to_string(),
        };
        self.commit(ns, &mut state, &record)?;
        self.remove_blob(ns, &current.version);
        Ok(())
    }

    fn changes_since(&self, ns: &str, cursor: u64, limit: usize) -> CloudResult<ChangePage> {
        validate_namespace(ns)?;
        let slot = self.slot(ns);
        let mut state = lock_state(&slot);
        // A handle that has not read this journal yet, asked about a cursor at its end (the
        // common "nothing changed" sync of a fresh process), answers from the journal's first
        // and last lines instead of parsing every line into an index.
        if cursor != 0 && !state.index.is_loaded() {
            if let Some((base, head)) = journal::bounds(&self.journal_path(ns)) {
                if cursor == head && cursor >= base {
                    return Ok(ChangePage {
                        changes: Vec::new(),
                        cursor,
                        has_more: false,
                    });
                }
            }
        }
        self.refresh(ns, &mut state)?;
        let index = &state.index;
        if cursor != 0 && (cursor < index.base() || cursor > index.head()) {
            return Err(CloudError::CursorExpired {
                ns: ns.to_string(),
                cursor,
            });
        }
        let (changes, has_more) = index.changes(cursor, limit);
        let cursor = match changes.last() {
            Some(last) if has_more => last.seq,
            _ => index.head().max(cursor),
        };
        Ok(ChangePage {
            changes,
            cursor,
            has_more,
        })
    }
}

/// Writes the requested range of an open blob to `out`.
fn copy_range(
    file: &mut File,
    path: &Path,
    meta: &ObjectMeta,
    opts: &GetOptions,
    out: &mut dyn Write,
) -> CloudResult<()> {
    let on_disk = file
        .metadata()
        .map_err(|e| Error::io(&e, format!("cannot stat {}", path.display())))?
        .len();
    if on_disk != meta.size {
        return Err(Error::new(
            ErrorCode::IoError,
            format!(
                "{} holds {on_disk} bytes, the journal says {}",
                path.display(),
                meta.size
            ),
        )
        .into());
    }
    if opts.offset > meta.size {
        return Err(Error::new(
            ErrorCode::InvalidArgument,
            format!(
                "range start {} is past the end of {} ({} bytes)",
                opts.offset, meta.key, meta.size
            ),
        )
        .into());
    }
    let mut left = opts.len.unwrap_or(u64::MAX).min(meta.size - opts.offset);
    file.seek(SeekFrom::Start(opts.offset))
        .map_err(|e| Error::io(&e, format!("cannot seek {}", path.display())))?;
    let mut buf = vec![0u8; COPY_BUFFER_SIZE.min(left as usize)];
    while left > 0 {
        let want = buf.len().min(left as usize);
        let n = match file.read(&mut buf[..want]) {
            Ok(0) => {
                return Err(Error::new(
                    ErrorCode::IoError,
                    format!("{} ended early", path.display()),
                )
                .into())
            }
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(Error::io(&e, format!("cannot read {}", path.display())).into()),
        };
        out.write_all(&buf[..n])
            .map_err(|e| Error::io(&e, format!("cannot write out {}", meta.key)))?;
        left -= n as u64;
    }
    Ok(())
}

/// Locks a namespace state; a panic elsewhere mid-update leaves an index that is rebuilt.
fn lock_state(slot: &Mutex<NsState>) -> MutexGuard<'_, NsState> {
    slot.lock().unwrap_or_else(|poisoned| {
        slot.clear_poison();
        let mut state = poisoned.into_inner();
        state.index = NsIndex::default();
        state
    })
}

fn now_millis() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis() as i64)
        .unwrap_or(0)
}

fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or(0)
        .max(1)
}
