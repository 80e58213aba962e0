//! The conformance suite of the [`Store`] contract: one public function per
//! clause, and [`run_all`], run against every backend through a [`Harness`]
//! that makes fresh stores and, where it can, plants content that does not
//! match its digest. Each clause checks real outcomes — bytes read back,
//! digests, error variants, tag lists — and panics on a violation; a clause a
//! backend's harness cannot set up says so ([`Outcome::NotExercised`]), so a
//! run states which clauses it covered.

use std::collections::BTreeMap;
use std::io::Read;
use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::oci::media_type::{OCI_INDEX, OCI_MANIFEST, WASM_CONFIG, WASM_LAYER};
use crate::oci::{Descriptor, Digest, ImageIndex, ImageManifest, RawManifest};
use crate::store::verify::{Origin, VerifyingReader, copy_verified};
use crate::store::{BlobSource, Selector, Store, UploadMode};

/// Content a harness plants in a store it made, to see that reads refuse it.
#[derive(Debug, Clone, Copy)]
pub enum Plant<'a> {
    /// The blob serves as many bytes as it holds, with other content.
    BlobBytes(&'a Digest),
    /// The blob serves one byte fewer than it holds.
    BlobTruncated(&'a Digest),
    /// The manifest serves bytes of its own length with other content, read
    /// by digest or through `tag`.
    ManifestBytes { digest: &'a Digest, tag: &'a str },
}

/// What a backend does where the contract leaves it the choice.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Expectations {
    /// `blob_link` hands out hard links (a layout that keeps seals).
    pub links: bool,
    /// `blob_mount` mounts blobs of another repository of the same registry.
    pub mounts: bool,
}

/// A backend under test.
pub trait Harness {
    /// The backend's name, for messages.
    fn name(&self) -> String;

    /// A new, empty store that shares nothing with the stores made before.
    fn fresh(&mut self) -> Box<dyn Store>;

    /// A new, empty directory on the file system of the stores (for `blob_link`).
    fn scratch_dir(&mut self) -> PathBuf;

    /// What this backend is expected to do where the contract allows a choice.
    fn expectations(&self) -> Expectations;

    /// Make at least the next read of an item of `store` (made by this
    /// harness) serve planted content; planting again must not undo it.
    /// `false`: this harness cannot.
    fn plant(&mut self, store: &dyn Store, plant: Plant<'_>) -> bool;
}

/// Whether a clause ran.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Exercised,
    /// The harness could not set the clause up; why.
    NotExercised(String),
}

/// A clause of the contract.
pub type Clause = fn(&mut dyn Harness) -> Outcome;

/// Every clause, by name.
pub const CLAUSES: &[(&str, Clause)] = &[
    ("identity", identity),
    ("blob_absent", blob_absent),
    ("blob_round_trip", blob_round_trip),
    ("blob_put_present", blob_put_present),
    ("blob_put_refuses_other_bytes", blob_put_refuses_other_bytes),
    ("blob_put_refuses_wrong_size", blob_put_refuses_wrong_size),
    ("blob_put_from_verifying_source", blob_put_from_verifying_source),
    ("blob_upload_piecewise", blob_upload_piecewise),
    ("blob_writer_learns_the_digest_at_the_end", blob_writer_learns_the_digest_at_the_end),
    ("blob_read_refuses_wrong_size", blob_read_refuses_wrong_size),
    ("blob_read_refuses_other_bytes", blob_read_refuses_other_bytes),
    ("blob_read_refuses_truncated", blob_read_refuses_truncated),
    ("blob_link", blob_link),
    ("blob_mount", blob_mount),
    ("manifest_absent", manifest_absent),
    ("manifest_round_trip", manifest_round_trip),
    ("manifest_untagged", manifest_untagged),
    ("manifest_put_present", manifest_put_present),
    ("tags_move_and_multiply", tags_move_and_multiply),
    ("index_manifest", index_manifest),
    ("manifest_read_refuses_other_bytes", manifest_read_refuses_other_bytes),
];

/// What [`run_all`] found.
#[derive(Debug, Default)]
pub struct Report {
    pub exercised: Vec<&'static str>,
    /// Clauses the harness could not set up, with why.
    pub not_exercised: Vec<(&'static str, String)>,
}

impl Report {
    /// The names of the clauses not exercised.
    pub fn not_exercised_names(&self) -> Vec<&'static str> {
        self.not_exercised.iter().map(|(name, _)| *name).collect()
    }
}

/// Run every clause; panics naming each clause that failed, after all ran.
pub fn run_all(harness: &mut dyn Harness) -> Report {
    let mut report = Report::default();
    let mut failed = Vec::new();
    for (name, clause) in CLAUSES {
        let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| clause(harness)));
        match outcome {
            Ok(Outcome::Exercised) => report.exercised.push(name),
            Ok(Outcome::NotExercised(why)) => report.not_exercised.push((name, why)),
            Err(panic) => {
                let message = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| s.to_string()))
                    .unwrap_or_default();
                failed.push(format!("{name}: {message}"));
            }
        }
    }
    assert!(failed.is_empty(), "{}: {} clause(s) violated:\n{}", harness.name(), failed.len(), failed.join("\n"));
    report
}

