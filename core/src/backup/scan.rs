//! Which files of a sandbox an app's profile selects: `includes` are glob patterns relative to the
//! sandbox root, `excludes` are `fnmatch` patterns with leading-dir semantics on the absolute
//! sandbox path (what the app sees, e.g. `/data/storage/el2/base/files/a.txt`). Only regular files
//! and directories are taken; symlinks and special files are never followed or read.

use std::ffi::{CString, OsStr};
use std::fs;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

use crate::error::{Error, Result};

/// glibc's `FNM_LEADING_DIR` (a GNU extension the libc crate does not export).
const FNM_LEADING_DIR: libc::c_int = 1 << 3;

/// The service's own temp folders inside a sandbox; never part of a backup.
const ALWAYS_EXCLUDED: [&str; 2] = [
    "/data/storage/el1/base/.backup",
    "/data/storage/el2/base/.backup",
];

/// What a scanned entry is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EntryKind {
    /// A regular file.
    File,
    /// A directory with nothing selected beneath it (kept so empty folders survive).
    EmptyDir,
}

/// A selected file or empty directory.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScanEntry {
    /// The path relative to the sandbox root (no leading `/`).
    pub rel: PathBuf,
    /// File or empty directory.
    pub kind: EntryKind,
    /// `st_size` (0 for directories).
    pub size: u64,
    /// `st_mode`.
    pub mode: u32,
    /// `st_atime` seconds and nanoseconds.
    pub atime: (i64, i64),
    /// `st_mtime` seconds and nanoseconds.
    pub mtime: (i64, i64),
}

impl ScanEntry {
    /// The path as the app sees it: `/` + the relative path.
    pub fn sandbox_path(&self) -> PathBuf {
        Path::new("/").join(&self.rel)
    }
}

/// Compiled exclude patterns: literal ones (no wildcard) are matched as path prefixes without a
/// libc call; the others with `fnmatch(FNM_LEADING_DIR)`.
#[derive(Debug)]
pub struct Excludes {
    literals: Vec<Vec<u8>>,
    patterns: Vec<CString>,
}

/// Whether an fnmatch pattern has no special characters (then it matches only itself).
fn is_literal(p: &[u8]) -> bool {
    !p.iter().any(|b| matches!(b, b'*' | b'?' | b'[' | b'\\'))
}

impl Excludes {
    /// Normalises patterns as OpenHarmony does: a trailing `/` gets `*`; a pattern with a `/` that
    /// does not start with one gets a leading `/`. Empty patterns are dropped.
    pub fn new(patterns: &[String]) -> Excludes {
        let mut literals: Vec<Vec<u8>> = ALWAYS_EXCLUDED
            .iter()
            .map(|p| p.as_bytes().to_vec())
            .collect();
        let mut out: Vec<CString> = Vec::new();
        for p in patterns {
            if p.is_empty() {
                continue;
            }
            let mut p = p.clone();
            if p.ends_with('/') {
                p.push('*');
            }
            if p.contains('/') && !p.starts_with('/') {
                p.insert(0, '/');
            }
            if is_literal(p.as_bytes()) {
                literals.push(p.into_bytes());
            } else if let Ok(c) = CString::new(p) {
                out.push(c);
            }
        }
        Excludes {
            literals,
            patterns: out,
        }
    }

    /// Whether the absolute sandbox path `abs` (starting with `/`) is excluded.
    pub fn matches(&self, abs: &[u8]) -> bool {
        // FNM_LEADING_DIR on a literal: the path itself or anything beneath it.
        let leading =
            |l: &[u8]| abs.starts_with(l) && (abs.len() == l.len() || abs[l.len()] == b'/');
        if self.literals.iter().any(|l| leading(l)) {
            return true;
        }
        if self.patterns.is_empty() {
            return false;
        }
        if abs.contains(&0) {
            return true;
        }
        // NUL-terminated on the stack for ordinary lengths; the heap only for very long paths.
        let mut stack = [0u8; 1024];
        let heap;
        let name: &[u8] = if abs.len() < stack.len() {
            stack[..abs.len()].copy_from_slice(abs);
            &stack[..=abs.len()]
        } else {
            heap = [abs, &[0u8][..]].concat();
            &heap
        };
        self.patterns.iter().any(|p| {
            // SAFETY: both are valid NUL-terminated strings that outlive the call.
            unsafe { libc::fnmatch(p.as_ptr(), name.as_ptr().cast(), FNM_LEADING_DIR) == 0 }
        })
    }
}

