//! Browser sessions for tower-sessions, stored in the app's own database (SQLite or PostgreSQL).
//!
//! The official sqlx store still needs sqlx 0.8, so this implements its `SessionStore` over our pool.
//! The signed-in user's ID is copied out of the session data into `user_id`, so that a user's
//! sessions can be listed and ended, and deleting the user deletes them.
//!
//! A session ID is the cookie's secret, so the table keeps only its SHA-256, as it does for
//! refresh tokens and API keys: someone who reads the database can't sign in with what it holds.

use std::collections::HashMap;

use async_trait::async_trait;
use sqlx::FromRow;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{self, ExpiredDeletion, SessionStore};
use tower_sessions::cookie::time::OffsetDateTime;

use super::UserId;
use super::api_keys::hash_secret;
use crate::model::auth::SessionView;
use crate::clock::now_ms;
use crate::db::Db;

/// Session data key holding the signed-in user's ID.
pub const USER_ID_KEY: &str = "user_id";
/// Session data key holding when the session was last renewed, in unix milliseconds.
pub const SEEN_MS_KEY: &str = "seen_ms";
/// Session data key holding the browser's description of itself, shown in the session list.
pub const USER_AGENT_KEY: &str = "user_agent";

/// The sessions table, as a tower-sessions store.
#[derive(Clone, Debug)]
pub struct DbSessionStore {
    db: Db,
}

#[derive(FromRow)]
struct SessionRow {
    id: String,
    user_agent: String,
    created_ms: i64,
    expires_ms: i64,
}

/// The `sessions.id` stored for a session ID as the cookie carries it: its SHA-256 in hex.
pub fn stored_id(session_id: &str) -> String {
    hash_secret(session_id)
}

/// What the session list shows instead of a session ID, which is the cookie's secret: a short
/// one-way hash that identifies the session without letting anyone take it over.
pub fn session_handle(session_id: &str) -> String {
    handle_of(&stored_id(session_id))
}

fn handle_of(stored: &str) -> String {
    stored.chars().take(16).collect()
}

fn backend(e: sqlx::Error) -> session_store::Error {
    session_store::Error::Backend(e.to_string())
}

impl DbSessionStore {
    pub fn new(db: Db) -> Self {
        Self { db }
    }

    async fn insert(&self, record: &Record, upsert: bool) -> Result<(), sqlx::Error> {
        let data = serde_json::to_string(&record.data).unwrap_or_else(|_| "{}".into());
        let user_id = text_in(&record.data, USER_ID_KEY).and_then(|id| UserId::parse(&id));
        let user_agent = text_in(&record.data, USER_AGENT_KEY).unwrap_or_default();
        let expires_ms = record.expiry_date.unix_timestamp().saturating_mul(1000);
        let sql = if upsert {
            "INSERT INTO sessions (id, user_id, data, expires_ms, created_ms, user_agent) VALUES ($1, $2, $3, $4, $5, $6) \
             ON CONFLICT (id) DO UPDATE SET user_id = $2, data = $3, expires_ms = $4, user_agent = $6"
        } else {
            "INSERT INTO sessions (id, user_id, data, expires_ms, created_ms, user_agent) VALUES ($1, $2, $3, $4, $5, $6)"
        };
        sqlx::query(sql)
            .bind(stored_id(&record.id.to_string()))
            .bind(user_id.map(|id| id.as_str().to_owned()))
            .bind(data)
            .bind(expires_ms)
            .bind(now_ms())
            .bind(user_agent.chars().take(300).collect::<String>())
            .execute(self.db.pool())
            .await?;
        Ok(())
    }

    async fn rows_for_user(&self, user: &UserId) -> Result<Vec<SessionRow>, sqlx::Error> {
        sqlx::query_as(
            "SELECT id, user_agent, created_ms, expires_ms FROM sessions \
             WHERE user_id = $1 AND expires_ms > $2 ORDER BY created_ms DESC",
        )
        .bind(user.as_str())
        .bind(now_ms())
        .fetch_all(self.db.pool())
        .await
    }

    /// The user's sessions that have not expired, newest first; `current`, the caller's own
    /// session ID as the cookie holds it, marks theirs.
    ///
    /// # Errors
    /// `sqlx::Error` when the database fails.
    pub async fn list_for_user(&self, user: &UserId, current: Option<&str>) -> Result<Vec<SessionView>, sqlx::Error> {
        let current = current.map(stored_id);
        Ok(self
            .rows_for_user(user)
            .await?
            .into_iter()
            .map(|row| SessionView {
                handle: handle_of(&row.id),
                current: current.as_deref() == Some(row.id.as_str()),
                user_agent: row.user_agent,
                created_ms: row.created_ms,
                expires_ms: row.expires_ms,
            })
            .collect())
    }