/// `location` names the store; a registry store's location is
/// `registry/repository`; two fresh stores are two places.
pub fn identity(h: &mut dyn Harness) -> Outcome {
    let first = h.fresh();
    let second = h.fresh();
    let location = first.location();
    assert!(!location.is_empty(), "{}: empty location", h.name());
    assert_ne!(location, second.location(), "{}: two fresh stores at one location", h.name());
    match first.registry_repository() {
        Some((registry, repository)) => {
            assert_eq!(location, format!("{registry}/{repository}"), "{}: location of a registry store", h.name())
        }
        None => assert!(
            location.starts_with(crate::reference::LAYOUT_SCHEME),
            "{}: a store outside a registry is a layout: {location}",
            h.name()
        ),
    }
    Outcome::Exercised
}

/// A blob that was never put: `blob_exists` is false, reads are `NotFound`
/// and write nothing.
pub fn blob_absent(h: &mut dyn Harness) -> Outcome {
    let mut store = h.fresh();
    let (descriptor, _) = blob("blob_absent", 100);
    assert!(!store.blob_exists(&descriptor.digest).unwrap(), "{}: an absent blob exists", h.name());
    let mut sink = Vec::new();
    let got = store.blob_get(&descriptor, &mut sink);
    assert!(matches!(got, Err(Error::NotFound { .. })), "{}: blob_get of an absent blob: {got:?}", h.name());
    assert!(sink.is_empty(), "{}: blob_get of an absent blob wrote {} bytes", h.name(), sink.len());
    let opened = store.blob_open(&descriptor).map(drop);
    assert!(matches!(opened, Err(Error::NotFound { .. })), "{}: blob_open of an absent blob: {opened:?}", h.name());
    Outcome::Exercised
}

/// What is put comes back: every size (empty, one byte, several read
/// buffers) in every upload mode, through `blob_get` and `blob_open`.
pub fn blob_round_trip(h: &mut dyn Harness) -> Outcome {
    let mut store = h.fresh();
    let modes = [UploadMode::Monolithic, UploadMode::Chunked(64 * 1024), UploadMode::Chunked(1000)];
    for (size, mode) in [0, 1, 2500, 300_000].into_iter().flat_map(|size| modes.map(|mode| (size, mode))) {
        if size == 0 && mode != UploadMode::Monolithic {
            continue; // one empty blob; a second would be present already
        }
        let (descriptor, bytes) = blob(&format!("round trip {size} {mode:?}"), size);
        let what = format!("{}: a blob of {size} bytes put {mode:?}", h.name());
        assert!(!store.blob_exists(&descriptor.digest).unwrap(), "{what}: present before");
        store.blob_put(&descriptor, &bytes, mode).unwrap_or_else(|e| panic!("{what}: {e}"));
        assert!(store.blob_exists(&descriptor.digest).unwrap(), "{what}: absent after");
        assert_eq!(get(store.as_mut(), &descriptor).unwrap_or_else(|e| panic!("{what}: get: {e}")), bytes, "{what}");
        assert_eq!(open(store.as_mut(), &descriptor).unwrap_or_else(|e| panic!("{what}: open: {e}")), bytes, "{what}");
    }
    Outcome::Exercised
}

/// Putting a blob that is present already succeeds and leaves it as it was.
pub fn blob_put_present(h: &mut dyn Harness) -> Outcome {
    let mut store = h.fresh();
    let (descriptor, bytes) = blob("put present", 5000);
    for mode in [UploadMode::Monolithic, UploadMode::Monolithic, UploadMode::Chunked(1024)] {
        store.blob_put(&descriptor, &bytes, mode).unwrap_or_else(|e| panic!("{}: put {mode:?}: {e}", h.name()));
    }
    assert!(store.blob_exists(&descriptor.digest).unwrap(), "{}", h.name());
    assert_eq!(get(store.as_mut(), &descriptor).unwrap(), bytes, "{}", h.name());
    Outcome::Exercised
}

/// `blob_put` of content with other bytes than the descriptor's digest
/// fails, in every mode, and leaves nothing under either digest.
pub fn blob_put_refuses_other_bytes(h: &mut dyn Harness) -> Outcome {
    let mut store = h.fresh();
    for mode in [UploadMode::Monolithic, UploadMode::Chunked(1000)] {
        let (descriptor, _) = blob(&format!("claimed {mode:?}"), 2500);
        let (actual, other) = blob(&format!("sent {mode:?}"), 2500);
        let put = store.blob_put(&descriptor, &other, mode);
        assert!(put.is_err(), "{}: put {mode:?} of other bytes succeeded", h.name());
        assert!(!store.blob_exists(&descriptor.digest).unwrap(), "{}: {mode:?}: stored under the claim", h.name());
        assert!(!store.blob_exists(&actual.digest).unwrap(), "{}: {mode:?}: stored what was sent", h.name());
    }
    Outcome::Exercised
}

