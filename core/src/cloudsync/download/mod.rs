//! On-demand download (`CloudFileCache`, gallery `Download`), `cleanCache`, `getFileSyncState`.
