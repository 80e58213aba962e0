//! Blobs read through a check: a reader that hashes what passes through and
//! fails at the end (or as soon as too many bytes arrive) unless size and
//! digest match the descriptor, and the copy loop that turns its failures
//! back into typed errors.

use std::io::{self, Read, Write};

use crate::error::Error;
use crate::http::{BodyRead, Waiter};
use crate::oci::Descriptor;
use crate::oci::digest::DigestWriter;

/// Where the bytes come from, for errors while reading.
#[derive(Debug, Clone)]
pub enum Origin {
    /// A registry's response body.
    Registry(String),
    /// A file on disk.
    File(String),
}

/// A reader that verifies a blob against its descriptor.
pub struct VerifyingReader<R> {
    inner: R,
    /// `None` for a reader that checks the size only.
    hasher: Option<DigestWriter<io::Sink>>,
    finished: bool,
    descriptor: Descriptor,
    what: String,
    origin: Origin,
    read: u64,
}

impl<R: Read> VerifyingReader<R> {
    /// Check `inner` against `descriptor`; `what` names the blob in errors.
    pub fn new(inner: R, descriptor: &Descriptor, what: String, origin: Origin) -> Self {
        VerifyingReader {
            inner,
            hasher: Some(DigestWriter::new(io::sink(), descriptor.digest.algorithm())),
            finished: false,
            descriptor: descriptor.clone(),
            what,
            origin,
            read: 0,
        }
    }

    /// Check only that `inner` has `descriptor`'s size, without hashing: for bytes on their
    /// way to a store that checks the digest itself (see `Store::checks_uploaded_digests`).
    pub fn size_only(inner: R, descriptor: &Descriptor, what: String, origin: Origin) -> Self {
        VerifyingReader { hasher: None, ..Self::new(inner, descriptor, what, origin) }
    }

    fn fail(error: Error) -> io::Error {
        io::Error::new(io::ErrorKind::InvalidData, error)
    }
}

impl<R: Read> VerifyingReader<R> {
    /// Account for the outcome of a read of the inner reader into `buf`: count, hash, and at
    /// the end compare.
    fn account(&mut self, buf: &[u8], read: io::Result<usize>) -> io::Result<usize> {
        let n = match read {
            Ok(n) => n,
            Err(e) => {
                let error = match &self.origin {
                    Origin::Registry(registry) => {
                        Error::Transport { target: registry.clone(), detail: format!("reading {}: {e}", self.what) }
                    }
                    Origin::File(path) => Error::io(path, "read", e),
                };
                return Err(Self::fail(error));
            }
        };
        self.read += n as u64;
        if self.read > self.descriptor.size {
            return Err(Self::fail(Error::SizeMismatch {
                what: self.what.clone(),
                expected: self.descriptor.size,
                actual: self.read,
            }));
        }
        if let Some(hasher) = self.hasher.as_mut() {
            hasher.write_all(&buf[..n])?;
        }
        if n == 0 && !buf.is_empty() {
            self.finished = true;
            match self.hasher.take() {
                Some(hasher) => {
                    hasher
                        .verify(&self.what, &self.descriptor.digest, Some(self.descriptor.size))
                        .map_err(Self::fail)?;
                }
                None if self.read != self.descriptor.size => {
                    return Err(Self::fail(Error::SizeMismatch {
                        what: self.what.clone(),
                        expected: self.descriptor.size,
                        actual: self.read,
                    }));
                }
                None => {}
            }
        }
        Ok(n)
    }
}

impl<R: Read> Read for VerifyingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.finished {
            return Ok(0);
        }
        let read = self.inner.read(buf);
        self.account(buf, read)
    }
}

impl<R: BodyRead> BodyRead for VerifyingReader<R> {
    fn read_now(&mut self, buf: &mut [u8]) -> io::Result<Option<usize>> {
        if self.finished {
            return Ok(Some(0));
        }
        match self.inner.read_now(buf) {
            Ok(None) => Ok(None),
            Ok(Some(n)) => self.account(buf, Ok(n)).map(Some),
            Err(e) => self.account(buf, Err(e)).map(Some),
        }
    }

    fn waiter(&self) -> Option<Waiter> {
        self.inner.waiter()
    }
}

/// Copy a verifying reader into `sink`. Errors of the source come back as
/// the typed errors it raised; errors of the sink as I/O errors on `sink_name`.
pub fn copy_verified(source: &mut dyn Read, sink: &mut dyn Write, sink_name: &str) -> Result<u64, Error> {
    let mut buf = vec![0u8; 256 * 1024];
    let mut total = 0u64;
    loop {
        let n = match source.read(&mut buf) {
            Ok(0) => return Ok(total),
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(into_error(e, sink_name)),
        };
        sink.write_all(&buf[..n]).map_err(|e| Error::io(sink_name, "write", e))?;
        total += n as u64;
    }
}

/// The typed error inside an I/O error raised by a [`VerifyingReader`].
pub fn into_error(e: io::Error, context: &str) -> Error {
    if e.get_ref().is_some_and(|inner| inner.is::<Error>()) {
        match e.into_inner().map(|inner| inner.downcast::<Error>()) {
            Some(Ok(error)) => *error,
            _ => unreachable!("checked above"),
        }
    } else {
        Error::io(context, "read", e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::oci::Digest;

    fn read(reader: &mut dyn Read) -> Result<Vec<u8>, Error> {
        let mut out = Vec::new();
        copy_verified(reader, &mut out, "test").map(|_| out)
    }

    fn descriptor_of(bytes: &[u8]) -> Descriptor {
        Descriptor::new("application/wasm", Digest::sha256_of(bytes), bytes.len() as u64)
    }

    fn origin() -> Origin {
        Origin::File("blob".into())
    }

    #[test]
    fn a_hashing_reader_refuses_other_bytes_of_the_right_size() {
        let descriptor = descriptor_of(b"right bytes");
        let mut reader = VerifyingReader::new(&b"wrong bytes"[..], &descriptor, "blob".into(), origin());
        assert!(matches!(read(&mut reader), Err(Error::DigestMismatch { .. })));
        let mut reader = VerifyingReader::new(&b"right bytes"[..], &descriptor, "blob".into(), origin());
        assert_eq!(read(&mut reader).unwrap(), b"right bytes");
    }

    #[test]
    fn a_size_only_reader_passes_any_bytes_of_the_right_size_and_nothing_else() {
        let descriptor = descriptor_of(b"right bytes");
        let mut reader = VerifyingReader::size_only(&b"wrong bytes"[..], &descriptor, "blob".into(), origin());
        assert_eq!(read(&mut reader).unwrap(), b"wrong bytes", "the digest is left to the destination");
        let mut short = VerifyingReader::size_only(&b"short"[..], &descriptor, "blob".into(), origin());
        assert!(matches!(read(&mut short), Err(Error::SizeMismatch { expected: 11, actual: 5, .. })));
        let mut long = VerifyingReader::size_only(&b"right bytes, and more"[..], &descriptor, "blob".into(), origin());
        assert!(matches!(read(&mut long), Err(Error::SizeMismatch { expected: 11, .. })));
    }
}
