//! Bringing one cloud object down into the synced folder: resumable, hash-checked, atomic.
//!
//! The bytes go to a partial file under `state/cloudsync/<ns>.partial/`, named from a hash of the
//! key and a hash of the version, so a resume only ever continues the same version (a ranged get
//! guarded by `if_version`). When all bytes are in and their SHA-256 is the cloud's, the partial is
//! moved into place beneath the folder ([`Beneath::move_into`]: no symlink is followed, the final
//! name appears only complete).
//!
//! [`Beneath::move_into`]: crate::backup::archive::Beneath::move_into

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::fd::{AsFd, AsRawFd};
use std::os::unix::fs::{FileExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use sha2::{Digest, Sha256};

use super::backend::{CloudBackend, GetOptions, ObjectMeta};
use super::cloud_error::CloudError;
use super::conditions::Conditions;
use super::engine::folder::{upper_hex, Entry, SyncedFolder};
use super::progress::SyncErrorType;
use super::scope::SyncScope;
use super::state_db::LocalStat;
use crate::device::Device;
use crate::error::{Error, ErrorCode, Result};

/// Bytes between two looks at `stop`, the progress callback and the network.
const CHUNK: u64 = 1024 * 1024;
/// Mode of a downloaded file.
const FILE_MODE: u32 = 0o644;

/// How a caller steers a fetch in flight.
pub struct FetchControl<'a> {
    /// Set to stop after the current chunk; the partial data is kept for a resume.
    pub stop: &'a AtomicBool,
    /// Called with (bytes present, object size) after every chunk; the caller throttles.
    pub progress: &'a mut dyn FnMut(u64, u64),
}

/// How a fetch ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FetchOutcome {
    /// The file is in place; its stat as placed.
    Done(LocalStat),
    /// `stop` was set; the partial data is kept.
    Stopped,
}

/// What may be at the final name when a fetched file is moved into place, checked just before
/// the move (a local edit made during the download must not be overwritten).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PlaceGuard {
    /// Anything (a file there is replaced).
    Any,
    /// Nothing may be there.
    Absent,
    /// A regular file with exactly this stat (the copy known to be in step), or nothing.
    Unchanged(LocalStat),
}

/// How a guarded fetch ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GuardedOutcome {
    /// The file is in place; its stat as placed.
    Done(LocalStat),
    /// `stop` was set; the partial data is kept.
    Stopped,
    /// The guard did not hold: nothing was placed, and the complete, checked partial is kept, so
    /// fetching the same version again places it without downloading.
    LocalChanged,
}

/// Downloads version `meta` of key `meta.key` of `scope` into the synced folder at the same
/// relative path.
pub fn fetch_object(
    device: &Device,
    scope: &SyncScope,
    cloud: &dyn CloudBackend,
    meta: &ObjectMeta,
    ctl: &mut FetchControl,
) -> Result<FetchOutcome> {
    match fetch_object_guarded(device, scope, cloud, meta, PlaceGuard::Any, ctl)? {
        GuardedOutcome::Done(stat) => Ok(FetchOutcome::Done(stat)),
        GuardedOutcome::Stopped => Ok(FetchOutcome::Stopped),
        // PlaceGuard::Any always holds; answer sensibly all the same.
        GuardedOutcome::LocalChanged => Err(Error::new(
            ErrorCode::FileExists,
            format!("{} changed locally during the download", meta.key),
        )),
    }
}

/// [`fetch_object`], placing the file only when `guard` holds at that moment.
pub fn fetch_object_guarded(
    device: &Device,
    scope: &SyncScope,
    cloud: &dyn CloudBackend,
    meta: &ObjectMeta,
    guard: PlaceGuard,
    ctl: &mut FetchControl,
) -> Result<GuardedOutcome> {
    let folder = SyncedFolder::open(device, scope)?;
    fetch_into(device, scope, &folder, cloud, meta, guard, ctl)
}

/// Bytes of a kept partial download of `key` at `version` (0 when none).
pub fn partial_len(device: &Device, scope: &SyncScope, key: &str, version: &str) -> Result<u64> {
    let path = partial_dir(device, scope)?.join(partial_name(key, version));
    match fs::symlink_metadata(&path) {
        Ok(m) if m.is_file() => Ok(m.len()),
        Ok(_) => Ok(0),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(0),
        Err(e) => Err(Error::io(&e, format!("cannot stat {}", path.display()))),
    }
}

/// Deletes any partial download of `key` (any version).
pub fn discard_partial(device: &Device, scope: &SyncScope, key: &str) -> Result<()> {
    remove_partials(&partial_dir(device, scope)?, key, None)
}

