//! The only parts of the UI that run in the browser. Each is small and optional: every page works
//! without them (server-rendered links and forms), and they add comfort when the WASM loads.

/// What several islands do with the page (only in the browser).
#[cfg(feature = "hydrate")]
mod browser {
    use wasm_bindgen::JsCast;

    pub fn document() -> web_sys::Document {
        web_sys::window().and_then(|w| w.document()).expect("a browser document")
    }

    pub fn query_all(selector: &str) -> Vec<web_sys::Element> {
        let mut found = Vec::new();
        if let Ok(list) = document().query_selector_all(selector) {
            for i in 0..list.length() {
                if let Some(element) = list.item(i).and_then(|n| n.dyn_into::<web_sys::Element>().ok()) {
                    found.push(element);
                }
            }
        }
        found
    }

    pub fn storage() -> Option<web_sys::Storage> {
        web_sys::window().and_then(|w| w.local_storage().ok().flatten())
    }

    /// Marks the rows of a line range as selected and scrolls the first into view.
    pub fn select_lines(fragment: &str, scroll: bool) {
        for row in query_all("tr.selected") {
            let _ = row.class_list().remove_1("selected");
        }
        let Ok(range) = crate::model::LineRange::parse(fragment) else {
            return;
        };
        let document = document();
        for line in range.first..=range.last.min(range.first.saturating_add(100_000)) {
            match document.get_element_by_id(&format!("L{line}")) {
                Some(row) => {
                    let _ = row.class_list().add_1("selected");
                }
                None => break,
            }
        }
        if scroll {
            if let Some(first) = document.get_element_by_id(&format!("L{}", range.first)) {
                let options = web_sys::ScrollIntoViewOptions::new();
                options.set_block(web_sys::ScrollLogicalPosition::Center);
                first.scroll_into_view_with_scroll_into_view_options(&options);
            }
        }
    }

    pub fn current_hash() -> String {
        web_sys::window().and_then(|w| w.location().hash().ok()).unwrap_or_default()
    }

    pub fn set_hash(hash: &str) {
        if let Some(window) = web_sys::window() {
            if let Ok(history) = window.history() {
                let _ = history.replace_state_with_url(&wasm_bindgen::JsValue::NULL, "", Some(hash));
            }
        }
    }
}

mod artifact_upload;
mod build_log;
mod composer;
mod copy_button;
mod export_progress;
mod file_filter;
mod file_finder;
mod file_hasher;
mod keyboard;
mod layout_choice;
mod lazy_diffs;
mod line_selection;
mod local_times;
mod result_marks;
mod session_clock;
mod sidebar_tree;
mod symbol_lookup;
mod theme_toggle;
mod window_loader;

pub use artifact_upload::ArtifactUpload;
pub use build_log::BuildLog;
pub use composer::Composer;
pub use copy_button::CopyButton;
pub use export_progress::ExportProgress;
pub use file_filter::FileFilter;
pub use file_finder::FileFinder;
pub use file_hasher::FileHasher;
pub use keyboard::Keyboard;
pub use layout_choice::LayoutChoice;
pub use lazy_diffs::LazyDiffs;
pub use line_selection::LineSelection;
pub use local_times::LocalTimes;
pub use result_marks::ToolResultMarks;
pub use session_clock::SessionClock;
pub use sidebar_tree::SidebarTree;
pub use symbol_lookup::SymbolLookup;
pub use theme_toggle::ThemeToggle;
pub use window_loader::WindowLoader;
