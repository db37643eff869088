//! Authentication: argon2id passwords, API tokens, and the secrets they involve.
//!
//! Hashing runs off the async runtime. An unknown username is checked against a dummy hash, so the
//! time a failed sign-in takes does not tell whether the account exists. No secret or hash is
//! ever logged or sent to a client.

pub mod sealed;
pub mod totp;

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use base64::Engine as _;
use rand::RngCore;
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::OnceLock;

/// A password as typed; redacted in `Debug`.
#[derive(Clone)]
pub struct Password(String);

impl Password {
    pub fn new(text: String) -> Password {
        Password(text)
    }

    /// A random password for generated accounts: 20 characters from an unambiguous alphabet.
    pub fn generate() -> Password {
        const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";
        let mut bytes = [0u8; 20];
        rand::thread_rng().fill_bytes(&mut bytes);
        Password(bytes.iter().map(|b| ALPHABET[*b as usize % ALPHABET.len()] as char).collect())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(<redacted>)")
    }
}

#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    #[error("{0}")]
    WeakPassword(&'static str),
    #[error("password hashing failed")]
    Hashing,
    #[error("hashing task failed")]
    Task(#[from] tokio::task::JoinError),
    #[error("too many sign-ins are being checked at once")]
    Busy,
}

/// Password hashes computed at once (each takes 19 MiB and a core for a moment): a flood of
/// sign-ins waits here instead of exhausting memory, and past `HASHING_WAIT` is told to retry.
static HASHING: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(4);
const HASHING_WAIT: std::time::Duration = std::time::Duration::from_secs(10);

async fn hashing_permit() -> Result<tokio::sync::SemaphorePermit<'static>, AuthError> {
    match tokio::time::timeout(HASHING_WAIT, HASHING.acquire()).await {
        Ok(Ok(permit)) => Ok(permit),
        _ => Err(AuthError::Busy),
    }
}

/// The 30,000 most common passwords (zxcvbn's list; licence beside it), lower case.
fn common_passwords() -> &'static std::collections::HashSet<&'static str> {
    static COMMON: OnceLock<std::collections::HashSet<&'static str>> = OnceLock::new();
    COMMON.get_or_init(|| include_str!("common-passwords.txt").lines().filter(|l| !l.is_empty()).collect())
}

/// The longest password accepted: long passphrases are welcome and never truncated, but a
/// megabyte "password" is only a way to make the server hash a megabyte.
pub const PASSWORD_MAX_CHARS: usize = 1024;

/// NIST SP 800-63B's rules: at least 12 characters, at most `PASSWORD_MAX_CHARS`, no composition
/// rules, and not a common password — not one of the list, nor one of them with digits or symbols
/// added before or after (`password1234`), nor one character repeated, nor containing the
/// account's name.
pub fn password_policy(password: &str, username: &str) -> Result<(), &'static str> {
    let length = password.chars().count();
    if length < 12 {
        return Err("a password must be at least 12 characters (a few words make a good one)");
    }
    if length > PASSWORD_MAX_CHARS {
        return Err("a password may be at most 1024 characters");
    }
    let lower = password.to_lowercase();
    let padding = |c: char| c.is_ascii_digit() || c.is_ascii_punctuation() || c.is_whitespace();
    let core = lower.trim_matches(padding);
    let common = common_passwords();
    if common.contains(lower.as_str()) || (core.chars().count() >= 4 && common.contains(core)) {
        return Err("this password is one of the most common ones, which are tried first; choose another");
    }
    let mut chars = lower.chars();
    let first = chars.next();
    if chars.all(|c| Some(c) == first) {
        return Err("a password of one character repeated is guessed at once; choose another");
    }
    let name = username.trim().to_lowercase();
    if name.chars().count() >= 3 && lower.contains(&name) {
        return Err("a password must not contain the account's name");
    }
    Ok(())
}

/// argon2id with the OWASP parameters: 19 MiB, 2 iterations, 1 lane.
fn argon2() -> Argon2<'static> {
    let params = Params::new(19_456, 2, 1, None).expect("valid argon2 parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

fn dummy_hash() -> &'static str {
    static DUMMY: OnceLock<String> = OnceLock::new();
    DUMMY.get_or_init(|| {
        let salt = SaltString::generate(&mut rand::thread_rng());
        argon2()
            .hash_password(b"not a real password, only for timing", &salt)
            .expect("hashing the dummy password")
            .to_string()
    })
}

/// Hashes a password that meets the policy for the account `username`.
pub async fn hash_password(password: Password, username: &str) -> Result<String, AuthError> {
    password_policy(password.expose(), username).map_err(AuthError::WeakPassword)?;
    let _permit = hashing_permit().await?;
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut rand::thread_rng());
        argon2()
            .hash_password(password.expose().as_bytes(), &salt)
            .map(|h| h.to_string())
            .map_err(|_| AuthError::Hashing)
    })
    .await?
}

