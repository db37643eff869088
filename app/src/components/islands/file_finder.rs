//! "Go to file" (`t`): a fuzzy finder over the pin's paths, best matches first.

#[cfg(feature = "hydrate")]
use super::browser;
use leptos::prelude::*;

/// "Go to file" (`t`): a fuzzy finder over the pin's paths, best matches first.
#[island]
pub fn FileFinder(pin: String) -> impl IntoView {
    let open = RwSignal::new(false);
    let results = RwSignal::new(Vec::<crate::model::FoundFile>::new());
    // The result the arrow keys chose (Enter opens it).
    let chosen = RwSignal::new(0usize);
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
                        chosen.set(0);
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
        // Focused once the dialog is shown (a hidden field takes no focus), so typing goes there.
        #[cfg(feature = "hydrate")]
        request_animation_frame(|| {
            use wasm_bindgen::JsCast;
            if let Some(input) = browser::document()
                .get_element_by_id("finder-input")
                .and_then(|e| e.dyn_into::<web_sys::HtmlElement>().ok())
            {
                let _ = input.focus();
            }
        });
    };
    let pin_for_links = pin.clone();
    view! {
        <button type="button" id="finder-open" class="button small subtle" on:click=show title="Go to file (t)">"Go to file"</button>
        <div class="finder" role="dialog" aria-label="Go to file" hidden=move || !open.get()>
            <input id="finder-input" type="search" placeholder="Type part of a path" aria-label="File path" on:input=on_input
                role="combobox" aria-controls="finder-results" aria-expanded=move || (!results.get().is_empty()).to_string()
                aria-activedescendant=move || (!results.get().is_empty()).then(|| format!("finder-result-{}", chosen.get()))
                on:keydown=move |event: leptos::ev::KeyboardEvent| {
                    let count = results.with_untracked(Vec::len);
                    match event.key().as_str() {
                        "Escape" => open.set(false),
                        "ArrowDown" if count > 0 => {
                            event.prevent_default();
                            chosen.update(|at| *at = (*at + 1) % count);
                        }
                        "ArrowUp" if count > 0 => {
                            event.prevent_default();
                            chosen.update(|at| *at = (*at + count - 1) % count);
                        }
                        #[cfg(feature = "hydrate")]
                        "Enter" => {
                            let at = chosen.get_untracked();
                            if let Some(link) = browser::query_all(".finder li a").into_iter().nth(at) {
                                use wasm_bindgen::JsCast;
                                if let Ok(link) = link.dyn_into::<web_sys::HtmlElement>() {
                                    link.click();
                                }
                            }
                        }
                        _ => {}
                    }
                }/>
            <ul class="finder-results" id="finder-results" role="listbox" aria-label="Files">
                {move || {
                    let pin = pin_for_links.clone();
                    results.get().into_iter().enumerate().map(move |(index, found)| {
                        let href = format!("/pins/{pin}/blob/{}", crate::model::RepoPath::parse(&found.path).map(|p| p.url_encoded()).unwrap_or_default());
                        let positions: std::collections::HashSet<u32> = found.positions.iter().copied().collect();
                        let chars = found.path.chars().enumerate().map(|(i, c)| {
                            if positions.contains(&(i as u32)) {
                                view! { <b>{c.to_string()}</b> }.into_any()
                            } else {
                                c.to_string().into_any()
                            }
                        }).collect_view();
                        let selected = move || chosen.get() == index;
                        view! {
                            <li id=format!("finder-result-{index}") role="option" class:chosen=selected aria-selected=move || selected().to_string()>
                                <a href=href tabindex="-1">{chars}</a>
                            </li>
                        }
                    }).collect_view()
                }}
            </ul>
        </div>
    }
}
