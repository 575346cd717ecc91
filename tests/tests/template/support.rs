//! Reading template.yaml: functions, properties, resources, references.

use devstack::template::{FunctionDef, Template, scalar_string};
use serde_json::Value;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

pub(crate) fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub(crate) fn template() -> Template {
    Template::load(&root().join("template.yaml")).unwrap()
}

pub(crate) fn function(template: &Template, binary: &str) -> FunctionDef {
    template
        .functions()
        .unwrap()
        .into_iter()
        .find(|f| f.binary == binary)
        .unwrap_or_else(|| panic!("template.yaml has no function building {binary}"))
}

/// A property of a function, its own value or else the Globals' one.
pub(crate) fn property(template: &Template, function: &FunctionDef, name: &str) -> Value {
    let own = &template.root()["Resources"][&function.logical_id]["Properties"][name];
    if own.is_null() {
        template.root()["Globals"]["Function"][name].clone()
    } else {
        own.clone()
    }
}

pub(crate) fn resource<'a>(template: &'a Template, id: &str) -> &'a Value {
    let resource = &template.root()["Resources"][id];
    assert!(!resource.is_null(), "template.yaml has no resource {id}");
    resource
}

/// A number that is either literal or a `Ref` to a parameter (then its default).
pub(crate) fn number(template: &Template, value: &Value) -> u64 {
    let text = match value.get("Ref") {
        Some(Value::String(parameter)) => template.parameter_defaults()[parameter].clone(),
        _ => scalar_string(value).unwrap_or_else(|| panic!("{value} is not a number")),
    };
    text.parse()
        .unwrap_or_else(|_| panic!("{text} is not a number"))
}

/// The logical ids a value refers to (`Ref`, `Fn::GetAtt`), anywhere inside it.
pub(crate) fn references(value: &Value, found: &mut BTreeSet<String>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(id)) = map.get("Ref") {
                found.insert(id.clone());
            }
            if let Some(Value::Array(parts)) = map.get("Fn::GetAtt")
                && let Some(Value::String(id)) = parts.first()
            {
                found.insert(id.clone());
            }
            map.values().for_each(|v| references(v, found));
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, found)),
        _ => {}
    }
}
