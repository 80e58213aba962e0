//! A YAML document as a small tree whose scalars know where they are in the source: parsed
//! with `saphyr-parser` (events with positions), bounded in depth and size, anchors kept so
//! that an alias can be followed to the scalar it repeats. Only what reading a wadm manifest
//! needs: mappings, sequences, scalars, aliases.

use std::collections::HashMap;
use std::rc::Rc;

use saphyr_parser::{Event, Parser, ScalarStyle};

use crate::error::{Error, Result};

/// Nesting deeper than this is refused (a manifest is a few levels deep).
const MAX_DEPTH: usize = 64;
/// More nodes than this are refused.
const MAX_NODES: usize = 200_000;

/// One node of the document. Collections are shared, so remembering an anchored subtree
/// costs a pointer, not a copy (nested anchors cannot multiply the document in memory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Node {
    Scalar(Scalar),
    Map(Rc<Vec<(Node, Node)>>),
    Seq(Rc<Vec<Node>>),
    /// An alias, by the anchor it names.
    Alias(usize),
}

/// A scalar, its style and where its properties (anchor, tag) and text begin, as a
/// character index into the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Scalar {
    pub value: String,
    pub style: ScalarStyle,
    pub start_char: usize,
}

/// A parsed document and its anchored nodes.
#[derive(Debug, Clone)]
pub struct Document {
    pub root: Node,
    anchors: HashMap<usize, Node>,
}

impl Node {
    /// The value of `key` in a mapping.
    pub fn get(&self, key: &str) -> Option<&Node> {
        match self {
            Node::Map(entries) => {
                entries.iter().find(|(k, _)| matches!(k, Node::Scalar(s) if s.value == key)).map(|(_, value)| value)
            }
            _ => None,
        }
    }
}

impl Document {
    /// The node an alias stands for; other nodes as they are.
    pub fn resolve<'a>(&'a self, node: &'a Node) -> &'a Node {
        match node {
            Node::Alias(id) => self.anchors.get(id).unwrap_or(node),
            _ => node,
        }
    }

    /// The scalar at `node` (through an alias), if it is one.
    pub fn scalar<'a>(&'a self, node: &'a Node) -> Option<&'a Scalar> {
        match self.resolve(node) {
            Node::Scalar(scalar) => Some(scalar),
            _ => None,
        }
    }

    /// The mapping value at `key` of `node` (through aliases).
    pub fn get<'a>(&'a self, node: &'a Node, key: &str) -> Option<&'a Node> {
        self.resolve(node).get(key).map(|value| self.resolve(value))
    }

    /// The text of the scalar at `key` of `node`.
    pub fn text<'a>(&'a self, node: &'a Node, key: &str) -> Option<&'a str> {
        self.get(node, key).and_then(|n| self.scalar(n)).map(|s| s.value.as_str())
    }
}

/// Parse `text`, which must hold exactly one document (`origin` names it in errors).
pub fn parse(text: &str, origin: &str) -> Result<Document> {
    let invalid = |why: String| Error::InvalidInput(format!("{origin}: {why}"));
    let mut parser = Parser::new_from_str(text);
    let mut builder = Builder::default();
    let mut documents = 0;
    while let Some(next) = parser.next_event() {
        let (event, span) = next.map_err(|e| invalid(format!("not valid YAML: {e}")))?;
        match event {
            Event::DocumentStart(_) => {
                documents += 1;
                if documents > 1 {
                    return Err(invalid("holds more than one YAML document; put one application in each file".into()));
                }
            }
            Event::Scalar(value, style, anchor, _) => {
                let scalar = Scalar { value: value.into_owned(), style, start_char: span.start.index() };
                builder.leaf(Node::Scalar(scalar), anchor).map_err(invalid)?;
            }
            Event::Alias(id) => builder.leaf(Node::Alias(id), 0).map_err(invalid)?,
            Event::MappingStart(anchor, _) => builder.open(Open::Map(Vec::new(), None), anchor).map_err(invalid)?,
            Event::SequenceStart(anchor, _) => builder.open(Open::Seq(Vec::new()), anchor).map_err(invalid)?,
            Event::MappingEnd | Event::SequenceEnd => builder.close().map_err(invalid)?,
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
        }
    }
    let root = builder.root.ok_or_else(|| invalid("holds no YAML document".into()))?;
    Ok(Document { root, anchors: builder.anchors })
}

