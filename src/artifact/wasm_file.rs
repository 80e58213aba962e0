//! What a Wasm file is, read in one streaming pass: component or core module,
//! validated with `wasmparser`'s validator (every section, nested module and
//! function body), the component's top-level imports and exports, its
//! wasm-metadata, and the sha256 digest and size of the bytes. The file is read
//! in chunks and each section is dropped once validated (function bodies one by
//! one), so memory stays within the largest section; large top-level custom
//! sections, which validation ignores, are skipped unbuffered.

use std::io::Read;

use wasmparser::{
    Chunk, ComponentExternalKind, ComponentTypeRef, Encoding, FuncValidatorAllocations, Parser, Payload, ValidPayload,
    Validator, WasmFeatures,
};

use crate::error::{Error, MAX_ECHO, Result, excerpt};
use crate::oci::digest::Algorithm;
use crate::oci::{Digest, DigestWriter};

/// Read size of one step.
const READ_CHUNK: usize = 64 * 1024;
/// Top-level custom sections up to this size are kept for metadata.
const CUSTOM_SECTION_KEEP_MAX: u64 = 1024 * 1024;
/// The first bytes of every WebAssembly binary.
const WASM_MAGIC: &[u8; 4] = b"\0asm";

/// The proposals a pushed binary may use: `wasmparser`'s defaults (the finished
/// proposals, the component model and its async ABI), which cover what
/// `cargo component`, `wasm-tools component new` and rustc's `wasm32-wasip2`
/// produce.
pub fn validation_features() -> WasmFeatures {
    WasmFeatures::default()
}

/// Component or core module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WasmKind {
    Component,
    Module,
}

impl WasmKind {
    fn noun(self) -> &'static str {
        match self {
            WasmKind::Component => "component",
            WasmKind::Module => "module",
        }
    }
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

