//! Blob transfers that overlap: several blobs stream from their sources into stores that
//! check uploaded digests at once, one guest thread moving whatever bytes are ready and
//! sleeping in a single `wasi:io` poll when none are, so the registries at both ends (and
//! the host's network threads) keep working while the guest copies. At most `limit`
//! transfers are in flight. An accelerator only: a transfer that cannot start or fails is
//! reported, and the caller copies that blob the ordinary way (retries, full errors).

use crate::error::{Error, Result};
use crate::http::BodyRead;
use crate::http::Waiter;
use crate::http::nonblocking::wait_any;
use crate::oci::manifest::Manifest;
use crate::oci::{Descriptor, Digest};
use crate::store::verify::into_error;
use crate::store::{BlobUpload, Selector, Store, Upcoming};

/// Bytes read from a source at once.
const CHUNK: usize = 256 * 1024;
/// Reads and writes one transfer makes before the others get their turn.
const TURN: usize = 8;

/// One blob on its way: its source, its upload, and the bytes still to move.
pub struct Pipe {
    source: Box<dyn BodyRead>,
    sink: Box<dyn BlobUpload>,
    /// Bytes still to read from the source.
    left: u64,
    buffer: Vec<u8>,
    /// The part of `buffer` read but not yet written.
    start: usize,
    end: usize,
}

impl Pipe {
    /// Move `size` bytes from `source` into `sink`.
    pub fn new(source: Box<dyn BodyRead>, sink: Box<dyn BlobUpload>, size: u64) -> Self {
        Pipe { source, sink, left: size, buffer: Vec::new(), start: 0, end: 0 }
    }

    /// Move what can be moved without waiting, for a few rounds.
    fn step(&mut self) -> Result<Step> {
        let mut moved = false;
        for _ in 0..TURN {
            if self.start < self.end {
                let n = self.sink.write_now(&self.buffer[self.start..self.end])?;
                if n == 0 {
                    return Ok(if moved { Step::Moved } else { Step::Wait(self.sink.waiter()) });
                }
                self.start += n;
                moved = true;
                continue;
            }
            if self.left == 0 {
                // Read the source to its end, so that it checks what it gave.
                return match self.source.read_now(&mut [0u8; 1]).map_err(|e| into_error(e, "source"))? {
                    Some(0) => Ok(Step::Done),
                    None => Ok(if moved { Step::Moved } else { Step::Wait(self.source.waiter()) }),
                    Some(_) => Err(Error::InvalidInput("the source is longer than its descriptor".into())),
                };
            }
            if self.buffer.is_empty() {
                self.buffer = vec![0u8; CHUNK];
            }
            let want = usize::try_from(self.left).unwrap_or(usize::MAX).min(CHUNK);
            match self.source.read_now(&mut self.buffer[..want]).map_err(|e| into_error(e, "source"))? {
                None => return Ok(if moved { Step::Moved } else { Step::Wait(self.source.waiter()) }),
                Some(0) => return Err(Error::InvalidInput("the source ended before its descriptor's size".into())),
                Some(n) => {
                    self.start = 0;
                    self.end = n;
                    self.left -= n as u64;
                    moved = true;
                }
            }
        }
        Ok(Step::Moved)
    }
}

enum Step {
    Moved,
    /// Nothing could move; what to wait on (`None`: a side that is always ready).
    Wait(Option<Waiter>),
    Done,
}

/// Run the transfers of `jobs`, at most `limit` at once, each begun by `begin` when its
/// turn comes (`Ok(None)`: it cannot overlap). For each job, in order: `Ok(true)` when the
/// blob arrived, `Ok(false)` when it was not attempted, or why it failed.
pub fn run<J>(jobs: &[J], limit: usize, mut begin: impl FnMut(&J) -> Result<Option<Pipe>>) -> Vec<Result<bool>> {
    let mut outcomes: Vec<Option<Result<bool>>> = (0..jobs.len()).map(|_| None).collect();
    let mut waiting = jobs.iter().enumerate();
    let mut active: Vec<(usize, Pipe)> = Vec::new();
    let stall = crate::http::timeouts::Timeouts::for_request(0).stall();
    loop {
        while active.len() < limit.max(1) {
            let Some((index, job)) = waiting.next() else { break };
            match begin(job) {
                Ok(Some(pipe)) => active.push((index, pipe)),
                Ok(None) => outcomes[index] = Some(Ok(false)),
                Err(e) => outcomes[index] = Some(Err(e)),
            }
        }
        if active.is_empty() {
            break;
        }
        let mut waiters = Vec::new();
        let mut progressed = false;
        let mut still = Vec::with_capacity(active.len());
        for (index, mut pipe) in active.drain(..) {
            match pipe.step() {
                Ok(Step::Done) => {
                    outcomes[index] = Some(pipe.sink.finish().map(|()| true));
                    progressed = true;
                }
                Ok(Step::Moved) => {
                    progressed = true;
                    still.push((index, pipe));
                }
                Ok(Step::Wait(waiter)) => {
                    match waiter {
                        Some(waiter) => waiters.push(waiter),
                        None => progressed = true,
                    }
                    still.push((index, pipe));
                }
                // Dropped unfinished: the upload is abandoned.
                Err(e) => outcomes[index] = Some(Err(e)),
            }
        }
        active = still;
        if !progressed && !wait_any(&waiters, stall) {
            // Nothing moved for the stall timeout: every transfer still in flight fails.
            for (index, _) in active.drain(..) {
                outcomes[index] = Some(Err(Error::Transport {
                    target: "overlapped transfer".into(),
                    detail: crate::http::stalled(stall),
                }));
            }
        }
    }
    outcomes.into_iter().map(|outcome| outcome.unwrap_or(Ok(false))).collect()
}

