//! A pin's search pack: the text of its text files, concatenated in path order, so that a search
//! reads one file forward instead of inflating every blob. Written in zstd frames of about 1 MiB
//! of whole files each (a file larger than that is a frame of its own), with the frames' index at
//! the end, so that a search decompresses each frame it needs once and a page that stops early
//! reads only its first frames. Files are addressed by their offset and length in the
//! uncompressed text (as the pin's file rows store them).
//!
//! `pin-<id>.zpack`: the frames, then for each frame four little-endian u64 (text start, text
//! length, compressed start, compressed length), then the frame count (u64) and `ZPACK001`. A pack
//! written before packs were compressed (`pin-<id>.pack`, the text as it is) is still read.

use std::io::{BufWriter, Read as _, Seek as _, SeekFrom, Write as _};
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};

/// Text gathered into one frame before it is compressed.
const FRAME_BYTES: usize = 1 << 20;
/// zstd's level: about a quarter of the text's size, written at tens of MB/s.
const LEVEL: i32 = 5;
const MAGIC: &[u8; 8] = b"ZPACK001";

/// One frame: where its text is in the pack's text, and where its compressed bytes are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Frame {
    start: u64,
    size: u64,
    at: u64,
    length: u64,
}

/// The compressed pack of pin `pin` under `dir`.
pub(super) fn framed_path(dir: &Path, pin: app::model::PinId) -> PathBuf {
    dir.join(format!("pin-{pin}.zpack"))
}

/// A pack written before packs were compressed.
fn raw_path(dir: &Path, pin: app::model::PinId) -> PathBuf {
    dir.join(format!("pin-{pin}.pack"))
}

/// Whether pin `pin` has a pack (of either form).
pub(super) fn exists(dir: &Path, pin: app::model::PinId) -> bool {
    framed_path(dir, pin).exists() || raw_path(dir, pin).exists()
}

/// Writes a pack: files added in order, frames compressed as they fill.
pub(super) struct PackWriter {
    out: BufWriter<std::fs::File>,
    frame: Vec<u8>,
    text: u64,
    written: u64,
    frames: Vec<Frame>,
    compressor: zstd::bulk::Compressor<'static>,
}

impl PackWriter {
    pub(super) fn create(path: &Path) -> std::io::Result<PackWriter> {
        Ok(PackWriter {
            out: BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?),
            frame: Vec::with_capacity(FRAME_BYTES),
            text: 0,
            written: 0,
            frames: Vec::new(),
            compressor: zstd::bulk::Compressor::new(LEVEL)?,
        })
    }

    /// Adds one file's text; its (offset, length) in the pack's text.
    pub(super) fn add(&mut self, text: &[u8]) -> std::io::Result<(u64, u64)> {
        if !self.frame.is_empty() && self.frame.len() + text.len() > FRAME_BYTES {
            self.flush_frame()?;
        }
        let offset = self.text;
        self.frame.extend_from_slice(text);
        self.text += text.len() as u64;
        Ok((offset, text.len() as u64))
    }

    fn flush_frame(&mut self) -> std::io::Result<()> {
        if self.frame.is_empty() {
            return Ok(());
        }
        let compressed = self.compressor.compress(&self.frame)?;
        self.out.write_all(&compressed)?;
        let size = self.frame.len() as u64;
        self.frames.push(Frame { start: self.text - size, size, at: self.written, length: compressed.len() as u64 });
        self.written += compressed.len() as u64;
        self.frame.clear();
        Ok(())
    }

    /// Writes the last frame and the index, and makes the file durable.
    pub(super) fn finish(mut self) -> std::io::Result<()> {
        self.flush_frame()?;
        for frame in &self.frames {
            for value in [frame.start, frame.size, frame.at, frame.length] {
                self.out.write_all(&value.to_le_bytes())?;
            }
        }
        self.out.write_all(&(self.frames.len() as u64).to_le_bytes())?;
        self.out.write_all(MAGIC)?;
        let file = self.out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()
    }
}

/// Reads files' texts from a pack, forward.
pub(super) struct PackReader(Form);

enum Form {
    Framed { file: std::fs::File, frames: Vec<Frame>, current: Option<(usize, Vec<u8>)>, buffer: Vec<u8> },
    Raw { reader: std::io::BufReader<std::fs::File>, position: u64 },
}

fn invalid(why: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, format!("search pack: {why}"))
}

impl PackReader {
    /// The pack of pin `pin`, if it has one.
    pub(super) fn open(dir: &Path, pin: app::model::PinId) -> std::io::Result<Option<PackReader>> {
        match std::fs::File::open(framed_path(dir, pin)) {
            Ok(file) => return Self::framed(file).map(Some),
            Err(error) if error.kind() != std::io::ErrorKind::NotFound => return Err(error),
            Err(_) => {}
        }
        match std::fs::File::open(raw_path(dir, pin)) {
            Ok(file) => Ok(Some(PackReader(Form::Raw {
                reader: std::io::BufReader::with_capacity(8 << 20, file),
                position: 0,
            }))),
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(error) => Err(error),
        }
    }

