//! Builds and attestations: the DSSE envelope (pre-authentication encoding, signing, verifying),
//! the attestation key, the in-toto statements the server issues (`statement`), and storing an
//! uploaded artifact by its hash (`upload`). The formats are specified in `docs/attestations.md`.

pub mod compiled;
pub mod dwarf;
pub mod recipe;
pub mod sandbox;
pub mod statement;
pub mod toolchain;
pub mod upload;

use base64::Engine as _;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::{Signer as _, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::path::Path;

/// The payload type of every envelope the server issues.
pub const PAYLOAD_TYPE: &str = "application/vnd.in-toto+json";

/// DSSE v1 pre-authentication encoding: `DSSEv1 <len type> <type> <len body> <body>`, lengths in
/// ASCII decimal bytes.
pub fn pae(payload_type: &str, payload: &[u8]) -> Vec<u8> {
    let mut out = format!("DSSEv1 {} {} {} ", payload_type.len(), payload_type, payload.len()).into_bytes();
    out.extend_from_slice(payload);
    out
}

/// A DSSE envelope as JSON carries it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Envelope {
    pub payload: String,
    pub payload_type: String,
    pub signatures: Vec<EnvelopeSignature>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EnvelopeSignature {
    #[serde(default)]
    pub keyid: String,
    pub sig: String,
}

/// Why an envelope does not verify.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum EnvelopeError {
    #[error("the envelope is not DSSE JSON")]
    Malformed,
    #[error("the payload type is {0:?}, not {PAYLOAD_TYPE}")]
    PayloadType(String),
    #[error("the payload is not base64")]
    Payload,
    #[error("no signature names key id {0}")]
    NoSignatureForKey(String),
    #[error("a signature has no key id")]
    MissingKeyId,
    #[error("the signature does not verify with key {0}")]
    BadSignature(String),
    #[error("the payload is not an in-toto Statement v1: {0}")]
    Statement(&'static str),
}

/// The Ed25519 key that signs attestations (a PKCS#8 PEM file, 0600, separate from the log key).
pub struct AttestationKey {
    key: SigningKey,
    keyid: String,
}

/// The key id of a public key: lowercase hex SHA-256 of its SubjectPublicKeyInfo DER.
pub fn key_id(public: &VerifyingKey) -> String {
    let der = public.to_public_key_der().map(|d| d.as_bytes().to_vec()).unwrap_or_default();
    hex::encode(Sha256::digest(der))
}

impl AttestationKey {
    pub fn from_signing_key(key: SigningKey) -> AttestationKey {
        let keyid = key_id(&key.verifying_key());
        AttestationKey { key, keyid }
    }

    pub fn generate() -> AttestationKey {
        Self::from_signing_key(SigningKey::generate(&mut rand::rngs::OsRng))
    }

    /// The key at `path`, created (mode 0600) when missing.
    pub fn load_or_create(path: &Path) -> anyhow::Result<AttestationKey> {
        use anyhow::Context as _;
        if path.exists() {
            let pem = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            let key = SigningKey::from_pkcs8_pem(&pem)
                .map_err(|_| anyhow::anyhow!("{} is not a PKCS#8 Ed25519 private key", path.display()))?;
            return Ok(Self::from_signing_key(key));
        }
        let key = Self::generate();
        let pem =
            key.key.to_pkcs8_pem(Default::default()).map_err(|_| anyhow::anyhow!("encoding the attestation key"))?;
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)?;
        }
        crate::audit::checkpoint::write_private(path, &pem)
            .with_context(|| format!("writing the attestation key {}", path.display()))?;
        Ok(key)
    }

    pub fn keyid(&self) -> &str {
        &self.keyid
    }

    pub fn verifying_key(&self) -> VerifyingKey {
        self.key.verifying_key()
    }

    /// The public key as a SubjectPublicKeyInfo PEM (what `openssl`, cosign and securesystemslib read).
    pub fn public_pem(&self) -> String {
        public_pem(&self.key.verifying_key())
    }

    /// Signs raw bytes (a COSE `Sig_structure`).
    pub fn sign_bytes(&self, message: &[u8]) -> [u8; 64] {
        self.key.sign(message).to_bytes()
    }

    /// Signs `payload` (an in-toto statement's JSON bytes) into an envelope.
    pub fn sign(&self, payload: &[u8]) -> Envelope {
        let signature = self.key.sign(&pae(PAYLOAD_TYPE, payload));
        let b64 = base64::engine::general_purpose::STANDARD;
        Envelope {
            payload: b64.encode(payload),
            payload_type: PAYLOAD_TYPE.into(),
            signatures: vec![EnvelopeSignature { keyid: self.keyid.clone(), sig: b64.encode(signature.to_bytes()) }],
        }
    }
}

pub fn public_pem(key: &VerifyingKey) -> String {
    key.to_public_key_pem(Default::default()).unwrap_or_default()
}

/// Reads a public key: SubjectPublicKeyInfo PEM, or the 32 raw bytes in base64.
pub fn parse_public_key(text: &str) -> Option<VerifyingKey> {
    if let Ok(key) = VerifyingKey::from_public_key_pem(text.trim()) {
        return Some(key);
    }
    let bytes = base64::engine::general_purpose::STANDARD.decode(text.trim()).ok()?;
    VerifyingKey::from_bytes(&bytes.try_into().ok()?).ok()
}

