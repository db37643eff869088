//! The SCITT encodings of the public log (RFC 9943; RFC 9942; RFC 9052; RFC 9679), with `coset`:
//! Signed Statements (COSE_Sign1, tagged 18, EdDSA, CWT claims in protected header 15, payload
//! attached), Receipts of inclusion in an RFC 9162 tree (header 395 = 1, proofs in header 396,
//! detached payload = the root), Transparent Statements (receipts in unprotected header 394), the
//! service's COSE Key Set and key thumbprints. Byte by byte in `docs/releases.md`.

use crate::audit::merkle::Hash;
use crate::audit::proof;
use coset::cbor::value::Value;
use coset::iana::{self, EnumI64 as _};
use coset::{CborSerializable as _, CoseKey, CoseSign1, Header, Label, TaggedCborSerializable as _};
use ed25519_dalek::VerifyingKey;
use sha2::{Digest, Sha256};

/// Protected header label of CWT claims (RFC 9597).
pub const CWT_CLAIMS: i64 = 15;
/// Unprotected header label of receipts in a Transparent Statement.
pub const RECEIPTS: i64 = 394;
/// Protected header label of the verifiable data structure of a receipt.
pub const VDS: i64 = 395;
/// Unprotected header label of a receipt's proofs.
pub const VDP: i64 = 396;
/// `RFC9162_SHA256`, the verifiable data structure of the log.
pub const RFC9162_SHA256: i64 = 1;
/// The key of inclusion proofs in the proofs map.
pub const INCLUSION: i64 = -1;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CoseError {
    #[error("not a tagged COSE_Sign1")]
    NotSign1,
    #[error("the statement is not in the deterministic encoding it decodes to")]
    NotDeterministic,
    #[error("the algorithm is not EdDSA")]
    Algorithm,
    #[error("no CWT claims with an issuer and a subject in protected header 15")]
    Claims,
    #[error("no content type")]
    ContentType,
    #[error("the payload is detached")]
    Detached,
    #[error("the signature does not verify")]
    Signature,
    #[error("not a receipt of an RFC 9162 SHA-256 tree")]
    Receipt,
    #[error("the receipt's inclusion proof does not lead to a root: {0}")]
    Proof(proof::ProofError),
}

/// What a Signed Statement says of itself.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Statement {
    pub issuer: String,
    pub subject: String,
    pub content_type: String,
    pub kid: Vec<u8>,
    pub payload: Vec<u8>,
}

/// The RFC 9679 thumbprint of an Ed25519 key: SHA-256 of the deterministic CBOR map
/// `{1: 1 (OKP), -1: 6 (Ed25519), -2: x}`.
pub fn thumbprint(key: &VerifyingKey) -> Vec<u8> {
    let map = Value::Map(vec![
        (Value::from(1), Value::from(iana::KeyType::OKP.to_i64())),
        (Value::from(-1), Value::from(iana::EllipticCurve::Ed25519.to_i64())),
        (Value::from(-2), Value::Bytes(key.as_bytes().to_vec())),
    ]);
    let mut bytes = Vec::new();
    coset::cbor::ser::into_writer(&map, &mut bytes).expect("CBOR to memory");
    Sha256::digest(bytes).to_vec()
}

/// A COSE_Key of an Ed25519 public key, its `kid` the thumbprint.
pub fn cose_key(key: &VerifyingKey) -> CoseKey {
    CoseKey {
        kty: coset::KeyType::Assigned(iana::KeyType::OKP),
        key_id: thumbprint(key),
        alg: Some(coset::Algorithm::Assigned(iana::Algorithm::EdDSA)),
        params: vec![
            (Label::Int(iana::OkpKeyParameter::Crv.to_i64()), Value::from(iana::EllipticCurve::Ed25519.to_i64())),
            (Label::Int(iana::OkpKeyParameter::X.to_i64()), Value::Bytes(key.as_bytes().to_vec())),
        ],
        ..Default::default()
    }
}

/// The service's keys as a COSE Key Set (CBOR).
pub fn key_set(keys: &[VerifyingKey]) -> Vec<u8> {
    coset::CoseKeySet(keys.iter().map(cose_key).collect()).to_vec().expect("CBOR to memory")
}

fn claims(issuer: &str, subject: &str) -> Value {
    Value::Map(vec![(Value::from(1), Value::Text(issuer.into())), (Value::from(2), Value::Text(subject.into()))])
}