/// Expands the include patterns to the top-level paths they select, relative to the sandbox,
/// sorted, with paths nested inside another selected path dropped. Matches that resolve through a
/// symlink (inside or outside the sandbox) are dropped: a backup never reads through links.
pub fn expand_includes(sandbox: &Path, includes: &[String]) -> Result<Vec<PathBuf>> {
    let canon_sandbox = match sandbox.canonicalize() {
        Ok(p) => p,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(Error::io(
                &e,
                format!("cannot open sandbox {}", sandbox.display()),
            ))
        }
    };
    let base = glob::Pattern::escape(&canon_sandbox.to_string_lossy());
    let options = glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    };
    let mut found: Vec<PathBuf> = Vec::new();
    for pattern in includes {
        let rel = pattern.trim_start_matches('/').trim_end_matches('/');
        if rel.is_empty() || rel.split('/').any(|c| c == "..") {
            continue;
        }
        let Ok(paths) = glob::glob_with(&format!("{base}/{rel}"), options) else {
            continue;
        };
        for path in paths.flatten() {
            let Ok(rel) = path.strip_prefix(&canon_sandbox) else {
                continue;
            };
            // The canonical path must be the literal one: no symlink anywhere on the way.
            match path.canonicalize() {
                Ok(c)
                    if c == path
                        && fs::symlink_metadata(&path)
                            .map(|m| !m.file_type().is_symlink())
                            .unwrap_or(false) =>
                {
                    found.push(rel.to_path_buf())
                }
                _ => continue,
            }
        }
    }
    found.sort();
    found.dedup();
    let mut top: Vec<PathBuf> = Vec::with_capacity(found.len());
    for p in found {
        if !top.iter().any(|t| p.starts_with(t)) {
            top.push(p);
        }
    }
    Ok(top)
}

/// Walks what `includes`/`excludes` select under `sandbox`, calling `visit` for each regular file
/// and each directory with nothing selected beneath it, in a stable order (includes sorted, then
/// depth-first with names sorted bytewise).
pub fn scan(
    sandbox: &Path,
    includes: &[String],
    excludes: &[String],
    mut visit: impl FnMut(ScanEntry) -> Result<()>,
) -> Result<()> {
    let excludes = Excludes::new(excludes);
    for top in expand_includes(sandbox, includes)? {
        walk(sandbox, &top, &excludes, &mut visit)?;
    }
    Ok(())
}

/// Depth-first walk of `rel` (a file or folder under `sandbox`). Returns whether anything was
/// emitted, so that a folder with nothing selected beneath it is emitted itself.
fn walk(
    sandbox: &Path,
    rel: &Path,
    excludes: &Excludes,
    visit: &mut impl FnMut(ScanEntry) -> Result<()>,
) -> Result<bool> {
    if excludes.matches(&abs_bytes(rel)) {
        return Ok(false);
    }
    let full = sandbox.join(rel);
    let meta = match fs::symlink_metadata(&full) {
        Ok(m) => m,
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false), // vanished meanwhile
        Err(e) => return Err(Error::io(&e, format!("cannot stat {}", full.display()))),
    };
    visit_node(&full, rel, meta, excludes, visit)
}

