//! Places each imported tool result listed after a file's code (`routes::blob_results`) under the
//! line it ends on, as a note with its level, rule, message, tool and triage, the way the server
//! once rendered them between the rows. The notes are built from the list's own elements (cloned)
//! and attributes the server wrote, never from markup text.

#[cfg(feature = "hydrate")]
use super::browser;
use leptos::prelude::*;

/// Places each tool result listed after the code under the line it ends on.
#[island]
pub fn ToolResultMarks() -> impl IntoView {
    #[cfg(feature = "hydrate")]
    Effect::new(move |_| place_all());
    view! { <span hidden></span> }
}

#[cfg(feature = "hydrate")]
fn place_all() {
    let document = browser::document();
    for group in browser::query_all("ul.result-groups > li.result-group") {
        let Some(head) = group.query_selector(".annotation-head").ok().flatten() else { continue };
        let level = match group.get_attribute("data-level").as_deref() {
            Some(level @ ("error" | "warning" | "note")) => level.to_string(),
            _ => "none".to_string(),
        };
        let attribute = |name: &str| group.get_attribute(name).unwrap_or_default();
        let (log, triage, comments) = (attribute("data-log"), attribute("data-triage"), attribute("data-comments"));
        for lines in group.query_selector_all("p.result-lines[data-i]").map(|l| nodes(&l)).unwrap_or_default() {
            let state = lines.get_attribute("data-state").and_then(|s| crate::model::Triage::parse(&s));
            let indices = lines.get_attribute("data-i").unwrap_or_default();
            let links = lines.query_selector_all(r##"a[href^="#L"]"##).map(|l| nodes(&l)).unwrap_or_default();
            for (index, link) in indices.split_whitespace().zip(links) {
                if !index.bytes().all(|b| b.is_ascii_digit()) {
                    continue;
                }
                let Ok(range) = crate::model::LineRange::parse(&link.get_attribute("href").unwrap_or_default()) else {
                    continue;
                };
                // A line not on the page (another window of a long file) has no place.
                let Some(row) = document.get_element_by_id(&format!("L{}", range.last)) else { continue };
                let finding = link.get_attribute("data-finding").filter(|f| f.bytes().all(|b| b.is_ascii_digit()));
                let (href, text, class) = match (state, finding) {
                    (Some(_), Some(finding)) => {
                        (format!("{comments}#thread-{finding}"), format!("finding #{finding}"), String::new())
                    }
                    (Some(state), None) => (
                        format!("{triage}#result-{index}"),
                        state.label().to_string(),
                        format!(" triage-{}", state.as_str()),
                    ),
                    (None, _) => (format!("{triage}#result-{index}"), "Triage".to_string(), String::new()),
                };
                let id = format!("result-{log}-{index}");
                let _ = place(&document, &row, &head, &id, &level, (&href, &text, &class));
            }
        }
    }
}

/// The elements of a node list.
#[cfg(feature = "hydrate")]
fn nodes(list: &web_sys::NodeList) -> Vec<web_sys::Element> {
    (0..list.length())
        .filter_map(|n| list.item(n).and_then(|node| wasm_bindgen::JsCast::dyn_into::<web_sys::Element>(node).ok()))
        .collect()
}

/// Adds one result's note to the notes row after `row` (made before any thread's row).
#[cfg(feature = "hydrate")]
fn place(
    document: &web_sys::Document,
    row: &web_sys::Element,
    head: &web_sys::Element,
    id: &str,
    level: &str,
    (href, text, class): (&str, &str, &str),
) -> Result<(), wasm_bindgen::JsValue> {
    let cell = match row.next_element_sibling() {
        Some(next) if next.class_list().contains("annotation-row") => next.first_element_child(),
        _ => None,
    };
    let cell = match cell {
        Some(cell) => cell,
        None => {
            let notes = document.create_element("tr")?;
            notes.set_class_name("annotation-row");
            let cell = document.create_element("td")?;
            cell.set_attribute("colspan", "2")?;
            notes.append_child(&cell)?;
            row.insert_adjacent_element("afterend", &notes)?;
            cell
        }
    };
    let note = document.create_element("div")?;
    note.set_class_name(&format!("annotation level-{level}"));
    note.set_id(id);
    let parts = head.child_nodes();
    for n in 0..parts.length() {
        if let Some(part) = parts.item(n) {
            note.append_child(&part.clone_node_with_deep(true)?)?;
        }
    }
    note.append_child(&document.create_text_node(" "))?;
    let link = document.create_element("a")?;
    link.set_class_name(&format!("triage-state{class}"));
    link.set_attribute("href", href)?;
    link.set_text_content(Some(text));
    note.append_child(&link)?;
    cell.append_child(&note)?;
    Ok(())
}
