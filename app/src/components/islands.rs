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
            let Some(link) = target.closest("table.code td.ln").ok().flatten() else {
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

/// Keyboard navigation: `t` finds a file (or focuses the file filter), `/` searches the pin,
/// `j`/`k` move the selected line, `n`/`p`
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
                "t" if click("finder-open") => event.prevent_default(),
                "/" => {
                    if let Some(search) = browser::document().get_element_by_id("search-box") {
                        if let Ok(input) = search.dyn_into::<web_sys::HtmlElement>() {
                            event.prevent_default();
                            let _ = input.focus();
                        }
                    } else if click("search-tab") {
                        event.prevent_default();
                    }
                }
                "t" => {
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
                "c" if click("composer-open") => event.prevent_default(),
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

/// The diff layout switch: two links (they work without JavaScript); with it, the choice is also
/// remembered for the next diff (a `diff_layout` cookie the server reads).
#[island]
pub fn LayoutChoice(current: String) -> impl IntoView {
    let remember = move |choice: &'static str| {
        move |_| {
            #[cfg(feature = "hydrate")]
            {
                use wasm_bindgen::JsCast;
                if let Ok(document) = browser::document().dyn_into::<web_sys::HtmlDocument>() {
                    let _ = document
                        .set_cookie(&format!("diff_layout={choice}; path=/; max-age=31536000; SameSite=Strict"));
                }
            }
            #[cfg(not(feature = "hydrate"))]
            let _ = choice;
        }
    };
    view! {
        <span class="layout-choice" role="group" aria-label="Layout">
            <a class="button small" class:primary=current == "unified" href="?view=unified" on:click=remember("unified")>"Unified"</a>
            <a class="button small" class:primary=current == "split" href="?view=split" on:click=remember("split")>"Side by side"</a>
        </span>
    }
}

/// "Go to file" (`t`): a fuzzy finder over the pin's paths, best matches first.
#[island]
pub fn FileFinder(pin: String) -> impl IntoView {
    let open = RwSignal::new(false);
    let results = RwSignal::new(Vec::<crate::model::FoundFile>::new());
    #[cfg(feature = "hydrate")]
    let asked = StoredValue::new(0u32);
    let pin_for_search = pin.clone();
    let on_input = move |_event: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let Some(input) = _event.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else {
                return;
            };
            let query = input.value();
            let pin = pin_for_search.clone();
            let ticket = asked.get_value() + 1;
            asked.set_value(ticket);
            leptos::task::spawn_local(async move {
                if query.trim().is_empty() {
                    results.set(Vec::new());
                    return;
                }
                if let Ok(found) = crate::api::find_files(pin, query).await {
                    // Only the answer to the latest keystroke counts.
                    if asked.get_value() == ticket {
                        results.set(found);
                    }
                }
            });
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = &pin_for_search;
    };
    let show = move |_| {
        open.set(true);
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            if let Some(input) = browser::document()
                .get_element_by_id("finder-input")
                .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
            {
                let _ = input.focus();
            }
        }
    };
    let pin_for_links = pin.clone();
    view! {
        <button type="button" id="finder-open" class="button small subtle" on:click=show title="Go to file (t)">"Go to file"</button>
        <div class="finder" role="dialog" aria-label="Go to file" hidden=move || !open.get()>
            <input id="finder-input" type="search" placeholder="Type part of a path" aria-label="File path" on:input=on_input
                on:keydown=move |event: leptos::ev::KeyboardEvent| {
                    if event.key() == "Escape" {
                        open.set(false);
                    }
                    #[cfg(feature = "hydrate")]
                    if event.key() == "Enter" {
                        if let Some(first) = browser::query_all(".finder li a").into_iter().next() {
                            use wasm_bindgen::JsCast;
                            if let Ok(link) = first.dyn_into::<web_sys::HtmlElement>() {
                                link.click();
                            }
                        }
                    }
                }/>
            <ul class="finder-results">
                {move || {
                    let pin = pin_for_links.clone();
                    results.get().into_iter().map(move |found| {
                        let href = format!("/pins/{pin}/blob/{}", crate::model::RepoPath::parse(&found.path).map(|p| p.url_encoded()).unwrap_or_default());
                        let positions: std::collections::HashSet<u32> = found.positions.iter().copied().collect();
                        let chars = found.path.chars().enumerate().map(|(i, c)| {
                            if positions.contains(&(i as u32)) {
                                view! { <b>{c.to_string()}</b> }.into_any()
                            } else {
                                c.to_string().into_any()
                            }
                        }).collect_view();
                        view! { <li><a href=href>{chars}</a></li> }
                    }).collect_view()
                }}
            </ul>
        </div>
    }
}

