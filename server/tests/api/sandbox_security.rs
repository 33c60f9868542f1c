//! The sandbox's defences, over HTTP: who may get and keep a sandbox token, hostile text in
//! time zones and dates, formulas too costly to evaluate, and one user's requests never
//! spending another's rate limit.

use backend::model::auth::Scope;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, on_both_databases};

const PASSWORD: &str = "correct horse battery";

/// Keeps a run of requests to one base under its 5 per second, so none meets a 429.
async fn pace() {
    tokio::time::sleep(std::time::Duration::from_millis(250)).await;
}

impl TestApp {
    /// The caller's sandbox credentials, as `POST /api/sandbox/credentials` gives them.
    async fn sandbox_credentials(&self, bearer: &str) -> reqwest::Response {
        self.client.post(self.url("/api/sandbox/credentials")).bearer_auth(bearer).json(&json!({})).send().await.unwrap()
    }

    /// The sandbox token and first base of a new user, and their access token.
    async fn sandbox_owner(&self, email: &str) -> (String, String, String) {
        self.services.auth.users.create(email, PASSWORD, false).await.unwrap();
        let access = self.access_token(email, PASSWORD).await;
        let credentials: Value = self.sandbox_credentials(&access).await.json().await.unwrap();
        let token = credentials["token"].as_str().unwrap().to_owned();
        let base = credentials["base_ids"][0].as_str().unwrap().to_owned();
        (access, token, base)
    }

    async fn sandbox_get(&self, token: &str, path: &str) -> reqwest::Response {
        self.client.get(self.url(&format!("/sandbox/v0{path}"))).bearer_auth(token).send().await.unwrap()
    }

    async fn sandbox_send(&self, method: reqwest::Method, token: &str, path: &str, body: Value) -> reqwest::Response {
        self.client.request(method, self.url(&format!("/sandbox/v0{path}"))).bearer_auth(token).json(&body).send().await.unwrap()
    }

    /// A base of the caller's with one table, `Items`, of the given fields.
    async fn items_base(&self, token: &str, fields: Value) -> String {
        let body = json!({ "name": "Scratch", "workspaceId": "wspSANDBOX", "tables": [{ "name": "Items", "fields": fields }] });
        let created: Value = self.sandbox_send(reqwest::Method::POST, token, "/meta/bases", body).await.json().await.unwrap();
        created["id"].as_str().unwrap_or_else(|| panic!("a base: {created}")).to_owned()
    }
}

async fn error_type(response: reqwest::Response) -> String {
    let body: Value = response.json().await.unwrap();
    body["error"]["type"].as_str().or(body["error"].as_str()).unwrap_or_else(|| panic!("an Airtable error: {body}")).to_owned()
}

async fn a_read_only_key_gets_no_sandbox_token(app: TestApp) {
    let ada = app.services.auth.users.create("ada@example.com", PASSWORD, false).await.unwrap();
    let token = app.services.sandbox.provision(&ada.id).await.unwrap();
    let token = secrecy::ExposeSecret::expose_secret(&token).to_owned();
    let read = app.services.auth.api_keys.create(&ada.id, "reader", Scope::Read).await.unwrap();

    let refused = app.sandbox_credentials(&read.key).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let body = refused.text().await.unwrap();
    assert!(!body.contains(&token), "the token is not handed out");
    assert!(body.contains("read-only"), "{body}");
    let empty: [(&str, &str); 0] = [];
    let rotate = app.client.post(app.url("/api/sandbox/rotate")).bearer_auth(&read.key).form(&empty).send().await.unwrap();
    assert_eq!(rotate.status(), StatusCode::FORBIDDEN);

    let write = app.services.auth.api_keys.create(&ada.id, "writer", Scope::Write).await.unwrap();
    let granted: Value = app.sandbox_credentials(&write.key).await.json().await.unwrap();
    assert_eq!(granted["token"], json!(token));
}

async fn a_rotated_sandbox_token_stops_working_and_the_new_one_works(app: TestApp) {
    let (access, old, base) = app.sandbox_owner("ada@example.com").await;
    assert_eq!(app.sandbox_get(&old, &format!("/{base}/Tasks?maxRecords=1")).await.status(), StatusCode::OK);

    let empty: [(&str, &str); 0] = [];
    let rotated = app.client.post(app.url("/api/sandbox/rotate")).bearer_auth(&access).form(&empty).send().await.unwrap();
    assert_eq!(rotated.status(), StatusCode::OK);
    let refused = app.sandbox_get(&old, "/meta/bases").await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);

    let credentials: Value = app.sandbox_credentials(&access).await.json().await.unwrap();
    let new = credentials["token"].as_str().unwrap();
    assert_ne!(new, old);
    assert_eq!(credentials["base_ids"][0], json!(base), "the same sandbox, with its data");
    assert_eq!(app.sandbox_get(new, &format!("/{base}/Tasks?maxRecords=1")).await.status(), StatusCode::OK);
}

