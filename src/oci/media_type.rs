//! Media types of the manifests, configs and layers wasmship reads and writes.

/// OCI image manifest.
pub const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
/// OCI image index.
pub const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
/// Docker v2 schema 2 manifest (accepted on pull).
pub const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
/// Docker manifest list (accepted on pull).
pub const DOCKER_MANIFEST_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";

/// CNCF Wasm OCI artifact config.
pub const WASM_CONFIG: &str = "application/vnd.wasm.config.v0+json";
/// CNCF Wasm OCI artifact layer.
pub const WASM_LAYER: &str = "application/wasm";
/// Legacy wasmCloud component layer, accepted on pull.
pub const WASMCLOUD_LEGACY_LAYER: &str = "application/vnd.module.wasm.content.layer.v1+wasm";
/// Legacy wasmCloud component config.
pub const WASMCLOUD_LEGACY_CONFIG: &str = "application/vnd.wasmcloud.actor.archive.config";
/// wasmCloud provider archive layer.
pub const PROVIDER_ARCHIVE_LAYER: &str = "application/vnd.wasmcloud.provider.archive.layer.v1+par";
/// wasmCloud provider archive config.
pub const PROVIDER_ARCHIVE_CONFIG: &str = "application/vnd.wasmcloud.provider.archive.config";

/// The generic OCI tar layer (wasmCloud hosts accept provider archives in it).
pub const OCI_TAR_LAYER: &str = "application/vnd.oci.image.layer.v1.tar";

/// The `Accept` header value for manifest requests: every manifest type we read.
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.manifest.v1+json, \
application/vnd.oci.image.index.v1+json, \
application/vnd.docker.distribution.manifest.v2+json, \
application/vnd.docker.distribution.manifest.list.v2+json";

/// Whether `media_type` is a single-image manifest we understand.
pub fn is_image_manifest(media_type: &str) -> bool {
    media_type == OCI_MANIFEST || media_type == DOCKER_MANIFEST
}

/// Whether `media_type` is an index of manifests.
pub fn is_index(media_type: &str) -> bool {
    media_type == OCI_INDEX || media_type == DOCKER_MANIFEST_LIST
}

/// Whether `media_type` is a layer that holds one Wasm binary.
pub fn is_wasm_layer(media_type: &str) -> bool {
    media_type == WASM_LAYER || media_type == WASMCLOUD_LEGACY_LAYER
}