/// `blob_put` fails when the source is shorter or longer than the
/// descriptor's size, in every mode; nothing that does not match a digest is
/// ever stored under it.
pub fn blob_put_refuses_wrong_size(h: &mut dyn Harness) -> Outcome {
    let mut store = h.fresh();
    for mode in [UploadMode::Monolithic, UploadMode::Chunked(1000)] {
        // The source ends early: the descriptor is the whole content's, one byte is missing.
        let (whole, bytes) = blob(&format!("short source {mode:?}"), 2500);
        let short = bytes[..bytes.len() - 1].to_vec();
        assert!(store.blob_put(&whole, &short, mode).is_err(), "{}: {mode:?}: a short source was taken", h.name());
        assert!(!store.blob_exists(&whole.digest).unwrap(), "{}: {mode:?}: stored from a short source", h.name());
        assert!(
            !store.blob_exists(&Digest::sha256_of(&short)).unwrap(),
            "{}: {mode:?}: stored the short source",
            h.name()
        );

        // The descriptor's size is one byte short of the content it names.
        let (named, bytes) = blob(&format!("size short {mode:?}"), 2500);
        let understated = Descriptor::new(WASM_LAYER, named.digest.clone(), named.size - 1);
        let put = store.blob_put(&understated, &bytes, mode);
        assert!(put.is_err(), "{}: {mode:?}: put with a size one byte short succeeded", h.name());
        assert_matches_or_absent(h, store.as_mut(), &named, &bytes);

        // The source goes on after the content the descriptor names.
        let (prefix, bytes) = blob(&format!("long source {mode:?}"), 2500);
        let mut long = bytes.clone();
        long.extend_from_slice(b"and more");
        let put = store.blob_put(&prefix, &long, mode);
        assert!(put.is_err(), "{}: {mode:?}: a source longer than the descriptor was taken", h.name());
        assert_matches_or_absent(h, store.as_mut(), &prefix, &bytes);
    }
    Outcome::Exercised
}

/// An upload written piece by piece (`blob_upload_begin`, for overlapped transfers) keeps
/// exactly the bytes written when they match the descriptor, and nothing when they do not
/// or when it is dropped unfinished.
pub fn blob_upload_piecewise(h: &mut dyn Harness) -> Outcome {
    let mut store = h.fresh();
    let (descriptor, bytes) = blob("piecewise", 70_000);
    let Some(mut upload) = store.blob_upload_begin(&descriptor).unwrap_or_else(|e| panic!("{}: begin: {e}", h.name()))
    else {
        return Outcome::NotExercised("this store's transport has no piecewise uploads".into());
    };
    let mut at = 0;
    while at < bytes.len() {
        let end = (at + 4099).min(bytes.len());
        at += upload.write_now(&bytes[at..end]).unwrap_or_else(|e| panic!("{}: write: {e}", h.name()));
    }
    upload.finish().unwrap_or_else(|e| panic!("{}: finish: {e}", h.name()));
    assert_eq!(get(store.as_mut(), &descriptor).unwrap(), bytes, "{}", h.name());

    let (claimed, _) = blob("piecewise, claimed", 3000);
    let (_, other) = blob("piecewise, sent", 3000);
    let mut upload = store.blob_upload_begin(&claimed).unwrap().expect("piecewise uploads, as above");
    let mut at = 0;
    while at < other.len() {
        at += upload.write_now(&other[at..]).unwrap();
    }
    assert!(upload.finish().is_err(), "{}: other bytes were taken", h.name());
    assert!(!store.blob_exists(&claimed.digest).unwrap(), "{}: stored under the claim", h.name());

    let (abandoned, bytes) = blob("piecewise, abandoned", 3000);
    let mut upload = store.blob_upload_begin(&abandoned).unwrap().expect("piecewise uploads, as above");
    let _ = upload.write_now(&bytes[..1000]).unwrap();
    drop(upload);
    assert!(!store.blob_exists(&abandoned.digest).unwrap(), "{}: an abandoned upload was kept", h.name());
    Outcome::Exercised
}

/// A blob written front to back and named at its end ([`BlobWriter`]) is kept exactly,
/// in pieces of any size; a descriptor its bytes do not match is refused and nothing is
/// stored under it; an abandoned writer keeps nothing.
pub fn blob_writer_learns_the_digest_at_the_end(h: &mut dyn Harness) -> Outcome {
    let mut store = h.fresh();
    let (descriptor, bytes) = blob("written front to back", 70_000);
    let mut writer = store.blob_writer().unwrap_or_else(|e| panic!("{}: begin: {e}", h.name()));
    for piece in bytes.chunks(4099) {
        writer.write(piece).unwrap_or_else(|e| panic!("{}: write: {e}", h.name()));
    }
    writer.finish(&descriptor).unwrap_or_else(|e| panic!("{}: finish: {e}", h.name()));
    assert_eq!(get(store.as_mut(), &descriptor).unwrap(), bytes, "{}", h.name());

    let (claimed, _) = blob("written, claimed", 3000);
    let (_, other) = blob("written, sent", 3000);
    let mut writer = store.blob_writer().unwrap();
    writer.write(&other).unwrap();
    assert!(writer.finish(&claimed).is_err(), "{}: other bytes were taken", h.name());
    assert!(!store.blob_exists(&claimed.digest).unwrap(), "{}: stored under the claim", h.name());

    let (abandoned, bytes) = blob("written, abandoned", 3000);
    let mut writer = store.blob_writer().unwrap();
    writer.write(&bytes).unwrap();
    drop(writer);
    assert!(!store.blob_exists(&abandoned.digest).unwrap(), "{}: an abandoned writer was kept", h.name());
    Outcome::Exercised
}

