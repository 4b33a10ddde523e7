//! Device–cloud sync. This first part is the cloud side the engine talks to: an object-storage
//! shaped [`CloudBackend`] trait (put/get/head/list/delete with versions, conditional writes and a
//! change feed), its embedded default [`LocalStore`] (a folder several device roots can share),
//! and where a device's cloud lives ([`cloud_root`]).

pub mod backend;
pub mod cloud_error;
pub mod local_store;
pub mod location;
pub mod object_key;

pub use backend::{
    Change, ChangeKind, ChangePage, CloudBackend, DeleteCondition, GetOptions, ObjectMeta,
    PutCondition, PutOptions,
};
pub use cloud_error::{CloudError, CloudResult};
pub use local_store::LocalStore;
pub use location::{cloud_quota, cloud_root, open_cloud};
pub use object_key::{validate_key, validate_namespace, MAX_KEY_LEN, MEDIA_NAMESPACE};
