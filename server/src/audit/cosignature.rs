//! C2SP tlog-cosignature v1 with Ed25519 (signature type 0x04): what a witness signs to say "as of
//! this time, this is the largest consistent tree I have seen of this log", and how a log or a
//! client checks it. Groundwork for witnessing (issue 9): signing, verifying, and the vkey strings.
//!
//! A cosignature is a signed-note signature line `— <name> base64(key id ‖ timestamp ‖ signature)`:
//! the key id is SHA-256(name ‖ "\n" ‖ 0x04 ‖ public key)[:4], the timestamp 8 bytes big-endian
//! (POSIX seconds), the signature Ed25519 over
//! `cosignature/v1\ntime <timestamp>\n` ‖ the checkpoint's note body (with its final newline).

use super::note::{self, valid_name, DASH};
use base64::engine::general_purpose::STANDARD as BASE64;
use base64::Engine as _;
use ed25519_dalek::{Signer as _, SigningKey, Verifier as _, VerifyingKey};

/// The signed-note signature type of an Ed25519 cosignature.
pub const TYPE_COSIGNATURE_V1: u8 = 0x04;

#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum CosignatureError {
    #[error("malformed cosigner key")]
    MalformedKey,
    #[error("malformed checkpoint body")]
    MalformedBody,
    #[error("malformed cosignature line")]
    MalformedLine,
    #[error("the cosignature does not verify")]
    InvalidSignature,
}

/// The key id of a cosigner: SHA-256(name ‖ "\n" ‖ 0x04 ‖ key)[:4], big-endian.
pub fn key_id(name: &str, public: &[u8; 32]) -> u32 {
    note::key_id_of(name, TYPE_COSIGNATURE_V1, public)
}

/// The exact bytes a cosignature signs.
pub fn message(timestamp: u64, body: &str) -> Vec<u8> {
    format!("cosignature/v1\ntime {timestamp}\n{body}").into_bytes()
}

fn check_body(body: &str) -> Result<(), CosignatureError> {
    let ok = body.ends_with('\n') && !body.contains("\n\n") && body.lines().count() >= 3;
    ok.then_some(()).ok_or(CosignatureError::MalformedBody)
}

/// A witness's cosigning key.
pub struct Cosigner {
    name: String,
    id: u32,
    key: SigningKey,
}

impl std::fmt::Debug for Cosigner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Cosigner({}+{:08x}, <redacted>)", self.name, self.id)
    }
}

impl Cosigner {
    pub fn from_seed(name: &str, seed: [u8; 32]) -> Result<Cosigner, CosignatureError> {
        if !valid_name(name) {
            return Err(CosignatureError::MalformedKey);
        }
        let key = SigningKey::from_bytes(&seed);
        let id = key_id(name, key.verifying_key().as_bytes());
        Ok(Cosigner { name: name.to_string(), id, key })
    }

    pub fn generate(name: &str) -> Result<Cosigner, CosignatureError> {
        let key = SigningKey::generate(&mut rand::rngs::OsRng);
        Self::from_seed(name, key.to_bytes())
    }

    /// The verifier key string: `<name>+<hex id>+<base64(0x04 ‖ public key)>`.
    pub fn verifier(&self) -> CosignatureVerifier {
        CosignatureVerifier { name: self.name.clone(), id: self.id, key: self.key.verifying_key() }
    }

    /// The signature line (without its newline) cosigning a checkpoint body at `timestamp`.
    pub fn cosign(&self, body: &str, timestamp: u64) -> Result<String, CosignatureError> {
        check_body(body)?;
        if timestamp > i64::MAX as u64 {
            return Err(CosignatureError::MalformedBody);
        }
        let signature = self.key.sign(&message(timestamp, body));
        let mut bytes = self.id.to_be_bytes().to_vec();
        bytes.extend_from_slice(&timestamp.to_be_bytes());
        bytes.extend_from_slice(&signature.to_bytes());
        Ok(format!("{DASH}{} {}", self.name, BASE64.encode(bytes)))
    }
}

/// A cosigner's public key, from its vkey string.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CosignatureVerifier {
    name: String,
    id: u32,
    key: VerifyingKey,
}