/// Go to definition: a click on a name in the code shows where it is likely defined and used in the
/// pin (search-based, from the pin's definitions and a whole-word search), each a link to the line.
#[island]
pub fn SymbolLookup(pin: String) -> impl IntoView {
    let answer = RwSignal::new(None::<crate::model::SymbolView>);
    let busy = RwSignal::new(false);
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let pin = pin.clone();
        let _ = window_event_listener(leptos::ev::click, move |event| {
            let Some(target) = event.target().and_then(|t| t.dyn_into::<web_sys::Element>().ok()) else { return };
            if target.closest("table.code td.lc").ok().flatten().is_none()
                || target.closest("a, .thread").ok().flatten().is_some()
            {
                return;
            }
            let window = web_sys::window().expect("a window");
            if window.get_selection().ok().flatten().is_some_and(|s| !s.is_collapsed()) {
                return; // The reader is selecting text.
            }
            let Some(caret) =
                browser::document().caret_position_from_point(event.client_x() as f32, event.client_y() as f32)
            else {
                return;
            };
            let Some(node) = caret.offset_node() else { return };
            let text = node.text_content().unwrap_or_default();
            let offset = caret.offset() as usize;
            let chars: Vec<char> = text
                .encode_utf16()
                .collect::<Vec<u16>>()
                .iter()
                .map(|&u| char::from_u32(u as u32).unwrap_or(' '))
                .collect();
            let word = |c: &char| c.is_alphanumeric() || *c == '_';
            let mut start = offset.min(chars.len());
            while start > 0 && word(&chars[start - 1]) {
                start -= 1;
            }
            let mut end = offset.min(chars.len());
            while end < chars.len() && word(&chars[end]) {
                end += 1;
            }
            let name: String = chars[start..end].iter().collect();
            if name.is_empty() || name.chars().next().is_some_and(|c| c.is_ascii_digit()) {
                return;
            }
            let pin = pin.clone();
            busy.set(true);
            leptos::task::spawn_local(async move {
                let result = crate::api::find_symbol(pin, name).await;
                busy.set(false);
                answer.set(result.ok());
            });
        });
    }
    let pin_for_links = pin.clone();
    view! {
        <aside class="symbol-panel" aria-label="Definitions and references" hidden=move || answer.get().is_none() && !busy.get()>
            <button type="button" class="button small subtle close" on:click=move |_| answer.set(None)>"Close"</button>
            {move || busy.get().then(|| view! { <p class="muted">"Looking…"</p> })}
            {move || answer.get().map(|symbol| {
                let pin = pin_for_links.clone();
                let site = move |site: crate::model::SymbolSite| {
                    let href = format!("/pins/{pin}/blob/{}#L{}", crate::model::RepoPath::parse(&site.path).map(|p| p.url_encoded()).unwrap_or_default(), site.line);
                    view! { <li><a href=href>{format!("{}:{}", site.path, site.line)}</a><code>{site.text.trim().to_string()}</code></li> }
                };
                let site_again = site.clone();
                view! {
                    <h2><code>{symbol.name.clone()}</code></h2>
                    {symbol.indexing.then(|| view! { <p class="muted">"This pin's definitions are still being found; the list may be incomplete."</p> })}
                    <h3>{format!("Definitions ({})", symbol.definitions.len())}</h3>
                    <ul>{symbol.definitions.into_iter().map(site).collect_view()}</ul>
                    <h3>{format!("References ({})", symbol.references.len())}</h3>
                    <ul>{symbol.references.into_iter().map(site_again).collect_view()}</ul>
                }
            })}
        </aside>
    }
}

