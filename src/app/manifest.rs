//! What a wadm application manifest (`core.oam.dev/v1beta1`, `kind: Application`) names:
//! for each entry of `spec.components` of type `component` or `capability`, its
//! `properties.image` — an OCI reference or a `file://` path — with the bytes of that scalar
//! in the file, or a shared application's component (`properties.application`). Nothing
//! else in a manifest names an artifact (config, secrets, traits, policies do not).

use super::span::{ScalarSpan, locate};
use super::yaml::{self, Document, Node};
use crate::error::{Error, Result};

/// The largest manifest read.
pub const MAX_MANIFEST: u64 = 4 << 20;
/// The API version wadm reads.
pub const API_VERSION: &str = "core.oam.dev/v1beta1";

/// What an entry of `spec.components` is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Component,
    Capability,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Component => "component",
            Kind::Capability => "capability",
        }
    }
}

/// Where an entry's artifact comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// An OCI reference, with the bytes of its scalar (`None` when it cannot be edited in
    /// place, with the reason).
    Image { reference: String, span: std::result::Result<ScalarSpan, String> },
    /// A `file://` URL: a local file, not in any registry.
    File(String),
    /// A component of another (shared) application.
    Shared { application: String, component: String },
}

/// One entry of `spec.components`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub kind: Kind,
    pub source: Source,
}

/// A manifest's name, version and entries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppManifest {
    pub name: String,
    /// `metadata.annotations.version`.
    pub version: Option<String>,
    pub entries: Vec<Entry>,
}

impl AppManifest {
    /// The OCI references, each once, in the order they first appear.
    pub fn references(&self) -> Vec<&str> {
        let mut seen: Vec<&str> = Vec::new();
        for entry in &self.entries {
            if let Source::Image { reference, .. } = &entry.source
                && !seen.contains(&reference.as_str())
            {
                seen.push(reference);
            }
        }
        seen
    }
}

/// Read the manifest in `text` (`origin` names the file in errors).
pub fn parse(text: &str, origin: &str) -> Result<AppManifest> {
    let invalid = |why: String| Error::InvalidInput(format!("{origin}: {why}"));
    let doc = yaml::parse(text, origin)?;
    let root = &doc.root;
    let kind = doc.text(root, "kind");
    if kind != Some("Application") {
        return Err(invalid(format!(
            "not a wadm application manifest (kind {}, expected Application)",
            kind.map_or("missing".into(), |k| format!("{k:?}"))
        )));
    }
    if let Some(api) = doc.text(root, "apiVersion")
        && api != API_VERSION
    {
        return Err(invalid(format!("apiVersion {api:?} is not {API_VERSION}")));
    }
    let metadata = doc.get(root, "metadata");
    let name = metadata
        .and_then(|m| doc.text(m, "name"))
        .ok_or_else(|| invalid("metadata.name is missing".into()))?
        .to_string();
    let version = metadata.and_then(|m| doc.get(m, "annotations")).and_then(|a| doc.text(a, "version"));
    let components = match doc.get(root, "spec").and_then(|spec| doc.get(spec, "components")) {
        Some(Node::Seq(items)) => items.as_slice(),
        Some(_) => return Err(invalid("spec.components is not a list".into())),
        None => &[],
    };
    let mut entries = Vec::new();
    for (index, item) in components.iter().enumerate() {
        if let Some(entry) = entry(&doc, text, doc.resolve(item), index).map_err(invalid)? {
            entries.push(entry);
        }
    }
    Ok(AppManifest { name, version: version.map(str::to_string), entries })
}

