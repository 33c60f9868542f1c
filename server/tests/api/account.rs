//! What a user manages about their own account: browser sessions, deleting the account, and
//! secrets stored only hashed or sealed. (Another user's objects staying out of reach:
//! isolation.rs.)

use backend::model::auth::{Scope, SessionView};
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, on_both_databases};

const PASSWORD: &str = "correct horse battery";

impl TestApp {
    /// Signs in as a browser would and returns the session cookie.
    async fn browser_session(&self, email: &str, user_agent: &str) -> String {
        let response = self
            .client
            .post(self.url("/api/session/login"))
            .header("user-agent", user_agent)
            .form(&[("email", email), ("password", PASSWORD)])
            .send()
            .await
            .unwrap();
        let cookie = response.headers().get("set-cookie").expect("a session cookie").to_str().unwrap();
        cookie.split(';').next().unwrap().to_owned()
    }

    /// A same-origin request with a session cookie, as the browser sends server-function calls.
    async fn as_browser(&self, cookie: &str, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client.post(self.url(path)).header("cookie", cookie).header("origin", self.address.clone()).form(form).send().await.unwrap()
    }
}

async fn a_user_lists_their_sessions_and_signs_one_out(app: TestApp) {
    app.services.auth.users.create("ada@example.com", PASSWORD, false).await.unwrap();
    let laptop = app.browser_session("ada@example.com", "Mozilla/5.0 (X11; Linux x86_64) Chrome/140.0").await;
    let phone = app.browser_session("ada@example.com", "Mozilla/5.0 (iPhone) Safari/605.1").await;

    let listed = app.as_browser(&laptop, "/api/sessions/list", &[]).await;
    assert_eq!(listed.status(), StatusCode::OK);
    let text = listed.text().await.unwrap();
    for cookie in [&laptop, &phone] {
        let session_id = cookie.split('=').nth(1).unwrap();
        assert!(!text.contains(session_id), "session IDs are the cookie's secret and are never listed");
    }
    let sessions: Vec<SessionView> = serde_json::from_str(&text).unwrap();
    assert_eq!(sessions.len(), 2);
    assert_eq!(sessions.iter().filter(|s| s.current).count(), 1);
    let other = sessions.iter().find(|s| !s.current).unwrap();
    assert!(other.user_agent.contains("iPhone"));

    let revoked = app.as_browser(&laptop, "/api/sessions/revoke", &[("handle", &other.handle)]).await;
    assert_eq!(revoked.status(), StatusCode::OK);
    let signed_out = app.as_browser(&phone, "/api/sessions/list", &[]).await;
    assert_eq!(signed_out.status(), StatusCode::UNAUTHORIZED);
    let again = app.as_browser(&laptop, "/api/sessions/revoke", &[("handle", &other.handle)]).await;
    assert_eq!(again.status(), StatusCode::NOT_FOUND);
}

