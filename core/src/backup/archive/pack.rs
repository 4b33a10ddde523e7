//! Packing small files into tar parts, OpenHarmony style: `part.1.tar`, `part.2.tar`, … each
//! closed at 100 MiB of content or 6000 entries; entry names are absolute sandbox paths
//! (directories end with `/`), ustar headers, and a GNU `L` entry before names of 100 bytes or
//! more (reference §8). Files are read beneath the sandbox without following symlinks.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::fd::AsRawFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};

use tar::{EntryType, Header};

use super::beneath::Beneath;
use crate::backup::scan::{EntryKind, ScanEntry};
use crate::error::{Error, ErrorCode, Result};

/// A file is "big" (sent on its own fd, not packed) when its size is over this.
pub const BIG_FILE_THRESHOLD: u64 = 2 * 1024 * 1024;
/// A part is closed once its content reaches this many bytes.
pub const PART_MAX_BYTES: u64 = 100 * 1024 * 1024;
/// A part is closed once it holds this many entries.
pub const PART_MAX_FILES: usize = 6000;

/// Per-file failures: (sandbox path, error).
pub type FileErrors = Vec<(String, Error)>;

const BLOCK: u64 = 512;
/// Names this long or longer go into a GNU `L` entry (as OpenHarmony writes them).
const NAME_FIELD: usize = 100;
const ZEROS: [u8; 1024] = [0; 1024];

/// A closed tar part, ready to be sent.
#[derive(Debug)]
pub struct FinishedPart {
    /// `part.N.tar`.
    pub name: String,
    /// An anonymous temp file holding the tar, positioned at offset 0.
    pub file: File,
    /// The tar's size in bytes.
    pub size: u64,
    /// What the part holds, in order (size, mode and times as read while packing).
    pub entries: Vec<ScanEntry>,
}

/// Packs small files and empty directories of one sandbox into tar parts.
#[derive(Debug)]
pub struct PartPacker {
    sandbox: PathBuf,
    temp_dir: PathBuf,
    /// The sandbox, opened on first use.
    source: Option<Beneath>,
    part: Option<OpenPart>,
    next_index: u32,
    errors: FileErrors,
    /// Reused buffer for headers.
    scratch: Vec<u8>,
}

/// The part being written.
#[derive(Debug)]
struct OpenPart {
    name: String,
    file: File,
    /// Bytes written so far (the file offset).
    pos: u64,
    /// File content bytes so far (what the 100 MiB limit counts).
    content: u64,
    entries: Vec<ScanEntry>,
}

/// Why one entry did not make it into the part.
enum Failure {
    /// Gone or unreadable (EACCES): skipped silently, as OpenHarmony does.
    Skip,
    /// A per-file problem: recorded, packing goes on.
    Entry(Error),
    /// The part itself failed (e.g. no space for the temp file): packing stops.
    Fatal(Error),
}

/// The header fields of one entry.
struct Stat {
    kind: EntryType,
    size: u64,
    mode: u32,
    uid: u64,
    gid: u64,
    mtime: i64,
}

impl PartPacker {
    /// A packer reading from `sandbox` and keeping its tar parts as anonymous files in `temp_dir`.
    pub fn new(sandbox: &Path, temp_dir: &Path) -> PartPacker {
        PartPacker {
            sandbox: sandbox.to_path_buf(),
            temp_dir: temp_dir.to_path_buf(),
            source: None,
            part: None,
            next_index: 1,
            errors: Vec::new(),
            scratch: Vec::with_capacity(3 * BLOCK as usize),
        }
    }

