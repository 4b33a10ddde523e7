//! App backup extensions: child processes spoken to over a line protocol.
