//! Clearroom's user interface: pages rendered on the server, with small islands hydrated in the
//! browser (line selection, theme, keyboard, local times).
//!
//! This crate owns the wire types (`model`), the server functions (`api`) and the `Backend` trait
//! they call (`backend`, server side only). Outside its `ssr` parts it names no server crate: no
//! database, git, highlighting or password code lives here.

#![recursion_limit = "256"]

pub mod api;
#[cfg(feature = "ssr")]
pub mod backend;
pub mod components;
pub mod error;
pub mod html;
pub mod model;
pub mod routes;
pub mod rows;
pub mod times;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path, SsrMode,
};
use std::sync::Arc;

/// Sets the HTTP status of the page being rendered. The server provides it per request; the UI
/// calls it when a page shows an error, so a 404 page is a 404 response.
#[derive(Clone)]
pub struct HttpStatus(pub Arc<dyn Fn(u16) + Send + Sync>);

pub fn set_http_status(code: u16) {
    if let Some(setter) = use_context::<HttpStatus>() {
        (setter.0)(code);
    }
}

/// The HTML document around the application.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <meta name="color-scheme" content="light dark"/>
                <link rel="icon" href="/favicon.svg" type="image/svg+xml"/>
                <HydrationScripts options islands=true/>
                <leptos_meta::MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="main" href="/style/main.css"/>
        <Title text="Clearroom"/>
        <Router>
            <Routes fallback=routes::not_found::NotFound>
                <Route path=path!("/") ssr=SsrMode::Async view=routes::home::Home/>
                <Route path=path!("/login") ssr=SsrMode::Async view=routes::login::Login/>
                <Route path=path!("/pins/:pin") ssr=SsrMode::Async view=routes::tree::TreePage/>
                <Route path=path!("/pins/:pin/tree") ssr=SsrMode::Async view=routes::tree::TreePage/>
                <Route path=path!("/pins/:pin/tree/*path") ssr=SsrMode::Async view=routes::tree::TreePage/>
                <Route path=path!("/pins/:pin/blob/*path") ssr=SsrMode::Async view=routes::blob::BlobPage/>
                <Route path=path!("/pins/:pin/comments") ssr=SsrMode::Async view=routes::comments::CommentsPage/>
                <Route path=path!("/pins/:pin/search") ssr=SsrMode::Async view=routes::search::SearchPage/>
                <Route path=path!("/pins/:pin/compare") ssr=SsrMode::Async view=routes::compare::CompareChooser/>
                <Route path=path!("/pins/:a/compare/:b") ssr=SsrMode::Async view=routes::compare::ComparePage/>
                <Route path=path!("/pins/:a/compare/:b/*path") ssr=SsrMode::Async view=routes::diff::DiffPage/>
                <Route path=path!("/pins/:pin/history") ssr=SsrMode::Async view=routes::history::HistoryChooser/>
                <Route path=path!("/pins/:a/history/:b") ssr=SsrMode::Async view=routes::history::HistoryPage/>
                <Route path=path!("/pins/:a/history/:b/:commit") ssr=SsrMode::Async view=routes::history::CommitPage/>
                <Route path=path!("/pins/:pin/blame/*path") ssr=SsrMode::Async view=routes::history::BlamePage/>
                <Route path=path!("/pins/:pin/sarif") ssr=SsrMode::Async view=routes::sarif::SarifPage/>
                <Route path=path!("/pins/:pin/traceability") ssr=SsrMode::Async view=routes::traceability::TraceabilityPage/>
                <Route path=path!("/pins/:pin/sarif/:log") ssr=SsrMode::Async view=routes::sarif::SarifLogPage/>
                <Route path=path!("/pins/:pin/coverage") ssr=SsrMode::Async view=routes::coverage::CoveragePage/>
                <Route path=path!("/pins/:pin/verdicts") ssr=SsrMode::Async view=routes::verdicts::VerdictsPage/>
                <Route path=path!("/pins/:pin/releases") ssr=SsrMode::Async view=routes::pin_releases::PinReleasesRoute/>
                <Route path=path!("/pins/:pin/builds") ssr=SsrMode::Async view=routes::builds::BuildsPage/>
                <Route path=path!("/pins/:pin/room/:id") ssr=SsrMode::Async view=routes::room::RoomBuildRoute/>
                <Route path=path!("/pins/:pin/build-diffs/:id") ssr=SsrMode::Async view=routes::room::BuildDiffRoute/>
                <Route path=path!("/verify") ssr=SsrMode::Async view=routes::verify::VerifyPage/>
                <Route path=path!("/releases") ssr=SsrMode::Async view=routes::releases::PublicReleasesPage/>
                <Route path=path!("/audit") ssr=SsrMode::Async view=routes::audit::AuditPage/>
                <Route path=path!("/admin") ssr=SsrMode::Async view=routes::admin::AdminPage/>
                <Route path=path!("/account") ssr=SsrMode::Async view=routes::account::AccountRoute/>
                <Route path=path!("/log") ssr=SsrMode::Async view=routes::log::LogPage/>
                <Route path=path!("/exports") ssr=SsrMode::Async view=routes::exports::ExportsRoute/>
            </Routes>
        </Router>
    }
}

/// Entry point of the WASM half: hydrate the islands only.
#[cfg(feature = "hydrate")]
#[wasm_bindgen::prelude::wasm_bindgen]
pub fn hydrate() {
    console_error_panic_hook::set_once();
    leptos::mount::hydrate_islands();
}
