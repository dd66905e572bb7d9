//! What a template's value will be, as CloudFormation works it out, before
//! the stack exists: literals, `Ref` to a parameter (the value the plan
//! passes) or to a pseudo parameter, `Fn::Join` and `Fn::Sub`. Checks that
//! follow values use it, so a `Name` tag written as `{"Ref": "InstanceName"}`
//! whose value is `<app>-image` is as right as the `Fn::Join` spelling.

use serde_json::Value;

/// How names resolve: parameters to the values the plan passes (never a
/// secret's), pseudo parameters to the stack's.
pub struct Resolver<'a> {
    pub parameter: &'a dyn Fn(&str) -> Option<String>,
    pub stack_name: &'a str,
    pub region: &'a str,
}

impl Resolver<'_> {
    fn name(&self, name: &str) -> Result<String, String> {
        match name {
            "AWS::StackName" => Ok(self.stack_name.to_owned()),
            "AWS::Region" => Ok(self.region.to_owned()),
            "AWS::Partition" => Ok("aws".to_owned()),
            _ => (self.parameter)(name).ok_or_else(|| {
                format!("{name} has no value before the stack is made (not a parameter the plan passes, or a secret)")
            }),
        }
    }

    /// The text `value` will be, or why it cannot be known yet.
    pub fn string(&self, value: &Value) -> Result<String, String> {
        match value {
            Value::String(text) => Ok(text.clone()),
            Value::Number(n) => Ok(n.to_string()),
            Value::Bool(b) => Ok(b.to_string()),
            Value::Object(object) if object.len() == 1 => {
                let (function, arg) = object.iter().next().expect("one entry");
                match function.as_str() {
                    "Ref" => arg
                        .as_str()
                        .ok_or_else(|| "Ref takes a name".to_owned())
                        .and_then(|name| self.name(name)),
                    "Fn::Join" => {
                        let parts = arg.as_array().map(Vec::as_slice);
                        let Some([Value::String(separator), Value::Array(items)]) = parts else {
                            return Err("Fn::Join takes [separator, [values]]".into());
                        };
                        let items: Vec<String> = items
                            .iter()
                            .map(|i| self.string(i))
                            .collect::<Result<_, _>>()?;
                        Ok(items.join(separator))
                    }
                    "Fn::Sub" => self.sub(arg),
                    other => Err(format!(
                        "{other} cannot be worked out before the stack is made"
                    )),
                }
            }
            _ => Err(format!("{value} is not a value argos-cloud can work out")),
        }
    }

    fn sub(&self, arg: &Value) -> Result<String, String> {
        let (text, variables) = match arg {
            Value::String(text) => (text.as_str(), None),
            Value::Array(parts) => match parts.as_slice() {
                [Value::String(text), Value::Object(vars)] => (text.as_str(), Some(vars)),
                _ => return Err("Fn::Sub takes a string or [string, {variables}]".into()),
            },
            _ => return Err("Fn::Sub takes a string or [string, {variables}]".into()),
        };
        let mut out = String::new();
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after
                .find('}')
                .ok_or_else(|| "`${` has no closing `}`".to_owned())?;
            let name = after[..end].trim();
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else if let Some(value) = variables.and_then(|v| v.get(name)) {
                out.push_str(&self.string(value)?);
            } else if name.contains('.') {
                return Err(format!(
                    "${{{name}}} is an attribute, known only once the stack is made"
                ));
            } else {
                out.push_str(&self.name(name)?);
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn refs_joins_and_subs_work_out_to_text() {
        let parameter = |name: &str| match name {
            "App" => Some("ledger".to_owned()),
            "Stage" => Some("staging".to_owned()),
            _ => None,
        };
        let resolver = Resolver {
            parameter: &parameter,
            stack_name: "ledger-staging",
            region: "eu-west-1",
        };
        let ok = |v: Value| resolver.string(&v).unwrap();
        assert_eq!(ok(json!("api")), "api");
        assert_eq!(ok(json!({"Ref": "App"})), "ledger");
        assert_eq!(
            ok(json!({"Fn::Join": ["-", [{"Ref": "App"}, {"Ref": "Stage"}, "api"]]})),
            "ledger-staging-api"
        );
        assert_eq!(
            ok(json!({"Fn::Sub": "${App}-${Stage}-api"})),
            "ledger-staging-api"
        );
        assert_eq!(
            ok(json!({"Fn::Sub": ["${A}-x", {"A": {"Ref": "App"}}]})),
            "ledger-x"
        );
        assert_eq!(
            ok(json!({"Fn::Sub": "${AWS::StackName}"})),
            "ledger-staging"
        );
        assert!(resolver.string(&json!({"Ref": "Secret"})).is_err());
        assert!(
            resolver
                .string(&json!({"Fn::If": ["c", "a", "b"]}))
                .is_err()
        );
        assert!(
            resolver
                .string(&json!({"Fn::Sub": "${Db.Endpoint}"}))
                .is_err()
        );
    }
}
