//! The only parts of the UI that run in the browser. Each is small and optional: every page works
//! without them (server-rendered links and forms), and they add comfort when the WASM loads.

use leptos::prelude::*;

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

/// Highlights the line range named in the URL fragment (`#L10-L20`) and lets a click on a line
/// number, or shift-click, select a line or a range, keeping the permalink in the address bar.
#[island]
pub fn LineSelection() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        Effect::new(move |_| browser::select_lines(&browser::current_hash(), true));
        let anchor = StoredValue::new(None::<u32>);
        let _ = window_event_listener(leptos::ev::hashchange, move |_| {
            browser::select_lines(&browser::current_hash(), false)
        });
        let _ = window_event_listener(leptos::ev::click, move |event| {
            let Some(target) = event.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else {
                return;
            };
            let Some(link) = target.closest("td.ln a").ok().flatten() else {
                return;
            };
            let Some(line) = link.text_content().and_then(|t| t.trim().parse::<u32>().ok()) else {
                return;
            };
            event.prevent_default();
            let fragment = match anchor.get_value() {
                Some(start) if event.shift_key() && start != line => {
                    format!("#L{}-L{}", start.min(line), start.max(line))
                }
                _ => {
                    anchor.set_value(Some(line));
                    format!("#L{line}")
                }
            };
            browser::set_hash(&fragment);
            browser::select_lines(&fragment, false);
        });
    }
    view! { <span hidden></span> }
}

/// Switches between the light and the dark theme and remembers the choice in this browser.
#[island]
pub fn ThemeToggle() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        if let Some(theme) = browser::storage().and_then(|s| s.get_item("theme").ok().flatten()) {
            if let Some(root) = browser::document().document_element() {
                let _ = root.set_attribute("data-theme", &theme);
            }
        }
    });
    let toggle = move |_| {
        #[cfg(feature = "hydrate")]
        {
            let Some(root) = browser::document().document_element() else {
                return;
            };
            let dark_now = match root.get_attribute("data-theme").as_deref() {
                Some("dark") => true,
                Some(_) => false,
                None => web_sys::window()
                    .and_then(|w| w.match_media("(prefers-color-scheme: dark)").ok().flatten())
                    .map(|m| m.matches())
                    .unwrap_or(false),
            };
            let next = if dark_now { "light" } else { "dark" };
            let _ = root.set_attribute("data-theme", next);
            if let Some(storage) = browser::storage() {
                let _ = storage.set_item("theme", next);
            }
        }
    };
    view! {
        <button type="button" class="button subtle theme-toggle" title="Switch light or dark theme" on:click=toggle>
            "◐"
        </button>
    }
}

/// Rewrites every `<time class="local-time">` in the viewer's time zone; UTC stays in the title.
#[island]
pub fn LocalTimes() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| {
        for element in browser::query_all("time.local-time[data-ms]") {
            let Some(ms) = element.get_attribute("data-ms").and_then(|v| v.parse::<f64>().ok()) else {
                continue;
            };
            let date = js_sys::Date::new(&wasm_bindgen::JsValue::from_f64(ms));
            let local: String = date.to_locale_string("default", &wasm_bindgen::JsValue::UNDEFINED).into();
            element.set_text_content(Some(&local));
        }
    });
    view! { <span hidden></span> }
}

