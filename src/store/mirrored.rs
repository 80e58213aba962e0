//! A repository pulled through mirrors: each read goes to the mirrors in order, then to the
//! upstream registry, and the first that serves it verified wins. A tag is resolved only by
//! the upstream or a mirror trusted to resolve; a mirror that may only serve digests gets
//! the digest the upstream resolved, so what it serves is checked against a digest it did
//! not choose. A mirror that fails (down, missing the item, wrong bytes) is passed over: at
//! once for a manifest or a small blob, and for a large blob at the caller's next attempt
//! (its bytes may already be written). Writes go to the upstream; pushes never see mirrors.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::io::{self, Read, Write};
use std::rc::Rc;

use crate::error::{Error, Result};
use crate::mirror::trail::{self, Served};
use crate::oci::{Descriptor, Digest, RawManifest};
use crate::store::verify::into_error;
use crate::store::{BlobSource, Selector, Store, Upcoming, UploadMode};

/// Blobs up to this size are read whole from a mirror before they are handed on, so that a
/// bad mirror is passed over within one call.
const BUFFERED_BLOB_MAX: u64 = 4 << 20;

/// Sources that failed, shared with the readers they handed out: `(source, None)` for every
/// item (unreachable), `(source, Some(digest))` for one.
type Failures = Rc<RefCell<BTreeSet<(usize, Option<Digest>)>>>;

/// One place to read from.
pub struct Source {
    pub store: Box<dyn Store>,
    /// `host[:port]`, for the trail and messages.
    pub host: String,
    pub resolves_tags: bool,
    pub serves_digests: bool,
    pub is_mirror: bool,
}

/// A repository read through its mirrors, then its upstream (the last source).
pub struct MirroredStore {
    sources: Vec<Source>,
    /// Sources that failed: `(source, None)` for every item (unreachable), or for one digest.
    failed: Failures,
}

impl MirroredStore {
    /// Read through `mirrors` in order, then `upstream`.
    pub fn new(mirrors: Vec<Source>, upstream: Source) -> Self {
        let mut sources = mirrors;
        sources.push(upstream);
        MirroredStore { sources, failed: Rc::default() }
    }

    fn upstream(&mut self) -> &mut dyn Store {
        self.sources.last_mut().expect("an upstream").store.as_mut()
    }

    /// The sources that may serve `selector`'s kind of read, in order, skipping failed ones.
    fn candidates(&self, by_tag: bool, digest: Option<&Digest>) -> Vec<usize> {
        let failed = self.failed.borrow();
        (0..self.sources.len())
            .filter(|&i| {
                let source = &self.sources[i];
                let allowed = if by_tag { source.resolves_tags } else { source.serves_digests };
                let last = i + 1 == self.sources.len();
                last || (allowed
                    && !failed.contains(&(i, None))
                    && !digest.is_some_and(|d| failed.contains(&(i, Some(d.clone())))))
            })
            .collect()
    }

    /// `read` from each candidate until one succeeds; the upstream's error is the answer
    /// when every source fails.
    fn first<T>(
        &mut self,
        candidates: Vec<usize>,
        what: &str,
        mut read: impl FnMut(&mut dyn Store) -> Result<Option<T>>,
    ) -> Result<Option<(T, usize)>> {
        let last = self.sources.len() - 1;
        for i in candidates {
            match read(self.sources[i].store.as_mut()) {
                Ok(Some(found)) => return Ok(Some((found, i))),
                Ok(None) if i == last => return Ok(None),
                Ok(None) => trail::passed_over(&self.sources[i].host, what, "not there"),
                Err(e) if i == last => return Err(e),
                Err(e) => self.pass_over(i, None, what, &e),
            }
        }
        Ok(None)
    }

    fn pass_over(&self, i: usize, digest: Option<&Digest>, what: &str, error: &Error) {
        trail::passed_over(&self.sources[i].host, what, &error.to_string());
        // An unreachable mirror is not asked again in this run; one that failed an item
        // is not asked for that item again.
        let unreachable = matches!(error, Error::Transport { .. }) && digest.is_none();
        let key = if unreachable { None } else { digest.cloned() };
        self.failed.borrow_mut().insert((i, key));
    }

    fn record(&self, i: usize, kind: &'static str, what: String) {
        let source = &self.sources[i];
        trail::record(Served { kind, what, host: source.host.clone(), mirror: source.is_mirror });
    }

