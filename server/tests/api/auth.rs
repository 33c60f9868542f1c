//! Accounts over the HTTP API: tokens, refresh rotation, API keys, throttling, isolation, CSRF.

use backend::model::auth::{ApiKeyInfo, NewApiKey, TokenPair};
use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{TestApp, on_both_databases, spawn_app_with};

const PASSWORD: &str = "correct horse battery";

on_both_databases!(
    a_wrong_password_gets_401_without_saying_which_part_was_wrong,
    repeated_failures_are_throttled_with_429,
    a_tampered_or_expired_access_token_gets_401,
    reusing_a_rotated_refresh_token_revokes_the_family,
    an_api_key_works_until_revoked_and_a_read_key_can_not_write,
    one_user_can_not_touch_another_users_keys,
    a_disabled_user_is_locked_out_at_once,
    cookie_mutations_from_another_origin_are_refused,
    only_an_admin_lists_and_disables_users,
    an_oversized_body_is_refused_before_any_server_function_reads_it,
    simultaneous_first_registrations_make_exactly_one_admin,
    a_registration_flood_from_one_address_is_refused_and_the_server_keeps_answering,
    a_log_in_never_redirects_to_another_site,
    a_log_in_or_registration_from_another_site_is_refused_without_a_cookie,
    without_trusted_proxies_x_forwarded_for_is_ignored,
    concurrent_guesses_are_throttled_before_they_are_checked,
);

/// A throttle test's app, trusting the loopback address as a reverse proxy.
async fn behind_a_proxy(dialect: backend::db::Dialect) -> TestApp {
    spawn_app_with(dialect, |s| s.trusted_proxies = Some("127.0.0.1/32, ::1".into())).await
}

mod failures_from_one_forwarded_address_do_not_lock_out_another {
    #[tokio::test]
    async fn on_sqlite() {
        super::failures_from_one_forwarded_address_do_not_lock_out_another(super::behind_a_proxy(backend::db::Dialect::Sqlite).await).await;
    }
    #[tokio::test]
    async fn on_postgres() {
        super::failures_from_one_forwarded_address_do_not_lock_out_another(super::behind_a_proxy(backend::db::Dialect::Postgres).await).await;
    }
}

impl TestApp {
    async fn post_json(&self, path: &str, bearer: Option<&str>, body: serde_json::Value) -> reqwest::Response {
        let mut request = self.client.post(self.url(path)).json(&body);
        if let Some(token) = bearer {
            request = request.bearer_auth(token);
        }
        request.send().await.expect("the request is answered")
    }

    /// `POST /api/auth/token` as a proxy would forward it for `client`.
    async fn token_via(&self, client: &str, email: &str, password: &str) -> reqwest::Response {
        self.client
            .post(self.url("/api/auth/token"))
            .header("x-forwarded-for", client)
            .json(&json!({"email": email, "password": password}))
            .send()
            .await
            .expect("the request is answered")
    }

    /// Posts a form as a browser on `origin` would.
    async fn form_from(&self, origin: &str, path: &str, form: &[(&str, &str)]) -> reqwest::Response {
        self.client.post(self.url(path)).header("origin", origin).form(form).send().await.expect("the request is answered")
    }

    async fn user(&self, email: &str) -> backend::auth::User {
        self.services.auth.users.create(email, PASSWORD, false).await.unwrap()
    }

    async fn tokens(&self, email: &str) -> TokenPair {
        let response = self.post_json("/api/auth/token", None, json!({"email": email, "password": PASSWORD})).await;
        assert_eq!(response.status(), StatusCode::OK);
        response.json().await.unwrap()
    }
}

async fn a_wrong_password_gets_401_without_saying_which_part_was_wrong(app: TestApp) {
    app.user("ada@example.com").await;
    let wrong_password = app
        .post_json("/api/auth/token", None, json!({"email": "ada@example.com", "password": "not the password"}))
        .await;
    assert_eq!(wrong_password.status(), StatusCode::UNAUTHORIZED);
    let unknown_email = app
        .post_json("/api/auth/token", None, json!({"email": "nobody@example.com", "password": PASSWORD}))
        .await;
    assert_eq!(unknown_email.status(), StatusCode::UNAUTHORIZED);
    assert_eq!(wrong_password.text().await.unwrap(), unknown_email.text().await.unwrap());

    let pair = app.tokens("ada@example.com").await;
    assert_eq!(pair.token_type, "Bearer");
    assert_eq!(pair.expires_in, 900);
}

