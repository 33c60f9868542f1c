use reqwest::StatusCode;

use crate::helpers::{TestApp, on_both_databases};

on_both_databases!(the_home_page_is_rendered_on_the_server, an_unknown_address_gets_the_404_page);

async fn the_home_page_is_rendered_on_the_server(app: TestApp) {
    let response = app.get("/").await;
    assert_eq!(response.status(), StatusCode::OK);
    let html = response.text().await.unwrap();
    assert!(html.contains("An AI workspace for your Airtable bases"), "{html}");
    assert!(html.contains("/pkg/pyairtable.js"), "the page loads the hydration script");
    // The health card is rendered on the server with real data, not a placeholder.
    let detail = format!("{}, {} migrations applied", app.db.dialect.name(), app.services.db.known_migrations());
    assert!(html.contains(&detail), "{html}");
}

async fn an_unknown_address_gets_the_404_page(app: TestApp) {
    let response = app.get("/no/such/page").await;
    assert_eq!(response.status(), StatusCode::NOT_FOUND);
    let html = response.text().await.unwrap();
    assert!(html.contains("Page not found"), "{html}");
}
