//! `parameters:` and `image_parameters:`: each CloudFormation parameter of
//! a stack and its value, written in the settings with Ansible's syntax: a
//! literal, or text with `{{ key }}` naming a settings key or a built-in
//! ([`BUILTINS`]). So a team's formations, whatever their parameters are
//! called, get their values from the settings with no change to the engine.
//!
//! ```yaml
//! parameters:
//!   AppName: "{{ app_name }}"
//!   AppImageAMI: "{{ app_image_id }}"     # the baked <app>-image
//!   DBPassword: "{{ db_pass }}"           # a secret stays one: NoEcho required
//! image_parameters:
//!   ImageId: "{{ base_ami }}"
//!   InstanceName: "{{ app_name }}-image"
//! ```
//!
//! Only `{{ key }}` is rendered (no filters, no expressions); a key's own
//! value may hold `{{ other }}` (as Ansible renders it); booleans are
//! `true`/`false`, lists are joined with commas (CloudFormation's list
//! parameters), and a value Ansible would read as other than its text is
//! refused, as everywhere in the settings.

use std::collections::BTreeMap;

use super::source::Origin;
use super::values::{Value, Values, node_text};
use crate::input::yaml::{Kind, Node};

/// What `{{ name }}` may name besides the settings' keys.
pub const BUILTINS: [&str; 6] = [
    "app_name",
    "env",
    "app_image_id",
    "stack_name",
    "image_name",
    "run_id",
];

/// How deep `{{ key }}` may lead to keys that hold `{{ other }}`.
const MAX_NESTING: usize = 16;

/// One parameter's entry in the settings.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedParameter {
    pub name: String,
    /// The value as written: a literal, or text with `{{ key }}`.
    pub template: String,
    /// The line of the entry (`parameters.<name>`).
    pub origin: Origin,
}

/// A stack's parameters as the settings map them, in file order.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ParameterMap {
    /// `parameters` or `image_parameters`, for messages.
    pub key: &'static str,
    pub entries: Vec<MappedParameter>,
}

impl ParameterMap {
    /// Read the mapping `node` of the settings key `key` (absent: empty).
    pub fn read(
        key: &'static str,
        node: Option<&Node>,
        origin_of: impl Fn(usize) -> Origin,
    ) -> Result<Self, (Origin, String)> {
        let mut map = Self {
            key,
            entries: Vec::new(),
        };
        let Some(node) = node.filter(|n| !n.is_null()) else {
            return Ok(map);
        };
        if !matches!(node.kind, Kind::Map(_)) {
            return Err((
                origin_of(node.line),
                "expected a mapping of CloudFormation parameter names to values".into(),
            ));
        }
        for (name, value) in node.entries() {
            let origin = origin_of(name.line);
            let Some(name) = name.as_str() else {
                return Err((origin, "a parameter's name is text, e.g. AppName".into()));
            };
            let template = match &value.kind {
                Kind::Str(text) => text.clone(),
                Kind::Null => String::new(),
                Kind::Seq(_) | Kind::Map(_) | Kind::Tagged(..) => {
                    return Err((
                        origin,
                        format!(
                            "`{name}`: expected a value or \"{{{{ key }}}}\", not {}",
                            value.kind_name()
                        ),
                    ));
                }
                _ => node_text(value, name, false)
                    .map_err(|p| (origin.clone(), format!("`{name}`: {p}")))?,
            };
            map.entries.push(MappedParameter {
                name: name.to_owned(),
                template,
                origin,
            });
        }
        Ok(map)
    }

    pub fn get(&self, name: &str) -> Option<&MappedParameter> {
        self.entries.iter().find(|e| e.name == name)
    }

    /// The parameters whose value is exactly `{{ key }}`: the ones that
    /// carry the baked image's id are those mapped to `app_image_id`.
    pub fn mapped_to<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> {
        self.entries
            .iter()
            .filter(move |e| single_reference(&e.template) == Some(key))
            .map(|e| e.name.as_str())
    }
}

/// `{{ key }}` alone (with any spaces inside the braces): the key.
pub fn single_reference(template: &str) -> Option<&str> {
    let inner = template
        .trim()
        .strip_prefix("{{")?
        .strip_suffix("}}")?
        .trim();
    is_identifier(inner).then_some(inner)
}

fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A rendered value: its text, whether a secret went into it, and the keys
/// it was made from (each with where its value came from).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Rendered {
    pub text: String,
    pub secret: bool,
    pub keys: Vec<(String, Origin)>,
}

