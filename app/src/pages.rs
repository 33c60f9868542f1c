//! One module per page, each with its components and server functions.

pub mod admin_users;
pub mod analytics;
pub mod bases;
pub mod changes;
pub mod chat;
pub mod files;
pub mod home;
pub mod not_found;
pub mod session;
pub mod settings;
pub mod status;
pub mod workflows;
