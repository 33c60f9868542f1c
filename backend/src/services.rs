//! The services every request handler and server function reaches through context.

use secrecy::SecretString;

use crate::auth::Auth;
use crate::db::Db;
use crate::health::{DatabaseCheck, Health};

/// Shared, cheaply cloned handles to every backend service.
#[derive(Clone)]
pub struct Services {
    pub db: Db,
    pub health: Health,
    pub auth: Auth,
}

impl Services {
    /// Wires the services over an open, migrated database.
    pub fn new(db: Db, jwt_secret: &SecretString) -> Self {
        let health = Health::new().with_check(DatabaseCheck(db.clone()));
        let auth = Auth::new(db.clone(), jwt_secret);
        Self { db, health, auth }
    }
}
