//! Verification seals of a cache's blobs. Once a blob file has been hashed
//! and found to match its digest, a seal records the file as it was then:
//! device, inode, size and modification time. While the file is still in
//! exactly that state its content has not been written since (every write
//! moves the modification time), so it can be handed out without hashing
//! 20 MB again; any difference means "hash it". A write within the same
//! clock tick as the seal could keep the modification time, so a seal is
//! only recorded for a file last modified well before its verification
//! began; blobs this process ingests get their modification time set back
//! for that reason. Seals live in `.seals/<alg>/<hex>`, are replaced
//! atomically, and are only a shortcut: a missing, unreadable or stale seal
//! costs a hash, never a wrong answer. `cache verify` hashes everything.

use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use super::file_state::FileState;
use crate::oci::Digest;

/// How long before the start of a verification a file must have been last
/// modified for its seal to count (more than a file-system clock tick, and
/// room for a network file system's clock to differ from ours).
pub const SETTLE_TIME: Duration = Duration::from_secs(2);

const SEALS_DIR: &str = ".seals";

/// The modification time a freshly verified blob gets before it is renamed
/// into place, so that its seal counts at once.
pub fn settled_modification_time() -> SystemTime {
    SystemTime::now() - SETTLE_TIME - Duration::from_millis(1)
}

/// The seals of one layout directory.
#[derive(Debug, Clone)]
pub struct Seals {
    dir: PathBuf,
}

impl Seals {
    pub fn new(root: &Path) -> Seals {
        Seals { dir: root.join(SEALS_DIR) }
    }

    fn path(&self, digest: &Digest) -> PathBuf {
        self.dir.join(digest.algorithm().name()).join(digest.hex())
    }

    /// Whether the blob `digest`, now in `state`, was verified in exactly that state.
    pub fn holds(&self, digest: &Digest, state: &FileState) -> bool {
        fs::read(self.path(digest))
            .ok()
            .and_then(|bytes| serde_json::from_slice::<FileState>(&bytes).ok())
            .is_some_and(|sealed| sealed == *state)
    }

    /// Record that the blob `digest` in `state` matched its digest, checked
    /// by a verification that began at `verification_start`. Nothing is
    /// recorded for a file modified too shortly before; failing to write a
    /// seal only means hashing next time.
    pub fn record(&self, digest: &Digest, state: &FileState, verification_start: SystemTime) {
        if state.modified() + SETTLE_TIME > verification_start {
            self.remove(digest);
            return;
        }
        let path = self.path(digest);
        let Ok(bytes) = serde_json::to_vec(state) else { return };
        if fs::create_dir_all(crate::fsutil::parent_dir(&path)).is_ok() {
            // A seal is written after its blob is on disk, and one lost or torn in a crash
            // reads as missing, so it is not synced itself.
            let _ = crate::fsutil::write_atomic_hint(&path, &bytes);
        }
    }

    /// Forget the seal of a blob (removed or found corrupt).
    pub fn remove(&self, digest: &Digest) {
        let _ = fs::remove_file(self.path(digest));
    }

    /// Remove seals whose blob is gone (deleted by hand, say) and leftovers
    /// that name no blob (a seal write cut off).
    pub fn forget_missing(&self, blob_exists: impl Fn(&Digest) -> bool) {
        let Ok(algorithms) = fs::read_dir(&self.dir) else { return };
        for algorithm in algorithms.flatten() {
            let Ok(seals) = fs::read_dir(algorithm.path()) else { continue };
            let algorithm = algorithm.file_name().to_string_lossy().into_owned();
            for seal in seals.flatten() {
                let name = seal.file_name().to_string_lossy().into_owned();
                let digest = format!("{algorithm}:{name}").parse::<Digest>().ok();
                if !digest.is_some_and(|digest| blob_exists(&digest)) {
                    let _ = fs::remove_file(seal.path());
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch() -> PathBuf {
        let dir = std::env::temp_dir().join(format!("wasmship-seal-{:x}", crate::fsutil::random_u64()));
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    fn state_of(path: &Path) -> FileState {
        FileState::at(path).expect("unix tells identity and times")
    }

    fn digest() -> Digest {
        Digest::sha256_of(b"content")
    }

    #[test]
    fn a_seal_holds_while_the_file_is_untouched_and_breaks_on_a_write() {
        let dir = scratch();
        let blob = dir.join("blob");
        fs::write(&blob, b"content").unwrap();
        fs::File::options().write(true).open(&blob).unwrap().set_modified(settled_modification_time()).unwrap();
        let seals = Seals::new(&dir);
        let state = state_of(&blob);
        seals.record(&digest(), &state, SystemTime::now());
        assert!(seals.holds(&digest(), &state_of(&blob)));

        // Same size, new bytes: the modification time moves.
        fs::write(&blob, b"CONTENT").unwrap();
        assert!(!seals.holds(&digest(), &state_of(&blob)));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_replaced_by_another_with_the_same_times_breaks_the_seal() {
        let dir = scratch();
        let blob = dir.join("blob");
        fs::write(&blob, b"content").unwrap();
        let when = settled_modification_time();
        fs::File::options().write(true).open(&blob).unwrap().set_modified(when).unwrap();
        let seals = Seals::new(&dir);
        seals.record(&digest(), &state_of(&blob), SystemTime::now());

        let other = dir.join("other");
        fs::write(&other, b"CONTENT").unwrap();
        fs::File::options().write(true).open(&other).unwrap().set_modified(when).unwrap();
        fs::rename(&other, &blob).unwrap();
        assert!(!seals.holds(&digest(), &state_of(&blob)), "another inode");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_file_modified_just_before_verification_is_not_sealed() {
        let dir = scratch();
        let blob = dir.join("blob");
        fs::write(&blob, b"content").unwrap();
        let seals = Seals::new(&dir);
        let state = state_of(&blob);
        seals.record(&digest(), &state, SystemTime::now());
        assert!(!seals.holds(&digest(), &state), "a write in the same clock tick would go unnoticed");
        assert!(!dir.join(SEALS_DIR).join("sha256").join(digest().hex()).exists());

        // Verified again once it has settled: sealed.
        seals.record(&digest(), &state, state.modified() + SETTLE_TIME);
        assert!(seals.holds(&digest(), &state));
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn seals_of_missing_blobs_and_stray_files_are_forgotten() {
        let dir = scratch();
        let seals = Seals::new(&dir);
        let kept = Digest::sha256_of(b"kept");
        let gone = Digest::sha256_of(b"gone");
        for digest in [&kept, &gone] {
            let path = seals.path(digest);
            fs::create_dir_all(path.parent().unwrap()).unwrap();
            fs::write(&path, b"{}").unwrap();
        }
        let stray = seals.dir.join("sha256").join(".write-0123.tmp");
        fs::write(&stray, b"{").unwrap();
        seals.forget_missing(|digest| *digest == kept);
        assert!(seals.path(&kept).exists());
        assert!(!seals.path(&gone).exists());
        assert!(!stray.exists());
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn an_unreadable_seal_is_no_seal() {
        let dir = scratch();
        let blob = dir.join("blob");
        fs::write(&blob, b"content").unwrap();
        let seals = Seals::new(&dir);
        let path = seals.path(&digest());
        fs::create_dir_all(path.parent().unwrap()).unwrap();
        fs::write(&path, b"{not json").unwrap();
        assert!(!seals.holds(&digest(), &state_of(&blob)));
        fs::remove_dir_all(&dir).unwrap();
    }
}
