//! The ".rp" manifest ("report") of an incremental backup, byte-compatible with OpenHarmony's
//! `BReportEntity`:
//!
//! ```text
//! version=1.0&attrNum=8
//! path;mode;dir;size;mtime;hash;isIncremental;encodeFlag
//! /data/storage/el2/base/files/a.txt;33188;0;5;1700000000;2CF24D…;1;0
//! ```
//!
//! Decisions (where OpenHarmony leaves room):
//! - Paths are kept absolute (`/` first); OpenHarmony strips that slash when reading, so input is
//!   accepted with or without it. Paths are normalised: repeated `/` collapse and a trailing `/`
//!   is dropped, so a directory is written `/…/dir` (never `/…/dir/`). `.` and `..` components are
//!   rejected, as is the bare root `/`.
//! - `mode` is written as decimal `st_mode` (what the storage scan writes, e.g. `33188`); when
//!   reading, text with a leading `0` is octal (OpenHarmony's default mode string is `0660` and
//!   its tests write `0644`) and plain digits are decimal.
//! - Column 7 is read as `isIncremental` whatever the header calls it. The storage scan names it
//!   `isIncremental`, the extension `usertar`; older OpenHarmony readers took it by position,
//!   newer ones by name (so they read `usertar` manifests as "not incremental"). Nothing in an
//!   incremental comparison depends on the flag of the *previous* manifest, so position it is.
//! - A record may have the header's number of fields, or 7 (no `encodeFlag`, read as 0). Like
//!   OpenHarmony's reader, a record with *more* fields than the header has a raw `;` in its
//!   (unencoded) path: the leading extra fields are joined back into the path. An encoded path
//!   (`encodeFlag` 1) cannot contain `;`, so there extra fields are an error.
//! - Stricter than OpenHarmony, which skips or zeroes what it cannot read: every malformed line
//!   is an error naming its line number. Blank lines, `\r\n` and a missing final newline are fine.

use std::borrow::Cow;
use std::collections::hash_map::{Entry, HashMap};
use std::fmt::Display;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::os::unix::fs::FileExt;

use crate::error::{Error, ErrorCode, Result};

/// The first line ohfile writes.
pub const VERSION_LINE: &str = "version=1.0&attrNum=8";

/// The header line ohfile writes (the storage scan's column names).
pub const HEADER_LINE: &str = "path;mode;dir;size;mtime;hash;isIncremental;encodeFlag";

/// The column names a header must start with; column 7 may have any name, column 8 (when
/// present) must be `encodeFlag`, further columns are ignored.
const REQUIRED_KEYS: [&str; 6] = ["path", "mode", "dir", "size", "mtime", "hash"];

/// The number of fields of a record without `encodeFlag` (and the fewest a header may name).
const MIN_FIELDS: usize = 7;

/// The largest manifest `read_from` accepts (a million files stay far below; guards against a
/// fd onto an endless device).
const MAX_MANIFEST_BYTES: u64 = 1 << 30;

/// One file or directory of a manifest.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ManifestRecord {
    /// The decoded sandbox path, absolute and normalised (`/data/storage/el2/base/files/a.txt`).
    pub path: String,
    /// `st_mode` (type and permission bits).
    pub mode: u32,
    /// Whether the entry is a directory.
    pub is_dir: bool,
    /// `st_size` in bytes.
    pub size: u64,
    /// `st_mtime` in whole seconds.
    pub mtime: i64,
    /// Upper-case hex SHA-256 of the content; empty for directories or when not computed.
    pub hash: String,
    /// Whether the entry changed since the last incremental backup (column 7).
    pub is_incremental: bool,
}

/// A manifest: records keyed by path, iterated in path order. A hash map: parsing a 50k-record
/// manifest is on every incremental run's path, and order only matters when iterating or writing.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    records: HashMap<String, ManifestRecord>,
}

impl Manifest {
    /// An empty manifest (what "no previous backup" reads as).
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds `record`, replacing and returning a record with the same path. The path must be
    /// absolute, without `.`/`..` components; it is normalised (see the module docs). The hash
    /// must not contain `;` or line breaks.
    pub fn insert(&mut self, mut record: ManifestRecord) -> Result<Option<ManifestRecord>> {
        if !record.path.starts_with('/') {
            return Err(invalid(format!(
                "manifest path {:?} is not absolute",
                record.path
            )));
        }
        record.path = normalize_path(&record.path).map_err(invalid)?;
        if record.hash.contains([';', '\n', '\r']) {
            return Err(invalid(format!(
                "manifest hash {:?} of {:?} contains `;` or a line break",
                record.hash, record.path
            )));
        }
        Ok(self.records.insert(record.path.clone(), record))
    }