/// The fetch itself, with the folder already open (a sync run fetches many files).
pub(crate) fn fetch_into(
    device: &Device,
    scope: &SyncScope,
    folder: &SyncedFolder,
    cloud: &dyn CloudBackend,
    meta: &ObjectMeta,
    guard: PlaceGuard,
    ctl: &mut FetchControl,
) -> Result<GuardedOutcome> {
    // Checked before anything touches the disk: the key must be able to name a file here.
    crate::cloudsync::object_key::validate_key(&meta.key)?;
    crate::backup::archive::beneath::components(Path::new(&folder.rel(&meta.key)))?;
    // A symlink on the way to the final name is refused now, before any byte is fetched.
    folder.entry(&meta.key)?;
    let conditions = Conditions::read(device, scope)?;
    if conditions.running_error() == Some(SyncErrorType::NetworkUnavailable) {
        return Err(no_network(&meta.key));
    }
    let dir = partial_dir(device, scope)?;
    let name = partial_name(&meta.key, &meta.version);
    // Other versions of this key can never be resumed into this one.
    remove_partials(&dir, &meta.key, Some(&name))?;
    let path = dir.join(&name);
    let Some(mut file) = open_locked(&path, ctl.stop)? else {
        return Ok(GuardedOutcome::Stopped);
    };

    let mut have = file
        .metadata()
        .map_err(|e| Error::io(&e, format!("cannot stat {}", path.display())))?
        .len();
    if have > meta.size {
        // Longer than the object: not ours to trust.
        file.set_len(0)
            .map_err(|e| Error::io(&e, format!("cannot truncate {}", path.display())))?;
        have = 0;
    }
    let mut hasher = Sha256::new();
    hash_prefix(&mut file, have, &mut hasher, &path)?;
    (ctl.progress)(have, meta.size);

    if have < meta.size {
        let need = meta.size - have;
        let dest_dir = scope.local_dir(device);
        let same_fs = fs::metadata(&dir).map(|m| m.dev()).ok()
            == fs::metadata(&dest_dir).map(|m| m.dev()).ok();
        if !conditions.local_space_for(&dir, need)
            || (!same_fs && !conditions.local_space_for(&dest_dir, meta.size))
        {
            return Err(Error::new(
                ErrorCode::NoSpace,
                format!(
                    "not enough local space to download {} ({need} more bytes)",
                    meta.key
                ),
            ));
        }
        if let Some(src) = cloud.open_local_version(scope.namespace(), &meta.key, &meta.version)? {
            let (outcome, h) = copy_local(&src, &mut file, have, meta, hasher, ctl, device, scope)?;
            hasher = h;
            match outcome {
                Copied::Stopped => return Ok(GuardedOutcome::Stopped),
                Copied::Done => have = meta.size,
            }
            (ctl.progress)(have, meta.size);
        } else {
            let mut sink = Sink {
                file: &mut file,
                hasher: &mut hasher,
                have,
                size: meta.size,
                next_look: (have / CHUNK + 1) * CHUNK,
                ctl,
                device,
                scope,
                key: &meta.key,
                halt: None,
                started_at: have,
                pace: Pace::new(),
            };
            let got = cloud.get(
                scope.namespace(),
                &meta.key,
                &GetOptions::resume(have, meta.version.clone()),
                &mut sink,
            );
            let (halt, now_have) = (sink.halt.take(), sink.have);
            match (got, halt) {
                (_, Some(Halt::Stop)) => return Ok(GuardedOutcome::Stopped),
                (_, Some(Halt::Failed(e))) => return Err(e),
                (Ok(_), None) => {}
                (Err(CloudError::NotFound { .. }), None) => {
                    drop(file);
                    remove_partials(&dir, &meta.key, None)?;
                    return Err(Error::new(
                        ErrorCode::NoSuchFile,
                        format!("{} is no longer in the cloud", meta.key),
                    ));
                }
                (Err(CloudError::PreconditionFailed { .. }), None) => {
                    drop(file);
                    remove_partials(&dir, &meta.key, None)?;
                    return Err(Error::new(
                        ErrorCode::NoSuchFile,
                        format!(
                            "version {} of {} is no longer in the cloud",
                            meta.version, meta.key
                        ),
                    ));
                }
                (Err(e), None) => return Err(e.into()),
            }
            have = now_have;
            (ctl.progress)(have, meta.size);
        }
    }

    let sha = upper_hex(&hasher.finalize());
    if have != meta.size || !sha.eq_ignore_ascii_case(&meta.sha256) {
        drop(file);
        remove_partials(&dir, &meta.key, None)?;
        return Err(Error::new(
            ErrorCode::IoError,
            format!(
                "download of {} (version {}) is corrupt: {have} bytes with SHA-256 {sha}, the cloud \
                 says {} bytes with {}; it was discarded",
                meta.key, meta.version, meta.size, meta.sha256
            ),
        ));
    }

    let placed = (|| {
        let holds = match guard {
            PlaceGuard::Any => true,
            PlaceGuard::Absent => folder.entry(&meta.key)? == Entry::Absent,
            PlaceGuard::Unchanged(s) => match folder.entry(&meta.key)? {
                Entry::File(now) => s == now,
                e => e == Entry::Absent,
            },
        };
        if !holds {
            return Ok(false);
        }
        let dir_file = File::open(&dir)
            .map_err(|e| Error::io(&e, format!("cannot open {}", dir.display())))?;
        folder.beneath().move_into(
            dir_file.as_fd(),
            std::ffi::OsStr::new(&name),
            Path::new(&folder.rel(&meta.key)),
            FILE_MODE,
            now_times(),
            ms_times(meta.modified),
        )?;
        Ok(true)
    })();
    if let Ok(false) = placed {
        return Ok(GuardedOutcome::LocalChanged);
    }
    if let Err(e) = placed {
        // It cannot go there (a symlink or directory in the way): keeping it would only waste
        // space until the next attempt fails the same way.
        drop(file);
        let _ = fs::remove_file(&path);
        return Err(e);
    }
    drop(file); // the lock goes with it; the partial's name is gone already
    match folder.open_file(&meta.key)? {
        Some((_, stat)) => Ok(GuardedOutcome::Done(stat)),
        None => Err(Error::new(
            ErrorCode::NoSuchFile,
            format!("{} vanished right after it was downloaded", meta.key),
        )),
    }
}

