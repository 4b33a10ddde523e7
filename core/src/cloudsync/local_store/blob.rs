//! Object content: uploads stream into a temp file (hashed on the way), which is renamed to an
//! immutable blob named by its version once the put commits. A blob is never rewritten, so a
//! reader holding one open always reads one whole version.
//!
//! A temp file is `flock`ed by its writer for as long as it is written, which is how a sweeper
//! tells a crashed upload's leftover from a live one; the age threshold only covers the instant
//! between creating the file and locking it.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;
use std::time::{Duration, SystemTime};

use sha2::{Digest, Sha256};

use super::flock::{lock, FileLock};

/// Bytes moved per read while streaming content in or out.
pub const COPY_BUFFER_SIZE: usize = 256 * 1024;

thread_local! {
    /// Each thread's copy buffer, allocated (and zeroed) once: a sync uploads thousands of small
    /// files, and a fresh zeroed buffer per file cost more than copying them.
    static COPY_BUFFER: std::cell::RefCell<Vec<u8>> = const { std::cell::RefCell::new(Vec::new()) };
}

/// Runs `f` with this thread's [`COPY_BUFFER_SIZE`] buffer (a fresh one if `f` re-enters).
pub fn with_copy_buffer<T>(f: impl FnOnce(&mut [u8]) -> T) -> T {
    COPY_BUFFER.with(|cell| match cell.try_borrow_mut() {
        Ok(mut buf) => {
            if buf.len() < COPY_BUFFER_SIZE {
                buf.resize(COPY_BUFFER_SIZE, 0);
            }
            f(&mut buf[..COPY_BUFFER_SIZE])
        }
        Err(_) => f(&mut vec![0u8; COPY_BUFFER_SIZE]),
    })
}

/// A temp file older than this whose writer holds no lock is a crash leftover.
pub const STALE_TEMP_AGE: Duration = Duration::from_secs(60);

/// The suffix of temp files.
const TEMP_SUFFIX: &str = ".part";

/// Why a fill failed: the caller's stream, or the cloud folder.
#[derive(Debug)]
pub enum FillError {
    /// Reading the data to upload failed.
    Source(io::Error),
    /// Writing into the cloud folder failed.
    Store(io::Error),
}

/// An upload in progress; removed on drop unless committed.
#[derive(Debug)]
pub struct TempBlob {
    path: PathBuf,
    file: File,
    committed: bool,
}

impl TempBlob {
    /// Creates and locks a fresh temp file in `dir` (created if missing).
    pub fn create(dir: &Path) -> io::Result<TempBlob> {
        let mut made_dir = false;
        loop {
            let path = dir.join(format!(
                "{}-{:016x}{TEMP_SUFFIX}",
                std::process::id(),
                random_u64()
            ));
            match OpenOptions::new()
                .read(true)
                .write(true)
                .create_new(true)
                .mode(0o600)
                .open(&path)
            {
                Ok(file) => {
                    let blob = TempBlob {
                        path,
                        file,
                        committed: false,
                    };
                    lock(&blob.file, libc::LOCK_EX | libc::LOCK_NB)?;
                    return Ok(blob);
                }
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => continue,
                Err(e) if e.kind() == io::ErrorKind::NotFound && !made_dir => {
                    fs::create_dir_all(dir)?;
                    made_dir = true;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// Copies all of `data` into the file; returns its size and upper-case hex SHA-256.
    pub fn fill(&mut self, data: &mut dyn Read, fsync: bool) -> Result<(u64, String), FillError> {
        let mut hasher = Sha256::new();
        let size = with_copy_buffer(|buf| -> Result<u64, FillError> {
            let mut size = 0u64;
            loop {
                let n = match data.read(buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(FillError::Source(e)),
                };
                hasher.update(&buf[..n]);
                self.file.write_all(&buf[..n]).map_err(FillError::Store)?;
                size += n as u64;
            }
            Ok(size)
        })?;
        if fsync {
            self.file.sync_data().map_err(FillError::Store)?;
        }
        Ok((size, upper_hex(&hasher.finalize())))
    }

    /// Renames the file to `dest` (its folder created if missing); `fsync` makes the rename durable.
    pub fn commit(mut self, dest: &Path, fsync: bool) -> io::Result<()> {
        let parent = dest.parent().unwrap_or(Path::new("."));
        match fs::rename(&self.path, dest) {
            Err(e) if e.kind() == io::ErrorKind::NotFound => {
                fs::create_dir_all(parent)?;
                fs::rename(&self.path, dest)?;
            }
            other => other?,
        }
        self.committed = true;
        if fsync {
            sync_dir(parent)?;
        }
        Ok(())
    }
}

impl Drop for TempBlob {
    fn drop(&mut self) {
        if !self.committed {
            let _ = fs::remove_file(&self.path);
        }
    }
}

/// Removes temp files in `dir` left by crashed uploads: older than `min_age` and unlocked.
/// Returns how many went.
pub fn sweep_temps(dir: &Path, min_age: Duration) -> usize {
    let Ok(entries) = fs::read_dir(dir) else {
        return 0;
    };
    let cutoff = SystemTime::now()
        .checked_sub(min_age)
        .unwrap_or(SystemTime::UNIX_EPOCH);
    let mut removed = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        let old = entry
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|t| t <= cutoff);
        if !old || !path.to_string_lossy().ends_with(TEMP_SUFFIX) {
            continue;
        }
        let Ok(file) = File::open(&path) else {
            continue;
        };
        if let Ok(Some(_abandoned)) = FileLock::try_on(file) {
            if fs::remove_file(&path).is_ok() {
                removed += 1;
            }
        }
    }
    removed
}

/// `fsync` of a folder, making renames and creations in it durable.
pub fn sync_dir(dir: &Path) -> io::Result<()> {
    File::open(dir)?.sync_all()
}

/// Upper-case hex, as OpenHarmony prints SHA-256.
pub fn upper_hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 15)] as char);
    }
    out
}

/// A fresh 64-bit value: one `getrandom` seed per process, then a counter through the
/// splitmix64 finaliser. Unpredictability is not needed, only uniqueness across processes.
pub fn random_u64() -> u64 {
    static SEED: OnceLock<u64> = OnceLock::new();
    static STEP: AtomicU64 = AtomicU64::new(0);
    let seed = *SEED.get_or_init(seed_u64);
    let mut z = seed.wrapping_add(
        STEP.fetch_add(1, Ordering::Relaxed)
            .wrapping_mul(0x9E37_79B9_7F4A_7C15),
    );
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn seed_u64() -> u64 {
    let mut buf = [0u8; 8];
    // SAFETY: `buf` is valid for 8 bytes of writes.
    let n = unsafe { libc::getrandom(buf.as_mut_ptr().cast(), buf.len(), libc::GRND_NONBLOCK) };
    if n == 8 {
        return u64::from_ne_bytes(buf);
    }
    // No entropy yet: time and pid still differ between the processes sharing a cloud.
    let t = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    t ^ (u64::from(std::process::id()) << 32)
}
