//! Reads `template.yaml`, the one description of what is deployed, so the local stack creates
//! exactly the tables, queues, triggers and routes that AWS would.
//!
//! The YAML is turned into JSON with CloudFormation's short intrinsic tags (`!Ref`, `!GetAtt`,
//! `!Sub`) rewritten to their long forms (`{"Ref": …}`, `{"Fn::GetAtt": […]}`, …), so the rest
//! of the crate works on plain `serde_json::Value`s.

use crate::authorizer::AuthorizerDef;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::path::Path;

#[derive(Debug, thiserror::Error)]
pub enum TemplateError {
    #[error("cannot read {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("{path} is not valid YAML: {source}")]
    Yaml {
        path: String,
        source: serde_norway::Error,
    },
    #[error("template: {0}")]
    Shape(String),
}

/// A parsed SAM template.
#[derive(Debug, Clone)]
pub struct Template {
    root: Value,
}

/// A Lambda function of the template.
#[derive(Debug, Clone)]
pub struct FunctionDef {
    pub logical_id: String,
    /// `Metadata.BuildProperties.Binary`: the cargo binary, and the name `cargo lambda watch`
    /// serves it under.
    pub binary: String,
    /// Globals' and the function's own `Environment.Variables`, unresolved.
    pub environment: Map<String, Value>,
    /// `Properties.Events`, by name.
    pub events: BTreeMap<String, EventDef>,
    /// `Timeout` (the function's, else `Globals`', else Lambda's default of 3 s): an invocation
    /// that runs longer fails.
    pub timeout: std::time::Duration,
}

/// One event source of a function.
#[derive(Debug, Clone)]
pub struct EventDef {
    pub kind: String,
    pub properties: Map<String, Value>,
}

/// The route key of an HTTP API's catch-all route: requests no other route matches. SAM makes
/// it of an `HttpApi` event with neither `Path` nor `Method`.
pub const DEFAULT_ROUTE: &str = "$default";

/// A route of the HTTP API: `GET /api/v1/users/{id}` → function binary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteDef {
    pub method: String,
    pub path: String,
    pub binary: String,
    /// The Lambda authorizer API Gateway runs first, if the route has one.
    pub authorizer: Option<AuthorizerDef>,
}

