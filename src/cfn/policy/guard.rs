//! The one seam to AWS CloudFormation Guard (the `cfn-guard` crate, as a
//! library): a rule file's text and the documents go in, Guard's structured
//! JSON comes out, and is read here into the checks that failed.

use cfn_guard::commands::Executable;
use cfn_guard::commands::validate::{OutputFormatType, ShowSummaryType};
use cfn_guard::utils::reader::{ReadBuffer, Reader};
use cfn_guard::utils::writer::{WriteBuffer, Writer};
use cfn_guard::{CommandBuilder, ValidateBuilder};
use serde_json::Value;

/// A check of a rule that failed on a document.
#[derive(Debug, Clone, PartialEq)]
pub struct Violation {
    pub rule: String,
    /// Index into the documents given.
    pub document: usize,
    /// Guard's path of the value: `/Resources/Db/Properties/StorageEncrypted`.
    pub path: String,
    /// The value found there; `None` when the rule wanted something that is
    /// missing.
    pub value: Option<Value>,
    /// What the rule looked for and did not find (`StorageEncrypted`).
    pub missing: Option<String>,
    /// The rule's own message (`<< ... >>`), if it has one.
    pub message: Option<String>,
}

/// Guard refused the rule file or a document.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct GuardError(pub String);

/// Guard's exit status for a rule file or document it could not read.
const GUARD_ERROR: i32 = 5;

/// Evaluate one rule file over `documents` (JSON texts).
pub fn evaluate(rules: &str, documents: &[String]) -> Result<Vec<Violation>, GuardError> {
    if documents.is_empty() {
        return Ok(Vec::new());
    }
    let payload = serde_json::json!({ "rules": [rules], "data": documents }).to_string();
    let (status, writer) = run(&payload)?;
    if status == GUARD_ERROR {
        // Guard reports what it could not read on its error stream and
        // carries on with nothing evaluated: never a pass. (Its writer
        // gives up one stream or the other, so the run is repeated for it.)
        let (_, writer) = run(&payload)?;
        let said = writer
            .err_to_stripped()
            .unwrap_or_else(|e| e.to_string())
            .replace("RULES_STDIN[1]", "the rule file")
            .replace("\n---", "");
        return Err(GuardError(said.trim().to_owned()));
    }
    let output = writer
        .into_string()
        .map_err(|e| GuardError(e.to_string()))?;
    read_output(&output, documents.len())
}

fn run(payload: &str) -> Result<(i32, Writer), GuardError> {
    let command = ValidateBuilder::default()
        .payload(true)
        .structured(true)
        .output_format(OutputFormatType::JSON)
        .show_summary(vec![ShowSummaryType::None])
        .try_build()
        .map_err(|e| GuardError(e.to_string()))?;
    let mut reader = Reader::new(ReadBuffer::Cursor(std::io::Cursor::new(
        payload.as_bytes().to_vec(),
    )));
    let mut writer =
        Writer::new_with_err(WriteBuffer::Vec(Vec::new()), WriteBuffer::Vec(Vec::new()))
            .map_err(|e| GuardError(e.to_string()))?;
    let status = command
        .execute(&mut writer, &mut reader)
        .map_err(|e| GuardError(e.to_string().replace("RULES_STDIN[1]", "the rule file")))?;
    Ok((status, writer))
}

/// Guard's structured output: one entry per document, each with the rules
/// that were not compliant and their failed checks.
fn read_output(output: &str, documents: usize) -> Result<Vec<Violation>, GuardError> {
    let results: Value = serde_json::from_str(output)
        .map_err(|e| GuardError(format!("Guard's output is not the JSON expected: {e}")))?;
    // One result per document, or something went unevaluated.
    let count = results.as_array().map_or(0, Vec::len);
    if count != documents {
        return Err(GuardError(format!(
            "Guard reported on {count} of {documents} documents"
        )));
    }
    let mut violations = Vec::new();
    for (document, result) in results.as_array().into_iter().flatten().enumerate() {
        for entry in result["not_compliant"].as_array().into_iter().flatten() {
            let rule = &entry["Rule"];
            let name = rule["name"].as_str().unwrap_or_default();
            let mut leaves = Vec::new();
            failed_checks(&rule["checks"], &mut leaves);
            let mut found: Vec<Violation> = leaves
                .iter()
                .map(|leaf| violation(name, document, leaf))
                .collect();
            // A check Guard reports without a place (a variable's context)
            // says nothing a located one does not; but a failed rule is
            // never dropped.
            if found.iter().any(|v| !v.path.is_empty()) {
                found.retain(|v| !v.path.is_empty());
            }
            if found.is_empty() {
                found.push(Violation {
                    rule: name.to_owned(),
                    document,
                    path: String::new(),
                    value: None,
                    missing: None,
                    message: None,
                });
            }
            // One finding per place: a missing block fails each check
            // inside it, at the same path.
            for violation in found {
                if !violations.iter().any(|v: &Violation| {
                    v.rule == violation.rule
                        && v.document == violation.document
                        && v.path == violation.path
                }) {
                    violations.push(violation);
                }
            }
        }
    }
    // A check that names a place inside another's (the entry's protocol,
    // the entry's missing port) is the same finding, said more precisely.
    let within = |outer: &Violation, inner: &Violation| {
        outer.rule == inner.rule
            && outer.document == inner.document
            && inner.path.len() > outer.path.len()
            && inner.path.starts_with(&outer.path)
            && inner.path[outer.path.len()..].starts_with('/')
    };
    let kept: Vec<Violation> = violations
        .iter()
        .filter(|outer| !violations.iter().any(|inner| within(outer, inner)))
        .cloned()
        .collect();
    Ok(kept)
}

