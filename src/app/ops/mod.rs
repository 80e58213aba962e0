//! The `app` commands as operations: read a manifest, resolve what it names, write the lock
//! or the pinned manifest. Each takes a request and returns an outcome; the CLI only parses
//! and prints.

mod resolve;

pub use resolve::{PinOutcome, lock, pin, read_manifest, resolve};