/// One artifact whose blobs may go ahead: its source, the index of its destination among
/// the destinations (several artifacts may share one), and its top manifest.
pub struct Artifact<'a> {
    pub source: &'a mut dyn Store,
    pub destination: usize,
    pub digest: Digest,
}

/// Upload, overlapped and at most `limit` at once, every blob of each artifact's manifest
/// (and of the manifests an index names) that its destination lacks, where both stores can
/// (a source that streams, a destination that takes uploads piece by piece and checks
/// them). The ordinary copy that follows finds them present; whatever failed here, or was
/// not tried, it copies itself. The number of blobs uploaded, per artifact (0 for `None`:
/// an artifact not taking part).
pub fn upload_blobs_ahead(
    artifacts: &mut [Option<Artifact<'_>>],
    destinations: &mut [&mut dyn Store],
    limit: usize,
) -> Vec<u32> {
    let mut jobs: Vec<(usize, Descriptor)> = Vec::new();
    let mut seen = std::collections::HashSet::new();
    for (index, artifact) in artifacts.iter_mut().enumerate() {
        let Some(artifact) = artifact else { continue };
        let destination = &mut *destinations[artifact.destination];
        let same_registry = match (artifact.source.registry_repository(), destination.registry_repository()) {
            (Some((from, _)), Some((to, _))) => from == to,
            _ => false,
        };
        if same_registry {
            // Mounted by the ordinary copy, without a transfer.
            continue;
        }
        let Ok(blobs) = blobs_of(artifact.source, &artifact.digest) else { continue };
        for blob in blobs {
            if !seen.insert((destination.location(), blob.digest.clone())) {
                continue;
            }
            if crate::config::limits::check_blobs([&blob], &destination.location()).is_err() {
                continue;
            }
            if matches!(destination.blob_exists(&blob.digest), Ok(false)) {
                jobs.push((index, blob));
            }
        }
    }
    // The downloads of the first transfers start at once, and each transfer that begins
    // starts the download of the one `limit` places later: response heads arrive while
    // bytes move, instead of one after another.
    let announce = |artifacts: &mut [Option<Artifact<'_>>], job: Option<&(usize, Descriptor)>| {
        if let Some((index, blob)) = job
            && let Some(artifact) = artifacts[*index].as_mut()
        {
            artifact.source.prefetch(&[Upcoming::Blob(blob.digest.clone())]);
        }
    };
    for job in jobs.iter().take(limit) {
        announce(artifacts, Some(job));
    }
    let mut begun = 0;
    let outcomes = run(&jobs, limit, |(index, blob)| {
        begun += 1;
        announce(artifacts, jobs.get(begun + limit - 1));
        let Some(artifact) = artifacts[*index].as_mut() else { return Ok(None) };
        let Some(source) = artifact.source.blob_stream_unhashed(blob)? else { return Ok(None) };
        let Some(sink) = destinations[artifact.destination].blob_upload_begin(blob)? else { return Ok(None) };
        Ok(Some(Pipe::new(source, sink, blob.size)))
    });
    let mut uploaded = vec![0u32; artifacts.len()];
    for ((index, _), outcome) in jobs.iter().zip(outcomes) {
        if matches!(outcome, Ok(true)) {
            uploaded[*index] += 1;
        }
    }
    uploaded
}

/// The blobs of the manifest `digest` in `store`, and of the manifests it indexes.
fn blobs_of(store: &mut dyn Store, digest: &Digest) -> Result<Vec<Descriptor>> {
    let raw = store.manifest_get(&Selector::Digest(digest.clone()))?;
    let mut blobs = Vec::new();
    match raw.parse()? {
        Manifest::Image(manifest) => {
            blobs.push(manifest.config);
            blobs.extend(manifest.layers);
        }
        Manifest::Index(index) => {
            for entry in index.manifests {
                let child = store.manifest_get(&Selector::Digest(entry.digest))?;
                if let Manifest::Image(manifest) = child.parse()? {
                    blobs.push(manifest.config);
                    blobs.extend(manifest.layers);
                }
            }
        }
    }
    Ok(blobs)
}

#[cfg(test)]
mod tests {
    use std::cell::RefCell;
    use std::io::{self, Read};
    use std::rc::Rc;

    use super::*;

    /// A source that gives at most `piece` bytes per read and has nothing every other time.
    struct Trickle {
        bytes: Vec<u8>,
        at: usize,
        piece: usize,
        idle: bool,
    }

    impl Read for Trickle {
        fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
            let n = out.len().min(self.piece).min(self.bytes.len() - self.at);
            out[..n].copy_from_slice(&self.bytes[self.at..self.at + n]);
            self.at += n;
            Ok(n)
        }
    }

    impl BodyRead for Trickle {
        fn read_now(&mut self, out: &mut [u8]) -> io::Result<Option<usize>> {
            self.idle = !self.idle;
            if self.idle { Ok(None) } else { self.read(out).map(Some) }
        }
    }

    /// A sink that takes at most `piece` bytes per write, nothing every third time, and
    /// counts the uploads open at once.
    struct Collect {
        got: Rc<RefCell<Vec<u8>>>,
        piece: usize,
        calls: usize,
        open: Rc<RefCell<(usize, usize)>>,
    }

    impl BlobUpload for Collect {
        fn write_now(&mut self, bytes: &[u8]) -> Result<usize> {
            self.calls += 1;
            if self.calls.is_multiple_of(3) {
                return Ok(0);
            }
            let n = bytes.len().min(self.piece);
            self.got.borrow_mut().extend_from_slice(&bytes[..n]);
            Ok(n)
        }

        fn waiter(&self) -> Option<Waiter> {
            None
        }

        fn finish(self: Box<Self>) -> Result<()> {
            self.open.borrow_mut().0 -= 1;
            Ok(())
        }
    }

    fn pattern(len: usize, seed: u8) -> Vec<u8> {
        (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
    }

    #[test]
    fn every_blob_arrives_whole_with_no_more_in_flight_than_the_limit() {
        let blobs: Vec<Vec<u8>> = (0..5).map(|i| pattern(300_000 + i * 7, i as u8)).collect();
        let sinks: Vec<Rc<RefCell<Vec<u8>>>> = blobs.iter().map(|_| Rc::default()).collect();
        let open = Rc::new(RefCell::new((0usize, 0usize)));
        let jobs: Vec<usize> = (0..blobs.len()).collect();
        let outcomes = run(&jobs, 2, |&i| {
            let mut counts = open.borrow_mut();
            counts.0 += 1;
            counts.1 = counts.1.max(counts.0);
            let source = Trickle { bytes: blobs[i].clone(), at: 0, piece: 10_000 + i, idle: false };
            let sink = Collect { got: sinks[i].clone(), piece: 4_096 + i, calls: 0, open: open.clone() };
            Ok(Some(Pipe::new(Box::new(source), Box::new(sink), blobs[i].len() as u64)))
        });
        assert!(outcomes.iter().all(|o| matches!(o, Ok(true))), "{outcomes:?}");
        for (blob, sink) in blobs.iter().zip(&sinks) {
            assert!(*sink.borrow() == *blob, "a blob arrived changed");
        }
        assert_eq!(open.borrow().1, 2, "in flight at most the limit, and the limit used");
    }

    #[test]
    fn a_source_of_the_wrong_length_fails_its_transfer_and_not_the_others() {
        let sizes = [(100usize, 100u64), (50, 100), (150, 100)];
        let jobs: Vec<usize> = (0..sizes.len()).collect();
        let open = Rc::new(RefCell::new((0usize, 0usize)));
        let outcomes = run(&jobs, 4, |&i| {
            let (actual, declared) = sizes[i];
            let source = Trickle { bytes: pattern(actual, 1), at: 0, piece: 30, idle: false };
            let sink = Collect { got: Rc::default(), piece: 64, calls: 0, open: open.clone() };
            Ok(Some(Pipe::new(Box::new(source), Box::new(sink), declared)))
        });
        assert!(matches!(outcomes[0], Ok(true)), "{:?}", outcomes[0]);
        assert!(outcomes[1].as_ref().is_err_and(|e| e.to_string().contains("ended before")), "{:?}", outcomes[1]);
        assert!(outcomes[2].as_ref().is_err_and(|e| e.to_string().contains("longer")), "{:?}", outcomes[2]);
    }

    #[test]
    fn a_transfer_that_cannot_begin_is_reported_and_left_to_the_caller() {
        let jobs = [0, 1];
        let outcomes =
            run(&jobs, 1, |&i| if i == 0 { Ok(None) } else { Err(Error::InvalidInput("no session".into())) });
        assert!(matches!(outcomes[0], Ok(false)));
        assert!(matches!(outcomes[1], Err(Error::InvalidInput(_))));
    }
}
