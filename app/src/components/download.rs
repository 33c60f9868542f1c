//! Saving text the page holds as a file (a CSV export, a workflow's JSON).

/// Saves `text` as a file named `name`: a Blob of type `mime` behind a temporary link, clicked
/// once.
#[cfg(feature = "hydrate")]
pub fn download(name: &str, mime: &str, text: &str) -> Result<(), wasm_bindgen::JsValue> {
    use leptos::prelude::set_timeout;
    use wasm_bindgen::{JsCast, JsValue};
    use web_sys::{Blob, BlobPropertyBag, HtmlAnchorElement, Url};

    let document = web_sys::window().and_then(|w| w.document()).ok_or(JsValue::NULL)?;
    let options = BlobPropertyBag::new();
    options.set_type(mime);
    let blob = Blob::new_with_str_sequence_and_options(&JsValue::from(vec![JsValue::from_str(text)]), &options)?;
    let url = Url::create_object_url_with_blob(&blob)?;
    let link: HtmlAnchorElement = document.create_element("a")?.dyn_into()?;
    link.set_href(&url);
    link.set_download(name);
    link.set_hidden(true);
    let body = document.body().ok_or(JsValue::NULL)?;
    body.append_child(&link)?;
    link.click();
    link.remove();
    // The browser reads the Blob after this click returns; let it go a little later.
    set_timeout(
        move || {
            let _ = Url::revoke_object_url(&url);
        },
        std::time::Duration::from_secs(30),
    );
    Ok(())
}

/// On the server a download never runs.
#[cfg(not(feature = "hydrate"))]
pub fn download(_name: &str, _mime: &str, _text: &str) -> Result<(), ()> {
    Ok(())
}
