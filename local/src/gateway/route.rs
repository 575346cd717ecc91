//! Route matching as API Gateway does it for an HTTP API: literal segments beat `{param}` beat
//! `{greedy+}`, an exact method beats `ANY`; path parameters are percent-decoded.

use crate::template::{DEFAULT_ROUTE, RouteDef};
use serde_json::{Map, Value};

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Literal(String),
    Param(String),
    Greedy(String),
}

/// A route, parsed for matching.
#[derive(Debug, Clone)]
pub struct Route {
    pub(super) def: RouteDef,
    segments: Vec<Segment>,
}

impl Route {
    #[must_use]
    pub fn new(def: RouteDef) -> Self {
        let segments = split(&def.path)
            .map(
                |segment| match segment.strip_prefix('{').and_then(|s| s.strip_suffix('}')) {
                    Some(name) => match name.strip_suffix('+') {
                        Some(greedy) => Segment::Greedy(greedy.to_owned()),
                        None => Segment::Param(name.to_owned()),
                    },
                    None => Segment::Literal(segment.to_owned()),
                },
            )
            .collect();
        Self { def, segments }
    }

    pub(super) fn route_key(&self) -> String {
        if self.is_default() {
            return DEFAULT_ROUTE.to_owned();
        }
        format!("{} {}", self.def.method, self.def.path)
    }

    fn is_default(&self) -> bool {
        self.def.path == DEFAULT_ROUTE
    }

    /// Path parameters when `path` matches this route's path (method aside).
    fn captures(&self, path: &str) -> Option<Map<String, Value>> {
        let parts: Vec<&str> = split(path).collect();
        let mut captures = Map::new();
        for (index, segment) in self.segments.iter().enumerate() {
            match segment {
                Segment::Literal(literal) => {
                    if parts.get(index) != Some(&literal.as_str()) {
                        return None;
                    }
                }
                Segment::Param(name) => {
                    let part = parts.get(index).filter(|p| !p.is_empty())?;
                    captures.insert(name.clone(), Value::String(percent_decode(part)));
                }
                Segment::Greedy(name) => {
                    let rest = parts.get(index..).filter(|r| !r.is_empty())?;
                    captures.insert(name.clone(), Value::String(percent_decode(&rest.join("/"))));
                    return Some(captures);
                }
            }
        }
        (parts.len() == self.segments.len()).then_some(captures)
    }

    /// Specificity, most specific highest: literal beats parameter beats greedy, segment by
    /// segment; an exact method beats `ANY`.
    fn rank(&self) -> (Vec<u8>, u8) {
        let segments = self
            .segments
            .iter()
            .map(|s| match s {
                Segment::Literal(_) => 2,
                Segment::Param(_) => 1,
                Segment::Greedy(_) => 0,
            })
            .collect();
        (segments, u8::from(self.def.method != "ANY"))
    }
}

fn split(path: &str) -> impl Iterator<Item = &str> {
    path.trim_start_matches('/').split('/')
}

/// The route API Gateway would choose for a request, and its path parameters: the most specific
/// that matches, else the `$default` route when there is one.
#[must_use]
pub fn find_route<'a>(
    routes: &'a [Route],
    method: &str,
    path: &str,
) -> Option<(&'a Route, Map<String, Value>)> {
    routes
        .iter()
        .filter(|r| !r.is_default())
        .filter(|r| r.def.method == method || r.def.method == "ANY")
        .filter_map(|r| r.captures(path).map(|c| (r, c)))
        .max_by(|(a, _), (b, _)| a.rank().cmp(&b.rank()))
        .or_else(|| {
            routes
                .iter()
                .find(|r| r.is_default())
                .map(|r| (r, Map::new()))
        })
}

pub(super) fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let hex = |i: usize| bytes.get(i).and_then(|b| char::from(*b).to_digit(16));
        match (bytes[index], hex(index + 1), hex(index + 2)) {
            (b'%', Some(high), Some(low)) => {
                out.push(u8::try_from(high * 16 + low).unwrap_or(b'?'));
                index += 3;
            }
            (byte, _, _) => {
                out.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}
