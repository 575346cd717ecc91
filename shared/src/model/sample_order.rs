//! The payload of the `order.received` sample events.

use serde::Serialize;

/// An order, as the sample events carry it (amounts in minor units: cents).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct OrderReceived {
    /// `ord_` and 12 characters.
    pub order_id: String,
    pub customer: Customer,
    #[schema(min_items = 1)]
    pub line_items: Vec<LineItem>,
    /// The sum of the line items' `quantity` × `unit_amount`.
    pub total: u64,
    /// ISO 4217.
    #[schema(pattern = "^[A-Z]{3}$")]
    pub currency: &'static str,
    /// `true`: made by the sample generator, not a real order.
    pub sample: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Customer {
    pub id: String,
    pub name: &'static str,
    pub email: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct LineItem {
    pub sku: &'static str,
    pub name: &'static str,
    #[schema(minimum = 1)]
    pub quantity: u32,
    /// Per unit, in minor units.
    pub unit_amount: u64,
}
