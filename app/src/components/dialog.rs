//! Modal dialogs that follow a signal.

use leptos::html::Dialog;
use leptos::prelude::*;

/// Opens `dialog` as a modal while `open` is true, and closes it when it turns false.
pub fn modal_while(dialog: NodeRef<Dialog>, open: impl Fn() -> bool + 'static) {
    Effect::new(move |_| {
        let open = open();
        if let Some(dialog) = dialog.get() {
            if open && !dialog.open() {
                let _ = dialog.show_modal();
            } else if !open && dialog.open() {
                dialog.close();
            }
        }
    });
}
