//! Searching a pin: literal or regular expression, letter case, a path glob; results grouped by
//! file with a line of context around each match and links to the lines; paged; a search that ran
//! out of time says so and shows what it found.

use crate::api::{load_pin, run_search};
use crate::components::layout::{ErrorPanel, Loading, Page, Watermark};
use crate::error::AppError;
use crate::html::{counted, escape_into, thousands};
use crate::model::{MatchLine, PinSummary, RepoPath, SearchQuery, SearchView};
use crate::routes::tree::PinBar;
use leptos::prelude::*;
use leptos_router::hooks::{use_params_map, use_query_map};

fn flag(value: Option<String>) -> bool {
    matches!(value.as_deref(), Some("1" | "true" | "on"))
}

#[component]
pub fn SearchPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let key = move || {
        let q = query.read();
        let search = SearchQuery {
            q: q.get("q").unwrap_or_default(),
            regex: flag(q.get("re")),
            case: flag(q.get("case")),
            multiline: flag(q.get("multiline")),
            path: q.get("path").filter(|p| !p.is_empty()),
            cursor: q.get("cursor").filter(|c| !c.is_empty()),
            all_lines: q.get("lines").as_deref() == Some("all"),
        };
        (params.read().get("pin").unwrap_or_default(), search)
    };
    let results = Resource::new(key, |(pin, search)| async move {
        if search.q.trim().is_empty() {
            return load_pin(pin).await.map(Searched::NotYet);
        }
        match run_search(pin.clone(), search).await {
            Ok(view) => Ok(Searched::Found(Box::new(view))),
            // A query the search cannot run (a bad pattern or glob): the page stays, with the
            // reason under the field.
            Err(AppError::Invalid(reason)) => load_pin(pin).await.map(|pin| Searched::Refused(pin, reason)),
            Err(other) => Err(other),
        }
    });
    view! {
        <Page title="Search">
            <Suspense fallback=Loading>
                {move || Suspend::new(async move {
                    match results.await {
                        Ok(Searched::Found(view)) => view! { <SearchBody view=*view/> }.into_any(),
                        Ok(Searched::NotYet(pin)) => view! {
                            <PinBar pin=pin.clone() current="search"/>
                            <main class="content">
                                <h1>"Search this pin"</h1>
                                <SearchForm pin=pin.id.to_string() query=SearchQuery::default()/>
                            </main>
                        }.into_any(),
                        Ok(Searched::Refused(pin, reason)) => view! {
                            <PinBar pin=pin.clone() current="search"/>
                            <main class="content">
                                <h1>"Search this pin"</h1>
                                <SearchForm pin=pin.id.to_string() query=key().1 refused=reason/>
                            </main>
                        }.into_any(),
                        Err(error) => view! { <main class="content narrow"><ErrorPanel error/></main> }.into_any(),
                    }
                })}
            </Suspense>
        </Page>
    }
}

/// What the search page has to show.
#[derive(Clone, serde::Serialize, serde::Deserialize)]
enum Searched {
    /// Nothing asked yet: the form.
    NotYet(PinSummary),
    /// The results.
    Found(Box<SearchView>),
    /// A query that cannot run, and why.
    Refused(PinSummary, String),
}

#[component]
fn SearchForm(pin: String, query: SearchQuery, #[prop(optional, into)] refused: Option<String>) -> impl IntoView {
    let invalid = refused.is_some().then_some("true");
    let described = refused.is_some().then_some("search-error");
    view! {
        <form method="get" action=format!("/pins/{pin}/search") class="filters search-form" role="search" aria-label="Search the pin's source">
            {refused.map(|reason| view! { <p class="field-error search-error" id="search-error" role="alert">{reason}</p> })}
            <label class="grow">"Search for" <input
                type="search"
                name="q"
                value=query.q.clone()
                required
                autofocus
                id="search-box"
                aria-invalid=invalid
                aria-describedby=described
            /></label>
            <label>"In paths" <input type="text" name="path" value=query.path.clone().unwrap_or_default() placeholder="src/**/*.rs"/></label>
            <label class="check"><input type="checkbox" name="re" value="1" checked=query.regex/>" Regular expression"</label>
            <label class="check"><input type="checkbox" name="case" value="1" checked=query.case/>" Match case"</label>
            <label class="check" title="A regular expression may match across lines; by default a line matches by what it holds, as with grep">
                <input type="checkbox" name="multiline" value="1" checked=query.multiline/>" Across lines"
            </label>
            <button type="submit" class="button primary">"Search"</button>
        </form>
    }
}

