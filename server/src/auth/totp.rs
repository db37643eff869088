//! The optional second factor: TOTP (RFC 6238; SHA-1, 6 digits, 30-second steps, as every
//! authenticator app reads an `otpauth://` URI), through the totp-rs crate. A code is accepted
//! within one step either side of now, and each step at most once (replay refused).

use totp_rs::{Algorithm, TOTP};

/// The issuer shown in authenticator apps.
const ISSUER: &str = "Clearroom";
const STEP_SECONDS: u64 = 30;

/// A fresh secret: 160 random bits (RFC 4226's recommendation), base32 as stored and shown.
pub fn new_secret() -> String {
    let bytes: [u8; 20] = rand::random();
    base32_encode(&bytes)
}

fn base32_encode(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let mut out = String::new();
    let (mut buffer, mut bits) = (0u32, 0u32);
    for byte in bytes {
        buffer = (buffer << 8) | u32::from(*byte);
        bits += 8;
        while bits >= 5 {
            out.push(ALPHABET[((buffer >> (bits - 5)) & 31) as usize] as char);
            bits -= 5;
        }
    }
    if bits > 0 {
        out.push(ALPHABET[((buffer << (5 - bits)) & 31) as usize] as char);
    }
    out
}

fn totp(secret: &str, account: &str) -> Option<TOTP> {
    let bytes = totp_rs::Secret::Encoded(secret.to_string()).to_bytes().ok()?;
    TOTP::new(Algorithm::SHA1, 6, 1, STEP_SECONDS, bytes, Some(ISSUER.into()), account.to_string()).ok()
}

/// The `otpauth://` URI an authenticator app takes (typed in or pasted: no QR image is made).
pub fn provisioning_uri(secret: &str, account: &str) -> Option<String> {
    totp(secret, account).map(|t| t.get_url())
}

/// The time step a code matches, if it is one of the codes of the step before, at or after `now`
/// and that step is later than `last_step` (a code is good once).
pub fn verify(secret: &str, code: &str, now_ms: i64, last_step: i64) -> Option<i64> {
    let code: String = code.chars().filter(|c| !c.is_whitespace()).collect();
    if code.len() != 6 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let totp = totp(secret, "")?;
    let now_step = now_ms.max(0) as u64 / 1000 / STEP_SECONDS;
    let mut matched = None;
    for step in [now_step.saturating_sub(1), now_step, now_step + 1] {
        let expected = totp.generate(step * STEP_SECONDS);
        if crate::auth::constant_time_eq(&expected, &code) {
            matched = Some(step as i64);
        }
    }
    matched.filter(|step| *step > last_step)
}

/// The code for a moment (tests, and the command line's self-check).
pub fn code_at(secret: &str, now_ms: i64) -> Option<String> {
    Some(totp(secret, "")?.generate(now_ms.max(0) as u64 / 1000))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc_6238_test_vector_for_sha1() {
        // RFC 6238 appendix B: the ASCII secret "12345678901234567890", T = 59 s → 94287082 (8
        // digits); its last six are the 6-digit code.
        let secret = base32_encode(b"12345678901234567890");
        assert_eq!(code_at(&secret, 59_000).unwrap(), "287082");
        assert_eq!(code_at(&secret, 1_111_111_109_000).unwrap(), "081804");
    }

    #[test]
    fn a_code_is_good_once_and_only_near_its_time() {
        let secret = new_secret();
        assert_eq!(secret.len(), 32);
        let now = 1_800_000_000_000;
        let code = code_at(&secret, now).unwrap();
        let step = verify(&secret, &code, now, 0).expect("the current code");
        assert_eq!(verify(&secret, &code, now, step), None, "replayed");
        assert!(verify(&secret, &code, now + 30_000, 0).is_some(), "one step late is allowed");
        assert_eq!(verify(&secret, &code, now + 120_000, 0), None, "too late");
        assert_eq!(verify(&secret, "12345", now, 0), None);
        assert_eq!(verify(&secret, "abcdef", now, 0), None);
        assert!(provisioning_uri(&secret, "alice").unwrap().starts_with("otpauth://totp/Clearroom:alice?secret="));
    }
}

/// The `otpauth://` link as a QR code in SVG, for an authenticator app's camera: dark modules on
/// white with the standard quiet zone, sized by the page (`viewBox` only).
pub fn qr_svg(uri: &str) -> Option<String> {
    let code = qrcode::QrCode::with_error_correction_level(uri.as_bytes(), qrcode::EcLevel::M).ok()?;
    let svg = code
        .render::<qrcode::render::svg::Color<'_>>()
        .quiet_zone(true)
        .module_dimensions(4, 4)
        .dark_color(qrcode::render::svg::Color("#000000"))
        .light_color(qrcode::render::svg::Color("#ffffff"))
        .build();
    // The XML prologue is not wanted inline in HTML.
    Some(
        svg.trim_start_matches(|c| c != '<').split_once("?>").map_or(svg.as_str(), |(_, rest)| rest).trim().to_string(),
    )
}

#[cfg(test)]
mod qr_tests {
    #[test]
    fn the_setup_link_is_drawn_as_an_svg_qr_code() {
        let svg = super::qr_svg("otpauth://totp/Clearroom:reviewer?secret=ABCDEFGHIJKLMNOP&issuer=Clearroom").unwrap();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"), "{}", &svg[..60.min(svg.len())]);
        assert!(svg.contains("viewBox") || svg.contains("width="));
        assert!(!svg.contains("<?xml"));
    }
}
