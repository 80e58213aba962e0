//! The registry backend: one repository of a registry, spoken to through the
//! OCI distribution API over an HTTP [`Transport`](crate::http::Transport).
//! Files mirror the layout backend: `blob`, `manifest`, `tag`, plus `referrers` (the
//! referrers API), `upload`
//! (the upload session protocol), `client` (URLs, redirects, auth) and
//! `errors` (registry error bodies).

mod blob;
mod client;
mod errors;
mod manifest;
mod referrers;
mod retry;
mod stream_upload;
mod tag;
mod upload;

use std::io::Read;

pub use client::{ClientOptions, EndpointOptions, RegistryClient};

use crate::error::Result;
use crate::http::BodyRead;
use crate::oci::{Descriptor, Digest, RawManifest};
use crate::reference::RegistryReference;
use crate::store::{BlobSource, BlobUpload, Selector, Store, UploadMode};

/// One repository in a registry.
pub struct RegistryStore {
    client: RegistryClient,
    repository: String,
}

impl RegistryStore {
    /// The repository named by `reference`, reached through `client`.
    pub fn new(client: RegistryClient, reference: &RegistryReference) -> Self {
        RegistryStore { client, repository: reference.repository.clone() }
    }

    fn path(&self, rest: &str) -> String {
        format!("/v2/{}/{rest}", self.repository)
    }
}

impl Store for RegistryStore {
    fn location(&self) -> String {
        format!("{}/{}", self.client.registry(), self.repository)
    }

    fn blob_exists(&mut self, digest: &Digest) -> Result<bool> {
        blob::exists(self, digest)
    }

    fn blob_put(&mut self, descriptor: &Descriptor, source: &dyn BlobSource, mode: UploadMode) -> Result<()> {
        upload::put(self, descriptor, source, mode)
    }

    fn blob_open(&mut self, descriptor: &Descriptor) -> Result<Box<dyn Read>> {
        Ok(Box::new(blob::open(self, descriptor, true)?))
    }

    fn blob_open_unhashed(&mut self, descriptor: &Descriptor) -> Result<Box<dyn Read>> {
        Ok(Box::new(blob::open(self, descriptor, false)?))
    }

    fn blob_stream_unhashed(&mut self, descriptor: &Descriptor) -> Result<Option<Box<dyn BodyRead>>> {
        Ok(Some(Box::new(blob::open(self, descriptor, false)?)))
    }

    fn blob_upload_begin(&mut self, descriptor: &Descriptor) -> Result<Option<Box<dyn BlobUpload>>> {
        upload::begin(self, descriptor)
    }

    fn blob_writer(&mut self) -> Result<Box<dyn crate::store::BlobWriter + '_>> {
        stream_upload::begin(self)
    }

    fn checks_uploaded_digests(&self) -> bool {
        true
    }

    fn blob_mount(&mut self, descriptor: &Descriptor, from_repository: &str) -> Result<bool> {
        blob::mount(self, descriptor, from_repository)
    }

    fn registry_repository(&self) -> Option<(String, String)> {
        Some((self.client.registry().to_string(), self.repository.clone()))
    }

    fn manifest_head(&mut self, selector: &Selector) -> Result<Option<Descriptor>> {
        manifest::head(self, selector)
    }

    fn manifest_get(&mut self, selector: &Selector) -> Result<RawManifest> {
        manifest::get(self, selector)
    }

    fn manifest_put(&mut self, raw: &RawManifest, tag: Option<&str>) -> Result<()> {
        manifest::put(self, raw, tag)
    }

    fn tags(&mut self) -> Result<Vec<String>> {
        tag::list(self)
    }

    fn referrers(&mut self, subject: &Digest) -> Result<Option<Vec<Descriptor>>> {
        referrers::list(self, subject)
    }

    fn prefetch(&mut self, upcoming: &[crate::store::Upcoming]) {
        for read in upcoming {
            match read {
                crate::store::Upcoming::Manifest(selector) => manifest::prefetch(self, selector),
                crate::store::Upcoming::Referrers(subject) => referrers::prefetch(self, subject),
                crate::store::Upcoming::Blob(digest) => blob::prefetch(self, digest),
            }
        }
    }
}
