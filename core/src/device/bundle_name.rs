//! Bundle names are used as folder names, so they are validated strictly before any path is built.

use crate::error::{Error, ErrorCode, Result};

/// The longest bundle name OpenHarmony accepts.
pub const MAX_BUNDLE_NAME_LEN: usize = 128;

/// Checks a bundle name: 1..=128 of `[A-Za-z0-9_.]`, starting with a letter, no `..`, no trailing
/// `.`. Anything else is a clear 13900020 naming the value, never a path.
pub fn validate_bundle_name(name: &str) -> Result<()> {
    let fail = |why: &str| {
        Err(Error::new(
            ErrorCode::InvalidArgument,
            format!("bundle name {name:?} is invalid: {why}"),
        ))
    };
    if name.is_empty() {
        return fail("it is empty");
    }
    if name.len() > MAX_BUNDLE_NAME_LEN {
        return fail("it is longer than 128 characters");
    }
    if !name.as_bytes()[0].is_ascii_alphabetic() {
        return fail("it must start with a letter");
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || *c == '_' || *c == '.'))
    {
        return fail(&format!("character {c:?} is not one of [A-Za-z0-9_.]"));
    }
    if name.contains("..") {
        return fail("it contains \"..\"");
    }
    if name.ends_with('.') {
        return fail("it ends with \".\"");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_ordinary_names() {
        for n in [
            "com.example.hiworld",
            "a",
            "com.ex_ample.App2",
            &"a".repeat(128),
        ] {
            validate_bundle_name(n).unwrap();
        }
    }

    #[test]
    fn rejects_anything_path_like_or_odd() {
        for n in [
            "",
            "..",
            "../etc",
            "com/example",
            "/abs",
            "com..example",
            "com.example.",
            ".hidden",
            "1abc",
            "com example",
            "com-example",
            "com\0x",
            "名字",
            &"a".repeat(129),
        ] {
            let e = validate_bundle_name(n).unwrap_err();
            assert_eq!(e.code(), ErrorCode::InvalidArgument, "{n:?}");
            assert!(e.message().contains("bundle name"), "{}", e.message());
        }
    }
}
