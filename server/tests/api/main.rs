//! Integration tests: the real app over HTTP on a random port, on SQLite and on PostgreSQL.

mod helpers;

mod account;
mod airtable;
mod auth;
mod binary;
mod connections;
mod health;
mod llm_settings;
mod migrations;
mod mcp;
mod observability;
mod pages;
mod tools;
