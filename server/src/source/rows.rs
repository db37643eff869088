//! A file's code rows, rendered once per highlighted entry and kept deflated, so that a file page
//! sent with gzip carries them without rendering or compressing them again.
//!
//! A gzip member holds one raw deflate stream, and a deflate stream may be cut after a *full
//! flush*: the output ends on a byte boundary, no block is marked final, and nothing after it may
//! refer back to bytes before it. So the rows are deflated once, ended by a full flush; each page
//! deflates only its own head (ended the same way) and tail (ended as the final block), and the
//! three are laid end to end inside one gzip header and trailer. The trailer's CRC-32 of the whole
//! page is combined from the three parts' CRCs and lengths. Any gzip decoder reads the result as
//! one ordinary member.

use flate2::{Compress, Compression, FlushCompress, Status};
use std::cell::RefCell;
use std::fmt;

/// Rows rendered from `first`, deflated and ended by a full flush.
pub struct PackedRows {
    /// The line number the rows start at.
    pub first: u32,
    /// How many lines the rows hold.
    pub lines: u32,
    deflated: Vec<u8>,
    crc: u32,
    len: u64,
}

impl fmt::Debug for PackedRows {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PackedRows")
            .field("first", &self.first)
            .field("lines", &self.lines)
            .field("deflated", &self.deflated.len())
            .field("len", &self.len)
            .finish()
    }
}

impl PackedRows {
    /// Deflates `rows` (the HTML of `lines` rows from line `first`) at the default level: paid once
    /// per entry, so the smaller output is worth the time.
    pub fn pack(rows: &str, first: u32, lines: u32) -> PackedRows {
        let bytes = rows.as_bytes();
        PackedRows {
            first,
            lines,
            deflated: deflate(bytes, Compression::default(), FlushCompress::Full),
            crc: crc32fast::hash(bytes),
            len: bytes.len() as u64,
        }
    }
}

/// One gzip member whose content is `head`, then the packed rows, then `tail`.
pub fn gzip_around(head: &[u8], rows: &PackedRows, tail: &[u8]) -> Vec<u8> {
    let (head_deflated, tail_deflated) = FAST.with(|fast| {
        let mut fast = fast.borrow_mut();
        fast.reset();
        let head = deflate_with(&mut fast, head, FlushCompress::Full);
        fast.reset();
        (head, deflate_with(&mut fast, tail, FlushCompress::Finish))
    });
    let mut crc = crc32fast::Hasher::new();
    crc.update(head);
    crc.combine(&crc32fast::Hasher::new_with_initial_len(rows.crc, rows.len));
    let mut tail_crc = crc32fast::Hasher::new();
    tail_crc.update(tail);
    crc.combine(&tail_crc);
    let total = head.len() as u64 + rows.len + tail.len() as u64;

    let mut out = Vec::with_capacity(18 + head_deflated.len() + rows.deflated.len() + tail_deflated.len());
    // ID1 ID2, deflate, no flags, no modification time, no extra flags, unknown OS (RFC 1952).
    out.extend_from_slice(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff]);
    out.extend_from_slice(&head_deflated);
    out.extend_from_slice(&rows.deflated);
    out.extend_from_slice(&tail_deflated);
    out.extend_from_slice(&crc.finalize().to_le_bytes());
    out.extend_from_slice(&(total as u32).to_le_bytes());
    out
}

thread_local! {
    /// A fast compressor per thread, reset for each use: a compressor's tables are a few hundred
    /// KiB, too much to allocate and clear twice for every page.
    static FAST: RefCell<Compress> = RefCell::new(Compress::new(Compression::fast(), false));
}

/// Raw deflate of `input`, ended by `flush` (`Full`: byte-aligned, not final; `Finish`: final).
fn deflate(input: &[u8], level: Compression, flush: FlushCompress) -> Vec<u8> {
    deflate_with(&mut Compress::new(level, false), input, flush)
}

fn deflate_with(compress: &mut Compress, input: &[u8], flush: FlushCompress) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len() / 4 + 64);
    loop {
        let consumed = compress.total_in() as usize;
        let status = compress.compress_vec(&input[consumed..], &mut out, flush);
        let done = compress.total_in() as usize == input.len();
        match status {
            Ok(Status::StreamEnd) => break,
            // A flush is complete when all input is in and the output buffer was not filled.
            Ok(_) if done && out.len() < out.capacity() && flush != FlushCompress::Finish => break,
            Ok(_) => out.reserve(out.capacity().max(64)),
            // Compressing from memory into memory has no error case; stop rather than loop.
            Err(_) => break,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read as _;

    fn gunzip(bytes: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(bytes).read_to_end(&mut out).expect("a valid gzip member");
        out
    }

    #[test]
    fn a_spliced_member_is_one_valid_gzip_of_the_whole_page() {
        let rows: String =
            (1..=5_000).map(|n| format!("<tr id=\"L{n}\"><td>{}</td></tr>", "x".repeat(n % 97))).collect();
        let packed = PackedRows::pack(&rows, 1, 5_000);
        let head = "<!DOCTYPE html><html><body><table><tbody>".repeat(40);
        let tail = "</tbody></table></body></html>";
        let gz = gzip_around(head.as_bytes(), &packed, tail.as_bytes());
        assert_eq!(gunzip(&gz), format!("{head}{rows}{tail}").into_bytes());
        assert!(gz.len() < rows.len() / 4, "the rows were compressed: {} bytes", gz.len());
        // The CRC and length in the trailer are checked by the decoder; a changed byte fails it.
        let mut broken = gz.clone();
        let at = broken.len() - 6;
        broken[at] ^= 1;
        assert!(flate2::read::GzDecoder::new(&broken[..]).read_to_end(&mut Vec::new()).is_err());
    }

    #[test]
    fn empty_parts_and_incompressible_rows_splice_too() {
        let noise: String =
            (0..200_000u32).map(|n| char::from(b'!' + (n.wrapping_mul(2_654_435_761) >> 27) as u8)).collect();
        for rows in ["", "<tr></tr>", noise.as_str()] {
            let packed = PackedRows::pack(rows, 1, 1);
            for (head, tail) in [("", ""), ("h", ""), ("", "t"), ("head", "tail")] {
                let gz = gzip_around(head.as_bytes(), &packed, tail.as_bytes());
                assert_eq!(gunzip(&gz), format!("{head}{rows}{tail}").into_bytes());
            }
        }
    }
}
