//! Reading an untrusted bundle's members within bounds: each read into memory at most its kind's
//! cap, `events.jsonl` a bounded line at a time, and a member compressed past any real bundle's
//! ratio refused before it is read (security defect 6: a 1 MB zip whose manifest was 1 GiB of
//! spaces took 1 GB of memory).

use super::Outcome;
use crate::export::members;
use std::io::{BufRead, Read};

pub type Archive = zip::ZipArchive<std::io::BufReader<std::fs::File>>;

/// The most of a member the verifier reads into memory, whatever its zip header or the manifest
/// says: the bundle is untrusted input (security defect 6: a 1 MB zip whose manifest was 1 GiB of
/// spaces took 1 GB of memory). Generous for a real bundle of a million events.
pub(super) fn member_cap(name: &str) -> u64 {
    const KIB: u64 = 1 << 10;
    const MIB: u64 = 1 << 20;
    match name {
        members::MANIFEST => 16 * MIB,
        members::SIGNATURE | members::CHECKPOINT | members::PREVIOUS_CHECKPOINT => 64 * KIB,
        members::LOG_KEY | members::ATTESTATION_KEY | members::POLICY => 64 * KIB,
        _ => 256 * MIB,
    }
}

/// Longest line of `events.jsonl` (one leaf, base64, with its index and hash).
pub const EVENT_LINE_MAX: u64 = 1 << 20;

/// Reads the next line of `events.jsonl` into `line` (without its newline): `false` at the end, an
/// error (the problem, to name with the line's number) when it cannot be read or is longer than
/// `EVENT_LINE_MAX`.
pub(super) fn next_line(reader: &mut impl std::io::BufRead, line: &mut Vec<u8>) -> Result<bool, String> {
    line.clear();
    match reader.take(EVENT_LINE_MAX + 1).read_until(b'\n', line) {
        Ok(0) => Ok(false),
        Ok(_) if line.len() as u64 > EVENT_LINE_MAX => Err(format!("longer than {EVENT_LINE_MAX} bytes; not read")),
        Ok(_) => {
            if line.last() == Some(&b'\n') {
                line.pop();
            }
            Ok(true)
        }
        Err(_) => Err("unreadable".into()),
    }
}

/// The largest ratio of a member's size to its compressed size that is not taken for a zip bomb
/// (JSON and CSV compress well, but not a thousandfold); members under 1 MiB are not judged.
const RATIO_MAX: u64 = 1000;

/// A member read whole, at most `member_cap(name)` bytes: `Err` with the cap when it is larger.
pub(super) fn read_bounded(archive: &mut Archive, name: &str) -> Result<Option<Vec<u8>>, u64> {
    let cap = member_cap(name);
    let Ok(file) = archive.by_name(name) else { return Ok(None) };
    let mut bytes = Vec::new();
    if file.take(cap + 1).read_to_end(&mut bytes).is_err() {
        return Ok(None);
    }
    if bytes.len() as u64 > cap {
        return Err(cap);
    }
    Ok(Some(bytes))
}

/// A member read whole (see `read_bounded`); `None` when it is missing, unreadable or too large
/// (the first pass names every member too large, `oversized_members`).
pub(super) fn read_member(archive: &mut Archive, name: &str) -> Option<Vec<u8>> {
    read_bounded(archive, name).ok().flatten()
}

/// Members whose zip header says they are larger than the verifier reads, or compressed past any
/// real bundle's ratio: each is named, and the verifier reads none of them further than its cap.
pub(super) fn oversized_members(archive: &mut Archive, out: &mut Outcome) {
    for index in 0..archive.len() {
        let Ok(file) = archive.by_index_raw(index) else { continue };
        let name = file.name().map(|n| n.to_string()).unwrap_or_else(|_| "(an unreadable name)".into());
        let (size, packed) = (file.size(), file.compressed_size().max(1));
        let cap = if name == members::EVENTS { u64::MAX } else { member_cap(&name) };
        if size > cap {
            out.fail(format!("{name}: {size} bytes, more than the bundle format allows ({cap}); not read"));
        } else if size > 1 << 20 && size / packed > RATIO_MAX {
            out.fail(format!(
                "{name}: compressed {}-fold, past any real bundle (a zip bomb?); not read",
                size / packed
            ));
        }
    }
}

/// A member's SHA-256 and size, streamed (memory stays flat whatever its size).
pub(super) fn hash_member(archive: &mut Archive, name: &str) -> Option<(String, u64)> {
    use sha2::Digest as _;
    let mut file = archive.by_name(name).ok()?;
    let mut hasher = sha2::Sha256::new();
    let mut buffer = vec![0u8; 1 << 16];
    let mut size = 0u64;
    loop {
        let read = file.read(&mut buffer).ok()?;
        if read == 0 {
            break;
        }
        size += read as u64;
        hasher.update(&buffer[..read]);
    }
    Some((hex::encode(hasher.finalize()), size))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write as _;

    fn bundle_with(members: &[(&str, Vec<u8>)]) -> (tempfile::TempDir, Archive) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bundle.zip");
        let mut zip = zip::ZipWriter::new(std::fs::File::create(&path).unwrap());
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        for (name, bytes) in members {
            zip.start_file(*name, options).unwrap();
            zip.write_all(bytes).unwrap();
        }
        zip.finish().unwrap();
        let archive = zip::ZipArchive::new(std::io::BufReader::new(std::fs::File::open(&path).unwrap())).unwrap();
        (dir, archive)
    }

    #[test]
    fn a_member_past_its_cap_or_compressed_like_a_bomb_is_refused_before_it_is_read() {
        let spaces = vec![b' '; 17 << 20];
        let (_dir, mut archive) = bundle_with(&[(members::MANIFEST, spaces.clone()), (members::COMMENTS, spaces)]);
        let mut out = Outcome::default();
        oversized_members(&mut archive, &mut out);
        assert!(!out.ok());
        assert!(
            out.failures.iter().any(|f| f.starts_with("manifest.json: 17825792 bytes, more than")),
            "{:?}",
            out.failures
        );
        assert!(out.failures.iter().any(|f| f.starts_with("comments.json: compressed")), "{:?}", out.failures);
        assert_eq!(read_bounded(&mut archive, members::MANIFEST), Err(16 << 20), "and a read stops at the cap");
    }

    #[test]
    fn an_event_line_past_its_bound_is_refused_and_the_rest_read_line_by_line() {
        let mut text = b"one\ntwo".to_vec();
        text.extend(vec![b'x'; EVENT_LINE_MAX as usize + 10]);
        let mut reader = std::io::BufReader::new(&text[..]);
        let mut line = Vec::new();
        assert_eq!((next_line(&mut reader, &mut line), line.as_slice()), (Ok(true), &b"one"[..]));
        assert!(next_line(&mut reader, &mut line).unwrap_err().starts_with("longer than"));
        let mut reader = std::io::BufReader::new(&b"last"[..]);
        assert_eq!((next_line(&mut reader, &mut line), line.as_slice()), (Ok(true), &b"last"[..]));
        assert_eq!(next_line(&mut reader, &mut line), Ok(false));
    }

    #[test]
    fn a_member_within_bounds_is_read() {
        let (_dir, mut archive) = bundle_with(&[(members::CHECKPOINT, b"origin\n1\nAAAA\n".to_vec())]);
        let mut out = Outcome::default();
        oversized_members(&mut archive, &mut out);
        assert!(out.ok());
        assert_eq!(read_member(&mut archive, members::CHECKPOINT).unwrap(), b"origin\n1\nAAAA\n");
        assert_eq!(read_member(&mut archive, "absent"), None);
    }
}
