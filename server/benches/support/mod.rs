//! What every benchmark starts from: the app on a free port with a fresh data folder and one
//! user, and the figures' arithmetic.

// Each benchmark compiles this module on its own and uses only part of it.
#![allow(dead_code)]

use std::net::SocketAddr;
use std::time::Duration;

use backend::Services;
use backend::auth::User;
use server::config::{Config, Settings};
use server::startup::Application;

/// A running app, its services, and the user whose workspace is measured.
pub struct Bench {
    pub address: SocketAddr,
    pub services: Services,
    pub user: User,
    /// The data folder, deleted when this is dropped.
    _dir: tempfile::TempDir,
}

/// Starts the app with the default limits (Airtable's), logging warnings only.
pub async fn start() -> anyhow::Result<Bench> {
    start_with(|_| {}).await
}

/// [`start`] with some settings changed first.
pub async fn start_with(change: impl FnOnce(&mut Settings)) -> anyhow::Result<Bench> {
    let dir = tempfile::tempdir()?;
    let mut settings = Settings {
        bind: Some("127.0.0.1:0".into()),
        data_dir: Some(dir.path().to_owned()),
        log: Some("warn".into()),
        ..Settings::default()
    };
    change(&mut settings);
    let config = Config::from_settings(settings)?;
    let app = Application::build(&config).await?;
    let address = app.local_addr();
    let services = app.services().clone();
    tokio::spawn(app.run_until(std::future::pending()));
    let user = services.auth.users.create("bench@example.com", "bench password 123", false).await?;
    Ok(Bench { address, services, user, _dir: dir })
}

pub fn median(times: &mut [Duration]) -> Duration {
    percentile(times, 50)
}

/// The time that `p` percent of `times` don't exceed (nearest rank).
pub fn percentile(times: &mut [Duration], p: usize) -> Duration {
    times.sort();
    let rank = (times.len() * p).div_ceil(100).max(1);
    times[rank - 1]
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
