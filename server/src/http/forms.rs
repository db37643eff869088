//! What every form post shares besides its extractor (`extract::CsrfForm`, which checks the
//! anti-forgery token and reads the typed fields): reading optional fields and checkboxes, and the
//! redirect back to the page the form was on with a message (`?done=` or `?error=`).

use super::notice::Unsealed;
use app::error::AppError;
use app::model::PageNoticeKind;
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;

/// A form that sends nothing but its anti-forgery token.
#[derive(Deserialize)]
pub struct Confirm {}

/// A form whose one field is an optional reason.
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct Reason {
    pub reason: String,
}

/// A field that was sent and is not blank, trimmed.
pub fn optional(text: &str) -> Option<&str> {
    Some(text.trim()).filter(|v| !v.is_empty())
}

/// Whether a checkbox was ticked (a browser sends `on`; a script may send `1`).
pub fn ticked(text: &str) -> bool {
    matches!(text, "on" | "1")
}

/// Redirects to `page` (a local path, its query and fragment kept) with the outcome as a message;
/// `notice::seal_and_open` seals it, so that the page shows it.
pub fn back_to(page: &str, result: Result<String, AppError>) -> Response {
    let (kind, message) = match result {
        Ok(done) => (PageNoticeKind::Done, done),
        Err(error) => (PageNoticeKind::Error, error.to_string()),
    };
    let (before_fragment, fragment) = match page.split_once('#') {
        Some((path, fragment)) => (path, format!("#{fragment}")),
        None => (page, String::new()),
    };
    let query = form_urlencoded::Serializer::new(String::new()).append_pair(kind.key(), &message).finish();
    let joiner = if before_fragment.contains('?') { '&' } else { '?' };
    let mut response = Redirect::to(&format!("{before_fragment}{joiner}{query}{fragment}")).into_response();
    let path = before_fragment.split_once('?').map_or(before_fragment, |(path, _)| path).to_string();
    let before_fragment = format!("{before_fragment}{joiner}{query}");
    response.extensions_mut().insert(Unsealed { kind, message, path, before_fragment, fragment });
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_message_goes_before_the_fragment() {
        let response = back_to("/pins/1/blob/a.rs#L3-L4", Ok("saved".into()));
        assert_eq!(response.headers()["location"], "/pins/1/blob/a.rs?done=saved#L3-L4");
        let response = back_to("/pins/1/comments?state=open", Err(AppError::Invalid("no".into())));
        assert_eq!(response.headers()["location"], "/pins/1/comments?state=open&error=no");
    }
}
