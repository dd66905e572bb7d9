//! YAML as Ansible reads it. Every YAML file argos-cloud reads (settings,
//! scenarios, a role's Molecule files) is read by Ansible or Molecule too,
//! with PyYAML: so scalars mean what they mean to PyYAML (YAML 1.1: `yes`
//! is true, `0755` is octal), and what PyYAML lets pass in silence is an
//! error here, before anything is made:
//!
//! - a key written twice in one mapping (PyYAML keeps the second): both
//!   lines are named;
//! - nesting deeper than [`MAX_DEPTH`] collections, refused as the reader
//!   reaches it (the read is linear in the text, whatever its shape);
//! - aliases that expand past [`MAX_ALIAS_NODES`] nodes (a "billion laughs");
//! - more than one document, a key that is a list or mapping, `=`.
//!
//! The tree keeps every node's line ([`Node::line_at`]), so errors found
//! after deserializing name the line too.

mod load;
mod node;
pub mod resolve;

use std::fmt;
use std::path::{Path, PathBuf};

pub use node::{Kind, Node, Segment, Written};

/// The deepest nesting of lists and mappings read.
pub const MAX_DEPTH: usize = 64;
/// The most nodes aliases may add to a document.
pub const MAX_ALIAS_NODES: usize = 100_000;

/// A YAML problem and where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct YamlError {
    /// 1-based.
    pub line: usize,
    /// 1-based.
    pub column: usize,
    pub problem: YamlProblem,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum YamlProblem {
    #[error("YAML syntax error: {0}")]
    Syntax(String),
    #[error(
        "`{key}` is written twice in one mapping, at line {first} and here: Ansible would \
         keep only the second; remove one"
    )]
    DuplicateKey { key: String, first: usize },
    #[error("nested deeper than {MAX_DEPTH} lists and mappings, the most argos-cloud reads")]
    TooDeep,
    #[error("aliases expand to more than {MAX_ALIAS_NODES} values, the most argos-cloud reads")]
    AliasesTooLarge,
    #[error("an alias (*name) to an anchor (&name) that is not defined before it")]
    UnknownAlias,
    #[error("more than one YAML document (a second `---`): write one document per file")]
    MoreThanOneDocument,
    #[error("a key must be a single value, not a list or a mapping")]
    ComplexKey,
    #[error("`<<` merges a mapping or a list of mappings only")]
    BadMerge,
    #[error("`=` alone is not a value Ansible can read: quote it (\"=\")")]
    ValueToken,
    #[error("a number Ansible cannot read, or one too large: quote it if it is text")]
    Number,
    #[error("the value does not fit its tag {0}")]
    BadTagged(&'static str),
}

impl fmt::Display for YamlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.line, self.column, self.problem)
    }
}

impl std::error::Error for YamlError {}

/// Read `text`: one YAML document, as PyYAML resolves it. An empty text
/// is a null document.
pub fn parse(text: &str) -> Result<Node, YamlError> {
    load::load(text)
}

/// A YAML file that could not be read, or not as YAML.
#[derive(Debug, thiserror::Error)]
pub enum FileError {
    #[error(transparent)]
    Read(#[from] super::file::ReadError),
    #[error("{}:{error}", path.display())]
    Yaml { path: PathBuf, error: YamlError },
}

/// Read the YAML file at `path`, a regular file within `limit`.
pub fn read(path: &Path, limit: super::file::Limit) -> Result<Node, FileError> {
    let text = super::file::read_text(path, limit)?;
    parse(&text).map_err(|error| FileError::Yaml {
        path: path.to_owned(),
        error,
    })
}

#[cfg(test)]
mod tests;
