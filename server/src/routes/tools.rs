//! The tool catalog over plain HTTP, for scripts and to match the old platform:
//! `GET /api/tools` and `POST /api/execute-tool`.

use axum::Json;
use axum::extract::{Extension, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use backend::Services;
use backend::auth::Principal;
use backend::model::analytics::ToolSource;
use backend::tools::{ToolContext, ToolError};
use serde::Deserialize;
use serde_json::{Value, json};

fn signed_out() -> Response {
    (StatusCode::UNAUTHORIZED, Json(json!({ "error": "Sign in, or send Authorization: Bearer <API key>." }))).into_response()
}

/// `GET /api/tools`: the tools the caller may use (a read key sees only the read-only ones).
pub async fn list(State(services): State<Services>, principal: Option<Extension<Principal>>) -> Response {
    let Some(Extension(principal)) = principal else { return signed_out() };
    Json(json!({ "tools": services.tools.list(principal.scope()) })).into_response()
}

#[derive(Deserialize)]
pub struct Execute {
    tool_name: String,
    #[serde(default)]
    arguments: Value,
}

/// `POST /api/execute-tool` with `{tool_name, arguments}`: `{result, tool}`, or `{error, tool}`.
pub async fn execute(State(services): State<Services>, principal: Option<Extension<Principal>>, Json(call): Json<Execute>) -> Response {
    let Some(Extension(principal)) = principal else { return signed_out() };
    let connection = match services.connections.for_user(&principal.user.id).await {
        Ok(connection) => connection,
        Err(e) => {
            tracing::error!(error = %e, "could not open a user's Airtable connection for a tool");
            return (StatusCode::INTERNAL_SERVER_ERROR, Json(json!({ "error": e.to_string(), "tool": call.tool_name }))).into_response();
        }
    };
    let context = ToolContext { client: connection.client, source: ToolSource::Rest, user_id: Some(principal.user.id.to_string()) };
    match services.tools.call(&context, principal.scope(), &call.tool_name, call.arguments).await {
        Ok(result) => Json(json!({ "result": result, "tool": call.tool_name })).into_response(),
        Err(e) => {
            let status = match &e {
                ToolError::UnknownTool(_) => StatusCode::NOT_FOUND,
                ToolError::ReadOnly(_) => StatusCode::FORBIDDEN,
                e if e.is_caller_error() => StatusCode::UNPROCESSABLE_ENTITY,
                _ => StatusCode::BAD_GATEWAY,
            };
            (status, Json(json!({ "error": e.to_string(), "tool": call.tool_name }))).into_response()
        }
    }
}
