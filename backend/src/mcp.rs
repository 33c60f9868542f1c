//! The tool catalog over the Model Context Protocol: a handler shared by Streamable HTTP
//! (`/mcp`, one request at a time, the caller found by the router's bearer check) and stdio
//! (`pyairtable mcp`, the caller fixed at start from an API key).

pub mod sessions;

use std::sync::Arc;

use rmcp::model::{
    CallToolRequestParams, CallToolResponse, CallToolResult, ContentBlock, Implementation, JsonObject, ListToolsResult,
    PaginatedRequestParams, ServerCapabilities, ServerConfig, Tool, ToolAnnotations,
};
use rmcp::service::RequestContext;
use rmcp::transport::streamable_http_server::session::local::LocalSessionManager;
use rmcp::transport::{StreamableHttpServerConfig, StreamableHttpService};
use rmcp::{ErrorData, RoleServer, ServerHandler};
use serde_json::Value;

use crate::auth::Principal;
use crate::connections::Connections;
use crate::model::analytics::ToolSource;
use crate::model::tools::ToolInfo;
use crate::tools::{Catalog, ToolContext, ToolError};

/// Serves the catalog to one MCP client.
#[derive(Clone)]
pub struct McpHandler {
    catalog: Catalog,
    connections: Connections,
    /// Over stdio, the key's owner; over HTTP, `None`: each request carries its own caller.
    fixed: Option<Principal>,
}

impl McpHandler {
    /// For HTTP: every request's caller comes from the `Principal` the router put in it.
    pub fn per_request(catalog: Catalog, connections: Connections) -> Self {
        Self { catalog, connections, fixed: None }
    }

    /// For stdio: one caller for the whole session.
    pub fn for_principal(catalog: Catalog, connections: Connections, principal: Principal) -> Self {
        Self { catalog, connections, fixed: Some(principal) }
    }

    fn caller(&self, ctx: &RequestContext<RoleServer>) -> Result<Principal, ErrorData> {
        if let Some(principal) = &self.fixed {
            return Ok(principal.clone());
        }
        ctx.extensions
            .get::<http::request::Parts>()
            .and_then(|parts| parts.extensions.get::<Principal>())
            .cloned()
            .ok_or_else(|| ErrorData::invalid_request("Authenticate with Authorization: Bearer <API key>.", None))
    }
}

/// A catalog entry as MCP describes a tool.
fn mcp_tool(info: &ToolInfo) -> Tool {
    let schema: JsonObject = match &info.input_schema {
        Value::Object(map) => map.clone(),
        _ => JsonObject::new(),
    };
    let hints = info.annotations;
    Tool::new(info.name.clone(), info.description.clone(), Arc::new(schema))
        .with_title(info.title.clone())
        .with_annotations(
            ToolAnnotations::new()
                .read_only(hints.read_only_hint)
                .destructive(hints.destructive_hint)
                .idempotent(hints.idempotent_hint)
                .open_world(false),
        )
}

impl ServerHandler for McpHandler {
    fn get_info(&self) -> ServerConfig {
        ServerConfig::new(ServerCapabilities::builder().enable_tools().build())
            .with_server_info(Implementation::new("pyairtable", crate::VERSION))
            .with_instructions(
                "Tools for the user's Airtable bases (or their PyAirtable sandbox). Start with list_bases, then list_tables or describe_table; record tools take a base_id and a table name or ID.",
            )
    }

    async fn list_tools(&self, _: Option<PaginatedRequestParams>, ctx: RequestContext<RoleServer>) -> Result<ListToolsResult, ErrorData> {
        let principal = self.caller(&ctx)?;
        Ok(ListToolsResult::with_all_items(self.catalog.list(principal.scope()).into_iter().map(mcp_tool).collect()))
    }

    async fn call_tool(&self, request: CallToolRequestParams, ctx: RequestContext<RoleServer>) -> Result<CallToolResponse, ErrorData> {
        let principal = self.caller(&ctx)?;
        if self.catalog.info(&request.name).is_none() {
            return Err(ErrorData::invalid_params(ToolError::UnknownTool(request.name.to_string()).to_string(), None));
        }
        let connection = self.connections.for_user(&principal.user.id).await.map_err(|e| {
            tracing::error!(error = %e, "could not open a user's Airtable connection for MCP");
            ErrorData::internal_error(e.to_string(), None)
        })?;
        let arguments = request.arguments.map(Value::Object).unwrap_or(Value::Null);
        let context = ToolContext::new(connection.client, ToolSource::Mcp, Some(principal.user.id.to_string()));
        let result = match self.catalog.call(&context, principal.scope(), &request.name, arguments).await {
            Ok(value) => CallToolResult::success(vec![ContentBlock::text(value.to_string())]),
            // The model reads these and can correct its call.
            Err(e) => CallToolResult::error(vec![ContentBlock::text(e.to_string())]),
        };
        Ok(result.into())
    }
}

/// The Streamable HTTP service for `/mcp`. `allowed_hosts` guards against DNS rebinding and
/// `allowed_origins` against other sites' pages; requests without an `Origin` (scripts,
/// desktop clients) pass.
pub fn http_service(
    handler: McpHandler,
    allowed_hosts: Vec<String>,
    allowed_origins: Vec<String>,
) -> StreamableHttpService<McpHandler, LocalSessionManager> {
    let config = StreamableHttpServerConfig::default().with_allowed_hosts(allowed_hosts).with_allowed_origins(allowed_origins);
    StreamableHttpService::new(move || Ok(handler.clone()), Arc::new(LocalSessionManager::default()), config)
}