/// Read `source` to its end, validate and classify it and collect what the
/// artifact needs. `name` is used in error messages.
pub fn analyze(name: &str, source: &mut dyn Read) -> Result<WasmFile> {
    let mut hashed = HashingReader { inner: source, hasher: DigestWriter::new(std::io::sink(), Algorithm::Sha256) };
    let mut buf: Vec<u8> = Vec::with_capacity(READ_CHUNK * 2);
    let mut eof = false;
    while buf.len() < WASM_MAGIC.len() && !eof {
        fill(&mut hashed, &mut buf, &mut eof, name)?;
    }
    if !buf.starts_with(WASM_MAGIC) {
        return Err(Error::InvalidInput(format!("{name} is not a WebAssembly file ({})", starts_with(&buf))));
    }

    let mut kind = None;
    // What the error is about: the top-level binary's kind, once its header is read.
    let invalid = |kind: Option<WasmKind>, message: &str, offset: u64| {
        let noun = kind.map_or("component or module", WasmKind::noun);
        Error::InvalidInput(format!(
            "{name} is not a valid WebAssembly {noun}: {} (at byte {offset})",
            excerpt(message, MAX_ECHO)
        ))
    };
    let mut validator = Validator::new_with_features(validation_features());
    let mut allocations = FuncValidatorAllocations::default();
    let mut parser = Parser::new(0);
    // The parsers of the enclosing binaries while a nested module or component is read.
    let mut outer: Vec<Parser> = Vec::new();
    // Function bodies left in the top-level module's code section.
    let mut bodies_left: u32 = 0;
    // Bytes of top-level custom sections dropped unparsed: the parser's offsets lag by that much.
    let mut skipped: u64 = 0;
    let mut discard: u64 = 0;
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
                    return Err(invalid(kind, "the file ends inside a custom section", parser.offset() + skipped));
                }
                fill(&mut hashed, &mut buf, &mut eof, name)?;
                continue;
            }
        }
        // At a top-level section start, skip large custom sections unparsed.
        if kind.is_some()
            && outer.is_empty()
            && bodies_left == 0
            && let Some((id, header, len)) = section_header(&buf)
            && id == 0
            && len > CUSTOM_SECTION_KEEP_MAX
        {
            discard = header as u64 + len;
            skipped += discard;
            continue;
        }
        let (consumed, payload) = match parser.parse(&buf, eof) {
            Ok(Chunk::NeedMoreData(_)) => {
                if eof {
                    return Err(invalid(kind, "the file ends early", parser.offset() + skipped));
                }
                fill(&mut hashed, &mut buf, &mut eof, name)?;
                continue;
            }
            Ok(Chunk::Parsed { consumed, payload }) => (consumed, payload),
            Err(e) => return Err(invalid(kind, e.message(), e.offset() + skipped)),
        };
        let top_level = outer.is_empty();
        let valid = validator.payload(&payload).map_err(|e| invalid(kind, e.message(), e.offset() + skipped))?;
        let mut done = false;
        match valid {
            ValidPayload::Ok => {}
            ValidPayload::Parser(nested) => outer.push(std::mem::replace(&mut parser, nested)),
            ValidPayload::Func(func, body) => {
                let mut checker = func.into_validator(std::mem::take(&mut allocations));
                checker.validate(&body).map_err(|e| invalid(kind, e.message(), e.offset() + skipped))?;
                allocations = checker.into_allocations();
            }
            ValidPayload::End(_) => match outer.pop() {
                Some(enclosing) => parser = enclosing,
                None => done = true,
            },
        }
        if top_level {
            match payload {
                Payload::Version { encoding, .. } => {
                    kind = Some(match encoding {
                        Encoding::Component => WasmKind::Component,
                        Encoding::Module => WasmKind::Module,
                    });
                }
                Payload::ComponentImportSection(reader) => {
                    for import in reader {
                        let import = import.map_err(|e| invalid(kind, e.message(), e.offset() + skipped))?;
                        if !matches!(import.ty, ComponentTypeRef::Type(_)) {
                            imports.push(import.name.full_name().into_owned());
                        }
                    }
                }
                Payload::ComponentExportSection(reader) => {
                    for export in reader {
                        let export = export.map_err(|e| invalid(kind, e.message(), e.offset() + skipped))?;
                        if export.kind != ComponentExternalKind::Type {
                            exports.push(export.name.full_name().into_owned());
                        }
                    }
                }
                Payload::CustomSection(_) => custom_sections.extend_from_slice(&buf[..consumed]),
                Payload::CodeSectionStart { count, .. } => bodies_left = count,
                Payload::CodeSectionEntry(_) => bodies_left = bodies_left.saturating_sub(1),
                _ => {}
            }
        }
        buf.drain(..consumed);
        if done {
            break;
        }
    }
    // Anything after the end of the binary is not Wasm.
    if !buf.is_empty() || (!eof && fill(&mut hashed, &mut buf, &mut eof, name)? > 0) {
        return Err(invalid(kind, "trailing bytes after the end of the binary", parser.offset() + skipped));
    }
    let kind = kind.ok_or_else(|| invalid(None, "no header", 0))?;
    let metadata = read_metadata(kind, &custom_sections);
    let (digest, size, _) = hashed.hasher.finish();
    Ok(WasmFile { kind, imports, exports, metadata, digest, size })
}

