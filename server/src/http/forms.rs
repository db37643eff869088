//! What every form post shares: the urlencoded body, the anti-forgery check, and the redirect back
//! to the page the form was on with a message (`?done=` or `?error=`).

use super::error_page;
use super::session::csrf_matches;
use app::error::AppError;
use app::model::Caller;
use axum::body::Bytes;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

/// A urlencoded form body; repeated keys (a multiple select) keep every value.
pub struct Fields(Vec<(String, String)>);

impl Fields {
    pub fn parse(body: &Bytes) -> Fields {
        Fields(form_urlencoded::parse(body).map(|(k, v)| (k.into_owned(), v.into_owned())).collect())
    }

    pub fn get(&self, key: &str) -> &str {
        self.0.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str()).unwrap_or("")
    }

    /// A field that is present and not blank.
    pub fn optional(&self, key: &str) -> Option<&str> {
        Some(self.get(key).trim()).filter(|v| !v.is_empty())
    }

    pub fn all(&self, key: &str) -> Vec<&str> {
        self.0.iter().filter(|(k, _)| k == key).map(|(_, v)| v.as_str()).collect()
    }
}

/// Refuses a form without the session's anti-forgery token.
pub fn check(caller: &Caller, fields: &Fields) -> Option<Response> {
    (!csrf_matches(caller, fields.get("csrf")))
        .then(|| error_page(StatusCode::FORBIDDEN, "Form expired", "Reload the page and try again."))
}

/// Redirects to `page` (a local path, its query and fragment kept) with the outcome as a message.
pub fn back_to(page: &str, result: Result<String, AppError>) -> Response {
    let (key, message) = match result {
        Ok(done) => ("done", done),
        Err(error) => ("error", error.to_string()),
    };
    let (before_fragment, fragment) = match page.split_once('#') {
        Some((path, fragment)) => (path, format!("#{fragment}")),
        None => (page, String::new()),
    };
    let query = form_urlencoded::Serializer::new(String::new()).append_pair(key, &message).finish();
    let joiner = if before_fragment.contains('?') { '&' } else { '?' };
    Redirect::to(&format!("{before_fragment}{joiner}{query}{fragment}")).into_response()
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
