//! What is shown of a binary file: a type guessed from its first bytes and a hex dump of them.

/// A type name from the first bytes of common binary formats.
pub fn guess_binary_type(bytes: &[u8]) -> &'static str {
    const MAGIC: &[(&[u8], &str)] = &[
        (b"\x89PNG\r\n\x1a\n", "image/png"),
        (b"\xff\xd8\xff", "image/jpeg"),
        (b"GIF8", "image/gif"),
        (b"%PDF", "application/pdf"),
        (b"PK\x03\x04", "application/zip"),
        (b"\x1f\x8b", "application/gzip"),
        (b"\x7fELF", "application/x-elf"),
        (b"!<arch>\n", "application/x-archive (static library)"),
        (b"\0asm", "application/wasm"),
        (b"MZ", "application/x-msdownload"),
    ];
    MAGIC
        .iter()
        .find(|(magic, _)| bytes.starts_with(magic))
        .map(|(_, name)| *name)
        .unwrap_or("application/octet-stream")
}

/// `xxd`-style lines: offset, 16 bytes in hex, and their printable characters.
pub fn hex_preview(bytes: &[u8]) -> Vec<String> {
    bytes
        .chunks(16)
        .enumerate()
        .map(|(i, chunk)| {
            let hex: Vec<String> = chunk.iter().map(|b| format!("{b:02x}")).collect();
            let text: String =
                chunk.iter().map(|&b| if b.is_ascii_graphic() || b == b' ' { b as char } else { '.' }).collect();
            format!("{:08x}  {:<47}  {}", i * 16, hex.join(" "), text)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hex_preview_shows_offsets_bytes_and_text() {
        let lines = hex_preview(b"\x89PNG\r\n\x1a\nabcdefgh0123");
        assert_eq!(lines[0], "00000000  89 50 4e 47 0d 0a 1a 0a 61 62 63 64 65 66 67 68  .PNG....abcdefgh");
        assert!(lines[1].starts_with("00000010  30 31 32 33"));
        assert_eq!(guess_binary_type(b"!<arch>\nfoo"), "application/x-archive (static library)");
    }
}