async fn a_password_change_retires_the_sandbox_token(app: TestApp) {
    let (access, old, _) = app.sandbox_owner("ada@example.com").await;
    let changed = app
        .client
        .post(app.url("/api/account/password"))
        .bearer_auth(&access)
        .form(&[("current_password", PASSWORD), ("new_password", "a brand new passphrase")])
        .send()
        .await
        .unwrap();
    assert_eq!(changed.status(), StatusCode::OK, "{}", changed.text().await.unwrap());
    assert_eq!(app.sandbox_get(&old, "/meta/bases").await.status(), StatusCode::UNAUTHORIZED);
}

async fn revoking_the_key_that_fetched_the_sandbox_token_retires_the_token(app: TestApp) {
    let (access, _, _) = app.sandbox_owner("ada@example.com").await;
    let created = app.post_as(&access, "/api/keys/create", json!({ "name": "script", "scope": "write" })).await;
    let key = created["key"].as_str().unwrap();
    let credentials: Value = app.sandbox_credentials(key).await.json().await.unwrap();
    let fetched = credentials["token"].as_str().unwrap().to_owned();
    assert_eq!(app.sandbox_get(&fetched, "/meta/bases").await.status(), StatusCode::OK);
    app.post_as(&access, "/api/keys/revoke", json!({ "id": created["id"] })).await;
    assert_eq!(app.sandbox_get(&fetched, "/meta/bases").await.status(), StatusCode::UNAUTHORIZED);
}

