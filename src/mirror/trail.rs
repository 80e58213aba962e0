//! Which host served each manifest and blob of this run, when mirrors are configured: kept
//! for `-o json` (`servedBy`), and said on stderr as it happens with `-v`. One command
//! runs per instance, single-threaded, so the trail is the thread's.

use std::cell::{Cell, RefCell};

/// One item served.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Served {
    /// `manifest` or `blob`.
    pub kind: &'static str,
    /// The digest served (or the tag resolved).
    pub what: String,
    /// `host[:port]` that served it.
    pub host: String,
    /// Whether that host is a mirror (not the registry itself).
    pub mirror: bool,
}

thread_local! {
    static TRAIL: RefCell<Vec<Served>> = const { RefCell::new(Vec::new()) };
    static VERBOSE: Cell<bool> = const { Cell::new(false) };
}

/// Say on stderr which host serves what, and why a mirror was passed over (`-v`).
pub fn set_verbose(on: bool) {
    VERBOSE.with(|v| v.set(on));
}

/// Record that `host` served `what`.
pub fn record(served: Served) {
    if VERBOSE.with(Cell::get) {
        let role = if served.mirror { "mirror" } else { "registry" };
        eprintln!("{} {}: served by {role} {}", served.kind, served.what, served.host);
    }
    TRAIL.with(|t| {
        let mut trail = t.borrow_mut();
        if !trail.contains(&served) {
            trail.push(served);
        }
    });
}

/// Say (with `-v`) that a mirror was passed over, and why.
pub fn passed_over(host: &str, what: &str, reason: &str) {
    if VERBOSE.with(Cell::get) {
        eprintln!("{what}: mirror {host} passed over: {reason}");
    }
}

/// Everything recorded so far, emptying the trail.
pub fn take() -> Vec<Served> {
    TRAIL.with(|t| std::mem::take(&mut *t.borrow_mut()))
}

/// The trail as JSON (`[{"kind","digest","host","mirror"}]`), emptying it; `None` when
/// nothing was recorded (no mirror configured for what was pulled).
pub fn take_json() -> Option<serde_json::Value> {
    let trail = take();
    (!trail.is_empty()).then(|| {
        trail
            .into_iter()
            .map(|s| serde_json::json!({"kind": s.kind, "digest": s.what, "host": s.host, "mirror": s.mirror}))
            .collect()
    })
}