/// Keeps a download at the device's simulated network speed (`networkBytesPerSecond`).
struct Pace {
    started: std::time::Instant,
}

impl Pace {
    fn new() -> Pace {
        Pace {
            started: std::time::Instant::now(),
        }
    }

    /// Sleeps until `bytes` are due at `bps`, in short naps that end early on `stop`.
    fn wait(&self, bytes: u64, bps: Option<u64>, stop: &AtomicBool) {
        let Some(bps) = bps else { return };
        let due = Duration::from_secs_f64(bytes as f64 / bps as f64);
        while !stop.load(Ordering::Relaxed) {
            let elapsed = self.started.elapsed();
            if elapsed >= due {
                return;
            }
            std::thread::sleep((due - elapsed).min(Duration::from_millis(50)));
        }
    }
}

/// How [`copy_local`] ended.
enum Copied {
    Done,
    Stopped,
}

/// Copies `[have, size)` of a local version file into the partial with `copy_file_range` (no
/// bytes through user space, as `cp` does), while another thread hashes the same range of the
/// source; the hash check after it covers the partial's prefix and the copied rest. Stop, the
/// network and progress are looked at every [`CHUNK`]s, as on the streaming path.
#[allow(clippy::too_many_arguments)]
fn copy_local(
    src: &File,
    dst: &mut File,
    have: u64,
    meta: &ObjectMeta,
    hasher: Sha256,
    ctl: &mut FetchControl,
    device: &Device,
    scope: &SyncScope,
) -> Result<(Copied, Sha256)> {
    let quit = AtomicBool::new(false);
    std::thread::scope(|s| {
        let hashing = s.spawn(|| {
            let mut hasher = hasher;
            // Hashing is the slow half (SHA-256 is sequential): read the source through
            // mappings, so its bytes are hashed where they lie instead of being copied first.
            // A window at a time, populated in one go (no fault per page) and unmapped after, so
            // the process never holds more than one window of the file.
            let mut at = have;
            while at < meta.size && !quit.load(Ordering::Relaxed) {
                let start = at - at % HASH_WINDOW;
                let len = HASH_WINDOW.min(meta.size - start);
                let Some(map) = Mapping::of(src, start, len) else {
                    break; // the read loop below takes over from `at`
                };
                hasher.update(&map.bytes()[(at - start) as usize..]);
                at = start + len;
            }
            if at >= meta.size || quit.load(Ordering::Relaxed) {
                return hasher;
            }
            let have = at;
            let mut buf = vec![0u8; CHUNK as usize];
            let mut at = have;
            while at < meta.size && !quit.load(Ordering::Relaxed) {
                let want = buf.len().min((meta.size - at) as usize);
                match src.read_at(&mut buf[..want], at) {
                    Ok(0) => break,
                    Ok(n) => {
                        hasher.update(&buf[..n]);
                        at += n as u64;
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(_) => break, // the length check after the copy reports it
                }
            }
            hasher
        });
        let copied = (|| -> Result<Copied> {
            let mut at = have;
            let step = CHUNK;
            let pace = Pace::new();
            while at < meta.size {
                let want = step.min(meta.size - at);
                let n = copy_range_at(src, at, dst, at, want).map_err(|e| {
                    Error::io(&e, format!("cannot write the download of {}", meta.key))
                })?;
                if n == 0 {
                    return Err(Error::new(
                        ErrorCode::IoError,
                        format!("the cloud copy of {} ended early", meta.key),
                    ));
                }
                at += n;
                if at < meta.size {
                    (ctl.progress)(at, meta.size);
                    if ctl.stop.load(Ordering::Relaxed) {
                        return Ok(Copied::Stopped);
                    }
                    let c = Conditions::read(device, scope)?;
                    if c.running_error() == Some(SyncErrorType::NetworkUnavailable) {
                        return Err(no_network(&meta.key));
                    }
                    pace.wait(at - have, c.network_bytes_per_second, ctl.stop);
                }
            }
            Ok(Copied::Done)
        })();
        if !matches!(copied, Ok(Copied::Done)) {
            quit.store(true, Ordering::Relaxed);
        }
        let hasher = hashing.join().unwrap_or_default();
        copied.map(|c| (c, hasher))
    })
}

/// The span of the source one hash mapping covers (a multiple of any page size).
const HASH_WINDOW: u64 = 8 * CHUNK;

/// A read-only private mapping of part of a file (unmapped on drop).
struct Mapping {
    ptr: *mut libc::c_void,
    len: usize,
}

impl Mapping {
    /// Maps `len` bytes of `file` from `offset` (page-aligned), populated at once; `None` when
    /// it cannot be mapped.
    fn of(file: &File, offset: u64, len: u64) -> Option<Mapping> {
        let len = usize::try_from(len).ok().filter(|&l| l > 0)?;
        let offset = libc::off_t::try_from(offset).ok()?;
        // SAFETY: a fresh read-only private mapping of an open file; the store's blobs are
        // immutable (a new version is a new file), so the bytes do not change under us.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ,
                libc::MAP_PRIVATE | libc::MAP_POPULATE,
                file.as_raw_fd(),
                offset,
            )
        };
        if ptr == libc::MAP_FAILED {
            return None;
        }
        Some(Mapping { ptr, len })
    }

    fn bytes(&self) -> &[u8] {
        // SAFETY: the mapping is `len` readable bytes and lives as long as `self`.
        unsafe { std::slice::from_raw_parts(self.ptr as *const u8, self.len) }
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly the mapping `of` made.
        unsafe { libc::munmap(self.ptr, self.len) };
    }
}