    /// The record of `path` (absolute, normalised form).
    pub fn get(&self, path: &str) -> Option<&ManifestRecord> {
        self.records.get(path)
    }

    /// The records, sorted by path.
    pub fn iter(&self) -> impl Iterator<Item = &ManifestRecord> {
        self.sorted().into_iter()
    }

    fn sorted(&self) -> Vec<&ManifestRecord> {
        let mut v: Vec<&ManifestRecord> = self.records.values().collect();
        v.sort_unstable_by(|a, b| a.path.cmp(&b.path));
        v
    }

    /// The paths, sorted.
    pub fn paths(&self) -> impl Iterator<Item = &str> {
        self.sorted().into_iter().map(|r| r.path.as_str())
    }

    /// The number of records.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    /// Whether there are no records.
    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// Writes the manifest in OpenHarmony's format (`\n` line ends, records sorted by path).
    pub fn write(&self, out: &mut impl Write) -> io::Result<()> {
        let mut out = BufWriter::with_capacity(64 * 1024, out);
        write_header(&mut out)?;
        for r in self.sorted() {
            write_record(&mut out, r)?;
        }
        out.flush()
    }

    /// The manifest as the bytes `write` produces.
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut buf = Vec::with_capacity(64 + self.records.len() * 128);
        self.write(&mut buf).expect("writing to a Vec cannot fail");
        buf
    }

    /// Parses a manifest. Empty or whitespace-only input is an empty manifest; anything malformed
    /// is 13900020 with the line number and the problem.
    pub fn parse(bytes: &[u8]) -> Result<Manifest> {
        let text = std::str::from_utf8(bytes).map_err(|e| {
            let line = 1 + bytes[..e.valid_up_to()]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            at_line(line, "is not valid UTF-8")
        })?;
        let mut lines = text
            .split('\n')
            .enumerate()
            .map(|(i, line)| (i + 1, line.strip_suffix('\r').unwrap_or(line)))
            .filter(|(_, line)| !line.trim().is_empty());

        let mut manifest = Manifest::new();
        let Some((n, first)) = lines.next() else {
            return Ok(manifest);
        };
        if !first.starts_with("version=") {
            return Err(at_line(
                n,
                format!(
                    "the first line must start with `version=`, found {:?}",
                    preview(first)
                ),
            ));
        }
        let Some((n, header)) = lines.next() else {
            return Err(at_line(n + 1, "the header line (`path;mode;…`) is missing"));
        };
        let width = parse_header(n, header)?;

        let mut fields: Vec<&str> = Vec::with_capacity(width + 2);
        for (n, line) in lines {
            fields.clear();
            fields.extend(line.split(';'));
            let record = parse_record(n, &fields, width)?;
            match manifest.records.entry(record.path.clone()) {
                Entry::Vacant(slot) => {
                    slot.insert(record);
                }
                Entry::Occupied(_) => {
                    return Err(at_line(n, format!("duplicate path {:?}", record.path)))
                }
            }
        }
        Ok(manifest)
    }

    /// Reads and parses the manifest behind a caller's fd from offset 0 with `pread` (the
    /// caller's file position is left alone). A closed, write-only or directory fd is 13900020.
    pub fn read_from(file: &File) -> Result<Manifest> {
        let bad_fd = |e: io::Error| match e.raw_os_error() {
            Some(libc::EBADF | libc::EISDIR | libc::ESPIPE | libc::EINVAL) => Error::new(
                ErrorCode::InvalidArgument,
                format!("manifest fd is invalid: {e}"),
            ),
            _ => Error::io(&e, "reading the manifest"),
        };
        let hint = file
            .metadata()
            .map_err(bad_fd)?
            .len()
            .min(MAX_MANIFEST_BYTES);
        let mut buf = Vec::with_capacity(hint as usize);
        let mut chunk = vec![0u8; 256 * 1024];
        loop {
            match file.read_at(&mut chunk, buf.len() as u64) {
                Ok(0) => break,
                Ok(n) => {
                    buf.extend_from_slice(&chunk[..n]);
                    if buf.len() as u64 > MAX_MANIFEST_BYTES {
                        return Err(invalid(format!(
                            "the manifest is larger than {MAX_MANIFEST_BYTES} bytes"
                        )));
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(bad_fd(e)),
            }
        }
        Manifest::parse(&buf)
    }
}

impl<'a> IntoIterator for &'a Manifest {
    type Item = &'a ManifestRecord;
    type IntoIter = std::vec::IntoIter<&'a ManifestRecord>;

    fn into_iter(self) -> Self::IntoIter {
        self.sorted().into_iter()
    }
}

/// Checks the header line and returns its number of columns.
fn parse_header(n: usize, header: &str) -> Result<usize> {
    let keys: Vec<&str> = header.split(';').collect();
    if keys.len() < MIN_FIELDS {
        return Err(at_line(
            n,
            format!(
                "the header has {} columns, at least {MIN_FIELDS} are needed (found {:?})",
                keys.len(),
                preview(header)
            ),
        ));
    }
    for (i, (&key, expected)) in keys.iter().zip(REQUIRED_KEYS).enumerate() {
        if key != expected {
            return Err(at_line(
                n,
                format!(
                    "header column {} is {:?}, expected `{expected}`",
                    i + 1,
                    preview(key)
                ),
            ));
        }
    }
    if let Some(&key) = keys.get(MIN_FIELDS) {
        if key != "encodeFlag" {
            return Err(at_line(
                n,
                format!(
                    "header column {} is {:?}, expected `encodeFlag`",
                    MIN_FIELDS + 1,
                    preview(key)
                ),
            ));
        }
    }
    Ok(keys.len())
}

/// Builds the record of line `n` from its `;`-separated fields.
fn parse_record(n: usize, fields: &[&str], width: usize) -> Result<ManifestRecord> {
    // How many columns this record has: the header's, or 7 (no encodeFlag); with more fields
    // than that, the extras belong to a path with a raw `;`.
    let columns = if fields.len() == MIN_FIELDS {
        MIN_FIELDS
    } else if fields.len() >= width {
        width
    } else {
        return Err(field_count(n, fields.len(), width));
    };
    let split = fields.len() - (columns - 1);
    let (path_parts, rest) = fields.split_at(split);
    let encoded = columns > MIN_FIELDS && flag(n, "encodeFlag", rest[MIN_FIELDS - 1])?;
    if encoded && path_parts.len() > 1 {
        return Err(field_count(n, fields.len(), width));
    }
    let raw_path: Cow<str> = if path_parts.len() == 1 {
        Cow::Borrowed(path_parts[0])
    } else {
        Cow::Owned(path_parts.join(";"))
    };
    let decoded = if encoded {
        Cow::Owned(percent_decode(&raw_path).map_err(|p| at_line(n, p))?)
    } else {
        raw_path
    };
    let path = normalize_path(&decoded).map_err(|p| at_line(n, p))?;

    Ok(ManifestRecord {
        path,
        mode: parse_mode(rest[0]).ok_or_else(|| {
            at_line(
                n,
                format!(
                    "mode {:?} is neither decimal nor 0-prefixed octal",
                    preview(rest[0])
                ),
            )
        })?,
        is_dir: flag(n, "dir", rest[1])?,
        size: number(n, "size", rest[2])?,
        mtime: number(n, "mtime", rest[3])?,
        hash: rest[4].to_owned(),
        is_incremental: flag(n, "isIncremental", rest[5])?,
    })
}

fn field_count(n: usize, found: usize, width: usize) -> Error {
    let expected = if width == MIN_FIELDS {
        format!("{MIN_FIELDS}")
    } else {
        format!("{width} or {MIN_FIELDS}")
    };
    at_line(
        n,
        format!("the record has {found} fields, expected {expected}"),
    )
}

/// `st_mode`: `0`-prefixed text is octal (`0644`), other digits decimal (`33188`).
fn parse_mode(text: &str) -> Option<u32> {
    if text.is_empty() || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    match text.strip_prefix('0') {
        Some(octal) if !octal.is_empty() => u32::from_str_radix(octal, 8).ok(),
        _ => text.parse().ok(),
    }
}

/// A decimal integer field (an optional `-`, then digits; no `+`, no spaces).
fn number<T: std::str::FromStr>(n: usize, name: &str, text: &str) -> Result<T> {
    let digits = text.strip_prefix('-').unwrap_or(text);
    let parsed = if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        text.parse().ok()
    } else {
        None
    };
    parsed.ok_or_else(|| {
        at_line(
            n,
            format!("{name} {:?} is not a decimal number", preview(text)),
        )
    })
}