    fn manifest_by_digest(&mut self, digest: &Digest) -> Result<RawManifest> {
        let what = format!("manifest {digest}");
        let candidates = self.candidates(false, Some(digest));
        let selector = Selector::Digest(digest.clone());
        let found = self.first(candidates, &what, |store| store.manifest_get(&selector).map(Some))?;
        let (manifest, i) = found.expect("manifest_get answers or fails");
        self.record(i, "manifest", digest.to_string());
        Ok(manifest)
    }
}

impl Store for MirroredStore {
    fn location(&self) -> String {
        self.sources.last().expect("an upstream").store.location()
    }

    fn blob_exists(&mut self, digest: &Digest) -> Result<bool> {
        self.upstream().blob_exists(digest)
    }

    fn blob_put(&mut self, descriptor: &Descriptor, source: &dyn BlobSource, mode: UploadMode) -> Result<()> {
        self.upstream().blob_put(descriptor, source, mode)
    }

    fn blob_open(&mut self, descriptor: &Descriptor) -> Result<Box<dyn Read>> {
        let what = format!("blob {}", descriptor.digest);
        let last = self.sources.len() - 1;
        for i in self.candidates(false, Some(&descriptor.digest)) {
            match self.sources[i].store.blob_open(descriptor) {
                Ok(reader) if i == last => {
                    self.record(i, "blob", descriptor.digest.to_string());
                    return Ok(reader);
                }
                Ok(reader) => {
                    self.record(i, "blob", descriptor.digest.to_string());
                    return Ok(Box::new(MirrorReader {
                        inner: reader,
                        host: self.sources[i].host.clone(),
                        mark: (i, descriptor.digest.clone()),
                        failed: self.failed.clone(),
                    }));
                }
                Err(e) if i == last => return Err(e),
                Err(e) => self.pass_over(i, Some(&descriptor.digest), &what, &e),
            }
        }
        unreachable!("the upstream is always a candidate")
    }

    fn blob_get(&mut self, descriptor: &Descriptor, sink: &mut dyn Write) -> Result<()> {
        if descriptor.size > BUFFERED_BLOB_MAX {
            let mut reader = self.blob_open(descriptor)?;
            crate::store::verify::copy_verified(&mut reader, sink, "destination")?;
            return Ok(());
        }
        let what = format!("blob {}", descriptor.digest);
        let candidates = self.candidates(false, Some(&descriptor.digest));
        let found = self.first(candidates, &what, |store| {
            let mut bytes = Vec::with_capacity(descriptor.size as usize);
            store.blob_get(descriptor, &mut bytes).map(|()| Some(bytes))
        })?;
        let (bytes, i) = found.expect("blob_get answers or fails");
        self.record(i, "blob", descriptor.digest.to_string());
        sink.write_all(&bytes).map_err(|e| Error::io("destination", "write", e))
    }

    fn blob_mount(&mut self, descriptor: &Descriptor, from_repository: &str) -> Result<bool> {
        self.upstream().blob_mount(descriptor, from_repository)
    }

    fn registry_repository(&self) -> Option<(String, String)> {
        self.sources.last().expect("an upstream").store.registry_repository()
    }

    fn manifest_head(&mut self, selector: &Selector) -> Result<Option<Descriptor>> {
        let (by_tag, digest) = match selector {
            Selector::Tag(_) => (true, None),
            Selector::Digest(d) => (false, Some(d.clone())),
        };
        let what = format!("manifest {selector}");
        let candidates = self.candidates(by_tag, digest.as_ref());
        let found = self.first(candidates, &what, |store| store.manifest_head(selector))?;
        Ok(found.map(|(descriptor, i)| {
            if by_tag {
                self.record(i, "tag", format!("{selector} → {}", descriptor.digest));
            }
            descriptor
        }))
    }

    fn manifest_get(&mut self, selector: &Selector) -> Result<RawManifest> {
        let tag = match selector {
            Selector::Digest(digest) => return self.manifest_by_digest(digest),
            Selector::Tag(tag) => tag,
        };
        let last = self.sources.len() - 1;
        let what = format!("manifest {tag}");
        // Mirrors trusted to resolve serve the tag themselves.
        for i in self.candidates(true, None).into_iter().filter(|&i| i != last) {
            match self.sources[i].store.manifest_get(selector) {
                Ok(manifest) => {
                    self.record(i, "tag", format!("{tag} → {}", manifest.digest));
                    self.record(i, "manifest", manifest.digest.to_string());
                    return Ok(manifest);
                }
                Err(e) => self.pass_over(i, None, &what, &e),
            }
        }
        // The others serve the digest the upstream resolves.
        let digest_mirrors = self.candidates(false, None).into_iter().any(|i| i != last);
        if digest_mirrors && let Some(resolved) = self.upstream().manifest_head(selector)? {
            self.record(last, "tag", format!("{tag} → {}", resolved.digest));
            return self.manifest_by_digest(&resolved.digest);
        }
        let manifest = self.upstream().manifest_get(selector)?;
        self.record(last, "tag", format!("{tag} → {}", manifest.digest));
        self.record(last, "manifest", manifest.digest.to_string());
        Ok(manifest)
    }

