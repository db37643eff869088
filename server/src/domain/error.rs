//! One error for the domain: `AppError`, what pages, the API and the command line show. What the
//! domain calls converts into it with `?`: a unique-key violation becomes a 409, a log that cannot
//! record becomes a 503 (nothing was shown or changed), a missing path a 404, and anything else an
//! internal error that is logged with its cause chain and shown only as a reference.

use crate::audit::AuditError;
use crate::auth::AuthError;
use crate::source::SourceError;
use crate::store::StoreError;
use app::error::AppError;

/// Logs an internal failure with its cause chain and returns the short error the user sees.
pub fn internal(error: &dyn std::error::Error) -> AppError {
    let reference = reference();
    tracing::error!(reference, error = %crate::error_chain(error), "internal error");
    AppError::Internal(reference)
}

/// The request's id when there is one (so the reference a user quotes finds every log line of
/// that request), else a fresh random reference.
fn reference() -> String {
    crate::request_scope::current().unwrap_or_else(|| hex::encode(rand::random::<[u8; 4]>()))
}

fn audit_unavailable(error: &AuditError) -> AppError {
    let reference = reference();
    tracing::error!(reference, error = %crate::error_chain(error), "audit log unavailable");
    AppError::Unavailable(format!(
        "the audit log cannot record this right now, so nothing was shown or changed (reference {reference})"
    ))
}

impl From<StoreError> for AppError {
    fn from(error: StoreError) -> Self {
        match error {
            StoreError::Duplicate => AppError::Conflict("this exists already".into()),
            other => internal(&other),
        }
    }
}

impl From<AuditError> for AppError {
    fn from(error: AuditError) -> Self {
        match error {
            AuditError::Proof(e) => AppError::Invalid(e.to_string()),
            AuditError::Tile(e) => AppError::Conflict(e.to_string()),
            AuditError::ScopeNotRecorded | AuditError::Note(_) => internal(&error),
            other => audit_unavailable(&other),
        }
    }
}

impl From<SourceError> for AppError {
    fn from(error: SourceError) -> Self {
        match error {
            SourceError::NotFound => AppError::NotFound("there is no such path at this pin".into()),
            SourceError::IsDirectory => AppError::NotFound("this path is a directory; open it as a tree".into()),
            SourceError::IsFile => AppError::NotFound("this path is a file; open it as a blob".into()),
            SourceError::NoSuchCommit(spec) => AppError::Invalid(format!("{spec} does not name a commit")),
            SourceError::TooLarge => AppError::TooLarge("this file is too large to be sent".into()),
            SourceError::Binary => AppError::Invalid("this file is binary: blame shows text files".into()),
            other => internal(&other),
        }
    }
}

impl From<AuthError> for AppError {
    fn from(error: AuthError) -> Self {
        match error {
            AuthError::WeakPassword(rule) => AppError::Invalid(rule.into()),
            AuthError::Busy => AppError::Unavailable("Too many sign-ins are being checked; try again shortly.".into()),
            other => internal(&other),
        }
    }
}

/// Names what a unique-key violation means in the operation at hand.
pub trait OnDuplicate<T> {
    fn on_duplicate(self, message: impl FnOnce() -> String) -> Result<T, AppError>;
}

impl<T> OnDuplicate<T> for Result<T, StoreError> {
    fn on_duplicate(self, message: impl FnOnce() -> String) -> Result<T, AppError> {
        match self {
            Err(StoreError::Duplicate) => Err(AppError::Conflict(message())),
            other => Ok(other?),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_duplicate_is_a_conflict_with_the_operations_words() {
        let taken: Result<(), StoreError> = Err(StoreError::Duplicate);
        assert_eq!(
            taken.on_duplicate(|| "the username x is taken".into()),
            Err(AppError::Conflict("the username x is taken".into()))
        );
    }

    #[test]
    fn an_audit_failure_is_unavailable_and_never_shows_its_cause() {
        let error = AppError::from(AuditError::Unavailable);
        assert_eq!(error.status(), 503);
        assert!(error.to_string().contains("nothing was shown or changed"));
        let internal = AppError::from(StoreError::Corrupt("a stored hash"));
        assert_eq!(internal.status(), 500);
        assert!(!internal.to_string().contains("hash"));
    }
}
