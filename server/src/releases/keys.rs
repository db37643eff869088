//! A supervisor's key and what it signs, offline: `server supervisor key` writes the private key
//! (a C2SP note signer key, 0600) and prints the public one (its verifier key line);
//! `server supervisor sign` and `server supervisor object` turn a dossier's DSSE envelope into a
//! decision file to upload. The key never reaches the server. Formats: `docs/releases.md`.

use crate::audit::note::{NoteSigner, NoteVerifier};
use crate::builds::{key_id, pae, Envelope, PAYLOAD_TYPE};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

/// The `type` of a signature file.
pub const SIGNATURE_TYPE: &str = "https://clearroom.dev/release-signature/v1";
/// The `type` of an objection file.
pub const OBJECTION_TYPE: &str = "https://clearroom.dev/release-objection/v1";
/// The DSSE payload type an objection's signature is over.
pub const OBJECTION_PAYLOAD_TYPE: &str = "application/vnd.clearroom.release-objection+json";
/// The longest reason an objection may give, in bytes.
pub const MAX_REASON: usize = 4096;

/// A supervisor's decision on one dossier, as uploaded: a signature of the dossier's PAE, or a
/// signed objection with its reason.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    #[serde(rename = "type")]
    pub kind: String,
    /// SHA-256 of the dossier (the statement's exact bytes), hex.
    pub dossier_sha256: String,
    /// An objection's reason; absent from a signature.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// The DSSE key id of the signing key: SHA-256 of its SubjectPublicKeyInfo DER, hex.
    pub keyid: String,
    /// The Ed25519 signature, base64.
    pub sig: String,
}

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum DecisionError {
    #[error("the dossier is not a DSSE envelope of an in-toto statement")]
    NotADossier,
    #[error("the file is not a release signature or objection")]
    Malformed,
    #[error("an objection needs a reason (at most {MAX_REASON} bytes, no control characters)")]
    Reason,
    #[error("the decision is over another dossier")]
    OtherDossier,
    #[error("the signing key is not registered to this supervisor")]
    UnknownKey,
    #[error("the signature does not verify")]
    BadSignature,
}

/// The payload of an objection: canonical JSON `{"dossier_sha256":…,"reason":…}`.
pub fn objection_payload(dossier_sha256: &str, reason: &str) -> Vec<u8> {
    let value = serde_json::json!({ "dossier_sha256": dossier_sha256, "reason": reason });
    serde_json::to_vec(&value).expect("JSON")
}

/// The statement a dossier's envelope carries, as bytes.
pub fn dossier_statement(envelope_json: &str) -> Result<Vec<u8>, DecisionError> {
    let envelope: Envelope = serde_json::from_str(envelope_json).map_err(|_| DecisionError::NotADossier)?;
    if envelope.payload_type != PAYLOAD_TYPE {
        return Err(DecisionError::NotADossier);
    }
    let payload = BASE64.decode(&envelope.payload).map_err(|_| DecisionError::NotADossier)?;
    let statement: serde_json::Value = serde_json::from_slice(&payload).map_err(|_| DecisionError::NotADossier)?;
    if statement["predicateType"] != super::dossier::RELEASE_TYPE {
        return Err(DecisionError::NotADossier);
    }
    Ok(payload)
}

fn valid_reason(reason: &str) -> bool {
    !reason.trim().is_empty() && reason.len() <= MAX_REASON && !reason.chars().any(|c| c.is_control() && c != '\n')
}

/// Signs a dossier (its envelope's JSON) with a supervisor's key.
pub fn sign(envelope_json: &str, key: &NoteSigner) -> Result<Decision, DecisionError> {
    let statement = dossier_statement(envelope_json)?;
    let signature = key.sign_bytes(&pae(PAYLOAD_TYPE, &statement));
    Ok(Decision {
        kind: SIGNATURE_TYPE.into(),
        dossier_sha256: hex::encode(Sha256::digest(&statement)),
        reason: None,
        keyid: key_id(&key.verifier().public_key()),
        sig: BASE64.encode(signature.to_bytes()),
    })
}

/// Objects to a dossier with a reason, signed with a supervisor's key.
pub fn object(envelope_json: &str, key: &NoteSigner, reason: &str) -> Result<Decision, DecisionError> {
    if !valid_reason(reason) {
        return Err(DecisionError::Reason);
    }
    let statement = dossier_statement(envelope_json)?;
    let dossier_sha256 = hex::encode(Sha256::digest(&statement));
    let payload = objection_payload(&dossier_sha256, reason);
    let signature = key.sign_bytes(&pae(OBJECTION_PAYLOAD_TYPE, &payload));
    Ok(Decision {
        kind: OBJECTION_TYPE.into(),
        dossier_sha256,
        reason: Some(reason.to_string()),
        keyid: key_id(&key.verifier().public_key()),
        sig: BASE64.encode(signature.to_bytes()),
    })
}