/// `copy_file_range` of `len` bytes at explicit offsets (falling back to read/write where the
/// kernel or filesystem cannot); returns the bytes copied, 0 at the source's end.
fn copy_range_at(src: &File, src_off: u64, dst: &File, dst_off: u64, len: u64) -> io::Result<u64> {
    let mut off_in = src_off as libc::loff_t;
    let mut off_out = dst_off as libc::loff_t;
    // SAFETY: both fds are open for the duration of the call; the offsets are valid pointers.
    let n = unsafe {
        libc::copy_file_range(
            src.as_raw_fd(),
            &mut off_in,
            dst.as_raw_fd(),
            &mut off_out,
            len as usize,
            0,
        )
    };
    if n >= 0 {
        return Ok(n as u64);
    }
    let err = io::Error::last_os_error();
    match err.raw_os_error() {
        Some(libc::EXDEV) | Some(libc::ENOSYS) | Some(libc::EINVAL) | Some(libc::EOPNOTSUPP) => {
            let mut buf = vec![0u8; len.min(CHUNK) as usize];
            let n = src.read_at(&mut buf, src_off)?;
            dst.write_all_at(&buf[..n], dst_off)?;
            Ok(n as u64)
        }
        _ => Err(err),
    }
}

/// `state/cloudsync/<ns>.partial/`, created on demand.
fn partial_dir(device: &Device, scope: &SyncScope) -> Result<PathBuf> {
    let dir = device
        .state_subdir("cloudsync")?
        .join(format!("{}.partial", scope.namespace()));
    fs::create_dir_all(&dir)
        .map_err(|e| Error::io(&e, format!("cannot create {}", dir.display())))?;
    Ok(dir)
}

/// `<hash of key>-<hash of version>`: fixed length whatever the key, and one key's partials
/// share a prefix.
fn partial_name(key: &str, version: &str) -> String {
    format!("{}-{}", short_hash(key, 32), short_hash(version, 16))
}

