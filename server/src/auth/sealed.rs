//! Second-factor secrets sealed at rest: a TOTP secret is stored as ChaCha20-Poly1305 ciphertext
//! under a key kept in the data directory beside the log's (`second-factor.key`, 0600), never in
//! the database, so that a copy of the database alone yields no second factor. The associated data
//! binds each sealed value to its account and column: moved to another account's row, it does not
//! open.
//!
//! Stored form: `sealed1:` then base64 of the 12-byte random nonce followed by the ciphertext and
//! tag. A value without the prefix is a secret from before sealing, opened as it is; the server
//! seals those at start (`Sessions::seal_second_factors`).

use anyhow::Context as _;
use base64::Engine as _;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{ChaCha20Poly1305, Key, Nonce};
use std::path::Path;

const PREFIX: &str = "sealed1:";
const BASE64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Which secret of an account a value is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Column {
    /// The second factor in use.
    Secret,
    /// One being set up, waiting for its first code.
    Pending,
}

impl Column {
    fn name(self) -> &'static str {
        match self {
            Column::Secret => "totp_secret",
            Column::Pending => "totp_pending",
        }
    }
}

/// A stored value that does not open under this server's key (another key, or altered).
#[derive(Debug, thiserror::Error)]
#[error("a stored second-factor secret does not open with this server's second-factor key")]
pub struct Unopenable;

/// The key second-factor secrets are sealed with.
pub struct SealingKey {
    cipher: ChaCha20Poly1305,
}

/// Never shows the key.
impl std::fmt::Debug for SealingKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("SealingKey(…)")
    }
}

impl SealingKey {
    pub fn from_bytes(bytes: [u8; 32]) -> SealingKey {
        SealingKey { cipher: ChaCha20Poly1305::new(Key::from_slice(&bytes)) }
    }

    /// The key at `path` (64 hex digits), created (0600) when missing. Two instances starting
    /// together on one data directory read the one that was written first.
    pub fn load_or_create(path: &Path) -> anyhow::Result<SealingKey> {
        if !path.exists() {
            let bytes: [u8; 32] = rand::random();
            match crate::audit::checkpoint::write_private(path, &format!("{}\n", hex::encode(bytes))) {
                Ok(()) => return Ok(SealingKey::from_bytes(bytes)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e).with_context(|| format!("writing the second-factor key {}", path.display())),
            }
        }
        let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let bytes: [u8; 32] = hex::decode(text.trim())
            .ok()
            .and_then(|b| b.try_into().ok())
            .ok_or_else(|| anyhow::anyhow!("{}: not a second-factor key (64 hex digits)", path.display()))?;
        Ok(SealingKey::from_bytes(bytes))
    }

    fn associated(user_id: i64, column: Column) -> String {
        format!("clearroom second factor {} of account {user_id}", column.name())
    }

    /// `secret` sealed for `user_id`'s `column`.
    pub fn seal(&self, user_id: i64, column: Column, secret: &str) -> String {
        let nonce: [u8; 12] = rand::random();
        let aad = Self::associated(user_id, column);
        let sealed = self
            .cipher
            .encrypt(Nonce::from_slice(&nonce), Payload { msg: secret.as_bytes(), aad: aad.as_bytes() })
            .expect("ChaCha20-Poly1305 seals any message of this size");
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        format!("{PREFIX}{}", BASE64.encode(bytes))
    }

    /// The secret a stored value holds (one from before sealing is returned as it is).
    pub fn open(&self, user_id: i64, column: Column, stored: &str) -> Result<String, Unopenable> {
        let Some(encoded) = stored.strip_prefix(PREFIX) else { return Ok(stored.to_string()) };
        let bytes = BASE64.decode(encoded).map_err(|_| Unopenable)?;
        if bytes.len() < 12 + 16 {
            return Err(Unopenable);
        }
        let (nonce, sealed) = bytes.split_at(12);
        let aad = Self::associated(user_id, column);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), Payload { msg: sealed, aad: aad.as_bytes() })
            .map_err(|_| Unopenable)?;
        String::from_utf8(plain).map_err(|_| Unopenable)
    }
}

/// Whether a stored value is sealed.
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_secret_opens_only_for_its_account_and_column_under_its_key() {
        let key = SealingKey::from_bytes([7; 32]);
        let sealed = key.seal(3, Column::Secret, "JBSWY3DPEHPK3PXP");
        assert!(is_sealed(&sealed) && !sealed.contains("JBSWY3DPEHPK3PXP"));
        assert_ne!(sealed, key.seal(3, Column::Secret, "JBSWY3DPEHPK3PXP"), "a fresh nonce each time");
        assert_eq!(key.open(3, Column::Secret, &sealed).unwrap(), "JBSWY3DPEHPK3PXP");
        assert!(key.open(4, Column::Secret, &sealed).is_err(), "another account's row");
        assert!(key.open(3, Column::Pending, &sealed).is_err(), "another column");
        assert!(SealingKey::from_bytes([8; 32]).open(3, Column::Secret, &sealed).is_err(), "another key");
        let mut altered = sealed.clone();
        altered.pop();
        altered.push(if sealed.ends_with('A') { 'B' } else { 'A' });
        assert!(key.open(3, Column::Secret, &altered).is_err());
        assert!(key.open(3, Column::Secret, "sealed1:AAAA").is_err());
        assert_eq!(key.open(3, Column::Secret, "JBSWY3DPEHPK3PXP").unwrap(), "JBSWY3DPEHPK3PXP", "from before sealing");
    }

    #[test]
    fn the_key_file_is_made_once_private_and_read_back() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("second-factor.key");
        let first = SealingKey::load_or_create(&path).unwrap();
        let sealed = first.seal(1, Column::Secret, "ABC");
        let again = SealingKey::load_or_create(&path).unwrap();
        assert_eq!(again.open(1, Column::Secret, &sealed).unwrap(), "ABC");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
        std::fs::write(&path, "not a key").unwrap();
        assert!(SealingKey::load_or_create(&path).unwrap_err().to_string().contains("not a second-factor key"));
    }
}