/// What a template may read: the settings and the built-ins.
pub struct Scope<'a> {
    pub values: &'a Values,
    pub builtins: &'a BTreeMap<&'static str, String>,
}

/// Whether a list may be rendered (joined with commas): only for a
/// parameter CloudFormation reads as a list.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lists {
    Joined,
    Refused,
}

impl Scope<'_> {
    /// Render `template`; a list is refused.
    pub fn render(&self, template: &str) -> Result<Rendered, String> {
        self.render_with(template, Lists::Refused)
    }

    /// Render `template`, joining lists with commas when `lists` says so.
    pub fn render_with(&self, template: &str, lists: Lists) -> Result<Rendered, String> {
        let mut rendered = Rendered::default();
        self.render_into(template, lists, &mut Vec::new(), &mut rendered)?;
        Ok(rendered)
    }

    fn render_into(
        &self,
        template: &str,
        lists: Lists,
        through: &mut Vec<String>,
        out: &mut Rendered,
    ) -> Result<(), String> {
        if let Some(at) = template.find("{%").or_else(|| template.find("{#")) {
            return Err(format!(
                "{:?}: argos-cloud renders {{{{ key }}}} only, not Jinja statements or comments",
                &template[at..(at + 2)]
            ));
        }
        let mut rest = template;
        while let Some(open) = rest.find("{{") {
            out.text.push_str(&rest[..open]);
            let after = &rest[open + 2..];
            let Some(close) = after.find("}}") else {
                return Err(format!("{template:?}: `{{{{` has no closing `}}}}`"));
            };
            let name = after[..close].trim();
            if !is_identifier(name) {
                return Err(format!(
                    "`{{{{ {name} }}}}`: argos-cloud renders {{{{ key }}}} only (a settings key \
                     or {}), no filters or expressions",
                    BUILTINS.join(", ")
                ));
            }
            self.key_into(name, lists, through, out)?;
            rest = &after[close + 2..];
        }
        out.text.push_str(rest);
        Ok(())
    }

    fn key_into(
        &self,
        name: &str,
        lists: Lists,
        through: &mut Vec<String>,
        out: &mut Rendered,
    ) -> Result<(), String> {
        if let Some(value) = self.builtins.get(name) {
            out.text.push_str(value);
            if !out.keys.iter().any(|(k, _)| k == name) {
                out.keys.push((name.to_owned(), Origin::Builtin));
            }
            return Ok(());
        }
        let Some(setting) = self.values.get(name) else {
            return Err(format!(
                "`{{{{ {name} }}}}`: no settings key `{name}` (and it is not one of {})",
                BUILTINS.join(", ")
            ));
        };
        if through.iter().any(|k| k == name) || through.len() >= MAX_NESTING {
            through.push(name.to_owned());
            return Err(format!(
                "`{name}` refers to itself: {}",
                through.join(" → ")
            ));
        }
        let secret = self.values.is_secret(name);
        out.secret |= secret;
        if !out.keys.iter().any(|(k, _)| k == name) {
            out.keys.push((name.to_owned(), setting.origin.clone()));
        }
        let text = match &setting.value {
            Value::Text(text) => text.clone(),
            Value::Yaml(node) => value_text(node, name, secret, lists)
                .map_err(|problem| format!("`{name}` ({}): {problem}", setting.origin))?,
        };
        through.push(name.to_owned());
        let result = self.render_into(&text, lists, through, out);
        through.pop();
        result.map_err(|problem| format!("`{name}` ({}): {problem}", setting.origin))
    }
}