/// Verifies an envelope with `key`: the payload type is in-toto's, a signature carries the key's id
/// and verifies over the PAE, and the payload is an in-toto Statement v1. Returns the statement.
pub fn verify_envelope(json: &str, key: &VerifyingKey) -> Result<serde_json::Value, EnvelopeError> {
    let envelope: Envelope = serde_json::from_str(json).map_err(|_| EnvelopeError::Malformed)?;
    if envelope.payload_type != PAYLOAD_TYPE {
        return Err(EnvelopeError::PayloadType(envelope.payload_type));
    }
    let b64 = base64::engine::general_purpose::STANDARD;
    let payload = b64.decode(&envelope.payload).map_err(|_| EnvelopeError::Payload)?;
    if envelope.signatures.iter().any(|s| s.keyid.is_empty()) {
        return Err(EnvelopeError::MissingKeyId);
    }
    let keyid = key_id(key);
    let signature = envelope
        .signatures
        .iter()
        .find(|s| s.keyid == keyid)
        .ok_or_else(|| EnvelopeError::NoSignatureForKey(keyid.clone()))?;
    let sig = b64
        .decode(&signature.sig)
        .ok()
        .and_then(|bytes| ed25519_dalek::Signature::from_slice(&bytes).ok())
        .ok_or_else(|| EnvelopeError::BadSignature(keyid.clone()))?;
    key.verify_strict(&pae(&envelope.payload_type, &payload), &sig)
        .map_err(|_| EnvelopeError::BadSignature(keyid.clone()))?;
    let statement: serde_json::Value =
        serde_json::from_slice(&payload).map_err(|_| EnvelopeError::Statement("not JSON"))?;
    statement::check_statement(&statement)?;
    Ok(statement)
}

/// The lowercase hex SHA-256 of some bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pae_matches_the_dsse_specification_example() {
        assert_eq!(
            pae("http://example.com/HelloWorld", b"hello world"),
            b"DSSEv1 29 http://example.com/HelloWorld 11 hello world".to_vec()
        );
    }

    #[test]
    fn pae_counts_bytes_not_characters() {
        assert_eq!(pae("t", "é".as_bytes()), b"DSSEv1 1 t 2 \xc3\xa9".to_vec());
    }

    fn statement() -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "_type": statement::STATEMENT_TYPE,
            "subject": [{ "name": "app", "digest": { "sha256": "ab".repeat(32) } }],
            "predicateType": "https://example.com/p",
            "predicate": {}
        }))
        .unwrap()
    }

    #[test]
    fn an_envelope_signed_verifies_with_its_key() {
        let key = AttestationKey::generate();
        let envelope = serde_json::to_string(&key.sign(&statement())).unwrap();
        let checked = verify_envelope(&envelope, &key.verifying_key()).unwrap();
        assert_eq!(checked["subject"][0]["name"], "app");
        let reparsed = parse_public_key(&key.public_pem()).unwrap();
        assert_eq!(reparsed, key.verifying_key());
    }

    #[test]
    fn tampering_a_wrong_key_or_a_missing_key_id_is_refused() {
        let key = AttestationKey::generate();
        let good = key.sign(&statement());
        let b64 = base64::engine::general_purpose::STANDARD;

        let mut tampered = good.clone();
        let mut payload = statement();
        payload[20] ^= 1;
        tampered.payload = b64.encode(&payload);
        let tampered = serde_json::to_string(&tampered).unwrap();
        assert!(matches!(verify_envelope(&tampered, &key.verifying_key()), Err(EnvelopeError::BadSignature(_))));

        let mut swapped = good.clone();
        swapped.payload_type = "application/json".into();
        let swapped = serde_json::to_string(&swapped).unwrap();
        assert!(matches!(verify_envelope(&swapped, &key.verifying_key()), Err(EnvelopeError::PayloadType(_))));

        let other = AttestationKey::generate();
        let good_json = serde_json::to_string(&good).unwrap();
        assert!(matches!(
            verify_envelope(&good_json, &other.verifying_key()),
            Err(EnvelopeError::NoSignatureForKey(_))
        ));

        // The right key id over a signature by another key.
        let mut forged = other.sign(&statement());
        forged.signatures[0].keyid = key.keyid().into();
        let forged = serde_json::to_string(&forged).unwrap();
        assert!(matches!(verify_envelope(&forged, &key.verifying_key()), Err(EnvelopeError::BadSignature(_))));

        let mut anonymous = good;
        anonymous.signatures[0].keyid.clear();
        let anonymous = serde_json::to_string(&anonymous).unwrap();
        assert_eq!(verify_envelope(&anonymous, &key.verifying_key()), Err(EnvelopeError::MissingKeyId));

        assert_eq!(verify_envelope("{}", &key.verifying_key()), Err(EnvelopeError::Malformed));
    }

    #[test]
    fn a_key_file_is_private_and_reloads() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("attestation.key");
        let key = AttestationKey::load_or_create(&path).unwrap();
        let again = AttestationKey::load_or_create(&path).unwrap();
        assert_eq!(key.keyid(), again.keyid());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            assert_eq!(std::fs::metadata(&path).unwrap().permissions().mode() & 0o777, 0o600);
        }
    }
}
