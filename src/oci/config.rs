//! The CNCF Wasm OCI artifact config (`application/vnd.wasm.config.v0+json`).

use serde::{Deserialize, Serialize};

use super::digest::Digest;

/// The Wasm config blob. Field order is the serialised order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WasmConfig {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub author: Option<String>,
    pub architecture: String,
    pub os: String,
    #[serde(default)]
    pub layer_digests: Vec<Digest>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub component: Option<ComponentInfo>,
}

/// What a component imports and exports, as world key names
/// (`wasi:http/incoming-handler@0.2.0`) or plain names.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ComponentInfo {
    #[serde(default)]
    pub exports: Vec<String>,
    #[serde(default)]
    pub imports: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
}

/// `architecture` of every Wasm artifact.
pub const ARCHITECTURE_WASM: &str = "wasm";
/// `os` of a component.
pub const OS_WASIP2: &str = "wasip2";
/// `os` of a core module.
pub const OS_WASIP1: &str = "wasip1";

impl WasmConfig {
    /// Serialise to the stored bytes.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("config serialises")
    }
}
