//! JSON as CloudFormation reads it, with what serde_json does not keep: a
//! key written twice in one object is an error naming both lines (serde_json
//! keeps the second in silence), every value's line and its text as written
//! (`1.10` stays `1.10` when the template is sent), and nesting beyond
//! [`MAX_DEPTH`] refused as it is reached.
//!
//! [`outline`] reads the structure; the values themselves are parsed by
//! serde_json afterwards, which also words syntax errors.

use std::fmt::Write as _;

/// The deepest nesting of objects and arrays read.
pub const MAX_DEPTH: usize = 64;

/// A value's place in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Item {
    /// 1-based line where the value starts.
    pub line: usize,
    /// Byte range of the value in the text.
    pub start: usize,
    pub end: usize,
    pub kind: ItemKind,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ItemKind {
    Scalar,
    Array(Vec<Item>),
    /// Key, the key's line, the value.
    Object(Vec<(String, usize, Item)>),
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OutlineError {
    #[error(
        "{line}: `{key}` is written twice in one object, at line {first} and here: \
         the second would replace the first in silence; remove one"
    )]
    DuplicateKey {
        key: String,
        first: usize,
        line: usize,
    },
    #[error(
        "{line}: nested deeper than {MAX_DEPTH} objects and arrays, the most argos-cloud reads"
    )]
    TooDeep { line: usize },
    /// Not JSON: serde_json says why.
    #[error("{line}: not JSON")]
    Malformed { line: usize },
}

impl Item {
    /// The value at `path` of object keys and array indices (`"0"`), if
    /// every step is there.
    pub fn get(&self, path: &[&str]) -> Option<&Item> {
        let mut item = self;
        for key in path {
            item = match &item.kind {
                ItemKind::Object(entries) => entries
                    .iter()
                    .find(|(k, _, _)| k == key)
                    .map(|(_, _, v)| v)?,
                ItemKind::Array(items) => items.get(key.parse::<usize>().ok()?)?,
                ItemKind::Scalar => return None,
            };
        }
        Some(item)
    }

    /// The line of the key at `path` (the last key's own line).
    pub fn key_line(&self, path: &[&str]) -> Option<usize> {
        let (last, parent) = path.split_last()?;
        let ItemKind::Object(entries) = &self.get(parent)?.kind else {
            return None;
        };
        entries
            .iter()
            .find(|(k, _, _)| k == last)
            .map(|(_, l, _)| *l)
    }

    /// The line of the key at `path`, or of the deepest key of it that is
    /// there.
    pub fn deepest_key_line(&self, path: &[&str]) -> Option<usize> {
        (1..=path.len())
            .rev()
            .find_map(|n| self.key_line(&path[..n]))
    }

    /// The entries of an object, in order.
    pub fn entries(&self) -> &[(String, usize, Item)] {
        match &self.kind {
            ItemKind::Object(entries) => entries,
            _ => &[],
        }
    }
}

/// A token of JSON text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token {
    Open(u8),
    Close(u8),
    Colon,
    Comma,
    /// A string, number or literal: its byte range.
    Atom(usize, usize),
}

struct Tokens<'a> {
    text: &'a [u8],
    at: usize,
    line: usize,
}

impl<'a> Tokens<'a> {
    fn new(text: &'a str) -> Self {
        Self {
            text: text.as_bytes(),
            at: 0,
            line: 1,
        }
    }

    /// The next token and the line it starts on; `Err` on what cannot be JSON.
    fn next(&mut self) -> Option<Result<(Token, usize), usize>> {
        while let Some(&b) = self.text.get(self.at) {
            match b {
                b'\n' => self.line += 1,
                b' ' | b'\t' | b'\r' => {}
                _ => break,
            }
            self.at += 1;
        }
        let &b = self.text.get(self.at)?;
        let (line, start) = (self.line, self.at);
        self.at += 1;
        let token = match b {
            b'{' | b'[' => Token::Open(b),
            b'}' | b']' => Token::Close(b),
            b':' => Token::Colon,
            b',' => Token::Comma,
            b'"' => {
                loop {
                    match self.text.get(self.at) {
                        None | Some(b'\n') => return Some(Err(line)),
                        Some(b'\\') => self.at += 2,
                        Some(b'"') => {
                            self.at += 1;
                            break;
                        }
                        Some(_) => self.at += 1,
                    }
                }
                Token::Atom(start, self.at)
            }
            b'-' | b'0'..=b'9' | b't' | b'f' | b'n' => {
                while self
                    .text
                    .get(self.at)
                    .is_some_and(|c| c.is_ascii_alphanumeric() || b"+-.".contains(c))
                {
                    self.at += 1;
                }
                Token::Atom(start, self.at)
            }
            _ => return Some(Err(line)),
        };
        Some(Ok((token, line)))
    }
}

