//! A YAML document as a tree of nodes that remember their line, so an
//! error found after reading (a bad value, an unknown key) names it.

use std::fmt;

use serde_norway::value::{Tag, TaggedValue};
use serde_norway::{Mapping, Number, Value};

/// One node: what it holds and where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub kind: Kind,
    /// 1-based.
    pub line: usize,
    /// 1-based.
    pub column: usize,
    /// A scalar as written, and whether it was plain (unquoted).
    pub written: Option<Written>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub text: String,
    pub plain: bool,
}

/// What a node holds, typed as PyYAML types it.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    /// A date or time, as written (Ansible renders a date as written).
    Timestamp(String),
    Seq(Vec<Node>),
    /// Entries in file order; keys are unique (the reader refuses twice).
    Map(Vec<(Node, Node)>),
    /// A tag argos-cloud does not resolve (`!vault`, `!!binary`): kept,
    /// and refused by whoever needs the value.
    Tagged(String, Box<Node>),
}

/// One step of a path into a document: a key or an index.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Segment {
    Key(String),
    Index(usize),
}

impl Segment {
    /// `expect.connectivity[1].to` → key, key, index, key: the path syntax
    /// serde_path_to_error writes.
    pub fn parse_path(path: &str) -> Vec<Segment> {
        let mut out = Vec::new();
        for part in path.split('.') {
            let (key, rest) = part.split_once('[').unwrap_or((part, ""));
            if !key.is_empty() {
                out.push(Segment::Key(key.to_owned()));
            }
            for index in rest.split('[') {
                if let Ok(i) = index.trim_end_matches(']').parse() {
                    out.push(Segment::Index(i));
                }
            }
        }
        out
    }
}

impl Node {
    pub fn new(kind: Kind, line: usize, column: usize) -> Self {
        Self {
            kind,
            line,
            column,
            written: None,
        }
    }

    pub fn is_null(&self) -> bool {
        matches!(self.kind, Kind::Null)
    }

    /// The value of `key` in a mapping whose keys are text.
    pub fn get(&self, key: &str) -> Option<&Node> {
        self.entry(key).map(|(_, v)| v)
    }

    /// The key node and value of `key`.
    pub fn entry(&self, key: &str) -> Option<(&Node, &Node)> {
        match &self.kind {
            Kind::Map(entries) => entries
                .iter()
                .find(|(k, _)| k.as_key().as_deref() == Some(key))
                .map(|(k, v)| (k, v)),
            _ => None,
        }
    }

    pub fn entries(&self) -> &[(Node, Node)] {
        match &self.kind {
            Kind::Map(entries) => entries,
            _ => &[],
        }
    }

    pub fn items(&self) -> &[Node] {
        match &self.kind {
            Kind::Seq(items) => items,
            _ => &[],
        }
    }

    pub fn as_str(&self) -> Option<&str> {
        match &self.kind {
            Kind::Str(s) => Some(s),
            _ => None,
        }
    }

    /// A mapping key as text: strings, and scalars as PyYAML would make a
    /// dict key of them (`1`, `true`).
    pub fn as_key(&self) -> Option<String> {
        match &self.kind {
            Kind::Str(s) | Kind::Timestamp(s) => Some(s.clone()),
            Kind::Int(i) => Some(i.to_string()),
            Kind::Bool(b) => Some(b.to_string()),
            Kind::Null => Some("null".into()),
            Kind::Float(f) => Some(super::resolve::python_float(*f)),
            _ => None,
        }
    }

    /// The node at `path`, as deep as the path can be followed.
    pub fn at(&self, path: &[Segment]) -> &Node {
        let mut node = self;
        for segment in path {
            let next = match (segment, &node.kind) {
                (Segment::Key(key), Kind::Map(_)) => node.get(key),
                (Segment::Index(i), Kind::Seq(items)) => items.get(*i),
                _ => None,
            };
            match next {
                Some(next) => node = next,
                None => break,
            }
        }
        node
    }

    /// The line of `path` (serde_path_to_error's syntax), as deep as it
    /// can be followed: a key's own line, a list item's line. For an error
    /// about a field found after deserializing.
    pub fn line_at(&self, path: &str) -> usize {
        let mut node = self;
        let mut line = self.line;
        for segment in Segment::parse_path(path) {
            let next = match (&segment, &node.kind) {
                (Segment::Key(key), Kind::Map(_)) => node.entry(key).map(|(k, v)| (k.line, v)),
                (Segment::Index(i), Kind::Seq(items)) => items.get(*i).map(|v| (v.line, v)),
                _ => None,
            };
            match next {
                Some((at, value)) => (line, node) = (at, value),
                None => break,
            }
        }
        line
    }

