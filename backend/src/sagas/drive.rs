//! The driver: with the saga's lease held, applies steps in order, or compensates them in
//! reverse, reading and writing the log at every move.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use super::apply::StepOutcome;
use super::compensate;
use super::store::{SagaRow, StepRow};
use super::{LEASE, SagaError, Sagas, StepFeed};
use crate::airtable::Client;
use crate::analytics::{Event, EventKind};
use crate::clock::now_ms;
use crate::model::sagas::{SagaStatus, StepState};
use crate::shown::Shown;

/// A compensation is tried this many times, with a doubling wait, before the saga needs attention.
const COMPENSATION_TRIES: u32 = 4;
const FIRST_BACKOFF: Duration = Duration::from_millis(500);

/// What a call of [`Sagas::drive`] found.
pub(super) enum Driven {
    /// Nothing left to do: done, compensated or needing attention.
    Settled,
    /// Another driver holds the lease.
    Busy,
    Missing,
}

/// A held lease: renewed in the background, and checked before every chunk.
pub(super) struct Lease {
    lost: Arc<AtomicBool>,
    renewal: tokio::task::JoinHandle<()>,
}

impl Lease {
    /// `LeaseLost` once another process may have taken the saga over.
    pub fn check(&self) -> Result<(), SagaError> {
        if self.lost.load(Ordering::Relaxed) { Err(SagaError::LeaseLost) } else { Ok(()) }
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        self.renewal.abort();
    }
}

/// The saga being driven, with what every step needs.
pub(super) struct Driver<'a> {
    pub sagas: &'a Sagas,
    pub saga: SagaRow,
    pub client: Client,
    pub lease: Lease,
}

impl Sagas {
    /// Drives a saga until it settles, if its lease can be taken.
    pub(super) async fn drive(&self, id: &str) -> Result<Driven, SagaError> {
        let store = &self.inner.store;
        let owner = format!("{}-{}", self.inner.instance, ulid::Ulid::generate());
        let Some(saga) = store.take_lease(id, &owner, now_ms() + millis(LEASE)).await? else {
            return Ok(match store.saga(id).await? {
                None => Driven::Missing,
                Some(row) if row.status().is_settled() => Driven::Settled,
                Some(_) => Driven::Busy,
            });
        };
        let lease = self.renew_in_background(id, &owner);
        let client = match self.inner.connections.for_user(&saga.user()?).await {
            Ok(connection) => connection.client,
            Err(e) => {
                // Without the owner's connection nothing can be applied or undone; trying again
                // won't help until they reconnect, so the saga waits for them.
                let account = format!("Could not open your Airtable connection: {}. Reconnect in Settings, then retry.", e.shown());
                store.set_status(id, SagaStatus::NeedsAttention, Some(&account)).await?;
                store.release_lease(id, &owner).await?;
                return Ok(Driven::Settled);
            }
        };
        let driver = Driver { sagas: self, saga, client, lease };
        let result = driver.run().await;
        store.release_lease(id, &owner).await?;
        result.map(|()| Driven::Settled)
    }

    fn renew_in_background(&self, id: &str, owner: &str) -> Lease {
        let lost = Arc::new(AtomicBool::new(false));
        let (store, id, owner, flag) = (self.inner.store.clone(), id.to_owned(), owner.to_owned(), lost.clone());
        let renewal = tokio::spawn(async move {
            loop {
                tokio::time::sleep(LEASE / 4).await;
                match store.renew_lease(&id, &owner, now_ms() + millis(LEASE)).await {
                    Ok(true) => {}
                    Ok(false) => {
                        flag.store(true, Ordering::Relaxed);
                        return;
                    }
                    // A database hiccup: the lease still has time; try again at the next beat.
                    Err(e) => tracing::warn!(error = %e, saga.id = %id, "could not renew a saga's lease"),
                }
            }
        });
        Lease { lost, renewal }
    }
}