/// Hashes a chosen file in the browser (WebCrypto for files up to 64 MiB, a streaming SHA-256 in
/// WASM above, with progress) and submits the verify form with the hash; the file is not sent.
#[island]
pub fn FileHasher() -> impl IntoView {
    let progress = RwSignal::new(None::<(f64, f64)>);
    let status = RwSignal::new(String::new());
    let on_change = move |_event: leptos::ev::Event| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let Some(input) = _event.target().and_then(|t| t.dyn_into::<web_sys::HtmlInputElement>().ok()) else {
                return;
            };
            let Some(file) = input.files().and_then(|files| files.get(0)) else {
                return;
            };
            leptos::task::spawn_local(async move {
                let started = js_sys::Date::now();
                status.set(format!("Hashing {} …", file.name()));
                match hashing::sha256_of(&file, progress).await {
                    Ok(hex) => {
                        let seconds = ((js_sys::Date::now() - started) / 1000.0).max(0.001);
                        let rate = file.size() / 1_048_576.0 / seconds;
                        status.set(format!("SHA-256 computed in {seconds:.1} s ({rate:.0} MB/s)."));
                        let document = browser::document();
                        if let Some(field) = document
                            .get_element_by_id("verify-sha256")
                            .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
                        {
                            field.set_value(&hex);
                        }
                        if let Some(form) = document
                            .get_element_by_id("verify-form")
                            .and_then(|e| e.dyn_into::<web_sys::HtmlFormElement>().ok())
                        {
                            let _ = form.submit();
                        }
                    }
                    Err(message) => status.set(message),
                }
            });
        }
    };
    view! {
        <label>"File" <input type="file" id="verify-file" on:change=on_change/></label>
        <span class="hash-progress" aria-live="polite">
            {move || progress.get().map(|(done, total)| view! { <progress max=total value=done></progress> })}
            <span id="hash-status" class="muted small">{move || status.get()}</span>
        </span>
    }
}

#[cfg(feature = "hydrate")]
mod hashing {
    use leptos::prelude::*;
    use sha2::Digest as _;
    use wasm_bindgen::JsCast;
    use wasm_bindgen_futures::JsFuture;

    /// Files up to this size are hashed by WebCrypto in one call; larger ones in slices.
    const WEBCRYPTO_MAX: f64 = 64.0 * 1024.0 * 1024.0;
    const SLICE: f64 = 8.0 * 1024.0 * 1024.0;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    async fn slice_bytes(file: &web_sys::File, start: f64, end: f64) -> Result<js_sys::ArrayBuffer, String> {
        let blob = file.slice_with_f64_and_f64(start, end).map_err(|_| "could not read the file".to_string())?;
        let buffer = JsFuture::from(blob.array_buffer()).await.map_err(|_| "could not read the file".to_string())?;
        buffer.dyn_into::<js_sys::ArrayBuffer>().map_err(|_| "could not read the file".to_string())
    }

    pub async fn sha256_of(file: &web_sys::File, progress: RwSignal<Option<(f64, f64)>>) -> Result<String, String> {
        let total = file.size();
        progress.set(Some((0.0, total.max(1.0))));
        if total <= WEBCRYPTO_MAX {
            let subtle = web_sys::window().and_then(|w| w.crypto().ok()).map(|c| c.subtle());
            if let Some(subtle) = subtle {
                let buffer = slice_bytes(file, 0.0, total).await?;
                if let Ok(promise) = subtle.digest_with_str_and_buffer_source("SHA-256", &buffer) {
                    if let Ok(digest) = JsFuture::from(promise).await {
                        progress.set(Some((total, total.max(1.0))));
                        return Ok(hex(&js_sys::Uint8Array::new(&digest).to_vec()));
                    }
                }
            }
        }
        // Large files (or no WebCrypto, as on plain HTTP away from localhost): stream in slices.
        let mut hasher = sha2::Sha256::new();
        let mut start = 0.0;
        while start < total {
            let end = (start + SLICE).min(total);
            let buffer = slice_bytes(file, start, end).await?;
            hasher.update(js_sys::Uint8Array::new(&buffer).to_vec());
            start = end;
            progress.set(Some((start, total)));
        }
        Ok(hex(&hasher.finalize()))
    }
}

