//! A user's own Airtable token: checked live, stored sealed, shown by its last four characters,
//! and used for their calls instead of the sandbox. "Airtable" here is a second app's sandbox,
//! which speaks Airtable's Web API over HTTP.

use backend::db::Dialect;
use backend::model::airtable::{ConnectionKind, ConnectionView};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{spawn_app, spawn_app_with};

const PASSWORD: &str = "correct horse battery";

async fn a_saved_token_is_checked_sealed_and_used_for_the_users_calls(dialect: Dialect) {
    // The stand-in for api.airtable.com, and a real token on it.
    let airtable = spawn_app(Dialect::Sqlite).await;
    let owner = airtable.services.auth.users.create("owner@example.com", PASSWORD, false).await.unwrap();
    let real_token = airtable.services.sandbox.provision(&owner.id).await.unwrap();
    let real_token = secrecy::ExposeSecret::expose_secret(&real_token).to_owned();
    let their_base = airtable.services.connections.for_user(&owner.id).await.unwrap().client.list_bases().await.unwrap()[0].id.clone();

    let app = spawn_app_with(dialect, |s| s.airtable_api_url = Some(airtable.url("/sandbox"))).await;
    let user = app.services.auth.users.create("ada@example.com", PASSWORD, false).await.unwrap();
    let bearer = app.access_token("ada@example.com", PASSWORD).await;
    let connect = |token: &str| {
        app.client.post(app.url("/api/airtable/connect")).bearer_auth(&bearer).form(&[("token", token)]).send()
    };

    let malformed = connect("hello").await.unwrap();
    assert_eq!(malformed.status(), StatusCode::BAD_REQUEST);
    let refused = connect("patAAAAAAAAAAAAAA.0000000000000000000000000000000000000000000000000000000000000000").await.unwrap();
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    assert!(refused.text().await.unwrap().contains("Settings"));

    let saved = connect(&real_token).await.unwrap();
    assert_eq!(saved.status(), StatusCode::OK);
    let body = saved.text().await.unwrap();
    assert!(!body.contains(&real_token), "the token never comes back");
    let view: ConnectionView = serde_json::from_str(&body).unwrap();
    assert_eq!(view.kind, ConnectionKind::Airtable);
    assert_eq!(view.token_last4.as_deref(), Some(&real_token[real_token.len() - 4..]));

    let (sealed,): (String,) = sqlx::query_as("SELECT token_sealed FROM airtable_tokens").fetch_one(app.services.db.pool()).await.unwrap();
    assert!(!sealed.contains(&real_token) && !sealed.contains(&real_token[3..20]));

    let connection = app.services.connections.for_user(&user.id).await.unwrap();
    assert_eq!(connection.kind, ConnectionKind::Airtable);
    assert_eq!(connection.client.list_bases().await.unwrap()[0].id, their_base);
    let credentials: Value =
        app.client.post(app.url("/api/sandbox/credentials")).bearer_auth(&bearer).json(&json!({})).send().await.unwrap().json().await.unwrap();
    let sandbox_bases = credentials["base_ids"].as_array().unwrap();
    assert_eq!(sandbox_bases.len(), 1, "the user's own sandbox, not their Airtable bases");
    assert_ne!(sandbox_bases[0], json!(their_base));

    let removed: ConnectionView = app
        .client
        .post(app.url("/api/airtable/disconnect"))
        .bearer_auth(&bearer)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(removed.kind, ConnectionKind::Sandbox);
    assert_eq!(app.services.connections.for_user(&user.id).await.unwrap().kind, ConnectionKind::Sandbox);
}

#[tokio::test]
async fn a_saved_token_is_checked_sealed_and_used_on_sqlite() {
    a_saved_token_is_checked_sealed_and_used_for_the_users_calls(Dialect::Sqlite).await;
}

#[tokio::test]
async fn a_saved_token_is_checked_sealed_and_used_on_postgres() {
    a_saved_token_is_checked_sealed_and_used_for_the_users_calls(Dialect::Postgres).await;
}

/// `POST /api/sandbox/credentials` points any Airtable client at the caller's sandbox.
#[tokio::test]
async fn sandbox_credentials_name_the_endpoint_the_token_and_the_bases() {
    let app = spawn_app(Dialect::Sqlite).await;
    app.services.auth.users.create("ada@example.com", PASSWORD, false).await.unwrap();
    let bearer = app.access_token("ada@example.com", PASSWORD).await;
    let credentials: Value =
        app.client.post(app.url("/api/sandbox/credentials")).bearer_auth(&bearer).json(&json!({})).send().await.unwrap().json().await.unwrap();
    assert_eq!(credentials["endpoint_url"], app.url("/sandbox"));
    assert_eq!(credentials["base_ids"].as_array().unwrap().len(), 1);
    let bases: Value = app
        .client
        .get(format!("{}/v0/meta/bases", credentials["endpoint_url"].as_str().unwrap()))
        .bearer_auth(credentials["token"].as_str().unwrap())
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(bases["bases"][0]["id"], credentials["base_ids"][0]);
    let anonymous = app.client.post(app.url("/api/sandbox/credentials")).json(&json!({})).send().await.unwrap();
    assert_eq!(anonymous.status(), StatusCode::UNAUTHORIZED);
}
