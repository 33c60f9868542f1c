//! The `pyairtable` binary as an operator runs it.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use backend::db::Dialect;

use crate::helpers::TestDatabase;

const BIN: &str = env!("CARGO_BIN_EXE_pyairtable");

/// The binary in an empty folder, with none of this machine's settings.
pub(crate) fn pyairtable(dir: &std::path::Path) -> Command {
    let mut command = Command::new(BIN);
    command.env_clear().current_dir(dir);
    command
}

/// Sends a request and reads its JSON answer.
pub(crate) async fn json_answer(request: reqwest::RequestBuilder) -> serde_json::Value {
    request.send().await.unwrap().json().await.unwrap()
}

/// Reads a JSON-logging server's stderr up to its "listening" line: the address, and the rest.
pub(crate) fn listening(child: &mut std::process::Child) -> (String, std::io::Lines<BufReader<std::process::ChildStderr>>) {
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    loop {
        let line = lines.next().expect("the server logs that it listens").unwrap();
        let entry: serde_json::Value = serde_json::from_str(&line).expect("every log line is JSON");
        if entry["message"] == "listening" {
            return (entry["address"].as_str().unwrap().to_owned(), lines);
        }
    }
}

#[test]
fn help_documents_every_setting() {
    let dir = tempfile::tempdir().unwrap();
    let output = pyairtable(dir.path()).arg("--help").output().unwrap();
    assert!(output.status.success());
    // Folded to single spaces, since clap wraps long lines.
    let help = String::from_utf8(output.stdout).unwrap().split_whitespace().collect::<Vec<_>>().join(" ");
    for variable in [
        "PYAIRTABLE_CONFIG",
        "PYAIRTABLE_BIND",
        "PYAIRTABLE_PUBLIC_URL",
        "PYAIRTABLE_DATA_DIR",
        "DATABASE_URL",
        "PYAIRTABLE_SITE_ROOT",
        "PYAIRTABLE_LOG_FORMAT",
        "PYAIRTABLE_LOG",
        "PYAIRTABLE_JWT_SECRET",
        "PYAIRTABLE_ENCRYPTION_KEY",
        "PYAIRTABLE_AIRTABLE_API_URL",
        "PYAIRTABLE_LLM_PROVIDER",
        "PYAIRTABLE_LLM_MODEL",
        "PYAIRTABLE_LLM_BASE_URL",
        "PYAIRTABLE_LLM_API_KEY",
        "PYAIRTABLE_REGISTRATION",
    ] {
        let shown = help.contains(&format!("[env: {variable}=")) || help.contains(&format!("[env: {variable}]"));
        assert!(shown, "--help does not mention {variable}:\n{help}");
    }
    assert!(help.contains("serve") && help.contains("migrate"), "{help}");
}

#[test]
fn version_prints_the_release() {
    let dir = tempfile::tempdir().unwrap();
    let output = pyairtable(dir.path()).arg("--version").output().unwrap();
    assert_eq!(String::from_utf8(output.stdout).unwrap().trim(), format!("pyairtable {}", backend::VERSION));
}

#[test]
fn invalid_configuration_explains_the_fix_and_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    let output = pyairtable(dir.path()).env("PYAIRTABLE_BIND", "everywhere").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.contains("PYAIRTABLE_BIND") && stderr.contains("Fix:"), "{stderr}");
}

#[test]
fn a_bad_key_in_pyairtable_toml_exits_2() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("pyairtable.toml"), "port = 80\n").unwrap();
    let output = pyairtable(dir.path()).arg("migrate").output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8(output.stderr).unwrap().contains("port"));
}

#[tokio::test]
async fn migrate_applies_the_migrations_to_postgres_and_exits() {
    let db = TestDatabase::new(Dialect::Postgres).await;
    let dir = db.dir();
    let status = pyairtable(&dir).arg("migrate").env("DATABASE_URL", &db.url).status().unwrap();
    assert!(status.success());
    let migrated = backend::db::Db::connect(&db.url).await.unwrap();
    assert_eq!(migrated.applied_migrations().await.unwrap(), migrated.known_migrations());
    migrated.close().await;
}

#[tokio::test]
async fn serve_logs_json_with_request_ids_and_stops_cleanly_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = pyairtable(dir.path())
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("PYAIRTABLE_LOG_FORMAT", "json")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (address, lines) = listening(&mut child);

    let response = crate::helpers::http_client()
        .get(format!("http://{address}/api/health"))
        .header("x-request-id", "from-the-test")
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);

    let killed = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(killed.success());
    let status = child.wait().unwrap();
    assert!(status.success(), "exit status {status}");

    let log: Vec<String> = lines.map(Result::unwrap).collect();
    assert!(
        log.iter().any(|l| l.contains("\"request_id\":\"from-the-test\"")),
        "the request's log lines carry its ID:\n{}",
        log.join("\n")
    );
    assert!(log.iter().any(|l| l.contains("\"message\":\"stopped\"")), "{}", log.join("\n"));

    // The secrets were generated into the data folder, owner-only, and never logged.
    for name in ["jwt_secret", "encryption_key"] {
        let path = dir.path().join("data").join(name);
        let secret = std::fs::read_to_string(&path).unwrap();
        assert!(!log.iter().any(|l| l.contains(secret.trim())), "{name} appears in the log");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }
    assert!(dir.path().join("data/pyairtable.db").exists());
}

