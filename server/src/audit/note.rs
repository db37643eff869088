//! C2SP signed notes with Ed25519 (the format of Go's `golang.org/x/mod/sumdb/note`): signing,
//! verification, and the signer and verifier key strings.
//!
//! A note is UTF-8 text ending in a newline, then a blank line, then signature lines
//! `— <key name> <base64(key id ‖ signature)>`. The key id is the first four bytes of
//! SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key).

use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};
use sha2::{Digest, Sha256};

const ALGORITHM_ED25519: u8 = 1;
/// What starts every signature line of a note (an em dash and a space).
pub(crate) const DASH: &str = "\u{2014} ";

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum NoteError {
    #[error("malformed key")]
    MalformedKey,
    #[error("malformed note")]
    MalformedNote,
    #[error("the note has no signature by a known key")]
    UnknownKey,
    #[error("invalid signature")]
    InvalidSignature,
}

pub(crate) fn valid_name(name: &str) -> bool {
    !name.is_empty() && !name.contains('+') && !name.chars().any(|c| c.is_whitespace() || c.is_control())
}

/// Reads `<name>+<hex id>+<base64(algorithm ‖ 32 key bytes)>`; the key data is base64 and may
/// itself contain '+'. Returns the name, the id and the key bytes.
pub(crate) fn parse_key_parts_of(text: &str, algorithm: u8) -> Result<(&str, u32, [u8; 32]), NoteError> {
    let mut parts = text.trim().splitn(3, '+');
    let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
        return Err(NoteError::MalformedKey);
    };
    let id = u32::from_str_radix(id, 16).map_err(|_| NoteError::MalformedKey)?;
    let bytes = BASE64.decode(key).map_err(|_| NoteError::MalformedKey)?;
    if !valid_name(name) || bytes.len() != 33 || bytes[0] != algorithm {
        return Err(NoteError::MalformedKey);
    }
    let key: [u8; 32] = bytes[1..].try_into().map_err(|_| NoteError::MalformedKey)?;
    Ok((name, id, key))
}

fn parse_key_parts(text: &str) -> Result<(&str, u32, [u8; 32]), NoteError> {
    parse_key_parts_of(text, ALGORITHM_ED25519)
}

/// A key id: the first four bytes of SHA-256(name ‖ "\n" ‖ algorithm ‖ public key), big-endian.
pub(crate) fn key_id_of(name: &str, algorithm: u8, public: &[u8; 32]) -> u32 {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    hasher.update(b"\n");
    hasher.update([algorithm]);
    hasher.update(public);
    let digest = hasher.finalize();
    u32::from_be_bytes([digest[0], digest[1], digest[2], digest[3]])
}

fn key_id(name: &str, public: &[u8; 32]) -> u32 {
    key_id_of(name, ALGORITHM_ED25519, public)
}

/// A signed note's text (ending in its newline) and its signature lines; none when it has no
/// blank line before signatures.
pub fn split(note: &str) -> Option<(&str, &str)> {
    let at = note.rfind("\n\n")?;
    Some((&note[..at + 1], &note[at + 2..]))
}

/// A note signer; the seed never appears in `Debug` output.
pub struct NoteSigner {
    name: String,
    id: u32,
    key: SigningKey,
}

impl std::fmt::Debug for NoteSigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NoteSigner({}+{:08x}, <redacted>)", self.name, self.id)
    }
}

impl NoteSigner {
    pub fn generate(name: &str) -> Result<NoteSigner, NoteError> {
        if !valid_name(name) {
            return Err(NoteError::MalformedKey);
        }
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        let id = key_id(name, key.verifying_key().as_bytes());
        Ok(NoteSigner { name: name.to_string(), id, key })
    }

    /// Parses `PRIVATE+KEY+<name>+<hex id>+<base64(0x01 ‖ seed)>`.
    pub fn parse(text: &str) -> Result<NoteSigner, NoteError> {
        let rest = text.trim().strip_prefix("PRIVATE+KEY+").ok_or(NoteError::MalformedKey)?;
        let (name, id, seed) = parse_key_parts(rest)?;
        let key = SigningKey::from_bytes(&seed);
        if key_id(name, key.verifying_key().as_bytes()) != id {
            return Err(NoteError::MalformedKey);
        }
        Ok(NoteSigner { name: name.to_string(), id, key })
    }