/// Uploads a build artifact with a progress bar: the raw file is the body of
/// `POST /api/v1/pins/{pin}/builds`, hashed by the server as it arrives.
#[island]
pub fn ArtifactUpload(pin: String, csrf: String) -> impl IntoView {
    let progress = RwSignal::new(None::<(f64, f64)>);
    let status = RwSignal::new(String::new());
    let start = move |_| {
        #[cfg(feature = "hydrate")]
        {
            use wasm_bindgen::JsCast;
            let document = browser::document();
            let value = |id: &str| {
                document
                    .get_element_by_id(id)
                    .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
                    .map(|i| i.value())
                    .unwrap_or_default()
            };
            let Some(file) = document
                .get_element_by_id("upload-file")
                .and_then(|e| e.dyn_into::<web_sys::HtmlInputElement>().ok())
                .and_then(|i| i.files())
                .and_then(|f| f.get(0))
            else {
                status.set("Choose a file to upload.".into());
                return;
            };
            let name = match value("upload-name") {
                n if n.trim().is_empty() => file.name(),
                n => n,
            };
            let query: String =
                [("name", name), ("platform", value("upload-platform")), ("builder", value("upload-builder"))]
                    .iter()
                    .map(|(k, v)| format!("{k}={}", String::from(js_sys::encode_uri_component(v))))
                    .collect::<Vec<_>>()
                    .join("&");
            let Ok(request) = web_sys::XmlHttpRequest::new() else { return };
            if request.open("POST", &format!("/api/v1/pins/{pin}/builds?{query}")).is_err() {
                return;
            }
            let _ = request.set_request_header("X-CSRF-Token", &csrf);
            let _ = request.set_request_header("Content-Type", "application/octet-stream");
            let on_progress = wasm_bindgen::closure::Closure::<dyn FnMut(web_sys::ProgressEvent)>::new(
                move |event: web_sys::ProgressEvent| progress.set(Some((event.loaded(), event.total().max(1.0)))),
            );
            if let Ok(upload) = request.upload() {
                upload.set_onprogress(Some(on_progress.as_ref().unchecked_ref()));
            }
            on_progress.forget();
            let answered = request.clone();
            let on_load = wasm_bindgen::closure::Closure::<dyn FnMut()>::new(move || {
                let code = answered.status().unwrap_or(0);
                let text = answered.response_text().ok().flatten().unwrap_or_default();
                let message = js_sys::JSON::parse(&text)
                    .ok()
                    .and_then(|v| js_sys::Reflect::get(&v, &"error".into()).ok())
                    .and_then(|v| v.as_string());
                if code == 201 {
                    status.set("Recorded. Reloading …".into());
                    let _ = web_sys::window().map(|w| w.location().reload());
                } else {
                    status.set(format!("Refused ({code}): {}", message.unwrap_or_else(|| "the upload failed".into())));
                }
            });
            request.set_onload(Some(on_load.as_ref().unchecked_ref()));
            on_load.forget();
            status.set("Uploading …".into());
            let _ = request.send_with_opt_blob(Some(&file));
        }
        #[cfg(not(feature = "hydrate"))]
        let _ = (&pin, &csrf);
    };
    view! {
        <div class="row-form upload">
            <label>"File" <input type="file" id="upload-file"/></label>
            <label>"Artifact name" <input id="upload-name" maxlength="200" placeholder="the file's name"/></label>
            <label>"Platform" <input id="upload-platform" maxlength="100" placeholder="linux/amd64"/></label>
            <label>"Builder" <input id="upload-builder" maxlength="200" placeholder="who built it"/></label>
            <button type="button" class="button primary" id="upload-start" on:click=start>"Upload and record"</button>
            <span class="hash-progress" aria-live="polite">
                {move || progress.get().map(|(done, total)| view! { <progress max=total value=done></progress> })}
                <span id="upload-status" class="muted small">{move || status.get()}</span>
            </span>
        </div>
    }
}

