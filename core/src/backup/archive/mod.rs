//! Tar parts, manage.json and safe placement of restored files beneath a sandbox.