async fn repeated_failures_are_throttled_with_429(app: TestApp) {
    app.user("ada@example.com").await;
    let attempt = |password: &'static str| {
        app.post_json("/api/auth/token", None, json!({"email": "ada@example.com", "password": password}))
    };
    for _ in 0..4 {
        assert_eq!(attempt("not the password").await.status(), StatusCode::UNAUTHORIZED);
    }
    let throttled = attempt(PASSWORD).await;
    assert_eq!(throttled.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(throttled.headers().contains_key("retry-after"));
    let body = throttled.text().await.unwrap();
    assert!(body.contains("retry_after_s"), "{body}");
}

async fn a_tampered_or_expired_access_token_gets_401(app: TestApp) {
    let user = app.user("ada@example.com").await;
    let pair = app.tokens("ada@example.com").await;
    let ok = app.post_json("/api/keys/list", Some(&pair.access_token), json!({})).await;
    assert_eq!(ok.status(), StatusCode::OK);

    let mut tampered = pair.access_token.clone();
    let last = tampered.pop().unwrap();
    tampered.push(if last == 'A' { 'B' } else { 'A' });
    let refused = app.post_json("/api/keys/list", Some(&tampered), json!({})).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    assert!(refused.headers()["www-authenticate"].to_str().unwrap().starts_with("Bearer"));

    let secret = std::fs::read_to_string(app.db.dir().join("jwt_secret")).unwrap();
    let long_ago = jsonwebtoken::get_current_timestamp() - 3600;
    let expired = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &json!({"sub": user.id.to_string(), "iat": long_ago - 900, "exp": long_ago, "typ": "access"}),
        &jsonwebtoken::EncodingKey::from_secret(secret.trim().as_bytes()),
    )
    .unwrap();
    let refused = app.post_json("/api/keys/list", Some(&expired), json!({})).await;
    assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
}

async fn reusing_a_rotated_refresh_token_revokes_the_family(app: TestApp) {
    app.user("ada@example.com").await;
    let first = app.tokens("ada@example.com").await;
    let second = app.post_json("/api/auth/refresh", None, json!({"refresh_token": first.refresh_token})).await;
    assert_eq!(second.status(), StatusCode::OK);
    let second: TokenPair = second.json().await.unwrap();
    assert_ne!(second.refresh_token, first.refresh_token);

    let reuse = app.post_json("/api/auth/refresh", None, json!({"refresh_token": first.refresh_token})).await;
    assert_eq!(reuse.status(), StatusCode::UNAUTHORIZED);
    let after = app.post_json("/api/auth/refresh", None, json!({"refresh_token": second.refresh_token})).await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED, "the newer token of the family is revoked too");

    let third = app.tokens("ada@example.com").await;
    let logout = app.post_json("/api/auth/logout", None, json!({"refresh_token": third.refresh_token})).await;
    assert_eq!(logout.status(), StatusCode::OK);
    let revoked = app.post_json("/api/auth/refresh", None, json!({"refresh_token": third.refresh_token})).await;
    assert_eq!(revoked.status(), StatusCode::UNAUTHORIZED);
}

async fn an_api_key_works_until_revoked_and_a_read_key_can_not_write(app: TestApp) {
    app.user("ada@example.com").await;
    let access = app.tokens("ada@example.com").await.access_token;
    let created = app.post_json("/api/keys/create", Some(&access), json!({"name": "script", "scope": "read"})).await;
    assert_eq!(created.status(), StatusCode::OK);
    let key: NewApiKey = created.json().await.unwrap();
    assert!(key.key.starts_with("pyat_"));

    let listed = app.post_json("/api/keys/list", Some(&key.key), json!({})).await;
    assert_eq!(listed.status(), StatusCode::OK);
    let listed: Vec<ApiKeyInfo> = listed.json().await.unwrap();
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].prefix, key.prefix);
    assert!(!serde_json::to_string(&listed).unwrap().contains(&key.key), "a listing never shows the secret");

    let write = app.post_json("/api/keys/create", Some(&key.key), json!({"name": "more", "scope": "write"})).await;
    assert_eq!(write.status(), StatusCode::FORBIDDEN);

    let revoked = app.post_json("/api/keys/revoke", Some(&access), json!({"id": key.id})).await;
    assert_eq!(revoked.status(), StatusCode::OK);
    let after = app.post_json("/api/keys/list", Some(&key.key), json!({})).await;
    assert_eq!(after.status(), StatusCode::UNAUTHORIZED);
}

