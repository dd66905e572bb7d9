//! CloudFormation templates: formations are read one file at a time, merged
//! into the one template a stack is made from, and checked before any API
//! call (clashing ids, dangling references, missing tags, size).

pub mod evaluate;
mod formation;
pub mod images;
mod merge;
pub mod references;
pub mod tagging;

use std::fmt;
use std::path::PathBuf;

use serde_json::{Map, Value};

pub use formation::{FORMAT_VERSION, Formation};
pub use merge::{Clash, IdOrigin};

use crate::model::project::Project;

/// CloudFormation's limit for a template passed inline as `TemplateBody`.
pub const INLINE_BODY_LIMIT: usize = 51_200;

/// The template sections that hold logical ids. CloudFormation wants every id
/// unique across all of them together.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Section {
    Parameters,
    Mappings,
    Conditions,
    Resources,
    Outputs,
}

impl Section {
    pub const ALL: [Section; 5] = [
        Section::Parameters,
        Section::Mappings,
        Section::Conditions,
        Section::Resources,
        Section::Outputs,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Section::Parameters => "Parameters",
            Section::Mappings => "Mappings",
            Section::Conditions => "Conditions",
            Section::Resources => "Resources",
            Section::Outputs => "Outputs",
        }
    }

    /// "a parameter", "a resource": for sentences about one id.
    pub fn singular(self) -> &'static str {
        match self {
            Section::Parameters => "a parameter",
            Section::Mappings => "a mapping",
            Section::Conditions => "a condition",
            Section::Resources => "a resource",
            Section::Outputs => "an output",
        }
    }

    pub fn parse(key: &str) -> Option<Section> {
        Section::ALL.into_iter().find(|s| s.as_str() == key)
    }
}

impl fmt::Display for Section {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("{}: no formations (*.json) found", dir.display())]
    NoFormations { dir: PathBuf },
    #[error("{}: missing; it is the separate <app>-image formation", file.display())]
    MissingImageFormation { file: PathBuf },
    #[error(transparent)]
    Read(#[from] crate::input::file::ReadError),
    #[error("cannot list {}: {source}", dir.display())]
    List {
        dir: PathBuf,
        source: std::io::Error,
    },
    #[error("{}:{problem}", file.display())]
    Outline {
        file: PathBuf,
        problem: crate::input::json::OutlineError,
    },
    #[error("{}:{line}:{column}: invalid JSON: {message}", file.display())]
    Syntax {
        file: PathBuf,
        line: usize,
        column: usize,
        message: String,
    },
    #[error("{}: a formation must be a JSON object", file.display())]
    NotAnObject { file: PathBuf },
    #[error("{}: `{section}` must be an object of logical ids", file.display())]
    SectionNotAnObject { file: PathBuf, section: Section },
    #[error(
        "{}: unsupported top-level key `{key}`: formations hold AWSTemplateFormatVersion, \
         Description, Parameters, Mappings, Conditions, Resources and Outputs",
        file.display()
    )]
    UnsupportedKey { file: PathBuf, key: String },
    #[error("{}: AWSTemplateFormatVersion is {found}, expected \"{FORMAT_VERSION}\"", file.display())]
    BadVersion { file: PathBuf, found: String },
    #[error("{}", clashes.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n"))]
    Clashes { clashes: Vec<Clash> },
    #[error(
        "the merged template is {bytes} bytes, over CloudFormation's inline limit of \
         {INLINE_BODY_LIMIT} bytes for TemplateBody: shorten descriptions or move a \
         formation out of the merge"
    )]
    TooLarge { bytes: usize },
}

/// The entries of one section of a template body, in order (none when absent).
pub(crate) fn section_entries(
    body: &Map<String, Value>,
    section: Section,
) -> impl Iterator<Item = (&String, &Value)> {
    body.get(section.as_str())
        .and_then(Value::as_object)
        .into_iter()
        .flatten()
}

/// A problem found in a formation by a check (references, tags, parameters).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// `file` or `file:line`.
    pub location: String,
    /// Where in the template, e.g. `Resources.AppServerInstance.Properties.ImageId`.
    pub at: String,
    pub message: String,
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}: {}", self.location, self.at, self.message)
    }
}

/// A template ready to be sent: one formation, or several merged.
#[derive(Debug, Clone)]
pub struct Template {
    body: Map<String, Value>,
    formations: Vec<Formation>,
}

