//! Crash trials: a 500-record saga, the server killed with SIGKILL at a random moment and
//! started again, twenty times. After each trial the saga has finished or been undone whole:
//! every record once, or none; never a duplicate, never an orphan.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use backend::db::Dialect;
use serde_json::{Value, json};

use crate::binary::{json_answer, listening, pyairtable};
use crate::helpers::TestDatabase;

const TRIALS: usize = 20;
const STEPS: usize = 5;
const RECORDS_PER_STEP: usize = 100;
const PASSWORD: &str = "correct horse battery";

/// The server as an operator runs it, on this trial's database.
struct Server {
    child: Child,
    address: String,
}

impl Server {
    fn start(dir: &std::path::Path, db: &TestDatabase) -> Self {
        let mut child = pyairtable(dir)
            .args(["serve", "--bind", "127.0.0.1:0"])
            .env("DATABASE_URL", &db.url)
            .env("PYAIRTABLE_LOG_FORMAT", "json")
            .env("PYAIRTABLE_LOG", std::env::var("CRASH_LOG").unwrap_or_else(|_| "info".into()))
            .env("PYAIRTABLE_SANDBOX_REQUESTS_PER_SECOND", "0")
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (address, lines) = listening(&mut child);
        // Read on, so that a full pipe never stalls the server; warnings and errors are
        // passed on, so a failed trial shows what the server saw.
        std::thread::spawn(move || {
            for line in lines.map_while(Result::ok) {
                if std::env::var_os("CRASH_LOG").is_some() || line.contains("\"level\":\"WARN\"") || line.contains("\"level\":\"ERROR\"") {
                    eprintln!("server: {line}");
                }
            }
        });
        Self { child, address }
    }

    fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.address)
    }

    fn kill(mut self) {
        assert!(Command::new("kill").args(["-KILL", &self.child.id().to_string()]).status().unwrap().success());
        let _ = self.child.wait();
    }
}

/// A different moment each trial, without a random crate: the clock's nanoseconds.
fn random_delay(most: Duration) -> Duration {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().subsec_nanos();
    most.mul_f64(f64::from(nanos % 1000) / 1000.0)
}

async fn tool(http: &reqwest::Client, server: &Server, token: &str, name: &str, arguments: Value) -> Value {
    let answer = json_answer(http.post(server.url("/api/execute-tool")).bearer_auth(token).json(&json!({"tool_name": name, "arguments": arguments}))).await;
    assert!(answer.get("result").is_some(), "{name} failed: {answer}");
    answer["result"].clone()
}

async fn names(http: &reqwest::Client, server: &Server, token: &str, base: &str, table: &str) -> Vec<String> {
    let mut names = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = tool(http, server, token, "list_records", json!({"base_id": base, "table": table, "page_size": 100, "cursor": cursor, "fields": ["Name"]})).await;
        names.extend(page["records"].as_array().unwrap().iter().map(|r| r["fields"]["Name"].as_str().unwrap_or_default().to_owned()));
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_owned()),
            None => break,
        }
    }
    names.sort();
    names
}

/// Ada's account on the trial's database, made with the CLI as an operator would.
fn create_ada(dir: &std::path::Path, db: &TestDatabase) {
    let created = pyairtable(dir)
        .args(["user", "create", "--email", "ada@example.com"])
        .env("DATABASE_URL", &db.url)
        .env("PYAIRTABLE_USER_PASSWORD", PASSWORD)
        .output()
        .unwrap();
    assert!(created.status.success(), "{}", String::from_utf8_lossy(&created.stderr));
}

async fn sign_in(http: &reqwest::Client, server: &Server) -> String {
    let pair = json_answer(http.post(server.url("/api/auth/token")).json(&json!({"email": "ada@example.com", "password": PASSWORD}))).await;
    pair["access_token"].as_str().unwrap().to_owned()
}

