//! Well-known annotation keys (OCI image spec, "Pre-Defined Annotation Keys").

/// Date and time the artifact was built (RFC 3339).
pub const CREATED: &str = "org.opencontainers.image.created";
/// Contact details of the people or organization responsible.
pub const AUTHORS: &str = "org.opencontainers.image.authors";
/// URL to find more information.
pub const URL: &str = "org.opencontainers.image.url";
/// URL to get the source code.
pub const SOURCE: &str = "org.opencontainers.image.source";
/// Version of the packaged software.
pub const VERSION: &str = "org.opencontainers.image.version";
/// Source control revision.
pub const REVISION: &str = "org.opencontainers.image.revision";
/// License(s), as an SPDX expression.
pub const LICENSES: &str = "org.opencontainers.image.licenses";
/// Human-readable title (on a layer: its file name).
pub const TITLE: &str = "org.opencontainers.image.title";
/// Human-readable description.
pub const DESCRIPTION: &str = "org.opencontainers.image.description";
/// Name of a reference in an OCI image layout's `index.json`.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// Name of the distributing entity, organization or individual.
pub const VENDOR: &str = "org.opencontainers.image.vendor";