/// Emits a file, or walks a folder (emitting it when nothing beneath it was).
fn visit_node(
    full: &Path,
    rel: &Path,
    meta: fs::Metadata,
    excludes: &Excludes,
    visit: &mut impl FnMut(ScanEntry) -> Result<()>,
) -> Result<bool> {
    let ft = meta.file_type();
    if ft.is_file() {
        visit(entry_of(rel, EntryKind::File, &meta))?;
        return Ok(true);
    }
    if !ft.is_dir() {
        return Ok(false); // symlinks, FIFOs, sockets, devices: never backed up
    }
    let mut children: Vec<fs::DirEntry> = match fs::read_dir(full) {
        Ok(rd) => rd.filter_map(|e| e.ok()).collect(),
        Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(false),
        Err(e) => return Err(Error::io(&e, format!("cannot read {}", full.display()))),
    };
    children.sort_by(|a, b| a.file_name().as_bytes().cmp(b.file_name().as_bytes()));
    let mut any = false;
    for child in children {
        let name = child.file_name();
        let child_rel = rel.join(&name);
        if excludes.matches(&abs_bytes(&child_rel)) {
            continue;
        }
        // d_type says what it is without a syscall; links and the like are skipped unstat'ed.
        match child.file_type() {
            Ok(t) if t.is_symlink() || !(t.is_file() || t.is_dir()) => continue,
            _ => {}
        }
        // Stat relative to the open folder (statx on its fd), not by full path.
        let child_meta = match child.metadata() {
            Ok(m) => m,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) => {
                return Err(Error::io(
                    &e,
                    format!("cannot stat {}", full.join(&name).display()),
                ))
            }
        };
        any |= visit_node(&full.join(&name), &child_rel, child_meta, excludes, visit)?;
    }
    if !any {
        visit(entry_of(rel, EntryKind::EmptyDir, &meta))?;
    }
    Ok(true)
}

fn abs_bytes(rel: &Path) -> Vec<u8> {
    let mut v = Vec::with_capacity(rel.as_os_str().len() + 1);
    v.push(b'/');
    v.extend_from_slice(rel.as_os_str().as_bytes());
    v
}

fn entry_of(rel: &Path, kind: EntryKind, meta: &fs::Metadata) -> ScanEntry {
    ScanEntry {
        rel: rel.to_path_buf(),
        kind,
        size: if kind == EntryKind::File {
            meta.size()
        } else {
            0
        },
        mode: meta.mode(),
        atime: (meta.atime(), meta.atime_nsec()),
        mtime: (meta.mtime(), meta.mtime_nsec()),
    }
}

/// The bytes an app's profile selects (the `spaceOccupied` of a capability file).
pub fn selected_bytes(sandbox: &Path, includes: &[String], excludes: &[String]) -> Result<u64> {
    let mut total = 0u64;
    scan(sandbox, includes, excludes, |e| {
        total += e.size;
        Ok(())
    })?;
    Ok(total)
}

/// Convenience for tests and tools: the selected entries as a list.
pub fn scan_list(
    sandbox: &Path,
    includes: &[String],
    excludes: &[String],
) -> Result<Vec<ScanEntry>> {
    let mut out = Vec::new();
    scan(sandbox, includes, excludes, |e| {
        out.push(e);
        Ok(())
    })?;
    Ok(out)
}

