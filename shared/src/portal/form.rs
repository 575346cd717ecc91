//! A posted form (`application/x-www-form-urlencoded`), bounded in size.

use crate::api::error::ApiError;
use lambda_http::{Body, Request};

/// The largest form the portal reads.
pub const MAX_FORM_BYTES: usize = 64 * 1024;

/// A form's fields, in order (a name may repeat: checkboxes).
#[derive(Debug, Default, Clone)]
pub struct Form(Vec<(String, String)>);

impl Form {
    /// The form of a request; an empty form when it has no body.
    ///
    /// # Errors
    /// 413 over [`MAX_FORM_BYTES`]; 415 for another media type.
    pub fn read(request: &Request) -> Result<Self, ApiError> {
        let bytes: &[u8] = match request.body() {
            Body::Text(text) => text.as_bytes(),
            Body::Binary(bytes) => bytes,
            _ => &[],
        };
        if bytes.len() > MAX_FORM_BYTES {
            return Err(ApiError::PayloadTooLarge {
                limit: MAX_FORM_BYTES,
            });
        }
        let media_type = crate::http::header(request, "content-type")
            .and_then(|c| c.split(';').next())
            .map(|c| c.trim().to_ascii_lowercase());
        if !bytes.is_empty() && media_type.as_deref() != Some("application/x-www-form-urlencoded") {
            return Err(ApiError::UnsupportedMediaType);
        }
        Ok(Self::parse(bytes))
    }

    /// The fields of an encoded form.
    #[must_use]
    pub fn parse(bytes: &[u8]) -> Self {
        Self(
            url::form_urlencoded::parse(bytes)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// The first value of a field, trimmed; `""` when absent.
    #[must_use]
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.trim())
    }

    /// Every value of a field, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.trim())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_decoded_and_repeated_names_kept() {
        let form = Form::parse(
            b"url=https%3A%2F%2Fa.example%2Fh%3Fx%3D1&event_type=a.b&event_type=c.d&d=+x+",
        );
        assert_eq!(form.get("url"), "https://a.example/h?x=1");
        assert_eq!(form.all("event_type").collect::<Vec<_>>(), ["a.b", "c.d"]);
        assert_eq!(form.get("d"), "x");
        assert_eq!(form.get("missing"), "");
    }
}
