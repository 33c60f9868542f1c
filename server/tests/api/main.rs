//! Integration tests: the real app over HTTP on a random port, on SQLite and on PostgreSQL.

mod helpers;
// Local servers that answer as the LLM providers' documented APIs do.
mod fake_gemini;
mod fake_openai;

mod account;
mod airtable;
mod analytics;
mod auth;
mod binary;
mod chat;
mod connections;
mod crash;
mod documents;
mod edge;
mod files;
mod imports;
mod health;
mod isolation;
mod llm_gemini;
mod llm_openai;
mod llm_outbound;
mod llm_settings;
mod migrations;
mod mcp;
mod observability;
mod pages;
mod registration;
mod sagas;
mod sandbox_security;
mod tools;
mod workflows;
