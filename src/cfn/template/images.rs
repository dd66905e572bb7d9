//! Which image each group's hosts start from on AWS: the parameter their
//! `ImageId` names. The baked `<app>-image` is the parameter the settings
//! map to `{{ app_image_id }}`, whatever the formation calls it; another
//! parameter (the base image) otherwise. The topology's `baked` says the
//! same for the local backends, and the two must agree: a scenario on
//! Docker would otherwise test hosts unlike the ones AWS runs.

use serde_json::Value;

use super::evaluate::Resolver;
use super::{Section, Template};
use crate::model::names::{Group, tag_keys};

pub use crate::model::topology::GroupImage;

/// Every resource with an `ImageId` that `Ref`s a parameter and a `Group`
/// tag (an instance's `Tags`, a launch template's tag specifications);
/// `baked` are the parameters that carry the baked image.
pub fn group_images(
    template: &Template,
    resolver: &Resolver<'_>,
    baked: &[&str],
) -> Vec<GroupImage> {
    let mut found = Vec::new();
    for (id, resource) in template.entries(Section::Resources) {
        let parameter = first(resource, &|object| {
            object
                .get("ImageId")
                .and_then(|image| image.get("Ref"))
                .and_then(Value::as_str)
                .map(str::to_owned)
        });
        let group = first(resource, &|object| {
            if object.get("Key").and_then(Value::as_str) != Some(tag_keys::GROUP) {
                return None;
            }
            let tag = object.get("Value")?;
            super::tagging::group_name(resolver, tag)
                .ok()
                .and_then(|name| Group::new(&name).ok())
        });
        if let (Some(parameter), Some(group)) = (parameter, group) {
            found.push(GroupImage {
                location: template.locate(Section::Resources, id),
                resource: id.to_owned(),
                group,
                baked: baked.contains(&parameter.as_str()),
                parameter,
            });
        }
    }
    found
}

/// The first object inside `value`, depth first, for which `pick` gives
/// something.
fn first<T>(
    value: &Value,
    pick: &dyn Fn(&serde_json::Map<String, Value>) -> Option<T>,
) -> Option<T> {
    match value {
        Value::Object(object) => {
            pick(object).or_else(|| object.values().find_map(|v| first(v, pick)))
        }
        Value::Array(items) => items.iter().find_map(|v| first(v, pick)),
        _ => None,
    }
}
