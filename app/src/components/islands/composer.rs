//! The comment composer: a plain form (it works without JavaScript, with line numbers typed in);
//! with JavaScript, `c` or its button opens it right under the selected lines, filled in.

#[cfg(feature = "hydrate")]
use super::browser;
use leptos::prelude::*;

/// The comment composer: a plain form (it works without JavaScript, with line numbers typed in);
/// with JavaScript, `c` or its button opens it right under the selected lines, filled in. A
/// comment the server refused (`kept`) comes back open, as it was typed, with the refusal next to
/// the text and the focus in it.
#[island]
pub fn Composer(
    pin: String,
    path: String,
    csrf: String,
    back: String,
    kept: Option<crate::model::KeptForm>,
) -> impl IntoView {
    let refused = kept.is_some();
    let kept = kept.unwrap_or_default();
    let field = |name: &str| kept.field(name).to_string();
    let (start, end, body, severity) = (field("start_line"), field("end_line"), field("body"), field("severity"));
    let cwe = field("cwe");
    let requirements = field("requirements");
    let private = matches!(kept.field("private"), "on" | "1");
    let error =
        refused.then(|| view! { <p class="field-error" id="composer-error" role="alert">{kept.message.clone()}</p> });
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
            <details id="composer-details" open=refused>
                <summary>"Comment on this file, or on lines of it"</summary>
                <form method="post" action=format!("/pins/{pin}/comments") class="stack composer-form">
                    <input type="hidden" name="csrf" value=csrf/>
                    <input type="hidden" name="back" id="composer-back" value=back/>
                    <input type="hidden" name="path" value=path/>
                    {error}
                    <div class="composer-lines">
                        <label>"From line" <input type="number" min="1" name="start_line" id="composer-start" value=start/></label>
                        <label>"to line" <input type="number" min="1" name="end_line" id="composer-end" value=end/></label>
                        <span class="muted">"Leave both empty to comment on the whole file."</span>
                    </div>
                    <label>"Comment (Markdown)" <textarea
                        name="body"
                        id="composer-body"
                        rows="5"
                        required
                        autofocus=refused
                        aria-invalid=refused.then_some("true")
                        aria-describedby=refused.then_some("composer-error")
                    >{body}</textarea></label>
                    <div class="composer-options">
                        <label>"Severity (makes it a finding)"
                            <select name="severity">
                                <option value="">"none: a comment"</option>
                                {crate::model::Severity::ALL.iter().map(|s| view! { <option value=s.as_str() selected=severity == s.as_str()>{s.as_str()}</option> }).collect_view()}
                            </select>
                        </label>
                        <label>"CWE ids (a finding's)" <input name="cwe" value=cwe placeholder="CWE-20, CWE-787" size="16"/></label>
                        <label title="Ids of the pin's requirement list this code implements or affects">"Requirements traced" <input name="requirements" value=requirements placeholder="FCS_COP.1/AES" size="16"/></label>
                        <label class="check"><input type="checkbox" name="private" checked=private/>" Private note (only you see it)"</label>
                        <button type="submit" class="button primary">"Save comment"</button>
                    </div>
                </form>
            </details>
        </section>
    }
}