async fn one_user_can_not_touch_another_users_keys(app: TestApp) {
    app.user("ada@example.com").await;
    app.user("bob@example.com").await;
    let ada = app.tokens("ada@example.com").await.access_token;
    let bob = app.tokens("bob@example.com").await.access_token;
    let key: NewApiKey = app
        .post_json("/api/keys/create", Some(&ada), json!({"name": "ada's", "scope": "write"}))
        .await
        .json()
        .await
        .unwrap();

    let bobs: Vec<ApiKeyInfo> = app.post_json("/api/keys/list", Some(&bob), json!({})).await.json().await.unwrap();
    assert!(bobs.is_empty());
    let stolen = app.post_json("/api/keys/revoke", Some(&bob), json!({"id": key.id})).await;
    assert_eq!(stolen.status(), StatusCode::NOT_FOUND);
    let still: Vec<ApiKeyInfo> = app.post_json("/api/keys/list", Some(&ada), json!({})).await.json().await.unwrap();
    assert_eq!(still.len(), 1);

    let signed_out = app.post_json("/api/keys/list", None, json!({})).await;
    assert_eq!(signed_out.status(), StatusCode::UNAUTHORIZED);
}

async fn a_disabled_user_is_locked_out_at_once(app: TestApp) {
    let user = app.user("ada@example.com").await;
    let pair = app.tokens("ada@example.com").await;
    let key: NewApiKey = app
        .post_json("/api/keys/create", Some(&pair.access_token), json!({"name": "k", "scope": "write"}))
        .await
        .json()
        .await
        .unwrap();
    app.services.auth.users.set_disabled(&user.id, true).await.unwrap();
    for credential in [&pair.access_token, &key.key] {
        let refused = app.post_json("/api/keys/list", Some(credential), json!({})).await;
        assert_eq!(refused.status(), StatusCode::UNAUTHORIZED);
    }
    let refresh = app.post_json("/api/auth/refresh", None, json!({"refresh_token": pair.refresh_token})).await;
    assert_eq!(refresh.status(), StatusCode::UNAUTHORIZED);
    let login = app.post_json("/api/auth/token", None, json!({"email": "ada@example.com", "password": PASSWORD})).await;
    assert_eq!(login.status(), StatusCode::FORBIDDEN);
}

async fn cookie_mutations_from_another_origin_are_refused(app: TestApp) {
    let response = app
        .client
        .post(app.url("/api/keys/list"))
        .header("cookie", "pyairtable_session=anything")
        .header("origin", "https://evil.example")
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::FORBIDDEN);
    let same_site = app
        .client
        .post(app.url("/api/keys/list"))
        .header("cookie", "pyairtable_session=anything")
        .header("origin", app.address.clone())
        .json(&json!({}))
        .send()
        .await
        .unwrap();
    assert_eq!(same_site.status(), StatusCode::UNAUTHORIZED, "same origin passes the check, then needs a sign-in");
}

async fn only_an_admin_lists_and_disables_users(app: TestApp) {
    let admin = app.user("admin@example.com").await;
    assert!(admin.is_admin, "the first account is the admin");
    let bob = app.user("bob@example.com").await;
    let admin_token = app.tokens("admin@example.com").await.access_token;
    let bob_token = app.tokens("bob@example.com").await.access_token;

    let refused = app.post_json("/api/admin/users/list", Some(&bob_token), json!({})).await;
    assert_eq!(refused.status(), StatusCode::FORBIDDEN);
    let listed: Vec<backend::model::auth::UserView> =
        app.post_json("/api/admin/users/list", Some(&admin_token), json!({})).await.json().await.unwrap();
    assert_eq!(listed.iter().map(|u| u.email.as_str()).collect::<Vec<_>>(), ["admin@example.com", "bob@example.com"]);

    let itself = app
        .post_json("/api/admin/users/set-disabled", Some(&admin_token), json!({"id": admin.id.to_string(), "disabled": true}))
        .await;
    assert_eq!(itself.status(), StatusCode::BAD_REQUEST);
    let by_bob = app
        .post_json("/api/admin/users/set-disabled", Some(&bob_token), json!({"id": admin.id.to_string(), "disabled": true}))
        .await;
    assert_eq!(by_bob.status(), StatusCode::FORBIDDEN);

    let disabled = app
        .post_json("/api/admin/users/set-disabled", Some(&admin_token), json!({"id": bob.id.to_string(), "disabled": true}))
        .await;
    assert_eq!(disabled.status(), StatusCode::OK);
    let locked_out = app.post_json("/api/keys/list", Some(&bob_token), json!({})).await;
    assert_eq!(locked_out.status(), StatusCode::UNAUTHORIZED);

    let enabled = app
        .post_json("/api/admin/users/set-disabled", Some(&admin_token), json!({"id": bob.id.to_string(), "disabled": false}))
        .await;
    assert_eq!(enabled.status(), StatusCode::OK);
    assert_eq!(app.post_json("/api/keys/list", Some(&bob_token), json!({})).await.status(), StatusCode::OK);
}