/// The entry at `spec.components[index]`; `None` for a type that names no artifact.
fn entry(doc: &Document, text: &str, item: &Node, index: usize) -> std::result::Result<Option<Entry>, String> {
    let at = format!("spec.components[{index}]");
    let name = doc.text(item, "name").ok_or(format!("{at}.name is missing"))?.to_string();
    let kind = match doc.text(item, "type") {
        Some("component") => Kind::Component,
        Some("capability") => Kind::Capability,
        _ => return Ok(None),
    };
    let at = format!("component {name:?} ({at})");
    let properties = doc.get(item, "properties").ok_or(format!("{at} has no properties"))?;
    let source = match (doc.get(properties, "image"), doc.get(properties, "application")) {
        (Some(image), _) => {
            let scalar = doc.scalar(image).ok_or(format!("{at}: properties.image is not a string"))?;
            let reference = scalar.value.trim().to_string();
            if reference.is_empty() {
                return Err(format!("{at}: properties.image is empty"));
            }
            if reference.starts_with("file://") {
                Source::File(reference)
            } else {
                let span =
                    locate(text, scalar).map_err(|why| format!("{at}: properties.image cannot be rewritten: {why}"));
                Source::Image { reference, span }
            }
        }
        (None, Some(shared)) => Source::Shared {
            application: doc
                .text(shared, "name")
                .ok_or(format!("{at}: properties.application.name is missing"))?
                .into(),
            component: doc
                .text(shared, "component")
                .ok_or(format!("{at}: properties.application.component is missing"))?
                .into(),
        },
        (None, None) => return Err(format!("{at} has neither properties.image nor properties.application")),
    };
    Ok(Some(Entry { name, kind, source }))
}

#[cfg(test)]
mod tests {
    use super::*;

    const APP: &str = r#"apiVersion: core.oam.dev/v1beta1
kind: Application
metadata:
  name: hello
  annotations:
    version: v0.0.1 # the app's own version
spec:
  components:
    - name: http-component
      type: component
      properties:
        image: &hello ghcr.io/wasmcloud/components/http-hello-world-rust:0.1.0
      traits:
        - type: spreadscaler
          properties: { instances: 1 }
    - name: again
      type: component
      properties:
        image: *hello
    - name: httpserver
      type: capability
      properties:
        image: "ghcr.io/wasmcloud/http-server:0.23.0"
    - name: local
      type: component
      properties:
        image: file:///tmp/build/local.wasm
    - name: shared
      type: component
      properties:
        application: { name: shared-app, component: greeter }
"#;

    #[test]
    fn every_artifact_is_found_with_its_bytes() {
        let app = parse(APP, "wadm.yaml").unwrap();
        assert_eq!(app.name, "hello");
        assert_eq!(app.version.as_deref(), Some("v0.0.1"));
        let names: Vec<(&str, &str)> = app.entries.iter().map(|e| (e.name.as_str(), e.kind.name())).collect();
        assert_eq!(
            names,
            [
                ("http-component", "component"),
                ("again", "component"),
                ("httpserver", "capability"),
                ("local", "component"),
                ("shared", "component")
            ]
        );
        let Source::Image { reference, span } = &app.entries[0].source else { panic!("an image") };
        assert_eq!(&APP[span.as_ref().unwrap().bytes.clone()], reference);
        // The alias points at the same bytes: the anchor's scalar.
        let Source::Image { span: again, .. } = &app.entries[1].source else { panic!("an image") };
        assert_eq!(again, span);
        let Source::Image { span: quoted, .. } = &app.entries[2].source else { panic!("an image") };
        assert_eq!(&APP[quoted.as_ref().unwrap().bytes.clone()], "\"ghcr.io/wasmcloud/http-server:0.23.0\"");
        assert_eq!(app.entries[3].source, Source::File("file:///tmp/build/local.wasm".into()));
        assert_eq!(
            app.entries[4].source,
            Source::Shared { application: "shared-app".into(), component: "greeter".into() }
        );
        assert_eq!(
            app.references(),
            ["ghcr.io/wasmcloud/components/http-hello-world-rust:0.1.0", "ghcr.io/wasmcloud/http-server:0.23.0"]
        );
    }

    #[test]
    fn what_is_not_an_application_is_named() {
        let error = |text: &str| parse(text, "x.yaml").unwrap_err().to_string();
        assert!(error("kind: Deployment\n").contains("not a wadm application manifest (kind \"Deployment\""));
        assert!(error("kind: Application\nmetadata: {}\n").contains("metadata.name is missing"));
        let no_image = "kind: Application\nmetadata: {name: a}\nspec:\n  components:\n    - name: c\n      type: component\n      properties: {}\n";
        assert!(error(no_image).contains("neither properties.image nor properties.application"));
    }
}
