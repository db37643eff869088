//! Which source lines produced code in a binary: every line-program row of its DWARF, read with
//! `object` and `gimli`, gathered per source file (the name resolved through the unit's
//! `comp_dir` and the line program's include directories, then normalised). Bounded: a row count,
//! a highest line and the bytes of the line sets, so a hostile file cannot exhaust memory.

use gimli::{EndianSlice, Reader as _, RunTimeEndian};
use object::{Object as _, ObjectSection as _};
use std::borrow::Cow;
use std::collections::HashMap;
use std::path::Path;

/// How much of a file the reader takes on before it gives up.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Line-program rows, over every unit.
    pub rows: u64,
    /// The highest line number a row may name.
    pub line: u64,
    /// Bytes of line sets (one bit a line, up to each file's highest line).
    pub set_bytes: usize,
    /// Distinct source files.
    pub files: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits { rows: 400_000_000, line: 10_000_000, set_bytes: 256 << 20, files: 1_000_000 }
    }
}

/// The lines of one source file that produced code, as its debug information names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SourceLines {
    /// Normalised: absolute where the DWARF gives a directory, `.` and `..` resolved.
    pub path: String,
    /// The DWARF 5 MD5 of the file as compiled, when the producer wrote one (never all zeros).
    pub md5: Option<[u8; 16]>,
    /// Sorted, merged, inclusive ranges.
    pub lines: Vec<(u32, u32)>,
}

/// What a binary's debug information says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DebugLines {
    /// The GNU build-id note, in hex, when there is one.
    pub build_id: Option<String>,
    /// Whether the file has line tables at all (else `files` is empty: stripped).
    pub has_lines: bool,
    /// By path.
    pub files: Vec<SourceLines>,
    /// Line-program rows read.
    pub rows: u64,
}

/// Why debug information could not be read: the text is for the reader of the page.
#[derive(Debug, thiserror::Error)]
#[error("cannot read debug information: {0}")]
pub struct DwarfError(pub String);

fn fail(what: impl std::fmt::Display) -> DwarfError {
    DwarfError(what.to_string())
}

/// Only the build-id of an object file (a companion is matched by it), without reading DWARF.
pub fn build_id_of(file: &Path) -> Result<Option<String>, DwarfError> {
    let bytes = map_file(file)?;
    let object = object::File::parse(&*bytes).map_err(|_| fail("the file is not an ELF, Mach-O or PE object"))?;
    Ok(object.build_id().ok().flatten().map(hex::encode))
}

fn map_file(file: &Path) -> Result<memmap2::Mmap, DwarfError> {
    let opened = std::fs::File::open(file).map_err(|_| fail("the stored file cannot be opened"))?;
    // SAFETY: artifacts are kept read-only under their hash and never written in place (a new
    // upload of the same bytes is renamed over it), so the mapping does not change under us.
    unsafe { memmap2::Mmap::map(&opened) }.map_err(|_| fail("the stored file cannot be mapped"))
}

/// Reads the line tables of the object file at `file`.
pub fn read(file: &Path, limits: Limits) -> Result<DebugLines, DwarfError> {
    let bytes = map_file(file)?;
    read_bytes(&bytes, limits)
}

/// Reads the line tables of an object file in memory.
pub fn read_bytes(bytes: &[u8], limits: Limits) -> Result<DebugLines, DwarfError> {
    let object = object::File::parse(bytes).map_err(|_| fail("the file is not an ELF, Mach-O or PE object"))?;
    let build_id = object.build_id().ok().flatten().map(hex::encode);
    let endian = if object.is_little_endian() { RunTimeEndian::Little } else { RunTimeEndian::Big };
    let has_lines = object.section_by_name(".debug_line").or_else(|| object.section_by_name("__debug_line"));
    let has_lines = has_lines.is_some_and(|section| section.size() > 0);
    if !has_lines {
        return Ok(DebugLines { build_id, has_lines: false, files: Vec::new(), rows: 0 });
    }
    // A relocatable object (`.o`, a kernel module) leaves its sections' references to other
    // sections (file names in `.debug_line_str`, for one) to relocations: applied as read.
    let load = |id: gimli::SectionId| -> Result<Section<'_>, DwarfError> {
        let section = object.section_by_name(id.name()).or_else(|| {
            // Mach-O names `__debug_line` for `.debug_line`.
            id.name().strip_prefix('.').and_then(|name| object.section_by_name(&format!("__{name}")))
        });
        match section {
            Some(section) => Ok(Section {
                data: section.uncompressed_data().map_err(|_| fail(format!("section {} is corrupt", id.name())))?,
                relocations: Relocations::of(&object, &section),
            }),
            None => Ok(Section { data: Cow::Borrowed(&[][..]), relocations: Relocations::default() }),
        }
    };
    let sections = gimli::DwarfSections::load(load)?;
    let dwarf = sections
        .borrow(|section| gimli::RelocateReader::new(EndianSlice::new(&section.data, endian), &section.relocations));
    let mut gather = Gather::new(limits);
    let mut units = dwarf.units();
    while let Some(header) = units.next().map_err(|e| fail(format!("a unit header is malformed ({e})")))? {
        let unit = dwarf.unit(header).map_err(|e| fail(format!("a unit is malformed ({e})")))?;
        gather.unit(&dwarf, &unit)?;
    }
    Ok(DebugLines { build_id, has_lines: true, files: gather.finish(), rows: gather.rows })
}

