//! The page frame (header, navigation, watermark) and the error panel.

use crate::api::whoami;
use crate::components::islands::{Keyboard, LocalTimes, SessionClock, ThemeToggle};
use crate::error::AppError;
use crate::model::{Me, Role};
use crate::set_http_status;
use leptos::prelude::*;
use leptos_meta::Title;

/// The document's title. leptos_meta writes the title's text into the server-rendered page as it
/// is (0.8.7), so it is escaped here: paths and pin labels are anyone's words, and a `</title>` in
/// one would otherwise write markup into the head. Titles are not hydrated (they sit outside the
/// islands), so the browser never sets the escaped text again.
#[component]
pub fn PageTitle(#[prop(into)] text: String) -> impl IntoView {
    view! { <Title text=crate::html::escape(&text)/> }
}

/// Everything inside the header and around a page's content.
#[component]
pub fn Page(#[prop(into)] title: String, children: Children) -> impl IntoView {
    let me = Resource::new(|| (), |_| whoami());
    view! {
        <PageTitle text=format!("{title} · Clearroom")/>
        <a class="skip-link" href="#content">"Skip to content"</a>
        <header class="topbar">
            <a href="/" class="brand">
                <span class="brand-mark" aria-hidden="true"></span>
                "Clearroom"
            </a>
            <Suspense fallback=|| ()>
                {move || Suspend::new(async move {
                    match me.await {
                        Ok(Some(me)) => view! { <Nav me/> }.into_any(),
                        // Someone not signed in (the public releases page): a way in.
                        _ => view! { <nav class="nav"><a href="/login">"Sign in"</a></nav> }.into_any(),
                    }
                })}
            </Suspense>
        </header>
        <Suspense fallback=|| ()>
            {move || Suspend::new(async move {
                me.await.ok().flatten().and_then(|me| me.integrity_alarm).map(|alarm| view! {
                    <div class="alarm-banner" role="alert">
                        <strong>"Integrity alarm: "</strong>
                        {alarm}
                        ". Run "<code>"server verify log"</code>" and treat records after that entry with care."
                    </div>
                })
            })}
        </Suspense>
        <div class="page" id="content" tabindex="-1">{children()}</div>
        <KeysHelp/>
        <LocalTimes/>
        <Keyboard/>
    }
}

/// The keys, shown by `?`.
#[component]
fn KeysHelp() -> impl IntoView {
    let keys = [
        ("j / k", "next / previous line"),
        ("n / p", "next / previous file (beside the code, or of a comparison)"),
        ("t", "go to a file (↑ ↓ to choose, Enter to open)"),
        ("/", "search this pin"),
        ("c", "comment on the selected lines"),
        ("r", "mark the file reviewed"),
        ("?", "show or hide these keys"),
        ("Esc", "leave a field, close this"),
    ];
    view! {
        <aside id="keys-help" class="keys-help" hidden aria-label="Keyboard shortcuts">
            <h2>"Keys"</h2>
            <dl>
                {keys.into_iter().map(|(key, what)| view! { <dt><kbd>{key}</kbd></dt><dd>{what}</dd> }).collect_view()}
            </dl>
        </aside>
    }
}

#[component]
fn Nav(me: Me) -> impl IntoView {
    let staff = me.role == Role::Staff;
    let auditor = me.role == Role::Staff || me.role.oversees();
    view! {
        // On a narrow screen the links and the account fold under a Menu button (a checkbox: it
        // works without JavaScript); on a wide one they are all in the bar.
        <input type="checkbox" id="menu-toggle" class="menu-toggle visually-hidden" aria-label="Menu" aria-controls="main-nav account-bar"/>
        <label for="menu-toggle" class="menu-button button subtle">"Menu"</label>
        <nav class="nav" id="main-nav" aria-label="Main">
            <a href="/">"Pins"</a>
            <a href="/verify">"Verify a file"</a>
            <a href="/releases">"Releases"</a>
            {auditor.then(|| view! { <a href="/audit">"Audit log"</a> <a href="/log">"Log integrity"</a> <a href="/exports">"Exports"</a> })}
            {staff.then(|| view! { <a href="/admin">"Administration"</a> })}
        </nav>
        <div class="whoami" id="account-bar">
            {me.access_ends_ms.map(|ends_ms| view! { <SessionClock ends_ms now_ms=me.now_ms/> })}
            <ThemeToggle/>
            <a class="user" href="/account" title="Your account: sessions, password">
                <span class="user-name">{me.username.clone()}</span>
                <span class=format!("role role-{}", me.role.as_str())>{me.role.as_str()}</span>
            </a>
            <form method="post" action="/logout" class="inline">
                <input type="hidden" name="csrf" value=me.csrf_token.clone()/>
                <button type="submit" class="button subtle">"Sign out"</button>
            </form>
        </div>
    }
}

