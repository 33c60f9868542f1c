//! Components shared by several pages.

pub mod dialog;
pub mod layout;
pub mod loading;
pub mod signed_in;
pub mod time;