/// A result line's text with its matches marked.
fn line_html(line: &MatchLine) -> String {
    let mut out = String::with_capacity(line.text.len() + 32);
    let mut at = 0;
    for &(start, end) in &line.matches {
        let (start, end) = (start.min(line.text.len()), end.min(line.text.len()));
        if start < at || !line.text.is_char_boundary(start) || !line.text.is_char_boundary(end) {
            continue;
        }
        escape_into(&mut out, &line.text[at..start]);
        out.push_str("<mark>");
        escape_into(&mut out, &line.text[start..end]);
        out.push_str("</mark>");
        at = end;
    }
    escape_into(&mut out, &line.text[at..]);
    out
}

/// What the search found in all, and what this page is of it.
fn totals_text(view: &SearchView) -> String {
    let totals = &view.totals;
    let lines = if totals.lines == 1 { "line" } else { "lines" };
    let files = if totals.files == 1 { "file" } else { "files" };
    let all = if totals.exact {
        format!("{} matching {lines} in {} {files}", thousands(totals.lines), thousands(totals.files))
    } else {
        format!(
            "At least {} matching {lines} in {} {files} (counting stopped at the time budget)",
            thousands(totals.lines),
            thousands(totals.files)
        )
    };
    format!(
        "{all}. This page: {}; {} searched in {} ms.",
        counted(view.results.len() as u64, "file", "files"),
        counted(view.files_searched, "file", "files"),
        view.elapsed_ms
    )
}

#[component]
fn SearchBody(view: SearchView) -> impl IntoView {
    let query = use_query_map();
    let pin = view.pin.id;
    let page_link = move |cursor: Option<&str>| {
        let mut q = query.get_untracked();
        match cursor {
            Some(cursor) => q.replace("cursor", cursor.to_string()),
            None => {
                q.remove("cursor");
            }
        }
        format!("/pins/{pin}/search{}", q.to_query_string())
    };
    let files = view
        .results
        .iter()
        .map(|file| {
            let encoded = RepoPath::parse(&file.path).map(|p| p.url_encoded()).unwrap_or_default();
            let mut rows = String::new();
            let mut previous = 0;
            for line in &file.lines {
                if previous != 0 && line.line > previous + 1 {
                    rows.push_str(r#"<tr class="gap"><td colspan="2">⋯</td></tr>"#);
                }
                previous = line.line;
                let class = if line.matches.is_empty() { "ctx" } else { "hit" };
                rows.push_str(&format!(
                    r##"<tr class="{class}"><td class="ln"><a href="/pins/{pin}/blob/{encoded}#L{n}">{n}</a></td><td class="lc">{}</td></tr>"##,
                    line.html.clone().unwrap_or_else(|| line_html(line)),
                    n = line.line
                ));
            }
            let more = (file.more_lines > 0).then(|| {
                let mut q = query.get_untracked();
                q.replace("path", crate::model::exact_glob(&file.path));
                q.replace("lines", "all".to_string());
                q.remove("cursor");
                let link = format!("/pins/{pin}/search{}", q.to_query_string());
                let text = format!("and {} in this file", counted(file.more_lines, "more matching line", "more matching lines"));
                (link, text)
            });
            view! {
                <section class="search-file">
                    <h2 class="search-path"><a href=format!("/pins/{pin}/blob/{encoded}")>{file.path.clone()}</a></h2>
                    <div class="code-scroll"><table class="code"><tbody inner_html=rows></tbody></table></div>
                    {more.map(|(link, text)| view! { <p class="muted"><a href=link>{text}</a></p> })}
                    {file.continues.then(|| view! { <p class="muted">"This file's matching lines go on on the next page."</p> })}
                </section>
            }
        })
        .collect_view();
    view! {
        <Watermark mark=view.watermark.clone()/>
        <PinBar pin=view.pin.clone() current="search"/>
        <main class="content">
            <h1>"Search this pin"</h1>
            <SearchForm pin=pin.to_string() query=view.query.clone()/>
            {view.truncated.then(|| view! {
                <div class="notice notice-error" role="status">"The search ran past its time budget and stopped: these are the matches found until then. Narrow the paths or the pattern."</div>
            })}
            <p class="muted search-totals">{totals_text(&view)}</p>
            {if view.results.is_empty() {
                view! { <div class="empty"><h2>"No matches"</h2></div> }.into_any()
            } else {
                files.into_any()
            }}
            <nav class="pager" aria-label="Pages">
                {view.query.cursor.is_some().then(|| view! { <a class="button" href=page_link(None)>"First page"</a> })}
                {view.next.as_deref().map(|next| view! { <a class="button" href=page_link(Some(next)) rel="next">"Next page"</a> })}
            </nav>
        </main>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_are_marked_and_the_rest_escaped() {
        let line =
            MatchLine { line: 1, text: "a <b> needle & needle".into(), matches: vec![(6, 12), (15, 21)], html: None };
        assert_eq!(line_html(&line), "a &lt;b&gt; <mark>needle</mark> &amp; <mark>needle</mark>");
    }
}