#[tokio::test]
async fn user_create_makes_an_admin_who_can_sign_in() {
    let dir = tempfile::tempdir().unwrap();
    let output = pyairtable(dir.path())
        .args(["user", "create", "--email", "root@example.com", "--admin"])
        .env("PYAIRTABLE_USER_PASSWORD", "correct horse battery")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    assert!(String::from_utf8(output.stdout).unwrap().starts_with("Created administrator root@example.com"));

    let weak = pyairtable(dir.path())
        .args(["user", "create", "--email", "two@example.com", "--password", "short"])
        .output()
        .unwrap();
    assert_eq!(weak.status.code(), Some(1));
    assert!(String::from_utf8(weak.stderr).unwrap().contains("Use at least 10 characters."));

    let db = backend::db::Db::connect(&format!("sqlite://{}/data/pyairtable.db", dir.path().display())).await.unwrap();
    let users = backend::auth::users::Users::new(db);
    let user = users.authenticate("root@example.com", "correct horse battery").await.unwrap();
    assert!(user.is_admin);
}

/// The way back in for an operator who lost the administrator's password.
#[tokio::test]
async fn user_reset_password_prints_a_link_that_sets_a_new_password() {
    let dir = tempfile::tempdir().unwrap();
    let created = pyairtable(dir.path())
        .args(["user", "create", "--email", "root@example.com", "--admin"])
        .env("PYAIRTABLE_USER_PASSWORD", "correct horse battery")
        .output()
        .unwrap();
    assert!(created.status.success());
    let output = pyairtable(dir.path())
        .args(["user", "reset-password", "--email", "Root@Example.com"])
        .env("PYAIRTABLE_PUBLIC_URL", "https://airtable.example.com")
        .output()
        .unwrap();
    assert!(output.status.success(), "{}", String::from_utf8_lossy(&output.stderr));
    let printed = String::from_utf8(output.stdout).unwrap();
    let link = printed.lines().find(|line| line.starts_with("https://airtable.example.com/reset-password?token=")).expect(&printed);
    let token = link.split("token=").nth(1).unwrap();

    let unknown = pyairtable(dir.path()).args(["user", "reset-password", "--email", "nobody@example.com"]).output().unwrap();
    assert_eq!(unknown.status.code(), Some(1));
    assert!(String::from_utf8(unknown.stderr).unwrap().contains("An account with that email was not found"));

    let db = backend::db::Db::connect(&format!("sqlite://{}/data/pyairtable.db", dir.path().display())).await.unwrap();
    let links = backend::auth::links::AccountLinks::new(db.clone(), url::Url::parse("https://airtable.example.com").unwrap());
    let users = backend::auth::users::Users::new(db);
    users.reset_password(&links, token, "a brand new password").await.unwrap();
    assert!(users.authenticate("root@example.com", "a brand new password").await.unwrap().is_admin);
}

/// Every secret a user hands the server or gets from it, used over HTTP against a server that
/// logs at debug level: none of them appears in the log.
#[tokio::test]
async fn secrets_in_use_never_reach_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let password = "correct horse battery";
    let created = pyairtable(dir.path())
        .args(["user", "create", "--email", "ada@example.com"])
        .env("PYAIRTABLE_USER_PASSWORD", password)
        .output()
        .unwrap();
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
    let mut child = pyairtable(dir.path())
        .args(["serve", "--bind", "127.0.0.1:0"])
        .env("PYAIRTABLE_LOG_FORMAT", "json")
        .env("PYAIRTABLE_LOG", "debug")
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (address, lines) = listening(&mut child);
    // The log is read while the server runs, so a full pipe can't stall it.
    let log = std::thread::spawn(move || lines.map(Result::unwrap).collect::<Vec<String>>());

    let http = crate::helpers::http_client();
    let url = |path: &str| format!("http://{address}{path}");
    let pair = json_answer(http.post(url("/api/auth/token")).json(&serde_json::json!({"email": "ada@example.com", "password": password}))).await;
    let access = pair["access_token"].as_str().unwrap().to_owned();
    let refresh = pair["refresh_token"].as_str().unwrap().to_owned();
    let key = json_answer(http.post(url("/api/keys/create")).bearer_auth(&access).json(&serde_json::json!({"name": "script", "scope": "write"}))).await;
    let key = key["key"].as_str().unwrap().to_owned();
    let credentials = json_answer(http.post(url("/api/sandbox/credentials")).bearer_auth(&key).json(&serde_json::json!({}))).await;
    let sandbox_token = credentials["token"].as_str().unwrap().to_owned();
    let base = credentials["base_ids"][0].as_str().unwrap();
    let listed = http.get(url(&format!("/sandbox/v0/{base}/Tasks?maxRecords=1"))).bearer_auth(&sandbox_token).send().await.unwrap();
    assert_eq!(listed.status(), 200);
    let llm_key = "sk-live-the-users-own-llm-key-0042";
    let saved = http
        .post(url("/api/llm/save"))
        .bearer_auth(&access)
        .form(&[("provider", "gemini"), ("model", "gemini-2.5-flash"), ("api_key", llm_key)])
        .send()
        .await
        .unwrap();
    assert_eq!(saved.status(), 200);
    let refreshed = http.post(url("/api/auth/refresh")).json(&serde_json::json!({"refresh_token": refresh})).send().await.unwrap();
    assert_eq!(refreshed.status(), 200);

    assert!(Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap().success());
    assert!(child.wait().unwrap().success());
    let log = log.join().unwrap();
    assert!(log.len() > 10, "the debug log says something: {log:?}");
    for (what, secret) in [
        ("password", password),
        ("access token", access.as_str()),
        ("refresh token", refresh.as_str()),
        ("API key", key.as_str()),
        ("sandbox token", sandbox_token.as_str()),
        ("LLM key", llm_key),
    ] {
        assert!(!log.iter().any(|l| l.contains(secret)), "the {what} appears in the log");
    }
}
