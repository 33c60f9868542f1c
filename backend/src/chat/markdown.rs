//! Chat answers are Markdown written by a model from Airtable text, so they are rendered to
//! HTML and then sanitized: nothing in them may become a script, a form or a tracking pixel.

use pulldown_cmark::{Options, Parser, html};

/// The Markdown `text` as HTML that is safe to insert into the page.
pub fn render(text: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let mut unsafe_html = String::with_capacity(text.len() * 3 / 2);
    html::push_html(&mut unsafe_html, Parser::new_ext(text, options));
    ammonia::Builder::default()
        // Images would load from wherever a record's text points: a tracking pixel at best.
        .rm_tags(&["img"])
        .link_rel(Some("noopener noreferrer nofollow"))
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .clean(&unsafe_html)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markdown_becomes_html() {
        let html = render("**Done**: 3 tasks\n\n| Name | Status |\n|---|---|\n| Launch | Done |");
        assert!(html.contains("<strong>Done</strong>"));
        assert!(html.contains("<table>") && html.contains("<td>Launch</td>"));
    }

    #[test]
    fn scripts_handlers_and_javascript_links_are_removed() {
        let html = render("<script>alert(1)</script><img src=x onerror=alert(2)> <b onclick=\"alert(4)\">b</b>\n\nSee [x](javascript:alert(3)).");
        for bad in ["<script", "onerror", "href=\"javascript:", "onclick", "<img"] {
            assert!(!html.contains(bad), "{bad} survived in {html}");
        }
        assert!(html.contains("<b>b</b>"), "harmless markup stays: {html}");
    }

    #[test]
    fn links_open_safely() {
        let html = render("[docs](https://airtable.com/developers)");
        assert!(html.contains("href=\"https://airtable.com/developers\""));
        assert!(html.contains("rel=\"noopener noreferrer nofollow\""));
    }
}