/// A `0`/`1` flag field.
fn flag(n: usize, name: &str, text: &str) -> Result<bool> {
    match text {
        "0" => Ok(false),
        "1" => Ok(true),
        _ => Err(at_line(
            n,
            format!("{name} {:?} is not 0 or 1", preview(text)),
        )),
    }
}

/// Ensures the leading `/`, collapses repeated `/`, drops a trailing `/`; rejects `.`/`..`
/// components, NUL bytes and the bare root. The error is the problem, without a line number.
fn normalize_path(raw: &str) -> std::result::Result<String, String> {
    if raw.contains('\0') {
        return Err(format!("path {raw:?} contains a NUL byte"));
    }
    // Most paths are already normal: absolute, no empty, `.` or `..` component, no trailing `/`.
    let plain = raw.starts_with('/')
        && raw.len() > 1
        && !raw.ends_with('/')
        && !raw[1..]
            .split('/')
            .any(|c| c.is_empty() || c == "." || c == "..");
    if plain {
        return Ok(raw.to_string());
    }
    let mut out = String::with_capacity(raw.len() + 1);
    for component in raw.split('/') {
        match component {
            "" => {}
            "." | ".." => {
                return Err(format!(
                    "path {raw:?} is not a plain absolute path (it has a `{component}` component)"
                ))
            }
            name => {
                out.push('/');
                out.push_str(name);
            }
        }
    }
    if out.is_empty() {
        return Err(format!("path {raw:?} names no file"));
    }
    Ok(out)
}

