//! Failures of a cloud backend. The outcomes the engine must act on (a lost compare-and-swap, a
//! missing object, a full cloud, a stale cursor) are variants it can match, never codes or text
//! it would have to parse; everything else carries the public [`Error`]. Each variant still has a
//! public code so that one escaping to C or JS reads sensibly.

use std::fmt;

use crate::error::{Error, ErrorCode};

/// The result type of [`CloudBackend`](super::CloudBackend) methods.
pub type CloudResult<T> = std::result::Result<T, CloudError>;

/// A cloud backend failure.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CloudError {
    /// A put/delete/get condition did not hold (code 13900015, "File exists": the closest public
    /// code to HTTP 412). `current` is the version found, `None` when the key was free.
    PreconditionFailed {
        /// The namespace.
        ns: String,
        /// The key.
        key: String,
        /// The version found instead of the one expected (`None`: no object).
        current: Option<String>,
    },
    /// No object under the key (13900002).
    NotFound {
        /// The namespace.
        ns: String,
        /// The key.
        key: String,
    },
    /// The put would take the cloud over its quota (13900041, E_DQUOT); the engine reports it as
    /// `ErrorType.CLOUD_STORAGE_FULL`.
    Full {
        /// The quota in bytes.
        quota: u64,
        /// Bytes used before the put.
        used: u64,
        /// Bytes the put would add (net of the object it replaces).
        needed: u64,
    },
    /// The cursor was not issued by this namespace as it is now (it was wiped or replaced):
    /// pull everything again from cursor 0 (13900020).
    CursorExpired {
        /// The namespace.
        ns: String,
        /// The cursor passed.
        cursor: u64,
    },
    /// Any other failure.
    Other(Error),
}

impl CloudError {
    /// The public code.
    pub fn code(&self) -> ErrorCode {
        match self {
            CloudError::PreconditionFailed { .. } => ErrorCode::FileExists,
            CloudError::NotFound { .. } => ErrorCode::NoSuchFile,
            CloudError::Full { .. } => ErrorCode::QuotaExceeded,
            CloudError::CursorExpired { .. } => ErrorCode::InvalidArgument,
            CloudError::Other(e) => e.code(),
        }
    }

    /// Whether a put/delete/get condition failed (someone else changed the object first).
    pub fn is_precondition_failed(&self) -> bool {
        matches!(self, CloudError::PreconditionFailed { .. })
    }

    /// Whether the object does not exist.
    pub fn is_not_found(&self) -> bool {
        matches!(self, CloudError::NotFound { .. })
    }

    /// Whether the cloud is full (CLOUD_STORAGE_FULL).
    pub fn is_cloud_full(&self) -> bool {
        matches!(self, CloudError::Full { .. })
    }

    /// Whether the change cursor must be dropped for a full pull.
    pub fn is_cursor_expired(&self) -> bool {
        matches!(self, CloudError::CursorExpired { .. })
    }

    /// The detail: what failed, naming the namespace and key.
    fn detail(&self) -> String {
        match self {
            CloudError::PreconditionFailed { ns, key, current } => match current {
                Some(v) => format!("cloud object {ns}/{key} is at version {v}, not the one expected"),
                None => format!("cloud object {ns}/{key} does not exist, but a version was expected"),
            },
            CloudError::NotFound { ns, key } => format!("no cloud object {ns}/{key}"),
            CloudError::Full {
                quota,
                used,
                needed,
            } => format!(
                "cloud storage full: {used} of {quota} bytes used, the upload needs {needed} more"
            ),
            CloudError::CursorExpired { ns, cursor } => format!(
                "change cursor {cursor} was not issued by cloud namespace {ns} (reset?); pull again from 0"
            ),
            CloudError::Other(e) => e.detail().to_string(),
        }
    }
}

impl From<Error> for CloudError {
    fn from(e: Error) -> Self {
        CloudError::Other(e)
    }
}

impl From<CloudError> for Error {
    fn from(e: CloudError) -> Self {
        match e {
            CloudError::Other(e) => e,
            other => Error::new(other.code(), other.detail()),
        }
    }
}

impl fmt::Display for CloudError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CloudError::Other(e) => e.fmt(f),
            other => Error::new(other.code(), other.detail()).fmt(f),
        }
    }
}

impl std::error::Error for CloudError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variants_keep_their_public_codes_when_converted() {
        let e = CloudError::PreconditionFailed {
            ns: "com.a".into(),
            key: "x".into(),
            current: Some("7-ab".into()),
        };
        assert!(e.is_precondition_failed() && !e.is_not_found());
        let public: Error = e.into();
        assert_eq!(public.code().code(), 13900015);
        assert!(public.message().contains("com.a/x is at version 7-ab"));
        let full = CloudError::Full {
            quota: 10,
            used: 8,
            needed: 5,
        };
        assert!(full.is_cloud_full());
        assert_eq!(Error::from(full).code(), ErrorCode::QuotaExceeded);
        let other = CloudError::from(Error::new(ErrorCode::IoError, "disk"));
        assert_eq!(other.code(), ErrorCode::IoError);
        assert_eq!(Error::from(other).detail(), "disk");
    }
}
