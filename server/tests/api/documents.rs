//! Documents attached in the chat: text, Markdown, PDF and Word files uploaded, their text given
//! to the model with the message (within its budget), and the offline assistant making a
//! record for each line of one.

use backend::db::Dialect;
use reqwest::StatusCode;
use serde_json::Value;

use crate::chat::{Chatter, app_with_model, last_message};
use crate::fake_openai::{FakeOpenAi, FakeReply};
use crate::helpers::{TestApp, on_both_databases};

/// The user's message as the model was sent it in request `n`.
fn user_message(fake: &FakeOpenAi, n: usize) -> String {
    let request = &fake.requests()[n];
    let message = request["messages"].as_array().unwrap().iter().rev().find(|m| m["role"] == "user").unwrap();
    message["content"].as_str().unwrap().to_owned()
}

/// A one-page PDF whose text layer holds `lines`, written as a PDF writer would.
fn pdf(lines: &[&str]) -> Vec<u8> {
    use lopdf::content::{Content, Operation};
    use lopdf::{Document, Object, Stream, dictionary};
    let mut doc = Document::with_version("1.5");
    let pages_id = doc.new_object_id();
    let font_id = doc.add_object(dictionary! { "Type" => "Font", "Subtype" => "Type1", "BaseFont" => "Helvetica" });
    let resources_id = doc.add_object(dictionary! { "Font" => dictionary! { "F1" => font_id } });
    let mut operations = vec![Operation::new("BT", vec![]), Operation::new("Tf", vec!["F1".into(), 12.into()]), Operation::new("Td", vec![72.into(), 720.into()])];
    for line in lines {
        operations.push(Operation::new("Tj", vec![Object::string_literal(*line)]));
        operations.push(Operation::new("Td", vec![0.into(), (-16).into()]));
    }
    operations.push(Operation::new("ET", vec![]));
    let content = Content { operations }.encode().unwrap();
    let content_id = doc.add_object(Stream::new(dictionary! {}, content));
    let page_id = doc.add_object(dictionary! { "Type" => "Page", "Parent" => pages_id, "Contents" => content_id });
    let pages = dictionary! {
        "Type" => "Pages", "Kids" => vec![page_id.into()], "Count" => 1, "Resources" => resources_id,
        "MediaBox" => vec![0.into(), 0.into(), 612.into(), 792.into()],
    };
    doc.objects.insert(pages_id, Object::Dictionary(pages));
    let catalog_id = doc.add_object(dictionary! { "Type" => "Catalog", "Pages" => pages_id });
    doc.trailer.set("Root", catalog_id);
    let mut bytes = Vec::new();
    doc.save_to(&mut bytes).unwrap();
    bytes
}

/// A Word file of `paragraphs`.
fn docx(paragraphs: &[&str]) -> Vec<u8> {
    let mut doc = docx_rs::Docx::new();
    for text in paragraphs {
        doc = doc.add_paragraph(docx_rs::Paragraph::new().add_run(docx_rs::Run::new().add_text(*text)));
    }
    let mut bytes = std::io::Cursor::new(Vec::new());
    doc.build().pack(&mut bytes).unwrap();
    bytes.into_inner()
}