/// The failed clauses under `node`: of a disjunction, the first only (one
/// finding per thing that is wrong, not one per way it could be right).
fn failed_checks<'a>(node: &'a Value, leaves: &mut Vec<&'a Value>) {
    match node {
        Value::Array(items) => items.iter().for_each(|i| failed_checks(i, leaves)),
        Value::Object(map) => {
            if let Some(clause) = map.get("Clause") {
                if let Some(leaf) = clause.get("Binary").or_else(|| clause.get("Unary")) {
                    leaves.push(leaf);
                }
            } else if let Some(block) = map.get("Block")
                && block.get("unresolved").is_some_and(Value::is_object)
            {
                // A block whose query found nothing to look into.
                leaves.push(block);
            } else if let Some(disjunction) = map.get("Disjunctions") {
                let mut inner = Vec::new();
                failed_checks(disjunction, &mut inner);
                leaves.extend(inner.into_iter().take(1));
            } else {
                map.values().for_each(|v| failed_checks(v, leaves));
            }
        }
        _ => {}
    }
}

fn violation(rule: &str, document: usize, leaf: &Value) -> Violation {
    // The check's one variant: Resolved, InResolved, UnResolved, ...
    let check = leaf["check"]
        .as_object()
        .and_then(|variants| variants.values().next())
        .unwrap_or(&Value::Null);
    let message = leaf["messages"]["custom_message"]
        .as_str()
        .map(str::trim)
        .filter(|m| !m.is_empty())
        .map(str::to_owned);
    let unresolved = [&leaf["unresolved"], &check["value"]]
        .into_iter()
        .find(|u| u["traversed_to"].is_object());
    let (path, value, missing) = if let Some(unresolved) = unresolved {
        (
            unresolved["traversed_to"]["path"]
                .as_str()
                .unwrap_or_default()
                .to_owned(),
            None,
            unresolved["remaining_query"].as_str().map(str::to_owned),
        )
    } else {
        let found = [&check["from"], &check["value"]]
            .into_iter()
            .find(|v| v["path"].is_string())
            .unwrap_or(&Value::Null);
        (
            found["path"].as_str().unwrap_or_default().to_owned(),
            found.get("value").cloned(),
            None,
        )
    };
    Violation {
        rule: rule.to_owned(),
        document,
        path,
        value,
        missing,
        message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RULE: &str = "let dbs = Resources.*[ Type == 'AWS::RDS::DBInstance' ]\n\
                        rule encrypted when %dbs !empty {\n\
                          %dbs.Properties { StorageEncrypted == true << say so >> }\n\
                        }\n";

    #[test]
    fn a_failed_check_has_its_path_and_value_and_a_missing_one_what_is_missing() {
        let document = |properties: &str| {
            format!(
                r#"{{"Resources": {{"Db": {{"Type": "AWS::RDS::DBInstance", "Properties": {properties}}}}}}}"#
            )
        };
        let documents = vec![
            document(r#"{"StorageEncrypted": false}"#),
            document("{}"),
            document(r#"{"StorageEncrypted": true}"#),
        ];
        let found = evaluate(RULE, &documents).unwrap();
        assert_eq!(found.len(), 2, "{found:#?}");
        assert_eq!(found[0].document, 0);
        assert_eq!(found[0].path, "/Resources/Db/Properties/StorageEncrypted");
        assert_eq!(found[0].value, Some(Value::Bool(false)));
        assert_eq!(found[0].message.as_deref(), Some("say so"));
        assert_eq!(found[1].document, 1);
        assert_eq!(found[1].path, "/Resources/Db/Properties");
        assert_eq!(found[1].missing.as_deref(), Some("StorageEncrypted"));
    }

    #[test]
    fn a_rule_file_guard_cannot_read_is_an_error_not_a_pass() {
        let error = evaluate("rule broken {", &["{}".to_owned()]).unwrap_err();
        assert!(error.0.contains("the rule file"), "{error}");
    }

    #[test]
    fn a_large_output_is_read_whole() {
        // Guard's own JSON helper returns only what its buffer had not yet
        // flushed; this seam must not lose the start of a long report.
        let resources: Vec<String> = (0..200)
            .map(|i| format!(r#""Db{i}": {{"Type": "AWS::RDS::DBInstance", "Properties": {{"StorageEncrypted": false}}}}"#))
            .collect();
        let document = format!(r#"{{"Resources": {{{}}}}}"#, resources.join(","));
        let found = evaluate(RULE, &[document]).unwrap();
        assert_eq!(found.len(), 200);
    }
}
