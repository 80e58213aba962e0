//! OCI 1.1 referrers as data: the empty config every artifact manifest without a config of
//! its own points to, a referrer manifest (`subject`, `artifactType`), and the tag schema a
//! store without the referrers API keeps instead: the tag `sha256-<hex>` naming an image
//! index of every manifest that refers to `sha256:<hex>`.

use std::collections::BTreeMap;

use super::descriptor::Descriptor;
use super::digest::Digest;
use super::manifest::{ImageIndex, ImageManifest};
use super::media_type;

/// The empty descriptor's media type.
pub const EMPTY_MEDIA_TYPE: &str = "application/vnd.oci.empty.v1+json";
/// The empty descriptor's content.
pub const EMPTY_CONTENT: &[u8] = b"{}";

/// The descriptor of the two-byte `{}` config.
pub fn empty_descriptor() -> Descriptor {
    Descriptor::new(EMPTY_MEDIA_TYPE, Digest::sha256_of(EMPTY_CONTENT), EMPTY_CONTENT.len() as u64)
}

/// A manifest of `layers` that refers to `subject` (its media type, digest and size only),
/// of `artifact_type`, with the empty config.
pub fn referrer_manifest(
    subject: &Descriptor,
    artifact_type: &str,
    layers: Vec<Descriptor>,
    annotations: BTreeMap<String, String>,
) -> ImageManifest {
    ImageManifest {
        schema_version: 2,
        media_type: Some(media_type::OCI_MANIFEST.to_string()),
        artifact_type: Some(artifact_type.to_string()),
        config: empty_descriptor(),
        layers,
        subject: Some(Descriptor::new(subject.media_type.clone(), subject.digest.clone(), subject.size)),
        annotations: (!annotations.is_empty()).then_some(annotations),
    }
}

/// The tag-schema tag listing the referrers of `subject`: `<alg>-<hex>`.
pub fn fallback_tag(subject: &Digest) -> String {
    format!("{}-{}", subject.algorithm().name(), subject.hex())
}

/// Whether `tag` belongs to the signature and referrer machinery (`sha256-…`: the tag
/// schema, legacy `.sig`/`.att`/`.sbom` tags) rather than to a release.
pub fn is_machinery_tag(tag: &str) -> bool {
    tag.strip_prefix("sha256-").or_else(|| tag.strip_prefix("sha512-")).is_some_and(|rest| {
        let hex = rest.split('.').next().unwrap_or("");
        hex.len() >= 64 && hex.bytes().all(|b| b.is_ascii_hexdigit())
    })
}

/// How `manifest` (of `descriptor`) is listed among referrers: its descriptor with its
/// artifact type (the config's media type when it has none) and its annotations.
pub fn listing(descriptor: &Descriptor, manifest: &ImageManifest) -> Descriptor {
    let mut entry = Descriptor::new(descriptor.media_type.clone(), descriptor.digest.clone(), descriptor.size);
    entry.artifact_type = manifest.artifact_type.clone().or_else(|| Some(manifest.config.media_type.clone()));
    entry.annotations = manifest.annotations.clone().filter(|a| !a.is_empty());
    entry
}

/// `index` (a tag-schema index, or none yet) with `entry` added once.
pub fn with_referrer(index: Option<ImageIndex>, entry: Descriptor) -> ImageIndex {
    let mut index = index.unwrap_or_else(|| ImageIndex {
        schema_version: 2,
        media_type: Some(media_type::OCI_INDEX.to_string()),
        manifests: Vec::new(),
        annotations: None,
    });
    index.manifests.retain(|m| m.digest != entry.digest);
    index.manifests.push(entry);
    index
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_empty_config_is_the_specs() {
        assert_eq!(
            empty_descriptor().digest.to_string(),
            "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
    }

    #[test]
    fn machinery_tags_are_told_apart() {
        let hex = "a".repeat(64);
        assert!(is_machinery_tag(&format!("sha256-{hex}")));
        assert!(is_machinery_tag(&format!("sha256-{hex}.sig")));
        assert!(is_machinery_tag(&format!("sha256-{hex}.att")));
        assert!(!is_machinery_tag("sha256-short"));
        assert!(!is_machinery_tag("1.0.0"));
    }

    #[test]
    fn a_referrer_is_listed_once() {
        let subject = Digest::sha256_of(b"s");
        assert_eq!(fallback_tag(&subject), format!("sha256-{}", subject.hex()));
        let entry = Descriptor::new(media_type::OCI_MANIFEST, Digest::sha256_of(b"r"), 10);
        let index = with_referrer(None, entry.clone());
        let index = with_referrer(Some(index), entry.clone());
        assert_eq!(index.manifests, vec![entry]);
    }
}