/// The structure of `text`: every value's line and range, with duplicate
/// keys and nesting past [`MAX_DEPTH`] refused.
pub fn outline(text: &str) -> Result<Item, OutlineError> {
    let mut tokens = Tokens::new(text);
    let item = value(text, &mut tokens, 0)?;
    match tokens.next() {
        None => Ok(item),
        Some(Ok((_, line)) | Err(line)) => Err(OutlineError::Malformed { line }),
    }
}

fn next(tokens: &mut Tokens<'_>) -> Result<(Token, usize), OutlineError> {
    match tokens.next() {
        Some(Ok(token)) => Ok(token),
        Some(Err(line)) => Err(OutlineError::Malformed { line }),
        None => Err(OutlineError::Malformed { line: tokens.line }),
    }
}

fn value(text: &str, tokens: &mut Tokens<'_>, depth: usize) -> Result<Item, OutlineError> {
    let (token, line) = next(tokens)?;
    let start = tokens.at - 1;
    match token {
        Token::Atom(start, end) => Ok(Item {
            line,
            start,
            end,
            kind: ItemKind::Scalar,
        }),
        Token::Open(open) => {
            if depth >= MAX_DEPTH {
                return Err(OutlineError::TooDeep { line });
            }
            let close = if open == b'{' { b'}' } else { b']' };
            let mut items = Vec::new();
            let mut entries: Vec<(String, usize, Item)> = Vec::new();
            let mut seen = std::collections::HashMap::new();
            let save = (tokens.at, tokens.line);
            let empty = matches!(next(tokens)?, (Token::Close(c), _) if c == close);
            if !empty {
                (tokens.at, tokens.line) = save;
                loop {
                    if open == b'[' {
                        items.push(value(text, tokens, depth + 1)?);
                    } else {
                        let (Token::Atom(ks, ke), key_line) = next(tokens)? else {
                            return Err(OutlineError::Malformed { line: tokens.line });
                        };
                        let key = key_text(&text[ks..ke])
                            .ok_or(OutlineError::Malformed { line: key_line })?;
                        if !matches!(next(tokens)?.0, Token::Colon) {
                            return Err(OutlineError::Malformed { line: key_line });
                        }
                        let item = value(text, tokens, depth + 1)?;
                        if let Some(first) = seen.insert(key.clone(), key_line) {
                            return Err(OutlineError::DuplicateKey {
                                key,
                                first,
                                line: key_line,
                            });
                        }
                        entries.push((key, key_line, item));
                    }
                    match next(tokens)? {
                        (Token::Comma, _) => {}
                        (Token::Close(c), _) if c == close => break,
                        (_, line) => return Err(OutlineError::Malformed { line }),
                    }
                }
            }
            Ok(Item {
                line,
                start,
                end: tokens.at,
                kind: if open == b'{' {
                    ItemKind::Object(entries)
                } else {
                    ItemKind::Array(items)
                },
            })
        }
        _ => Err(OutlineError::Malformed { line }),
    }
}

/// A key's text: its escapes decoded, so `"\u0056pc"` and `"Vpc"` are one key.
fn key_text(raw: &str) -> Option<String> {
    if !raw.starts_with('"') {
        return None;
    }
    if raw.contains('\\') {
        serde_json::from_str(raw).ok()
    } else {
        Some(raw[1..raw.len() - 1].to_owned())
    }
}

/// JSON text written again, tokens as they are (numbers and strings
/// exactly as written): on one line, or indented as serde_json's pretty
/// printer indents.
pub fn rewrite(raw: &str, pretty: bool, indent: usize, out: &mut String) {
    let mut tokens = Tokens::new(raw);
    let mut depth = indent;
    let mut previous: Option<Token> = None;
    let newline = |out: &mut String, depth: usize| {
        out.push('\n');
        for _ in 0..depth {
            out.push_str("  ");
        }
    };
    while let Some(Ok((token, _))) = tokens.next() {
        match token {
            Token::Open(b) => {
                if pretty && matches!(previous, Some(Token::Comma | Token::Open(_))) {
                    newline(out, depth);
                }
                out.push(b as char);
                depth += 1;
            }
            Token::Close(b) => {
                depth -= 1;
                if pretty && !matches!(previous, Some(Token::Open(_))) {
                    newline(out, depth);
                }
                out.push(b as char);
            }
            Token::Colon => out.push_str(if pretty { ": " } else { ":" }),
            Token::Comma => out.push(','),
            Token::Atom(start, end) => {
                if pretty && matches!(previous, Some(Token::Comma | Token::Open(_))) {
                    newline(out, depth);
                }
                out.push_str(&raw[start..end]);
            }
        }
        previous = Some(token);
    }
}