/// Checks a password against a stored hash, or against the dummy hash when there is no account.
pub async fn verify_password(stored_hash: Option<String>, password: Password) -> Result<bool, AuthError> {
    let known = stored_hash.is_some();
    let hash = stored_hash.unwrap_or_else(|| dummy_hash().to_string());
    let _permit = hashing_permit().await?;
    let matches = tokio::task::spawn_blocking(move || {
        let Ok(parsed) = PasswordHash::new(&hash) else {
            return false;
        };
        argon2().verify_password(password.expose().as_bytes(), &parsed).is_ok()
    })
    .await?;
    Ok(known && matches)
}

/// A new API token (shown once) and the hex SHA-256 under which it is stored.
pub fn new_api_token() -> (String, String) {
    let mut bytes = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut bytes);
    let token = format!("crt_{}", base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes));
    let digest = token_digest(&token);
    (token, digest)
}

pub fn token_digest(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A random token for anti-forgery fields.
pub fn new_csrf_token() -> String {
    let mut bytes = [0u8; 24];
    rand::thread_rng().fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// Compares two secrets without an early exit.
pub fn constant_time_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A username: 2–64 characters of `a-z 0-9 . _ -`.
/// A name typed at sign-in, as the limits count it: trimmed, lower case, at most 64 characters
/// (so that `" Reviewer"` and `"reviewer "` are one account, and a 256 KiB name is not a key).
pub fn normalise_username(text: &str) -> String {
    text.trim().chars().take(64).flat_map(char::to_lowercase).collect()
}

pub fn parse_username(text: &str) -> Result<String, &'static str> {
    let ok = (2..=64).contains(&text.len())
        && text.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
    if ok {
        Ok(text.to_string())
    } else {
        Err("a username is 2 to 64 characters: lowercase letters, digits, '.', '_' or '-'")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_password_verifies_against_its_own_hash_only() {
        let hash = hash_password(Password::new("correct horse battery".into()), "alice").await.unwrap();
        assert!(hash.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_password(Some(hash.clone()), Password::new("correct horse battery".into())).await.unwrap());
        assert!(!verify_password(Some(hash), Password::new("wrong horse battery".into())).await.unwrap());
    }

    #[tokio::test]
    async fn an_unknown_user_never_verifies() {
        assert!(!verify_password(None, Password::new("not a real password, only for timing".into())).await.unwrap());
    }

    #[tokio::test]
    async fn a_short_password_is_refused() {
        assert!(matches!(hash_password(Password::new("short".into()), "alice").await, Err(AuthError::WeakPassword(_))));
    }

    #[test]
    fn common_guessable_and_personal_passwords_are_refused_and_long_ones_kept_whole() {
        assert!(password_policy("short", "").is_err());
        assert!(password_policy("password1234", "").unwrap_err().contains("common"));
        assert!(password_policy("1234qwertyuiop", "").unwrap_err().contains("common"));
        assert!(password_policy("!!Password!!2024", "").unwrap_err().contains("common"));
        assert!(password_policy("1qaz2wsx3edc", "").unwrap_err().contains("common"), "listed as it is");
        assert!(password_policy("aaaaaaaaaaaaaa", "").unwrap_err().contains("repeated"));
        assert!(password_policy("reviewer-rocks-2026", "reviewer").unwrap_err().contains("name"));
        assert!(password_policy(&"x".repeat(1025), "").is_err());
        // No composition rules: a passphrase of lower-case words is fine, and so is a long one.
        assert!(password_policy("correct horse battery staple", "alice").is_ok());
        assert!(password_policy(&format!("{}y", "long passphrase ".repeat(60)), "alice").is_ok());
    }

    #[tokio::test]
    async fn a_long_password_is_not_truncated() {
        let long = format!("{}A", "a distinct passphrase ".repeat(40));
        let hash = hash_password(Password::new(long.clone()), "alice").await.unwrap();
        let changed_at_the_end = format!("{}B", "a distinct passphrase ".repeat(40));
        assert!(verify_password(Some(hash.clone()), Password::new(long)).await.unwrap());
        assert!(!verify_password(Some(hash), Password::new(changed_at_the_end)).await.unwrap());
    }

    #[test]
    fn a_password_is_redacted_in_debug_output() {
        assert_eq!(format!("{:?}", Password::new("secret".into())), "Password(<redacted>)");
    }

    #[test]
    fn a_username_is_plain_lowercase() {
        assert!(parse_username("alice.b-2").is_ok());
        for bad in ["", "a", "Alice", "al ice", "al/ice", &"a".repeat(65)] {
            assert!(parse_username(bad).is_err(), "{bad:?} should be refused");
        }
    }

    #[test]
    fn a_token_is_stored_as_its_digest() {
        let (token, digest) = new_api_token();
        assert!(token.starts_with("crt_"));
        assert_eq!(token_digest(&token), digest);
        assert_ne!(token, digest);
    }
}