    pub fn to_key_string(&self) -> String {
        let mut bytes = vec![ALGORITHM_ED25519];
        bytes.extend_from_slice(self.key.as_bytes());
        format!("PRIVATE+KEY+{}+{:08x}+{}", self.name, self.id, BASE64.encode(bytes))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Signs raw bytes with the key (a DSSE PAE, a COSE `Sig_structure`): not a note.
    pub fn sign_bytes(&self, message: &[u8]) -> ed25519_dalek::Signature {
        self.key.sign(message)
    }

    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier { name: self.name.clone(), id: self.id, key: self.key.verifying_key() }
    }

    /// A secret for `purpose`: HMAC-SHA256 under the seed of `clearroom derived key\n<purpose>`.
    pub fn derive_key(&self, purpose: &str) -> [u8; 32] {
        use hmac::Mac as _;
        let mut mac =
            hmac::Hmac::<sha2::Sha256>::new_from_slice(self.key.as_bytes()).expect("HMAC takes a key of any length");
        mac.update(format!("clearroom derived key\n{purpose}").as_bytes());
        mac.finalize().into_bytes().into()
    }

    /// Signs a note body (which must end in a newline) and returns the signed note.
    pub fn sign(&self, text: &str) -> Result<String, NoteError> {
        if !text.ends_with('\n') || text.contains("\n\n") || text.chars().any(|c| c.is_control() && c != '\n') {
            return Err(NoteError::MalformedNote);
        }
        let signature = self.key.sign(text.as_bytes());
        let mut bytes = self.id.to_be_bytes().to_vec();
        bytes.extend_from_slice(&signature.to_bytes());
        Ok(format!("{text}\n{DASH}{} {}\n", self.name, BASE64.encode(bytes)))
    }
}

/// A note verifier, from `<name>+<hex id>+<base64(0x01 ‖ public key)>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteVerifier {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl NoteVerifier {
    pub fn parse(text: &str) -> Result<NoteVerifier, NoteError> {
        let (name, id, public) = parse_key_parts(text)?;
        if key_id(name, &public) != id {
            return Err(NoteError::MalformedKey);
        }
        let key = VerifyingKey::from_bytes(&public).map_err(|_| NoteError::MalformedKey)?;
        Ok(NoteVerifier { name: name.to_string(), id, key })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// A short fingerprint for people to compare: SHA-256 of the verifier key string, hex.
    /// The Ed25519 public key.
    pub fn public_key(&self) -> VerifyingKey {
        self.key
    }

    pub fn fingerprint(&self) -> String {
        let digest = Sha256::digest(self.to_string().as_bytes());
        digest[..16].iter().map(|b| format!("{b:02x}")).collect::<Vec<_>>().join(":")
    }

    /// Checks the note carries a valid signature by this key and returns its body (the signed text).
    pub fn open<'a>(&self, note: &'a str) -> Result<&'a str, NoteError> {
        if note.chars().any(|c| c.is_control() && c != '\n') || !note.ends_with('\n') {
            return Err(NoteError::MalformedNote);
        }
        let (body, signatures) = split(note).ok_or(NoteError::MalformedNote)?;
        let mut verified = false;
        for line in signatures.split_terminator('\n') {
            let rest = line.strip_prefix(DASH).ok_or(NoteError::MalformedNote)?;
            let (name, encoded) = rest.split_once(' ').ok_or(NoteError::MalformedNote)?;
            let bytes = BASE64.decode(encoded).map_err(|_| NoteError::MalformedNote)?;
            if !valid_name(name) || bytes.len() < 5 {
                return Err(NoteError::MalformedNote);
            }
            let id = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
            if name != self.name || id != self.id {
                continue; // Another key's signature (a witness, say): not ours to judge.
            }
            let signature =
                ed25519_dalek::Signature::from_slice(&bytes[4..]).map_err(|_| NoteError::InvalidSignature)?;
            self.key.verify(body.as_bytes(), &signature).map_err(|_| NoteError::InvalidSignature)?;
            verified = true;
        }
        if verified {
            Ok(body)
        } else {
            Err(NoteError::UnknownKey)
        }
    }
}