type Slice<'a> = gimli::RelocateReader<EndianSlice<'a, RunTimeEndian>, &'a Relocations>;

/// A section's bytes and the relocations that apply to them (none in a linked file).
struct Section<'d> {
    data: Cow<'d, [u8]>,
    relocations: Relocations,
}

#[derive(Debug, Default)]
struct Relocations(object::read::RelocationMap);

impl Relocations {
    /// The relocations DWARF uses (absolute ones, against a symbol or a section); others (an
    /// architecture's label differences) leave the value as written.
    fn of<'d>(object: &object::File<'d>, section: &object::Section<'d, '_>) -> Self {
        let mut map = object::read::RelocationMap::default();
        for (offset, relocation) in section.relocations() {
            let _ = map.add(object, offset, relocation);
        }
        Relocations(map)
    }
}

impl gimli::read::Relocate for &Relocations {
    fn relocate_address(&self, offset: usize, value: u64) -> gimli::Result<u64> {
        Ok(self.0.relocate(offset as u64, value))
    }

    fn relocate_offset(&self, offset: usize, value: usize) -> gimli::Result<usize> {
        <usize as gimli::ReaderOffset>::from_u64(self.0.relocate(offset as u64, value as u64))
    }
}

/// One file's lines while rows are read: one bit a line.
struct Accumulated {
    md5: Option<[u8; 16]>,
    bits: Vec<u64>,
}

struct Gather {
    limits: Limits,
    rows: u64,
    set_bytes: usize,
    by_path: HashMap<String, usize>,
    files: Vec<(String, Accumulated)>,
}

impl Gather {
    fn new(limits: Limits) -> Self {
        Gather { limits, rows: 0, set_bytes: 0, by_path: HashMap::new(), files: Vec::new() }
    }

    fn unit(&mut self, dwarf: &gimli::Dwarf<Slice<'_>>, unit: &gimli::Unit<Slice<'_>>) -> Result<(), DwarfError> {
        let Some(program) = unit.line_program.clone() else { return Ok(()) };
        let comp_dir = match &unit.comp_dir {
            Some(dir) => {
                Some(dir.to_string_lossy().map_err(|e| fail(format!("a directory cannot be read ({e})")))?.into_owned())
            }
            None => None,
        };
        // The accumulator of each file index, found when a row first names it.
        let mut slots: HashMap<u64, usize> = HashMap::new();
        let mut rows = program.rows();
        let mut last: Option<(u64, u64)> = None;
        while let Some((header, row)) =
            rows.next_row().map_err(|e| fail(format!("a line program is malformed ({e})")))?
        {
            self.rows += 1;
            if self.rows > self.limits.rows {
                return Err(fail(format!("its line programs have more than {} rows", self.limits.rows)));
            }
            let Some(line) = row.line().map(|line| line.get()) else { continue };
            if row.end_sequence() || last == Some((row.file_index(), line)) {
                continue;
            }
            last = Some((row.file_index(), line));
            if line > self.limits.line {
                return Err(fail(format!("a row names line {line}, past the limit of {}", self.limits.line)));
            }
            let slot = match slots.get(&row.file_index()) {
                Some(slot) => *slot,
                None => {
                    let Some(entry) = header.file(row.file_index()) else {
                        return Err(fail(format!("a row names file {}, which its table lacks", row.file_index())));
                    };
                    let path = file_path(dwarf, unit, header, entry, comp_dir.as_deref())?;
                    let md5 = (header.file_has_md5() && entry.md5() != &[0; 16]).then(|| *entry.md5());
                    let slot = self.slot(path, md5)?;
                    slots.insert(row.file_index(), slot);
                    slot
                }
            };
            self.mark(slot, line as usize)?;
        }
        Ok(())
    }

    fn slot(&mut self, path: String, md5: Option<[u8; 16]>) -> Result<usize, DwarfError> {
        if let Some(slot) = self.by_path.get(&path) {
            let known = &mut self.files[*slot].1;
            known.md5 = known.md5.or(md5);
            return Ok(*slot);
        }
        if self.files.len() >= self.limits.files {
            return Err(fail(format!("it names more than {} source files", self.limits.files)));
        }
        let slot = self.files.len();
        self.by_path.insert(path.clone(), slot);
        self.files.push((path, Accumulated { md5, bits: Vec::new() }));
        Ok(slot)
    }

