//! The tool catalog over plain HTTP, for scripts and to match the old platform:
//! `GET /api/tools` and `POST /api/execute-tool`.

use axum::Json;
use axum::extract::State;
use backend::Services;
use backend::model::analytics::ToolSource;
use backend::tools::ToolContext;
use serde::Deserialize;
use serde_json::{Value, json};

use super::edge::{ApiError, Caller};

/// `GET /api/tools`: the tools the caller may use (a read key sees only the read-only ones).
pub async fn list(State(services): State<Services>, Caller(principal): Caller) -> Json<Value> {
    Json(json!({ "tools": services.tools.list(principal.scope()) }))
}

#[derive(Deserialize)]
pub struct Execute {
    tool_name: String,
    #[serde(default)]
    arguments: Value,
}

/// `POST /api/execute-tool` with `{tool_name, arguments}`: `{result, tool}`, or `{error}` with
/// 404 for an unknown tool, 403 for a write with a read key, 422 for arguments to fix.
pub async fn execute(State(services): State<Services>, Caller(principal): Caller, Json(call): Json<Execute>) -> Result<Json<Value>, ApiError> {
    let connection = services.connections.for_user(&principal.user.id).await?;
    let context = ToolContext::new(connection.client, ToolSource::Rest, Some(principal.user.id.to_string()));
    let result = services.tools.call(&context, principal.scope(), &call.tool_name, call.arguments).await?;
    Ok(Json(json!({ "result": result, "tool": call.tool_name })))
}