/// For a file shown a window of lines at a time: loads the next window's rows as the reader scrolls
/// near the end of the table (each load is a recorded read of those lines), and a link to a line
/// outside the loaded lines (`#L120000`) opens the window that holds it.
#[island]
pub fn WindowLoader(lines_url: String, page_url: String, first: u32, last: u32, total: u32) -> impl IntoView {
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast;
        let loaded_last = StoredValue::new(last);
        let busy = StoredValue::new(false);
        let jump = {
            let page_url = page_url.clone();
            move || {
                let hash = browser::current_hash();
                let Ok(range) = crate::model::LineRange::parse(&hash) else { return };
                if range.first < first || range.first > loaded_last.get_value() {
                    let from = crate::model::LineWindow::around(range.first.min(total.max(1)));
                    if let Some(window) = web_sys::window() {
                        let _ = window.location().replace(&format!("{page_url}?from={from}{hash}"));
                    }
                }
            }
        };
        Effect::new({
            let jump = jump.clone();
            move |_| jump()
        });
        let _ = window_event_listener(leptos::ev::hashchange, move |_| jump());
        let _ = window_event_listener(leptos::ev::scroll, move |_| {
            if busy.get_value() || loaded_last.get_value() >= total {
                return;
            }
            let document = browser::document();
            let Some(body) = document.query_selector("table.code tbody").ok().flatten() else { return };
            let height =
                web_sys::window().and_then(|w| w.inner_height().ok()).and_then(|h| h.as_f64()).unwrap_or(800.0);
            if body.get_bounding_client_rect().bottom() > height * 3.0 {
                return;
            }
            busy.set_value(true);
            let url = format!("{lines_url}?from={}", loaded_last.get_value() + 1);
            leptos::task::spawn_local(async move {
                let rows = async {
                    let window = web_sys::window()?;
                    let response = wasm_bindgen_futures::JsFuture::from(window.fetch_with_str(&url)).await.ok()?;
                    let response: web_sys::Response = response.dyn_into().ok()?;
                    if !response.ok() {
                        return None;
                    }
                    let range = response.headers().get("x-lines").ok().flatten()?;
                    let last: u32 = range.split(['-', '/']).nth(1)?.parse().ok()?;
                    let text = wasm_bindgen_futures::JsFuture::from(response.text().ok()?).await.ok()?.as_string()?;
                    Some((last, text))
                }
                .await;
                if let Some((last, text)) = rows {
                    let _ = body.insert_adjacent_html("beforeend", &text);
                    loaded_last.set_value(last);
                    if let Some(label) = browser::document().query_selector(".window-range").ok().flatten() {
                        label.set_text_content(Some(&format!(
                            "Lines {}–{} of {}",
                            crate::html::thousands(first),
                            crate::html::thousands(last),
                            crate::html::thousands(total)
                        )));
                    }
                    if last >= total {
                        if let Some(next) = browser::document().query_selector(".window-next").ok().flatten() {
                            next.remove();
                        }
                    }
                    busy.set_value(false);
                }
                // A failed load stays failed until the page is reloaded: no retry storm.
            });
        });
    }
    #[cfg(not(feature = "hydrate"))]
    let _ = (&lines_url, &page_url, first, last, total);
    view! { <span hidden></span> }
}

/// An export's progress while it runs: asks `/api/v1/exports/{id}` every second and moves the
/// bar; when the export ends, reloads the page (which then offers the download or the error).
#[island]
pub fn ExportProgress(id: i64, done: u64, total: u64) -> impl IntoView {
    let progress = RwSignal::new((done, total));
    #[cfg(feature = "hydrate")]
    {
        use wasm_bindgen::JsCast as _;
        let busy = StoredValue::new(false);
        let poll = move || {
            if busy.get_value() {
                return;
            }
            busy.set_value(true);
            leptos::task::spawn_local(async move {
                let status = async {
                    let window = web_sys::window()?;
                    let url = format!("/api/v1/exports/{id}");
                    let response = wasm_bindgen_futures::JsFuture::from(window.fetch_with_str(&url)).await.ok()?;
                    let response: web_sys::Response = response.dyn_into().ok()?;
                    if !response.ok() {
                        return None;
                    }
                    let value = wasm_bindgen_futures::JsFuture::from(response.json().ok()?).await.ok()?;
                    let field = |name: &str| js_sys::Reflect::get(&value, &wasm_bindgen::JsValue::from_str(name)).ok();
                    let state = field("state")?.as_string()?;
                    let done = field("done")?.as_f64()? as u64;
                    let total = field("total")?.as_f64()? as u64;
                    Some((state, done, total))
                }
                .await;
                match status {
                    Some((state, done, total)) if state == "queued" || state == "running" => {
                        progress.set((done, total));
                        busy.set_value(false);
                    }
                    Some(_) => {
                        let _ = web_sys::window().map(|w| w.location().reload());
                    }
                    None => {} // Stop asking; the page still works when reloaded.
                }
            });
        };
        let handle = leptos::prelude::set_interval_with_handle(poll, std::time::Duration::from_secs(1));
        on_cleanup(move || {
            if let Ok(handle) = handle {
                handle.clear();
            }
        });
    }
    view! {
        <span class="job-cell">
            <progress
                max=move || progress.get().1.max(1).to_string()
                value=move || progress.get().0.to_string()
                aria-label=format!("Progress of export {id}")
            ></progress>
            <span class="muted">
                {move || {
                    let (done, total) = progress.get();
                    if total == 0 { "waiting".to_string() } else { format!("{:.0} %", done as f64 * 100.0 / total as f64) }
                }}
            </span>
        </span>
    }
}