/// A collection being built: a mapping (with a key waiting for its value) or a sequence.
#[derive(Debug)]
enum Open {
    Map(Vec<(Node, Node)>, Option<Node>),
    Seq(Vec<Node>),
}

#[derive(Debug, Default)]
struct Builder {
    stack: Vec<(Open, usize)>,
    root: Option<Node>,
    anchors: HashMap<usize, Node>,
    nodes: usize,
}

impl Builder {
    fn count(&mut self) -> std::result::Result<(), String> {
        self.nodes += 1;
        if self.nodes > MAX_NODES {
            return Err(format!("more than {MAX_NODES} YAML nodes"));
        }
        Ok(())
    }

    fn open(&mut self, open: Open, anchor: usize) -> std::result::Result<(), String> {
        self.count()?;
        if self.stack.len() >= MAX_DEPTH {
            return Err(format!("nested more than {MAX_DEPTH} levels deep"));
        }
        self.stack.push((open, anchor));
        Ok(())
    }

    fn close(&mut self) -> std::result::Result<(), String> {
        let (open, anchor) = self.stack.pop().ok_or("a collection ends that never began")?;
        let node = match open {
            Open::Map(entries, None) => Node::Map(Rc::new(entries)),
            Open::Map(_, Some(_)) => return Err("a mapping key has no value".into()),
            Open::Seq(items) => Node::Seq(Rc::new(items)),
        };
        self.place(node, anchor)
    }

    fn leaf(&mut self, node: Node, anchor: usize) -> std::result::Result<(), String> {
        self.count()?;
        self.place(node, anchor)
    }

    fn place(&mut self, node: Node, anchor: usize) -> std::result::Result<(), String> {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some((Open::Seq(items), _)) => items.push(node),
            Some((Open::Map(entries, pending), _)) => match pending.take() {
                None => *pending = Some(node),
                Some(key) => entries.push((key, node)),
            },
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_keep_their_start_and_aliases_resolve() {
        let text = "a: &x \"one\"\nb: *x\nc: [1, {d: e}]\n";
        let doc = parse(text, "t.yaml").unwrap();
        let a = doc.scalar(doc.root.get("a").unwrap()).unwrap();
        assert_eq!((a.value.as_str(), a.start_char), ("one", 3));
        assert_eq!(doc.scalar(doc.root.get("b").unwrap()).unwrap(), a);
        let Some(Node::Seq(items)) = doc.root.get("c") else { panic!("c is a sequence") };
        assert_eq!(doc.text(&items[1], "d"), Some("e"));
    }

    #[test]
    fn nested_anchors_share_their_subtrees() {
        let mut text = String::from("a0: &a0 [x]\n");
        for level in 1..50 {
            text.push_str(&format!("a{level}: &a{level} [*a{}, *a{}]\n", level - 1, level - 1));
        }
        let doc = parse(&text, "t.yaml").unwrap();
        let (Some(Node::Seq(top)), Some(Node::Seq(anchored))) = (doc.root.get("a49"), doc.anchors.get(&50)) else {
            panic!("sequences")
        };
        assert!(Rc::ptr_eq(top, anchored), "the anchor holds the same subtree, not a copy");
    }

    #[test]
    fn hostile_documents_are_refused_with_a_reason() {
        let deep = "[".repeat(MAX_DEPTH + 1) + &"]".repeat(MAX_DEPTH + 1);
        assert!(parse(&deep, "deep.yaml").unwrap_err().to_string().contains("nested more than"));
        assert!(parse("a: 1\n---\nb: 2\n", "two.yaml").unwrap_err().to_string().contains("more than one"));
        assert!(parse("a: [1, 2\n", "bad.yaml").unwrap_err().to_string().contains("not valid YAML"));
        assert!(parse("", "empty.yaml").unwrap_err().to_string().contains("no YAML document"));
    }
}
