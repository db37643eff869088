//! The error every server function returns, and the HTTP status each kind maps to.
//!
//! Messages here reach the user: they are short, lowercase, and never carry an internal cause. An
//! internal failure is logged on the server with its cause chain and shown as `Internal` with the
//! request's reference.

use leptos::server_fn::codec::JsonEncoding;
use leptos::server_fn::error::{FromServerFnError, ServerFnErrorErr};
use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
pub enum AppError {
    #[error("{0}")]
    NotFound(String),
    #[error("sign in to continue")]
    Unauthorized,
    #[error("{0}")]
    Forbidden(String),
    #[error("{0}")]
    Invalid(String),
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    Unavailable(String),
    /// An upload over the configured size limit.
    #[error("{0}")]
    TooLarge(String),
    /// A request body in a format the route does not take.
    #[error("{0}")]
    UnsupportedMedia(String),
    /// A quota reached: more of these are refused until earlier ones finish or age out.
    #[error("{0}")]
    TooMany(String),
    #[error("something went wrong on our side (reference {0})")]
    Internal(String),
}

impl AppError {
    pub fn status(&self) -> u16 {
        match self {
            AppError::NotFound(_) => 404,
            AppError::Unauthorized => 401,
            AppError::Forbidden(_) => 403,
            AppError::Invalid(_) => 400,
            AppError::Conflict(_) => 409,
            AppError::Unavailable(_) => 503,
            AppError::TooLarge(_) => 413,
            AppError::TooMany(_) => 429,
            AppError::UnsupportedMedia(_) => 415,
            AppError::Internal(_) => 500,
        }
    }

    pub fn title(&self) -> &'static str {
        match self {
            AppError::NotFound(_) => "Not found",
            AppError::Unauthorized => "Sign in required",
            AppError::Forbidden(_) => "Not allowed",
            AppError::Invalid(_) => "Invalid request",
            AppError::Conflict(_) => "Conflict",
            AppError::Unavailable(_) => "Temporarily unavailable",
            AppError::TooLarge(_) => "Too large",
            AppError::TooMany(_) => "Too many requests",
            AppError::UnsupportedMedia(_) => "Unsupported media type",
            AppError::Internal(_) => "Server error",
        }
    }
}

impl From<crate::model::InputError> for AppError {
    fn from(error: crate::model::InputError) -> Self {
        AppError::Invalid(error.0.to_string())
    }
}

impl FromServerFnError for AppError {
    type Encoder = JsonEncoding;

    fn from_server_fn_error(value: ServerFnErrorErr) -> Self {
        match value {
            ServerFnErrorErr::Args(_) | ServerFnErrorErr::MissingArg(_) => {
                AppError::Invalid("the request was malformed".into())
            }
            _ => AppError::Internal("server-function".into()),
        }
    }
}

pub type AppResult<T> = Result<T, AppError>;
