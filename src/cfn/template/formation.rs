//! One formation file: read (a regular file of at most 1 MiB), parsed with
//! line-accurate errors and no key written twice, shape-checked, and kept
//! as written so what is sent is what the file says.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::{Section, TemplateError};
use crate::input::file;
use crate::input::json::{self, Item, OutlineError};

/// The CloudFormation template format version every formation declares.
pub const FORMAT_VERSION: &str = "2010-09-09";

/// Top-level keys a formation may hold besides the sections.
const OTHER_KEYS: [&str; 2] = ["AWSTemplateFormatVersion", "Description"];

#[derive(Debug, Clone)]
pub struct Formation {
    /// The file, as shown in messages.
    pub file: PathBuf,
    text: String,
    /// Where each value is in `text`.
    outline: Item,
    body: Map<String, Value>,
}

impl Formation {
    pub fn load(file: &Path) -> Result<Self, TemplateError> {
        let text = file::read_text(file, file::FORMATION).map_err(TemplateError::Read)?;
        Self::parse(file, text)
    }

    pub fn parse(file: &Path, text: String) -> Result<Self, TemplateError> {
        let syntax = |e: serde_json::Error| TemplateError::Syntax {
            file: file.to_owned(),
            line: e.line(),
            column: e.column(),
            message: strip_position(&e.to_string()),
        };
        let outline = match json::outline(&text) {
            Ok(outline) => outline,
            Err(OutlineError::Malformed { line }) => {
                // serde_json words what is wrong.
                return Err(match serde_json::from_str::<Value>(&text) {
                    Err(e) => syntax(e),
                    Ok(_) => TemplateError::Syntax {
                        file: file.to_owned(),
                        line,
                        column: 1,
                        message: "not JSON argos-cloud can read".into(),
                    },
                });
            }
            Err(problem) => {
                return Err(TemplateError::Outline {
                    file: file.to_owned(),
                    problem,
                });
            }
        };
        let value: Value = serde_json::from_str(&text).map_err(syntax)?;
        let Value::Object(body) = value else {
            return Err(TemplateError::NotAnObject {
                file: file.to_owned(),
            });
        };
        for (key, value) in &body {
            if let Some(section) = Section::parse(key) {
                if !value.is_object() {
                    return Err(TemplateError::SectionNotAnObject {
                        file: file.to_owned(),
                        section,
                    });
                }
            } else if !OTHER_KEYS.contains(&key.as_str()) {
                return Err(TemplateError::UnsupportedKey {
                    file: file.to_owned(),
                    key: key.clone(),
                });
            }
        }
        if let Some(version) = body.get("AWSTemplateFormatVersion")
            && version != FORMAT_VERSION
        {
            return Err(TemplateError::BadVersion {
                file: file.to_owned(),
                found: version.to_string(),
            });
        }
        Ok(Self {
            file: file.to_owned(),
            text,
            outline,
            body,
        })
    }

    /// The entries of one section, in file order (empty when absent).
    pub fn entries(&self, section: Section) -> impl Iterator<Item = (&String, &Value)> {
        super::section_entries(&self.body, section)
    }

    /// The 1-based line where `id` is defined in `section`.
    pub fn line_of(&self, section: Section, id: &str) -> Option<usize> {
        self.outline.key_line(&[section.as_str(), id])
    }

    /// The line of the key at `path` (`["Resources", "Vpc", "Properties"]`),
    /// or of the deepest key of it that is there.
    pub fn line_at(&self, path: &[&str]) -> Option<usize> {
        self.outline.deepest_key_line(path)
    }

    /// The value of `id` in `section` exactly as written in the file.
    pub fn raw(&self, section: Section, id: &str) -> Option<&str> {
        let item = self.outline.get(&[section.as_str(), id])?;
        Some(&self.text[item.start..item.end])
    }

    /// `file:line` for an id, or just the file.
    pub fn locate(&self, section: Section, id: &str) -> String {
        match self.line_of(section, id) {
            Some(line) => format!("{}:{line}", self.file.display()),
            None => self.file.display().to_string(),
        }
    }
}

/// serde_json ends messages with " at line L column C", which our prefix says.
fn strip_position(message: &str) -> String {
    match message.rfind(" at line ") {
        Some(cut) => message[..cut].to_owned(),
        None => message.to_owned(),
    }
}