    fn manifest_put(&mut self, manifest: &RawManifest, tag: Option<&str>) -> Result<()> {
        self.upstream().manifest_put(manifest, tag)
    }

    fn tags(&mut self) -> Result<Vec<String>> {
        let candidates = self.candidates(true, None);
        let found = self.first(candidates, "tag list", |store| store.tags().map(Some))?;
        Ok(found.map(|(tags, _)| tags).unwrap_or_default())
    }

    fn referrers(&mut self, subject: &Digest) -> Result<Option<Vec<Descriptor>>> {
        // Who refers to what is not content-addressed: asked of the trusted sources only.
        let candidates = self.candidates(true, None);
        let found = self.first(candidates, &format!("referrers of {subject}"), |store| store.referrers(subject))?;
        Ok(found.map(|(list, _)| list))
    }

    fn prefetch(&mut self, upcoming: &[Upcoming]) {
        // Only the upstream is certain to be asked.
        if self.sources.len() == 1 {
            self.upstream().prefetch(upcoming);
        }
    }
}

/// A mirror's blob stream: when it fails (cut off, or bytes that do not match the digest),
/// the mirror is passed over for that blob, and the failure becomes a transport failure of
/// the mirror, which callers retry (from the next source).
struct MirrorReader {
    inner: Box<dyn Read>,
    host: String,
    mark: (usize, Digest),
    failed: Failures,
}

impl Read for MirrorReader {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.inner.read(buf).map_err(|e| {
            let (source, digest) = self.mark.clone();
            self.failed.borrow_mut().insert((source, Some(digest)));
            let cause = into_error(e, &self.host);
            trail::passed_over(&self.host, &format!("blob {}", self.mark.1), &cause.to_string());
            let refused = Error::Transport {
                target: format!("mirror {}", self.host),
                detail: format!("{cause}; passed over, the next attempt reads from the next source"),
            };
            io::Error::new(io::ErrorKind::InvalidData, refused)
        })
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;
    use std::path::PathBuf;

    use super::*;
    use crate::oci::ImageManifest;
    use crate::oci::media_type::WASM_CONFIG;
    use crate::store::conformance::blob;
    use crate::store::layout::LayoutStore;

    /// Two layouts, a mirror and an upstream, under a fresh temporary directory.
    struct Pair {
        root: PathBuf,
    }

    impl Pair {
        fn new() -> Self {
            let root = std::env::temp_dir().join(format!("wasmship-mirrored-{:x}", crate::fsutil::random_u64()));
            Pair { root }
        }

        fn layout(&self, name: &str) -> LayoutStore {
            LayoutStore::create(self.root.join(name)).unwrap()
        }

        /// A store reading through the `mirror` layout, then the `upstream` one.
        fn store(&self, resolves_tags: bool) -> MirroredStore {
            let source = |name: &str, is_mirror: bool| Source {
                store: Box::new(self.layout(name)),
                host: name.to_string(),
                resolves_tags: !is_mirror || resolves_tags,
                serves_digests: true,
                is_mirror,
            };
            MirroredStore::new(vec![source("mirror", true)], source("upstream", false))
        }
    }

