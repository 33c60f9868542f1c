//! The turns running now, one per conversation at most: how to stop each, and its events for
//! whoever watches (the chat page's event stream, `POST /api/chat`).
//!
//! This lives in the process's memory: a turn belongs to the server that started it.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use tokio::sync::broadcast;
use tokio_util::sync::CancellationToken;

use crate::model::chat::{MessageStatus, TurnEvent};

/// One running turn.
pub(crate) struct Running {
    pub user_id: String,
    pub cancel: CancellationToken,
    /// The text of the step in progress, for listeners who arrive late.
    text: Mutex<String>,
    events: broadcast::Sender<TurnEvent>,
}

impl Running {
    /// More text of the step in progress.
    pub fn text(&self, delta: &str) {
        let mut text = self.text.lock().expect("the live text lock is never poisoned");
        text.push_str(delta);
        let _ = self.events.send(TurnEvent::Text { delta: delta.to_owned() });
    }

    /// A message was saved or changed; the step's text now lives there.
    pub fn changed(&self) {
        self.text.lock().expect("the live text lock is never poisoned").clear();
        let _ = self.events.send(TurnEvent::Changed);
    }

    /// The text so far and the events from here on, taken together so nothing falls between.
    pub fn subscribe(&self) -> (String, broadcast::Receiver<TurnEvent>) {
        let text = self.text.lock().expect("the live text lock is never poisoned");
        (text.clone(), self.events.subscribe())
    }
}

/// Every running turn, by conversation ID. Cheap to clone.
#[derive(Clone, Default)]
pub(crate) struct Live {
    turns: Arc<Mutex<HashMap<String, Arc<Running>>>>,
}

impl Live {
    /// Registers a turn for the conversation, or `None` when one already runs there.
    pub fn start(&self, conversation_id: &str, user_id: &str) -> Option<Arc<Running>> {
        let mut turns = self.turns.lock().expect("the turns lock is never poisoned");
        if turns.contains_key(conversation_id) {
            return None;
        }
        // Text pieces are small and listeners read fast; a slow one that falls this far behind
        // re-reads the conversation when it sees `Lagged`.
        let (events, _) = broadcast::channel(1024);
        let running = Arc::new(Running { user_id: user_id.to_owned(), cancel: CancellationToken::new(), text: Mutex::default(), events });
        turns.insert(conversation_id.to_owned(), running.clone());
        Some(running)
    }

    pub fn get(&self, conversation_id: &str) -> Option<Arc<Running>> {
        self.turns.lock().expect("the turns lock is never poisoned").get(conversation_id).cloned()
    }

    /// Ends the turn: listeners get `Done`, and the conversation is free for the next turn.
    pub fn finish(&self, conversation_id: &str, status: MessageStatus) {
        if let Some(running) = self.turns.lock().expect("the turns lock is never poisoned").remove(conversation_id) {
            let _ = running.events.send(TurnEvent::Done { status });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_turn_runs_per_conversation() {
        let live = Live::default();
        assert!(live.start("c1", "u").is_some());
        assert!(live.start("c1", "u").is_none());
        assert!(live.start("c2", "u").is_some());
        live.finish("c1", MessageStatus::Complete);
        assert!(live.start("c1", "u").is_some());
    }

    #[tokio::test]
    async fn a_late_listener_gets_the_text_so_far_then_what_follows() {
        let live = Live::default();
        let running = live.start("c", "u").unwrap();
        running.text("Hel");
        let (snapshot, mut events) = running.subscribe();
        running.text("lo");
        live.finish("c", MessageStatus::Complete);
        assert_eq!(snapshot, "Hel");
        assert_eq!(events.recv().await.unwrap(), TurnEvent::Text { delta: "lo".into() });
        assert_eq!(events.recv().await.unwrap(), TurnEvent::Done { status: MessageStatus::Complete });
    }
}
