//! The per-folder sync state machine: start/stop with coalescing, listeners, last sync time.
