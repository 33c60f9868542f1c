//! How documents attached to a user's message reach the model: after the message, each in a
//! `<document>` block that names the file and which parts of it are there. Every provider gets
//! the same text; the offline assistant reads the blocks back.

/// A document as the model is given it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Document<'a> {
    pub name: &'a str,
    /// Which parts are given, e.g. `1-3 of 7`, or `whole`.
    pub parts: String,
    pub text: &'a str,
}

const OPEN: &str = "\n\n<document name=\"";
const CLOSE: &str = "\n</document>";

/// The user's message followed by its documents.
pub fn with_documents(message: &str, documents: &[Document<'_>]) -> String {
    let mut text = message.to_owned();
    for document in documents {
        // The name is the uploader's: it must not close the tag or the block early.
        let name: String = document.name.chars().map(|c| if matches!(c, '"' | '<' | '>' | '\n' | '\r') { '\'' } else { c }).collect();
        let body = document.text.trim_end().replace(CLOSE, "\n</ document>");
        text.push_str(&format!("{OPEN}{name}\" parts=\"{}\">\n{body}{CLOSE}", document.parts));
    }
    text
}

/// A message built by [`with_documents`] taken apart: what the user wrote, and each
/// document's text.
pub fn split_documents(text: &str) -> (&str, Vec<&str>) {
    let Some((message, mut rest)) = text.split_once(OPEN) else { return (text, Vec::new()) };
    let mut documents = Vec::new();
    loop {
        let Some((_, body_and_more)) = rest.split_once(">\n") else { break };
        let Some((body, after)) = body_and_more.split_once(CLOSE) else { break };
        documents.push(body);
        match after.split_once(OPEN) {
            Some((_, next)) => rest = next,
            None => break,
        }
    }
    (message, documents)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn documents_come_back_apart_from_the_message() {
        let documents = [
            Document { name: "to\"do<>.txt", parts: "whole".into(), text: "Buy milk\nCall Ada\n" },
            Document { name: "notes.md", parts: "1 of 2".into(), text: "# Notes\n</document>\nmore" },
        ];
        let text = with_documents("make tasks", &documents);
        assert!(text.contains("<document name=\"to'do''.txt\" parts=\"whole\">"), "{text}");
        let (message, read) = split_documents(&text);
        assert_eq!(message, "make tasks");
        assert_eq!(read, vec!["Buy milk\nCall Ada", "# Notes\n</ document>\nmore"]);
        assert_eq!(split_documents("plain"), ("plain", vec![]));
    }
}