async fn deleting_an_account_takes_everything_it_owns(app: TestApp) {
    let ada = app.services.auth.users.create("ada@example.com", PASSWORD, false).await.unwrap();
    let bob = app.services.auth.users.create("bob@example.com", PASSWORD, false).await.unwrap();
    app.services.sandbox.provision(&ada.id).await.unwrap();
    app.services.sandbox.provision(&bob.id).await.unwrap();
    let key = app.services.auth.api_keys.create(&ada.id, "script", Scope::Write).await.unwrap().key;
    let upload = app.uploaded(&key, "notes.txt", b"Ada's notes".to_vec()).await;
    let bytes = app.db.dir().join("files").join(&upload.id);
    assert!(bytes.exists(), "the upload is on disk at {}", bytes.display());
    let gemini = backend::llm::LlmChoice {
        provider: backend::model::llm::LlmProvider::Gemini,
        model: String::new(),
        base_url: String::new(),
        api_key: secrecy::SecretString::from("AIzaSy-ada-0000".to_owned()),
    };
    app.services.llm_settings.save(&ada.id, &gemini).await.unwrap();
    let cookie = app.browser_session("ada@example.com", "test").await;

    let wrong = app.as_browser(&cookie, "/api/account/delete", &[("password", "not my password")]).await;
    assert_eq!(wrong.status(), StatusCode::UNAUTHORIZED);
    let deleted = app.as_browser(&cookie, "/api/account/delete", &[("password", PASSWORD)]).await;
    assert!(deleted.status().is_success() || deleted.status().is_redirection(), "{}", deleted.status());

    assert!(!bytes.exists(), "an uploaded file's bytes go with the account");
    let pool = app.services.db.pool();
    for (table, column) in [
        ("users", "id"),
        ("sessions", "user_id"),
        ("api_keys", "user_id"),
        ("sandbox_tokens", "user_id"),
        ("sandbox_bases", "user_id"),
        ("llm_settings", "user_id"),
        ("files", "user_id"),
    ]
    {
        let sql = format!("SELECT COUNT(*) FROM {table} WHERE {column} = $1");
        let (left,): (i64,) = sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(ada.id.as_str()).fetch_one(pool).await.unwrap();
        assert_eq!(left, 0, "{table} still holds rows of the deleted user");
    }
    let (bob_bases,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM sandbox_bases WHERE user_id = $1").bind(bob.id.as_str()).fetch_one(pool).await.unwrap();
    assert_eq!(bob_bases, 1, "another user's data stays");
    let (records,): (i64,) = sqlx::query_as(
        "SELECT COUNT(*) FROM sandbox_records r JOIN sandbox_tables t ON t.id = r.table_id JOIN sandbox_bases b ON b.id = t.base_id WHERE b.user_id = $1",
    )
    .bind(bob.id.as_str())
    .fetch_one(pool)
    .await
    .unwrap();
    assert!(records >= 100);
    let (orphans,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM sandbox_records r LEFT JOIN sandbox_tables t ON t.id = r.table_id WHERE t.id IS NULL")
        .fetch_one(pool)
        .await
        .unwrap();
    assert_eq!(orphans, 0);
}

/// Secrets are stored only as hashes or sealed: the database holds no API key, sandbox token
/// or Airtable token in clear.
async fn no_secret_is_stored_in_clear(app: TestApp) {
    let ada = app.services.auth.users.create("ada@example.com", PASSWORD, false).await.unwrap();
    let key = app.services.auth.api_keys.create(&ada.id, "script", Scope::Read).await.unwrap();
    let token = app.services.sandbox.provision(&ada.id).await.unwrap();
    let token = secrecy::ExposeSecret::expose_secret(&token).to_owned();
    let refresh = app.token_pair("ada@example.com", PASSWORD).await["refresh_token"].as_str().unwrap().to_owned();

    let pool = app.services.db.pool();
    let mut stored = String::new();
    for (table, columns) in [
        ("users", "password_hash"),
        ("api_keys", "key_hash || ' ' || prefix"),
        ("refresh_tokens", "token_hash"),
        ("sandbox_tokens", "token_hash || ' ' || token_sealed"),
    ] {
        let sql = format!("SELECT {columns} FROM {table}");
        let rows: Vec<(String,)> = sqlx::query_as(sqlx::AssertSqlSafe(sql)).fetch_all(pool).await.unwrap();
        stored.extend(rows.into_iter().map(|(text,)| text + "\n"));
    }
    for secret in [key.key.as_str(), &key.key[key.prefix.len()..], token.as_str(), &token[18..], refresh.as_str(), PASSWORD] {
        assert!(!stored.contains(secret), "a secret is stored in clear");
    }
}

on_both_databases!(
    a_user_lists_their_sessions_and_signs_one_out,
    deleting_an_account_takes_everything_it_owns,
    no_secret_is_stored_in_clear,
    the_sessions_table_holds_no_cookie_value,
    a_session_in_use_is_renewed_for_another_week,
    wrong_current_passwords_are_throttled,
);

/// Someone who reads the database must not be able to sign in with what it holds.
async fn the_sessions_table_holds_no_cookie_value(app: TestApp) {
    app.services.auth.users.create("ada@example.com", PASSWORD, false).await.unwrap();
    let cookie = app.browser_session("ada@example.com", "test").await;
    let session_id = cookie.split_once('=').unwrap().1.to_owned();
    let stored: Vec<(String, String)> = sqlx::query_as("SELECT id, data FROM sessions").fetch_all(app.services.db.pool()).await.unwrap();
    assert_eq!(stored.len(), 1);
    assert!(!stored[0].0.contains(&session_id) && !stored[0].1.contains(&session_id));
    assert_eq!(stored[0].0, backend::auth::api_keys::hash_secret(&session_id));
    // The cookie still signs in, and signing out removes the row.
    assert_eq!(app.as_browser(&cookie, "/api/sessions/list", &[]).await.status(), StatusCode::OK);
    app.as_browser(&cookie, "/api/session/logout", &[]).await;
    let (left,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM sessions").fetch_one(app.services.db.pool()).await.unwrap();
    assert_eq!(left, 0);
}

/// A week of inactivity, not a week after sign-in: tower-sessions saves only changed sessions,
/// so a session used every day still ended seven days after it began.
async fn a_session_in_use_is_renewed_for_another_week(app: TestApp) {
    app.services.auth.users.create("ada@example.com", PASSWORD, false).await.unwrap();
    let cookie = app.browser_session("ada@example.com", "test").await;
    let pool = app.services.db.pool();
    // Six days and some hours later: the session was last renewed long ago and ends soon.
    let (id, data): (String, String) = sqlx::query_as("SELECT id, data FROM sessions").fetch_one(pool).await.unwrap();
    let mut data: serde_json::Map<String, Value> = serde_json::from_str(&data).unwrap();
    data.insert(backend::auth::session_store::SEEN_MS_KEY.into(), json!(0));
    let soon = backend::clock::now_ms() + 60_000;
    sqlx::query("UPDATE sessions SET data = $1, expires_ms = $2 WHERE id = $3")
        .bind(Value::Object(data).to_string())
        .bind(soon)
        .bind(&id)
        .execute(pool)
        .await
        .unwrap();
    assert_eq!(app.as_browser(&cookie, "/api/sessions/list", &[]).await.status(), StatusCode::OK);
    let (expires_ms,): (i64,) = sqlx::query_as("SELECT expires_ms FROM sessions WHERE id = $1").bind(&id).fetch_one(pool).await.unwrap();
    assert!(expires_ms > backend::clock::now_ms() + 6 * 24 * 3600 * 1000, "the session was not renewed");
}

/// Changing the password and deleting the account check the current password: without a
/// throttle, a stolen session could guess it at full speed.
async fn wrong_current_passwords_are_throttled(app: TestApp) {
    app.services.auth.users.create("ada@example.com", PASSWORD, false).await.unwrap();
    let access = app.access_token("ada@example.com", PASSWORD).await;
    let change = |current: &'static str| {
        let form = [("current_password", current), ("new_password", "a brand new password")];
        app.client.post(app.url("/api/account/password")).bearer_auth(&access).form(&form).send()
    };
    let mut statuses = Vec::new();
    for _ in 0..8 {
        statuses.push(change("not my password").await.unwrap().status());
    }
    assert_eq!(statuses[0], StatusCode::UNAUTHORIZED);
    assert_eq!(statuses.last(), Some(&StatusCode::TOO_MANY_REQUESTS), "{statuses:?}");
    let locked = change(PASSWORD).await.unwrap();
    assert_eq!(locked.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(locked.headers().contains_key("retry-after"));
    let delete = app.client.post(app.url("/api/account/delete")).bearer_auth(&access).form(&[("password", "not my password")]).send().await.unwrap();
    assert_eq!(delete.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(app.services.auth.users.id_for_email("ada@example.com").await.unwrap().is_some());
}

/// A fresh data folder and its SQLite file are readable by the server's user only.
#[cfg(unix)]
#[tokio::test]
async fn a_fresh_data_folder_and_database_are_private() {
    use std::os::unix::fs::PermissionsExt;
    let db = crate::helpers::TestDatabase::new(backend::db::Dialect::Sqlite).await;
    let data_dir = db.dir().join("fresh").join("data");
    let mut settings = crate::helpers::test_settings(&db);
    settings.data_dir = Some(data_dir.clone());
    settings.database_url = None;
    let config = server::config::Config::from_settings(settings).unwrap();
    let app = server::startup::Application::build(&config).await.unwrap();
    let mode = |path: std::path::PathBuf| std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(data_dir.clone()), 0o700);
    assert_eq!(mode(data_dir.join("pyairtable.db")), 0o600);
    assert_eq!(mode(data_dir.join("jwt_secret")), 0o600);
    drop(app);
}