/// Whether an OS string is a plain single path component (no `/`, not `.` or `..`).
pub fn is_plain_component(name: &OsStr) -> bool {
    let b = name.as_bytes();
    !b.is_empty() && b != b"." && b != b".." && !b.contains(&b'/') && !b.contains(&0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backup::config::DEFAULT_INCLUDES;
    use std::os::unix::fs::symlink;

    fn put(root: &Path, rel: &str, bytes: usize) {
        let p = root.join(rel);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, vec![b'x'; bytes]).unwrap();
    }

    fn rels(entries: &[ScanEntry]) -> Vec<String> {
        entries
            .iter()
            .map(|e| e.rel.to_string_lossy().into_owned())
            .collect()
    }

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn default_includes_select_the_standard_folders_with_hap_globs() {
        let t = tempfile::tempdir().unwrap();
        let sb = t.path();
        put(sb, "data/storage/el2/base/files/a.txt", 10);
        put(sb, "data/storage/el1/database/db", 5);
        put(sb, "data/storage/el2/base/haps/entry/files/h.txt", 3);
        put(sb, "data/storage/el2/base/cache/c.txt", 100); // not a default folder
        put(sb, "data/storage/el2/base/.backup/backup/part.1.tar", 100); // service temp
        let inc: Vec<String> = DEFAULT_INCLUDES.iter().map(|s| s.to_string()).collect();
        let list = scan_list(sb, &inc, &[]).unwrap();
        assert_eq!(
            rels(&list),
            [
                "data/storage/el1/database/db",
                "data/storage/el2/base/files/a.txt",
                "data/storage/el2/base/haps/entry/files/h.txt"
            ]
        );
        assert_eq!(selected_bytes(sb, &inc, &[]).unwrap(), 18);
    }

    #[test]
    fn nested_includes_are_counted_once_and_empty_means_nothing() {
        let t = tempfile::tempdir().unwrap();
        put(t.path(), "data/storage/el2/base/files/a", 7);
        let inc = s(&[
            "data/storage/el2/",
            "data/storage/el2/base/files/",
            "/data/storage/el2/base/",
        ]);
        assert_eq!(selected_bytes(t.path(), &inc, &[]).unwrap(), 7);
        assert_eq!(selected_bytes(t.path(), &s(&[""]), &[]).unwrap(), 0);
        assert_eq!(
            selected_bytes(t.path(), &s(&["../", "data/../.."]), &[]).unwrap(),
            0
        );
    }

    #[test]
    fn excludes_use_fnmatch_with_leading_dir_semantics() {
        let t = tempfile::tempdir().unwrap();
        let sb = t.path();
        put(sb, "data/storage/el2/base/files/keep.txt", 1);
        put(sb, "data/storage/el2/base/files/cache/x/y.bin", 1);
        put(sb, "data/storage/el2/base/files/users/1/hidden.json", 1);
        put(sb, "data/storage/el2/base/files/users/1/shown.json", 1);
        put(sb, "data/storage/el2/base/files/tmp.log", 1);
        let inc = s(&["data/storage/el2/"]);
        // "dir/" becomes "/dir/*"; no leading slash gets one; "*.log" matches anywhere (no FNM_PATHNAME).
        let exc = s(&[
            "data/storage/el2/base/files/cache/",
            "/data/storage/el2/base/files/users/*/hidden.json",
            "*.log",
        ]);
        let list = scan_list(sb, &inc, &exc).unwrap();
        assert_eq!(
            rels(&list),
            [
                "data/storage/el2/base/files/cache", // its content excluded: kept as an empty folder
                "data/storage/el2/base/files/keep.txt",
                "data/storage/el2/base/files/users/1/shown.json"
            ]
        );
        assert_eq!(list[0].kind, EntryKind::EmptyDir);
        // A leading-dir match excludes a whole subtree.
        let list = scan_list(sb, &inc, &s(&["/data/storage/el2/base/files/users"])).unwrap();
        assert!(rels(&list).iter().all(|r| !r.contains("users")));
    }

    #[test]
    fn empty_folders_are_entries_and_links_and_fifos_are_skipped() {
        let t = tempfile::tempdir().unwrap();
        let sb = t.path();
        fs::create_dir_all(sb.join("data/storage/el2/base/files/empty/deeper")).unwrap();
        put(sb, "data/storage/el2/base/files/f", 4);
        let outside = tempfile::tempdir().unwrap();
        put(outside.path(), "secret", 99);
        symlink(
            outside.path().join("secret"),
            sb.join("data/storage/el2/base/files/link"),
        )
        .unwrap();
        symlink(
            outside.path(),
            sb.join("data/storage/el2/base/files/dirlink"),
        )
        .unwrap();
        let fifo = CString::new(
            sb.join("data/storage/el2/base/files/fifo")
                .as_os_str()
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0);
        let list = scan_list(sb, &s(&["data/storage/el2/base/files/"]), &[]).unwrap();
        assert_eq!(
            rels(&list),
            [
                "data/storage/el2/base/files/empty/deeper",
                "data/storage/el2/base/files/f"
            ]
        );
        assert_eq!(list[0].kind, EntryKind::EmptyDir);
        assert_eq!(list[1].size, 4);
    }

    #[test]
    fn an_include_reached_through_a_symlink_is_not_followed() {
        let t = tempfile::tempdir().unwrap();
        let outside = tempfile::tempdir().unwrap();
        put(outside.path(), "files/secret", 50);
        fs::create_dir_all(t.path().join("data/storage/el2/base/haps")).unwrap();
        symlink(
            outside.path(),
            t.path().join("data/storage/el2/base/haps/evil"),
        )
        .unwrap();
        let inc: Vec<String> = DEFAULT_INCLUDES.iter().map(|s| s.to_string()).collect();
        assert_eq!(selected_bytes(t.path(), &inc, &[]).unwrap(), 0);
    }

    #[test]
    fn missing_sandbox_selects_nothing() {
        assert_eq!(
            selected_bytes(Path::new("/nonexistent/sandbox"), &s(&["data/"]), &[]).unwrap(),
            0
        );
    }
}
