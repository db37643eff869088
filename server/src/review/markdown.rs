//! Markdown to safe HTML: parsed with pulldown-cmark, with raw HTML shown as text and images shown
//! as text (no remote fetch from a reviewer's browser), then sanitised with ammonia (no scripts, no
//! event handlers, no `javascript:` links; links get `rel="noopener noreferrer"`).

use pulldown_cmark::{Event, Options, Parser, Tag, TagEnd};
use std::num::NonZeroUsize;
use std::sync::{Arc, Mutex};

/// Rendered comment versions, by (comment, version): a version never changes, so its HTML is
/// rendered once and reused by every page that shows it.
pub struct Cache(Mutex<lru::LruCache<(i64, u32), Arc<str>>>);

impl Cache {
    pub fn new(capacity: usize) -> Cache {
        Cache(Mutex::new(lru::LruCache::new(NonZeroUsize::new(capacity.max(1)).expect("non-zero"))))
    }

    pub fn render(&self, comment_id: i64, version: u32, markdown: &str) -> Arc<str> {
        if let Some(hit) = self.0.lock().expect("cache lock").get(&(comment_id, version)) {
            return Arc::clone(hit);
        }
        let html: Arc<str> = render(markdown).into();
        self.0.lock().expect("cache lock").put((comment_id, version), Arc::clone(&html));
        html
    }
}

/// Renders a comment's Markdown to HTML that is safe to insert into a page.
pub fn render(markdown: &str) -> String {
    let options = Options::ENABLE_TABLES | Options::ENABLE_STRIKETHROUGH | Options::ENABLE_TASKLISTS;
    let events = Parser::new_ext(markdown, options).filter_map(|event| match event {
        // Raw HTML is shown as the text it is, never interpreted.
        Event::Html(html) | Event::InlineHtml(html) => Some(Event::Text(html)),
        // An image becomes its address and description as text: nothing is fetched.
        Event::Start(Tag::Image { dest_url, .. }) => Some(Event::Text(format!("[image: {dest_url}] ").into())),
        Event::End(TagEnd::Image) => None,
        other => Some(other),
    });
    let mut html = String::with_capacity(markdown.len() * 3 / 2);
    pulldown_cmark::html::push_html(&mut html, events);
    ammonia::Builder::default()
        .rm_tags(["img"])
        .link_rel(Some("noopener noreferrer"))
        .url_schemes(["http", "https", "mailto"].into_iter().collect())
        .clean(&html)
        .to_string()
}

#[cfg(test)]
mod tests {
    use super::render;

    #[test]
    fn markdown_renders_to_html() {
        assert_eq!(render("**bold** and `code`"), "<p><strong>bold</strong> and <code>code</code></p>\n");
        assert!(render("- a\n- b").contains("<li>a</li>"));
    }

    #[test]
    fn raw_html_and_scripts_come_out_as_text() {
        let html = render("<script>alert(1)</script> <b onclick=\"x()\">hi</b>");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("<b"), "{html}");
        assert!(html.contains("&lt;script&gt;"), "{html}");
    }

    #[test]
    fn javascript_links_are_inert_and_links_do_not_leak_the_opener() {
        let html = render("[click](javascript:alert(1)) and [site](https://example.org/)");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(html.contains(r#"<a href="https://example.org/" rel="noopener noreferrer">site</a>"#), "{html}");
    }

    #[test]
    fn remote_images_are_not_loaded() {
        let html = render("![tracker](https://evil.example/pixel.png)");
        assert!(!html.contains("<img"), "{html}");
        assert!(html.contains("[image: https://evil.example/pixel.png]"), "{html}");
    }
}
