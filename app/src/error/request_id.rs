//! The ID of the request being answered, so that an internal error's answer can name it and
//! the administrator can find the logged detail under it.

use std::future::Future;

tokio::task_local! {
    static CURRENT: String;
}

/// Runs `answer` as the answer to the request `id`; the router wraps every request in this.
pub async fn scope<F: Future>(id: String, answer: F) -> F::Output {
    CURRENT.scope(id, answer).await
}

/// The ID of the request being answered, or `unknown` outside one (a background task).
pub fn current() -> String {
    CURRENT.try_with(Clone::clone).unwrap_or_else(|_| "unknown".into())
}
