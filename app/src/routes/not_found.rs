//! The page for any URL that names no page.

use crate::components::layout::{ErrorPanel, Page};
use crate::error::AppError;
use leptos::prelude::*;

#[component]
pub fn NotFound() -> impl IntoView {
    view! {
        <Page title="Not found">
            <ErrorPanel error=AppError::NotFound("there is no page at this address".into())/>
        </Page>
    }
}