/// How a file that is not WebAssembly starts, for messages: its first bytes in
/// hex, and as text when they are printable.
fn starts_with(head: &[u8]) -> String {
    if head.is_empty() {
        return "it is empty".into();
    }
    let shown = &head[..head.len().min(8)];
    let hex: Vec<String> = shown.iter().map(|b| format!("{b:02x}")).collect();
    let text = if shown.iter().all(|b| b.is_ascii_graphic() || *b == b' ') {
        format!(" \"{}\"", String::from_utf8_lossy(shown))
    } else {
        String::new()
    };
    format!("it starts with {}{text}, not the magic number 00 61 73 6d", hex.join(" "))
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
    fn a_file_without_the_magic_number_is_named_in_one_line() {
        let err = analyze_bytes(b"#!/bin/sh\necho hello\n").unwrap_err();
        assert_eq!(
            err.to_string(),
            "test.wasm is not a WebAssembly file (it starts with 23 21 2f 62 69 6e 2f 73 \"#!/bin/s\", \
             not the magic number 00 61 73 6d)"
        );
        let err = analyze_bytes(b"\x7fELF\x02\x01\x01\0\0\0").unwrap_err();
        assert_eq!(
            err.to_string(),
            "test.wasm is not a WebAssembly file (it starts with 7f 45 4c 46 02 01 01 00, \
             not the magic number 00 61 73 6d)"
        );
        assert_eq!(analyze_bytes(b"").unwrap_err().to_string(), "test.wasm is not a WebAssembly file (it is empty)");
        assert!(matches!(analyze_bytes(b"\0as"), Err(Error::InvalidInput(_))));
    }

    /// A component whose nested core module exports a function under a name that is
    /// not UTF-8 (the bytes of `marker` replaced).
    pub(crate) fn component_with_invalid_utf8_name() -> Vec<u8> {
        let marker = b"name-to-break";
        let mut wasm =
            wat::parse_str(r#"(component (core module (func (export "name-to-break"))))"#).expect("valid text");
        let at = wasm.windows(marker.len()).position(|w| w == marker).expect("the name is in the binary");
        wasm[at] = 0xff;
        wasm[at + 1] = 0xfe;
        wasm
    }

    #[test]
    fn refuses_a_component_with_a_name_that_is_not_utf8() {
        let err = analyze_bytes(&component_with_invalid_utf8_name()).unwrap_err();
        let text = err.to_string();
        assert!(matches!(err, Error::InvalidInput(_)), "{err:?}");
        assert!(text.starts_with("test.wasm is not a valid WebAssembly component: "), "{text}");
        assert!(text.contains("UTF-8") && text.contains("(at byte "), "{text}");
        assert!(!text.contains('\n'), "{text}");
    }

    #[test]
    fn refuses_invalid_modules_and_function_bodies() {
        // A function body whose result is missing: the type checker, not the parser, finds it.
        let module = wat::parse_str(r#"(module (func (result i32)))"#);
        assert!(module.is_err() || analyze_bytes(&module.unwrap()).is_err());
        let mut wasm = wat::parse_str(r#"(module (func (result i32) i32.const 7))"#).unwrap();
        let at = wasm.windows(2).position(|w| w == [0x41, 0x07]).expect("i32.const 7");
        wasm[at] = 0x01; // nop: the function ends with an empty stack
        wasm[at + 1] = 0x01;
        let text = analyze_bytes(&wasm).unwrap_err().to_string();
        assert!(text.starts_with("test.wasm is not a valid WebAssembly module: type mismatch"), "{text}");
        // A nested module's body inside a component, too.
        let mut wasm = wat::parse_str(r#"(component (core module (func (result i32) i32.const 7)))"#).unwrap();
        let at = wasm.windows(2).position(|w| w == [0x41, 0x07]).expect("i32.const 7");
        wasm[at] = 0x01;
        wasm[at + 1] = 0x01;
        let text = analyze_bytes(&wasm).unwrap_err().to_string();
        assert!(text.starts_with("test.wasm is not a valid WebAssembly component: type mismatch"), "{text}");
    }

    #[test]
    fn accepts_components_with_nested_modules_and_reads_only_top_level_names() {
        let wasm = wat::parse_str(
            r#"(component
                 (import "a:b/host" (instance (export "ping" (func))))
                 (component (import "nested:x/y" (func)))
                 (core module (func (export "f") (result i32) i32.const 1))
                 (instance $i)
                 (export "a:b/out" (instance $i)))"#,
        )
        .unwrap();
        // Fed one byte at a time, as a slow reader would.
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let n = self.0.len().min(buf.len()).min(1);
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let f = analyze("c.wasm", &mut Trickle(&wasm)).unwrap();
        assert_eq!(f.kind, WasmKind::Component);
        assert_eq!(f.imports, ["a:b/host"]);
        assert_eq!(f.exports, ["a:b/out"]);
        assert_eq!(f.digest, Digest::sha256_of(&wasm));
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
