//! Signatures in cosign's formats, computed inside the component with no network of its
//! own: key files ([`key_file`]), the legacy SimpleSigning payload stored under a `.sig`
//! tag ([`simple_signing`], [`legacy`]) and cosign 3's Sigstore bundle stored as an OCI
//! referrer ([`bundle`]). Finding and storing them in a store is `ops::sign`/`ops::verify`.

pub mod bundle;
pub mod key_file;
pub mod legacy;
pub mod policy;
pub mod simple_signing;

use std::collections::BTreeMap;

pub use key_file::{PrivateKey, PublicKey};

/// Which format a signature is stored in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    /// The `sha256-<hex>.sig` tag with a SimpleSigning payload (cosign ≤ 2's default).
    #[default]
    Sig,
    /// A Sigstore bundle stored as a referrer (cosign 3's default).
    Bundle,
}

impl Format {
    /// The name users give and see.
    pub fn name(self) -> &'static str {
        match self {
            Format::Sig => "sig",
            Format::Bundle => "bundle",
        }
    }
}

/// Annotation values as text: strings as they are, anything else as its JSON.
fn annotation_texts(values: BTreeMap<String, serde_json::Value>) -> BTreeMap<String, String> {
    values
        .into_iter()
        .map(|(k, v)| {
            let text = match v {
                serde_json::Value::String(s) => s,
                other => other.to_string(),
            };
            (k, text)
        })
        .collect()
}