/// Server functions read the raw body, so only the router's limit stands between them and a
/// body of any size.
async fn an_oversized_body_is_refused_before_any_server_function_reads_it(app: TestApp) {
    app.user("ada@example.com").await;
    let access = app.tokens("ada@example.com").await.access_token;
    let huge = "x".repeat(server::routes::SERVER_FN_BODY_LIMIT + 1);
    let body = json!({"base_id": "appAAAAAAAAAAAAAA", "table": "Tasks", "fields": {"Name": huge}});
    let response = app.post_json("/api/records/create", Some(&access), body).await;
    assert_eq!(response.status(), StatusCode::PAYLOAD_TOO_LARGE);
    // An ordinary call still works.
    assert_eq!(app.post_json("/api/keys/list", Some(&access), json!({})).await.status(), StatusCode::OK);
}

/// Eight people register at the same moment on a fresh installation: one of them is the admin.
async fn simultaneous_first_registrations_make_exactly_one_admin(app: TestApp) {
    let users = &app.services.auth.users;
    let emails: Vec<String> = (0..8).map(|i| format!("first{i}@example.com")).collect();
    let created = futures::future::join_all(emails.iter().map(|email| users.create(email, PASSWORD, false))).await;
    let admins = created.into_iter().map(Result::unwrap).filter(|u| u.is_admin).count();
    assert_eq!(admins, 1);
    // Later registrations are not admins.
    assert!(!app.user("later@example.com").await.is_admin);
}

