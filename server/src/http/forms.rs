//! What every form post shares besides its extractor (`extract::CsrfForm`, which checks the
//! anti-forgery token and reads the typed fields): reading optional fields and checkboxes, and the
//! redirect back to the page the form was on with a message (`?done=` or `?error=`).

use super::notice::Unsealed;
use super::session_state::TypedSession;
use app::error::AppError;
use app::model::{KeptForm, PageNoticeKind};
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

/// The page a form came from (its `back` field, when it is a path of this site), or `fallback`.
pub fn back_page(back: &str, fallback: String) -> String {
    match optional(back) {
        Some(back) if super::session::safe_next(back) == back => back.to_string(),
        _ => fallback,
    }
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

/// Like `back_to`, but a refusal is shown next to the form, not at the top of the page: the form
/// (its `place`, the element the redirect scrolls to, and the `fields` to fill in again) is kept
/// in the session for the page's next request.
pub async fn back_to_form(
    session: TypedSession,
    page: &str,
    place: &str,
    result: Result<String, AppError>,
    fields: Vec<(&str, &str)>,
) -> Response {
    match result {
        Ok(done) => back_to(page, Ok(done)),
        Err(error) => keep_form(session, page, place, Err(error), fields).await,
    }
}

/// Goes back to the form at `place` on `page` with the outcome shown next to it, either way (a
/// form in the middle of a long page): a refusal to the page (its field takes the focus), what was
/// done to `#place`. Should the session not keep it, the outcome goes back as
/// a notice.
pub async fn keep_form(
    session: TypedSession,
    page: &str,
    place: &str,
    result: Result<String, AppError>,
    fields: Vec<(&str, &str)>,
) -> Response {
    let page = page.split_once('#').map_or(page, |(page, _)| page);
    let path = page.split_once('?').map_or(page, |(path, _)| path);
    let (refused, message) = match &result {
        Ok(done) => (false, done.clone()),
        Err(error) => (true, error.to_string()),
    };
    let fields = fields.into_iter().map(|(key, value)| (key.to_string(), value.to_string())).collect();
    let kept = KeptForm { place: place.to_string(), refused, message, fields };
    // A refusal puts the focus in the field (`autofocus`), which scrolls it into view; a browser
    // ignores `autofocus` when the address has a fragment, so only an outcome that was done goes
    // to its place by one.
    let target = if refused { page.to_string() } else { format!("{page}#{place}") };
    match session.keep_form(path, kept).await {
        Ok(()) => Redirect::to(&target).into_response(),
        Err(_) => back_to(&format!("{page}#{place}"), result),
    }
}

/// The file of an upload form whose anti-forgery field comes right before it (`csrf`, then
/// `file`): the token is checked before a byte of the file is read; a form without a matching
/// token, or without the file after it, has expired (403).
pub async fn file_after_csrf<'f>(
    caller: &app::model::Caller,
    form: &'f mut axum::extract::Multipart,
) -> Result<axum::extract::multipart::Field<'f>, AppError> {
    let unreadable = || AppError::Invalid("the form could not be read".into());
    let expired = || AppError::Forbidden("this form has expired; reload the page and send it again".into());
    loop {
        let Some(field) = form.next_field().await.map_err(|_| unreadable())? else { return Err(expired()) };
        match field.name() {
            Some("csrf") => {
                let sent = field.text().await.map_err(|_| unreadable())?;
                if super::session::csrf_matches(caller, &sent) {
                    break;
                }
            }
            Some("file") => return Err(expired()),
            _ => {}
        }
    }
    match form.next_field().await.map_err(|_| unreadable())? {
        Some(field) if field.name() == Some("file") => Ok(field),
        _ => Err(expired()),
    }
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