    /// Appends a small file or empty directory; returns the current part when it is full.
    /// A file that vanished or is unreadable (EACCES) is skipped; other per-file failures go to
    /// [`errors`](Self::errors) and packing continues. `Err` means the sandbox could not be
    /// opened or the part itself failed (e.g. no space for it): stop packing.
    pub fn add(&mut self, entry: &ScanEntry) -> Result<Option<FinishedPart>> {
        if self.source.is_none() {
            self.source = Some(Beneath::open(&self.sandbox)?);
        }
        if self.part.is_none() {
            let file = tempfile::tempfile_in(&self.temp_dir).map_err(|e| {
                Error::io(
                    &e,
                    format!("cannot create a tar part in {}", self.temp_dir.display()),
                )
            })?;
            self.part = Some(OpenPart {
                name: format!("part.{}.tar", self.next_index),
                file,
                pos: 0,
                content: 0,
                entries: Vec::new(),
            });
            self.next_index += 1;
        }
        let (Some(source), Some(part)) = (self.source.as_ref(), self.part.as_mut()) else {
            return Ok(None); // both were just set
        };
        let outcome = match entry.kind {
            EntryKind::File => append_file(source, part, &mut self.scratch, entry),
            EntryKind::EmptyDir => append_dir(source, part, &mut self.scratch, entry),
        };
        match outcome {
            Ok(()) | Err(Failure::Skip) => {}
            Err(Failure::Entry(e)) => self.errors.push((sandbox_path(&entry.rel), e)),
            Err(Failure::Fatal(e)) => return Err(e),
        }
        if part.content >= PART_MAX_BYTES || part.entries.len() >= PART_MAX_FILES {
            if let Some(part) = self.part.take() {
                return close(part).map(Some);
            }
        }
        Ok(None)
    }

    /// The per-file errors so far: (sandbox path, error).
    pub fn errors(&self) -> &[(String, Error)] {
        &self.errors
    }

    /// Closes the last part (none when it holds nothing) and hands back the per-file errors.
    pub fn finish(mut self) -> Result<(Option<FinishedPart>, FileErrors)> {
        let last = match self.part.take() {
            Some(part) if !part.entries.is_empty() => Some(close(part)?),
            _ => None,
        };
        Ok((last, self.errors))
    }
}

/// The name a big file is sent under: a stable 16-hex-digit FNV-1a 64 hash of its sandbox path,
/// plus `.` and the original extension when it has a plain one (letters, digits, `_`, `-`; at
/// most 32 bytes), e.g. `69fcc10b3ed61564.mp4`. `rel` may start with `/` or not.
pub fn big_file_name(rel: &Path) -> String {
    let mut name = format!("{:016x}", fnv1a64(&abs_name(rel, false)));
    if let Some(ext) = rel.extension().map(|e| e.as_bytes()) {
        let plain = |b: &u8| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'-';
        if !ext.is_empty() && ext.len() <= 32 && ext.iter().all(plain) {
            name.push('.');
            name.push_str(&String::from_utf8_lossy(ext));
        }
    }
    name
}

