//! A pin's search pack: the text of its text files, in path order, so that a search reads a few
//! compressed frames forward instead of inflating every blob. Written in zstd frames of about
//! 1 MiB of whole files each (a file larger than that is a frame of its own), with the frames'
//! index at the end, so that a search decompresses each frame it needs once and a page that stops
//! early reads only its first frames. Files are addressed by their offset and length in the pack's
//! text (as the pin's file rows store them).
//!
//! A pack shares text with an earlier pin's pack of the same repository (its *lender*): a file
//! whose blob the lender already holds is not stored again; the lender's frame that holds it is
//! listed in the new pack's index, at an offset of `BORROWED` (2^48) or more in the new pack's
//! text, with the pack file it is in. A blob found twice in a pin is stored once. So two releases
//! that share most files take little more room than one. A pack is written once, when its pin
//! is indexed, and never removed or rewritten after its index job is done (a later pack may point
//! into it); only such a pack lends.
//!
//! `pin-<id>.zpack`: the frames, then for each frame five little-endian u64 (text start, text
//! length, the id of the pin whose pack file holds the compressed bytes, their start, their
//! length), in increasing text start, then the frame count (u64) and `ZPACK002`. Packs written
//! before sharing (`ZPACK001`: four u64 a frame, all in the same file) and before compression
//! (`pin-<id>.pack`, the text as it is) are still read.

use std::collections::HashMap;
use std::io::{BufWriter, Read as _, Seek as _, SeekFrom, Write as _};
use std::os::unix::fs::FileExt as _;
use std::path::{Path, PathBuf};

/// Text gathered into one frame before it is compressed.
const FRAME_BYTES: usize = 1 << 20;
/// zstd's level: about a quarter of the text's size, written at tens of MB/s.
const LEVEL: i32 = 5;
const MAGIC: &[u8; 8] = b"ZPACK002";
const MAGIC_UNSHARED: &[u8; 8] = b"ZPACK001";
/// Where borrowed frames start in a pack's text (its own text stays below).
const BORROWED: u64 = 1 << 48;
/// Frames a reader keeps decompressed: its own and the lender's, read side by side in path order.
const KEPT_FRAMES: usize = 4;

/// One frame: where its text is in the pack's text, and where its compressed bytes are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Frame {
    start: u64,
    size: u64,
    /// The pin whose pack file holds the compressed bytes.
    pack: u64,
    at: u64,
    length: u64,
}

/// The compressed pack of pin `pin` under `dir`.
pub(super) fn framed_path(dir: &Path, pin: app::model::PinId) -> PathBuf {
    pack_path(dir, pin.get() as u64)
}

