//! From saphyr's events to a [`Node`] tree, in one pass and in time linear
//! in the text: the depth is checked as each collection opens, aliases are
//! counted as they expand, a key seen twice stops the read at once.

use std::collections::HashMap;

use saphyr_parser::{Event, Parser, ScalarStyle, Span, Tag};

use super::node::{Kind, Node, Written};
use super::resolve::{self, Unreadable};
use super::{MAX_ALIAS_NODES, MAX_DEPTH, YamlError, YamlProblem};

/// A collection being read.
enum Frame {
    Seq {
        node: Node,
        items: Vec<Node>,
        anchor: usize,
        count: usize,
    },
    Map {
        node: Node,
        entries: Vec<(Node, Node)>,
        /// Each key's identity → the line it is on.
        seen: HashMap<String, usize>,
        /// `<<: *base` values, merged when the mapping ends.
        merges: Vec<Node>,
        key: Option<Node>,
        anchor: usize,
        count: usize,
    },
}

struct Loader {
    stack: Vec<Frame>,
    /// Anchor id → the node and its size in nodes.
    anchors: HashMap<usize, (Node, usize)>,
    alias_nodes: usize,
    root: Option<Node>,
    documents: usize,
}

pub(super) fn load(text: &str) -> Result<Node, YamlError> {
    let mut loader = Loader {
        stack: Vec::new(),
        anchors: HashMap::new(),
        alias_nodes: 0,
        root: None,
        documents: 0,
    };
    for event in Parser::new_from_str(text) {
        let (event, span) = event.map_err(|e| YamlError {
            line: e.marker().line(),
            column: e.marker().col() + 1,
            // The scanner has limits of its own (255 open flow collections);
            // they are the same problem as ours.
            problem: match e.info() {
                "recursion limit exceeded" => YamlProblem::TooDeep,
                info if info.contains("unknown anchor") => YamlProblem::UnknownAlias,
                info => YamlProblem::Syntax(info.to_owned()),
            },
        })?;
        loader.event(event, span)?;
    }
    Ok(loader.root.unwrap_or_else(|| Node::new(Kind::Null, 1, 1)))
}

fn at(span: &Span, problem: YamlProblem) -> YamlError {
    YamlError {
        line: span.start.line(),
        column: span.start.col() + 1,
        problem,
    }
}

impl Loader {
    fn event(&mut self, event: Event<'_>, span: Span) -> Result<(), YamlError> {
        let (line, column) = (span.start.line(), span.start.col() + 1);
        match event {
            Event::DocumentStart(_) => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(at(&span, YamlProblem::MoreThanOneDocument));
                }
            }
            Event::Scalar(text, style, anchor, tag) => {
                let node = scalar(&text, style, tag.as_deref(), line, column)
                    .map_err(|problem| at(&span, problem))?;
                self.finish(node, 1, anchor, &span)?;
            }
            Event::Alias(id) => {
                let Some((node, size)) = self.anchors.get(&id).cloned() else {
                    return Err(at(&span, YamlProblem::UnknownAlias));
                };
                self.alias_nodes += size;
                if self.alias_nodes > MAX_ALIAS_NODES {
                    return Err(at(&span, YamlProblem::AliasesTooLarge));
                }
                // An alias is where it is used, for messages.
                let node = Node {
                    line,
                    column,
                    ..node
                };
                self.add(node, size, &span)?;
            }
            Event::SequenceStart(anchor, _) | Event::MappingStart(anchor, _) => {
                if self.stack.len() >= MAX_DEPTH {
                    return Err(at(&span, YamlProblem::TooDeep));
                }
                let node = Node::new(Kind::Null, line, column);
                self.stack
                    .push(if matches!(event, Event::SequenceStart(..)) {
                        Frame::Seq {
                            node,
                            items: Vec::new(),
                            anchor,
                            count: 1,
                        }
                    } else {
                        Frame::Map {
                            node,
                            entries: Vec::new(),
                            seen: HashMap::new(),
                            merges: Vec::new(),
                            key: None,
                            anchor,
                            count: 1,
                        }
                    });
            }
            Event::SequenceEnd | Event::MappingEnd => {
                let (node, count, anchor) = match self.stack.pop().expect("an open collection") {
                    Frame::Seq {
                        mut node,
                        items,
                        anchor,
                        count,
                    } => {
                        node.kind = Kind::Seq(items);
                        (node, count, anchor)
                    }
                    Frame::Map {
                        mut node,
                        entries,
                        merges,
                        anchor,
                        count,
                        ..
                    } => {
                        node.kind = Kind::Map(merge(entries, merges));
                        (node, count, anchor)
                    }
                };
                self.finish(node, count, anchor, &span)?;
            }
            Event::StreamStart | Event::StreamEnd | Event::DocumentEnd | Event::Nothing => {}
        }
        Ok(())
    }

    /// A complete node: remember its anchor, then add it where it belongs.
    fn finish(
        &mut self,
        node: Node,
        count: usize,
        anchor: usize,
        span: &Span,
    ) -> Result<(), YamlError> {
        if anchor != 0 {
            self.anchors.insert(anchor, (node.clone(), count));
        }
        self.add(node, count, span)
    }

    fn add(&mut self, node: Node, count: usize, span: &Span) -> Result<(), YamlError> {
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Frame::Seq {
                items, count: c, ..
            }) => {
                *c += count;
                items.push(node);
            }
            Some(Frame::Map {
                entries,
                seen,
                merges,
                key,
                count: c,
                ..
            }) => {
                *c += count;
                let Some(k) = key.take() else {
                    if node.as_key().is_none() {
                        return Err(YamlError {
                            line: node.line,
                            column: node.column,
                            problem: YamlProblem::ComplexKey,
                        });
                    }
                    *key = Some(node);
                    return Ok(());
                };
                if k.written
                    .as_ref()
                    .is_some_and(|w| w.plain && resolve::is_merge_key(&w.text))
                {
                    match &node.kind {
                        Kind::Map(_) => merges.push(node),
                        Kind::Seq(items)
                            if items.iter().all(|i| matches!(i.kind, Kind::Map(_))) =>
                        {
                            merges.extend(items.iter().cloned())
                        }
                        _ => return Err(at(span, YamlProblem::BadMerge)),
                    }
                    return Ok(());
                }
                let identity = identity(&k);
                if let Some(first) = seen.get(&identity) {
                    return Err(YamlError {
                        line: k.line,
                        column: k.column,
                        problem: YamlProblem::DuplicateKey {
                            key: k.as_key().unwrap_or_default(),
                            first: *first,
                        },
                    });
                }
                seen.insert(identity, k.line);
                entries.push((k, node));
            }
        }
        Ok(())
    }
}