/// FNV-1a, 64 bit: tiny, stable across runs and platforms (std's hasher is randomised).
fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in bytes {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// `/` + `rel` without leading slashes, plus a trailing `/` for directories.
fn abs_name(rel: &Path, dir: bool) -> Vec<u8> {
    let bytes = rel.as_os_str().as_bytes();
    let start = bytes.iter().position(|b| *b != b'/').unwrap_or(bytes.len());
    let mut v = Vec::with_capacity(bytes.len() + 2);
    v.push(b'/');
    v.extend_from_slice(&bytes[start..]);
    if dir && v.last() != Some(&b'/') {
        v.push(b'/');
    }
    v
}

fn sandbox_path(rel: &Path) -> String {
    String::from_utf8_lossy(&abs_name(rel, false)).into_owned()
}

fn append_file(
    source: &Beneath,
    part: &mut OpenPart,
    scratch: &mut Vec<u8>,
    entry: &ScanEntry,
) -> std::result::Result<(), Failure> {
    // The fstat made while opening: the size at open time, not scan time, so the header matches
    // what is written.
    let (file, st) = source.open_file_stat(&entry.rel).map_err(open_failure)?;
    let shown = sandbox_path(&entry.rel);
    let size = st.st_size as u64;
    let stat = Stat {
        kind: EntryType::Regular,
        size,
        mode: st.st_mode & 0o7777,
        uid: u64::from(st.st_uid),
        gid: u64::from(st.st_gid),
        mtime: st.st_mtime,
    };
    if size <= INLINE_MAX {
        return append_small(part, scratch, entry, &file, &shown, stat, &st);
    }
    let start = part.pos;
    let main_header = start + write_headers(part, scratch, &abs_name(&entry.rel, false), &stat)?;

    let copied = match copy_range(&file, &part.file, size) {
        Ok(n) => n,
        Err(e) if is_sink_error(&e) => {
            return Err(Failure::Fatal(Error::io(
                &e,
                format!("cannot write {}", part.name),
            )))
        }
        Err(e) => {
            rollback(part, start)?;
            return Err(Failure::Entry(Error::io(
                &e,
                format!("cannot read {shown}"),
            )));
        }
    };
    if copied < size {
        // The file shrank while it was read: the header says what was actually written.
        fix_size(part, scratch, main_header, copied)?;
    }
    part.pos = main_header + BLOCK + copied;
    pad(part, copied)?;
    part.content += copied;
    part.entries.push(ScanEntry {
        rel: entry.rel.clone(),
        kind: EntryKind::File,
        size: copied,
        mode: st.st_mode,
        atime: (st.st_atime, st.st_atime_nsec),
        mtime: (st.st_mtime, st.st_mtime_nsec),
    });
    Ok(())
}

/// Files up to this size are read into memory and written with their header and padding in one
/// write: for small files that beats three syscalls and the kernel's splice machinery.
const INLINE_MAX: u64 = 256 * 1024;

/// Appends a small file as one write of header, data and padding.
fn append_small(
    part: &mut OpenPart,
    scratch: &mut Vec<u8>,
    entry: &ScanEntry,
    file: &File,
    shown: &str,
    mut stat: Stat,
    st: &libc::stat,
) -> std::result::Result<(), Failure> {
    scratch.clear();
    let header_at = build_headers(scratch, &abs_name(&entry.rel, false), &stat) as usize;
    let data_at = scratch.len();
    scratch.resize(data_at + stat.size as usize, 0);
    let mut got = 0usize;
    while got < stat.size as usize {
        match file.read_at(&mut scratch[data_at + got..], got as u64) {
            Ok(0) => break, // it shrank since the open
            Ok(n) => got += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => {
                return Err(Failure::Entry(Error::io(
                    &e,
                    format!("cannot read {shown}"),
                )))
            }
        }
    }
    if got as u64 != stat.size {
        // The header says what is actually stored.
        stat.size = got as u64;
        scratch.truncate(data_at + got);
        let mut header = Header::new_old();
        header
            .as_mut_bytes()
            .copy_from_slice(&scratch[header_at..header_at + BLOCK as usize]);
        header.set_size(stat.size);
        header.set_cksum();
        scratch[header_at..header_at + BLOCK as usize].copy_from_slice(header.as_bytes());
    }
    let padding = ((BLOCK - got as u64 % BLOCK) % BLOCK) as usize;
    scratch.resize(scratch.len() + padding, 0);
    (&part.file)
        .write_all(scratch)
        .map_err(|e| Failure::Fatal(Error::io(&e, format!("cannot write {}", part.name))))?;
    part.pos += scratch.len() as u64;
    part.content += got as u64;
    part.entries.push(ScanEntry {
        rel: entry.rel.clone(),
        kind: EntryKind::File,
        size: got as u64,
        mode: st.st_mode,
        atime: (st.st_atime, st.st_atime_nsec),
        mtime: (st.st_mtime, st.st_mtime_nsec),
    });
    Ok(())
}

/// Copies `len` bytes from the start of `from` to the current end of `to` in the kernel
/// (copy_file_range), falling back to read/write where the kernel cannot.
fn copy_range(from: &File, to: &File, len: u64) -> io::Result<u64> {
    let mut done = 0u64;
    let mut off_in: libc::loff_t = 0;
    while done < len {
        let want = (len - done).min(1 << 30) as usize;
        // SAFETY: both fds are open for the duration of the call; NULL out-offset = the file position.
        let n = unsafe {
            libc::copy_file_range(
                from.as_raw_fd(),
                &mut off_in,
                to.as_raw_fd(),
                std::ptr::null_mut(),
                want,
                0,
            )
        };
        match n {
            0 => break, // the file shrank
            n if n > 0 => done += n as u64,
            _ => {
                let e = io::Error::last_os_error();
                match e.raw_os_error() {
                    Some(libc::EINTR) => continue,
                    Some(libc::EXDEV)
                    | Some(libc::EINVAL)
                    | Some(libc::ENOSYS)
                    | Some(libc::EOPNOTSUPP) => {
                        let mut src = from;
                        src.seek(io::SeekFrom::Start(off_in as u64))?;
                        return Ok(done + io::copy(&mut src.take(len - done), &mut &*to)?);
                    }
                    _ => return Err(e),
                }
            }
        }
    }
    Ok(done)
}

fn append_dir(
    source: &Beneath,
    part: &mut OpenPart,
    scratch: &mut Vec<u8>,
    entry: &ScanEntry,
) -> std::result::Result<(), Failure> {
    let dir = File::from(source.open_dir(&entry.rel).map_err(open_failure)?);
    let meta = dir
        .metadata()
        .map_err(|e| Failure::Entry(Error::io(&e, sandbox_path(&entry.rel))))?;
    let stat = Stat {
        kind: EntryType::Directory,
        size: 0,
        mode: meta.mode() & 0o7777,
        uid: u64::from(meta.uid()),
        gid: u64::from(meta.gid()),
        mtime: meta.mtime(),
    };
    write_headers(part, scratch, &abs_name(&entry.rel, true), &stat)?;
    part.entries.push(ScanEntry {
        rel: entry.rel.clone(),
        kind: EntryKind::EmptyDir,
        size: 0,
        mode: meta.mode(),
        atime: (meta.atime(), meta.atime_nsec()),
        mtime: (meta.mtime(), meta.mtime_nsec()),
    });
    Ok(())
}

/// Writes the header of `name` (after a GNU `L` entry when the name is long) at the part's end.
/// Returns the offset of the main header from where the write started.
fn write_headers(
    part: &mut OpenPart,
    scratch: &mut Vec<u8>,
    name: &[u8],
    stat: &Stat,
) -> std::result::Result<u64, Failure> {
    scratch.clear();
    let offset = build_headers(scratch, name, stat);
    (&part.file)
        .write_all(scratch)
        .map_err(|e| Failure::Fatal(Error::io(&e, format!("cannot write {}", part.name))))?;
    part.pos += scratch.len() as u64;
    Ok(offset)
}

/// Appends the header blocks of `name` (a GNU `L` entry first when the name is long) to
/// `scratch`; returns the offset of the main header in it.
fn build_headers(scratch: &mut Vec<u8>, name: &[u8], stat: &Stat) -> u64 {
    let mut header = Header::new_ustar();
    if name.len() >= NAME_FIELD {
        let mut long = Header::new_gnu();
        long.as_old_mut().name[..13].copy_from_slice(b"././@LongLink");
        long.set_mode(0o644);
        long.set_uid(0);
        long.set_gid(0);
        long.set_mtime(0);
        long.set_size(name.len() as u64 + 1); // the name and its NUL
        long.set_entry_type(EntryType::GNULongName);
        long.set_cksum();
        scratch.extend_from_slice(long.as_bytes());
        scratch.extend_from_slice(name);
        let used = name.len() as u64 + 1;
        let padded = used.div_ceil(BLOCK) * BLOCK;
        scratch.resize(scratch.len() + (padded - used + 1) as usize, 0);
    }
    let shown = name.len().min(NAME_FIELD);
    header.as_old_mut().name[..shown].copy_from_slice(&name[..shown]);
    header.set_mode(stat.mode);
    header.set_uid(stat.uid);
    header.set_gid(stat.gid);
    header.set_size(stat.size);
    header.set_mtime(u64::try_from(stat.mtime).unwrap_or(0)); // ustar has no negative times
    header.set_entry_type(stat.kind);
    header.set_cksum();
    let offset = scratch.len() as u64;
    scratch.extend_from_slice(header.as_bytes());
    offset
}

/// Rewrites the size (and checksum) of the header at `at` in place.
fn fix_size(
    part: &OpenPart,
    scratch: &[u8],
    at: u64,
    size: u64,
) -> std::result::Result<(), Failure> {
    let fatal = |e: io::Error| Failure::Fatal(Error::io(&e, format!("cannot write {}", part.name)));
    let start = scratch.len() - BLOCK as usize; // the main header is the last block written
    let mut header = Header::new_old();
    header
        .as_mut_bytes()
        .copy_from_slice(&scratch[start..start + BLOCK as usize]);
    header.set_size(size);
    header.set_cksum();
    part.file.write_all_at(header.as_bytes(), at).map_err(fatal)
}

/// Zero-pads the data just written to a whole block.
fn pad(part: &mut OpenPart, len: u64) -> std::result::Result<(), Failure> {
    let n = (BLOCK - len % BLOCK) % BLOCK;
    if n > 0 {
        (&part.file)
            .write_all(&ZEROS[..n as usize])
            .map_err(|e| Failure::Fatal(Error::io(&e, format!("cannot write {}", part.name))))?;
        part.pos += n;
    }
    Ok(())
}

/// Cuts the part back to `start`, dropping an entry whose data could not be read.
fn rollback(part: &mut OpenPart, start: u64) -> std::result::Result<(), Failure> {
    let fatal =
        |e: io::Error| Failure::Fatal(Error::io(&e, format!("cannot rewind {}", part.name)));
    part.file.set_len(start).map_err(fatal)?;
    (&part.file).seek(SeekFrom::Start(start)).map_err(fatal)?;
    part.pos = start;
    Ok(())
}

/// Ends the tar (two zero blocks) and rewinds it.
fn close(mut part: OpenPart) -> Result<FinishedPart> {
    let what = format!("cannot finish {}", part.name);
    part.file
        .write_all(&ZEROS)
        .and_then(|()| part.file.seek(SeekFrom::Start(0)))
        .map_err(|e| Error::io(&e, &what))?;
    Ok(FinishedPart {
        name: part.name,
        file: part.file,
        size: part.pos + ZEROS.len() as u64,
        entries: part.entries,
    })
}

fn open_failure(e: Error) -> Failure {
    match e.code() {
        ErrorCode::NoSuchFile | ErrorCode::AccessDenied => Failure::Skip,
        _ => Failure::Entry(e),
    }
}

/// Errors that concern the part being written rather than the file being read.
fn is_sink_error(e: &io::Error) -> bool {
    matches!(
        e.raw_os_error(),
        Some(libc::ENOSPC) | Some(libc::EDQUOT) | Some(libc::EFBIG) | Some(libc::EROFS)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;
    use std::fs;
    use std::os::unix::fs::{symlink, PermissionsExt};
    use std::process::{Command, Stdio};

    const FILES: &str = "data/storage/el2/base/files";

    fn entry_of(sandbox: &Path, rel: &str) -> ScanEntry {
        let m = fs::symlink_metadata(sandbox.join(rel)).unwrap();
        ScanEntry {
            rel: PathBuf::from(rel),
            kind: if m.is_dir() {
                EntryKind::EmptyDir
            } else {
                EntryKind::File
            },
            size: if m.is_dir() { 0 } else { m.len() },
            mode: m.mode(),
            atime: (m.atime(), m.atime_nsec()),
            mtime: (m.mtime(), m.mtime_nsec()),
        }
    }

    fn put(sandbox: &Path, rel: &str, data: &[u8]) -> ScanEntry {
        let p = sandbox.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, data).unwrap();
        entry_of(sandbox, rel)
    }

    fn pack_all(sandbox: &Path, entries: &[ScanEntry]) -> (Vec<FinishedPart>, FileErrors) {
        let temp = tempfile::tempdir().unwrap();
        let mut packer = PartPacker::new(sandbox, temp.path());
        let mut parts = Vec::new();
        for e in entries {
            parts.extend(packer.add(e).unwrap());
        }
        let (last, errors) = packer.finish().unwrap();
        parts.extend(last);
        (parts, errors)
    }

    /// (name, type, size, content) of every entry, read with the tar crate.
    fn listing(part: &mut FinishedPart) -> Vec<(String, EntryType, u64, Vec<u8>)> {
        part.file.seek(SeekFrom::Start(0)).unwrap();
        let mut ar = tar::Archive::new(&part.file);
        let mut out = Vec::new();
        for e in ar.entries().unwrap() {
            let mut e = e.unwrap();
            let name = String::from_utf8(e.path_bytes().into_owned()).unwrap();
            let kind = e.header().entry_type();
            let size = e.size();
            let mut data = Vec::new();
            if size <= 4096 {
                e.read_to_end(&mut data).unwrap();
            }
            out.push((name, kind, size, data));
        }
        part.file.seek(SeekFrom::Start(0)).unwrap();
        out
    }

    fn gnu_tar_list(part: &FinishedPart, verbose: bool) -> Vec<String> {
        let f = part.file.try_clone().unwrap();
        let mut f2 = f.try_clone().unwrap();
        f2.seek(SeekFrom::Start(0)).unwrap();
        let out = Command::new("tar")
            .arg(if verbose { "-tvf" } else { "-tf" })
            .arg("-")
            .stdin(Stdio::from(f))
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        f2.seek(SeekFrom::Start(0)).unwrap();
        String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect()
    }

    #[test]
    fn six_thousand_and_ten_files_make_two_parts() {
        let t = tempfile::tempdir().unwrap();
        let entries: Vec<ScanEntry> = (0..6010)
            .map(|i| put(t.path(), &format!("{FILES}/d{}/f{i}", i / 1000), b"x"))
            .collect();
        let (mut parts, errors) = pack_all(t.path(), &entries);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].name, "part.1.tar");
        assert_eq!(parts[1].name, "part.2.tar");
        assert_eq!(parts[0].entries.len(), 6000);
        assert_eq!(parts[1].entries.len(), 10);
        assert_eq!(parts[0].entries[..], entries[..6000]);
        let second = listing(&mut parts[1]);
        assert_eq!(second.len(), 10);
        assert_eq!(second[0].0, format!("/{FILES}/d6/f6000"));
        assert_eq!(second[0].3, b"x");
        assert_eq!(listing(&mut parts[0]).len(), 6000);
        // Each entry is a header plus one data block; the tar ends with two zero blocks.
        assert_eq!(parts[1].size, 10 * 1024 + 1024);
        assert_eq!(parts[1].file.metadata().unwrap().len(), parts[1].size);
    }

    #[test]
    fn content_over_100_mib_makes_two_parts() {
        let t = tempfile::tempdir().unwrap();
        let mib = 1024 * 1024;
        let entries: Vec<ScanEntry> = (0..120)
            .map(|i| {
                let rel = format!("{FILES}/m{i:03}.bin");
                let p = t.path().join(&rel);
                fs::create_dir_all(p.parent().unwrap()).unwrap();
                let f = File::create(&p).unwrap();
                f.set_len(mib).unwrap(); // sparse: fast to make
                f.write_all_at(&[i as u8], 0).unwrap();
                entry_of(t.path(), &rel)
            })
            .collect();
        let (mut parts, errors) = pack_all(t.path(), &entries);
        assert!(errors.is_empty());
        assert_eq!(parts.len(), 2);
        assert_eq!(parts[0].entries.len(), 100); // 100 MiB reached
        assert_eq!(parts[1].entries.len(), 20);
        assert_eq!(parts[0].size, 100 * (mib + 512) + 1024);
        let list = listing(&mut parts[1]);
        assert_eq!(list[0].0, format!("/{FILES}/m100.bin"));
        assert_eq!(list[0].2, mib);
        // The data really is the file's: first byte is the index.
        let mut ar = tar::Archive::new(&parts[1].file);
        let mut first = ar.entries().unwrap().next().unwrap().unwrap();
        let mut b = [0u8; 2];
        first.read_exact(&mut b).unwrap();
        assert_eq!(b, [100, 0]);
    }

    #[test]
    fn gnu_tar_lists_long_names_exactly() {
        let t = tempfile::tempdir().unwrap();
        let long = format!("{}.txt", "n".repeat(146)); // 150 chars
        let nested = format!(
            "{FILES}/{}/{}/{}",
            "a".repeat(90),
            "b".repeat(90),
            "c".repeat(300 - FILES.len() - 1 - 2 * 91)
        );
        assert_eq!(nested.len(), 300);
        let rels = [
            format!("{FILES}/short.txt"),
            format!("{FILES}/{long}"),
            nested,
        ];
        let entries: Vec<ScanEntry> = rels.iter().map(|r| put(t.path(), r, b"data")).collect();
        fs::create_dir_all(t.path().join(FILES).join("e".repeat(120))).unwrap();
        let dir_rel = format!("{FILES}/{}", "e".repeat(120));
        let mut all = entries.clone();
        all.push(entry_of(t.path(), &dir_rel));
        let (mut parts, _) = pack_all(t.path(), &all);
        let mut expected: Vec<String> = rels.iter().map(|r| format!("/{r}")).collect();
        expected.push(format!("/{dir_rel}/"));
        assert_eq!(gnu_tar_list(&parts[0], false), expected);
        let crate_names: Vec<String> = listing(&mut parts[0]).into_iter().map(|e| e.0).collect();
        assert_eq!(crate_names, expected);
        // bsdtar, when installed, must agree (a parser differential check, reference R2).
        if Command::new("bsdtar").arg("--version").output().is_ok() {
            let f = parts[0].file.try_clone().unwrap();
            let out = Command::new("bsdtar")
                .args(["-tf", "-"])
                .stdin(Stdio::from(f))
                .output();
            let out = out.unwrap();
            let names: Vec<String> = String::from_utf8_lossy(&out.stdout)
                .lines()
                .map(str::to_string)
                .collect();
            assert_eq!(names, expected);
        }
    }

    #[test]
    fn headers_are_ustar_with_absolute_names_modes_and_times() {
        let t = tempfile::tempdir().unwrap();
        let e = put(t.path(), &format!("{FILES}/a.txt"), b"hello");
        let p = t.path().join(&e.rel);
        fs::set_permissions(&p, fs::Permissions::from_mode(0o4751)).unwrap();
        let times = [
            libc::timespec {
                tv_sec: 1_600_000_000,
                tv_nsec: 0,
            },
            libc::timespec {
                tv_sec: 1_650_000_000,
                tv_nsec: 0,
            },
        ];
        let c = std::ffi::CString::new(p.as_os_str().as_bytes()).unwrap();
        // SAFETY: valid path and two timespecs.
        assert_eq!(
            unsafe { libc::utimensat(libc::AT_FDCWD, c.as_ptr(), times.as_ptr(), 0) },
            0
        );
        let e = entry_of(t.path(), &format!("{FILES}/a.txt"));
        let (mut parts, _) = pack_all(t.path(), &[e]);
        let mut raw = vec![0u8; 512];
        parts[0].file.read_exact(&mut raw).unwrap(); // the file starts at offset 0
        assert_eq!(&raw[257..263], b"ustar\0");
        assert_eq!(&raw[263..265], b"00");
        assert_eq!(raw[156], b'0');
        let name = format!("/{FILES}/a.txt");
        assert_eq!(&raw[..name.len()], name.as_bytes());
        let h = Header::from_byte_slice(&raw);
        assert_eq!(h.mode().unwrap(), 0o4751);
        assert_eq!(h.mtime().unwrap(), 1_650_000_000);
        assert_eq!(h.size().unwrap(), 5);
        assert_eq!(h.uid().unwrap(), u64::from(fs::metadata(&p).unwrap().uid()));
        let verbose = gnu_tar_list(&parts[0], true);
        assert!(verbose[0].starts_with("-rwsr-x--x"), "{verbose:?}");
        assert!(verbose[0].ends_with(&name));
        assert_eq!(parts[0].entries[0].mtime.0, 1_650_000_000);
    }

    #[test]
    fn an_empty_dir_is_a_dir_entry_with_a_trailing_slash() {
        let t = tempfile::tempdir().unwrap();
        let rel = format!("{FILES}/empty");
        fs::create_dir_all(t.path().join(&rel)).unwrap();
        fs::set_permissions(t.path().join(&rel), fs::Permissions::from_mode(0o750)).unwrap();
        let (mut parts, errors) = pack_all(t.path(), &[entry_of(t.path(), &rel)]);
        assert!(errors.is_empty());
        let list = listing(&mut parts[0]);
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].0, format!("/{rel}/"));
        assert_eq!(list[0].1, EntryType::Directory);
        assert_eq!(list[0].2, 0);
        let mut ar = tar::Archive::new(&parts[0].file);
        let e = ar.entries().unwrap().next().unwrap().unwrap();
        assert_eq!(e.header().mode().unwrap(), 0o750);
        assert_eq!(parts[0].entries[0].kind, EntryKind::EmptyDir);
    }

    #[test]
    fn vanished_and_special_files_are_skipped_or_recorded() {
        let t = tempfile::tempdir().unwrap();
        let good = put(t.path(), &format!("{FILES}/good"), b"good");
        let gone = put(t.path(), &format!("{FILES}/gone"), b"gone");
        fs::remove_file(t.path().join(&gone.rel)).unwrap();
        let swapped = put(t.path(), &format!("{FILES}/swapped"), b"was a file");
        fs::remove_file(t.path().join(&swapped.rel)).unwrap();
        symlink("/etc/passwd", t.path().join(&swapped.rel)).unwrap();
        let fifo = put(t.path(), &format!("{FILES}/fifo"), b"");
        fs::remove_file(t.path().join(&fifo.rel)).unwrap();
        let c = std::ffi::CString::new(t.path().join(&fifo.rel).as_os_str().as_bytes()).unwrap();
        // SAFETY: a valid path.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
        let outside = tempfile::tempdir().unwrap();
        fs::write(outside.path().join("secret"), b"secret").unwrap();
        symlink(outside.path(), t.path().join(FILES).join("linkdir")).unwrap();
        let through = ScanEntry {
            rel: PathBuf::from(format!("{FILES}/linkdir/secret")),
            ..good.clone()
        };
        let last = put(t.path(), &format!("{FILES}/zlast"), b"last");

        let (mut parts, errors) = pack_all(
            t.path(),
            &[good.clone(), gone, swapped, fifo, through, last.clone()],
        );
        let names: Vec<&str> = errors.iter().map(|e| e.0.as_str()).collect();
        assert_eq!(
            names,
            [
                format!("/{FILES}/swapped"),
                format!("/{FILES}/fifo"),
                format!("/{FILES}/linkdir/secret")
            ]
        );
        assert_eq!(errors[0].1.code(), ErrorCode::TooManySymlinks);
        let list = listing(&mut parts[0]);
        let got: BTreeMap<String, Vec<u8>> = list.into_iter().map(|e| (e.0, e.3)).collect();
        assert_eq!(got.len(), 2);
        assert_eq!(got[&format!("/{FILES}/good")], b"good");
        assert_eq!(got[&format!("/{FILES}/zlast")], b"last");

        // EACCES is skipped silently (only observable when not root).
        // SAFETY: a plain getter.
        if unsafe { libc::geteuid() } != 0 {
            let locked = put(t.path(), &format!("{FILES}/locked"), b"no");
            fs::set_permissions(
                t.path().join(&locked.rel),
                fs::Permissions::from_mode(0o000),
            )
            .unwrap();
            let (parts, errors) = pack_all(t.path(), &[locked]);
            assert!(parts.is_empty() && errors.is_empty());
        }
    }

    #[test]
    fn nothing_packed_means_no_part() {
        let t = tempfile::tempdir().unwrap();
        let (parts, errors) = pack_all(t.path(), &[]);
        assert!(parts.is_empty() && errors.is_empty());
        let gone = put(t.path(), "x", b"x");
        fs::remove_file(t.path().join("x")).unwrap();
        let (parts, errors) = pack_all(t.path(), &[gone]);
        assert!(parts.is_empty() && errors.is_empty());
    }

    #[test]
    fn big_file_names_are_stable_hashes_with_the_extension() {
        assert_eq!(
            big_file_name(Path::new("data/storage/el2/base/files/movie.mp4")),
            "69fcc10b3ed61564.mp4"
        );
        assert_eq!(
            big_file_name(Path::new("/data/storage/el2/base/files/movie.mp4")),
            "69fcc10b3ed61564.mp4"
        );
        assert_eq!(fnv1a64(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a64(b"a"), 0xaf63_dc4c_8601_ec8c);
        let plain = big_file_name(Path::new("files/noext"));
        assert_eq!(plain.len(), 16);
        assert!(plain
            .bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert!(big_file_name(Path::new("f/a.tar.gz")).ends_with(".gz"));
        assert_eq!(big_file_name(Path::new("f/.bashrc")).len(), 16);
        assert_eq!(big_file_name(Path::new("f/x.we ird")).len(), 16);
        assert_eq!(big_file_name(Path::new("f/x.ünï")).len(), 16);
        assert_ne!(
            big_file_name(Path::new("f/a.mp4")),
            big_file_name(Path::new("f/b.mp4"))
        );
    }
}