    fn mark(&mut self, slot: usize, line: usize) -> Result<(), DwarfError> {
        let bits = &mut self.files[slot].1.bits;
        let word = line / 64;
        if word >= bits.len() {
            let grown = (word + 1).next_power_of_two().max(4);
            self.set_bytes += (grown - bits.len()) * 8;
            if self.set_bytes > self.limits.set_bytes {
                return Err(fail(format!("its line sets need more than {} MiB", self.limits.set_bytes >> 20)));
            }
            bits.resize(grown, 0);
        }
        bits[word] |= 1 << (line % 64);
        Ok(())
    }

    fn finish(&mut self) -> Vec<SourceLines> {
        let mut files: Vec<SourceLines> = std::mem::take(&mut self.files)
            .into_iter()
            .map(|(path, accumulated)| SourceLines { path, md5: accumulated.md5, lines: ranges(&accumulated.bits) })
            .filter(|file| !file.lines.is_empty())
            .collect();
        files.sort_by(|a, b| a.path.cmp(&b.path));
        files
    }
}

/// The set bits as sorted, merged, inclusive ranges.
fn ranges(bits: &[u64]) -> Vec<(u32, u32)> {
    let mut out: Vec<(u32, u32)> = Vec::new();
    for (index, word) in bits.iter().enumerate() {
        let mut rest = *word;
        while rest != 0 {
            let line = (index * 64 + rest.trailing_zeros() as usize) as u32;
            rest &= rest - 1;
            match out.last_mut() {
                Some((_, last)) if *last + 1 == line => *last = line,
                _ => out.push((line, line)),
            }
        }
    }
    out
}

/// A file entry's path: its name, under its directory, under the unit's `comp_dir`, each joined
/// only while the part so far is relative; then normalised.
fn file_path(
    dwarf: &gimli::Dwarf<Slice<'_>>,
    unit: &gimli::Unit<Slice<'_>>,
    header: &gimli::LineProgramHeader<Slice<'_>>,
    entry: &gimli::FileEntry<Slice<'_>>,
    comp_dir: Option<&str>,
) -> Result<String, DwarfError> {
    let text = |value| {
        dwarf
            .attr_string(unit, value)
            .and_then(|s| s.to_string_lossy().map(Cow::into_owned))
            .map_err(|e| fail(format!("a file name cannot be read ({e})")))
    };
    let mut path = text(entry.path_name())?;
    if !is_absolute(&path) {
        if let Some(directory) = entry.directory(header) {
            path = join(&text(directory)?, &path);
        }
    }
    if !is_absolute(&path) {
        if let Some(comp_dir) = comp_dir {
            path = join(comp_dir, &path);
        }
    }
    Ok(normalise(&path))
}

fn is_absolute(path: &str) -> bool {
    path.starts_with('/') || path.as_bytes().get(1) == Some(&b':')
}

fn join(directory: &str, name: &str) -> String {
    if directory.is_empty() {
        name.to_string()
    } else {
        format!("{}/{name}", directory.trim_end_matches('/'))
    }
}

/// `a/./b/../c` → `a/c`, `\` as `/`, no doubled separators; a `..` above the start is kept.
pub fn normalise(path: &str) -> String {
    let path = path.replace('\\', "/");
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." if parts.last().is_some_and(|last| *last != "..") => {
                parts.pop();
            }
            ".." if absolute => {}
            other => parts.push(other),
        }
    }
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_normalised() {
        assert_eq!(normalise("/a/./b/../c//d"), "/a/c/d");
        assert_eq!(normalise("/../x"), "/x");
        assert_eq!(normalise("../x/./y"), "../x/y");
        assert_eq!(normalise("src\\lib.rs"), "src/lib.rs");
        assert_eq!(join("/w/", "src/a.c"), "/w/src/a.c");
    }

    #[test]
    fn bits_become_merged_ranges() {
        let mut bits = vec![0u64; 3];
        for line in [1, 2, 3, 7, 63, 64, 65, 130] {
            bits[line / 64] |= 1 << (line % 64);
        }
        assert_eq!(ranges(&bits), vec![(1, 3), (7, 7), (63, 65), (130, 130)]);
    }

    #[test]
    fn what_is_no_object_is_refused_and_an_object_without_dwarf_says_so() {
        let error = read_bytes(&[7u8; 4096], Limits::default()).unwrap_err();
        assert!(error.to_string().starts_with("cannot read debug information:"), "{error}");
    }
}
