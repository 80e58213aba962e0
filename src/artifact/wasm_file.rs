//! What a Wasm file is, read in one streaming pass: component or core module,
//! the component's top-level imports and exports, its wasm-metadata, and the
//! sha256 digest and size of the bytes. Nested modules, code sections and large
//! custom sections are skipped, so memory stays small whatever the file size.

use std::io::Read;

use wasmparser::{Chunk, ComponentExternalKind, ComponentTypeRef, Encoding, Parser, Payload};

use crate::error::{Error, Result};
use crate::oci::digest::Algorithm;
use crate::oci::{Digest, DigestWriter};

/// Read size of one step.
const READ_CHUNK: usize = 64 * 1024;
/// Top-level custom sections up to this size are kept for metadata.
const CUSTOM_SECTION_KEEP_MAX: u64 = 1024 * 1024;

/// Component or core module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WasmKind {
    Component,
    Module,
}

/// Metadata found in the file's custom sections (wasm-metadata's fields).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WasmMetadata {
    pub name: Option<String>,
    pub version: Option<String>,
    pub description: Option<String>,
    pub authors: Option<String>,
    pub licenses: Option<String>,
    pub source: Option<String>,
    pub homepage: Option<String>,
    pub revision: Option<String>,
}

/// The result of [`analyze`].
#[derive(Debug, Clone)]
pub struct WasmFile {
    pub kind: WasmKind,
    pub imports: Vec<String>,
    pub exports: Vec<String>,
    pub metadata: WasmMetadata,
    pub digest: Digest,
    pub size: u64,
}

/// Read `source` to its end, classify it and collect what the artifact needs.
/// `name` is used in error messages.
pub fn analyze(name: &str, source: &mut dyn Read) -> Result<WasmFile> {
    let mut hashed = HashingReader { inner: source, hasher: DigestWriter::new(std::io::sink(), Algorithm::Sha256) };
    let not_wasm = |detail: String| {
        Error::InvalidInput(format!(
            "{name} is not a WebAssembly component or module ({detail}); push takes a .wasm file"
        ))
    };

    let mut parser = Parser::new(0);
    let mut buf: Vec<u8> = Vec::with_capacity(READ_CHUNK * 2);
    let mut eof = false;
    let mut discard: u64 = 0;
    let mut kind = None;
    let mut imports = Vec::new();
    let mut exports = Vec::new();
    let mut custom_sections: Vec<u8> = Vec::new();

    loop {
        // Drop bytes of skipped sections before parsing on.
        if discard > 0 {
            let n = (discard.min(buf.len() as u64)) as usize;
            buf.drain(..n);
            discard -= n as u64;
            if discard > 0 {
                if eof {
                    return Err(not_wasm("file ends inside a section".into()));
                }
                fill(&mut hashed, &mut buf, &mut eof, name)?;
                continue;
            }
        }
        // At a top-level section start, skip large custom sections unparsed.
        if kind.is_some()
            && let Some((id, header, len)) = section_header(&buf)
            && id == 0
            && len > CUSTOM_SECTION_KEEP_MAX
        {
            discard = header as u64 + len;
            continue;
        }
        let (consumed, payload) = match parser.parse(&buf, eof) {
            Ok(Chunk::NeedMoreData(_)) => {
                if eof {
                    return Err(not_wasm("truncated".into()));
                }
                fill(&mut hashed, &mut buf, &mut eof, name)?;
                continue;
            }
            Ok(Chunk::Parsed { consumed, payload }) => (consumed, payload),
            Err(e) => return Err(not_wasm(e.message().to_string())),
        };
        let mut done = false;
        match payload {
            Payload::Version { encoding, .. } => {
                kind = Some(match encoding {
                    Encoding::Component => WasmKind::Component,
                    Encoding::Module => WasmKind::Module,
                });
            }
            Payload::ComponentImportSection(reader) => {
                for import in reader {
                    let import = import.map_err(|e| not_wasm(e.message().to_string()))?;
                    if !matches!(import.ty, ComponentTypeRef::Type(_)) {
                        imports.push(import.name.full_name().into_owned());
                    }
                }
            }
            Payload::ComponentExportSection(reader) => {
                for export in reader {
                    let export = export.map_err(|e| not_wasm(e.message().to_string()))?;
                    if export.kind != ComponentExternalKind::Type {
                        exports.push(export.name.full_name().into_owned());
                    }
                }
            }
            Payload::CustomSection(_) => custom_sections.extend_from_slice(&buf[..consumed]),
            Payload::CodeSectionStart { size, .. } => {
                parser.skip_section();
                discard = size as u64;
            }
            Payload::ModuleSection { unchecked_range, .. } | Payload::ComponentSection { unchecked_range, .. } => {
                discard = unchecked_range.end - unchecked_range.start;
            }
            Payload::End(_) => done = true,
            _ => {}
        }
        buf.drain(..consumed);
        if done {
            break;
        }
    }
    // Anything after the end of the binary is not Wasm.
    if !buf.is_empty() || (!eof && fill(&mut hashed, &mut buf, &mut eof, name)? > 0) {
        return Err(not_wasm("trailing bytes after the end of the binary".into()));
    }
    let kind = kind.ok_or_else(|| not_wasm("no header".into()))?;
    let metadata = read_metadata(kind, &custom_sections);
    let (digest, size, _) = hashed.hasher.finish();
    Ok(WasmFile { kind, imports, exports, metadata, digest, size })
}