/// Two hundred sign-ups at once from one address once took the server to 4 GB: each hashes a
/// password in 19 MiB. Now most are refused before hashing, and the server keeps answering.
async fn a_registration_flood_from_one_address_is_refused_and_the_server_keeps_answering(app: TestApp) {
    let attempts = (0..60).map(|i| {
        let email = format!("flood{i}@example.com");
        let request = app.client.post(app.url("/api/session/register")).form(&[("email", email.as_str()), ("password", PASSWORD)]);
        async move { request.send().await.expect("the request is answered") }
    });
    let responses = futures::future::join_all(attempts).await;
    let refused: Vec<_> = responses
        .iter()
        .filter(|r| matches!(r.status(), StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE))
        .collect();
    assert!(refused.len() >= 30, "only {} of 60 sign-ups were refused", refused.len());
    assert!(refused.iter().all(|r| r.headers().contains_key("retry-after")));
    assert!(responses.iter().all(|r| r.status() != StatusCode::INTERNAL_SERVER_ERROR));
    let (created,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM users").fetch_one(app.services.db.pool()).await.unwrap();
    assert!(created <= 30, "{created} accounts were created");
    assert_eq!(app.get("/api/health").await.status(), StatusCode::OK);
}

/// Browsers drop tabs and newlines from a URL, so `/\t/evil.example` led to `//evil.example`.
async fn a_log_in_never_redirects_to_another_site(app: TestApp) {
    app.user("ada@example.com").await;
    for next in ["/\t/evil.example", "//evil.example", "/\\evil.example", "https://evil.example", "/%2F%2Fevil.example", "/\r\nx: y", "/caf\u{e9}"] {
        let response = app
            .form_from(&app.address, "/api/session/login", &[("email", "ada@example.com"), ("password", PASSWORD), ("next", next)])
            .await;
        assert!(response.status().is_success() || response.status().is_redirection(), "{next:?}: {}", response.status());
        assert_eq!(response.headers()["location"], "/", "{next:?}");
    }
    let response = app
        .form_from(&app.address, "/api/session/login", &[("email", "ada@example.com"), ("password", PASSWORD), ("next", "/settings")])
        .await;
    assert_eq!(response.headers()["location"], "/settings");
}

/// Another site's form could sign the browser in to the attacker's account (log-in CSRF).
async fn a_log_in_or_registration_from_another_site_is_refused_without_a_cookie(app: TestApp) {
    app.user("ada@example.com").await;
    let credentials = [("email", "ada@example.com"), ("password", PASSWORD)];
    for origin in ["https://evil.example", "null"] {
        let login = app.form_from(origin, "/api/session/login", &credentials).await;
        assert_eq!(login.status(), StatusCode::FORBIDDEN, "{origin}");
        assert!(!login.headers().contains_key("set-cookie"), "{origin}");
        let register = app.form_from(origin, "/api/session/register", &[("email", "eve@example.com"), ("password", PASSWORD)]).await;
        assert_eq!(register.status(), StatusCode::FORBIDDEN, "{origin}");
        assert!(!register.headers().contains_key("set-cookie"), "{origin}");
    }
    let referred = app
        .client
        .post(app.url("/api/session/login"))
        .header("referer", "https://evil.example/page")
        .form(&credentials)
        .send()
        .await
        .unwrap();
    assert_eq!(referred.status(), StatusCode::FORBIDDEN);
    assert!(app.services.auth.users.id_for_email("eve@example.com").await.unwrap().is_none());

    // This site's own pages, and scripts that send no Origin at all, still sign in.
    let same_site = app.form_from(&app.address, "/api/session/login", &credentials).await;
    assert!(same_site.status().is_success() || same_site.status().is_redirection(), "{}", same_site.status());
    assert!(same_site.headers().contains_key("set-cookie"));
    let script = app.client.post(app.url("/api/session/login")).form(&credentials).send().await.unwrap();
    assert!(script.headers().contains_key("set-cookie"), "{}", script.status());
}

async fn failures_from_one_forwarded_address_do_not_lock_out_another(app: TestApp) {
    app.user("ada@example.com").await;
    for _ in 0..8 {
        let response = app.token_via("198.51.100.1", "ada@example.com", "not the password").await;
        assert!(matches!(response.status(), StatusCode::UNAUTHORIZED | StatusCode::TOO_MANY_REQUESTS));
    }
    let attacker = app.token_via("198.51.100.1", "ada@example.com", PASSWORD).await;
    assert_eq!(attacker.status(), StatusCode::TOO_MANY_REQUESTS, "the failing address is locked");
    // The proxy appends the real client to whatever the client sent.
    let owner = app.token_via("198.51.100.1, 203.0.113.5", "ada@example.com", PASSWORD).await;
    assert_eq!(owner.status(), StatusCode::OK, "another client of the same proxy is not locked out");
}

async fn without_trusted_proxies_x_forwarded_for_is_ignored(app: TestApp) {
    app.user("ada@example.com").await;
    for i in 0..8 {
        // A client can't pick a fresh address for each guess.
        let _ = app.token_via(&format!("198.51.100.{i}"), "ada@example.com", "not the password").await;
    }
    let next = app.token_via("203.0.113.5", "ada@example.com", PASSWORD).await;
    assert_eq!(next.status(), StatusCode::TOO_MANY_REQUESTS);
}

/// The throttle was checked before hashing and updated after, so guesses sent together all
/// passed the check.
async fn concurrent_guesses_are_throttled_before_they_are_checked(app: TestApp) {
    app.user("ada@example.com").await;
    let guesses = (0..20).map(|i| {
        app.post_json("/api/auth/token", None, json!({"email": "ada@example.com", "password": format!("guess number {i}")}))
    });
    let responses = futures::future::join_all(guesses).await;
    let checked = responses.iter().filter(|r| r.status() == StatusCode::UNAUTHORIZED).count();
    let throttled = responses.iter().filter(|r| r.status() == StatusCode::TOO_MANY_REQUESTS).count();
    assert_eq!(checked + throttled, 20);
    assert!(checked <= 4, "{checked} of 20 concurrent guesses were checked");
}
