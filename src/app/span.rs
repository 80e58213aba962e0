//! Where a scalar's text is in the source, in bytes, and how to write a new value in its
//! place in the same style: the parser gives where a scalar's properties begin; the extent
//! is found here and checked by reading the value back from those bytes, so an edit never
//! lands anywhere else. Multi-line and block scalars are not edited.

use std::ops::Range;

use saphyr_parser::ScalarStyle;

use super::yaml::Scalar;

/// How a scalar is quoted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quote {
    Plain,
    Single,
    Double,
}

/// A scalar's bytes in the source and its quoting.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScalarSpan {
    pub bytes: Range<usize>,
    pub quote: Quote,
}

/// The bytes of `scalar` in `text`, or why it cannot be edited in place.
pub fn locate(text: &str, scalar: &Scalar) -> Result<ScalarSpan, String> {
    let start = text.char_indices().nth(scalar.start_char).map_or(text.len(), |(byte, _)| byte);
    let start = skip_properties(text, start);
    let rest = &text[start..];
    let (length, quote) = match scalar.style {
        ScalarStyle::Plain => (plain_length(rest, &scalar.value), Quote::Plain),
        ScalarStyle::SingleQuoted => (quoted_length(rest, b'\''), Quote::Single),
        ScalarStyle::DoubleQuoted => (quoted_length(rest, b'"'), Quote::Double),
        ScalarStyle::Literal | ScalarStyle::Folded => {
            return Err("it is a block scalar (`|` or `>`); write it on one line".into());
        }
    };
    let span = ScalarSpan { bytes: start..start + length.unwrap_or(0), quote };
    match length.map(|_| read_back(&text[span.bytes.clone()], quote)) {
        Some(Some(value)) if value == scalar.value => Ok(span),
        _ => Err("it spans lines or uses escapes this edit does not rewrite; write it on one line".into()),
    }
}

/// Past an anchor (`&name`) and a tag (`!tag`) before the scalar's text.
fn skip_properties(text: &str, mut at: usize) -> usize {
    loop {
        let rest = &text[at..];
        let trimmed = rest.trim_start_matches([' ', '\t']);
        at += rest.len() - trimmed.len();
        if trimmed.starts_with('&') || trimmed.starts_with('!') {
            at += trimmed.find([' ', '\t', '\n', '\r']).unwrap_or(trimmed.len());
        } else {
            return at;
        }
    }
}

/// A plain scalar on one line: up to a comment, the line's end or a flow indicator,
/// whichever reads back as `value`.
fn plain_length(rest: &str, value: &str) -> Option<usize> {
    let line = &rest[..rest.find(['\n', '\r']).unwrap_or(rest.len())];
    let uncommented = line.find(" #").or_else(|| line.find("\t#")).map_or(line, |at| &line[..at]);
    let whole = uncommented.trim_end_matches([' ', '\t']);
    if whole == value {
        return Some(whole.len());
    }
    let in_flow = whole.find([',', ']', '}']).map_or(whole, |at| &whole[..at]).trim_end_matches([' ', '\t']);
    (in_flow == value).then_some(in_flow.len())
}

/// A quoted scalar on one line: `'…'` with `''` for a quote, or `"…"` with backslash
/// escapes.
fn quoted_length(rest: &str, quote: u8) -> Option<usize> {
    let bytes = rest.as_bytes();
    if bytes.first() != Some(&quote) {
        return None;
    }
    let mut i = 1;
    while i < bytes.len() {
        match bytes[i] {
            b'\n' | b'\r' => return None,
            b'\\' if quote == b'"' => i += 2,
            b'\'' if quote == b'\'' && bytes.get(i + 1) == Some(&b'\'') => i += 2,
            b if b == quote => return Some(i + 1),
            _ => i += 1,
        }
    }
    None
}