async fn text_markdown_pdf_and_word_files_reach_the_model_after_the_message(dialect: Dialect) {
    let fake = FakeOpenAi::start(vec![FakeReply::text("I read them.")]).await;
    let ada = Chatter::new(app_with_model(dialect, &fake, |_| {}).await).await;
    let app = &ada.app;
    // Windows-1252, as an older editor saves it: the model gets it as UTF-8.
    let txt = app.uploaded(&ada.token, "todo.txt", b"Pay the caf\xe9 invoice\nBook the room\n".to_vec()).await;
    let md = app.uploaded(&ada.token, "plan.md", b"# Plan\n\n- Draft the launch post\n".to_vec()).await;
    let pdf = app.uploaded(&ada.token, "minutes.pdf", pdf(&["Action: call the printer", "Action: order badges"])).await;
    let docx = app.uploaded(&ada.token, "notes.docx", docx(&["Decisions", "Ship on Friday"])).await;
    let ids = [txt.id.as_str(), md.id.as_str(), pdf.id.as_str(), docx.id.as_str()];

    let sent = ada.post_chat_with("Make tasks from these", None, &ids).await;
    assert_eq!(sent.status(), StatusCode::OK);
    let reply: Value = sent.json().await.unwrap();
    assert_eq!(reply["status"], "complete", "{reply}");

    let content = user_message(&fake, 0);
    assert!(content.starts_with("Make tasks from these\n\n<document name=\"todo.txt\" parts=\"whole\">\nPay the café invoice\nBook the room\n</document>"), "{content}");
    assert!(content.contains("<document name=\"plan.md\" parts=\"whole\">\n# Plan\n\n- Draft the launch post\n</document>"), "{content}");
    assert!(content.contains("<document name=\"minutes.pdf\" parts=\"whole\">"), "{content}");
    assert!(content.contains("Action: call the printer") && content.contains("Action: order badges"), "the PDF's text layer: {content}");
    assert!(content.contains("<document name=\"notes.docx\" parts=\"whole\">\nDecisions\nShip on Friday\n</document>"), "{content}");
    let system = fake.requests()[0]["messages"][0]["content"].as_str().unwrap().to_owned();
    assert!(system.contains("<document> blocks"), "the model is told how documents come: {system}");

    // The conversation shows which files went with the message, never their text.
    let session = reply["session_id"].as_str().unwrap();
    let conversation = ada.idle(session).await;
    let attachments = conversation["messages"][0]["attachments"].as_array().unwrap().clone();
    let names: Vec<&str> = attachments.iter().map(|a| a["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["todo.txt", "plan.md", "minutes.pdf", "notes.docx"]);
    assert!(attachments.iter().all(|a| a["whole"] == true && a.get("text").is_none()), "{attachments:?}");

    // The documents stay in the history for the next message, even once the file is gone.
    app.services.files.delete(&ada.user, &txt.id).await.unwrap();
    fake.push(FakeReply::text("Still here."));
    ada.chat("And the first file?", Some(session)).await;
    let history = fake.requests()[1]["messages"].as_array().unwrap().clone();
    let first = history.iter().find(|m| m["role"] == "user").unwrap()["content"].as_str().unwrap().to_owned();
    assert!(first.contains("Pay the café invoice"), "{first}");
}

async fn a_long_document_is_given_in_the_parts_that_fit_and_the_model_is_told(dialect: Dialect) {
    let fake = FakeOpenAi::start(vec![FakeReply::text("Read the start.")]).await;
    let ada = Chatter::new(app_with_model(dialect, &fake, |_| {}).await).await;
    // 2,500 lines of 80 characters: 200,000 characters, far past the 16,000 tokens documents get.
    let text: String = (1..=2_500).map(|n| format!("Line {n:05} {}\n", "x".repeat(68))).collect();
    let file = ada.app.uploaded(&ada.token, "long.txt", text.into_bytes()).await;
    let reply: Value = ada.post_chat_with("Summarize", None, &[&file.id]).await.json().await.unwrap();

    let content = user_message(&fake, 0);
    // Parts of 100 lines; eight fit the budget, sixteen were read to tell that the file goes on.
    assert!(content.contains("<document name=\"long.txt\" parts=\"1-8 of more than 16\">\nLine 00001 "), "{}", content.chars().take(200).collect::<String>());
    assert!(content.contains("Line 00800 ") && !content.contains("Line 00801 "), "the parts end at a line end, within the budget");
    let conversation = ada.idle(reply["session_id"].as_str().unwrap()).await;
    let attached = &conversation["messages"][0]["attachments"][0];
    assert_eq!((attached["whole"].clone(), attached["given"].clone(), attached["parts"].clone()), (false.into(), 8.into(), 16.into()));
}

async fn files_that_cant_be_attached_are_refused_with_the_reason(app: TestApp) {
    let ada = Chatter::new(app).await;
    let app = &ada.app;
    let refused = |response: reqwest::Response| async move {
        assert_eq!(response.status(), StatusCode::BAD_REQUEST);
        response.json::<Value>().await.unwrap()["error"].as_str().unwrap().to_owned()
    };

    let scanned = app.uploaded(&ada.token, "scan.pdf", pdf(&[])).await;
    let message = refused(ada.post_chat_with("Read this", None, &[&scanned.id]).await).await;
    assert!(message.contains("no text layer"), "{message}");

    let workbook = {
        let mut book = rust_xlsxwriter::Workbook::new();
        let sheet = book.add_worksheet();
        sheet.write_string(0, 0, "Name").unwrap();
        sheet.write_string(1, 0, "Ada").unwrap();
        app.uploaded(&ada.token, "book.xlsx", book.save_to_buffer().unwrap()).await
    };
    let message = refused(ada.post_chat_with("Read this", None, &[&workbook.id]).await).await;
    assert!(message.contains("import it into a table"), "{message}");

    // Another user's file is not there for Bob, whatever its ID.
    app.services.auth.users.create("bob@example.com", "correct horse battery", false).await.unwrap();
    let bob = app.access_token("bob@example.com", "correct horse battery").await;
    let theirs = app.uploaded(&ada.token, "mine.txt", b"Ada's notes".to_vec()).await;
    let body = serde_json::json!({ "message": "Read this", "attachments": [theirs.id] });
    let answered = app.client.post(app.url("/api/chat")).bearer_auth(&bob).json(&body).send().await.unwrap();
    assert_eq!(answered.status(), StatusCode::NOT_FOUND);
    let message = answered.json::<Value>().await.unwrap()["error"].as_str().unwrap().to_owned();
    assert!(message.contains("file was not found"), "{message}");

    let many: Vec<&str> = std::iter::repeat_n(theirs.id.as_str(), 6).collect();
    let message = refused(ada.post_chat_with("Read these", None, &many).await).await;
    assert!(message.contains("at most 5 files"), "{message}");
    let listed = app.services.chat.conversations(&ada.user, "").await.unwrap();
    assert!(listed.is_empty(), "a refused message starts no conversation: {listed:?}");
}

async fn the_offline_assistant_adds_a_record_for_each_line_of_an_attached_file(app: TestApp) {
    let ada = Chatter::new(app).await;
    let file = ada.app.uploaded(&ada.token, "actions.md", "- Call the printer\n- Order badges\n\n- Book the café\n".as_bytes().to_vec()).await;
    let asked: Value = ada.post_chat_with("add a record to Tasks for each line of the attached file", None, &[&file.id]).await.json().await.unwrap();
    assert_eq!(asked["status"], "awaiting_approval", "{asked}");
    let session = asked["session_id"].as_str().unwrap();
    let call_id = asked["pending_approvals"][0]["call_id"].as_str().unwrap();

    let after = ada.answer(session, call_id, "allow_once").await;
    let names = ada.task_names().await;
    for name in ["Call the printer", "Order badges", "Book the café"] {
        assert!(names.contains(&name.to_owned()), "{name} in {names:?}");
    }
    assert!(last_message(&after)["text"].as_str().unwrap().contains('3'), "{}", last_message(&after));
}

on_both_databases!(dialect: text_markdown_pdf_and_word_files_reach_the_model_after_the_message, a_long_document_is_given_in_the_parts_that_fit_and_the_model_is_told);
on_both_databases!(files_that_cant_be_attached_are_refused_with_the_reason, the_offline_assistant_adds_a_record_for_each_line_of_an_attached_file);
