//! A private note's commitments: what the log binds a note's place and text by. A keyed hash under
//! the note's own random key, so that trying the pin's paths (or short texts) finds nothing; the
//! author, who alone is given the key, can open them later (`docs/audit-events.md`).

use app::error::{AppError, AppResult};
use app::model::{LineRange, RepoPath};
use hmac::Mac as _;
use sha2::Sha256;

/// The hex HMAC-SHA256 of `text` under the note's key (hex); an internal error for a stored key
/// that is not hex.
pub fn commitment(key_hex: &str, text: &str) -> AppResult<String> {
    let key = hex::decode(key_hex).map_err(|_| AppError::Internal("a note's commitment key".into()))?;
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(&key).expect("HMAC takes a key of any length");
    mac.update(text.as_bytes());
    Ok(hex::encode(mac.finalize().into_bytes()))
}

/// How a note's place is written before it is committed to: `<path>\n<lines>`, `<lines>` being
/// `L12`, `L10-L20` or empty.
pub fn note_anchor(path: &RepoPath, lines: Option<LineRange>) -> String {
    format!("{}\n{}", path, lines.map(|l| l.to_string()).unwrap_or_default())
}
