//! What identifies a file without reading it — device, inode, size,
//! modification time — and how many names it has. On WASI the standard
//! library keeps inode and link count behind an unstable extension, so they
//! come from wasi-libc's `fstat` (the host derives the inode from
//! `wasi:filesystem`'s metadata hash and passes the link count through).

use std::fs::File;
use std::path::Path;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};

/// A file's identity and the state of its content, as far as the file
/// system tells without reading it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct FileState {
    pub size: u64,
    pub modified_secs: u64,
    pub modified_nanos: u32,
    pub device: u64,
    pub inode: u64,
}

impl FileState {
    /// The state of an open file; `None` where the platform does not tell a
    /// file's identity or its modification time.
    pub fn of(file: &File) -> Option<FileState> {
        let metadata = file.metadata().ok()?;
        let modified = metadata.modified().ok()?.duration_since(UNIX_EPOCH).ok()?;
        let stat = platform::stat(file, &metadata)?;
        Some(FileState {
            size: metadata.len(),
            modified_secs: modified.as_secs(),
            modified_nanos: modified.subsec_nanos(),
            device: stat.device,
            inode: stat.inode,
        })
    }

    /// The state of the file at `path`.
    pub fn at(path: &Path) -> Option<FileState> {
        FileState::of(&File::open(path).ok()?)
    }

    /// When the file was last modified.
    pub fn modified(&self) -> SystemTime {
        UNIX_EPOCH + Duration::new(self.modified_secs, self.modified_nanos)
    }

    /// Whether `other` is the same file (not just the same content).
    pub fn same_file(&self, other: &FileState) -> bool {
        (self.device, self.inode) == (other.device, other.inode)
    }
}

/// How many names (hard links) an open file has.
pub fn link_count(file: &File) -> Option<u64> {
    let metadata = file.metadata().ok()?;
    platform::stat(file, &metadata).map(|stat| stat.links)
}

struct Stat {
    device: u64,
    inode: u64,
    links: u64,
}

#[cfg(unix)]
mod platform {
    use std::fs::{File, Metadata};
    use std::os::unix::fs::MetadataExt;

    pub(super) fn stat(_file: &File, metadata: &Metadata) -> Option<super::Stat> {
        Some(super::Stat { device: metadata.dev(), inode: metadata.ino(), links: metadata.nlink() })
    }
}

#[cfg(target_os = "wasi")]
mod platform {
    use std::fs::{File, Metadata};
    use std::os::fd::AsRawFd;

    pub(super) fn stat(file: &File, _metadata: &Metadata) -> Option<super::Stat> {
        let mut stat = std::mem::MaybeUninit::<libc::stat>::uninit();
        // SAFETY: `fstat` gets a descriptor the `File` keeps open and a buffer
        // of the right type, which it fills whole when it returns 0.
        let stat = unsafe {
            if libc::fstat(file.as_raw_fd(), stat.as_mut_ptr()) != 0 {
                return None;
            }
            stat.assume_init()
        };
        Some(super::Stat { device: stat.st_dev, inode: stat.st_ino, links: stat.st_nlink })
    }
}

#[cfg(not(any(unix, target_os = "wasi")))]
mod platform {
    pub(super) fn stat(_file: &std::fs::File, _metadata: &std::fs::Metadata) -> Option<super::Stat> {
        None
    }
}
