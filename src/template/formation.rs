//! One formation file: read, parsed with line-accurate errors, shape-checked.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value};

use super::{Section, TemplateError};

/// The CloudFormation template format version every formation declares.
pub const FORMAT_VERSION: &str = "2010-09-09";

/// Top-level keys a formation may hold besides the sections.
const OTHER_KEYS: [&str; 2] = ["AWSTemplateFormatVersion", "Description"];

#[derive(Debug, Clone)]
pub struct Formation {
    /// The file, as shown in messages.
    pub file: PathBuf,
    text: String,
    body: Map<String, Value>,
}

impl Formation {
    pub fn load(file: &Path) -> Result<Self, TemplateError> {
        let text = std::fs::read_to_string(file).map_err(|source| TemplateError::Read {
            file: file.to_owned(),
            source,
        })?;
        Self::parse(file, text)
    }

    pub fn parse(file: &Path, text: String) -> Result<Self, TemplateError> {
        let value: Value = serde_json::from_str(&text).map_err(|e| TemplateError::Syntax {
            file: file.to_owned(),
            line: e.line(),
            column: e.column(),
            message: strip_position(&e.to_string()),
        })?;
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
            body,
        })
    }

    /// The entries of one section, in file order (empty when absent).
    pub fn entries(&self, section: Section) -> impl Iterator<Item = (&String, &Value)> {
        super::section_entries(&self.body, section)
    }

    /// The 1-based line where `id` is defined in `section`, found in the text
    /// because JSON values carry no positions.
    pub fn line_of(&self, section: Section, id: &str) -> Option<usize> {
        let section_at = self.text.find(&format!("\"{}\"", section.as_str()))?;
        let key = format!("\"{id}\"");
        let mut from = section_at;
        while let Some(found) = self.text[from..].find(&key) {
            let at = from + found;
            from = at + key.len();
            if self.text[from..].trim_start().starts_with(':') {
                return Some(self.text[..at].matches('\n').count() + 1);
            }
        }
        None
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