    /// Ends the user's session known by `handle`; returns false when they have no such session.
    ///
    /// # Errors
    /// `sqlx::Error` when the database fails.
    pub async fn end_for_user(&self, user: &UserId, handle: &str) -> Result<bool, sqlx::Error> {
        let Some(row) = self.rows_for_user(user).await?.into_iter().find(|row| handle_of(&row.id) == handle) else {
            return Ok(false);
        };
        let done = sqlx::query("DELETE FROM sessions WHERE id = $1 AND user_id = $2")
            .bind(&row.id)
            .bind(user.as_str())
            .execute(self.db.pool())
            .await?;
        Ok(done.rows_affected() > 0)
    }
}

fn text_in(data: &HashMap<String, serde_json::Value>, key: &str) -> Option<String> {
    data.get(key).and_then(|v| v.as_str()).map(str::to_owned)
}

#[async_trait]
impl SessionStore for DbSessionStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        loop {
            match self.insert(record, false).await {
                Ok(()) => return Ok(()),
                // A random 128-bit ID collided: draw another.
                Err(sqlx::Error::Database(e)) if e.is_unique_violation() => record.id = Id::default(),
                Err(e) => return Err(backend(e)),
            }
        }
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.insert(record, true).await.map_err(backend)
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        let row: Option<(String, i64)> =
            sqlx::query_as("SELECT data, expires_ms FROM sessions WHERE id = $1 AND expires_ms > $2")
                .bind(stored_id(&id.to_string()))
                .bind(now_ms())
                .fetch_optional(self.db.pool())
                .await
                .map_err(backend)?;
        let Some((data, expires_ms)) = row else { return Ok(None) };
        let data = serde_json::from_str(&data).map_err(|e| session_store::Error::Decode(e.to_string()))?;
        let expiry_date = OffsetDateTime::from_unix_timestamp(expires_ms / 1000)
            .map_err(|e| session_store::Error::Decode(e.to_string()))?;
        Ok(Some(Record { id: *id, data, expiry_date }))
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE id = $1")
            .bind(stored_id(&id.to_string()))
            .execute(self.db.pool())
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[async_trait]
impl ExpiredDeletion for DbSessionStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        sqlx::query("DELETE FROM sessions WHERE expires_ms <= $1")
            .bind(now_ms())
            .execute(self.db.pool())
            .await
            .map_err(backend)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn store() -> (tempfile::TempDir, DbSessionStore) {
        let (dir, db) = crate::db::migrated_test_db().await;
        (dir, DbSessionStore::new(db))
    }

    fn record(expiry: OffsetDateTime) -> Record {
        let mut data = HashMap::new();
        data.insert("greeting".to_owned(), serde_json::json!("hello"));
        Record { id: Id::default(), data, expiry_date: expiry }
    }

    #[tokio::test]
    async fn a_saved_session_loads_back_until_it_expires() {
        let (_dir, store) = store().await;
        let mut live = record(OffsetDateTime::now_utc() + tower_sessions::cookie::time::Duration::hours(1));
        store.create(&mut live).await.unwrap();
        let loaded = store.load(&live.id).await.unwrap().unwrap();
        assert_eq!(loaded.data, live.data);

        let mut stale = record(OffsetDateTime::now_utc() - tower_sessions::cookie::time::Duration::hours(1));
        store.create(&mut stale).await.unwrap();
        assert!(store.load(&stale.id).await.unwrap().is_none());
        store.delete_expired().await.unwrap();
        assert!(store.load(&live.id).await.unwrap().is_some());
    }

    #[tokio::test]
    async fn the_table_holds_a_hash_of_the_session_id_not_the_id() {
        let (_dir, store) = store().await;
        let mut live = record(OffsetDateTime::now_utc() + tower_sessions::cookie::time::Duration::hours(1));
        store.create(&mut live).await.unwrap();
        let ids: Vec<String> = sqlx::query_scalar("SELECT id FROM sessions").fetch_all(store.db.pool()).await.unwrap();
        assert_eq!(ids, [stored_id(&live.id.to_string())]);
        assert_ne!(ids[0], live.id.to_string());
        store.delete(&live.id).await.unwrap();
        assert!(store.load(&live.id).await.unwrap().is_none());
    }
}
