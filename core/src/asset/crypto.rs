//! AES-256-GCM with OpenHarmony's blob layout (`ciphertext ‖ tag(16) ‖ nonce(12)`), HKDF-SHA256 and
//! randomness from the OS.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Nonce};
use hkdf::Hkdf;
use sha2::Sha256;

use crate::error::{Error, ErrorCode, Result};

/// GCM tag length.
pub const TAG_LEN: usize = 16;
/// GCM nonce length.
pub const NONCE_LEN: usize = 12;

/// `N` random bytes from the OS (24000009 if the OS has none to give).
pub fn random<const N: usize>() -> Result<[u8; N]> {
    let mut b = [0u8; N];
    getrandom::fill(&mut b).map_err(|e| {
        Error::new(
            ErrorCode::AssetCryptoError,
            format!("no randomness from the OS: {e}"),
        )
    })?;
    Ok(b)
}

/// A 32-byte key derived from `ikm` for `info` (HKDF-SHA256 with `salt`).
pub fn derive_key(ikm: &[u8], salt: &[u8], info: &[u8]) -> [u8; 32] {
    let mut out = [0u8; 32];
    // 32 bytes is far below HKDF-SHA256's 8160-byte limit: expand cannot fail.
    let _ = Hkdf::<Sha256>::new(Some(salt), ikm).expand(info, &mut out);
    out
}

/// An AES-256-GCM cipher for `key`.
pub fn cipher(key: &[u8; 32]) -> Aes256Gcm {
    Aes256Gcm::new(key.into())
}

/// Encrypts `plain` with a fresh random nonce, binding `aad`.
pub fn seal(c: &Aes256Gcm, aad: &[u8], plain: &[u8]) -> Result<Vec<u8>> {
    let nonce = random::<NONCE_LEN>()?;
    let mut out = c
        .encrypt(Nonce::from_slice(&nonce), Payload { msg: plain, aad })
        .map_err(|_| Error::new(ErrorCode::AssetCryptoError, "AES-GCM encryption failed"))?;
    out.extend_from_slice(&nonce);
    Ok(out)
}

/// Decrypts a blob made by [`seal`]: 24000007 when the blob or its associated data was altered.
pub fn open(c: &Aes256Gcm, aad: &[u8], blob: &[u8]) -> Result<Vec<u8>> {
    if blob.len() <= TAG_LEN + NONCE_LEN {
        return Err(Error::new(
            ErrorCode::AssetDataCorrupted,
            "the encrypted blob is too short",
        ));
    }
    let (body, nonce) = blob.split_at(blob.len() - NONCE_LEN);
    c.decrypt(Nonce::from_slice(nonce), Payload { msg: body, aad })
        .map_err(|_| {
            Error::new(
                ErrorCode::AssetDataCorrupted,
                "the asset or its protected attributes were altered (authentication failed)",
            )
        })
}

/// Lowercase hex.
pub fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[(b >> 4) as usize] as char);
        s.push(DIGITS[(b & 15) as usize] as char);
    }
    s
}

/// Parses lowercase or uppercase hex.
pub fn unhex(s: &str) -> Option<Vec<u8>> {
    if s.len() & 1 == 1 {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    s.as_bytes()
        .chunks(2)
        .map(|p| Some(digit(p[0])? << 4 | digit(p[1])?))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_open_round_trip_and_tamper() {
        let c = cipher(&[7u8; 32]);
        let blob = seal(&c, b"aad", b"secret").unwrap();
        assert_eq!(blob.len(), 6 + TAG_LEN + NONCE_LEN);
        assert_eq!(open(&c, b"aad", &blob).unwrap(), b"secret");
        assert_eq!(
            open(&c, b"aaD", &blob).unwrap_err().code(),
            ErrorCode::AssetDataCorrupted
        );
        assert_eq!(
            open(&c, b"aad", &blob[..28]).unwrap_err().code(),
            ErrorCode::AssetDataCorrupted
        );
        assert_eq!(unhex(&hex(&[0, 0xab, 0xff])).unwrap(), vec![0, 0xab, 0xff]);
        assert!(unhex("abc").is_none() && unhex("zz").is_none());
    }
}
