//! Sending a picked or dropped file to `POST /api/files/upload`, from the browser. Uploads
//! stream past the 2 MiB limit server functions have, so they can't be a server function.

#[cfg(feature = "hydrate")]
use backend::model::files::FileSummary;

/// Uploads `file`; its summary, or the message to show.
#[cfg(feature = "hydrate")]
pub async fn send(file: web_sys::File) -> Result<FileSummary, String> {
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;
    use web_sys::{FormData, RequestCredentials, RequestInit, Response};

    let failed = |_| "The upload could not be sent. Check your connection and try again.".to_owned();
    let window = web_sys::window().ok_or("The upload needs a browser window.")?;
    let form = FormData::new().map_err(failed)?;
    form.append_with_blob_and_filename("file", &file, &file.name()).map_err(failed)?;
    let init = RequestInit::new();
    init.set_method("POST");
    init.set_credentials(RequestCredentials::SameOrigin);
    init.set_body(&form);
    let response: Response = JsFuture::from(window.fetch_with_str_and_init("/api/files/upload", &init)).await.map_err(failed)?.unchecked_into();
    let text = JsFuture::from(response.text().map_err(failed)?).await.map_err(failed)?.as_string().unwrap_or_default();
    if response.ok() {
        return serde_json::from_str(&text).map_err(|_| "The server's answer could not be read; reload the page.".to_owned());
    }
    // Errors arrive as `{"error": "…"}`, written for the person who sent the file.
    let message = serde_json::from_str::<serde_json::Value>(&text).ok().and_then(|v| v["error"].as_str().map(str::to_owned));
    Err(message.unwrap_or_else(|| format!("The upload failed ({}).", response.status())))
}