impl Template {
    /// The ids of one section, in template order.
    pub fn ids(&self, section: Section) -> impl Iterator<Item = &String> {
        self.entries(section).map(|(id, _)| id)
    }

    pub fn entries(&self, section: Section) -> impl Iterator<Item = (&String, &Value)> {
        section_entries(&self.body, section)
    }

    pub fn get(&self, section: Section, id: &str) -> Option<&Value> {
        self.body.get(section.as_str())?.get(id)
    }

    pub fn contains(&self, section: Section, id: &str) -> bool {
        self.get(section, id).is_some()
    }

    /// The template's body, as merged (values as parsed).
    pub fn body(&self) -> &Map<String, Value> {
        &self.body
    }

    /// The formations this template was made from.
    pub fn formations(&self) -> &[Formation] {
        &self.formations
    }

    /// The formation that defines `id` in `section`.
    pub fn origin(&self, section: Section, id: &str) -> Option<&Formation> {
        self.formations
            .iter()
            .find(|f| f.entries(section).any(|(k, _)| k == id))
    }

    /// `file:line` of an id, for messages.
    pub fn locate(&self, section: Section, id: &str) -> String {
        self.origin(section, id)
            .map(|f| f.locate(section, id))
            .unwrap_or_else(|| "(merged template)".to_owned())
    }

    /// The body as sent to CloudFormation (compact): every value exactly
    /// as its formation writes it (`1.10` stays `1.10`).
    pub fn to_json(&self) -> String {
        self.write(false)
    }

    pub fn to_pretty_json(&self) -> String {
        self.write(true)
    }

    fn write(&self, pretty: bool) -> String {
        let text = |value: &Value| serde_json::to_string(value).expect("a JSON value serializes");
        let mut top: Vec<(&str, String)> = Vec::new();
        for (key, value) in &self.body {
            let written = match Section::parse(key) {
                Some(section) => crate::input::json::object(
                    self.ids(section).map(|id| {
                        let mut out = String::new();
                        match self.origin(section, id).and_then(|f| f.raw(section, id)) {
                            Some(raw) => crate::input::json::rewrite(raw, pretty, 2, &mut out),
                            None => crate::input::json::rewrite(
                                &text(&self.body[key][id]),
                                pretty,
                                2,
                                &mut out,
                            ),
                        }
                        (id.as_str(), out)
                    }),
                    pretty,
                    1,
                ),
                None => text(value),
            };
            top.push((key, written));
        }
        crate::input::json::object(top, pretty, 0)
    }

    /// The size sent inline, or an error when it is over CloudFormation's limit.
    pub fn check_size(&self) -> Result<usize, TemplateError> {
        let bytes = self.to_json().len();
        if bytes > INLINE_BODY_LIMIT {
            return Err(TemplateError::TooLarge { bytes });
        }
        Ok(bytes)
    }
}

/// The project's formations: the merged environment template and the
/// separate image template.
#[derive(Debug, Clone)]
pub struct Formations {
    pub environment: Template,
    pub image: Template,
}

impl Formations {
    /// Read `formations/*.json` in name order: everything except `image.json`
    /// merges into the environment template; `image.json` stands alone.
    pub fn load(project: &Project) -> Result<Self, TemplateError> {
        let dir = project.path(Project::FORMATIONS);
        let entries = std::fs::read_dir(&dir).map_err(|source| TemplateError::List {
            dir: dir.clone(),
            source,
        })?;
        let mut names: Vec<String> = entries
            .filter_map(Result::ok)
            .filter_map(|e| e.file_name().into_string().ok())
            .filter(|name| name.ends_with(".json"))
            .collect();
        names.sort();
        let image_file = dir.join(Project::IMAGE_FORMATION);
        if !names.iter().any(|n| n == Project::IMAGE_FORMATION) {
            return Err(TemplateError::MissingImageFormation { file: image_file });
        }
        let merged: Vec<Formation> = names
            .iter()
            .filter(|name| *name != Project::IMAGE_FORMATION)
            .map(|name| Formation::load(&dir.join(name)))
            .collect::<Result<_, _>>()?;
        if merged.is_empty() {
            return Err(TemplateError::NoFormations { dir });
        }
        Ok(Self {
            environment: merge::merge(
                merged,
                "Argos: one environment (merged by argos-cloud from formations/)",
            )?,
            image: merge::merge(
                vec![Formation::load(&image_file)?],
                "Argos: the instance the shared <app>-image is baked on",
            )?,
        })
    }
}

pub use merge::merge;

#[cfg(test)]
mod tests;