/// A source that verifies itself (as `blob_open` readers do, when copying
/// between stores) is taken when it matches and refused when it does not.
pub fn blob_put_from_verifying_source(h: &mut dyn Harness) -> Outcome {
    let mut store = h.fresh();
    for mode in [UploadMode::Monolithic, UploadMode::Chunked(1000)] {
        let (descriptor, bytes) = blob(&format!("verifying source {mode:?}"), 2500);
        let source = Verifying { descriptor: descriptor.clone(), bytes: bytes.clone() };
        store.blob_put(&descriptor, &source, mode).unwrap_or_else(|e| panic!("{}: {mode:?}: {e}", h.name()));
        assert_eq!(get(store.as_mut(), &descriptor).unwrap(), bytes, "{}: {mode:?}", h.name());

        let (claimed, _) = blob(&format!("verifying source, claimed {mode:?}"), 2500);
        let (_, other) = blob(&format!("verifying source, sent {mode:?}"), 2500);
        let source = Verifying { descriptor: claimed.clone(), bytes: other };
        assert!(store.blob_put(&claimed, &source, mode).is_err(), "{}: {mode:?}: other bytes taken", h.name());
        assert!(!store.blob_exists(&claimed.digest).unwrap(), "{}: {mode:?}: stored other bytes", h.name());
    }
    Outcome::Exercised
}

/// Reading a blob with a descriptor whose size is not the blob's fails
/// with `SizeMismatch`, through `blob_get` and at the latest at the end of a
/// `blob_open` reader.
pub fn blob_read_refuses_wrong_size(h: &mut dyn Harness) -> Outcome {
    let mut store = h.fresh();
    let (descriptor, bytes) = blob("read wrong size", 300_000);
    store.blob_put(&descriptor, &bytes, UploadMode::Monolithic).unwrap();
    for size in [descriptor.size - 1, descriptor.size + 1, 0] {
        let wrong = Descriptor::new(WASM_LAYER, descriptor.digest.clone(), size);
        let what = format!("{}: the blob of {} bytes read as {size}", h.name(), descriptor.size);
        let got = get(store.as_mut(), &wrong);
        assert!(
            matches!(got, Err(Error::SizeMismatch { expected, .. }) if expected == size),
            "{what}: get: {}",
            shown(&got)
        );
        let opened = open(store.as_mut(), &wrong);
        assert!(
            matches!(opened, Err(Error::SizeMismatch { expected, .. }) if expected == size),
            "{what}: open: {}",
            shown(&opened)
        );
    }
    // Still there, and still whole.
    assert_eq!(get(store.as_mut(), &descriptor).unwrap(), bytes, "{}", h.name());
    Outcome::Exercised
}

/// A blob that serves other bytes than its digest's fails with
/// `DigestMismatch`, through `blob_get` and `blob_open`.
pub fn blob_read_refuses_other_bytes(h: &mut dyn Harness) -> Outcome {
    let mut store = h.fresh();
    let (descriptor, bytes) = blob("read other bytes", 300_000);
    store.blob_put(&descriptor, &bytes, UploadMode::Monolithic).unwrap();
    if !h.plant(store.as_ref(), Plant::BlobBytes(&descriptor.digest)) {
        return Outcome::NotExercised("cannot plant other bytes in a blob".into());
    }
    let got = get(store.as_mut(), &descriptor);
    assert!(matches!(got, Err(Error::DigestMismatch { .. })), "{}: get: {}", h.name(), shown(&got));
    assert!(h.plant(store.as_ref(), Plant::BlobBytes(&descriptor.digest)), "{}: planted once only", h.name());
    let opened = open(store.as_mut(), &descriptor);
    assert!(matches!(opened, Err(Error::DigestMismatch { .. })), "{}: open: {}", h.name(), shown(&opened));
    Outcome::Exercised
}

/// A blob that serves fewer bytes than its descriptor says fails with
/// `SizeMismatch`, through `blob_get` and `blob_open`.
pub fn blob_read_refuses_truncated(h: &mut dyn Harness) -> Outcome {
    let mut store = h.fresh();
    let (descriptor, bytes) = blob("read truncated", 300_000);
    store.blob_put(&descriptor, &bytes, UploadMode::Monolithic).unwrap();
    if !h.plant(store.as_ref(), Plant::BlobTruncated(&descriptor.digest)) {
        return Outcome::NotExercised("cannot truncate a stored blob".into());
    }
    let short = |result: &Result<Vec<u8>>| {
        matches!(result, Err(Error::SizeMismatch { expected, actual, .. })
            if *expected == descriptor.size && *actual == descriptor.size - 1)
    };
    let got = get(store.as_mut(), &descriptor);
    assert!(short(&got), "{}: get: {}", h.name(), shown(&got));
    let opened = open(store.as_mut(), &descriptor);
    assert!(short(&opened), "{}: open: {}", h.name(), shown(&opened));
    Outcome::Exercised
}