impl std::fmt::Display for NoteVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut bytes = vec![ALGORITHM_ED25519];
        bytes.extend_from_slice(self.key.as_bytes());
        write!(f, "{}+{:08x}+{}", self.name, self.id, BASE64.encode(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SIGNER: &str = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
    const VERIFIER: &str = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
    const TEXT: &str =
        "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
    const SIGNATURE: &str = "\u{2014} PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";

    #[test]
    fn signing_the_known_text_gives_the_known_note() {
        let signer = NoteSigner::parse(SIGNER).unwrap();
        assert_eq!(signer.verifier().to_string(), VERIFIER);
        assert_eq!(signer.to_key_string(), SIGNER);
        assert_eq!(signer.sign(TEXT).unwrap(), format!("{TEXT}\n{SIGNATURE}"));
    }

    #[test]
    fn a_signed_note_opens_with_its_key() {
        let verifier = NoteVerifier::parse(VERIFIER).unwrap();
        assert_eq!(verifier.open(&format!("{TEXT}\n{SIGNATURE}")).unwrap(), TEXT);
        // Keys whose base64 holds a '+' (as the Peter Neumann signer key does) parse too.
        for _ in 0..20 {
            let signer = NoteSigner::generate("example.com/log").unwrap();
            assert_eq!(NoteSigner::parse(&signer.to_key_string()).unwrap().verifier(), signer.verifier());
            assert_eq!(NoteVerifier::parse(&signer.verifier().to_string()).unwrap(), signer.verifier());
        }
        let fresh = NoteSigner::generate("example.com/log").unwrap();
        let note = fresh.sign("hello\n").unwrap();
        assert_eq!(fresh.verifier().open(&note).unwrap(), "hello\n");
        let reparsed = NoteVerifier::parse(&fresh.verifier().to_string()).unwrap();
        assert_eq!(reparsed, fresh.verifier());
    }

    #[test]
    fn a_note_is_refused_with_the_wrong_key() {
        let other = NoteSigner::generate("PeterNeumann").unwrap().verifier();
        assert_eq!(other.open(&format!("{TEXT}\n{SIGNATURE}")), Err(NoteError::UnknownKey));
    }

    #[test]
    fn an_altered_body_is_refused() {
        let verifier = NoteVerifier::parse(VERIFIER).unwrap();
        let altered = format!("{}\n{SIGNATURE}", TEXT.replace("answer", "ANSWER"));
        assert_eq!(verifier.open(&altered), Err(NoteError::InvalidSignature));
    }

    #[test]
    fn an_extra_or_missing_newline_is_refused() {
        let verifier = NoteVerifier::parse(VERIFIER).unwrap();
        assert!(verifier.open(&format!("{TEXT}\n\n{SIGNATURE}")).is_err(), "extra newline");
        assert!(verifier.open(&format!("{TEXT}{SIGNATURE}")).is_err(), "missing blank line");
        assert!(verifier.open(&format!("{TEXT}\n{}", SIGNATURE.trim_end())).is_err(), "missing final newline");
        assert!(
            verifier.open(&format!("{TEXT}\n{}", SIGNATURE.replace('\u{2014}', "-"))).is_err(),
            "not a signature line"
        );
    }

    #[test]
    fn a_note_signed_only_by_an_unknown_key_is_refused() {
        let stranger = NoteSigner::generate("stranger.example").unwrap();
        let note = stranger.sign(TEXT).unwrap();
        let verifier = NoteVerifier::parse(VERIFIER).unwrap();
        assert_eq!(verifier.open(&note), Err(NoteError::UnknownKey));
    }

    #[test]
    fn keys_with_a_wrong_id_are_refused() {
        assert!(NoteVerifier::parse("PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW").is_err());
        assert!(NoteSigner::parse("PRIVATE+KEY+PeterNeumann+c74f20a4+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")
            .is_err());
        assert!(format!("{:?}", NoteSigner::parse(SIGNER).unwrap()).contains("redacted"));
    }
}
