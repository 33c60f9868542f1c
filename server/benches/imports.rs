//! `make bench`: file imports.
//!
//! - Pace: a 10,000-row CSV uploaded over HTTP and imported into the sandbox with Airtable's
//!   limits on. The ceiling is 5 requests/s × 10 records = 50 rows/s; the figure is the share
//!   of it reached, and the 429s met.
//! - Memory: a 100 MB CSV uploaded, read (every row, to infer its columns) and imported for 30
//!   seconds with the sandbox's limit off, the process's resident memory sampled every 20 ms;
//!   the figure is the peak above the memory before the upload.
//!
//! Prints figures; asserts nothing about time.

use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use backend::files::ImportOrigin;
use backend::model::auth::Scope;
use backend::model::files::{FileSummary, ImportRequest, ImportStatus};
use backend::model::sagas::SagaSource;

mod support;

const PACE_ROWS: usize = 10_000;
const BIG_BYTES: u64 = 100 * 1024 * 1024;
const BIG_IMPORT_SECONDS: u64 = 30;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    pace().await?;
    memory().await
}

async fn pace() -> anyhow::Result<()> {
    let bench = support::start().await?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("pace.csv");
    write_csv(&path, |rows, _| rows < PACE_ROWS)?;
    let file = upload(&bench, &path).await?;
    let started = Instant::now();
    let progress = import(&bench, &file).await?;
    let id = progress.id;
    let finished = loop {
        tokio::time::sleep(Duration::from_millis(250)).await;
        let progress = bench.services.files.import_status(&bench.user.id, &id).await?;
        if progress.status.is_finished() {
            break progress;
        }
    };
    let elapsed = started.elapsed();
    anyhow::ensure!(finished.status == ImportStatus::Done && finished.done == PACE_ROWS as u64, "the import ended {finished:?}");
    let limited: u64 = bench.services.airtable.limiter().snapshot().iter().map(|s| s.rate_limited).sum();
    let rate = PACE_ROWS as f64 / elapsed.as_secs_f64();
    println!(
        "import pace: {PACE_ROWS} CSV rows in {:.1} s = {rate:.1} rows/s, {:.1}% of the 50 rows/s ceiling, {limited} responses with 429",
        elapsed.as_secs_f64(),
        rate / 50.0 * 100.0
    );
    Ok(())
}

async fn memory() -> anyhow::Result<()> {
    let bench = support::start_with(|s| {
        s.sandbox_requests_per_second = Some("0".into());
        s.upload_max_mb = Some("200".into());
    })
    .await?;
    let dir = tempfile::tempdir()?;
    let path = dir.path().join("big.csv");
    write_csv(&path, |_, bytes| bytes < BIG_BYTES)?;
    let size = std::fs::metadata(&path)?.len();

    let idle = resident();
    let peak = Arc::new(AtomicUsize::new(idle));
    let sampling = Arc::new(AtomicBool::new(true));
    let sampler = {
        let (peak, sampling) = (peak.clone(), sampling.clone());
        tokio::spawn(async move {
            while sampling.load(Ordering::Relaxed) {
                peak.fetch_max(resident(), Ordering::Relaxed);
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let uploaded = Instant::now();
    let file = upload(&bench, &path).await?;
    let read_in = uploaded.elapsed();
    let progress = import(&bench, &file).await?;
    tokio::time::sleep(Duration::from_secs(BIG_IMPORT_SECONDS)).await;
    let status = bench.services.files.import_status(&bench.user.id, &progress.id).await?;
    bench.services.files.cancel_import(&bench.user.id, &progress.id, true).await?;
    sampling.store(false, Ordering::Relaxed);
    sampler.await?;

    let above = peak.load(Ordering::Relaxed).saturating_sub(idle);
    println!(
        "import memory: a {:.0} MB CSV of {} rows uploaded and read in {:.1} s, then {} rows imported in {BIG_IMPORT_SECONDS} s; peak resident memory {:.1} MB above the {:.1} MB before it",
        size as f64 / 1e6,
        file.rows.unwrap_or(0),
        read_in.as_secs_f64(),
        status.done,
        above as f64 / 1e6,
        idle as f64 / 1e6,
    );
    Ok(())
}

/// A CSV of rows (name, amount, status, date) for as long as `more(rows, bytes)` says.
fn write_csv(path: &Path, more: impl Fn(usize, u64) -> bool) -> anyhow::Result<()> {
    let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
    let header = "Name,Amount,Status,Due\n";
    out.write_all(header.as_bytes())?;
    let (mut n, mut bytes) = (0, header.len() as u64);
    while more(n, bytes) {
        let status = ["Open", "Done", "Waiting"][n % 3];
        let line = format!("Item number {n:08},{}.{:02},{status},2026-{:02}-{:02}\n", n % 9_973, n % 100, n % 12 + 1, n % 28 + 1);
        out.write_all(line.as_bytes())?;
        (n, bytes) = (n + 1, bytes + line.len() as u64);
    }
    out.flush()?;
    Ok(())
}

/// The file uploaded over HTTP as a script would, streamed from disk.
async fn upload(bench: &support::Bench, path: &Path) -> anyhow::Result<FileSummary> {
    let key = bench.services.auth.api_keys.create(&bench.user.id, "bench", Scope::Write).await?.key;
    let length = std::fs::metadata(path)?.len();
    let body = reqwest::Body::from(tokio::fs::File::open(path).await?);
    let part = reqwest::multipart::Part::stream_with_length(body, length).file_name("items.csv");
    let form = reqwest::multipart::Form::new().part("file", part);
    let url = format!("http://{}/api/files/upload", bench.address);
    let answer = reqwest::Client::new().post(url).bearer_auth(key).multipart(form).send().await?.error_for_status()?;
    Ok(answer.json().await?)
}

/// Starts importing the file into a new table of the user's sandbox base.
async fn import(bench: &support::Bench, file: &FileSummary) -> anyhow::Result<backend::model::files::ImportProgress> {
    let client = bench.services.connections.for_user(&bench.user.id).await?.client;
    let base = client.list_bases().await?[0].id.as_str().to_owned();
    let request = ImportRequest { file_id: file.id.clone(), sheet: None, base_id: base, table: "Items".into(), mapping: None, key_field: None };
    let origin = ImportOrigin { source: SagaSource::Import, conversation_id: None };
    Ok(bench.services.files.import(&bench.user.id, &client, &request, origin).await?)
}

/// The process's resident memory in bytes.
fn resident() -> usize {
    memory_stats::memory_stats().map_or(0, |m| m.physical_mem)
}
