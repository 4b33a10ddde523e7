//! SHA-256 as the incremental manifest records it: upper-case hex, like OpenHarmony's extension.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;

use sha2::{Digest, Sha256};

/// How much of a file is hashed per read; big enough to keep syscalls rare, small enough to never
/// hold a whole file in memory.
const HASH_BUFFER_SIZE: usize = 256 * 1024;

/// The upper-case hex SHA-256 of `bytes`.
pub fn sha256_hex(bytes: &[u8]) -> String {
    upper_hex(&Sha256::digest(bytes))
}

/// The upper-case hex SHA-256 of a file's whole content, streamed from offset 0 with `pread`
/// (so the caller's file position is left alone; a pipe or socket is therefore an error).
pub fn sha256_file(file: &File) -> io::Result<String> {
    let mut hasher = Sha256::new();
    let mut buf = vec![0u8; HASH_BUFFER_SIZE];
    let mut offset = 0u64;
    loop {
        match file.read_at(&mut buf, offset) {
            Ok(0) => break,
            Ok(n) => {
                hasher.update(&buf[..n]);
                offset += n as u64;
            }
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        }
    }
    Ok(upper_hex(&hasher.finalize()))
}

fn upper_hex(digest: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = String::with_capacity(digest.len() * 2);
    for &b in digest {
        out.push(DIGITS[usize::from(b >> 4)] as char);
        out.push(DIGITS[usize::from(b & 0x0f)] as char);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Seek, SeekFrom, Write};

    const EMPTY: &str = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";
    const ABC: &str = "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD";

    #[test]
    fn sha256_hex_matches_the_fips_vectors_in_upper_case() {
        assert_eq!(sha256_hex(b""), EMPTY);
        assert_eq!(sha256_hex(b"abc"), ABC);
    }

    #[test]
    fn sha256_file_hashes_small_and_empty_files() {
        let mut f = tempfile::tempfile().unwrap();
        assert_eq!(sha256_file(&f).unwrap(), EMPTY);
        f.write_all(b"abc").unwrap();
        assert_eq!(sha256_file(&f).unwrap(), ABC);
    }

    #[test]
    fn sha256_file_streams_across_buffers_and_keeps_the_position() {
        // 2.5 buffers, with a pattern that differs per byte so a skipped or repeated chunk shows.
        let data: Vec<u8> = (0..HASH_BUFFER_SIZE * 5 / 2)
            .map(|i| (i % 251) as u8)
            .collect();
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(&data).unwrap();
        f.seek(SeekFrom::Start(7)).unwrap();
        assert_eq!(sha256_file(&f).unwrap(), sha256_hex(&data));
        assert_eq!(f.stream_position().unwrap(), 7);
    }

    #[test]
    fn sha256_file_reports_an_unreadable_fd() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("w");
        let f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .open(&path)
            .unwrap();
        let err = sha256_file(&f).unwrap_err();
        assert_eq!(err.raw_os_error(), Some(libc::EBADF));
    }
}
