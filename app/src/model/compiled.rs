//! The compiled-code map: which lines of a pin's files produced code in one of its artifacts, and
//! which compiled files are not in the pinned tree (`docs/compiled-map.md`).

use serde::{Deserialize, Serialize};

/// Where a map stands: being built, built, or why there is none.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum MapState {
    Queued,
    Running,
    Done,
    /// The artifact (and any companion debug file) carries no line tables.
    NoDebugInfo,
    Failed,
}

impl MapState {
    pub fn as_str(self) -> &'static str {
        match self {
            MapState::Queued => "queued",
            MapState::Running => "running",
            MapState::Done => "done",
            MapState::NoDebugInfo => "no_debug_info",
            MapState::Failed => "failed",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        [MapState::Queued, MapState::Running, MapState::Done, MapState::NoDebugInfo, MapState::Failed]
            .into_iter()
            .find(|state| state.as_str() == text)
    }
}

/// Whether a compiled file's bytes, as the compiler's DWARF 5 MD5 names them, are the pinned ones.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "snake_case")]
pub enum Checksum {
    Same,
    Different,
    None,
}

/// A file of the pin compiled into the artifact: the lines that have code.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CompiledFile {
    pub path: String,
    /// Inclusive ranges of line numbers, sorted and merged.
    pub lines: Vec<[u32; 2]>,
    pub checksum: Checksum,
}

/// A compiled file that is not in the pinned tree, as the debug information names it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ElsewhereFile {
    pub path: String,
    /// `toolchain` (compiler headers, a language's standard library), `vendored` (a package
    /// manager's copies, `vendor/`, `third_party/`), `generated` (under the build directory but
    /// not in the tree) or `other`.
    pub group: String,
    /// The directory the group is shown under (`/usr/include`, a crate's directory).
    pub prefix: String,
    pub lines: Vec<[u32; 2]>,
}

/// A map's figures.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CompiledTotals {
    /// Files of the pin compiled in.
    pub files: u64,
    /// Their lines with code.
    pub lines: u64,
    pub elsewhere_files: u64,
    pub elsewhere_lines: u64,
    /// Compiled files whose DWARF MD5 differs from the pinned file's.
    pub checksum_mismatches: u64,
}

/// `GET /api/v1/pins/{pin}/artifacts/{sha256}/compiled`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CompiledMap {
    pub pin: i64,
    pub sha256: String,
    pub state: MapState,
    /// Why there is no map (no DWARF, a file that cannot be read), for the reader.
    pub reason: Option<String>,
    /// The file the lines were read from when not the artifact itself (a companion debug file).
    pub debug_file_sha256: Option<String>,
    pub build_id: Option<String>,
    /// The prefix stripped from the debug information's paths to name the pin's files.
    pub source_prefix: Option<String>,
    pub files: Vec<CompiledFile>,
    pub elsewhere: Vec<ElsewhereFile>,
    pub totals: CompiledTotals,
    /// SHA-256 of the map's canonical form (`docs/compiled-map.md`), once done.
    pub map_sha256: Option<String>,
}

/// An artifact of the pin that has a map.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct CompiledArtifact {
    pub name: String,
    pub platform: String,
    pub sha256: String,
}

/// What a file view shows of the maps: the artifact chosen, this file's compiled lines in it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct FileCompiled {
    /// Every artifact of the pin with a done map (the chooser).
    pub artifacts: Vec<CompiledArtifact>,
    /// The artifact shown (its SHA-256).
    pub chosen: String,
    /// This file's lines with code in it that the page shows (the window's, of a long file).
    pub lines: Vec<[u32; 2]>,
    /// How many of the whole file's lines have code in it (0: not compiled into it).
    pub line_count: u64,
    pub checksum: Option<Checksum>,
    /// The names of the artifacts this file is compiled into.
    pub compiled_into: Vec<String>,
}

/// What a directory listing shows of the chosen artifact's map.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct TreeCompiled {
    pub artifact: CompiledArtifact,
    /// The names of this directory's files compiled into it.
    pub files: Vec<String>,
    /// For each subdirectory with any: how many of its files (at any depth) are.
    pub directories: Vec<(String, u64)>,
}

/// Compiled files not in the pinned tree that share a group and a directory.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ElsewhereGroup {
    pub group: String,
    pub prefix: String,
    /// Paths under the prefix with their lines of code.
    pub files: Vec<(String, u64)>,
    pub lines: u64,
}

/// An artifact's map as the builds page shows it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct ArtifactCompiled {
    pub sha256: String,
    pub state: MapState,
    pub reason: Option<String>,
    pub totals: CompiledTotals,
    pub debug_file_sha256: Option<String>,
    pub elsewhere: Vec<ElsewhereGroup>,
    /// Pinned files whose compiled bytes differ (DWARF 5 MD5).
    pub mismatched: Vec<String>,
}

/// Lines in inclusive ranges.
pub fn range_lines(ranges: &[[u32; 2]]) -> u64 {
    ranges.iter().map(|[first, last]| u64::from(last.saturating_sub(*first)) + 1).sum()
}

/// Whether `line` is in sorted inclusive ranges.
pub fn in_ranges(ranges: &[[u32; 2]], line: u32) -> bool {
    let after = ranges.partition_point(|[first, _]| *first <= line);
    after > 0 && ranges[after - 1][1] >= line
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_count_and_contain() {
        let ranges = [[1, 3], [7, 7], [10, 20]];
        assert_eq!(range_lines(&ranges), 15);
        assert!(in_ranges(&ranges, 1) && in_ranges(&ranges, 3) && in_ranges(&ranges, 7) && in_ranges(&ranges, 20));
        assert!(!in_ranges(&ranges, 0) && !in_ranges(&ranges, 4) && !in_ranges(&ranges, 21));
        assert_eq!(MapState::parse("no_debug_info"), Some(MapState::NoDebugInfo));
    }
}