async fn a_non_ascii_time_zone_or_date_is_refused_not_a_crash(app: TestApp) {
    let (_, token, base) = app.sandbox_owner("ada@example.com").await;
    let listing = app.sandbox_get(&token, &format!("/{base}/Tasks?cellFormat=string&userLocale=en&timeZone=%2B1%C3%A91")).await;
    assert_eq!(listing.status(), StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(error_type(listing).await, "INVALID_REQUEST_UNKNOWN");

    let items = app.items_base(&token, json!([{ "name": "Name", "type": "singleLineText" }, { "name": "At", "type": "dateTime" }, { "name": "Day", "type": "date" }])).await;
    for (field, text) in [("At", "2024-03-14T10:00+1é1"), ("At", "2024-03-14T10:00:00.é"), ("Day", "2024-03-1é"), ("Day", "2024-03-14T10:00+1é1")] {
        for typecast in [false, true] {
            pace().await;
            let body = json!({ "records": [{ "fields": { field: text } }], "typecast": typecast });
            let written = app.sandbox_send(reqwest::Method::POST, &token, &format!("/{items}/Items"), body).await;
            assert_eq!(written.status(), StatusCode::UNPROCESSABLE_ENTITY, "{field} = {text}");
            assert_eq!(error_type(written).await, "INVALID_VALUE_FOR_COLUMN");
        }
    }
    // The sandbox still answers on the same connection pool.
    assert_eq!(app.sandbox_get(&token, "/meta/bases").await.status(), StatusCode::OK);
}

async fn a_formula_too_costly_to_evaluate_is_refused(app: TestApp) {
    let (_, token, base) = app.sandbox_owner("ada@example.com").await;
    let costly = vec!["LEN(REPT('a',1000000))>0"; 1_000].join(", ");
    let costly = format!("AND({costly})");
    let refused = app.sandbox_send(reqwest::Method::POST, &token, &format!("/{base}/Tasks/listRecords"), json!({ "filterByFormula": costly })).await;
    assert_eq!(refused.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let body: Value = refused.json().await.unwrap();
    assert_eq!(body["error"]["type"], "INVALID_FILTER_BY_FORMULA");
    assert!(body["error"]["message"].as_str().unwrap().contains("too complex"), "{body}");

    // A formula of normal cost still filters, and a field-valued pattern still matches.
    let items = app.items_base(&token, json!([{ "name": "Name", "type": "singleLineText" }, { "name": "Pattern", "type": "singleLineText" }])).await;
    let records = json!({ "records": [
        { "fields": { "Name": "apple", "Pattern": "^a.+e$" } },
        { "fields": { "Name": "banana", "Pattern": "^a" } },
        { "fields": { "Name": "cherry", "Pattern": "rr" } },
    ] });
    assert_eq!(app.sandbox_send(reqwest::Method::POST, &token, &format!("/{items}/Items"), records).await.status(), StatusCode::OK);
    let names = |body: Value| {
        let mut names: Vec<String> = body["records"].as_array().unwrap().iter().map(|r| r["fields"]["Name"].as_str().unwrap().to_owned()).collect();
        names.sort();
        names
    };
    let by_pattern = app.sandbox_send(reqwest::Method::POST, &token, &format!("/{items}/Items/listRecords"), json!({ "filterByFormula": "REGEX_MATCH({Name}, {Pattern})" })).await;
    assert_eq!(by_pattern.status(), StatusCode::OK);
    assert_eq!(names(by_pattern.json().await.unwrap()), ["apple", "cherry"]);
    let normal = app.sandbox_send(reqwest::Method::POST, &token, &format!("/{items}/Items/listRecords"), json!({ "filterByFormula": "LEN({Name}) = 6" })).await;
    assert_eq!(names(normal.json().await.unwrap()), ["banana", "cherry"]);
}

async fn another_users_requests_do_not_spend_a_bases_rate_limit(app: TestApp) {
    let (_, ada, ada_base) = app.sandbox_owner("ada@example.com").await;
    let (_, bob, _) = app.sandbox_owner("bob@example.com").await;
    for _ in 0..12 {
        let sneaky = app.sandbox_get(&bob, &format!("/{ada_base}/Tasks?maxRecords=1")).await;
        assert_eq!(sneaky.status(), StatusCode::FORBIDDEN);
    }
    let own = app.sandbox_get(&ada, &format!("/{ada_base}/Tasks?maxRecords=1")).await;
    assert_eq!(own.status(), StatusCode::OK, "Bob's requests did not count against Ada's base");
}

async fn malformed_or_oversized_write_bodies_get_airtable_errors(app: TestApp) {
    let (_, token, base) = app.sandbox_owner("ada@example.com").await;
    let path = format!("/{base}/Tasks");
    let send = |method: reqwest::Method, body: Vec<u8>| {
        app.client.request(method, app.url(&format!("/sandbox/v0{path}"))).bearer_auth(&token).header("content-type", "application/json").body(body).send()
    };
    for (method, body) in [
        (reqwest::Method::POST, b"{not json".to_vec()),
        (reqwest::Method::POST, b"[]".to_vec()),
        (reqwest::Method::POST, br#"{"records": "x"}"#.to_vec()),
        (reqwest::Method::POST, br#"{"records": []}"#.to_vec()),
        (reqwest::Method::POST, br#"{"records": [{"fields": []}]}"#.to_vec()),
        (reqwest::Method::PATCH, br#"{"records": [{"fields": {}}]}"#.to_vec()),
        (reqwest::Method::PATCH, br#"{"records": []}"#.to_vec()),
        (reqwest::Method::PUT, b"\xff\xfe".to_vec()),
        (reqwest::Method::POST, serde_json::to_vec(&json!({ "records": vec![json!({ "fields": {} }); 11] })).unwrap()),
        (reqwest::Method::POST, format!(r#"{{"fields": {{"Name": "{}"}}}}"#, "x".repeat(3 << 20)).into_bytes()),
    ] {
        pace().await;
        let answer = send(method.clone(), body.clone()).await.unwrap();
        let status = answer.status();
        assert!(status.is_client_error() && status != StatusCode::TOO_MANY_REQUESTS, "{method} {} answered {status}", String::from_utf8_lossy(&body[..body.len().min(60)]));
        error_type(answer).await;
    }
    pace().await;
    let single = app.client.patch(app.url(&format!("/sandbox/v0{path}/recAAAAAAAAAAAAAA"))).bearer_auth(&token).json(&json!({ "fields": {} })).send().await.unwrap();
    assert_eq!(single.status(), StatusCode::NOT_FOUND);
    error_type(single).await;
    pace().await;
    let deleted = app.client.delete(app.url(&format!("/sandbox/v0{path}?records[]=recAAAAAAAAAAAAAA"))).bearer_auth(&token).send().await.unwrap();
    assert!(deleted.status().is_client_error());
    error_type(deleted).await;
}

on_both_databases!(
    a_read_only_key_gets_no_sandbox_token,
    a_rotated_sandbox_token_stops_working_and_the_new_one_works,
    a_password_change_retires_the_sandbox_token,
    revoking_the_key_that_fetched_the_sandbox_token_retires_the_token,
    a_non_ascii_time_zone_or_date_is_refused_not_a_crash,
    a_formula_too_costly_to_evaluate_is_refused,
    another_users_requests_do_not_spend_a_bases_rate_limit,
    malformed_or_oversized_write_bodies_get_airtable_errors,
);
