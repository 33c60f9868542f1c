//! Documents attached to a message: read from the user's files when the message is sent, split
//! into parts at line ends, and as many parts kept as fit the model's budget for documents. The
//! kept text is stored with the message, so the conversation reads the same after the file
//! expires.

use serde::{Deserialize, Serialize};

use super::ChatError;
use crate::auth::UserId;
use crate::files::{FileError, Files};
use crate::llm::documents::Document;
use crate::model::chat::AttachmentView;
use crate::model::files::FileKind;
use crate::shown::Shown;

/// A message carries at most this many documents.
const MAX_ATTACHMENTS: usize = 5;
/// A part is about this many characters (some 2,000 tokens).
const PART_CHARS: usize = 8_000;
/// What a token is taken to be, as the history's budget counts it.
const CHARS_PER_TOKEN: usize = 4;

/// A document as stored with its message.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub(crate) struct StoredAttachment {
    pub file_id: String,
    pub name: String,
    pub kind: FileKind,
    /// The parts kept, as one text.
    pub text: String,
    /// Parts kept, from the first.
    pub given: usize,
    /// Parts of the text that was read.
    pub parts: usize,
    /// The file went on past what was read.
    pub more: bool,
}

impl StoredAttachment {
    pub fn view(&self) -> AttachmentView {
        AttachmentView {
            file_id: self.file_id.clone(),
            name: self.name.clone(),
            kind: self.kind,
            whole: self.whole(),
            given: self.given,
            parts: self.parts,
        }
    }

    pub fn for_model(&self) -> Document<'_> {
        let parts = match (self.whole(), self.more) {
            (true, _) => "whole".to_owned(),
            (false, false) => format!("1-{} of {}", self.given, self.parts),
            (false, true) => format!("1-{} of more than {}", self.given, self.parts),
        };
        Document { name: &self.name, parts, text: &self.text }
    }

    fn whole(&self) -> bool {
        self.given == self.parts && !self.more
    }
}

/// Reads the user's files `file_ids`, sharing `token_budget` between them.
///
/// # Errors
/// `Invalid` naming the file that can't be attached, and why.
pub(crate) async fn attach(files: &Files, user: &UserId, file_ids: &[String], token_budget: usize) -> Result<Vec<StoredAttachment>, ChatError> {
    if file_ids.len() > MAX_ATTACHMENTS {
        return Err(ChatError::Invalid(format!("A message can carry at most {MAX_ATTACHMENTS} files; send the others with a next message.")));
    }
    let each_chars = (token_budget * CHARS_PER_TOKEN / file_ids.len().max(1)).max(PART_CHARS);
    let mut attached = Vec::with_capacity(file_ids.len());
    for file_id in file_ids {
        // Reading twice the budget tells how much was left out, without reading a huge file whole.
        let (file, read) = files.document(user, file_id, each_chars * 2).await.map_err(|e| refused(&e))?;
        let parts = split(&read.text, PART_CHARS);
        let mut given = 0;
        let mut kept = 0;
        for part in &parts {
            let chars = part.chars().count();
            if given > 0 && kept + chars > each_chars {
                break;
            }
            kept += chars;
            given += 1;
        }
        let text = parts.iter().take(given).copied().collect::<String>();
        attached.push(StoredAttachment { file_id: file.id, name: file.name, kind: file.kind, text, given, parts: parts.len(), more: read.cut });
    }
    Ok(attached)
}

fn refused(error: &FileError) -> ChatError {
    match error {
        FileError::NotFound => ChatError::FileNotFound,
        other => ChatError::Invalid(format!("That file can't be attached. {}", other.shown())),
    }
}

/// `text` in parts of about `part_chars` characters, each ending at a line end where one is
/// found (a longer line is cut between characters).
fn split(text: &str, part_chars: usize) -> Vec<&str> {
    let mut parts = Vec::new();
    let (mut start, mut count, mut line_end) = (0, 0, None);
    for (at, c) in text.char_indices() {
        if count == part_chars {
            let end = line_end.filter(|end| *end > start).unwrap_or(at);
            parts.push(&text[start..end]);
            count = text[end..at].chars().count();
            (start, line_end) = (end, None);
        }
        count += 1;
        if c == '\n' {
            line_end = Some(at + 1);
        }
    }
    if start < text.len() {
        parts.push(&text[start..]);
    }
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_end_at_line_ends_and_lose_nothing() {
        let text = "one\ntwo\nthree\nfour\n";
        let parts = split(text, 9);
        assert_eq!(parts, vec!["one\ntwo\n", "three\n", "four\n"]);
        assert_eq!(parts.concat(), text);
    }

    #[test]
    fn a_line_longer_than_a_part_is_cut_between_characters() {
        let parts = split("ééééé", 2);
        assert_eq!(parts, vec!["éé", "éé", "é"]);
    }
}