    fn framed(mut file: std::fs::File) -> std::io::Result<PackReader> {
        let end = file.seek(SeekFrom::End(0))?;
        let mut tail = [0u8; 16];
        if end < 16 {
            return Err(invalid("too short"));
        }
        file.read_exact_at(&mut tail, end - 16)?;
        if &tail[8..] != MAGIC {
            return Err(invalid("no index"));
        }
        let count = u64::from_le_bytes(tail[..8].try_into().expect("8 bytes"));
        let index_bytes = count.checked_mul(32).filter(|&n| n <= end - 16).ok_or_else(|| invalid("bad index"))?;
        let mut index = vec![0u8; index_bytes as usize];
        file.read_exact_at(&mut index, end - 16 - index_bytes)?;
        let value = |chunk: &[u8], k: usize| u64::from_le_bytes(chunk[k * 8..k * 8 + 8].try_into().expect("8 bytes"));
        let frames: Vec<Frame> = index
            .chunks_exact(32)
            .map(|c| Frame { start: value(c, 0), size: value(c, 1), at: value(c, 2), length: value(c, 3) })
            .collect();
        Ok(PackReader(Form::Framed { file, frames, current: None, buffer: Vec::new() }))
    }

    /// The text at `offset`, `length` bytes, into `into`.
    pub(super) fn read(&mut self, offset: u64, length: u64, into: &mut Vec<u8>) -> std::io::Result<()> {
        match &mut self.0 {
            Form::Raw { reader, position } => {
                if offset != *position {
                    let jump = offset as i64 - *position as i64;
                    if (0..1 << 20).contains(&jump) {
                        reader.seek_relative(jump)?;
                    } else {
                        reader.seek(SeekFrom::Start(offset))?;
                    }
                }
                into.resize(length as usize, 0);
                reader.read_exact(into)?;
                *position = offset + length;
                Ok(())
            }
            Form::Framed { file, frames, current, buffer } => {
                let index = frames.partition_point(|f| f.start + f.size <= offset);
                let frame = *frames.get(index).ok_or_else(|| invalid("offset past the end"))?;
                if offset + length > frame.start + frame.size {
                    return Err(invalid("a file across frames"));
                }
                if current.as_ref().is_none_or(|(at, _)| *at != index) {
                    buffer.resize(frame.length as usize, 0);
                    file.read_exact_at(buffer, frame.at)?;
                    let text = zstd::bulk::decompress(buffer, frame.size as usize)?;
                    if text.len() as u64 != frame.size {
                        return Err(invalid("a frame of the wrong size"));
                    }
                    *current = Some((index, text));
                }
                let (_, text) = current.as_ref().expect("the frame just read");
                let from = (offset - frame.start) as usize;
                into.clear();
                into.extend_from_slice(&text[from..from + length as usize]);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_read_back_from_frames_in_any_order_and_an_old_raw_pack_still_reads() {
        let dir = tempfile::tempdir().unwrap();
        let pin = app::model::PinId::parse("7").unwrap();
        let texts: Vec<Vec<u8>> = (0..300u32)
            .map(|i| format!("file {i}\n").repeat(if i % 50 == 0 { 200_000 } else { 1 + i as usize * 7 }).into_bytes())
            .collect();
        let mut writer = PackWriter::create(&framed_path(dir.path(), pin)).unwrap();
        let places: Vec<(u64, u64)> = texts.iter().map(|t| writer.add(t).unwrap()).collect();
        writer.finish().unwrap();
        let packed = std::fs::metadata(framed_path(dir.path(), pin)).unwrap().len();
        let text: u64 = texts.iter().map(|t| t.len() as u64).sum();
        assert!(packed * 10 < text, "compressed: {packed} of {text}");
        let mut reader = PackReader::open(dir.path(), pin).unwrap().expect("a pack");
        let mut buffer = Vec::new();
        for i in (0..texts.len()).chain((0..texts.len()).rev()).chain([0, 299, 150, 3]) {
            reader.read(places[i].0, places[i].1, &mut buffer).unwrap();
            assert_eq!(buffer, texts[i], "file {i}");
        }
        assert!(reader.read(text + 5, 1, &mut buffer).is_err(), "past the end");

        let old = app::model::PinId::parse("8").unwrap();
        std::fs::write(raw_path(dir.path(), old), b"abcdef").unwrap();
        let mut raw = PackReader::open(dir.path(), old).unwrap().expect("the old pack");
        raw.read(2, 3, &mut buffer).unwrap();
        assert_eq!(buffer, b"cde");
        assert!(PackReader::open(dir.path(), app::model::PinId::parse("9").unwrap()).unwrap().is_none());
    }
}
