//! What happens when the user interrupts a run (Ctrl-C, `SIGTERM`, a closed terminal): the
//! runner blocks those signals in every thread from the start and waits for them on a
//! thread of its own, so whatever the guest is doing (hashing, waiting on the network), it
//! removes the temporary files this run made in the directories it granted — the guest
//! names them with the run's identifier (`host_contract::RUN_ID`) — settles the views made
//! in the home directory (`view`), and exits with 128 + the signal's number, as a shell
//! does. Other processes' temporary files in a shared directory (the cache) are left alone.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use crate::sandbox::Sandbox;

/// What an interrupted run leaves to clean up, while the guest runs.
struct Active {
    run_id: String,
    /// Host directories the guest may write (views included).
    writable: Vec<PathBuf>,
    sandbox: Sandbox,
}

static ACTIVE: Mutex<Option<Active>> = Mutex::new(None);

/// Directory levels below a granted directory searched for temporary files (the cache's
/// `.ingest/`, `.seals/sha256/`).
const SEARCH_DEPTH: usize = 3;

/// A run identifier: unique among the runs of this machine at a time.
pub fn run_id() -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.subsec_nanos());
    format!("{:x}{:08x}", std::process::id(), nanos)
}

/// Blocks the interrupting signals in this thread and every thread started after it, and
/// starts the thread that waits for them. Call first, before any other thread starts.
#[cfg(unix)]
pub fn install() {
    // SAFETY: the set is initialised by sigemptyset before use; pthread_sigmask and sigwait
    // are called with valid pointers.
    unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for signal in [libc::SIGINT, libc::SIGTERM, libc::SIGHUP] {
            libc::sigaddset(&mut set, signal);
        }
        if libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut()) != 0 {
            return;
        }
        let waiting = set;
        std::thread::spawn(move || {
            let mut signal = 0;
            if libc::sigwait(&waiting, &mut signal) == 0 {
                interrupted(signal);
            }
        });
    }
}

#[cfg(not(unix))]
pub fn install() {}

/// From now until [`end`], an interruption cleans up after the run `run_id` in `sandbox`.
pub fn begin(run_id: &str, sandbox: Sandbox) {
    let writable = sandbox.preopens.iter().filter(|p| p.writable).map(|p| p.host.clone()).collect();
    let active = Active { run_id: run_id.to_owned(), writable, sandbox };
    *ACTIVE.lock().unwrap_or_else(|e| e.into_inner()) = Some(active);
}

/// The run finished: its sandbox is the caller's again (`None` if an interruption took it).
pub fn end() -> Option<Sandbox> {
    ACTIVE.lock().unwrap_or_else(|e| e.into_inner()).take().map(|active| active.sandbox)
}

fn interrupted(signal: i32) -> ! {
    crate::prompt::restore_terminal();
    // Holding the lock until exit: the run cannot settle its sandbox at the same time.
    let mut active = ACTIVE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(run) = active.take() {
        for dir in &run.writable {
            remove_temporaries(dir, &run.run_id, SEARCH_DEPTH);
        }
        let _ = run.sandbox.finish();
    }
    std::process::exit(128 + signal);
}

/// Removes this run's temporary files in `dir` and its subdirectories, `depth` levels down.
fn remove_temporaries(dir: &Path, run_id: &str, depth: usize) {
    let Ok(listing) = std::fs::read_dir(dir) else { return };
    for entry in listing.flatten() {
        let Ok(kind) = entry.file_type() else { continue };
        let name = entry.file_name();
        if kind.is_dir() && depth > 0 {
            remove_temporaries(&entry.path(), run_id, depth - 1);
        } else if kind.is_file() && crate::host_contract::is_temporary_of(&name.to_string_lossy(), run_id) {
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_runs_temporary_files_go() {
        let tmp = tempfile::tempdir().unwrap();
        let ingest = tmp.path().join("cache/.ingest");
        std::fs::create_dir_all(&ingest).unwrap();
        let mine = ingest.join(".ingest-abc123-00000000deadbeef.tmp");
        let theirs = ingest.join(".ingest-fff999-00000000deadbeef.tmp");
        let output = tmp.path().join("app.wasm");
        let pull = tmp.path().join(".wasmship-pull-abc123-0123456789abcdef.tmp");
        for file in [&mine, &theirs, &output, &pull] {
            std::fs::write(file, "x").unwrap();
        }
        remove_temporaries(tmp.path(), "abc123", SEARCH_DEPTH);
        assert!(!mine.exists() && !pull.exists());
        assert!(theirs.exists(), "another run's file stays");
        assert!(output.exists(), "finished files stay");
    }
}