    impl Drop for Pair {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.root);
        }
    }

    /// An image of one config and one layer of `layer_size` bytes, put into `stores` and
    /// tagged `tag` there.
    fn image(stores: &mut [&mut LayoutStore], label: &str, layer_size: usize, tag: &str) -> (RawManifest, Vec<u8>) {
        let config_bytes = format!("{{\"label\":\"{label}\"}}").into_bytes();
        let config = Descriptor::new(WASM_CONFIG, Digest::sha256_of(&config_bytes), config_bytes.len() as u64);
        let (layer, layer_bytes) = blob(label, layer_size);
        let raw = ImageManifest::single_layer(config.clone(), layer.clone(), BTreeMap::new()).to_raw();
        for store in stores.iter_mut() {
            store.blob_put(&config, &config_bytes, UploadMode::Monolithic).unwrap();
            store.blob_put(&layer, &layer_bytes, UploadMode::Monolithic).unwrap();
            store.manifest_put(&raw, Some(tag)).unwrap();
        }
        (raw, layer_bytes)
    }

    fn layer_of(raw: &RawManifest) -> Descriptor {
        match raw.parse().unwrap() {
            crate::oci::manifest::Manifest::Image(m) => m.layers[0].clone(),
            crate::oci::manifest::Manifest::Index(_) => unreachable!(),
        }
    }

    /// Replace a blob's file in a layout with other bytes of the same length.
    fn tamper(pair: &Pair, layout: &str, digest: &Digest) {
        let path = pair.layout(layout).blob_path(digest);
        let mut bytes = std::fs::read(&path).unwrap();
        bytes[0] ^= 0xff;
        std::fs::set_permissions(&path, std::os::unix::fs::PermissionsExt::from_mode(0o644)).unwrap();
        std::fs::write(&path, bytes).unwrap();
    }

    fn served() -> Vec<(&'static str, String)> {
        trail::take().into_iter().map(|s| (s.kind, s.host)).collect()
    }

    #[test]
    fn a_tag_is_resolved_upstream_unless_the_mirror_is_trusted_to_resolve() {
        let pair = Pair::new();
        let (mut mirror, mut upstream) = (pair.layout("mirror"), pair.layout("upstream"));
        let (truth, _) = image(&mut [&mut mirror, &mut upstream], "truth", 100, "other");
        upstream.manifest_put(&truth, Some("1")).unwrap();
        // The mirror says the tag names something else.
        let (lie, _) = image(&mut [&mut mirror], "lie", 100, "1");
        trail::take();

        let got = pair.store(false).manifest_get(&Selector::Tag("1".into())).unwrap();
        assert_eq!(got.digest, truth.digest, "the upstream resolved the tag");
        assert_eq!(served(), [("tag", "upstream".into()), ("manifest", "mirror".into())], "served by digest");

        let trusted = pair.store(true).manifest_get(&Selector::Tag("1".into())).unwrap();
        assert_eq!(trusted.digest, lie.digest, "a mirror trusted to resolve answers the tag itself");
        assert_eq!(served(), [("tag", "mirror".into()), ("manifest", "mirror".into())]);
    }

    #[test]
    fn a_tampered_small_blob_is_passed_over_within_the_call() {
        let pair = Pair::new();
        let (mut mirror, mut upstream) = (pair.layout("mirror"), pair.layout("upstream"));
        let (raw, layer_bytes) = image(&mut [&mut mirror, &mut upstream], "small", 1000, "1");
        let layer = layer_of(&raw);
        tamper(&pair, "mirror", &layer.digest);
        trail::take();

        let mut store = pair.store(false);
        let mut bytes = Vec::new();
        store.blob_get(&layer, &mut bytes).unwrap();
        assert_eq!(bytes, layer_bytes);
        assert_eq!(served(), [("blob", "upstream".into())]);
    }

    #[test]
    fn a_tampered_large_blob_fails_its_stream_and_the_next_attempt_reads_the_upstream() {
        let pair = Pair::new();
        let (mut mirror, mut upstream) = (pair.layout("mirror"), pair.layout("upstream"));
        let (raw, layer_bytes) =
            image(&mut [&mut mirror, &mut upstream], "large", (BUFFERED_BLOB_MAX + 1) as usize, "1");
        let layer = layer_of(&raw);
        tamper(&pair, "mirror", &layer.digest);
        trail::take();

        let mut store = pair.store(false);
        let mut first = Vec::new();
        let error = store.blob_get(&layer, &mut first).unwrap_err();
        assert!(matches!(&error, Error::Transport { target, .. } if target == "mirror mirror"), "{error}");
        assert!(error.to_string().contains("digest mismatch"), "{error}");
        let mut second = Vec::new();
        store.blob_get(&layer, &mut second).unwrap();
        assert_eq!(second, layer_bytes);
        assert_eq!(served(), [("blob", "mirror".into()), ("blob", "upstream".into())]);
    }

    #[test]
    fn writes_go_to_the_upstream_only() {
        let pair = Pair::new();
        let mut store = pair.store(true);
        let (descriptor, bytes) = blob("written", 64);
        store.blob_put(&descriptor, &bytes, UploadMode::Monolithic).unwrap();
        assert!(pair.layout("upstream").blob_exists(&descriptor.digest).unwrap());
        assert!(!pair.layout("mirror").blob_exists(&descriptor.digest).unwrap());
        assert_eq!(store.location(), pair.layout("upstream").location());
    }
}