/// A new table for a saga's records, and the saga's steps: 500 records in steps of 100.
async fn prepare_saga(http: &reqwest::Client, server: &Server, token: &str, table: &str, prefix: &str) -> (String, Vec<String>, Vec<Value>) {
    let bases = tool(http, server, token, "list_bases", json!({})).await;
    let base = bases["bases"][0]["id"].as_str().unwrap().to_owned();
    tool(http, server, token, "create_table", json!({"base_id": base, "name": table, "fields": [{"name": "Name", "type": "singleLineText"}]})).await;
    let expected: Vec<String> = (0..STEPS * RECORDS_PER_STEP).map(|i| format!("{prefix}-{i:03}")).collect();
    let steps = expected
        .chunks(RECORDS_PER_STEP)
        .map(|chunk| json!({"tool": "create_records", "arguments": {"table": table, "records": chunk.iter().map(|n| json!({"Name": n})).collect::<Vec<_>>()}}))
        .collect();
    (base, expected, steps)
}

/// Polls a saga until it settles; its page.
async fn settled(http: &reqwest::Client, server: &Server, token: &str, saga_id: &str, since: Instant) -> Value {
    loop {
        let saga = json_answer(http.get(server.url(&format!("/api/sagas/{saga_id}"))).bearer_auth(token)).await;
        if ["done", "compensated", "needs_attention"].contains(&saga["summary"]["status"].as_str().unwrap_or_default()) {
            return saga;
        }
        assert!(since.elapsed() < Duration::from_secs(120), "the saga did not settle: {saga}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn crash_trials(dialect: Dialect) {
    let db = TestDatabase::new(dialect).await;
    let dir = db.dir();
    create_ada(&dir, &db);
    let http = crate::helpers::http_client();
    let (mut finished, mut undone, mut recoveries) = (0, 0, Vec::new());
    for trial in 0..TRIALS {
        let server = Server::start(&dir, &db);
        let token = sign_in(&http, &server).await;
        let table = format!("Trial {trial}");
        let (base, expected, steps) = prepare_saga(&http, &server, &token, &table, &format!("T{trial}")).await;
        let started = json_answer(http.post(server.url("/api/sagas")).bearer_auth(&token).json(&json!({"title": table, "base_id": base, "steps": steps}))).await;
        let saga_id = started["saga_id"].as_str().unwrap_or_else(|| panic!("no saga: {started}")).to_owned();

        tokio::time::sleep(random_delay(Duration::from_millis(2_000))).await;
        server.kill();
        let restarted = Instant::now();
        let server = Server::start(&dir, &db);
        let token = sign_in(&http, &server).await;
        let saga = settled(&http, &server, &token, &saga_id, restarted).await;
        recoveries.push(restarted.elapsed());
        let now = names(&http, &server, &token, &base, &table).await;
        match saga["summary"]["status"].as_str() {
            Some("done") => {
                assert_eq!(now, expected, "trial {trial}: a finished saga leaves every record exactly once");
                finished += 1;
            }
            Some("compensated") => {
                assert!(now.is_empty(), "trial {trial}: an undone saga leaves nothing: {} records", now.len());
                undone += 1;
            }
            _ => panic!("trial {trial}: the saga needs attention: {saga}"),
        }
        server.kill();
    }
    recoveries.sort();
    println!(
        "crash trials on {}: {TRIALS} kills, {finished} finished, {undone} undone, 0 duplicates; median time to settle after restart {:.1} s",
        dialect.name(),
        recoveries[recoveries.len() / 2].as_secs_f64()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn crash_trials_on_sqlite() {
    crash_trials(Dialect::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn crash_trials_on_postgres() {
    crash_trials(Dialect::Postgres).await;
}

/// Two instances on one PostgreSQL: a saga started on one, which dies mid-way, is finished by
/// the other, each record once.
#[tokio::test(flavor = "multi_thread")]
async fn a_saga_abandoned_by_one_instance_is_finished_by_the_other() {
    let db = TestDatabase::new(Dialect::Postgres).await;
    let dir = db.dir();
    create_ada(&dir, &db);
    let http = crate::helpers::http_client();
    let first = Server::start(&dir, &db);
    let token = sign_in(&http, &first).await;
    let (base, expected, steps) = prepare_saga(&http, &first, &token, "Shared", "S").await;
    let started = json_answer(http.post(first.url("/api/sagas")).bearer_auth(&token).json(&json!({"base_id": base, "steps": steps}))).await;
    let saga_id = started["saga_id"].as_str().unwrap().to_owned();
    // The first instance is driving it when the second joins; then the first dies.
    tokio::time::sleep(Duration::from_millis(700)).await;
    let second = Server::start(&dir, &db);
    first.kill();
    let killed = Instant::now();
    let saga = settled(&http, &second, &token, &saga_id, killed).await;
    assert_eq!(saga["summary"]["status"], "done", "{saga}");
    assert_eq!(names(&http, &second, &token, &base, "Shared").await, expected, "each record exactly once");
    second.kill();
}

/// An import of 2,000 rows, the server killed with SIGKILL while it runs and started again:
/// the import resumes after its last confirmed batch and ends with exactly 2,000 records.
async fn an_import_killed_mid_run_resumes_without_duplicates(dialect: Dialect) {
    const ROWS: usize = 2_000;
    let db = TestDatabase::new(dialect).await;
    let dir = db.dir();
    create_ada(&dir, &db);
    let http = crate::helpers::http_client();
    let server = Server::start(&dir, &db);
    let token = sign_in(&http, &server).await;
    let bases = tool(&http, &server, &token, "list_bases", json!({})).await;
    let base = bases["bases"][0]["id"].as_str().unwrap().to_owned();
    let csv: String = std::iter::once("Name,Number\n".to_owned()).chain((0..ROWS).map(|i| format!("Row {i:04},{i}\n"))).collect();
    let form = reqwest::multipart::Form::new().part("file", reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("rows.csv"));
    let file = json_answer(http.post(server.url("/api/files/upload")).bearer_auth(&token).multipart(form)).await;
    let request = json!({"request": {"file_id": file["id"], "base_id": base, "table": "Imported"}});
    let started = json_answer(http.post(server.url("/api/files/import")).bearer_auth(&token).json(&request)).await;
    let import_id = started["id"].as_str().unwrap_or_else(|| panic!("no import: {started}")).to_owned();

    // Some batches in, but not all: the import must be mid-way when the server dies.
    let since = Instant::now();
    loop {
        let progress = json_answer(http.post(server.url("/api/files/import-status")).bearer_auth(&token).json(&json!({"id": import_id}))).await;
        let done = progress["done"].as_u64().unwrap_or_default();
        if done >= 200 + random_delay(Duration::from_millis(600)).as_millis() as u64 {
            assert!(done < ROWS as u64, "the import finished before it could be killed: {progress}");
            break;
        }
        assert!(since.elapsed() < Duration::from_secs(60), "the import made no progress: {progress}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    server.kill();
    let restarted = Instant::now();
    let server = Server::start(&dir, &db);
    let token = sign_in(&http, &server).await;
    let progress = loop {
        let progress = json_answer(http.post(server.url("/api/files/import-status")).bearer_auth(&token).json(&json!({"id": import_id}))).await;
        if !["running", "stopping", "undoing"].contains(&progress["status"].as_str().unwrap_or_default()) {
            break progress;
        }
        assert!(restarted.elapsed() < Duration::from_secs(180), "the import did not finish after the restart: {progress}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!((progress["status"].as_str(), progress["done"].as_u64(), progress["rejected"].as_u64()), (Some("done"), Some(ROWS as u64), Some(0)), "{progress}");
    let names = names(&http, &server, &token, &base, "Imported").await;
    let expected: Vec<String> = (0..ROWS).map(|i| format!("Row {i:04}")).collect();
    assert_eq!(names.len(), ROWS, "exactly {ROWS} records after the crash");
    assert_eq!(names, expected, "every row once");
    println!("import crash on {}: killed mid-run, resumed and finished in {:.1} s with {ROWS} records", dialect.name(), restarted.elapsed().as_secs_f64());
    server.kill();
}

#[tokio::test(flavor = "multi_thread")]
async fn an_import_killed_mid_run_resumes_without_duplicates_on_sqlite() {
    an_import_killed_mid_run_resumes_without_duplicates(Dialect::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn an_import_killed_mid_run_resumes_without_duplicates_on_postgres() {
    an_import_killed_mid_run_resumes_without_duplicates(Dialect::Postgres).await;
}