/// Two keys are the same when PyYAML would make the same dict key of them.
fn identity(key: &Node) -> String {
    match &key.kind {
        Kind::Str(s) | Kind::Timestamp(s) => format!("s{s}"),
        Kind::Int(i) => format!("i{i}"),
        Kind::Bool(b) => format!("b{b}"),
        Kind::Float(f) => format!("f{f}"),
        Kind::Null => "n".into(),
        _ => String::new(),
    }
}

/// PyYAML's merge: explicit keys win, then the merged mappings in order.
fn merge(mut entries: Vec<(Node, Node)>, merges: Vec<Node>) -> Vec<(Node, Node)> {
    for merged in merges {
        if let Kind::Map(from) = merged.kind {
            for (k, v) in from {
                let id = identity(&k);
                if !entries.iter().any(|(e, _)| identity(e) == id) {
                    entries.push((k, v));
                }
            }
        }
    }
    entries
}

fn scalar(
    text: &str,
    style: ScalarStyle,
    tag: Option<&Tag>,
    line: usize,
    column: usize,
) -> Result<Node, YamlProblem> {
    let plain = style == ScalarStyle::Plain;
    let kind = match tag.map(tag_name).as_deref() {
        None if plain => resolve::plain(text).map_err(|why| match why {
            Unreadable::ValueToken => YamlProblem::ValueToken,
            Unreadable::Number => YamlProblem::Number,
        })?,
        None | Some("str") | Some("!unsafe") => Kind::Str(text.to_owned()),
        Some("int") => Kind::Int(resolve::int(text).ok_or(YamlProblem::Number)?),
        Some("float") => Kind::Float(resolve::float(text).ok_or(YamlProblem::Number)?),
        Some("bool") => Kind::Bool(resolve::boolean(text).ok_or(YamlProblem::BadTagged("!!bool"))?),
        Some("null") => Kind::Null,
        Some("timestamp") => Kind::Timestamp(text.to_owned()),
        Some(other) => Kind::Tagged(
            if other.starts_with('!') {
                other.to_owned()
            } else {
                format!("!!{other}")
            },
            Box::new(Node::new(Kind::Str(text.to_owned()), line, column)),
        ),
    };
    Ok(Node {
        kind,
        line,
        column,
        written: Some(Written {
            text: text.to_owned(),
            plain,
        }),
    })
}

/// `!!str` → `str`; a local tag keeps its `!` (`!vault`).
fn tag_name(tag: &Tag) -> String {
    if tag.handle == "!!" || tag.handle == "tag:yaml.org,2002:" {
        tag.suffix.clone()
    } else if tag.handle == "!" {
        format!("!{}", tag.suffix)
    } else {
        format!("{}{}", tag.handle, tag.suffix)
    }
}