impl Template {
    /// Loads and parses a template file.
    ///
    /// # Errors
    /// The file cannot be read or is not YAML.
    pub fn load(path: &Path) -> Result<Self, TemplateError> {
        let shown = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|source| TemplateError::Read {
            path: shown.clone(),
            source,
        })?;
        Self::parse(&text).map_err(|error| match error {
            TemplateError::Yaml { source, .. } => TemplateError::Yaml {
                path: shown,
                source,
            },
            other => other,
        })
    }

    /// Parses template text.
    ///
    /// # Errors
    /// The text is not YAML, or has no `Resources` mapping.
    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        let yaml: serde_norway::Value =
            serde_norway::from_str(text).map_err(|source| TemplateError::Yaml {
                path: "template".into(),
                source,
            })?;
        let root = yaml_to_json(yaml)?;
        if !root.get("Resources").is_some_and(Value::is_object) {
            return Err(TemplateError::Shape("no Resources mapping".into()));
        }
        Ok(Self { root })
    }

    /// The whole template as JSON (long-form intrinsics).
    #[must_use]
    pub fn root(&self) -> &Value {
        &self.root
    }

    /// Every resource: logical id → the resource object (`Type`, `Properties`, …).
    pub fn resources(&self) -> impl Iterator<Item = (&str, &Value)> {
        self.root["Resources"]
            .as_object()
            .into_iter()
            .flatten()
            .map(|(id, resource)| (id.as_str(), resource))
    }

    /// Logical ids and properties of the resources of one type.
    pub fn resources_of_type<'a>(
        &'a self,
        kind: &'a str,
    ) -> impl Iterator<Item = (&'a str, &'a Map<String, Value>)> + 'a {
        static EMPTY: std::sync::OnceLock<Map<String, Value>> = std::sync::OnceLock::new();
        self.resources()
            .filter(move |(_, r)| r["Type"] == kind)
            .map(|(id, r)| {
                (
                    id,
                    r["Properties"]
                        .as_object()
                        .unwrap_or_else(|| EMPTY.get_or_init(Map::new)),
                )
            })
    }

    /// Parameter defaults (as strings, the way CloudFormation passes them).
    #[must_use]
    pub fn parameter_defaults(&self) -> BTreeMap<String, String> {
        self.root["Parameters"]
            .as_object()
            .into_iter()
            .flatten()
            .filter_map(|(name, p)| scalar_string(&p["Default"]).map(|d| (name.clone(), d)))
            .collect()
    }

    /// Names of all parameters.
    #[must_use]
    pub fn parameter_names(&self) -> Vec<String> {
        self.root["Parameters"]
            .as_object()
            .map(|p| p.keys().cloned().collect())
            .unwrap_or_default()
    }

    /// Every `AWS::Serverless::Function`.
    ///
    /// # Errors
    /// A function has no `Metadata.BuildProperties.Binary`.
    pub fn functions(&self) -> Result<Vec<FunctionDef>, TemplateError> {
        let default_timeout = self.root["Globals"]["Function"]["Timeout"]
            .as_u64()
            .unwrap_or(3);
        let globals = self.root["Globals"]["Function"]["Environment"]["Variables"]
            .as_object()
            .cloned()
            .unwrap_or_default();
        self.resources()
            .filter(|(_, r)| r["Type"] == "AWS::Serverless::Function")
            .map(|(id, resource)| {
                let binary = resource["Metadata"]["BuildProperties"]["Binary"]
                    .as_str()
                    .ok_or_else(|| {
                        TemplateError::Shape(format!("{id} has no Metadata.BuildProperties.Binary"))
                    })?
                    .to_owned();
                let properties = &resource["Properties"];
                let mut environment = globals.clone();
                if let Some(own) = properties["Environment"]["Variables"].as_object() {
                    environment.extend(own.clone());
                }
                let events = properties["Events"]
                    .as_object()
                    .into_iter()
                    .flatten()
                    .map(|(name, event)| {
                        let def = EventDef {
                            kind: event["Type"].as_str().unwrap_or_default().to_owned(),
                            properties: event["Properties"]
                                .as_object()
                                .cloned()
                                .unwrap_or_default(),
                        };
                        (name.clone(), def)
                    })
                    .collect();
                Ok(FunctionDef {
                    logical_id: id.to_owned(),
                    binary,
                    environment,
                    events,
                    timeout: std::time::Duration::from_secs(
                        properties["Timeout"].as_u64().unwrap_or(default_timeout),
                    ),
                })
            })
            .collect()
    }

    /// Every `HttpApi` event of every function, as routes.
    ///
    /// # Errors
    /// As [`Template::functions`], or an `HttpApi` event with one of `Path` and `Method` (with
    /// neither, it is the API's [`DEFAULT_ROUTE`], as SAM makes it).
    pub fn http_routes(&self) -> Result<Vec<RouteDef>, TemplateError> {
        let mut routes = Vec::new();
        for function in self.functions()? {
            for (name, event) in &function.events {
                if event.kind != "HttpApi" {
                    continue;
                }
                let field = |key: &str| {
                    event
                        .properties
                        .get(key)
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                        .ok_or_else(|| {
                            TemplateError::Shape(format!(
                                "{}.{name} has no {key}",
                                function.logical_id
                            ))
                        })
                };
                let authorizer = self.route_authorizer(&function, &event.properties)?;
                let (method, path) = if event.properties.contains_key("Path")
                    || event.properties.contains_key("Method")
                {
                    (field("Method")?.to_ascii_uppercase(), field("Path")?)
                } else {
                    ("ANY".to_owned(), DEFAULT_ROUTE.to_owned())
                };
                routes.push(RouteDef {
                    method,
                    path,
                    binary: function.binary.clone(),
                    authorizer,
                });
            }
        }
        Ok(routes)
    }

    /// The authorizer of an `HttpApi` event: its own `Auth.Authorizer` (`NONE`: none), else its
    /// API's `Auth.DefaultAuthorizer`. Only Lambda authorizers on a function of this template,
    /// with payload format 2.0 and simple responses, are emulated; any other is an error.
    fn route_authorizer(
        &self,
        function: &FunctionDef,
        event: &Map<String, Value>,
    ) -> Result<Option<AuthorizerDef>, TemplateError> {
        let api_id = event.get("ApiId").and_then(|a| a["Ref"].as_str());
        let api = api_id.and_then(|id| {
            self.resources()
                .find(|(logical_id, _)| *logical_id == id)
                .map(|(_, api)| &api["Properties"]["Auth"])
        });
        let name = match (event.get("Auth").map(|a| &a["Authorizer"]), api) {
            (Some(Value::String(name)), _) => name.as_str(),
            (_, Some(auth)) => match auth["DefaultAuthorizer"].as_str() {
                Some(name) => name,
                None => return Ok(None),
            },
            _ => return Ok(None),
        };
        if name == "NONE" {
            return Ok(None);
        }
        let unsupported = |why: &str| {
            TemplateError::Shape(format!("{}: authorizer {name} {why}", function.logical_id))
        };
        let definition = api
            .map(|auth| &auth["Authorizers"][name])
            .filter(|d| d.is_object())
            .ok_or_else(|| unsupported("is not defined on the event's HttpApi"))?;
        if definition["AuthorizerPayloadFormatVersion"].as_str() != Some("2.0")
            || definition["EnableSimpleResponses"] != Value::Bool(true)
        {
            return Err(unsupported(
                "must use payload format 2.0 with simple responses to run locally",
            ));
        }
        let target = definition["FunctionArn"]["Fn::GetAtt"][0]
            .as_str()
            .ok_or_else(|| unsupported("needs FunctionArn: !GetAtt <Function>.Arn"))?;
        let binary = self
            .functions()?
            .into_iter()
            .find(|f| f.logical_id == target)
            .map(|f| f.binary)
            .ok_or_else(|| unsupported("names a function this template does not define"))?;
        let identity = &definition["Identity"];
        Ok(Some(AuthorizerDef {
            binary,
            identity_headers: identity["Headers"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(Value::as_str)
                .map(str::to_ascii_lowercase)
                .collect(),
            ttl: std::time::Duration::from_secs(identity["ReauthorizeEvery"].as_u64().unwrap_or(0)),
        }))
    }
}

