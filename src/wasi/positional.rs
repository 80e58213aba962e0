//! Positional file writes straight through `wasi:filesystem`: one host call per buffer.
//!
//! wasi-libc writes a file through the descriptor's output stream. Its host permits 64 KiB
//! per write, runs each write on a worker thread and has the guest wait for it, so writing a
//! 20 MB layer cost about 330 hand-offs between threads. `descriptor.write` takes a whole
//! buffer at an offset and, where the host lets the guest's thread block (the runner does),
//! runs on that thread.

use std::io;
use std::path::Path;

use super::bindings::wasi::filesystem::preopens::get_directories;
use super::bindings::wasi::filesystem::types::{Descriptor, DescriptorFlags, ErrorCode, OpenFlags, PathFlags};

/// An existing file open for positional writes.
///
/// It is opened by name a second time, next to the descriptor the standard library holds
/// (which still syncs, stamps and renames the file). Without following symlinks, so a name
/// swapped for a link fails the open and std's writes are used; only someone who may already
/// rename files in that directory could swap it for another regular file.
pub struct PositionalFile {
    descriptor: Descriptor,
}

impl PositionalFile {
    /// Opens the existing file at `path` (absolute, or relative to the absolute working
    /// directory `cwd`) for writing, through the preopened directory with an absolute name
    /// that holds it; `None` where none does or the host refuses.
    pub fn open(path: &Path, cwd: &Path) -> Option<Self> {
        // Joining an absolute path keeps it whole.
        let path = crate::plan::normalize(&cwd.join(path));
        if !path.is_absolute() {
            return None;
        }
        let (dir, relative) = get_directories()
            .into_iter()
            .filter_map(|(dir, name)| {
                let inside = path.strip_prefix(&name).ok()?.to_str()?.to_owned();
                Path::new(&name).is_absolute().then_some((dir, name.len(), inside))
            })
            .max_by_key(|(_, depth, _)| *depth)
            .map(|(dir, _, inside)| (dir, inside))?;
        if relative.is_empty() {
            return None;
        }
        let descriptor = dir.open_at(PathFlags::empty(), &relative, OpenFlags::empty(), DescriptorFlags::WRITE).ok()?;
        Some(PositionalFile { descriptor })
    }

    /// Writes all of `bytes` at `offset`.
    pub fn write_all_at(&self, mut bytes: &[u8], mut offset: u64) -> io::Result<()> {
        while !bytes.is_empty() {
            let written = self.descriptor.write(bytes, offset).map_err(io_error)?;
            if written == 0 {
                return Err(io::Error::from(io::ErrorKind::WriteZero));
            }
            let written = usize::try_from(written).unwrap_or(usize::MAX).min(bytes.len());
            bytes = &bytes[written..];
            offset += written as u64;
        }
        Ok(())
    }
}

/// The host's error code as an I/O error of the nearest kind.
fn io_error(code: ErrorCode) -> io::Error {
    let kind = match code {
        ErrorCode::InsufficientSpace => io::ErrorKind::StorageFull,
        ErrorCode::Quota => io::ErrorKind::QuotaExceeded,
        ErrorCode::Access | ErrorCode::NotPermitted | ErrorCode::ReadOnly => io::ErrorKind::PermissionDenied,
        ErrorCode::FileTooLarge => io::ErrorKind::FileTooLarge,
        ErrorCode::Interrupted => io::ErrorKind::Interrupted,
        _ => io::ErrorKind::Other,
    };
    io::Error::new(kind, code.message().trim_end_matches('.').to_owned())
}
