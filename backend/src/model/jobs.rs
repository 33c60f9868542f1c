//! The background job queue's figures, as `/status` shows them.

use serde::{Deserialize, Serialize};

/// The queue's figures, for `/api/health`, `/metrics` and `/status`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct QueueStats {
    /// Jobs waiting for a worker (due now).
    pub waiting: u64,
    pub running: u64,
    /// Jobs whose last attempt failed (some will still be retried).
    pub failed: u64,
    /// How long the oldest waiting job has waited, in whole seconds.
    pub oldest_waiting_s: Option<u64>,
    /// Whether this instance's workers are running.
    pub workers_alive: bool,
}