    /// The scalar as Ansible renders it in a template (`{{ x }}`), and
    /// whether that is what was written: `True` for `yes`, `493` for
    /// `0755`. `None` for collections and tagged values.
    pub fn rendered(&self) -> Option<String> {
        Some(match &self.kind {
            Kind::Null => "None".into(),
            Kind::Bool(true) => "True".into(),
            Kind::Bool(false) => "False".into(),
            Kind::Int(i) => i.to_string(),
            Kind::Float(f) => super::resolve::python_float(*f),
            Kind::Str(s) | Kind::Timestamp(s) => s.clone(),
            Kind::Seq(_) | Kind::Map(_) | Kind::Tagged(..) => return None,
        })
    }

    /// What kind of value this is, for messages: "the boolean True".
    pub fn describe(&self) -> String {
        match &self.kind {
            Kind::Null => "null (no value)".into(),
            Kind::Bool(b) => format!("the boolean {}", if *b { "True" } else { "False" }),
            Kind::Int(i) => format!("the integer {i}"),
            Kind::Float(f) => format!("the float {}", super::resolve::python_float(*f)),
            Kind::Str(_) => "text".into(),
            Kind::Timestamp(_) => "a date".into(),
            Kind::Seq(_) => "a list".into(),
            Kind::Map(_) => "a mapping".into(),
            Kind::Tagged(tag, _) => format!("a value tagged {tag}"),
        }
    }

    /// The kind alone, never the value: for messages about secrets.
    pub fn kind_name(&self) -> &'static str {
        match &self.kind {
            Kind::Null => "null",
            Kind::Bool(_) => "a boolean",
            Kind::Int(_) => "an integer",
            Kind::Float(_) => "a float",
            Kind::Str(_) => "text",
            Kind::Timestamp(_) => "a date",
            Kind::Seq(_) => "a list",
            Kind::Map(_) => "a mapping",
            Kind::Tagged(..) => "a tagged value",
        }
    }

    /// The node as a serde_norway value, for deserializing into a type.
    /// Numbers beyond 64 bits and dates become text.
    pub fn to_value(&self) -> Value {
        match &self.kind {
            Kind::Null => Value::Null,
            Kind::Bool(b) => Value::Bool(*b),
            Kind::Int(i) => {
                if let Ok(i) = i64::try_from(*i) {
                    Value::Number(Number::from(i))
                } else if let Ok(u) = u64::try_from(*i) {
                    Value::Number(Number::from(u))
                } else {
                    Value::String(i.to_string())
                }
            }
            Kind::Float(f) => Value::Number(Number::from(*f)),
            Kind::Str(s) | Kind::Timestamp(s) => Value::String(s.clone()),
            Kind::Seq(items) => Value::Sequence(items.iter().map(Node::to_value).collect()),
            Kind::Map(entries) => Value::Mapping(
                entries
                    .iter()
                    .map(|(k, v)| (k.to_value(), v.to_value()))
                    .collect::<Mapping>(),
            ),
            Kind::Tagged(tag, inner) => Value::Tagged(Box::new(TaggedValue {
                tag: Tag::new(tag.trim_start_matches('!')),
                value: inner.to_value(),
            })),
        }
    }

    /// The node as JSON (Ansible's extra vars, inventory variables).
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::Value as J;
        match &self.kind {
            Kind::Null => J::Null,
            Kind::Bool(b) => J::Bool(*b),
            Kind::Int(i) => i64::try_from(*i)
                .map(J::from)
                .or_else(|_| u64::try_from(*i).map(J::from))
                .unwrap_or_else(|_| J::String(i.to_string())),
            Kind::Float(f) => serde_json::Number::from_f64(*f)
                .map(J::Number)
                .unwrap_or_else(|| J::String(super::resolve::python_float(*f))),
            Kind::Str(s) | Kind::Timestamp(s) => J::String(s.clone()),
            Kind::Seq(items) => J::Array(items.iter().map(Node::to_json).collect()),
            Kind::Map(entries) => J::Object(
                entries
                    .iter()
                    .filter_map(|(k, v)| Some((k.as_key()?, v.to_json())))
                    .collect(),
            ),
            Kind::Tagged(_, inner) => inner.to_json(),
        }
    }
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Segment::Key(key) => f.write_str(key),
            Segment::Index(i) => write!(f, "[{i}]"),
        }
    }
}