/// `blob_link` hands out a blob's own file, once, holding exactly its
/// bytes, in the directory asked for — or declines (`Ok(None)`), as a
/// backend that does not link always does.
pub fn blob_link(h: &mut dyn Harness) -> Outcome {
    let mut store = h.fresh();
    let (descriptor, bytes) = blob("link", 3000);
    store.blob_put(&descriptor, &bytes, UploadMode::Monolithic).unwrap();
    // A blob read once is verified, and sealed where the store keeps seals.
    assert_eq!(get(store.as_mut(), &descriptor).unwrap(), bytes);
    let dir = h.scratch_dir();
    let link = store.blob_link(&descriptor, &dir, None).unwrap_or_else(|e| panic!("{}: link: {e}", h.name()));
    if !h.expectations().links {
        assert!(link.is_none(), "{}: a backend that does not link linked", h.name());
        return Outcome::Exercised;
    }
    let link = link.unwrap_or_else(|| panic!("{}: a backend that links declined", h.name()));
    assert_eq!(link.path().parent(), Some(dir.as_path()), "{}: linked elsewhere", h.name());
    assert_eq!(std::fs::read(link.path()).unwrap(), bytes, "{}: the link's content", h.name());
    let again = store.blob_link(&descriptor, &dir, None).unwrap();
    assert!(again.is_none(), "{}: a blob shared already was linked again", h.name());
    let target = dir.join("linked");
    link.persist(&target).unwrap();
    assert!(store.blob_link(&descriptor, &dir, None).unwrap().is_none(), "{}: shared, linked again", h.name());
    assert_eq!(std::fs::read(&target).unwrap(), bytes, "{}", h.name());
    assert_eq!(get(store.as_mut(), &descriptor).unwrap(), bytes, "{}: the blob after linking", h.name());
    Outcome::Exercised
}

/// `blob_mount` makes a blob of another repository of the same registry
/// present (where the backend mounts), and declines otherwise; a blob the
/// other repository does not hold is never mounted.
pub fn blob_mount(h: &mut dyn Harness) -> Outcome {
    let mut source = h.fresh();
    let (descriptor, bytes) = blob("mount", 3000);
    source.blob_put(&descriptor, &bytes, UploadMode::Monolithic).unwrap();
    let from = source.registry_repository().map_or_else(|| "conformance/elsewhere".to_string(), |(_, r)| r);
    let mut target = h.fresh();
    let mounted = target.blob_mount(&descriptor, &from).unwrap_or_else(|e| panic!("{}: mount: {e}", h.name()));
    assert_eq!(mounted, h.expectations().mounts, "{}: mounted", h.name());
    assert_eq!(target.blob_exists(&descriptor.digest).unwrap(), mounted, "{}: present after mount", h.name());
    if mounted {
        assert_eq!(get(target.as_mut(), &descriptor).unwrap(), bytes, "{}: the mounted blob", h.name());
    }
    let (absent, _) = blob("mount absent", 3000);
    let mounted = target.blob_mount(&absent, &from).unwrap_or_else(|e| panic!("{}: mount absent: {e}", h.name()));
    assert!(!mounted, "{}: mounted a blob its repository does not hold", h.name());
    assert!(!target.blob_exists(&absent.digest).unwrap(), "{}: an absent blob exists after a mount", h.name());
    Outcome::Exercised
}

/// Manifests never put: `manifest_head` is `None`, `manifest_get` is
/// `NotFound`, by tag and by digest; a store without tags lists none (a
/// registry whose repository does not exist yet may say `NotFound`).
pub fn manifest_absent(h: &mut dyn Harness) -> Outcome {
    let mut store = h.fresh();
    let digest = Digest::sha256_of(b"manifest_absent");
    for selector in [Selector::Tag("absent".into()), Selector::Digest(digest)] {
        let head = store.manifest_head(&selector);
        assert!(matches!(head, Ok(None)), "{}: head {selector}: {head:?}", h.name());
        let got = store.manifest_get(&selector).map(|m| m.bytes);
        assert!(matches!(got, Err(Error::NotFound { .. })), "{}: get {selector}: {}", h.name(), shown(&got));
    }
    match store.tags() {
        Ok(tags) => assert!(tags.is_empty(), "{}: tags of an empty store: {tags:?}", h.name()),
        Err(Error::NotFound { .. }) if store.registry_repository().is_some() => {}
        Err(e) => panic!("{}: tags of an empty store: {e}", h.name()),
    }
    Outcome::Exercised
}

/// A manifest put under a tag comes back whole — bytes, digest, media type
/// and size — by tag and by digest, through `manifest_head` and
/// `manifest_get`, and its tag is listed.
pub fn manifest_round_trip(h: &mut dyn Harness) -> Outcome {
    let mut store = h.fresh();
    let manifest = image(store.as_mut(), "round trip");
    store.manifest_put(&manifest, Some("v1")).unwrap_or_else(|e| panic!("{}: put: {e}", h.name()));
    assert_serves(h, store.as_mut(), &manifest, &["v1"]);
    assert_eq!(sorted_tags(h, store.as_mut()), ["v1"], "{}", h.name());
    Outcome::Exercised
}