/// A scalar as CloudFormation would pass it in a string context.
#[must_use]
pub fn scalar_string(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn yaml_to_json(value: serde_norway::Value) -> Result<Value, TemplateError> {
    use serde_norway::Value as Y;
    Ok(match value {
        Y::Null => Value::Null,
        Y::Bool(b) => Value::Bool(b),
        Y::Number(n) => {
            if let Some(i) = n.as_i64() {
                Value::from(i)
            } else if let Some(u) = n.as_u64() {
                Value::from(u)
            } else {
                n.as_f64().map_or(Value::Null, Value::from)
            }
        }
        Y::String(s) => Value::String(s),
        Y::Sequence(items) => Value::Array(
            items
                .into_iter()
                .map(yaml_to_json)
                .collect::<Result<_, _>>()?,
        ),
        Y::Mapping(mapping) => {
            let mut object = Map::new();
            for (key, value) in mapping {
                let key = match key {
                    Y::String(s) => s,
                    other => scalar_string(&yaml_to_json(other)?).ok_or_else(|| {
                        TemplateError::Shape("a mapping key is not a scalar".into())
                    })?,
                };
                object.insert(key, yaml_to_json(value)?);
            }
            Value::Object(object)
        }
        Y::Tagged(tagged) => {
            let tag = tagged.tag.to_string();
            let name = tag.trim_start_matches('!');
            let inner = yaml_to_json(tagged.value)?;
            let (key, inner) = match name {
                "Ref" => ("Ref".to_owned(), inner),
                "GetAtt" => {
                    let inner = match inner {
                        Value::String(s) => match s.split_once('.') {
                            Some((id, attr)) => Value::from(vec![id, attr]),
                            None => Value::String(s),
                        },
                        other => other,
                    };
                    ("Fn::GetAtt".to_owned(), inner)
                }
                other => (format!("Fn::{other}"), inner),
            };
            let mut object = Map::new();
            object.insert(key, inner);
            Value::Object(object)
        }
    })
}

#[cfg(test)]
#[path = "template_tests.rs"]
mod tests;