/// A JSON object written from entries whose values are already JSON text,
/// as [`rewrite`] writes them.
pub fn object<'a>(
    entries: impl IntoIterator<Item = (&'a str, String)>,
    pretty: bool,
    indent: usize,
) -> String {
    let mut out = String::from("{");
    let mut any = false;
    for (i, (key, raw)) in entries.into_iter().enumerate() {
        any = true;
        if i > 0 {
            out.push(',');
        }
        if pretty {
            out.push('\n');
            out.push_str(&"  ".repeat(indent + 1));
        }
        let _ = write!(
            out,
            "{}{}",
            serde_json::to_string(key).expect("a string serializes"),
            if pretty { ": " } else { ":" }
        );
        out.push_str(&raw);
    }
    if pretty && any {
        out.push('\n');
        out.push_str(&"  ".repeat(indent));
    }
    out.push('}');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_twice_in_one_object_names_both_lines() {
        let text = "{\n  \"Resources\": {\n    \"Vpc\": {},\n    \"Other\": 1,\n    \"Vpc\": {\"Type\": 2}\n  }\n}\n";
        assert_eq!(
            outline(text).unwrap_err(),
            OutlineError::DuplicateKey {
                key: "Vpc".into(),
                first: 3,
                line: 5
            }
        );
        let escaped = "{\"Vpc\": 1, \"\\u0056pc\": 2}";
        assert!(matches!(
            outline(escaped),
            Err(OutlineError::DuplicateKey { .. })
        ));
        let sections = "{\"Resources\": {\"A\": 1},\n\"Resources\": {\"B\": 2}}";
        assert!(matches!(
            outline(sections),
            Err(OutlineError::DuplicateKey {
                first: 1,
                line: 2,
                ..
            })
        ));
    }

    #[test]
    fn nesting_is_refused_at_its_limit_and_lines_and_ranges_are_kept() {
        let deep = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert_eq!(
            outline(&deep).unwrap_err(),
            OutlineError::TooDeep { line: 1 }
        );
        let text = "{\"A\": {\n  \"B\": [1.10, 2e3]\n}}";
        let item = outline(text).unwrap();
        assert_eq!(item.key_line(&["A", "B"]), Some(2));
        let b = item.get(&["A", "B"]).unwrap();
        assert_eq!(&text[b.start..b.end], "[1.10, 2e3]");
        assert!(matches!(
            outline("{\"a\" 1}"),
            Err(OutlineError::Malformed { .. })
        ));
        assert!(matches!(
            outline("[1, 2,]"),
            Err(OutlineError::Malformed { .. })
        ));
        assert!(matches!(
            outline("{} x"),
            Err(OutlineError::Malformed { .. })
        ));
    }

    #[test]
    fn rewriting_keeps_every_token_as_written() {
        let raw = "{ \"a\" : [ 1.10 , 123456789012345678901234567890 ],\n \"b\": {}, \"c\": [] }";
        let mut compact = String::new();
        rewrite(raw, false, 0, &mut compact);
        assert_eq!(
            compact,
            "{\"a\":[1.10,123456789012345678901234567890],\"b\":{},\"c\":[]}"
        );
        let mut pretty = String::new();
        rewrite(raw, true, 0, &mut pretty);
        let value: serde_json::Value = serde_json::from_str(raw).unwrap();
        let expected = serde_json::to_string_pretty(&value)
            .unwrap()
            .replace("1.1,", "1.10,")
            .replace("1.2345678901234568e+29", "123456789012345678901234567890");
        assert_eq!(pretty, expected);
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;
    use serde_json::{Map, Value};

    use super::*;

    fn json() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            "[a-z\\\\\"é]{0,6}".prop_map(Value::String),
        ];
        leaf.prop_recursive(5, 64, 6, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 0..5).prop_map(Value::Array),
                proptest::collection::btree_map("[A-Za-z]{1,4}", inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect::<Map<_, _>>())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 500, ..ProptestConfig::default() })]

        /// Any JSON, pretty or compact: its outline reads, and rewriting it
        /// gives the same JSON back, token for token.
        #[test]
        fn any_json_is_outlined_and_rewritten_as_it_is(value in json(), pretty in any::<bool>()) {
            let text = if pretty {
                serde_json::to_string_pretty(&value).unwrap()
            } else {
                serde_json::to_string(&value).unwrap()
            };
            outline(&text).unwrap();
            let mut out = String::new();
            rewrite(&text, pretty, 0, &mut out);
            prop_assert_eq!(out, text);
        }

        /// A key written twice anywhere is found, with both lines.
        #[test]
        fn a_duplicate_key_anywhere_is_found(value in json(), key in "[A-Za-z]{1,4}") {
            let text = serde_json::to_string_pretty(&value).unwrap();
            // Add the key twice to the first object of the text.
            let Some(at) = text.find('{') else { return Ok(()) };
            let twice = format!(
                "{}{{\n\"{key}\": 1,\n\"{key}\": 2,{}",
                &text[..at],
                &text[at + 1..],
            );
            let twice = twice.replace(",\n}", "\n}").replace(",}", "}");
            let first = twice[..twice.find(&format!("\"{key}\": 1")).unwrap()].matches('\n').count() + 1;
            match outline(&twice) {
                Err(OutlineError::DuplicateKey { key: found, first: f, line }) => {
                    prop_assert_eq!(found, key);
                    prop_assert_eq!(f, first);
                    prop_assert_eq!(line, first + 1);
                }
                other => prop_assert!(false, "{:?} for {}", other, twice),
            }
        }
    }
}
