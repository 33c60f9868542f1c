//! Who may register (`PYAIRTABLE_REGISTRATION`: open, invite or closed), invitation links,
//! and password resets by a one-time link from an administrator. (The command line's reset
//! link: binary.rs.)

use backend::db::Dialect;
use reqwest::StatusCode;
use serde_json::{Value, json};

use crate::helpers::{TestApp, on_both_databases, spawn_app_with};

const PASSWORD: &str = "correct horse battery";

impl TestApp {
    /// The registration form, posted as a script would.
    async fn register(&self, email: &str, invite: Option<&str>) -> reqwest::Response {
        let mut form = vec![("email", email), ("password", PASSWORD)];
        form.extend(invite.map(|invite| ("invite", invite)));
        self.client.post(self.url("/api/session/register")).form(&form).send().await.unwrap()
    }

    /// An administrator made with the command line's function, signed in with a token.
    async fn admin_token(&self) -> String {
        self.services.auth.users.create("root@example.com", PASSWORD, true).await.unwrap();
        self.access_token("root@example.com", PASSWORD).await
    }

    async fn user_count(&self) -> i64 {
        sqlx::query_scalar("SELECT COUNT(*) FROM users").fetch_one(self.services.db.pool()).await.unwrap()
    }
}

/// The secret a one-time link carries in its `parameter`.
fn secret_of(link: &Value, parameter: &str) -> String {
    let url = url::Url::parse(link["url"].as_str().unwrap()).unwrap();
    url.query_pairs().find(|(name, _)| name == parameter).map(|(_, value)| value.into_owned()).unwrap()
}

/// A server function's error, whatever shape its body takes.
async fn error_of(response: reqwest::Response) -> String {
    response.text().await.unwrap()
}

async fn by_invitation_only_an_invited_person_registers_and_each_link_works_once(dialect: Dialect) {
    let app = spawn_app_with(dialect, |s| s.registration = Some("invite".into())).await;
    let root = app.admin_token().await;

    let uninvited = app.register("eve@example.com", None).await;
    assert_eq!(uninvited.status(), StatusCode::FORBIDDEN);
    assert!(error_of(uninvited).await.contains("by invitation"));
    let forged = app.register("eve@example.com", Some("not-a-real-invitation")).await;
    assert_eq!(forged.status(), StatusCode::BAD_REQUEST);

    let link = app.post_as(&root, "/api/admin/invites/create", json!({})).await;
    let invite = secret_of(&link, "invite");
    assert!(link["url"].as_str().unwrap().starts_with(&format!("{}/register?invite=", app.address)), "{link}");
    let listed = app.post_as(&root, "/api/admin/invites/list", json!({})).await;
    assert_eq!(listed.as_array().unwrap().len(), 1);
    assert!(!listed.to_string().contains(&invite), "the list never shows a link's secret");

    let weak = app.client.post(app.url("/api/session/register")).form(&[("email", "ada@example.com"), ("password", "short"), ("invite", &invite)]).send().await.unwrap();
    assert_eq!(weak.status(), StatusCode::BAD_REQUEST);
    let invited = app.register("ada@example.com", Some(&invite)).await;
    assert!(invited.status().is_success() || invited.status().is_redirection(), "{}", invited.status());
    let ada = app.services.auth.users.authenticate("ada@example.com", PASSWORD).await.unwrap();
    assert!(!ada.is_admin, "an invitation makes a user, not an administrator");

    let again = app.register("mallory@example.com", Some(&invite)).await;
    assert_eq!(again.status(), StatusCode::BAD_REQUEST);
    assert!(error_of(again).await.contains("not valid"));
    assert_eq!(app.post_as(&root, "/api/admin/invites/list", json!({})).await, json!([]), "a used invitation is no longer waiting");

    // A withdrawn invitation no longer works.
    let withdrawn = secret_of(&app.post_as(&root, "/api/admin/invites/create", json!({})).await, "invite");
    let id = app.post_as(&root, "/api/admin/invites/list", json!({})).await[0]["id"].as_str().unwrap().to_owned();
    app.post_as(&root, "/api/admin/invites/revoke", json!({ "id": id })).await;
    assert_eq!(app.register("late@example.com", Some(&withdrawn)).await.status(), StatusCode::BAD_REQUEST);
    assert_eq!(app.user_count().await, 2);
}

async fn closed_registration_refuses_everyone_even_with_an_invitation(dialect: Dialect) {
    let app = spawn_app_with(dialect, |s| s.registration = Some("closed".into())).await;
    let root = app.admin_token().await;
    let invite = secret_of(&app.post_as(&root, "/api/admin/invites/create", json!({})).await, "invite");
    for attempt in [None, Some(invite.as_str())] {
        let refused = app.register("eve@example.com", attempt).await;
        assert_eq!(refused.status(), StatusCode::FORBIDDEN);
        assert!(error_of(refused).await.contains("doesn't take sign-ups"));
    }
    let mode: Value = app.client.post(app.url("/api/session/registration")).json(&json!({})).send().await.unwrap().json().await.unwrap();
    assert_eq!(mode, "closed");
    assert_eq!(app.user_count().await, 1);
}

async fn a_reset_link_sets_the_password_once_and_signs_the_account_out(dialect: Dialect) {
    let app = spawn_app_with(dialect, |_| {}).await;
    let root = app.admin_token().await;
    let ada = app.services.auth.users.create("ada@example.com", PASSWORD, false).await.unwrap();
    let before = app.token_pair("ada@example.com", PASSWORD).await;

    let first = app.post_as(&root, "/api/admin/users/reset-link", json!({ "id": ada.id.as_str() })).await;
    let link = app.post_as(&root, "/api/admin/users/reset-link", json!({ "id": ada.id.as_str() })).await;
    assert!(link["url"].as_str().unwrap().starts_with(&format!("{}/reset-password?token=", app.address)), "{link}");
    let (stale, token) = (secret_of(&first, "token"), secret_of(&link, "token"));
    let reset = |token: String, password: &'static str| {
        app.client.post(app.url("/api/session/reset-password")).form(&[("token", token.as_str()), ("password", password)]).send()
    };
    assert_eq!(reset(stale, "a brand new password").await.unwrap().status(), StatusCode::BAD_REQUEST, "a newer link replaces the older one");
    assert_eq!(reset(token.clone(), "short").await.unwrap().status(), StatusCode::BAD_REQUEST);

    let done = reset(token.clone(), "a brand new password").await.unwrap();
    assert!(done.status().is_success() || done.status().is_redirection(), "{}", done.status());
    assert_eq!(done.headers()["location"], "/login?reset=done");
    assert!(app.services.auth.users.authenticate("ada@example.com", "a brand new password").await.is_ok());
    assert!(app.services.auth.users.authenticate("ada@example.com", PASSWORD).await.is_err());
    let refresh = app.client.post(app.url("/api/auth/refresh")).json(&json!({ "refresh_token": before["refresh_token"] })).send().await.unwrap();
    assert_eq!(refresh.status(), StatusCode::UNAUTHORIZED, "tokens from before the reset are revoked");
    assert_eq!(reset(token, "another new password").await.unwrap().status(), StatusCode::BAD_REQUEST, "a link works once");
}

on_both_databases!(
    dialect:
    by_invitation_only_an_invited_person_registers_and_each_link_works_once,
    closed_registration_refuses_everyone_even_with_an_invitation,
    a_reset_link_sets_the_password_once_and_signs_the_account_out,
);