/// A Signed Statement: tagged COSE_Sign1 over the payload (attached), `sign` giving the Ed25519
/// signature of the `Sig_structure`.
pub fn sign_statement(statement: &Statement, sign: impl FnOnce(&[u8]) -> [u8; 64]) -> Vec<u8> {
    let protected = coset::HeaderBuilder::new()
        .algorithm(iana::Algorithm::EdDSA)
        .content_type(statement.content_type.clone())
        .key_id(statement.kid.clone())
        .value(CWT_CLAIMS, claims(&statement.issuer, &statement.subject))
        .build();
    let sign1 = coset::CoseSign1Builder::new()
        .protected(protected)
        .payload(statement.payload.clone())
        .create_signature(b"", |tbs| sign(tbs).to_vec())
        .build();
    sign1.to_tagged_vec().expect("CBOR to memory")
}

fn claim(claims: &Value, key: i64) -> Option<String> {
    let map = claims.as_map()?;
    let (_, value) = map.iter().find(|(k, _)| k.as_integer() == Some(key.into()))?;
    value.as_text().filter(|t| !t.is_empty()).map(str::to_string)
}

/// Reads a Signed Statement (its encoding must be the deterministic one it decodes to, so that
/// its leaf can be recomputed from a Transparent Statement). Does not check the signature.
pub fn read_statement(bytes: &[u8]) -> Result<(CoseSign1, Statement), CoseError> {
    let sign1 = CoseSign1::from_tagged_slice(bytes).map_err(|_| CoseError::NotSign1)?;
    if sign1.clone().to_tagged_vec().ok().as_deref() != Some(bytes) {
        return Err(CoseError::NotDeterministic);
    }
    let header = &sign1.protected.header;
    if header.alg != Some(coset::Algorithm::Assigned(iana::Algorithm::EdDSA)) {
        return Err(CoseError::Algorithm);
    }
    let (_, cwt) = header.rest.iter().find(|(l, _)| *l == Label::Int(CWT_CLAIMS)).ok_or(CoseError::Claims)?;
    let (issuer, subject) = (claim(cwt, 1).ok_or(CoseError::Claims)?, claim(cwt, 2).ok_or(CoseError::Claims)?);
    let content_type = match &header.content_type {
        Some(coset::ContentType::Text(text)) if !text.is_empty() => text.clone(),
        _ => return Err(CoseError::ContentType),
    };
    let payload = sign1.payload.clone().ok_or(CoseError::Detached)?;
    let kid = header.key_id.clone();
    Ok((sign1, Statement { issuer, subject, content_type, kid, payload }))
}

/// Checks a statement's signature with `key`.
pub fn verify_statement(sign1: &CoseSign1, key: &VerifyingKey) -> Result<(), CoseError> {
    sign1.verify_signature(b"", |sig, tbs| {
        let sig = ed25519_dalek::Signature::from_slice(sig).map_err(|_| CoseError::Signature)?;
        key.verify_strict(tbs, &sig).map_err(|_| CoseError::Signature)
    })
}

/// The inclusion proof of a receipt: (tree size, leaf index, audit path).
pub type Inclusion = (u64, u64, Vec<Hash>);

/// A receipt of inclusion at `tree_size`, signed by the log's key over the root (detached).
pub fn receipt(
    issuer: &str,
    kid: &[u8],
    inclusion: &Inclusion,
    root: &Hash,
    sign: impl FnOnce(&[u8]) -> [u8; 64],
) -> Vec<u8> {
    let (size, index, path) = inclusion;
    let proof = Value::Array(vec![
        Value::from(*size),
        Value::from(*index),
        Value::Array(path.iter().map(|h| Value::Bytes(h.to_vec())).collect()),
    ]);
    let mut proof_bytes = Vec::new();
    coset::cbor::ser::into_writer(&proof, &mut proof_bytes).expect("CBOR to memory");
    let protected = coset::HeaderBuilder::new()
        .algorithm(iana::Algorithm::EdDSA)
        .key_id(kid.to_vec())
        .value(VDS, Value::from(RFC9162_SHA256))
        .value(CWT_CLAIMS, Value::Map(vec![(Value::from(1), Value::Text(issuer.into()))]))
        .build();
    let proofs = Value::Map(vec![(Value::from(INCLUSION), Value::Array(vec![Value::Bytes(proof_bytes)]))]);
    let unprotected = coset::HeaderBuilder::new().value(VDP, proofs).build();
    let sign1 = coset::CoseSign1Builder::new()
        .protected(protected)
        .unprotected(unprotected)
        .create_detached_signature(root, b"", |tbs| sign(tbs).to_vec())
        .build();
    sign1.to_tagged_vec().expect("CBOR to memory")
}