/// A manifest put without a tag is there by digest and adds no tag.
pub fn manifest_untagged(h: &mut dyn Harness) -> Outcome {
    let mut store = h.fresh();
    let tagged = image(store.as_mut(), "untagged: tagged");
    store.manifest_put(&tagged, Some("tagged")).unwrap();
    let untagged = image(store.as_mut(), "untagged: untagged");
    store.manifest_put(&untagged, None).unwrap_or_else(|e| panic!("{}: put: {e}", h.name()));
    assert_serves(h, store.as_mut(), &untagged, &[]);
    assert_eq!(sorted_tags(h, store.as_mut()), ["tagged"], "{}", h.name());
    Outcome::Exercised
}

/// Putting a manifest again under the same tag succeeds and changes nothing.
pub fn manifest_put_present(h: &mut dyn Harness) -> Outcome {
    let mut store = h.fresh();
    let manifest = image(store.as_mut(), "put present");
    for _ in 0..2 {
        store.manifest_put(&manifest, Some("v1")).unwrap_or_else(|e| panic!("{}: put: {e}", h.name()));
    }
    store.manifest_put(&manifest, None).unwrap_or_else(|e| panic!("{}: put untagged: {e}", h.name()));
    assert_serves(h, store.as_mut(), &manifest, &["v1"]);
    assert_eq!(sorted_tags(h, store.as_mut()), ["v1"], "{}", h.name());
    Outcome::Exercised
}

/// Several tags on one manifest each resolve to it; a tag put again on
/// another manifest moves there, leaving the first manifest by digest and
/// under its other tags; every tag is listed once.
pub fn tags_move_and_multiply(h: &mut dyn Harness) -> Outcome {
    let mut store = h.fresh();
    let first = image(store.as_mut(), "tags: first");
    let second = image(store.as_mut(), "tags: second");
    for tag in ["a", "b", "1.0.0", "latest"] {
        store.manifest_put(&first, Some(tag)).unwrap();
    }
    store.manifest_put(&second, Some("c")).unwrap();
    store.manifest_put(&second, Some("a")).unwrap();
    store.manifest_put(&second, Some("latest")).unwrap();
    assert_eq!(sorted_tags(h, store.as_mut()), ["1.0.0", "a", "b", "c", "latest"], "{}", h.name());
    assert_serves(h, store.as_mut(), &first, &["b", "1.0.0"]);
    assert_serves(h, store.as_mut(), &second, &["a", "c", "latest"]);
    Outcome::Exercised
}

/// An image index and the manifest it lists: each comes back with its own
/// media type, the index by tag, its child by digest.
pub fn index_manifest(h: &mut dyn Harness) -> Outcome {
    let mut store = h.fresh();
    let child = image(store.as_mut(), "index: child");
    store.manifest_put(&child, None).unwrap();
    let index = ImageIndex {
        schema_version: 2,
        media_type: Some(OCI_INDEX.to_string()),
        manifests: vec![child.descriptor()],
        annotations: None,
    };
    let bytes = serde_json::to_vec(&index).unwrap();
    let index = RawManifest::from_bytes(OCI_INDEX, bytes);
    store.manifest_put(&index, Some("multi")).unwrap_or_else(|e| panic!("{}: put index: {e}", h.name()));
    assert_serves(h, store.as_mut(), &index, &["multi"]);
    assert_serves(h, store.as_mut(), &child, &[]);
    assert_eq!(sorted_tags(h, store.as_mut()), ["multi"], "{}", h.name());
    Outcome::Exercised
}

/// A manifest that serves other bytes than its digest's fails with
/// `DigestMismatch`, by tag and by digest.
pub fn manifest_read_refuses_other_bytes(h: &mut dyn Harness) -> Outcome {
    let mut store = h.fresh();
    let manifest = image(store.as_mut(), "manifest other bytes");
    store.manifest_put(&manifest, Some("v1")).unwrap();
    for selector in [Selector::Tag("v1".into()), Selector::Digest(manifest.digest.clone())] {
        if !h.plant(store.as_ref(), Plant::ManifestBytes { digest: &manifest.digest, tag: "v1" }) {
            return Outcome::NotExercised("cannot plant other bytes in a manifest".into());
        }
        let got = store.manifest_get(&selector).map(|m| m.bytes);
        assert!(matches!(got, Err(Error::DigestMismatch { .. })), "{}: get {selector}: {}", h.name(), shown(&got));
    }
    Outcome::Exercised
}