impl CosignatureVerifier {
    /// Parses `<name>+<hex id>+<base64(0x04 ‖ 32-byte key)>`, checking the id.
    pub fn parse(text: &str) -> Result<CosignatureVerifier, CosignatureError> {
        let (name, id, public) =
            note::parse_key_parts_of(text, TYPE_COSIGNATURE_V1).map_err(|_| CosignatureError::MalformedKey)?;
        if key_id(name, &public) != id {
            return Err(CosignatureError::MalformedKey);
        }
        let key = VerifyingKey::from_bytes(&public).map_err(|_| CosignatureError::MalformedKey)?;
        Ok(CosignatureVerifier { name: name.to_string(), id, key })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Checks one signature line against a checkpoint body. `Ok(None)`: the line is another key's
    /// (not ours to judge); `Ok(Some(timestamp))`: our valid cosignature.
    pub fn check_line(&self, body: &str, line: &str) -> Result<Option<u64>, CosignatureError> {
        check_body(body)?;
        let rest = line.strip_prefix(DASH).ok_or(CosignatureError::MalformedLine)?;
        let (name, encoded) = rest.split_once(' ').ok_or(CosignatureError::MalformedLine)?;
        let bytes = BASE64.decode(encoded.trim_end()).map_err(|_| CosignatureError::MalformedLine)?;
        if bytes.len() < 4 {
            return Err(CosignatureError::MalformedLine);
        }
        let id = u32::from_be_bytes([bytes[0], bytes[1], bytes[2], bytes[3]]);
        if name != self.name || id != self.id {
            return Ok(None);
        }
        if bytes.len() != 4 + 8 + 64 {
            return Err(CosignatureError::MalformedLine);
        }
        let timestamp = u64::from_be_bytes(bytes[4..12].try_into().map_err(|_| CosignatureError::MalformedLine)?);
        if timestamp > i64::MAX as u64 {
            return Err(CosignatureError::InvalidSignature);
        }
        let signature =
            ed25519_dalek::Signature::from_slice(&bytes[12..]).map_err(|_| CosignatureError::InvalidSignature)?;
        self.key.verify(&message(timestamp, body), &signature).map_err(|_| CosignatureError::InvalidSignature)?;
        Ok(Some(timestamp))
    }

    /// The time of this cosigner's valid cosignature on a signed note, if it carries one.
    pub fn cosigned_at(&self, note: &str) -> Result<Option<u64>, CosignatureError> {
        let (body, lines) = note::split(note).ok_or(CosignatureError::MalformedBody)?;
        for line in lines.split_terminator('\n') {
            if let Some(timestamp) = self.check_line(body, line)? {
                return Ok(Some(timestamp));
            }
        }
        Ok(None)
    }
}

impl std::fmt::Display for CosignatureVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut bytes = vec![TYPE_COSIGNATURE_V1];
        bytes.extend_from_slice(self.key.as_bytes());
        write!(f, "{}+{:08x}+{}", self.name, self.id, BASE64.encode(bytes))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BODY: &str = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

    #[test]
    fn the_signed_message_is_the_specified_text() {
        assert_eq!(
            message(1679315147, BODY),
            b"cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n"
                .to_vec()
        );
    }

    const KNOWN_VKEY: &str = "witness.example/w1+0ad7d35e+BIqI4910CfGV/VLbLTy6XXLKZwm/HZQSG/N0iAG0D29c";
    const KNOWN_LINE: &str = "\u{2014} witness.example/w1 CtfTXgAAAABkGFDL0l0pFwTk9MykvW0AWQ7aj3wlQOPdkH/U6S+pa35ceaScuEzSwKfIeJ7i4Fxp8hH+ardr70qwEBhCA4/FskmwAg==";

    /// Known answers computed independently (Python's hashlib and the `cryptography` package's
    /// Ed25519, from the C2SP text) for the seed 0x01 × 32 and the name `witness.example/w1`.
    #[test]
    fn the_key_id_and_the_line_match_known_answers() {
        let cosigner = Cosigner::from_seed("witness.example/w1", [1u8; 32]).unwrap();
        assert_eq!(cosigner.verifier().to_string(), KNOWN_VKEY);
        assert_eq!(cosigner.cosign(BODY, 1679315147).unwrap(), KNOWN_LINE);
    }

    #[test]
    fn a_cosignature_round_trips_and_a_changed_byte_or_time_is_refused() {
        let cosigner = Cosigner::generate("witness.example/w2").unwrap();
        let verifier = CosignatureVerifier::parse(&cosigner.verifier().to_string()).unwrap();
        let line = cosigner.cosign(BODY, 1_700_000_000).unwrap();
        assert_eq!(verifier.check_line(BODY, &line), Ok(Some(1_700_000_000)));
        let other = BODY.replace("20852163", "20852164");
        assert_eq!(verifier.check_line(&other, &line), Err(CosignatureError::InvalidSignature));
        // A different timestamp in the line: the signature no longer covers it.
        let mut bytes = BASE64.decode(line.rsplit(' ').next().unwrap()).unwrap();
        bytes[11] ^= 1;
        let moved = format!("{DASH}witness.example/w2 {}", BASE64.encode(bytes));
        assert_eq!(verifier.check_line(BODY, &moved), Err(CosignatureError::InvalidSignature));
        // Another cosigner's line is not ours to judge.
        let stranger = Cosigner::generate("witness.example/w3").unwrap().cosign(BODY, 1).unwrap();
        assert_eq!(verifier.check_line(BODY, &stranger), Ok(None));
        let note = format!("{BODY}\n{line}\n");
        assert_eq!(verifier.cosigned_at(&note), Ok(Some(1_700_000_000)));
    }

    #[test]
    fn keys_of_another_type_or_with_a_wrong_id_are_refused() {
        let vkey = Cosigner::from_seed("w", [2u8; 32]).unwrap().verifier().to_string();
        let (name_and_id, key) = vkey.rsplit_once('+').unwrap();
        let mut bytes = BASE64.decode(key).unwrap();
        bytes[0] = 0x01;
        assert!(CosignatureVerifier::parse(&format!("{name_and_id}+{}", BASE64.encode(&bytes))).is_err());
        assert!(CosignatureVerifier::parse(&vkey.replacen("w+", "x+", 1)).is_err());
        assert!(Cosigner::from_seed("bad name", [0u8; 32]).is_err());
    }
}