/// The value the scalar text `raw` stands for (double quotes: the escapes JSON shares with
/// YAML only).
fn read_back(raw: &str, quote: Quote) -> Option<String> {
    match quote {
        Quote::Plain => Some(raw.to_string()),
        Quote::Single => Some(raw.strip_prefix('\'')?.strip_suffix('\'')?.replace("''", "'")),
        Quote::Double => serde_json::from_str(raw).ok(),
    }
}

/// `value` written as a scalar in `quote`'s style (plain only when it reads back as itself).
pub fn render(value: &str, quote: Quote) -> String {
    match quote {
        Quote::Plain if plain_is_safe(value) => value.to_string(),
        Quote::Single if !value.contains(['\n', '\r']) => format!("'{}'", value.replace('\'', "''")),
        _ => serde_json::to_string(value).unwrap_or_else(|_| format!("\"{value}\"")),
    }
}

/// Whether `value` reads back as itself as a plain scalar in block or flow context.
fn plain_is_safe(value: &str) -> bool {
    let first_is_safe = value.chars().next().is_some_and(|c| c.is_ascii_alphanumeric() || c == '/' || c == '.');
    first_is_safe && value.chars().all(|c| c.is_ascii_alphanumeric() || "./:@_-+~".contains(c)) && !value.contains(": ")
}

/// `text` with each span replaced by its text; spans must not overlap.
pub fn apply(text: &str, mut edits: Vec<(Range<usize>, String)>) -> String {
    edits.sort_by_key(|(range, _)| range.start);
    edits.dedup_by(|a, b| a.0 == b.0);
    let mut out = String::with_capacity(text.len() + edits.len() * 80);
    let mut at = 0;
    for (range, replacement) in edits {
        out.push_str(&text[at..range.start]);
        out.push_str(&replacement);
        at = range.end;
    }
    out.push_str(&text[at..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::yaml::parse;

    fn span_of(text: &str, key: &str) -> Result<ScalarSpan, String> {
        let doc = parse(text, "t.yaml").unwrap();
        let scalar = doc.scalar(doc.root.get(key).unwrap()).unwrap().clone();
        locate(text, &scalar)
    }

    #[test]
    fn every_one_line_style_is_found_exactly() {
        let text = "a: plain:1 # note\nb: 'it''s'\nc: &x \"dq\\u00e9\"  # after\nd: {e: f:1, g: h}\né: ü:1\n";
        let at = |key: &str| {
            let span = span_of(text, key).unwrap();
            (&text[span.bytes.clone()], span.quote)
        };
        assert_eq!(at("a"), ("plain:1", Quote::Plain));
        assert_eq!(at("b"), ("'it''s'", Quote::Single));
        assert_eq!(at("c"), ("\"dq\\u00e9\"", Quote::Double));
        assert_eq!(at("é"), ("ü:1", Quote::Plain));
        let doc = parse(text, "t.yaml").unwrap();
        let e = doc.scalar(doc.get(doc.root.get("d").unwrap(), "e").unwrap()).unwrap().clone();
        assert_eq!(&text[locate(text, &e).unwrap().bytes], "f:1");
    }

    #[test]
    fn block_and_multi_line_scalars_are_not_edited() {
        assert!(span_of("a: |\n  x\n", "a").unwrap_err().contains("block scalar"));
        assert!(span_of("a: one\n  two\n", "a").unwrap_err().contains("spans lines"));
        assert!(span_of("a: \"one\n  two\"\n", "a").unwrap_err().contains("spans lines"));
    }

    #[test]
    fn values_are_written_in_the_same_style_and_edits_touch_only_their_bytes() {
        assert_eq!(render("ghcr.io/a/b:1@sha256:00", Quote::Plain), "ghcr.io/a/b:1@sha256:00");
        assert_eq!(render("needs: quoting", Quote::Plain), "\"needs: quoting\"");
        assert_eq!(render("it's", Quote::Single), "'it''s'");
        assert_eq!(render("x\"y", Quote::Double), "\"x\\\"y\"");
        let text = "a: one # keep\nb: two\n";
        assert_eq!(apply(text, vec![(17..20, "2".into()), (3..6, "1".into())]), "a: 1 # keep\nb: 2\n");
    }
}