/// Keyboard navigation: `t` or `/` focuses the file filter, `j`/`k` move the selected line, `n`/`p`
/// open the next or previous file beside the code, `c` comments on the selected lines, `r` marks the
/// file reviewed, `?` shows the keys, `Escape` leaves a field or closes the help.
#[island]
pub fn Keyboard() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let _ = window_event_listener(leptos::ev::keydown, move |event| {
            let in_field = event
                .target()
                .and_then(|t| t.dyn_into::<web_sys::Element>().ok())
                .map(|e| matches!(e.tag_name().as_str(), "INPUT" | "TEXTAREA" | "SELECT"))
                .unwrap_or(false);
            if event.key() == "Escape" {
                if let Some(help) = browser::document().get_element_by_id("keys-help") {
                    let _ = help.set_attribute("hidden", "");
                }
                if let Some(active) = browser::document().active_element() {
                    if let Ok(element) = active.dyn_into::<web_sys::HtmlElement>() {
                        let _ = element.blur();
                    }
                }
                return;
            }
            if in_field || event.ctrl_key() || event.meta_key() || event.alt_key() {
                return;
            }
            let click = |id: &str| {
                browser::document()
                    .get_element_by_id(id)
                    .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
                    .map(|e| e.click())
                    .is_some()
            };
            match event.key().as_str() {
                "t" | "/" => {
                    if let Some(filter) = browser::document().get_element_by_id("file-filter") {
                        if let Ok(input) = filter.dyn_into::<web_sys::HtmlElement>() {
                            event.prevent_default();
                            let _ = input.focus();
                        }
                    }
                }
                "j" | "k" => {
                    let current =
                        crate::model::LineRange::parse(&browser::current_hash()).map(|r| r.first).unwrap_or(0);
                    let next = if event.key() == "j" { current + 1 } else { current.saturating_sub(1).max(1) };
                    if browser::document().get_element_by_id(&format!("L{next}")).is_some() {
                        let fragment = format!("#L{next}");
                        browser::set_hash(&fragment);
                        browser::select_lines(&fragment, true);
                    }
                }
                "n" | "p" => {
                    let files = browser::query_all(".file-list.side li.entry.file a");
                    let current = browser::query_all(".file-list.side li.entry.current a").into_iter().next();
                    let at = current.and_then(|c| files.iter().position(|f| f.is_same_node(Some(&c))));
                    let target = match (at, event.key().as_str()) {
                        (Some(i), "n") => files.get(i + 1),
                        (Some(i), _) => i.checked_sub(1).and_then(|i| files.get(i)),
                        (None, _) => files.first(),
                    };
                    if let Some(link) = target.and_then(|t| t.clone().dyn_into::<web_sys::HtmlElement>().ok()) {
                        link.click();
                    }
                }
                "c" => {
                    if click("composer-open") {
                        event.prevent_default();
                    }
                }
                "r" => {
                    if let Some(form) = browser::document().get_element_by_id("reviewed-form") {
                        if let Ok(form) = form.dyn_into::<web_sys::HtmlFormElement>() {
                            let _ = form.request_submit();
                        }
                    }
                }
                "?" => {
                    if let Some(help) = browser::document().get_element_by_id("keys-help") {
                        let _ = help.toggle_attribute("hidden");
                    }
                }
                _ => {}
            }
        });
    }
    view! { <span hidden></span> }
}

