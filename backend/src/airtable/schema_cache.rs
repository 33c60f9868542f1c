//! Base schemas, kept for a while so every tool call doesn't refetch them.
//!
//! Entries are keyed by token fingerprint and base, because two tokens may see different parts
//! of one base. Every schema write through the client drops the base's entries.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::model::airtable::{BaseId, BaseSchema};

type Key = (String, BaseId);
type Entries = HashMap<Key, (Arc<BaseSchema>, Instant)>;

/// A shared cache of base schemas with a time to live.
#[derive(Clone)]
pub struct SchemaCache {
    ttl: Duration,
    entries: Arc<Mutex<Entries>>,
}

impl SchemaCache {
    pub fn new(ttl: Duration) -> Self {
        Self { ttl, entries: Arc::new(Mutex::new(HashMap::new())) }
    }

    pub fn get(&self, token_key: &str, base: &BaseId) -> Option<Arc<BaseSchema>> {
        let entries = self.entries.lock().expect("schema cache lock");
        entries
            .get(&(token_key.to_owned(), base.clone()))
            .filter(|(_, fetched)| fetched.elapsed() < self.ttl)
            .map(|(schema, _)| Arc::clone(schema))
    }

    pub fn put(&self, token_key: &str, base: &BaseId, schema: Arc<BaseSchema>) {
        let mut entries = self.entries.lock().expect("schema cache lock");
        entries.retain(|_, (_, fetched)| fetched.elapsed() < self.ttl);
        entries.insert((token_key.to_owned(), base.clone()), (schema, Instant::now()));
    }

    /// Forgets `base` for every token, after its schema changed.
    pub fn invalidate(&self, base: &BaseId) {
        self.entries.lock().expect("schema cache lock").retain(|(_, cached), _| cached != base);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn base() -> BaseId {
        BaseId::parse("appAAAAAAAAAAAAAA").unwrap()
    }

    #[test]
    fn a_schema_write_drops_the_base_for_every_token() {
        let cache = SchemaCache::new(Duration::from_secs(60));
        cache.put("a", &base(), Arc::new(BaseSchema { tables: vec![] }));
        cache.put("b", &base(), Arc::new(BaseSchema { tables: vec![] }));
        assert!(cache.get("a", &base()).is_some());
        cache.invalidate(&base());
        assert!(cache.get("a", &base()).is_none());
        assert!(cache.get("b", &base()).is_none());
    }

    #[test]
    fn an_old_schema_is_fetched_again() {
        let cache = SchemaCache::new(Duration::ZERO);
        cache.put("a", &base(), Arc::new(BaseSchema { tables: vec![] }));
        assert!(cache.get("a", &base()).is_none());
    }
}
