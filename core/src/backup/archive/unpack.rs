//! Extracting one tar part into a sandbox. Regular files and directories only: links, devices,
//! FIFOs and unknown types are never created, each is reported and skipped. Names are resolved
//! beneath the sandbox ([`Beneath`]); a bad entry is drained and skipped; a truncated or corrupt
//! archive stops there, keeping what was complete (nothing partial under a final name).

use std::collections::HashMap;
use std::ffi::OsStr;
use std::fs::File;
use std::io::{self, BufReader, Read};
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use tar::{Entry, EntryType};

use super::beneath::Beneath;
use crate::error::{Error, ErrorCode, Result};

/// Read-ahead on the archive: headers are 512 bytes, so buffer to save syscalls.
const READ_BUF: usize = 64 * 1024;

/// What extracting one archive did.
#[derive(Debug, Default)]
pub struct UnpackReport {
    /// Regular files written.
    pub files: u64,
    /// Directory entries made.
    pub dirs: u64,
    /// File bytes written.
    pub bytes: u64,
    /// (entry name as stored, why it was not restored); an empty name is about the archive itself.
    pub errors: Vec<(String, Error)>,
}

/// A directory entry whose mode and mtime are applied once the archive is done.
struct DirMeta {
    mode: u32,
    mtime: (i64, i64),
}

/// Extracts `archive` beneath `beneath`'s root. `filter`, when given, sees each entry's name as
/// stored (e.g. `/data/storage/el2/base/files/a.txt`, directories ending in `/`) and entries it
/// rejects are skipped silently. Duplicate entries: the later one wins, atomically.
pub fn unpack(
    beneath: &Beneath,
    archive: impl Read,
    filter: Option<&dyn Fn(&str) -> bool>,
) -> UnpackReport {
    let mut ar = tar::Archive::new(BufReader::with_capacity(READ_BUF, archive));
    let entries = ar.entries();
    unpack_entries(beneath, entries, None, filter)
}

/// [`unpack`] of an archive in a file: each file's data is copied out of the archive in the
/// kernel (copy_file_range from its offset), and data the filter skips is seeked over, not read.
pub fn unpack_file(
    beneath: &Beneath,
    archive: &File,
    filter: Option<&dyn Fn(&str) -> bool>,
) -> UnpackReport {
    let mut ar = tar::Archive::new(archive);
    let entries = ar.entries_with_seek();
    unpack_entries(beneath, entries, Some(archive), filter)
}

fn unpack_entries<R: Read>(
    beneath: &Beneath,
    entries: io::Result<tar::Entries<'_, R>>,
    source: Option<&File>,
    filter: Option<&dyn Fn(&str) -> bool>,
) -> UnpackReport {
    let mut report = UnpackReport::default();
    let mut dirs: HashMap<PathBuf, DirMeta> = HashMap::new();
    let entries = match entries {
        Ok(entries) => entries,
        Err(e) => {
            report.errors.push((String::new(), archive_error(&e)));
            return report;
        }
    };
    for item in entries {
        let mut entry = match item {
            Ok(entry) => entry,
            Err(e) => {
                // The stream cannot be trusted past this point: stop this archive.
                report.errors.push((String::new(), archive_error(&e)));
                break;
            }
        };
        let name_bytes = entry.path_bytes().into_owned();
        let name = String::from_utf8_lossy(&name_bytes).into_owned();
        if filter.is_some_and(|keep| !keep(&name)) {
            continue;
        }
        // On error the entry's remaining data is skipped when the iterator moves on.
        if let Err(e) = unpack_entry(
            beneath,
            &mut entry,
            source,
            &name_bytes,
            &mut report,
            &mut dirs,
        ) {
            report.errors.push((name, e));
        }
    }
    // Directory modes and times last: writing inside a directory changes its mtime, and a
    // read-only mode would stop the writes. Deepest first, so parents are done after children.
    let mut dirs: Vec<(PathBuf, DirMeta)> = dirs.into_iter().collect();
    dirs.sort_by_key(|(p, _)| std::cmp::Reverse(p.components().count()));
    for (rel, meta) in dirs {
        if let Err(e) = beneath.set_dir_times(&rel, meta.mode, meta.mtime) {
            report.errors.push((rel.to_string_lossy().into_owned(), e));
        }
    }
    report
}