/// Checks a receipt for a leaf with the log's key: its inclusion proof leads from the leaf to a
/// root, and the signature is over that root. Returns the proof.
pub fn verify_receipt(receipt: &[u8], leaf: &Hash, key: &VerifyingKey) -> Result<Inclusion, CoseError> {
    let sign1 = CoseSign1::from_tagged_slice(receipt).map_err(|_| CoseError::Receipt)?;
    let header = &sign1.protected.header;
    if header.alg != Some(coset::Algorithm::Assigned(iana::Algorithm::EdDSA)) {
        return Err(CoseError::Algorithm);
    }
    let vds = header.rest.iter().find(|(l, _)| *l == Label::Int(VDS)).map(|(_, v)| v.clone());
    if vds != Some(Value::from(RFC9162_SHA256)) || sign1.payload.is_some() {
        return Err(CoseError::Receipt);
    }
    let inclusion = inclusion_of(&sign1.unprotected).ok_or(CoseError::Receipt)?;
    let (size, index, path) = &inclusion;
    let root = proof::root_from_inclusion(*index, *size, leaf, path).map_err(CoseError::Proof)?;
    sign1.verify_detached_signature(&root, b"", |sig, tbs| {
        let sig = ed25519_dalek::Signature::from_slice(sig).map_err(|_| CoseError::Signature)?;
        key.verify_strict(tbs, &sig).map_err(|_| CoseError::Signature)
    })?;
    Ok(inclusion)
}

fn inclusion_of(unprotected: &Header) -> Option<Inclusion> {
    let (_, proofs) = unprotected.rest.iter().find(|(l, _)| *l == Label::Int(VDP))?;
    let (_, list) = proofs.as_map()?.iter().find(|(k, _)| k.as_integer() == Some(INCLUSION.into()))?;
    let bytes = list.as_array()?.first()?.as_bytes()?;
    let value: Value = coset::cbor::de::from_reader(bytes.as_slice()).ok()?;
    let [size, index, path] = value.as_array()?.as_slice() else { return None };
    let size = u64::try_from(size.as_integer()?).ok()?;
    let index = u64::try_from(index.as_integer()?).ok()?;
    let path =
        path.as_array()?.iter().map(|h| h.as_bytes()?.as_slice().try_into().ok()).collect::<Option<Vec<Hash>>>()?;
    Some((size, index, path))
}

/// A Transparent Statement: the Signed Statement with its receipts in unprotected header 394.
pub fn transparent(statement: &[u8], receipts: &[Vec<u8>]) -> Result<Vec<u8>, CoseError> {
    let mut sign1 = CoseSign1::from_tagged_slice(statement).map_err(|_| CoseError::NotSign1)?;
    let list = Value::Array(receipts.iter().map(|r| Value::Bytes(r.clone())).collect());
    sign1.unprotected.rest.push((Label::Int(RECEIPTS), list));
    sign1.to_tagged_vec().map_err(|_| CoseError::NotSign1)
}

/// A Transparent Statement's parts: the Signed Statement as registered (header 394 removed) and
/// its receipts.
pub fn split_transparent(bytes: &[u8]) -> Result<(Vec<u8>, Vec<Vec<u8>>), CoseError> {
    let mut sign1 = CoseSign1::from_tagged_slice(bytes).map_err(|_| CoseError::NotSign1)?;
    let position = sign1.unprotected.rest.iter().position(|(l, _)| *l == Label::Int(RECEIPTS));
    let receipts = match position {
        Some(at) => {
            let (_, value) = sign1.unprotected.rest.remove(at);
            let list = value.into_array().map_err(|_| CoseError::Receipt)?;
            list.into_iter().map(|v| v.into_bytes().map_err(|_| CoseError::Receipt)).collect::<Result<_, _>>()?
        }
        None => Vec::new(),
    };
    Ok((sign1.to_tagged_vec().map_err(|_| CoseError::NotSign1)?, receipts))
}

#[cfg(test)]
#[path = "cose_tests.rs"]
mod tests;
