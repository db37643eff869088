//! The request being answered on the current task, as far as the layers below HTTP need it: its id,
//! so that an internal error's reference (`domain::error`) finds every log line of that request.
//! The HTTP layer sets it (`http::request_id`); nothing below it imports `http`.

tokio::task_local! {
    pub(crate) static REQUEST_ID: String;
}

/// The id of the request being answered on this task, if any.
pub fn current() -> Option<String> {
    REQUEST_ID.try_with(Clone::clone).ok()
}