fn unpack_entry<R: Read>(
    beneath: &Beneath,
    entry: &mut Entry<'_, R>,
    source: Option<&File>,
    name: &[u8],
    report: &mut UnpackReport,
    dirs: &mut HashMap<PathBuf, DirMeta>,
) -> Result<()> {
    let kind = entry.header().entry_type();
    let rel = Path::new(OsStr::from_bytes(name));
    let regular = kind.is_file() || kind == EntryType::Continuous;
    // Old archives mark directories as regular entries whose name ends in '/'.
    if kind.is_dir() || (regular && name.ends_with(b"/")) {
        if names_root(name) {
            return Ok(()); // "./" or "/": the sandbox itself
        }
        let mode = entry.header().mode().map_err(|e| bad_field("mode", &e))?;
        let (_, mtime) = times(entry)?;
        // Owner-writable while the archive fills it; the recorded mode comes at the end.
        beneath.mkdirs(rel, 0o700)?;
        dirs.insert(
            rel.to_path_buf(),
            DirMeta {
                mode: mode & 0o7777,
                mtime,
            },
        );
        report.dirs += 1;
        return Ok(());
    }
    if regular {
        let mode = entry.header().mode().map_err(|e| bad_field("mode", &e))?;
        let (atime, mtime) = times(entry)?;
        let size = entry.size();
        let written = match source {
            // The data lies at a known offset of the archive file: copy it in the kernel.
            Some(file) => beneath.write_file_atomic_range(
                rel,
                mode & 0o7777,
                atime,
                mtime,
                file,
                entry.raw_file_position(),
                size,
            )?,
            None => {
                beneath.write_file_atomic(rel, mode & 0o7777, atime, mtime, entry, Some(size))?
            }
        };
        report.files += 1;
        report.bytes += written;
        return Ok(());
    }
    if kind.is_pax_global_extensions() {
        return Ok(()); // metadata for the whole archive; nothing to place
    }
    Err(refused(kind, entry))
}

/// Whether a name means the extraction root itself (only `/` and `.` parts).
fn names_root(name: &[u8]) -> bool {
    name.split(|b| *b == b'/')
        .all(|c| c.is_empty() || c == b".")
}

/// (atime, mtime): PAX `atime`/`mtime` (with their fractions) when present, else the header's
/// mtime; atime defaults to mtime.
fn times<R: Read>(entry: &mut Entry<'_, R>) -> Result<((i64, i64), (i64, i64))> {
    let (mut atime, mut mtime) = (None, None);
    if let Ok(Some(pax)) = entry.pax_extensions() {
        for ext in pax.flatten() {
            match ext.key_bytes() {
                b"mtime" => mtime = parse_pax_time(ext.value_bytes()),
                b"atime" => atime = parse_pax_time(ext.value_bytes()),
                _ => {}
            }
        }
    }
    let mtime = match mtime {
        Some(t) => t,
        None => {
            let secs = entry.header().mtime().map_err(|e| bad_field("mtime", &e))?;
            (i64::try_from(secs).unwrap_or(i64::MAX), 0)
        }
    };
    Ok((atime.unwrap_or(mtime), mtime))
}

/// A PAX time: `[-]seconds[.fraction]` as (seconds, nanoseconds) with 0 <= nanoseconds < 1e9.
fn parse_pax_time(value: &[u8]) -> Option<(i64, i64)> {
    let s = std::str::from_utf8(value).ok()?.trim();
    let (negative, body) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s),
    };
    let (int, frac) = body.split_once('.').unwrap_or((body, ""));
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    if (int.is_empty() && frac.is_empty()) || !digits(int) || !digits(frac) {
        return None;
    }
    let secs: i64 = if int.is_empty() { 0 } else { int.parse().ok()? };
    let mut nanos = 0i64;
    for (i, d) in frac.bytes().take(9).enumerate() {
        nanos += i64::from(d - b'0') * 10i64.pow(8 - i as u32);
    }
    Some(match (negative, nanos) {
        (false, n) => (secs, n),
        (true, 0) => (-secs, 0),
        (true, n) => (-secs - 1, 1_000_000_000 - n),
    })
}