fn short_hash(s: &str, hex_len: usize) -> String {
    let mut h = upper_hex(&Sha256::digest(s.as_bytes()));
    h.truncate(hex_len);
    h.make_ascii_lowercase();
    h
}

/// Removes the partials of `key` in `dir`, except the one named `keep`.
fn remove_partials(dir: &Path, key: &str, keep: Option<&str>) -> Result<()> {
    let prefix = format!("{}-", short_hash(key, 32));
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(Error::io(&e, format!("cannot read {}", dir.display()))),
    };
    for entry in entries {
        let entry = entry.map_err(|e| Error::io(&e, format!("cannot read {}", dir.display())))?;
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if name.starts_with(&prefix) && Some(name) != keep {
            match fs::remove_file(entry.path()) {
                Ok(()) => {}
                Err(e) if e.kind() == io::ErrorKind::NotFound => {}
                Err(e) => {
                    return Err(Error::io(
                        &e,
                        format!("cannot remove {}", entry.path().display()),
                    ))
                }
            }
        }
    }
    Ok(())
}

/// Opens (creating) the partial at `path` and takes its exclusive `flock`, so two fetches of one
/// version never write the same file; waits for another holder while `stop` is unset (`None`
/// when stopped). A holder that finished moved the partial away: then a fresh one is opened.
fn open_locked(path: &Path, stop: &AtomicBool) -> Result<Option<File>> {
    loop {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(path)
            .map_err(|e| Error::io(&e, format!("cannot open {}", path.display())))?;
        loop {
            // SAFETY: flock on an fd we own.
            if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
                break;
            }
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EWOULDBLOCK) | Some(libc::EINTR) => {}
                _ => return Err(Error::io(&e, format!("cannot lock {}", path.display()))),
            }
            if stop.load(Ordering::Relaxed) {
                return Ok(None);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let ours = file.metadata().map(|m| (m.dev(), m.ino())).ok();
        let named = fs::symlink_metadata(path).map(|m| (m.dev(), m.ino())).ok();
        if ours.is_some() && ours == named {
            return Ok(Some(file));
        }
    }
}

/// Feeds the first `len` bytes of `file` to `hasher` and leaves the position at `len`.
fn hash_prefix(file: &mut File, len: u64, hasher: &mut Sha256, path: &Path) -> Result<()> {
    file.seek(SeekFrom::Start(0))
        .map_err(|e| Error::io(&e, format!("cannot seek {}", path.display())))?;
    let mut buf = vec![0u8; CHUNK.min(len.max(1)) as usize];
    let mut left = len;
    while left > 0 {
        let want = buf.len().min(left as usize);
        match file.read(&mut buf[..want]) {
            Ok(0) => {
                return Err(Error::new(
                    ErrorCode::IoError,
                    format!("{} shrank while it was read", path.display()),
                ))
            }
            Ok(n) => {
                hasher.update(&buf[..n]);
                left -= n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io(&e, format!("cannot read {}", path.display()))),
        }
    }
    Ok(())
}

/// Why the sink refused more bytes.
enum Halt {
    Stop,
    Failed(Error),
}

/// The `Write` a get streams into: appends to the partial, hashes, and every [`CHUNK`] reports
/// progress and looks at `stop` and the network (refusing the next bytes stops the get).
struct Sink<'a, 'c> {
    file: &'a mut File,
    hasher: &'a mut Sha256,
    have: u64,
    size: u64,
    next_look: u64,
    ctl: &'a mut FetchControl<'c>,
    device: &'a Device,
    scope: &'a SyncScope,
    key: &'a str,
    halt: Option<Halt>,
    /// Where this get started (the pace counts the bytes of this get).
    started_at: u64,
    pace: Pace,
}

impl Sink<'_, '_> {
    fn refuse(&mut self, halt: Halt) -> io::Error {
        self.halt = Some(halt);
        io::Error::other("download halted")
    }
}

