//! A conversation's live event stream in the browser: the text of the step in progress, and
//! counters that tell the page to read the conversation again. On the server it never opens.

use leptos::prelude::*;

/// The stream of at most one conversation at a time. Cheap to copy.
#[derive(Clone, Copy)]
pub struct Live {
    /// The conversation whose stream is open.
    conversation: RwSignal<Option<String>>,
    /// What the assistant has written so far in the step in progress, as plain text.
    pub text: RwSignal<String>,
    /// Counts `changed` and `done` events: the conversation changed on the server.
    pub changes: RwSignal<u32>,
    /// Counts finished turns: the sidebar and the spending changed too.
    pub turns: RwSignal<u32>,
    #[cfg(feature = "hydrate")]
    source: StoredValue<Option<browser::Source>, LocalStorage>,
}

impl Live {
    pub fn new() -> Self {
        Self {
            conversation: RwSignal::new(None),
            text: RwSignal::new(String::new()),
            changes: RwSignal::new(0),
            turns: RwSignal::new(0),
            #[cfg(feature = "hydrate")]
            source: StoredValue::new_local(None),
        }
    }

    /// Whether a stream is open (tracked).
    pub fn is_open(self) -> bool {
        self.conversation.with(Option::is_some)
    }

    /// Whether a stream is open (untracked, for event handlers).
    pub fn is_open_untracked(self) -> bool {
        self.conversation.with_untracked(Option::is_some)
    }

    /// The conversation whose stream is open (untracked).
    pub fn conversation_id(self) -> Option<String> {
        self.conversation.get_untracked()
    }

    /// Whether the stream of `conversation_id` is open (untracked, for event handlers).
    pub fn is_open_for(self, conversation_id: &str) -> bool {
        self.conversation.with_untracked(|c| c.as_deref() == Some(conversation_id))
    }

    /// Starts following the conversation's turn, closing any other stream first. Does nothing
    /// when that conversation's stream is already open.
    pub fn open(self, conversation_id: &str) {
        if self.is_open_for(conversation_id) {
            return;
        }
        self.close();
        self.text.set(String::new());
        self.conversation.set(Some(conversation_id.to_owned()));
        #[cfg(feature = "hydrate")]
        match browser::Source::open(self, conversation_id) {
            Ok(source) => self.source.set_value(Some(source)),
            // Without a stream the page still shows the turn once it is read again.
            Err(()) => self.finish(),
        }
    }

    /// Stops following; what has been saved stays on the page.
    pub fn close(self) {
        #[cfg(feature = "hydrate")]
        if let Some(source) = self.source.try_update_value(Option::take).flatten() {
            drop(source);
        }
        let _ = self.conversation.try_set(None);
        let _ = self.text.try_set(String::new());
    }

    /// The turn is over (or its stream failed): close, and read everything again.
    #[cfg(feature = "hydrate")]
    fn finish(self) {
        self.close();
        // `try_`: a queued finish can run after the page has gone.
        let _ = self.changes.try_update(|n| *n += 1);
        let _ = self.turns.try_update(|n| *n += 1);
    }
}

impl Default for Live {
    fn default() -> Self {
        Self::new()
    }
}

/// Percent-encodes one path segment.
pub fn path_segment(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[cfg(feature = "hydrate")]
mod browser {
    use backend::model::chat::TurnEvent;
    use leptos::prelude::*;
    use wasm_bindgen::JsCast;
    use wasm_bindgen::closure::Closure;
    use web_sys::{Event, EventSource, MessageEvent};

    use super::{Live, path_segment};

    /// An open `EventSource` and its handlers, which must live as long as it does.
    pub struct Source {
        source: EventSource,
        _on_message: Closure<dyn FnMut(MessageEvent)>,
        _on_error: Closure<dyn FnMut(Event)>,
    }

    impl Source {
        pub fn open(live: Live, conversation_id: &str) -> Result<Self, ()> {
            let url = format!("/api/chat/conversations/{}/events", path_segment(conversation_id));
            let source = EventSource::new(&url).map_err(|_| ())?;
            let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |ev: MessageEvent| {
                let Some(data) = ev.data().as_string() else { return };
                let Ok(event) = serde_json::from_str::<TurnEvent>(&data) else { return };
                match event {
                    TurnEvent::Snapshot { text } => live.text.set(text),
                    TurnEvent::Text { delta } => live.text.update(|t| t.push_str(&delta)),
                    // A step was saved: its text now shows as a message, so the live text starts over.
                    TurnEvent::Changed => {
                        live.text.set(String::new());
                        live.changes.update(|n| *n += 1);
                    }
                    // Closed after this handler returns: dropping its own closure inside it is not allowed.
                    TurnEvent::Done { .. } => queue_microtask(move || live.finish()),
                }
            });
            let on_error = {
                let source = source.clone();
                Closure::<dyn FnMut(Event)>::new(move |_: Event| {
                    // CONNECTING means the browser reconnects by itself, and the server sends a
                    // snapshot again; CLOSED means it gave up (the route refused), so stop here.
                    if source.ready_state() == EventSource::CLOSED {
                        queue_microtask(move || live.finish());
                    }
                })
            };
            source.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
            source.set_onerror(Some(on_error.as_ref().unchecked_ref()));
            Ok(Self { source, _on_message: on_message, _on_error: on_error })
        }
    }

    impl Drop for Source {
        fn drop(&mut self) {
            self.source.set_onmessage(None);
            self.source.set_onerror(None);
            self.source.close();
        }
    }
}
