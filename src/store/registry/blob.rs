//! Blobs in a registry: existence (`HEAD`) and verified streaming download
//! (`GET`, following redirects to object storage).

use std::io::{self, Read, Write};

use super::RegistryStore;
use crate::error::{Error, Result};
use crate::http::{Method, Request};
use crate::oci::{Descriptor, Digest, DigestWriter};

pub(super) fn exists(store: &RegistryStore, digest: &Digest) -> Result<bool> {
    let url = store.client.url(&store.path(&format!("blobs/{digest}")));
    let response = store.client.send(&|| Request::new(Method::Head, url.clone()))?;
    match response.status {
        200 => Ok(true),
        404 => Ok(false),
        _ => Err(store.client.unexpected(response, "check blob", &format!("{}@{digest}", store.repository))),
    }
}

pub(super) fn get(store: &RegistryStore, descriptor: &Descriptor, sink: &mut dyn Write) -> Result<()> {
    let subject = format!("{}@{}", store.repository, descriptor.digest);
    let url = store.client.url(&store.path(&format!("blobs/{}", descriptor.digest)));
    let mut response = store.client.send_following_redirects(Method::Get, url, None)?;
    if response.status != 200 {
        return Err(store.client.unexpected(response, "get blob", &subject));
    }
    let mut writer = DigestWriter::new(sink, descriptor.digest.algorithm());
    // Read at most one byte more than announced: a longer body is an error,
    // not a reason to keep streaming.
    let mut limited = (&mut response.body).take(descriptor.size + 1);
    io::copy(&mut limited, &mut writer).map_err(|e| match e.kind() {
        io::ErrorKind::Other if e.to_string().starts_with("response body") => {
            Error::Transport { target: store.client.registry().to_string(), detail: format!("get blob {subject}: {e}") }
        }
        _ => Error::io(format!("{subject} destination"), "write", e),
    })?;
    writer.verify(&format!("blob {subject}"), &descriptor.digest, Some(descriptor.size))?;
    Ok(())
}