impl Write for Sink<'_, '_> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.halt.is_some() {
            return Err(io::Error::other("download halted"));
        }
        if let Err(e) = self.file.write_all(buf) {
            let err = Error::io(&e, "cannot write the downloaded data");
            return Err(self.refuse(Halt::Failed(err)));
        }
        self.hasher.update(buf);
        self.have += buf.len() as u64;
        if self.have >= self.next_look && self.have < self.size {
            self.next_look = (self.have / CHUNK + 1) * CHUNK;
            (self.ctl.progress)(self.have, self.size);
            if self.ctl.stop.load(Ordering::Relaxed) {
                return Err(self.refuse(Halt::Stop));
            }
            match Conditions::read(self.device, self.scope) {
                Ok(c) if c.running_error() == Some(SyncErrorType::NetworkUnavailable) => {
                    let err = no_network(self.key);
                    return Err(self.refuse(Halt::Failed(err)));
                }
                Ok(c) => {
                    let done = self.have - self.started_at;
                    self.pace
                        .wait(done, c.network_bytes_per_second, self.ctl.stop);
                }
                Err(e) => return Err(self.refuse(Halt::Failed(e))),
            }
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn no_network(key: &str) -> Error {
    Error::new(
        ErrorCode::NetworkUnavailable,
        format!("the network went away while downloading {key}"),
    )
}

fn now_times() -> (i64, i64) {
    let d = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap_or_default();
    (d.as_secs() as i64, i64::from(d.subsec_nanos()))
}

/// Milliseconds since the epoch as `(seconds, nanoseconds)`.
fn ms_times(ms: i64) -> (i64, i64) {
    (ms.div_euclid(1000), ms.rem_euclid(1000) * 1_000_000)
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::{symlink, MetadataExt};

    use super::*;
    use crate::cloudsync::backend::PutOptions;
    use crate::cloudsync::engine::test_support::{
        app, pattern, set_device_json, Recording, World, BUNDLE,
    };

    const MS: i64 = 1_700_000_000_123;

    fn put(cloud: &dyn CloudBackend, key: &str, data: &[u8]) -> ObjectMeta {
        cloud
            .put_bytes(BUNDLE, key, data, &PutOptions::default().with_modified(MS))
            .unwrap()
    }

    /// Fetches `meta`, setting `stop` once `stop_at` bytes are in; returns the result and the
    /// progress calls.
    fn fetch(
        device: &Device,
        cloud: &dyn CloudBackend,
        meta: &ObjectMeta,
        stop_at: Option<u64>,
    ) -> (Result<FetchOutcome>, Vec<(u64, u64)>) {
        let stop = AtomicBool::new(false);
        let mut calls = Vec::new();
        let mut progress = |done: u64, size: u64| {
            calls.push((done, size));
            if stop_at.is_some_and(|n| done >= n) {
                stop.store(true, Ordering::Relaxed);
            }
        };
        let mut ctl = FetchControl {
            stop: &stop,
            progress: &mut progress,
        };
        let r = fetch_object(device, &app(), cloud, meta, &mut ctl);
        (r, calls)
    }

    fn local(device: &Device, key: &str) -> PathBuf {
        app().local_dir(device).join(key)
    }

    fn partials(device: &Device) -> Vec<PathBuf> {
        let dir = partial_dir(device, &app()).unwrap();
        fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect()
    }

    #[test]
    fn a_full_fetch_places_the_content_with_the_cloud_mtime() {
        let w = World::new();
        let device = w.device("a");
        let cloud = w.cloud();
        let data = pattern(3 * 1024 * 1024 + 5, 1);
        let meta = put(&cloud, "docs/a.bin", &data);
        let (r, calls) = fetch(&device, &cloud, &meta, None);
        let FetchOutcome::Done(stat) = r.unwrap() else {
            panic!("not done")
        };
        let path = local(&device, "docs/a.bin");
        let m = fs::symlink_metadata(&path).unwrap();
        assert_eq!(fs::read(&path).unwrap(), data);
        assert_eq!(stat, LocalStat::of(&m));
        assert_eq!((m.mtime(), m.mtime_nsec()), (1_700_000_000, 123_000_000));
        assert_eq!(m.mode() & 0o777, FILE_MODE);
        assert_eq!(calls.first(), Some(&(0, meta.size)));
        assert_eq!(calls.last(), Some(&(meta.size, meta.size)));
        assert!(calls.len() >= 4, "one call per MiB: {calls:?}");
        assert!(partials(&device).is_empty());
        assert_eq!(
            partial_len(&device, &app(), "docs/a.bin", &meta.version).unwrap(),
            0
        );
    }

    #[test]
    fn stop_keeps_the_partial_and_a_resume_fetches_only_the_rest() {
        let w = World::new();
        let device = w.device("a");
        let cloud = w.cloud();
        let data = pattern(5 * 1024 * 1024 + 77, 2);
        let meta = put(&cloud, "v.bin", &data);
        let (r, _) = fetch(&device, &cloud, &meta, Some(2 * CHUNK));
        assert_eq!(r.unwrap(), FetchOutcome::Stopped);
        let kept = partial_len(&device, &app(), "v.bin", &meta.version).unwrap();
        assert!((2 * CHUNK..meta.size).contains(&kept), "{kept}");
        assert!(!local(&device, "v.bin").exists());

        let rec = Recording::new(&cloud);
        let (r, calls) = fetch(&device, &rec, &meta, None);
        assert!(matches!(r.unwrap(), FetchOutcome::Done(_)));
        assert_eq!(*rec.get_offsets.lock().unwrap(), vec![kept]);
        assert_eq!(calls.first(), Some(&(kept, meta.size)));
        assert_eq!(fs::read(local(&device, "v.bin")).unwrap(), data);
        assert!(partials(&device).is_empty());
    }

    #[test]
    fn a_new_version_discards_the_partial_of_the_old_one() {
        let w = World::new();
        let device = w.device("a");
        let cloud = w.cloud();
        let v1 = put(&cloud, "k", &pattern(3 * 1024 * 1024, 3));
        assert_eq!(
            fetch(&device, &cloud, &v1, Some(CHUNK)).0.unwrap(),
            FetchOutcome::Stopped
        );
        assert!(partial_len(&device, &app(), "k", &v1.version).unwrap() > 0);

        // The cloud moved on: resuming v1 is impossible, and nothing of it stays.
        let v2_data = pattern(3 * 1024 * 1024, 4);
        let v2 = put(&cloud, "k", &v2_data);
        let e = fetch(&device, &cloud, &v1, None).0.unwrap_err();
        assert_eq!(e.code(), ErrorCode::NoSuchFile, "{e}");
        assert_eq!(partial_len(&device, &app(), "k", &v1.version).unwrap(), 0);
        assert!(!local(&device, "k").exists());

        // A partial of v2, then a fetch of v3: the v2 partial goes, v3 lands whole.
        assert_eq!(
            fetch(&device, &cloud, &v2, Some(CHUNK)).0.unwrap(),
            FetchOutcome::Stopped
        );
        let v3_data = pattern(2 * 1024 * 1024, 5);
        let v3 = put(&cloud, "k", &v3_data);
        assert!(matches!(
            fetch(&device, &cloud, &v3, None).0.unwrap(),
            FetchOutcome::Done(_)
        ));
        assert_eq!(partial_len(&device, &app(), "k", &v2.version).unwrap(), 0);
        assert_eq!(fs::read(local(&device, "k")).unwrap(), v3_data);
        assert!(partials(&device).is_empty());
        assert_ne!(v2_data, v3_data);
    }

    #[test]
    fn a_corrupt_partial_fails_the_hash_check_and_leaves_no_file() {
        let w = World::new();
        let device = w.device("a");
        let cloud = w.cloud();
        let meta = put(&cloud, "c.bin", &pattern(3 * 1024 * 1024, 6));
        assert_eq!(
            fetch(&device, &cloud, &meta, Some(CHUNK)).0.unwrap(),
            FetchOutcome::Stopped
        );
        let [partial] = partials(&device).try_into().unwrap();
        let mut f = OpenOptions::new().write(true).open(&partial).unwrap();
        f.write_all(b"garbage").unwrap();
        drop(f);
        let e = fetch(&device, &cloud, &meta, None).0.unwrap_err();
        assert_eq!(e.code(), ErrorCode::IoError);
        assert!(e.detail().contains("corrupt"), "{e}");
        assert!(!local(&device, "c.bin").exists());
        assert!(partials(&device).is_empty());
        // The next attempt starts over and succeeds.
        assert!(matches!(
            fetch(&device, &cloud, &meta, None).0.unwrap(),
            FetchOutcome::Done(_)
        ));
    }

    #[test]
    fn symlinks_in_the_folder_are_never_written_through() {
        let w = World::new();
        let device = w.device("a");
        let cloud = w.cloud();
        let outside = w.tmp.path().join("outside");
        fs::create_dir_all(&outside).unwrap();
        fs::write(outside.join("x"), b"keep").unwrap();
        let dir = app().local_dir(&device);
        fs::create_dir_all(&dir).unwrap();
        symlink(&outside, dir.join("evil")).unwrap();
        symlink(outside.join("x"), dir.join("link")).unwrap();

        let meta = put(&cloud, "evil/x", b"pwned");
        let e = fetch(&device, &cloud, &meta, None).0.unwrap_err();
        assert_eq!(e.code(), ErrorCode::TooManySymlinks, "{e}");
        assert_eq!(fs::read(outside.join("x")).unwrap(), b"keep");
        assert_eq!(fs::read_dir(&outside).unwrap().count(), 1);
        assert!(partials(&device).is_empty());

        // A symlink at the final name is replaced by the file, its target untouched.
        let meta = put(&cloud, "link", b"replaced");
        assert!(matches!(
            fetch(&device, &cloud, &meta, None).0.unwrap(),
            FetchOutcome::Done(_)
        ));
        assert!(fs::symlink_metadata(dir.join("link")).unwrap().is_file());
        assert_eq!(fs::read(outside.join("x")).unwrap(), b"keep");
    }

    #[test]
    fn not_enough_local_space_is_13900025() {
        let w = World::new();
        let device = w.device("a");
        let cloud = w.cloud();
        let meta = put(&cloud, "big", &pattern(1024 * 1024, 7));
        set_device_json(&device, "localFreeBytes", serde_json::json!(1000));
        let e = fetch(&device, &cloud, &meta, None).0.unwrap_err();
        assert_eq!(e.code().code(), 13900025);
        assert!(!local(&device, "big").exists());
        assert_eq!(
            partial_len(&device, &app(), "big", &meta.version).unwrap(),
            0
        );
        set_device_json(&device, "localFreeBytes", serde_json::Value::Null);
        assert!(matches!(
            fetch(&device, &cloud, &meta, None).0.unwrap(),
            FetchOutcome::Done(_)
        ));
    }

    #[test]
    fn losing_the_network_keeps_the_partial() {
        let w = World::new();
        let device = w.device("a");
        let cloud = w.cloud();
        let meta = put(&cloud, "n", &pattern(4 * 1024 * 1024, 8));
        let stop = AtomicBool::new(false);
        let mut progress = |done: u64, _| {
            if done >= CHUNK {
                set_device_json(&device, "network", serde_json::json!("none"));
            }
        };
        let mut ctl = FetchControl {
            stop: &stop,
            progress: &mut progress,
        };
        let e = fetch_object(&device, &app(), &cloud, &meta, &mut ctl).unwrap_err();
        assert_eq!(e.code().code(), 22400002);
        let kept = partial_len(&device, &app(), "n", &meta.version).unwrap();
        assert!(kept >= CHUNK && kept < meta.size, "{kept}");
        // No network at the start fails at once.
        let e = fetch(&device, &cloud, &meta, None).0.unwrap_err();
        assert_eq!(e.code(), ErrorCode::NetworkUnavailable);
        set_device_json(&device, "network", serde_json::json!("wifi"));
        assert!(matches!(
            fetch(&device, &cloud, &meta, None).0.unwrap(),
            FetchOutcome::Done(_)
        ));
    }

    #[test]
    fn a_missing_object_is_13900002_and_discard_partial_forgets_every_version() {
        let w = World::new();
        let device = w.device("a");
        let cloud = w.cloud();
        let meta = put(&cloud, "gone", &pattern(3 * 1024 * 1024, 9));
        assert_eq!(
            fetch(&device, &cloud, &meta, Some(CHUNK)).0.unwrap(),
            FetchOutcome::Stopped
        );
        discard_partial(&device, &app(), "gone").unwrap();
        assert_eq!(
            partial_len(&device, &app(), "gone", &meta.version).unwrap(),
            0
        );
        discard_partial(&device, &app(), "never-fetched").unwrap();
        cloud
            .delete(BUNDLE, "gone", &crate::cloudsync::DeleteCondition::Always)
            .unwrap();
        let e = fetch(&device, &cloud, &meta, None).0.unwrap_err();
        assert_eq!(e.code(), ErrorCode::NoSuchFile);
        assert!(!local(&device, "gone").exists());
    }

    #[test]
    fn a_guard_that_fails_keeps_the_local_edit_and_the_complete_partial() {
        let w = World::new();
        let device = w.device("a");
        let cloud = w.cloud();
        let dir = app().local_dir(&device);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join("g"), b"local edit").unwrap();
        let meta = put(&cloud, "g", &pattern(100_000, 10));
        let stop = AtomicBool::new(false);
        let mut progress = |_, _| {};
        let mut ctl = FetchControl {
            stop: &stop,
            progress: &mut progress,
        };
        let r = fetch_object_guarded(&device, &app(), &cloud, &meta, PlaceGuard::Absent, &mut ctl);
        assert_eq!(r.unwrap(), GuardedOutcome::LocalChanged);
        assert_eq!(fs::read(dir.join("g")).unwrap(), b"local edit");
        assert_eq!(
            partial_len(&device, &app(), "g", &meta.version).unwrap(),
            meta.size
        );
        // Placing it later needs no download.
        let rec = Recording::new(&cloud);
        assert!(matches!(
            fetch(&device, &rec, &meta, None).0.unwrap(),
            FetchOutcome::Done(_)
        ));
        assert!(rec.get_offsets.lock().unwrap().is_empty());
        assert_eq!(fs::read(dir.join("g")).unwrap(), pattern(100_000, 10));
    }
}
