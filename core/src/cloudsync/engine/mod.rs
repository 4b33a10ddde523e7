//! One sync run: pull (cloud changes since the persisted cursor) then push (local changes up).
