//! The "Export CSV" button: the dashboard of the chosen range, downloaded as a file.

use leptos::prelude::*;

use super::range::Choice;
use super::{export_csv, file_name, now_ms};

#[component]
pub fn ExportButton(choice: Memo<Choice>) -> impl IntoView {
    let exporting = RwSignal::new(false);
    let error = RwSignal::new(None::<String>);
    let export = move |_| {
        let choice = choice.get_untracked();
        exporting.set(true);
        error.set(None);
        leptos::task::spawn_local(async move {
            let (from, to) = choice.range.bounds(now_ms());
            match export_csv(from, to, choice.all_users).await {
                Ok(csv) => {
                    if download(&file_name(from, to), &csv).is_err() {
                        error.set(Some("The browser refused the download. Allow downloads for this site and try again.".into()));
                    }
                }
                Err(e) => error.set(Some(e.to_string())),
            }
            exporting.set(false);
        });
    };
    view! {
        <div class="export">
            <button type="button" class="button secondary" disabled=move || exporting.get() on:click=export>
                {move || if exporting.get() { "Exporting…" } else { "Export CSV" }}
            </button>
            {move || error.get().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        </div>
    }
}

/// Saves `text` as a file named `name`: a Blob behind a temporary link, clicked once.
#[cfg(feature = "hydrate")]
fn download(name: &str, text: &str) -> Result<(), wasm_bindgen::JsValue> {
    use wasm_bindgen::{JsCast, JsValue};
    use web_sys::{Blob, BlobPropertyBag, HtmlAnchorElement, Url};

    let document = web_sys::window().and_then(|w| w.document()).ok_or(JsValue::NULL)?;
    let options = BlobPropertyBag::new();
    options.set_type("text/csv;charset=utf-8");
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

/// On the server the button never runs.
#[cfg(not(feature = "hydrate"))]
fn download(_name: &str, _text: &str) -> Result<(), ()> {
    Ok(())
}
