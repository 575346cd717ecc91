//! Resolves CloudFormation intrinsics (`Ref`, `Fn::GetAtt`, `Fn::Sub`) against what the local
//! stack created, the way CloudFormation resolves them against what it deployed.

use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ResolveError {
    #[error("!Ref {0}: no such parameter or resource was created locally")]
    UnknownRef(String),
    #[error("!GetAtt {0}.{1}: not known locally")]
    UnknownAttribute(String, String),
    #[error("unsupported intrinsic {0}")]
    Unsupported(String),
    #[error("malformed {0}")]
    Malformed(&'static str),
}

/// What `Ref` and `Fn::GetAtt` resolve to.
#[derive(Debug, Clone, Default)]
pub struct Context {
    /// Parameter values and pseudo parameters (`AWS::Region`, …), and each resource's `Ref`.
    pub refs: BTreeMap<String, String>,
    /// `(logical id, attribute)` → value.
    pub attributes: BTreeMap<(String, String), String>,
}

impl Context {
    pub fn set_ref(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.refs.insert(name.into(), value.into());
    }

    pub fn set_attribute(
        &mut self,
        id: impl Into<String>,
        attribute: impl Into<String>,
        value: impl Into<String>,
    ) {
        self.attributes
            .insert((id.into(), attribute.into()), value.into());
    }

    /// Resolves every intrinsic inside `value`.
    ///
    /// # Errors
    /// An intrinsic names something unknown, or is not one this resolver supports.
    pub fn resolve(&self, value: &Value) -> Result<Value, ResolveError> {
        match value {
            Value::Object(object) if object.len() == 1 => {
                let Some((key, inner)) = object.iter().next() else {
                    return Ok(value.clone());
                };
                match key.as_str() {
                    "Ref" => {
                        let name = inner.as_str().ok_or(ResolveError::Malformed("Ref"))?;
                        self.refs
                            .get(name)
                            .map(|v| Value::String(v.clone()))
                            .ok_or_else(|| ResolveError::UnknownRef(name.to_owned()))
                    }
                    "Fn::GetAtt" => {
                        let parts = inner
                            .as_array()
                            .ok_or(ResolveError::Malformed("Fn::GetAtt"))?;
                        let (Some(id), Some(attribute)) = (
                            parts.first().and_then(Value::as_str),
                            parts.get(1).and_then(Value::as_str),
                        ) else {
                            return Err(ResolveError::Malformed("Fn::GetAtt"));
                        };
                        self.attribute(id, attribute).map(Value::String)
                    }
                    "Fn::Sub" => {
                        let text = inner.as_str().ok_or(ResolveError::Malformed("Fn::Sub"))?;
                        self.substitute(text).map(Value::String)
                    }
                    other if other.starts_with("Fn::") => {
                        Err(ResolveError::Unsupported(other.to_owned()))
                    }
                    _ => self.resolve_object(object),
                }
            }
            Value::Object(object) => self.resolve_object(object),
            Value::Array(items) => items
                .iter()
                .map(|item| self.resolve(item))
                .collect::<Result<_, _>>()
                .map(Value::Array),
            other => Ok(other.clone()),
        }
    }

    /// Resolves `value` and renders it as the string CloudFormation would pass on.
    ///
    /// # Errors
    /// As [`Context::resolve`], or the result is not a scalar.
    pub fn resolve_string(&self, value: &Value) -> Result<String, ResolveError> {
        crate::template::scalar_string(&self.resolve(value)?)
            .ok_or(ResolveError::Malformed("non-scalar value"))
    }

    fn resolve_object(
        &self,
        object: &serde_json::Map<String, Value>,
    ) -> Result<Value, ResolveError> {
        object
            .iter()
            .map(|(k, v)| Ok((k.clone(), self.resolve(v)?)))
            .collect::<Result<serde_json::Map<_, _>, _>>()
            .map(Value::Object)
    }

    fn attribute(&self, id: &str, attribute: &str) -> Result<String, ResolveError> {
        self.attributes
            .get(&(id.to_owned(), attribute.to_owned()))
            .cloned()
            .ok_or_else(|| ResolveError::UnknownAttribute(id.to_owned(), attribute.to_owned()))
    }

    fn substitute(&self, text: &str) -> Result<String, ResolveError> {
        let mut out = String::with_capacity(text.len());
        let mut rest = text;
        while let Some(start) = rest.find("${") {
            out.push_str(&rest[..start]);
            let after = &rest[start + 2..];
            let end = after.find('}').ok_or(ResolveError::Malformed("Fn::Sub"))?;
            let name = &after[..end];
            if let Some(literal) = name.strip_prefix('!') {
                out.push_str("${");
                out.push_str(literal);
                out.push('}');
            } else if let Some(value) = self.refs.get(name) {
                out.push_str(value);
            } else if let Some((id, attribute)) = name.split_once('.') {
                out.push_str(&self.attribute(id, attribute)?);
            } else {
                return Err(ResolveError::UnknownRef(name.to_owned()));
            }
            rest = &after[end + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn context() -> Context {
        let mut context = Context::default();
        context.set_ref("Table", "dev-Table");
        context.set_ref("AWS::Region", "us-east-1");
        context.set_attribute("Queue", "Arn", "arn:aws:sqs:us-east-1:1:dev-Queue");
        context
    }

    #[test]
    fn resolves_ref_getatt_and_sub_recursively() {
        let value = json!({
            "name": {"Ref": "Table"},
            "list": [{"Fn::GetAtt": ["Queue", "Arn"]}, 5],
            "sub": {"Fn::Sub": "t=${Table} r=${AWS::Region} q=${Queue.Arn} keep=${!Literal}"}
        });
        assert_eq!(
            context().resolve(&value).unwrap(),
            json!({
                "name": "dev-Table",
                "list": ["arn:aws:sqs:us-east-1:1:dev-Queue", 5],
                "sub": "t=dev-Table r=us-east-1 q=arn:aws:sqs:us-east-1:1:dev-Queue keep=${Literal}"
            })
        );
    }

    #[test]
    fn unknown_names_are_errors_not_blanks() {
        let context = context();
        assert_eq!(
            context.resolve(&json!({"Ref": "Nope"})),
            Err(ResolveError::UnknownRef("Nope".into()))
        );
        assert_eq!(
            context.resolve(&json!({"Fn::GetAtt": ["Queue", "Url"]})),
            Err(ResolveError::UnknownAttribute("Queue".into(), "Url".into()))
        );
        assert_eq!(
            context.resolve(&json!({"Fn::If": []})),
            Err(ResolveError::Unsupported("Fn::If".into()))
        );
    }
}
