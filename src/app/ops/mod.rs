//! The `app` commands as operations: read a manifest, resolve what it names, write the lock
//! or the pinned manifest, bundle the artifacts into one OCI layout, relocate them to
//! another registry, verify a bundle on its own, pre-fetch into the cache. Each takes a request and returns an outcome; the CLI only parses
//! and prints.

mod batch;
mod bundle;
mod prefetch;
mod relocate;
mod resolve;
mod verify;

pub use bundle::{BUNDLE_LOCK, BUNDLE_MANIFEST, BundleOutcome, bundle};
pub use prefetch::{Prefetched, prefetch};
pub use relocate::{Move, RelocateOutcome, RelocateRequest, default_output, is_bundle, relocate};
pub use resolve::{PinOutcome, lock, pin, read_manifest, resolve};
pub use verify::{BundleCheck, verify_bundle};