fn millis(d: Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

impl Driver<'_> {
    async fn run(&self) -> Result<(), SagaError> {
        let store = &self.sagas.inner.store;
        let id = self.saga.id.as_str();
        loop {
            self.lease.check()?;
            let saga = store.saga(id).await?.ok_or(SagaError::NotFound)?;
            match saga.status() {
                SagaStatus::Running if saga.compensate_requested != 0 => {
                    store.set_status(id, SagaStatus::Compensating, Some("Cancelled; what it had applied was undone.")).await?;
                }
                SagaStatus::Running => match store.next_to_apply(id).await? {
                    None => {
                        if self.fed_more(&saga).await? {
                            continue;
                        }
                        store.set_status(id, SagaStatus::Done, None).await?;
                        self.record("done", None);
                        return Ok(());
                    }
                    Some(step) if step.state == StepState::Failed => {
                        store.set_status(id, SagaStatus::Compensating, step.error.as_deref()).await?;
                    }
                    Some(step) => match self.apply(&step).await? {
                        StepOutcome::Applied => store.set_step(id, step.position, StepState::Applied, None).await?,
                        StepOutcome::Refused(reason) if saga.fed.is_some() => {
                            let instead = self.feed()?.refused(id, &step.arguments, &reason).await?;
                            store.set_aside(id, step.position, &reason, &instead).await?;
                        }
                        StepOutcome::Failed(error) | StepOutcome::Refused(error) => {
                            let error = format!("Step {} ({}) failed: {error}", step.position + 1, step.tool);
                            store.set_step(id, step.position, StepState::Failed, Some(&error)).await?;
                            store.set_status(id, SagaStatus::Compensating, Some(&error)).await?;
                        }
                    },
                },
                SagaStatus::Compensating => match store.next_to_compensate(id).await? {
                    None => {
                        store.set_status(id, SagaStatus::Compensated, saga.error.as_deref()).await?;
                        self.record("compensated", saga.error.as_deref());
                        return Ok(());
                    }
                    Some(step) => {
                        if let Err(e) = self.compensate_with_retries(&step).await {
                            let account = format!(
                                "Undoing step {} ({}) failed {COMPENSATION_TRIES} times: {e} The steps' records below show what is left; retry once the cause is fixed, or mark the change resolved after fixing it by hand.",
                                step.position + 1,
                                step.tool
                            );
                            store.set_step(id, step.position, StepState::Compensating, Some(&e.to_string())).await?;
                            store.set_status(id, SagaStatus::NeedsAttention, Some(&account)).await?;
                            self.record("needs_attention", Some(&account));
                            return Ok(());
                        }
                        store.set_step(id, step.position, StepState::Compensated, step.error.as_deref()).await?;
                    }
                },
                SagaStatus::Done | SagaStatus::Compensated | SagaStatus::NeedsAttention => return Ok(()),
            }
        }
    }

    /// Asks a fed saga's feed for its next steps; false when it has none left (or the saga
    /// is not fed). A feed that can't go on fails the saga, which then compensates.
    async fn fed_more(&self, saga: &SagaRow) -> Result<bool, SagaError> {
        let Some(fed) = saga.fed else { return Ok(false) };
        match self.feed()?.next(&saga.id, u64::try_from(fed).unwrap_or(0)).await {
            Ok(Some(more)) => {
                self.sagas.inner.store.append_steps(&saga.id, &more.calls, more.fed).await?;
                Ok(true)
            }
            Ok(None) => Ok(false),
            Err(SagaError::Invalid(why)) => {
                self.sagas.inner.store.set_status(&saga.id, SagaStatus::Compensating, Some(&why)).await?;
                Ok(true)
            }
            Err(e) => Err(e),
        }
    }

    fn feed(&self) -> Result<&dyn StepFeed, SagaError> {
        self.sagas.inner.feed.get().map(|f| &**f).ok_or_else(|| SagaError::Invalid("This change's steps come from a source this server does not have.".into()))
    }

    async fn compensate_with_retries(&self, step: &StepRow) -> Result<(), SagaError> {
        self.sagas.inner.store.set_step(&self.saga.id, step.position, StepState::Compensating, step.error.as_deref()).await?;
        let mut wait = FIRST_BACKOFF;
        let mut tries = 0;
        loop {
            tries += 1;
            // The log is read again each time: an earlier try may have got part of the way.
            let step = self.sagas.inner.store.step(&self.saga.id, step.position).await?.ok_or(SagaError::NotFound)?;
            match compensate::compensate(self, &step).await {
                Ok(()) => return Ok(()),
                Err(CompensationError::Saga(e)) => return Err(e),
                Err(CompensationError::Airtable(e)) if tries >= COMPENSATION_TRIES => return Err(SagaError::NotNow(e.to_string())),
                Err(CompensationError::Airtable(e)) => {
                    tracing::warn!(error = %e, saga.id = %self.saga.id, tries, "a compensation failed; trying again");
                    tokio::time::sleep(wait).await;
                    wait *= 2;
                }
            }
        }
    }

    /// The saga's analytics event, as it settles.
    fn record(&self, outcome: &str, error: Option<&str>) {
        let mut event = Event::new(EventKind::Saga, self.saga.source.clone()).by(Some(&self.saga.user_id));
        if outcome == "needs_attention" {
            event = event.failed(error.unwrap_or_default().to_owned());
        }
        self.sagas.inner.analytics.record(Event {
            base_id: self.saga.base_id.clone(),
            conversation_id: self.saga.conversation_id.clone(),
            source: self.saga.source.clone(),
            outcome: outcome.into(),
            ..event
        });
    }
}

/// Why one try at compensating a step failed: Airtable (worth another try) or the log.
#[derive(Debug)]
pub(super) enum CompensationError {
    Airtable(crate::airtable::AirtableError),
    Saga(SagaError),
}

impl From<SagaError> for CompensationError {
    fn from(e: SagaError) -> Self {
        Self::Saga(e)
    }
}

impl From<crate::airtable::AirtableError> for CompensationError {
    fn from(e: crate::airtable::AirtableError) -> Self {
        Self::Airtable(e)
    }
}