fn fill(source: &mut HashingReader<'_>, buf: &mut Vec<u8>, eof: &mut bool, name: &str) -> Result<usize> {
    let start = buf.len();
    buf.resize(start + READ_CHUNK, 0);
    let n = source.read(&mut buf[start..]).map_err(|e| Error::io(name, "read", e))?;
    buf.truncate(start + n);
    if n == 0 {
        *eof = true;
    }
    Ok(n)
}

/// Section id, header length and content length of the section at the start
/// of `buf`, if its header is complete.
fn section_header(buf: &[u8]) -> Option<(u8, usize, u64)> {
    let id = *buf.first()?;
    let mut len: u64 = 0;
    for (i, byte) in buf[1..].iter().take(5).enumerate() {
        len |= u64::from(byte & 0x7f) << (7 * i);
        if byte & 0x80 == 0 {
            return Some((id, i + 2, len));
        }
    }
    None
}

/// Decode metadata with wasm-metadata from the collected custom sections,
/// wrapped in an otherwise empty binary of the same kind.
fn read_metadata(kind: WasmKind, custom_sections: &[u8]) -> WasmMetadata {
    let header: &[u8] = match kind {
        WasmKind::Component => &[0x00, 0x61, 0x73, 0x6d, 0x0d, 0x00, 0x01, 0x00],
        WasmKind::Module => &[0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00],
    };
    let mut binary = header.to_vec();
    binary.extend_from_slice(custom_sections);
    let Ok(payload) = wasm_metadata::Payload::from_binary(&binary) else {
        return WasmMetadata::default();
    };
    let m = payload.metadata();
    let text = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
    WasmMetadata {
        name: text(m.name.clone()),
        version: text(m.version.as_ref().map(|v| v.to_string())),
        description: text(m.description.as_ref().map(|v| v.to_string())),
        authors: text(m.authors.as_ref().map(|v| v.to_string())),
        licenses: text(m.licenses.as_ref().map(|v| v.to_string())),
        source: text(m.source.as_ref().map(|v| v.to_string())),
        homepage: text(m.homepage.as_ref().map(|v| v.to_string())),
        revision: text(m.revision.as_ref().map(|v| v.to_string())),
    }
}

struct HashingReader<'a> {
    inner: &'a mut dyn Read,
    hasher: DigestWriter<std::io::Sink>,
}

impl Read for HashingReader<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        std::io::Write::write_all(&mut self.hasher, &buf[..n])?;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn analyze_bytes(bytes: &[u8]) -> Result<WasmFile> {
        analyze("test.wasm", &mut &bytes[..])
    }

    #[test]
    fn core_module() {
        let wasm = [0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
        let f = analyze_bytes(&wasm).unwrap();
        assert_eq!(f.kind, WasmKind::Module);
        assert_eq!(f.size, 8);
        assert_eq!(f.digest, Digest::sha256_of(&wasm));
    }

    #[test]
    fn refuses_non_wasm() {
        let err = analyze_bytes(b"#!/bin/sh\necho hello\n").unwrap_err();
        assert!(err.to_string().contains("not a WebAssembly"), "{err}");
        let err = analyze_bytes(b"").unwrap_err();
        assert!(err.to_string().contains("not a WebAssembly"), "{err}");
    }

    #[test]
    fn refuses_trailing_garbage() {
        let mut wasm = vec![0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
        wasm.extend_from_slice(b"\x00\x05\x04junk");
        wasm.extend_from_slice(b"\xff");
        assert!(analyze_bytes(&wasm).is_err());
    }

    #[test]
    fn skips_a_large_custom_section_and_reads_metadata() {
        // Module with a 2 MiB custom section and a "version" custom section.
        let mut wasm = vec![0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00];
        let big = vec![7u8; 2 * 1024 * 1024];
        push_custom(&mut wasm, "padding", &big);
        push_custom(&mut wasm, "version", b"1.2.3");
        push_custom(&mut wasm, "description", b"a test module");
        let f = analyze_bytes(&wasm).unwrap();
        assert_eq!(f.metadata.version.as_deref(), Some("1.2.3"));
        assert_eq!(f.metadata.description.as_deref(), Some("a test module"));
        assert_eq!(f.size, wasm.len() as u64);
        assert_eq!(f.digest, Digest::sha256_of(&wasm));
    }

    fn push_custom(out: &mut Vec<u8>, name: &str, data: &[u8]) {
        let mut content = Vec::new();
        leb(&mut content, name.len() as u64);
        content.extend_from_slice(name.as_bytes());
        content.extend_from_slice(data);
        out.push(0);
        leb(out, content.len() as u64);
        out.extend_from_slice(&content);
    }

    fn leb(out: &mut Vec<u8>, mut v: u64) {
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(byte);
                break;
            }
            out.push(byte | 0x80);
        }
    }
}
