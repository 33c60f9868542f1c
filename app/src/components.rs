//! Components shared by several pages.

pub mod budget_fields;
pub mod dialog;
pub mod download;
pub mod chart;
pub mod layout;
pub mod page_views;
pub mod loading;
pub mod numbers;
pub mod signed_in;
pub mod time;
