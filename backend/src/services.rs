//! The services every request handler and server function reaches through context.

use crate::db::Db;
use crate::health::{DatabaseCheck, Health};

/// Shared, cheaply cloned handles to every backend service.
#[derive(Clone)]
pub struct Services {
    pub db: Db,
    pub health: Health,
}

impl Services {
    /// Wires the services over an open, migrated database.
    pub fn new(db: Db) -> Self {
        let health = Health::new().with_check(DatabaseCheck(db.clone()));
        Self { db, health }
    }
}