/// A descriptor and deterministic content of `size` bytes, different for
/// every `label`.
pub fn blob(label: &str, size: usize) -> (Descriptor, Vec<u8>) {
    let mut state = u64::from_le_bytes(Digest::sha256_of(label.as_bytes()).hex().as_bytes()[..8].try_into().unwrap());
    let bytes: Vec<u8> = (0..size)
        .map(|_| {
            // xorshift64: cheap bytes that are not all alike.
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect();
    (Descriptor::new(WASM_LAYER, Digest::sha256_of(&bytes), size as u64), bytes)
}

/// An image manifest of a config and a layer, both put into `store`; its
/// annotation makes it unique to `label`.
fn image(store: &mut dyn Store, label: &str) -> RawManifest {
    let config_bytes = serde_json::to_vec(&serde_json::json!({ "conformance": label })).unwrap();
    let config = Descriptor::new(WASM_CONFIG, Digest::sha256_of(&config_bytes), config_bytes.len() as u64);
    let (layer, layer_bytes) = blob(&format!("layer of {label}"), 1500);
    store.blob_put(&config, &config_bytes, UploadMode::Monolithic).unwrap();
    store.blob_put(&layer, &layer_bytes, UploadMode::Monolithic).unwrap();
    let annotations = BTreeMap::from([("org.example.conformance".to_string(), label.to_string())]);
    let raw = ImageManifest::single_layer(config, layer, annotations).to_raw();
    assert_eq!(raw.media_type, OCI_MANIFEST);
    raw
}

/// `manifest` is served whole by digest and under each of `tags`.
fn assert_serves(h: &dyn Harness, store: &mut dyn Store, manifest: &RawManifest, tags: &[&str]) {
    let selectors =
        tags.iter().map(|t| Selector::Tag(t.to_string())).chain([Selector::Digest(manifest.digest.clone())]);
    for selector in selectors {
        let what = format!("{}: manifest {} as {selector}", h.name(), manifest.digest);
        let head = store.manifest_head(&selector).unwrap_or_else(|e| panic!("{what}: head: {e}"));
        let head = head.unwrap_or_else(|| panic!("{what}: head says absent"));
        assert_eq!(
            (head.media_type.as_str(), &head.digest, head.size),
            (manifest.media_type.as_str(), &manifest.digest, manifest.bytes.len() as u64),
            "{what}: head"
        );
        let got = store.manifest_get(&selector).unwrap_or_else(|e| panic!("{what}: get: {e}"));
        assert_eq!(got.bytes, manifest.bytes, "{what}: bytes");
        assert_eq!(got.digest, manifest.digest, "{what}: digest");
        assert_eq!(got.media_type, manifest.media_type, "{what}: media type");
    }
}

/// The store's tags, sorted, each once.
fn sorted_tags(h: &dyn Harness, store: &mut dyn Store) -> Vec<String> {
    let mut tags = store.tags().unwrap_or_else(|e| panic!("{}: tags: {e}", h.name()));
    let listed = tags.len();
    tags.sort();
    tags.dedup();
    assert_eq!(tags.len(), listed, "{}: a tag listed twice: {tags:?}", h.name());
    tags
}

/// After a refused put: the digest is absent, or holds exactly its content.
fn assert_matches_or_absent(h: &dyn Harness, store: &mut dyn Store, descriptor: &Descriptor, bytes: &[u8]) {
    if store.blob_exists(&descriptor.digest).unwrap() {
        let stored = get(store, descriptor).unwrap_or_else(|e| panic!("{}: stored after a refused put: {e}", h.name()));
        assert_eq!(stored, bytes, "{}: other content under {}", h.name(), descriptor.digest);
    }
}

/// A read's result for messages: the error, or how many bytes with which digest.
fn shown(result: &Result<Vec<u8>>) -> String {
    match result {
        Ok(bytes) => format!("Ok({} bytes, {})", bytes.len(), Digest::sha256_of(bytes)),
        Err(e) => format!("Err({e:?})"),
    }
}

/// A blob through `blob_get`.
fn get(store: &mut dyn Store, descriptor: &Descriptor) -> Result<Vec<u8>> {
    let mut sink = Vec::new();
    store.blob_get(descriptor, &mut sink)?;
    Ok(sink)
}

/// A blob through `blob_open`, read to its end.
fn open(store: &mut dyn Store, descriptor: &Descriptor) -> Result<Vec<u8>> {
    let mut reader = store.blob_open(descriptor)?;
    let mut sink = Vec::new();
    copy_verified(&mut reader, &mut sink, "memory")?;
    Ok(sink)
}

/// Bytes read through a check against a descriptor, as a `blob_open`
/// reader of another store would give them.
struct Verifying {
    descriptor: Descriptor,
    bytes: Vec<u8>,
}

impl BlobSource for Verifying {
    fn open(&self) -> Result<Box<dyn Read + '_>> {
        let origin = Origin::File("conformance source".into());
        Ok(Box::new(VerifyingReader::new(self.bytes.as_slice(), &self.descriptor, "source".into(), origin)))
    }

    fn verifies_itself(&self) -> bool {
        true
    }
}

#[cfg(test)]
mod tests {
    use std::fs;
    use std::path::{Path, PathBuf};

    use super::*;
    use crate::store::layout::{LayoutStore, blob_path_in};

    /// Layouts in a temporary directory, with or without seals.
    struct Layouts {
        root: PathBuf,
        made: u32,
        seals: bool,
    }

    impl Layouts {
        fn new(seals: bool) -> Layouts {
            let root = std::env::temp_dir().join(format!("wasmship-conformance-{:x}", crate::fsutil::random_u64()));
            fs::create_dir_all(&root).unwrap();
            Layouts { root, made: 0, seals }
        }

        fn next(&mut self, what: &str) -> PathBuf {
            self.made += 1;
            self.root.join(format!("{what}-{}", self.made))
        }
    }

    impl Drop for Layouts {
        fn drop(&mut self) {
            let _ = fs::remove_dir_all(&self.root);
        }
    }

    fn layout_root(store: &dyn Store) -> PathBuf {
        let location = store.location();
        PathBuf::from(location.strip_prefix(crate::reference::LAYOUT_SCHEME).expect("a layout's location"))
    }

    /// The blob file's bytes, changed by `change`, written back in place.
    fn rewrite(path: &Path, change: impl FnOnce(&mut Vec<u8>)) {
        let mut bytes = fs::read(path).unwrap();
        change(&mut bytes);
        fs::write(path, bytes).unwrap();
    }

    impl Harness for Layouts {
        fn name(&self) -> String {
            if self.seals { "layout with seals" } else { "layout" }.to_string()
        }

        fn fresh(&mut self) -> Box<dyn Store> {
            let store = LayoutStore::create(self.next("layout")).unwrap();
            Box::new(if self.seals { store.with_seals() } else { store })
        }

        fn scratch_dir(&mut self) -> PathBuf {
            let dir = self.next("scratch");
            fs::create_dir_all(&dir).unwrap();
            dir
        }

        fn expectations(&self) -> Expectations {
            Expectations { links: self.seals, mounts: false }
        }

        fn plant(&mut self, store: &dyn Store, plant: Plant<'_>) -> bool {
            let root = layout_root(store);
            match plant {
                Plant::BlobBytes(digest) | Plant::ManifestBytes { digest, .. } => {
                    rewrite(&blob_path_in(&root, digest), |bytes| bytes[0] = bytes[0].wrapping_add(1))
                }
                Plant::BlobTruncated(digest) => rewrite(&blob_path_in(&root, digest), |bytes| {
                    bytes.pop();
                }),
            }
            true
        }
    }

    #[test]
    fn a_layout_keeps_the_store_contract() {
        let report = run_all(&mut Layouts::new(false));
        assert!(report.not_exercised.is_empty(), "{:?}", report.not_exercised);
        assert_eq!(report.exercised.len(), CLAUSES.len());
    }

    #[test]
    fn a_layout_with_seals_keeps_the_store_contract() {
        let report = run_all(&mut Layouts::new(true));
        assert!(report.not_exercised.is_empty(), "{:?}", report.not_exercised);
        assert_eq!(report.exercised.len(), CLAUSES.len());
    }

    /// A harness whose stores break one clause: the suite must notice.
    struct ShortReads(Layouts);

    /// A layout that loses every blob's last byte when reading it back.
    struct LosesLastByte(LayoutStore);

    impl Store for LosesLastByte {
        fn location(&self) -> String {
            self.0.location()
        }
        fn blob_exists(&mut self, digest: &Digest) -> Result<bool> {
            self.0.blob_exists(digest)
        }
        fn blob_put(&mut self, descriptor: &Descriptor, source: &dyn BlobSource, mode: UploadMode) -> Result<()> {
            self.0.blob_put(descriptor, source, mode)
        }
        fn blob_open(&mut self, descriptor: &Descriptor) -> Result<Box<dyn Read>> {
            let mut bytes = Vec::new();
            self.0.blob_open(descriptor)?.read_to_end(&mut bytes).unwrap_or_default();
            bytes.pop();
            Ok(Box::new(std::io::Cursor::new(bytes)))
        }
        fn manifest_head(&mut self, selector: &Selector) -> Result<Option<Descriptor>> {
            self.0.manifest_head(selector)
        }
        fn manifest_get(&mut self, selector: &Selector) -> Result<RawManifest> {
            self.0.manifest_get(selector)
        }
        fn manifest_put(&mut self, manifest: &RawManifest, tag: Option<&str>) -> Result<()> {
            self.0.manifest_put(manifest, tag)
        }
        fn tags(&mut self) -> Result<Vec<String>> {
            self.0.tags()
        }
    }

    impl Harness for ShortReads {
        fn name(&self) -> String {
            "broken layout".into()
        }
        fn fresh(&mut self) -> Box<dyn Store> {
            Box::new(LosesLastByte(LayoutStore::create(self.0.next("broken")).unwrap()))
        }
        fn scratch_dir(&mut self) -> PathBuf {
            self.0.scratch_dir()
        }
        fn expectations(&self) -> Expectations {
            Expectations::default()
        }
        fn plant(&mut self, store: &dyn Store, plant: Plant<'_>) -> bool {
            self.0.plant(store, plant)
        }
    }

    #[test]
    fn the_suite_catches_a_store_that_hands_out_unverified_bytes() {
        let mut harness = ShortReads(Layouts::new(false));
        let mut failed = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_all(&mut harness)))
            .expect_err("a store that returns short blobs passed");
        let message = failed.downcast_mut::<String>().map(std::mem::take).unwrap_or_default();
        assert!(message.contains("blob_round_trip:"), "{message}");
        assert!(!message.contains("manifest_round_trip:"), "{message}");
    }
}