/// A full-width error message; also sets the response's HTTP status.
#[component]
pub fn ErrorPanel(error: AppError) -> impl IntoView {
    set_http_status(error.status());
    let title = error.title();
    let message = error.to_string();
    view! {
        <section class="error-panel" role="alert">
            <h1>{title}</h1>
            <p>{message}</p>
            <p>
                <a href="/">"Back to your pins"</a>
            </p>
        </section>
    }
}

/// A diagonal, repeated name, role, session and time over source pages, so that a photo of the
/// screen names its viewer.
#[component]
pub fn Watermark(mark: crate::model::Watermark) -> impl IntoView {
    let mut text = format!("{} · {} · {}", mark.username, mark.role.as_str(), crate::times::utc_text(mark.at_ms));
    if let Some(session) = &mark.session {
        text.push_str(&format!(" · session {session}"));
    }
    let marks = (0..60).map(|_| view! { <span>{text.clone()}</span> }).collect_view();
    view! { <div class="watermark" aria-hidden="true">{marks}</div> }
}

/// The loading state shared by pages.
#[component]
pub fn Loading() -> impl IntoView {
    view! { <p class="muted loading">"Loading…"</p> }
}

/// The form the server refused on its way back to this page, if it is the one at `place`.
pub fn kept_form(place: &str) -> Option<crate::model::KeptForm> {
    kept_forms().filter(|form| form.place == place)
}

/// The form the server refused on its way back to this page, wherever it is (a page of threads
/// has many forms): the server took it from the session and put it in the request
/// (`server/src/http/forms.rs`).
pub fn kept_forms() -> Option<crate::model::KeptForm> {
    #[cfg(feature = "ssr")]
    {
        use_context::<leptos::server_fn::http_export::request::Parts>()?
            .extensions
            .get::<crate::model::KeptForm>()
            .cloned()
    }
    #[cfg(not(feature = "ssr"))]
    None
}

/// A form's outcome shown next to it: a refusal announced when the page opens (`role="alert"`,
/// named by the field it concerns with `aria-describedby`), or what was done (`role="status"`).
#[component]
pub fn FormOutcome(id: &'static str, kept: Option<crate::model::KeptForm>) -> impl IntoView {
    kept.map(|kept| {
        if kept.refused {
            view! { <p class="field-error" id=id role="alert">{kept.message}</p> }.into_any()
        } else {
            view! { <p class="field-done" id=id role="status">{kept.message}</p> }.into_any()
        }
    })
}

/// The message a form post redirected back with (`?done=` or `?error=`), shown only when the
/// server sealed it for this page: it put the opened `PageNotice` in the request.
#[component]
pub fn Flash() -> impl IntoView {
    #[cfg(feature = "ssr")]
    let notice = use_context::<leptos::server_fn::http_export::request::Parts>()
        .and_then(|parts| parts.extensions.get::<crate::model::PageNotice>().cloned());
    #[cfg(not(feature = "ssr"))]
    let notice: Option<crate::model::PageNotice> = None;
    notice.map(|notice| match notice.kind {
        crate::model::PageNoticeKind::Error => {
            view! { <div class="notice notice-error" role="alert">{notice.message}</div> }.into_any()
        }
        crate::model::PageNoticeKind::Done => {
            view! { <div class="notice notice-ok" role="status">{notice.message}</div> }.into_any()
        }
    })
}
