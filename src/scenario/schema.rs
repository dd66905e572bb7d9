//! The JSON Schema of scenario files, generated from the types so it cannot
//! drift: `argos-cloud scenario schema` prints it, and the copy shipped in
//! `scenarios/scenario.schema.json` (which editors pick up through the
//! `yaml-language-server` comment at the top of each scenario) is checked
//! against it by a test.

use super::Scenario;

/// Where the shipped copy lives, relative to the project folder.
pub const SHIPPED: &str = "scenarios/scenario.schema.json";

/// The schema as pretty JSON, ending in a newline.
pub fn json() -> String {
    let schema = schemars::schema_for!(Scenario);
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serializes");
    text.push('\n');
    text
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    #[test]
    fn the_shipped_schema_is_the_generated_one() {
        let shipped = Path::new(env!("CARGO_MANIFEST_DIR")).join(super::SHIPPED);
        let text = std::fs::read_to_string(&shipped).unwrap_or_default();
        assert!(
            text == super::json(),
            "{} is out of date: run `cargo run -q -- scenario schema > {}`",
            shipped.display(),
            super::SHIPPED
        );
    }

    #[test]
    fn the_schema_names_every_probe_and_step() {
        let schema = super::json();
        for word in [
            "postgres",
            "sparql-ask",
            "ner",
            "tcp",
            "http",
            "unit",
            "create",
            "converge",
            "idempotence",
            "verify",
            "destroy",
        ] {
            assert!(schema.contains(&format!("\"{word}\"")), "{word} missing");
        }
    }
}
