//! Merging formations into one template. Any file may refer to ids of any
//! other, so ids must be unique across all files AND all sections together: a
//! parameter and a resource with one name is a clash too (CloudFormation would
//! reject it; the original tool only compared within a section).

use std::collections::HashMap;
use std::fmt;

use serde_json::{Map, Value};

use super::{FORMAT_VERSION, Formation, Section, Template, TemplateError};

/// Where an id is defined: which section of which file, at which line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IdOrigin {
    pub section: Section,
    /// `file:line` (or just `file`).
    pub location: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Clash {
    pub id: String,
    pub first: IdOrigin,
    pub second: IdOrigin,
}

impl fmt::Display for Clash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "logical id `{}` is defined twice: as {} in {} and as {} in {}; ids must be unique \
             across the Parameters, Mappings, Conditions, Resources and Outputs of all merged \
             formations (prefix them with their role, e.g. KnowledgeInstance)",
            self.id,
            self.first.section.singular(),
            self.first.location,
            self.second.section.singular(),
            self.second.location,
        )
    }
}

/// Merge `formations`, in order, into one template. Every clash is reported,
/// not just the first.
pub fn merge(formations: Vec<Formation>, description: &str) -> Result<Template, TemplateError> {
    let mut seen: HashMap<&str, IdOrigin> = HashMap::new();
    let mut clashes = Vec::new();
    let mut sections: Vec<(Section, Map<String, Value>)> =
        Section::ALL.iter().map(|s| (*s, Map::new())).collect();

    for formation in &formations {
        for (section, merged) in &mut sections {
            for (id, value) in formation.entries(*section) {
                let here = IdOrigin {
                    section: *section,
                    location: formation.locate(*section, id),
                };
                match seen.get(id.as_str()) {
                    Some(first) => clashes.push(Clash {
                        id: id.clone(),
                        first: first.clone(),
                        second: here,
                    }),
                    None => {
                        seen.insert(id, here);
                        merged.insert(id.clone(), value.clone());
                    }
                }
            }
        }
    }
    if !clashes.is_empty() {
        return Err(TemplateError::Clashes { clashes });
    }

    let mut body = Map::new();
    body.insert("AWSTemplateFormatVersion".into(), FORMAT_VERSION.into());
    body.insert("Description".into(), description.into());
    for (section, merged) in sections {
        if !merged.is_empty() {
            body.insert(section.as_str().into(), Value::Object(merged));
        }
    }
    Ok(Template { body, formations })
}