/// Whether a decision is a signature (`true`) or an objection (`false`).
pub fn parse(text: &str) -> Result<(Decision, bool), DecisionError> {
    let decision: Decision = serde_json::from_str(text).map_err(|_| DecisionError::Malformed)?;
    let signs = match (decision.kind.as_str(), &decision.reason) {
        (SIGNATURE_TYPE, None) => true,
        (OBJECTION_TYPE, Some(reason)) if valid_reason(reason) => false,
        (OBJECTION_TYPE, _) => return Err(DecisionError::Reason),
        _ => return Err(DecisionError::Malformed),
    };
    Ok((decision, signs))
}

/// Checks a decision against the dossier's statement bytes and one of the supervisor's
/// registered keys (`keys`: each key's DSSE key id and public key). Returns the key's id.
pub fn verify<'a>(
    decision: &Decision,
    statement: &[u8],
    keys: impl IntoIterator<Item = &'a VerifyingKey>,
) -> Result<String, DecisionError> {
    if decision.dossier_sha256 != hex::encode(Sha256::digest(statement)) {
        return Err(DecisionError::OtherDossier);
    }
    let key = keys.into_iter().find(|k| key_id(k) == decision.keyid).ok_or(DecisionError::UnknownKey)?;
    let signed = match &decision.reason {
        None => pae(PAYLOAD_TYPE, statement),
        Some(reason) => pae(OBJECTION_PAYLOAD_TYPE, &objection_payload(&decision.dossier_sha256, reason)),
    };
    let sig = BASE64
        .decode(&decision.sig)
        .ok()
        .and_then(|bytes| ed25519_dalek::Signature::from_slice(&bytes).ok())
        .ok_or(DecisionError::BadSignature)?;
    key.verify_strict(&signed, &sig).map_err(|_| DecisionError::BadSignature)?;
    Ok(decision.keyid.clone())
}

/// A registered public key: the verifier key line as printed by `server supervisor key`.
pub fn parse_public(text: &str) -> Option<(NoteVerifier, String)> {
    let verifier = NoteVerifier::parse(text.trim()).ok()?;
    let keyid = key_id(&verifier.public_key());
    Some((verifier, keyid))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dossier(statement: &serde_json::Value) -> String {
        let key = crate::builds::AttestationKey::generate();
        serde_json::to_string(&key.sign(&serde_json::to_vec(statement).unwrap())).unwrap()
    }

    fn statement() -> serde_json::Value {
        serde_json::json!({
            "_type": crate::builds::statement::STATEMENT_TYPE,
            "subject": [{"name": "a", "digest": {"sha256": "00"}}],
            "predicateType": super::super::dossier::RELEASE_TYPE,
            "predicate": {},
        })
    }

    #[test]
    fn a_signature_verifies_against_its_dossier_and_key_only() {
        let key = NoteSigner::generate("sup1").unwrap();
        let envelope = dossier(&statement());
        let decision = sign(&envelope, &key).unwrap();
        let text = serde_json::to_string(&decision).unwrap();
        let (parsed, signs) = parse(&text).unwrap();
        assert!(signs);
        let bytes = dossier_statement(&envelope).unwrap();
        let public = key.verifier().public_key();
        assert_eq!(verify(&parsed, &bytes, [&public]), Ok(decision.keyid.clone()));
        let other = NoteSigner::generate("sup2").unwrap().verifier().public_key();
        assert_eq!(verify(&parsed, &bytes, [&other]), Err(DecisionError::UnknownKey));
        let mut changed = statement();
        changed["predicate"]["x"] = 1.into();
        let other_bytes = dossier_statement(&dossier(&changed)).unwrap();
        assert_eq!(verify(&parsed, &other_bytes, [&public]), Err(DecisionError::OtherDossier));
    }

    #[test]
    fn an_objection_signs_its_reason() {
        let key = NoteSigner::generate("sup1").unwrap();
        let envelope = dossier(&statement());
        assert_eq!(object(&envelope, &key, "  "), Err(DecisionError::Reason));
        let mut decision = object(&envelope, &key, "the map is stale").unwrap();
        let bytes = dossier_statement(&envelope).unwrap();
        let public = key.verifier().public_key();
        assert!(verify(&decision, &bytes, [&public]).is_ok());
        decision.reason = Some("another reason".into());
        assert_eq!(verify(&decision, &bytes, [&public]), Err(DecisionError::BadSignature));
    }

    #[test]
    fn only_release_dossiers_are_signed() {
        let key = NoteSigner::generate("sup1").unwrap();
        let mut other = statement();
        other["predicateType"] = "https://slsa.dev/provenance/v1".into();
        assert_eq!(sign(&dossier(&other), &key), Err(DecisionError::NotADossier));
        assert_eq!(sign("{}", &key), Err(DecisionError::NotADossier));
        assert_eq!(parse("{\"type\":\"x\"}"), Err(DecisionError::Malformed));
    }
}