/// The error for an entry type restore never creates.
fn refused<R: Read>(kind: EntryType, entry: &Entry<'_, R>) -> Error {
    let what = match kind {
        EntryType::Symlink => "symbolic link",
        EntryType::Link => "hard link",
        EntryType::Char => "character device",
        EntryType::Block => "block device",
        EntryType::Fifo => "FIFO",
        EntryType::GNUSparse => "GNU sparse file",
        _ => "entry of an unsupported type",
    };
    let target = match entry.link_name_bytes() {
        Some(t) if !t.is_empty() => format!(" to {:?}", String::from_utf8_lossy(&t)),
        _ => String::new(),
    };
    Error::new(
        ErrorCode::UntarFailed,
        format!(
            "{what}{target} (type '{}') is not restored: only files and directories are",
            kind.as_byte().escape_ascii()
        ),
    )
}

fn bad_field(field: &str, e: &std::io::Error) -> Error {
    Error::new(
        ErrorCode::UntarFailed,
        format!("bad {field} field in the header: {e}"),
    )
}

fn archive_error(e: &std::io::Error) -> Error {
    Error::new(
        ErrorCode::UntarFailed,
        format!("the archive is truncated or corrupt, extraction stopped: {e}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backup::archive::beneath::tests::leftover_temps;
    use crate::backup::archive::pack::PartPacker;
    use crate::backup::scan::{EntryKind, ScanEntry};
    use std::collections::BTreeMap;
    use std::fs;
    use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};

    const FILES: &str = "/data/storage/el2/base/files";

    /// A tar written byte by byte, so hostile archives need no cooperation from a writer.
    #[derive(Default)]
    struct Raw(Vec<u8>);

    fn octal(field: &mut [u8], v: u64) {
        let s = format!("{:0width$o}\0", v, width = field.len() - 1);
        field.copy_from_slice(s.as_bytes());
    }

    fn header(name: &[u8], typ: u8, size: u64, mode: u32, mtime: u64, link: &[u8]) -> [u8; 512] {
        let mut h = [0u8; 512];
        let n = name.len().min(100);
        h[..n].copy_from_slice(&name[..n]);
        octal(&mut h[100..108], u64::from(mode));
        octal(&mut h[108..116], 0);
        octal(&mut h[116..124], 0);
        octal(&mut h[124..136], size);
        octal(&mut h[136..148], mtime);
        h[156] = typ;
        let l = link.len().min(100);
        h[157..157 + l].copy_from_slice(&link[..l]);
        h[257..263].copy_from_slice(b"ustar\0");
        h[263..265].copy_from_slice(b"00");
        seal(&mut h);
        h
    }

    /// Writes the checksum (computed with the field as spaces).
    fn seal(h: &mut [u8; 512]) {
        h[148..156].copy_from_slice(b"        ");
        let sum: u32 = h.iter().map(|b| u32::from(*b)).sum();
        h[148..156].copy_from_slice(format!("{sum:06o}\0 ").as_bytes());
    }

    impl Raw {
        fn data(&mut self, data: &[u8]) -> &mut Self {
            self.0.extend_from_slice(data);
            let pad = (512 - data.len() % 512) % 512;
            self.0.resize(self.0.len() + pad, 0);
            self
        }

        fn long_name(&mut self, name: &[u8]) -> &mut Self {
            let mut data = name.to_vec();
            data.push(0);
            let h = header(b"././@LongLink", b'L', data.len() as u64, 0o644, 0, b"");
            self.0.extend_from_slice(&h);
            self.data(&data)
        }

        fn pax(&mut self, records: &[(&str, &[u8])]) -> &mut Self {
            let mut body = Vec::new();
            for (k, v) in records {
                let base = k.len() + v.len() + 3;
                let mut len = base + 1;
                while len != base + len.to_string().len() {
                    len = base + len.to_string().len();
                }
                body.extend_from_slice(format!("{len} {k}=").as_bytes());
                body.extend_from_slice(v);
                body.push(b'\n');
            }
            let h = header(b"PaxHeaders/x", b'x', body.len() as u64, 0o644, 0, b"");
            self.0.extend_from_slice(&h);
            self.data(&body)
        }

        /// An entry of any type; names of 100 bytes or more get a GNU `L` entry first.
        fn entry(
            &mut self,
            name: &[u8],
            typ: u8,
            data: &[u8],
            mode: u32,
            link: &[u8],
        ) -> &mut Self {
            if name.len() >= 100 {
                self.long_name(name);
            }
            let h = header(name, typ, data.len() as u64, mode, 1_600_000_000, link);
            self.0.extend_from_slice(&h);
            self.data(data)
        }

        fn file(&mut self, name: &str, data: &[u8]) -> &mut Self {
            self.entry(name.as_bytes(), b'0', data, 0o644, b"")
        }

        fn link(&mut self, name: &str, typ: u8, target: &str) -> &mut Self {
            self.entry(name.as_bytes(), typ, b"", 0o777, target.as_bytes())
        }

        fn end(&mut self) -> Vec<u8> {
            self.0.extend_from_slice(&[0u8; 1024]);
            std::mem::take(&mut self.0)
        }
    }

    /// Everything under `dir` (never following links): path → (kind, mode, mtime, content/target).
    fn snapshot(dir: &Path) -> BTreeMap<String, (char, u32, i64, Vec<u8>)> {
        snapshot_except(dir, None)
    }

    /// [`snapshot`] of `dir` leaving out the subtree `skip`.
    fn snapshot_except(
        dir: &Path,
        skip: Option<&Path>,
    ) -> BTreeMap<String, (char, u32, i64, Vec<u8>)> {
        let mut out = BTreeMap::new();
        let mut stack = vec![dir.to_path_buf()];
        while let Some(p) = stack.pop() {
            if Some(p.as_path()) == skip {
                continue;
            }
            let m = fs::symlink_metadata(&p).unwrap();
            let rel = p.strip_prefix(dir).unwrap().display().to_string();
            let ft = m.file_type();
            let (kind, content) = if ft.is_symlink() {
                (
                    'l',
                    fs::read_link(&p).unwrap().as_os_str().as_bytes().to_vec(),
                )
            } else if ft.is_dir() {
                for e in fs::read_dir(&p).unwrap() {
                    stack.push(e.unwrap().path());
                }
                ('d', Vec::new())
            } else if ft.is_file() {
                ('f', fs::read(&p).unwrap())
            } else {
                ('?', Vec::new())
            };
            out.insert(rel, (kind, m.mode(), m.mtime(), content));
        }
        out
    }

    struct Fixture {
        t: tempfile::TempDir,
        sandbox: PathBuf,
        outside: PathBuf,
    }

    fn fixture() -> Fixture {
        let t = tempfile::tempdir().unwrap();
        let sandbox = t.path().join("sandbox");
        let outside = t.path().join("outside");
        fs::create_dir_all(outside.join("sub")).unwrap();
        fs::create_dir_all(&sandbox).unwrap();
        fs::write(outside.join("secret.txt"), b"top secret").unwrap();
        fs::write(outside.join("sub/inner.txt"), b"inner").unwrap();
        fs::set_permissions(&outside, fs::Permissions::from_mode(0o750)).unwrap();
        // Links an attacker could have planted in the sandbox before the restore.
        symlink(&outside, sandbox.join("planted")).unwrap();
        symlink("../outside", sandbox.join("planted_rel")).unwrap();
        symlink(outside.join("secret.txt"), sandbox.join("planted_file")).unwrap();
        Fixture {
            t,
            sandbox,
            outside,
        }
    }

    fn hostile_archive(outside: &Path) -> (Vec<u8>, Vec<String>) {
        let out = outside.display().to_string();
        let long = format!("{FILES}/{}", "l".repeat(150 - FILES.len() - 1));
        let nested = format!(
            "{FILES}/{}/{}",
            "p".repeat(120),
            "q".repeat(300 - FILES.len() - 122)
        );
        let huge = format!("{FILES}/{}", "h/".repeat(2100));
        let wide = format!("{FILES}/{}", "w".repeat(256));
        let mut raw = Raw::default();
        raw.entry(
            format!("{FILES}/good.txt").as_bytes(),
            b'0',
            b"good",
            0o640,
            b"",
        )
        .file("../escape.txt", b"escape")
        .file("/etc/evil", b"inside after all")
        .file("/../x", b"escape")
        .file("a/../../x2", b"escape")
        .link("link", b'2', &out)
        .file("link/pwned.txt", b"inside")
        .file("planted/through.txt", b"escape")
        .file("planted_rel/through2.txt", b"escape")
        .file("planted/deeper/x", b"escape")
        .file("planted_file", b"replaced")
        .entry(b"planted/", b'5', b"", 0o777, b"")
        .entry(b"planted_rel/", b'5', b"", 0o777, b"")
        .link("hl", b'1', "/etc/passwd")
        .link("victim", b'1', &format!("{out}/secret.txt"))
        .file("victim", b"mine")
        .entry(b"cdev", b'3', b"", 0o666, b"")
        .entry(b"bdev", b'4', b"", 0o666, b"")
        .entry(b"fifo", b'6', b"", 0o666, b"")
        .entry(b"unknown", b'Z', b"zz", 0o666, b"")
        .file(&long, b"long name")
        .file(&nested, b"nested")
        .file(&huge, b"too long")
        .file(&wide, b"too wide")
        .file(".ohfile-tmp-0000", b"reserved")
        .file("dup.txt", b"first")
        .file("dup.txt", b"second")
        .entry(
            format!("{FILES}/emptydir/").as_bytes(),
            b'5',
            b"",
            0o750,
            b"",
        )
        .entry(b"suid", b'0', b"s", 0o4755, b"")
        .link("sdir", b'2', &out)
        .entry(b"sdir/", b'5', b"", 0o705, b"");
        raw.pax(&[
            ("path", b"/data/pax/from-pax.txt"),
            ("mtime", b"1600000000.5"),
        ])
        .file("ignored-ustar-name", b"pax")
        .pax(&[("path", b"../paxescape")])
        .file("pax-decoy", b"escape")
        .pax(&[("path", b"a\0b")])
        .file("nul-decoy", b"escape");
        let bad = [
            "../escape.txt".to_string(),
            "/../x".into(),
            "a/../../x2".into(),
            "link".into(),
            "planted/through.txt".into(),
            "planted_rel/through2.txt".into(),
            "planted/deeper/x".into(),
            "planted/".into(),
            "planted_rel/".into(),
            "hl".into(),
            "victim".into(),
            "cdev".into(),
            "bdev".into(),
            "fifo".into(),
            "unknown".into(),
            huge,
            wide,
            ".ohfile-tmp-0000".into(),
            "sdir".into(),
            "../paxescape".into(),
            "a\0b".into(),
        ];
        (raw.end(), bad.to_vec())
    }

    fn sorted(mut v: Vec<String>) -> Vec<String> {
        v.sort();
        v
    }

    #[test]
    fn hostile_corpus_never_escapes_the_sandbox() {
        for openat2 in [true, false] {
            let fx = fixture();
            // Everything but the sandbox: the "outside" folder and the sandbox's siblings.
            let world = || snapshot_except(fx.t.path(), Some(&fx.sandbox));
            let before = world();
            assert!(before.contains_key("outside/secret.txt"));
            let b = Beneath::open(&fx.sandbox).unwrap().with_openat2(openat2);
            let (archive, bad) = hostile_archive(&fx.outside);
            // Twice: the two-step pattern (CVE-2025-45582) must not work either.
            for round in 0..2 {
                let report = unpack(&b, &archive[..], None);
                assert_eq!(world(), before, "outside changed (openat2 {openat2})");
                let names: Vec<String> = report.errors.iter().map(|e| e.0.clone()).collect();
                assert_eq!(
                    sorted(names),
                    sorted(bad.clone()),
                    "round {round}, openat2 {openat2}"
                );
                for (name, e) in &report.errors {
                    assert!(!e.detail().is_empty(), "{name}");
                }
                let by_name = |n: &str| &report.errors.iter().find(|e| e.0 == n).unwrap().1;
                assert_eq!(by_name("link").code(), ErrorCode::UntarFailed);
                assert!(by_name("link").detail().contains("symbolic link"));
                assert!(by_name("hl").detail().contains("/etc/passwd"));
                assert_eq!(by_name("fifo").code(), ErrorCode::UntarFailed);
                assert_eq!(by_name("../escape.txt").code(), ErrorCode::InvalidArgument);
                assert_eq!(
                    by_name("planted/through.txt").code(),
                    ErrorCode::TooManySymlinks
                );
                assert_eq!(report.files, 11);
                assert_eq!(report.dirs, 2);
                check_good_entries(&fx.sandbox);
                assert!(leftover_temps(&fx.sandbox).is_empty());
                assert!(leftover_temps(&fx.outside).is_empty());
            }
        }
    }

    fn check_good_entries(sb: &Path) {
        let files = sb.join(FILES.trim_start_matches('/'));
        let good = files.join("good.txt");
        assert_eq!(fs::read(&good).unwrap(), b"good");
        let m = fs::metadata(&good).unwrap();
        assert_eq!((m.mode() & 0o7777, m.mtime()), (0o640, 1_600_000_000));
        assert_eq!(fs::read(sb.join("etc/evil")).unwrap(), b"inside after all");
        assert_eq!(fs::read(sb.join("link/pwned.txt")).unwrap(), b"inside");
        assert!(fs::symlink_metadata(sb.join("link")).unwrap().is_dir());
        assert_eq!(fs::read(sb.join("planted_file")).unwrap(), b"replaced");
        assert!(fs::symlink_metadata(sb.join("planted_file"))
            .unwrap()
            .is_file());
        assert_eq!(fs::read(sb.join("victim")).unwrap(), b"mine");
        assert_eq!(fs::read(sb.join("dup.txt")).unwrap(), b"second");
        assert_eq!(
            fs::read(files.join("l".repeat(150 - FILES.len() - 1))).unwrap(),
            b"long name"
        );
        let nested = files
            .join("p".repeat(120))
            .join("q".repeat(300 - FILES.len() - 122));
        assert_eq!(fs::read(nested).unwrap(), b"nested");
        let empty = fs::metadata(files.join("emptydir")).unwrap();
        assert!(empty.is_dir());
        assert_eq!(
            (empty.mode() & 0o7777, empty.mtime()),
            (0o750, 1_600_000_000)
        );
        assert_eq!(
            fs::metadata(sb.join("suid")).unwrap().mode() & 0o7777,
            0o4755
        );
        let sdir = fs::symlink_metadata(sb.join("sdir")).unwrap();
        assert!(sdir.is_dir() && sdir.mode() & 0o7777 == 0o705);
        let pax = fs::metadata(sb.join("data/pax/from-pax.txt")).unwrap();
        assert_eq!(
            (pax.mtime(), pax.mtime_nsec()),
            (1_600_000_000, 500_000_000)
        );
        for never in [
            "hl",
            "cdev",
            "bdev",
            "fifo",
            "unknown",
            "escape.txt",
            "x",
            "x2",
        ] {
            assert!(
                fs::symlink_metadata(sb.join(never)).is_err(),
                "{never} exists"
            );
        }
        assert!(!sb.join("ignored-ustar-name").exists());
        // The only links in the sandbox are the two planted ones; no device or FIFO anywhere.
        let snap = snapshot(sb);
        let links: Vec<&String> = snap.iter().filter(|e| e.1 .0 == 'l').map(|e| e.0).collect();
        assert_eq!(links, ["planted", "planted_rel"]);
        assert!(snap.values().all(|e| e.0 != '?'));
        assert!(!snap.keys().any(|k| k.contains("escape")));
    }

    #[test]
    fn a_truncated_archive_keeps_what_was_complete() {
        for b_mode in [true, false] {
            let fx = fixture();
            let b = Beneath::open(&fx.sandbox).unwrap().with_openat2(b_mode);
            let mut raw = Raw::default();
            raw.file("t/complete.txt", b"complete");
            let mut archive = raw.0.clone();
            archive.extend_from_slice(&header(b"t/cut.bin", b'0', 2000, 0o644, 1, b""));
            archive.extend_from_slice(&[7u8; 700]); // cut mid-file
            for _ in 0..2 {
                let report = unpack(&b, &archive[..], None);
                assert_eq!(report.files, 1);
                assert_eq!(report.errors[0].0, "t/cut.bin");
                assert_eq!(report.errors[0].1.code(), ErrorCode::UntarFailed);
                assert!(report.errors[0].1.detail().contains("700 of 2000"));
                assert_eq!(
                    fs::read(fx.sandbox.join("t/complete.txt")).unwrap(),
                    b"complete"
                );
                assert!(!fx.sandbox.join("t/cut.bin").exists());
                assert!(leftover_temps(&fx.sandbox).is_empty());
            }
            // Cut inside a header: an archive error, the earlier entry stays.
            let mut cut_header = raw.0.clone();
            cut_header.extend_from_slice(&header(b"t/next", b'0', 1, 0o644, 1, b"")[..300]);
            let report = unpack(&b, &cut_header[..], None);
            assert_eq!(report.files, 1);
            assert_eq!(report.errors.len(), 1);
            assert_eq!(report.errors[0].0, "");
            assert!(!fx.sandbox.join("t/next").exists());
        }
    }

    #[test]
    fn a_size_larger_than_the_data_or_a_corrupt_header_stops_the_archive() {
        let fx = fixture();
        let b = Beneath::open(&fx.sandbox).unwrap();
        // The size claims 10000 bytes, but only 1000 and the end marker follow.
        let mut archive = header(b"more.txt", b'0', 10_000, 0o644, 1, b"").to_vec();
        archive.extend_from_slice(&[1u8; 1000]);
        archive.resize(archive.len() + 24 + 1024, 0);
        let report = unpack(&b, &archive[..], None);
        assert_eq!(report.files, 0);
        assert_eq!(report.errors[0].0, "more.txt");
        assert_eq!(report.errors[0].1.code(), ErrorCode::UntarFailed);
        assert!(!fx.sandbox.join("more.txt").exists());

        // A header with a broken checksum: what came before stays, nothing after is read.
        let mut raw = Raw::default();
        raw.file("before.txt", b"before");
        let mut bad = header(b"corrupt.txt", b'0', 3, 0o644, 1, b"");
        bad[148] ^= 1;
        raw.0.extend_from_slice(&bad);
        raw.data(b"abc").file("after.txt", b"after");
        let report = unpack(&b, &raw.end()[..], None);
        assert_eq!(report.files, 1);
        assert_eq!(report.errors.len(), 1);
        assert!(
            report.errors[0].1.detail().contains("checksum"),
            "{:?}",
            report.errors
        );
        assert!(fx.sandbox.join("before.txt").exists());
        assert!(!fx.sandbox.join("after.txt").exists());
        assert!(!fx.sandbox.join("corrupt.txt").exists());

        // A size field that is not a number.
        let mut garbage = header(b"g.txt", b'0', 3, 0o644, 1, b"");
        garbage[124..136].copy_from_slice(b"zzzzzzzzzzz\0");
        seal(&mut garbage);
        let report = unpack(&b, &garbage[..], None);
        assert_eq!(report.files, 0);
        assert_eq!(report.errors.len(), 1);
        assert!(leftover_temps(&fx.sandbox).is_empty());
    }

    #[test]
    fn the_filter_selects_entries_by_stored_name() {
        let t = tempfile::tempdir().unwrap();
        let b = Beneath::open(t.path()).unwrap();
        let mut raw = Raw::default();
        raw.file(&format!("{FILES}/keep.txt"), b"k")
            .file(&format!("{FILES}/drop.txt"), b"d")
            .link("evil", b'2', "/etc") // filtered out: not even an error
            .file(&format!("{FILES}/sub/keep.txt"), b"k2");
        let keep = |n: &str| n.ends_with("keep.txt");
        let report = unpack(&b, &raw.end()[..], Some(&keep));
        assert_eq!((report.files, report.bytes), (2, 3));
        assert!(report.errors.is_empty());
        let files = t.path().join(FILES.trim_start_matches('/'));
        assert!(files.join("keep.txt").exists() && files.join("sub/keep.txt").exists());
        assert!(!files.join("drop.txt").exists());
    }

    #[test]
    fn pax_times_parse_with_fractions_and_signs() {
        assert_eq!(parse_pax_time(b"1600000000"), Some((1_600_000_000, 0)));
        assert_eq!(
            parse_pax_time(b"1600000000.5"),
            Some((1_600_000_000, 500_000_000))
        );
        assert_eq!(parse_pax_time(b"1.1234567891"), Some((1, 123_456_789)));
        assert_eq!(parse_pax_time(b"-1.5"), Some((-2, 500_000_000)));
        assert_eq!(parse_pax_time(b"-3"), Some((-3, 0)));
        for bad in [&b""[..], b"x", b"1.2.3", b"--1", b"1e9", b"."] {
            assert_eq!(
                parse_pax_time(bad),
                None,
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }

    #[test]
    fn what_the_packer_writes_unpacks_identically() {
        let src = tempfile::tempdir().unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let rels = [
            "data/storage/el2/base/files/a.txt".to_string(),
            "data/storage/el1/database/db.sqlite".into(),
            format!("data/storage/el2/base/files/{}/deep.bin", "d".repeat(140)),
        ];
        let mut entries = Vec::new();
        for (i, rel) in rels.iter().enumerate() {
            let p = src.path().join(rel);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(&p, format!("content {i}").repeat(100 * (i + 1))).unwrap();
            fs::set_permissions(&p, fs::Permissions::from_mode(0o600 + 0o10 * i as u32)).unwrap();
            entries.push(ScanEntry {
                rel: PathBuf::from(rel),
                kind: EntryKind::File,
                size: 0,
                mode: 0,
                atime: (0, 0),
                mtime: (0, 0),
            });
        }
        fs::create_dir_all(src.path().join("data/storage/el2/base/files/empty")).unwrap();
        entries.push(ScanEntry {
            rel: PathBuf::from("data/storage/el2/base/files/empty"),
            kind: EntryKind::EmptyDir,
            size: 0,
            mode: 0,
            atime: (0, 0),
            mtime: (0, 0),
        });
        let mut packer = PartPacker::new(src.path(), tmp.path());
        for e in &entries {
            assert!(packer.add(e).unwrap().is_none());
        }
        let (part, errors) = packer.finish().unwrap();
        assert!(errors.is_empty());
        let part = part.unwrap();
        let dst = tempfile::tempdir().unwrap();
        for openat2 in [true, false] {
            let dest = dst.path().join(openat2.to_string());
            fs::create_dir(&dest).unwrap();
            let b = Beneath::open(&dest).unwrap().with_openat2(openat2);
            let mut file = part.file.try_clone().unwrap();
            std::io::Seek::seek(&mut file, std::io::SeekFrom::Start(0)).unwrap();
            let report = unpack(&b, file, None);
            assert!(report.errors.is_empty(), "{:?}", report.errors);
            assert_eq!((report.files, report.dirs), (3, 1));
            for rel in &rels {
                let (a, z) = (src.path().join(rel), dest.join(rel));
                assert_eq!(fs::read(&a).unwrap(), fs::read(&z).unwrap());
                let (ma, mz) = (fs::metadata(&a).unwrap(), fs::metadata(&z).unwrap());
                assert_eq!(ma.mode(), mz.mode());
                assert_eq!(ma.mtime(), mz.mtime());
            }
            assert!(dest.join("data/storage/el2/base/files/empty").is_dir());
        }
    }
}