/// Writes the two header lines; then [`write_record`] may stream records in any order (a reader
/// does not need them sorted) without holding a whole manifest in memory.
pub fn write_header(out: &mut impl Write) -> io::Result<()> {
    writeln!(out, "{VERSION_LINE}")?;
    writeln!(out, "{HEADER_LINE}")
}

/// Writes one record line. The caller vouches for the path (absolute and normalised, as a scan
/// produces it) and the hash (hex); [`Manifest::insert`] is the checked way.
pub fn write_record(out: &mut impl Write, r: &ManifestRecord) -> io::Result<()> {
    let encode = needs_encoding(&r.path);
    if encode {
        write_encoded(out, &r.path)?;
    } else {
        out.write_all(r.path.as_bytes())?;
    }
    writeln!(
        out,
        ";{};{};{};{};{};{};{}",
        r.mode,
        u8::from(r.is_dir),
        r.size,
        r.mtime,
        r.hash,
        u8::from(r.is_incremental),
        u8::from(encode)
    )
}

/// Whether a path must be written percent-encoded (it would break the line/field structure, or
/// holds a `%` that a reader could mistake for an escape).
fn needs_encoding(path: &str) -> bool {
    path.contains([';', '\n', '\r', '%'])
}

/// The bytes OpenHarmony's `SandboxHelper::Encode` keeps as they are.
fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"/-_.!~*()'".contains(&b)
}

fn write_encoded(out: &mut impl Write, path: &str) -> io::Result<()> {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    for &b in path.as_bytes() {
        if is_unreserved(b) {
            out.write_all(&[b])?;
        } else {
            out.write_all(&[
                b'%',
                DIGITS[usize::from(b >> 4)],
                DIGITS[usize::from(b & 0x0f)],
            ])?;
        }
    }
    Ok(())
}

/// Decodes `%XX` escapes (either case); the result must be UTF-8.
fn percent_decode(text: &str) -> std::result::Result<String, String> {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = |k: usize| bytes.get(k).and_then(|&c| (c as char).to_digit(16));
            match (hex(i + 1), hex(i + 2)) {
                (Some(hi), Some(lo)) => out.push((hi * 16 + lo) as u8),
                _ => {
                    let end = (i + 3).min(bytes.len());
                    return Err(format!(
                        "bad percent escape {:?} in path {:?}",
                        String::from_utf8_lossy(&bytes[i..end]),
                        preview(text)
                    ));
                }
            }
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| format!("path {:?} decodes to invalid UTF-8", preview(text)))
}

/// At most 60 characters of `text`, for error messages.
fn preview(text: &str) -> Cow<'_, str> {
    match text.char_indices().nth(60) {
        Some((end, _)) => Cow::Owned(format!("{}…", &text[..end])),
        None => Cow::Borrowed(text),
    }
}

fn invalid(detail: impl Into<String>) -> Error {
    Error::new(ErrorCode::InvalidArgument, detail)
}

