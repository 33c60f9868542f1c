//! `make bench`: the analytics dashboard over one million events. The events are loaded through
//! `Analytics::store`, the direct bulk path (big batches, one transaction each, raw rows and
//! rollups together), not through the request-time queue. Then `dashboard()` is timed for the
//! last 24 hours, 7 days and 30 days, for one user and for everyone.
//!
//! Prints figures; asserts nothing about time.

use std::time::{Duration, Instant};

use backend::analytics::{Event, EventKind, Viewer};
use backend::model::analytics::{DashboardQuery, ToolSource};
use support::{median, ms, percentile};

mod support;

const EVENTS: usize = 1_000_000;
const BATCH: usize = 20_000;
const USERS: usize = 50;
const RUNS: usize = 20;
const DAY_MS: i64 = 24 * 3_600_000;

/// A small deterministic generator, so every run loads the same data.
struct Dice(u64);

impl Dice {
    fn next(&mut self, below: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % below
    }
}

const TOOLS: [&str; 8] = ["list_tables", "describe_table", "list_records", "get_record", "search_records", "create_records", "update_records", "analyze_table_data"];

fn event(dice: &mut Dice, now: i64, users: &[String]) -> Event {
    let at_ms = now - i64::try_from(dice.next(30 * DAY_MS as u64)).unwrap_or(0);
    let user = Some(users[dice.next(users.len() as u64) as usize].as_str());
    let latency = Duration::from_millis(5 + dice.next(400) + if dice.next(50) == 0 { 3_000 } else { 0 });
    let failed = dice.next(40) == 0;
    let event = match dice.next(10) {
        0..=1 => {
            let conversation = format!("c{}", dice.next(2_000));
            Event {
                conversation_id: Some(conversation),
                source: "message".into(),
                tokens: 500 + dice.next(3_000) as i64,
                cost_usd: 0.0004,
                model: Some("gemini-2.5-flash".into()),
                ..Event::new(EventKind::ChatTurn, "gemini")
            }
        }
        2..=4 => {
            let source = [ToolSource::Chat, ToolSource::Mcp, ToolSource::Rest][dice.next(3) as usize];
            Event::tool_call(TOOLS[dice.next(TOOLS.len() as u64) as usize], source, None, latency, None)
        }
        5..=8 => Event {
            base_id: format!("app{:014}", dice.next(40)),
            waited_ms: if dice.next(5) == 0 { 150 } else { 0 },
            status: Some(200),
            ..Event::new(EventKind::AirtableRequest, "GET v0/{base}/{table}")
        },
        _ => Event::new(EventKind::Client, "page_view"),
    };
    let event = Event { at_ms, ..event.by(user).took(latency) };
    if failed { event.failed("The base has no table “Nowhere”.") } else { event }
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let bench = support::start().await?;
    let analytics = bench.services.analytics.clone();
    let mut users: Vec<String> = (1..USERS).map(|i| format!("00000000-0000-4000-8000-{i:012}")).collect();
    users.push(bench.user.id.as_str().to_owned());
    let now = backend::clock::now_ms();
    let mut dice = Dice(0x9E37_79B9_7F4A_7C15);

    let started = Instant::now();
    let mut loaded = 0;
    while loaded < EVENTS {
        let batch: Vec<Event> = (0..BATCH.min(EVENTS - loaded)).map(|_| event(&mut dice, now, &users)).collect();
        analytics.store(&batch).await?;
        loaded += batch.len();
    }
    let load = started.elapsed();
    println!("analytics: loaded {EVENTS} events ({USERS} users, 30 days) in {:.1} s ({:.0} events/s), on {}", load.as_secs_f64(), EVENTS as f64 / load.as_secs_f64(), bench.services.db.dialect().name());

    let viewer = Viewer { user_id: bench.user.id.as_str(), is_admin: true };
    for (label, days) in [("24 h", 1), ("7 d", 7), ("30 d", 30)] {
        for all_users in [false, true] {
            let query = DashboardQuery { from_ms: now - days * DAY_MS, to_ms: now + 1, all_users };
            let mut times = Vec::with_capacity(RUNS);
            let mut messages = 0;
            for _ in 0..RUNS {
                let started = Instant::now();
                let board = analytics.dashboard(viewer, &query).await?;
                times.push(started.elapsed());
                messages = board.kpis.messages;
            }
            println!(
                "analytics: dashboard {label:>4}, {:<10} p50 {:7.1} ms, p95 {:7.1} ms ({messages} messages shown)",
                if all_users { "everyone" } else { "one user" },
                ms(median(&mut times)),
                ms(percentile(&mut times, 95)),
            );
        }
    }
    Ok(())
}
