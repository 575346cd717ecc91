//! The named schemas of the document: each request and response type's, registered with every
//! schema it names.

use crate::api::wire::PageOut;
use std::collections::BTreeMap;
use utoipa::openapi::{Ref, RefOr, Schema};
use utoipa::{PartialSchema, ToSchema};

/// The named schemas the document's operations refer to.
pub type Schemas = BTreeMap<String, RefOr<Schema>>;

/// A reference to `T`'s schema, registering it and every schema it names.
pub fn schema<T: ToSchema>(schemas: &mut Schemas) -> RefOr<Schema> {
    let mut named = vec![(T::name().into_owned(), T::schema())];
    T::schemas(&mut named);
    schemas.extend(named);
    RefOr::Ref(Ref::from_schema_name(T::name()))
}

/// A page of `T`, inline, registering `T`.
pub fn page<T: ToSchema>(schemas: &mut Schemas) -> RefOr<Schema> {
    schema::<T>(schemas);
    PageOut::<T>::schema()
}