fn at_line(n: usize, problem: impl Display) -> Error {
    invalid(format!("manifest line {n}: {problem}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Seek, SeekFrom};

    const HEAD: &str =
        "version=1.0&attrNum=8\npath;mode;dir;size;mtime;hash;isIncremental;encodeFlag\n";
    const FILES: &str = "/data/storage/el2/base/files";

    fn file(path: &str, size: u64, hash: &str) -> ManifestRecord {
        ManifestRecord {
            path: path.to_owned(),
            mode: 0o100644,
            is_dir: false,
            size,
            mtime: 1_700_000_000,
            hash: hash.to_owned(),
            is_incremental: true,
        }
    }

    fn dir(path: &str) -> ManifestRecord {
        ManifestRecord {
            path: path.to_owned(),
            mode: 0o40771,
            is_dir: true,
            size: 4096,
            mtime: 1_600_000_000,
            hash: String::new(),
            is_incremental: false,
        }
    }

    fn manifest_of(records: impl IntoIterator<Item = ManifestRecord>) -> Manifest {
        let mut m = Manifest::new();
        for r in records {
            assert!(m.insert(r).unwrap().is_none());
        }
        m
    }

    /// Parses `text`, expecting a 13900020 whose detail contains every piece of `parts`.
    fn rejects(text: &[u8], parts: &[&str]) {
        let err = Manifest::parse(text).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidArgument, "{err}");
        for p in parts {
            assert!(err.detail().contains(p), "{:?} lacks {p:?}", err.detail());
        }
    }

    #[test]
    fn writes_the_exact_openharmony_layout() {
        let m = manifest_of([
            file(&format!("{FILES}/b.txt"), 5, "2CF24D"),
            dir(&format!("{FILES}/sub")),
            file(&format!("{FILES}/a;b"), 0, ""),
        ]);
        let text = String::from_utf8(m.to_bytes()).unwrap();
        assert_eq!(
            text,
            format!(
                "{HEAD}\
                 {FILES}/a%3Bb;33188;0;0;1700000000;;1;1\n\
                 {FILES}/b.txt;33188;0;5;1700000000;2CF24D;1;0\n\
                 {FILES}/sub;16889;1;4096;1600000000;;0;0\n"
            )
        );
    }

    #[test]
    fn an_empty_manifest_is_written_as_the_two_header_lines() {
        assert_eq!(Manifest::new().to_bytes(), HEAD.as_bytes());
        assert!(Manifest::parse(HEAD.as_bytes()).unwrap().is_empty());
    }

    #[test]
    fn round_trips_files_dirs_unicode_and_special_names() {
        let names = [
            "a.txt",
            "中文 文件.txt",
            "emoji 😀",
            "semi;colon",
            "line\nbreak",
            "carriage\rreturn",
            "100%",
            "%41 literal",
            "sp ace;'q' (x)~!*-_.",
        ];
        let mut records: Vec<ManifestRecord> = names
            .iter()
            .enumerate()
            .map(|(i, n)| file(&format!("{FILES}/{n}"), i as u64, &format!("H{i}")))
            .collect();
        records.push(dir(&format!("{FILES}/dir;with\nspecials")));
        records.push(dir(FILES));
        let m = manifest_of(records.clone());
        let bytes = m.to_bytes();
        let back = Manifest::parse(&bytes).unwrap();
        assert_eq!(back, m);
        assert_eq!(back.len(), records.len());
        for r in &records {
            assert_eq!(back.get(&r.path), Some(r));
        }
        // Exactly two header lines plus one line per record: no raw break survived in a path.
        let text = String::from_utf8(bytes).unwrap();
        assert_eq!(text.lines().count(), 2 + records.len());
        assert!(!text.contains('\r'));
        // Unicode without specials is written raw with encodeFlag 0; specials are %XX, flag 1.
        assert!(text.contains(&format!("{FILES}/中文 文件.txt;33188;0;1;")));
        assert!(text.contains("/files/100%25;33188;0;6;1700000000;H6;1;1\n"));
        assert!(text.contains("/files/line%0Abreak;"));
        assert!(text.contains("/files/carriage%0Dreturn;"));
        assert!(text.contains("/files/%2541%20literal;"));
        assert!(text.contains("/files/sp%20ace%3B'q'%20(x)~!*-_.;33188;0;8;1700000000;H8;1;1\n"));
    }

    #[test]
    fn reads_the_report_entity_test_example() {
        // b_report_entity_test GetReportInfos_0100: attrNum says 6, the header has 7 columns,
        // CRLF line ends, no final newline, and the mode is octal text.
        let text = "version=1.0&attrNum=6\r\npath;mode;dir;size;mtime;hash;isIncremental\r\n\
                    /a.txt;0644;0;1;1501927260;ASDasadSDASDA;1";
        let m = Manifest::parse(text.as_bytes()).unwrap();
        assert_eq!(m.len(), 1);
        assert_eq!(
            m.get("/a.txt"),
            Some(&ManifestRecord {
                path: "/a.txt".into(),
                mode: 0o644,
                is_dir: false,
                size: 1,
                mtime: 1501927260,
                hash: "ASDasadSDASDA".into(),
                is_incremental: true,
            })
        );
    }

    #[test]
    fn mode_is_octal_with_a_leading_zero_and_decimal_otherwise() {
        assert_eq!(parse_mode("0644"), Some(0o644));
        assert_eq!(parse_mode("0660"), Some(432));
        assert_eq!(parse_mode("644"), Some(644));
        assert_eq!(parse_mode("33188"), Some(0o100644));
        assert_eq!(parse_mode("0100644"), Some(33188));
        assert_eq!(parse_mode("0"), Some(0));
        assert_eq!(parse_mode("0689"), None);
        assert_eq!(parse_mode("+644"), None);
        assert_eq!(parse_mode(""), None);
        assert_eq!(parse_mode("99999999999"), None);
    }

    #[test]
    fn reads_the_stat_file_and_extension_forms() {
        // Storage scan: decimal st_mode, empty hash. Extension: `usertar` in column 7, which is
        // read as isIncremental. Paths without the leading slash (how OpenHarmony keys them) and
        // a directory with a trailing slash are normalised.
        let text = "version=1.0&attrNum=8\n\
                    path;mode;dir;size;mtime;hash;usertar;encodeFlag\n\
                    /data/storage/el2/base/files/a.txt;33188;0;5;1700000000;;1;0\n\
                    data/storage/el2/base/files/sub/;16889;1;4096;1600000000;;0;0\n\
                    //data//storage/el2/base/files/b;33188;0;3;-5;ABC;0;0\n";
        let m = Manifest::parse(text.as_bytes()).unwrap();
        let paths: Vec<&str> = m.paths().collect();
        assert_eq!(
            paths,
            [
                "/data/storage/el2/base/files/a.txt",
                "/data/storage/el2/base/files/b",
                "/data/storage/el2/base/files/sub",
            ]
        );
        let a = m.get(paths[0]).unwrap();
        assert_eq!((a.mode, a.size, a.is_incremental), (33188, 5, true));
        assert_eq!(a.hash, "");
        let b = m.get(paths[1]).unwrap();
        assert_eq!(
            (b.mtime, b.hash.as_str(), b.is_incremental),
            (-5, "ABC", false)
        );
        let sub = m.get(paths[2]).unwrap();
        assert!(sub.is_dir);
        assert_eq!(sub.mode, 0o40771);
    }

    #[test]
    fn tolerates_crlf_blank_lines_and_a_missing_final_newline() {
        let text = "\n\r\nversion=1.0&attrNum=8\r\n\r\n  \n\
                    path;mode;dir;size;mtime;hash;isIncremental;encodeFlag\r\n\n\
                    /a;33188;0;1;2;H;1;0\r\n\r\n\n\
                    /b;33188;0;1;2;H;0\r\n\
                    /c%3B;33188;0;1;2;H;0;1";
        let m = Manifest::parse(text.as_bytes()).unwrap();
        let paths: Vec<&str> = m.paths().collect();
        assert_eq!(paths, ["/a", "/b", "/c;"]);
        // The 7-field record has no encodeFlag: its path is taken literally.
        assert!(!m.get("/b").unwrap().is_incremental);
        assert!(m.get("/a").unwrap().is_incremental);
    }

    #[test]
    fn empty_or_blank_input_is_an_empty_manifest() {
        for text in ["", "\n", " \r\n\t\n", "\u{a0}\n"] {
            assert!(
                Manifest::parse(text.as_bytes()).unwrap().is_empty(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn a_raw_semicolon_in_an_unencoded_path_is_joined_like_openharmony() {
        let text = format!("{HEAD}/x/a;b;c;33188;0;1;2;H;1;0\n");
        let m = Manifest::parse(text.as_bytes()).unwrap();
        assert_eq!(m.paths().collect::<Vec<_>>(), ["/x/a;b;c"]);
        // Written back, the path is percent-encoded.
        let again = String::from_utf8(m.to_bytes()).unwrap();
        assert!(again.contains("/x/a%3Bb%3Bc;33188;0;1;2;H;1;1\n"));
        assert_eq!(Manifest::parse(again.as_bytes()).unwrap(), m);
        // Same with a 7-column header (a manifest from before encodeFlag existed).
        let old = "version=1.0&attrNum=7\npath;mode;dir;size;mtime;hash;isIncremental\n\
                   /y;z;33188;0;1;2;H;1\n";
        let m = Manifest::parse(old.as_bytes()).unwrap();
        assert_eq!(m.paths().collect::<Vec<_>>(), ["/y;z"]);
    }

    #[test]
    fn decodes_lower_case_escapes_and_keeps_percent_when_not_encoded() {
        let text = format!("{HEAD}%2fa%3bb%e4%b8%ad;33188;0;1;2;;1;1\n/p%41;33188;0;1;2;;1;0\n");
        let m = Manifest::parse(text.as_bytes()).unwrap();
        assert!(m.get("/a;b中").is_some());
        assert!(m.get("/p%41").is_some());
    }

    #[test]
    fn rejects_a_garbled_or_missing_first_line() {
        rejects(
            b"path;mode;dir;size;mtime;hash;isIncremental\n/a;1;0;1;2;;0\n",
            &["line 1", "version="],
        );
        rejects(b"\n\nhello\n", &["line 3", "version=", "\"hello\""]);
    }

    #[test]
    fn rejects_a_missing_or_short_header() {
        rejects(b"version=1.0&attrNum=8\n", &["line 2", "header"]);
        rejects(b"version=1.0&attrNum=8", &["line 2", "header"]);
        rejects(
            b"version=1.0&attrNum=6\npath;mode;dir;size;mtime;hash\n",
            &["line 2", "6 columns", "at least 7"],
        );
        rejects(
            b"version=1.0&attrNum=8\npath;mode;isDir;size;mtime;hash;isIncremental\n",
            &["line 2", "column 3", "\"isDir\"", "`dir`"],
        );
        rejects(
            b"version=1.0&attrNum=8\npath;mode;dir;size;mtime;hash;isIncremental;flag\n",
            &["line 2", "column 8", "`encodeFlag`"],
        );
    }

    #[test]
    fn rejects_a_record_with_the_wrong_number_of_fields() {
        let short = format!("{HEAD}/a;33188;0;1;2;H\n");
        rejects(short.as_bytes(), &["line 3", "6 fields", "expected 8 or 7"]);
        let header7 =
            "version=1.0&attrNum=7\npath;mode;dir;size;mtime;hash;isIncremental\n\n/a;1;0;1;2\n";
        rejects(header7.as_bytes(), &["line 4", "5 fields", "expected 7"]);
        // An encoded path has no raw `;`, so an extra field there is garbage, not a path part.
        let extra = format!("{HEAD}/a;b;33188;0;1;2;H;1;1\n");
        rejects(extra.as_bytes(), &["line 3", "9 fields"]);
        // With a 9-column header, 8 fields is neither the header's count nor 7.
        let wide = "version=1.0&attrNum=9\n\
                    path;mode;dir;size;mtime;hash;isIncremental;encodeFlag;future\n\
                    /a;1;0;1;2;H;1;0\n";
        rejects(wide.as_bytes(), &["line 3", "8 fields", "expected 9 or 7"]);
    }

    #[test]
    fn accepts_extra_header_columns_and_ignores_them() {
        let wide = "version=1.0&attrNum=9\n\
                    path;mode;dir;size;mtime;hash;isIncremental;encodeFlag;future\n\
                    /a;1;0;1;2;H;1;0;whatever\n/b;1;0;1;2;H;1\n";
        let m = Manifest::parse(wide.as_bytes()).unwrap();
        assert_eq!(m.paths().collect::<Vec<_>>(), ["/a", "/b"]);
    }

    #[test]
    fn rejects_bad_numbers_and_flags() {
        for (record, parts) in [
            ("/a;33188;0;abc;2;H;1;0", &["size", "\"abc\""][..]),
            ("/a;33188;0;;2;H;1;0", &["size", "\"\""]),
            ("/a;33188;0;-1;2;H;1;0", &["size", "\"-1\""]),
            ("/a;33188;0;+1;2;H;1;0", &["size", "\"+1\""]),
            ("/a;33188;0;99999999999999999999;2;H;1;0", &["size"]),
            ("/a;33188;0;1;12x;H;1;0", &["mtime", "\"12x\""]),
            ("/a;33188;0;1; 2;H;1;0", &["mtime"]),
            ("/a;0689;0;1;2;H;1;0", &["mode", "\"0689\"", "octal"]),
            ("/a;rw-r--r--;0;1;2;H;1;0", &["mode"]),
            ("/a;33188;2;1;2;H;1;0", &["dir", "\"2\"", "0 or 1"]),
            ("/a;33188;0;1;2;H;yes;0", &["isIncremental", "\"yes\""]),
            ("/a;33188;0;1;2;H;1;true", &["encodeFlag", "\"true\""]),
        ] {
            let text = format!("{HEAD}/ok;1;0;1;2;H;1;0\n{record}\n");
            let mut all = vec!["line 4"];
            all.extend_from_slice(parts);
            rejects(text.as_bytes(), &all);
        }
    }

    #[test]
    fn rejects_bad_escapes_and_invalid_utf8() {
        for (path, what) in [
            ("/a%4", "\"%4\""),
            ("/a%", "\"%\""),
            ("/a%ZZb", "\"%ZZ\""),
            ("/a%FF", "invalid UTF-8"),
        ] {
            let text = format!("{HEAD}{path};1;0;1;2;H;1;1\n");
            rejects(text.as_bytes(), &["line 3", what]);
        }
        let mut raw = format!("{HEAD}/ok;1;0;1;2;H;1;0\n/a").into_bytes();
        raw.extend_from_slice(b"\xff\xfe;1;0;1;2;H;1;0\n");
        rejects(&raw, &["line 4", "UTF-8"]);
    }

    #[test]
    fn rejects_relative_dot_components_nul_and_root() {
        for (path, encoded, what) in [
            ("./a", "0", "`.` component"),
            ("/a/../b", "0", "`..` component"),
            ("..", "0", "`..` component"),
            ("/a/%2E%2E/b", "1", "`..` component"),
            ("/", "0", "names no file"),
            ("", "0", "names no file"),
            ("/a%00", "1", "NUL"),
        ] {
            let text = format!("{HEAD}{path};1;0;1;2;H;1;{encoded}\n");
            rejects(text.as_bytes(), &["line 3", what]);
        }
    }

    #[test]
    fn rejects_duplicate_paths_in_either_form() {
        let text = format!("{HEAD}/a/b;1;0;1;2;H;1;0\n\na/b/;1;0;1;2;H;1;0\n");
        rejects(text.as_bytes(), &["line 5", "duplicate path \"/a/b\""]);
    }

    #[test]
    fn insert_normalises_validates_and_replaces() {
        let mut m = Manifest::new();
        assert!(m.insert(dir("/x/sub/")).unwrap().is_none());
        assert!(m.get("/x/sub").unwrap().is_dir);
        let old = m.insert(file("/x//sub", 1, "H")).unwrap().unwrap();
        assert!(old.is_dir);
        assert_eq!(m.len(), 1);
        assert!(!m.get("/x/sub").unwrap().is_dir);

        for bad in ["x/a", "/x/../a", "/", "/a\0b"] {
            let err = m.insert(file(bad, 0, "")).unwrap_err();
            assert_eq!(err.code(), ErrorCode::InvalidArgument, "{bad:?}");
        }
        let err = m.insert(file("/x/a", 0, "A;B")).unwrap_err();
        assert!(err.detail().contains("hash"), "{err}");
        assert_eq!(m.len(), 1);
    }

    #[test]
    fn iterates_in_path_order() {
        let m = manifest_of([file("/c", 0, ""), file("/a/z", 0, ""), file("/a", 0, "")]);
        let order: Vec<&str> = m.iter().map(|r| r.path.as_str()).collect();
        assert_eq!(order, ["/a", "/a/z", "/c"]);
        let order: Vec<&str> = (&m).into_iter().map(|r| r.path.as_str()).collect();
        assert_eq!(order, ["/a", "/a/z", "/c"]);
        assert!(!m.is_empty());
        assert!(m.get("/b").is_none());
    }

    #[test]
    fn parses_a_hundred_thousand_records() {
        let mut text = String::from(HEAD);
        for i in 0..100_000 {
            text.push_str(&format!(
                "{FILES}/d{}/file-{i}.bin;33188;0;{i};1700000000;{:064X};{};0\n",
                i % 97,
                i,
                i % 2
            ));
        }
        let m = Manifest::parse(text.as_bytes()).unwrap();
        assert_eq!(m.len(), 100_000);
        let r = m.get(&format!("{FILES}/d3/file-99913.bin")).unwrap();
        assert_eq!((r.size, r.is_incremental), (99913, true));
        assert_eq!(r.hash, format!("{:064X}", 99913));
        assert_eq!(m.to_bytes().len(), text.len());
    }

    #[test]
    fn read_from_uses_offset_zero_and_keeps_the_position() {
        let m = manifest_of([file("/a", 1, "H"), dir("/d")]);
        let mut f = tempfile::tempfile().unwrap();
        m.write(&mut f).unwrap();
        let end = f.stream_position().unwrap();
        assert_eq!(Manifest::read_from(&f).unwrap(), m);
        assert_eq!(f.stream_position().unwrap(), end);
        f.seek(SeekFrom::Start(3)).unwrap();
        assert_eq!(Manifest::read_from(&f).unwrap(), m);
        assert_eq!(f.stream_position().unwrap(), 3);
        // An empty file is "no previous backup".
        assert!(Manifest::read_from(&tempfile::tempfile().unwrap())
            .unwrap()
            .is_empty());
    }

    #[test]
    fn read_from_reports_an_invalid_fd() {
        let t = tempfile::tempdir().unwrap();
        let write_only = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(t.path().join("m.rp"))
            .unwrap();
        let directory = File::open(t.path()).unwrap();
        for f in [&write_only, &directory] {
            let err = Manifest::read_from(f).unwrap_err();
            assert_eq!(err.code(), ErrorCode::InvalidArgument);
            assert_eq!(err.code().code(), 13900020);
            assert!(err.detail().starts_with("manifest fd is invalid"), "{err}");
        }
    }

    #[test]
    fn read_from_reports_a_malformed_file_with_its_line() {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(format!("{HEAD}/a;1;0;x;2;H;1;0\n").as_bytes())
            .unwrap();
        let err = Manifest::read_from(&f).unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidArgument);
        assert!(err.detail().contains("line 3"), "{err}");
    }
}
