//! Components shared by several pages.

pub mod layout;
pub mod signed_in;
pub mod time;
