//! Bringing one cloud object down into the synced folder: resumable, hash-checked, atomic.