fn pack_path(dir: &Path, pin: u64) -> PathBuf {
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

fn invalid(why: &str) -> std::io::Error {
    std::io::Error::new(std::io::ErrorKind::InvalidData, format!("search pack: {why}"))
}

/// The frames' index of the compressed pack of pin `pin`, opened.
fn read_index(file: &mut std::fs::File, pin: u64) -> std::io::Result<Vec<Frame>> {
    let end = file.seek(SeekFrom::End(0))?;
    let mut tail = [0u8; 16];
    if end < 16 {
        return Err(invalid("too short"));
    }
    file.read_exact_at(&mut tail, end - 16)?;
    let width = match &tail[8..] {
        m if m == MAGIC => 40,
        m if m == MAGIC_UNSHARED => 32,
        _ => return Err(invalid("no index")),
    };
    let count = u64::from_le_bytes(tail[..8].try_into().expect("8 bytes"));
    let index_bytes = count.checked_mul(width).filter(|&n| n <= end - 16).ok_or_else(|| invalid("bad index"))?;
    let mut index = vec![0u8; index_bytes as usize];
    file.read_exact_at(&mut index, end - 16 - index_bytes)?;
    let value = |chunk: &[u8], k: usize| u64::from_le_bytes(chunk[k * 8..k * 8 + 8].try_into().expect("8 bytes"));
    let frames: Vec<Frame> = index
        .chunks_exact(width as usize)
        .map(|c| match width {
            40 => {
                Frame { start: value(c, 0), size: value(c, 1), pack: value(c, 2), at: value(c, 3), length: value(c, 4) }
            }
            _ => Frame { start: value(c, 0), size: value(c, 1), pack: pin, at: value(c, 2), length: value(c, 3) },
        })
        .collect();
    if frames.windows(2).any(|w| w[0].start + w[0].size > w[1].start) {
        return Err(invalid("frames out of order"));
    }
    Ok(frames)
}

/// An earlier pack a new one may point into: its frames and where each blob's text is in it.
pub(super) struct Lender {
    frames: Vec<Frame>,
    places: HashMap<String, (u64, u64)>,
}

impl Lender {
    /// The compressed pack of pin `pin`, with its files' blob ids and places; `None` when it has
    /// none (or an uncompressed one, which does not lend).
    pub(super) fn open(
        dir: &Path,
        pin: app::model::PinId,
        files: impl IntoIterator<Item = (String, (u64, u64))>,
    ) -> std::io::Result<Option<Lender>> {
        let mut file = match std::fs::File::open(framed_path(dir, pin)) {
            Ok(file) => file,
            Err(error) if error.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(error) => return Err(error),
        };
        let frames = read_index(&mut file, pin.get() as u64)?;
        Ok(Some(Lender { frames, places: files.into_iter().collect() }))
    }

    /// The lender's frame holding a blob's text, and the text's place in it.
    fn find(&self, blob_id: &str) -> Option<(usize, u64, u64)> {
        let &(offset, length) = self.places.get(blob_id)?;
        let index = self.frames.partition_point(|f| f.start + f.size <= offset);
        let frame = self.frames.get(index)?;
        (offset >= frame.start && offset + length <= frame.start + frame.size).then_some((
            index,
            offset - frame.start,
            length,
        ))
    }
}

/// Writes a pack: files added in order, frames compressed as they fill.
pub(super) struct PackWriter {
    out: BufWriter<std::fs::File>,
    pin: u64,
    frame: Vec<u8>,
    text: u64,
    written: u64,
    frames: Vec<Frame>,
    compressor: zstd::bulk::Compressor<'static>,
    lender: Option<Lender>,
    /// The lender's frames listed so far: the lender's index to the start in this pack's text.
    borrowed: HashMap<usize, u64>,
    borrowed_frames: Vec<Frame>,
    borrowed_text: u64,
    /// Blobs already in this pack (stored or borrowed) and their places.
    placed: HashMap<String, (u64, u64)>,
}

impl PackWriter {
    /// A pack for pin `pin` at `path`, pointing into `lender`'s pack for the blobs it holds.
    pub(super) fn create(path: &Path, pin: app::model::PinId, lender: Option<Lender>) -> std::io::Result<PackWriter> {
        Ok(PackWriter {
            out: BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?),
            pin: pin.get() as u64,
            frame: Vec::with_capacity(FRAME_BYTES),
            text: 0,
            written: 0,
            frames: Vec::new(),
            compressor: zstd::bulk::Compressor::new(LEVEL)?,
            lender,
            borrowed: HashMap::new(),
            borrowed_frames: Vec::new(),
            borrowed_text: 0,
            placed: HashMap::new(),
        })
    }

    /// Adds one file's text (blob `blob_id`); its (offset, length) in the pack's text.
    pub(super) fn add(&mut self, blob_id: &str, text: &[u8]) -> std::io::Result<(u64, u64)> {
        if let Some(&place) = self.placed.get(blob_id) {
            return Ok(place);
        }
        let place = match self.borrow(blob_id) {
            Some(place) => place,
            None => self.store(text)?,
        };
        self.placed.insert(blob_id.to_string(), place);
        Ok(place)
    }

    /// The place of a blob the lender holds, listing the lender's frame that holds it.
    fn borrow(&mut self, blob_id: &str) -> Option<(u64, u64)> {
        let (index, within, length) = self.lender.as_ref()?.find(blob_id)?;
        let start = match self.borrowed.get(&index) {
            Some(&start) => start,
            None => {
                let lent = self.lender.as_ref()?.frames[index];
                let start = BORROWED + self.borrowed_text;
                self.borrowed_frames.push(Frame { start, ..lent });
                self.borrowed_text += lent.size;
                self.borrowed.insert(index, start);
                start
            }
        };
        Some((start + within, length))
    }

    fn store(&mut self, text: &[u8]) -> std::io::Result<(u64, u64)> {
        if !self.frame.is_empty() && self.frame.len() + text.len() > FRAME_BYTES {
            self.flush_frame()?;
        }
        if self.text + text.len() as u64 >= BORROWED {
            return Err(invalid("a pin's text beyond 2^48 bytes"));
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
        let length = compressed.len() as u64;
        self.frames.push(Frame { start: self.text - size, size, pack: self.pin, at: self.written, length });
        self.written += compressed.len() as u64;
        self.frame.clear();
        Ok(())
    }

    /// Writes the last frame and the index, and makes the file durable.
    pub(super) fn finish(mut self) -> std::io::Result<()> {
        self.flush_frame()?;
        let frames: Vec<Frame> = self.frames.iter().chain(&self.borrowed_frames).copied().collect();
        for frame in &frames {
            for value in [frame.start, frame.size, frame.pack, frame.at, frame.length] {
                self.out.write_all(&value.to_le_bytes())?;
            }
        }
        self.out.write_all(&(frames.len() as u64).to_le_bytes())?;
        self.out.write_all(MAGIC)?;
        let file = self.out.into_inner().map_err(|e| e.into_error())?;
        file.sync_all()
    }
}

/// Reads files' texts from a pack.
pub(super) struct PackReader(Form);

enum Form {
    Framed {
        dir: PathBuf,
        /// The pack files open, by pin.
        files: HashMap<u64, std::fs::File>,
        frames: Vec<Frame>,
        /// Frames decompressed, the most recently read last.
        kept: Vec<(usize, Vec<u8>)>,
        buffer: Vec<u8>,
        /// One zstd context for every frame the reader decompresses.
        decompressor: Box<zstd::bulk::Decompressor<'static>>,
    },
    Raw {
        reader: std::io::BufReader<std::fs::File>,
        position: u64,
    },
}

impl PackReader {
    /// The pack of pin `pin`, if it has one.
    pub(super) fn open(dir: &Path, pin: app::model::PinId) -> std::io::Result<Option<PackReader>> {
        match std::fs::File::open(framed_path(dir, pin)) {
            Ok(mut file) => {
                let frames = read_index(&mut file, pin.get() as u64)?;
                let files = HashMap::from([(pin.get() as u64, file)]);
                let dir = dir.to_path_buf();
                let decompressor = Box::new(zstd::bulk::Decompressor::new()?);
                let (kept, buffer) = (Vec::new(), Vec::new());
                return Ok(Some(PackReader(Form::Framed { dir, files, frames, kept, buffer, decompressor })));
            }
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
            Form::Framed { dir, files, frames, kept, buffer, decompressor } => {
                let index = frames.partition_point(|f| f.start + f.size <= offset);
                let frame = *frames.get(index).ok_or_else(|| invalid("offset past the end"))?;
                if offset < frame.start || offset + length > frame.start + frame.size {
                    return Err(invalid("a file outside its frame"));
                }
                let slot = match kept.iter().position(|(at, _)| *at == index) {
                    Some(slot) => {
                        let entry = kept.remove(slot);
                        kept.push(entry);
                        kept.len() - 1
                    }
                    None => {
                        let file = match files.entry(frame.pack) {
                            std::collections::hash_map::Entry::Occupied(file) => file.into_mut(),
                            std::collections::hash_map::Entry::Vacant(slot) => {
                                slot.insert(std::fs::File::open(pack_path(dir, frame.pack))?)
                            }
                        };
                        buffer.resize(frame.length as usize, 0);
                        file.read_exact_at(buffer, frame.at)?;
                        // The oldest frame's memory is used again.
                        let mut text = match kept.len() {
                            KEPT_FRAMES => kept.remove(0).1,
                            _ => Vec::new(),
                        };
                        text.clear();
                        text.reserve(frame.size as usize);
                        decompressor.decompress_to_buffer(buffer.as_slice(), &mut text)?;
                        if text.len() as u64 != frame.size {
                            return Err(invalid("a frame of the wrong size"));
                        }
                        kept.push((index, text));
                        kept.len() - 1
                    }
                };
                let (_, text) = &kept[slot];
                let from = (offset - frame.start) as usize;
                into.clear();
                into.extend_from_slice(&text[from..from + length as usize]);
                Ok(())
            }
        }
    }
}

#[cfg(test)]
mod tests;