/// The comment composer: a plain form (it works without JavaScript, with line numbers typed in);
/// with JavaScript, `c` or its button opens it right under the selected lines, filled in.
#[island]
pub fn Composer(pin: String, path: String, csrf: String, back: String) -> impl IntoView {
    let open_under_selection = move |_| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let document = browser::document();
            let Some(section) = document.get_element_by_id("composer") else { return };
            let range = crate::model::LineRange::parse(&browser::current_hash()).ok();
            let set = |id: &str, value: String| {
                if let Some(input) =
                    document.get_element_by_id(id).and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
                {
                    input.set_value(&value);
                }
            };
            set("composer-start", range.map(|r| r.first.to_string()).unwrap_or_default());
            set("composer-end", range.map(|r| r.last.to_string()).unwrap_or_default());
            if let Some(back) =
                document.get_element_by_id("composer-back").and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
            {
                let page = back.value();
                let page = page.split('#').next().unwrap_or("").to_string();
                back.set_value(&match range {
                    Some(r) => format!("{page}#{r}"),
                    None => page,
                });
            }
            // Under the last selected line: a row of its own in the code table.
            if let Some(row) = range.and_then(|r| document.get_element_by_id(&format!("L{}", r.last))) {
                let holder = document.get_element_by_id("composer-row").unwrap_or_else(|| {
                    let tr = document.create_element("tr").expect("a row");
                    tr.set_id("composer-row");
                    let _ = tr.set_attribute("class", "composer-row");
                    let td = document.create_element("td").expect("a cell");
                    let _ = td.set_attribute("colspan", "2");
                    let _ = tr.append_child(&td);
                    tr
                });
                let _ = row.after_with_node_1(&holder);
                if let Some(cell) = holder.first_element_child() {
                    let _ = cell.append_child(&section);
                }
            }
            if let Some(details) = document.get_element_by_id("composer-details") {
                let _ = details.set_attribute("open", "");
            }
            if let Some(body) =
                document.get_element_by_id("composer-body").and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
            {
                let _ = body.focus();
            }
        }
    };
    view! {
        <section class="composer" id="composer" aria-label="New comment">
            <button type="button" id="composer-open" class="button small" on:click=open_under_selection>
                "Comment on the selected lines (c)"
            </button>
            <details id="composer-details">
                <summary>"Comment on this file, or on lines of it"</summary>
                <form method="post" action=format!("/pins/{pin}/comments") class="stack composer-form">
                    <input type="hidden" name="csrf" value=csrf/>
                    <input type="hidden" name="back" id="composer-back" value=back/>
                    <input type="hidden" name="path" value=path/>
                    <div class="composer-lines">
                        <label>"From line" <input type="number" min="1" name="start_line" id="composer-start"/></label>
                        <label>"to line" <input type="number" min="1" name="end_line" id="composer-end"/></label>
                        <span class="muted">"Leave both empty to comment on the whole file."</span>
                    </div>
                    <label>"Comment (Markdown)" <textarea name="body" id="composer-body" rows="5" required></textarea></label>
                    <div class="composer-options">
                        <label>"Severity (makes it a finding)"
                            <select name="severity">
                                <option value="">"none: a comment"</option>
                                {crate::model::Severity::ALL.iter().map(|s| view! { <option value=s.as_str()>{s.as_str()}</option> }).collect_view()}
                            </select>
                        </label>
                        <label class="check"><input type="checkbox" name="private"/>" Private note (only you see it)"</label>
                        <button type="submit" class="button primary">"Save comment"</button>
                    </div>
                </form>
            </details>
        </section>
    }
}

/// A reviewer's remaining time in the header, counting down; ten minutes before the end, a warning.
#[island]
pub fn SessionClock(ends_ms: i64, now_ms: i64) -> impl IntoView {
    let remaining = RwSignal::new(ends_ms - now_ms);
    #[cfg(feature = "hydrate")]
    {
        let tick = move || remaining.set(ends_ms - js_sys::Date::now() as i64);
        tick();
        let handle = leptos::prelude::set_interval_with_handle(tick, std::time::Duration::from_secs(15));
        on_cleanup(move || {
            if let Ok(handle) = handle {
                handle.clear();
            }
        });
    }
    view! {
        <span class="session-clock" class:ending=move || remaining.get() < 10 * 60_000 title="When your access ends">
            {move || format!("{} left", crate::times::duration_text(remaining.get()))}
        </span>
        <Show when=move || { remaining.get() < 10 * 60_000 }>
            <div class="ending-banner" role="alert">
                {move || format!("Your access ends in {}. Save what you are writing.", crate::times::duration_text(remaining.get()))}
            </div>
        </Show>
    }
}

/// Filters the file list beside the code as the user types.
#[island]
pub fn FileFilter() -> impl IntoView {
    let on_input = move |_event: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let Some(input) = _event.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else {
                return;
            };
            let needle = input.value().to_lowercase();
            for item in browser::query_all(".file-list li[data-name]") {
                let name = item.get_attribute("data-name").unwrap_or_default().to_lowercase();
                let hide = !needle.is_empty() && !name.contains(&needle);
                let _ = item.toggle_attribute_with_force("hidden", hide);
            }
        }
    };
    view! {
        <input
            id="file-filter"
            class="file-filter"
            type="search"
            placeholder="Filter files (t)"
            aria-label="Filter files"
            on:input=on_input
        />
    }
}