/// A settings value as a parameter's text: booleans as CloudFormation
/// writes them, lists joined with commas for a list parameter.
fn value_text(node: &Node, name: &str, secret: bool, lists: Lists) -> Result<String, String> {
    match &node.kind {
        Kind::Bool(b) => Ok(b.to_string()),
        Kind::Null => Ok(String::new()),
        Kind::Seq(_) if lists == Lists::Refused => Err(format!(
            "`{name}` is a list, and only a list parameter (CommaDelimitedList, List<...>) \
             takes one"
        )),
        Kind::Seq(items) => items
            .iter()
            .map(|item| match item.kind {
                Kind::Bool(b) => Ok(b.to_string()),
                _ => node_text(item, name, secret),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(|items| items.join(",")),
        Kind::Map(_) => Err(format!(
            "`{name}` is a mapping, which cannot be a parameter's value"
        )),
        _ => node_text(node, name, secret),
    }
}

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;
    use crate::input::yaml;
    use crate::model::settings::values::Setting;

    fn values(text: &str) -> Values {
        let root = yaml::parse(text).unwrap();
        let mut values = Values::default();
        for (key, node) in root.entries() {
            let key = key.as_key().unwrap();
            values.insert(
                key.clone(),
                Setting {
                    value: Value::Yaml(node.clone()),
                    origin: Origin::File {
                        path: PathBuf::from("all.yml"),
                        line: Some(node.line),
                    },
                    secret: key == "listed_secret",
                },
            );
        }
        values
    }

    fn render(text: &str, template: &str) -> Result<Rendered, String> {
        let values = values(text);
        let builtins = BTreeMap::from([("env", "staging".to_owned())]);
        Scope {
            values: &values,
            builtins: &builtins,
        }
        .render(template)
    }

    #[test]
    fn keys_and_builtins_render_with_their_sources() {
        let text = "app: argos\nsize: 4\nenabled: yes\nzones: [a, b]\npath: \"/srv/{{ app }}\"\n";
        let rendered = render(text, "{{ app }}-{{env}}-{{ size }}").unwrap();
        assert_eq!(rendered.text, "argos-staging-4");
        assert_eq!(
            rendered
                .keys
                .iter()
                .map(|(k, _)| k.as_str())
                .collect::<Vec<_>>(),
            ["app", "env", "size"]
        );
        assert_eq!(render(text, "{{ enabled }}").unwrap().text, "true");
        assert!(
            render(text, "{{ zones }}")
                .unwrap_err()
                .contains("only a list parameter")
        );
        let values = values(text);
        let builtins = BTreeMap::new();
        let joined = Scope {
            values: &values,
            builtins: &builtins,
        }
        .render_with("{{ zones }}", Lists::Joined)
        .unwrap();
        assert_eq!(joined.text, "a,b");
        assert_eq!(render(text, "{{ path }}").unwrap().text, "/srv/argos");
        assert_eq!(render(text, "plain").unwrap().text, "plain");
    }

    #[test]
    fn what_cannot_be_rendered_is_said() {
        let text = "a: \"{{ b }}\"\nb: \"{{ a }}\"\nm: {x: 1}\nodd: 0755\n";
        assert!(
            render(text, "{{ a }}")
                .unwrap_err()
                .contains("refers to itself: a → b → a")
        );
        assert!(
            render(text, "{{ m }}")
                .unwrap_err()
                .contains("is a mapping")
        );
        assert!(
            render(text, "{{ nope }}")
                .unwrap_err()
                .contains("no settings key `nope`")
        );
        assert!(
            render(text, "{{ a | lower }}")
                .unwrap_err()
                .contains("no filters")
        );
        assert!(render(text, "{{ a").unwrap_err().contains("no closing"));
        assert!(
            render(text, "{% if x %}")
                .unwrap_err()
                .contains("not Jinja statements")
        );
        assert!(
            render(text, "{{ odd }}")
                .unwrap_err()
                .contains("as the integer 493")
        );
    }

    #[test]
    fn a_secret_makes_the_value_secret_and_is_never_quoted() {
        let text = "db_pass: \"hunter2hunter2\"\nlisted_secret: x\nplain: y\nbad_token: 0123\n";
        assert!(render(text, "{{ db_pass }}").unwrap().secret);
        assert!(render(text, "{{ listed_secret }}").unwrap().secret);
        assert!(!render(text, "{{ plain }}").unwrap().secret);
        let error = render(text, "{{ bad_token }}").unwrap_err();
        assert!(
            error.contains("(the value is not shown)") && !error.contains("0123"),
            "{error}"
        );
    }

    #[test]
    fn the_parameters_mapped_to_a_key_are_found() {
        let root = yaml::parse(
            "parameters:\n  AppImageAMI: \"{{ app_image_id }}\"\n  Other: \"x-{{ app_image_id }}\"\n  Count: 3\n",
        )
        .unwrap();
        let map = ParameterMap::read("parameters", root.get("parameters"), |line| Origin::File {
            path: PathBuf::from("all.yml"),
            line: Some(line),
        })
        .unwrap();
        assert_eq!(
            map.mapped_to("app_image_id").collect::<Vec<_>>(),
            ["AppImageAMI"]
        );
        assert_eq!(map.get("Count").unwrap().template, "3");
        assert_eq!(map.get("Other").unwrap().origin.to_string(), "all.yml:3");
    }
}
