//! What the pages show of a pin's maps: a file's compiled lines in the chosen artifact, a
//! directory's compiled files, an artifact's summary and its loud list of files from elsewhere.
//! A pin's done maps are parsed once and kept with the pin's maps revision (read with the pin
//! itself), so a view of a pin without maps reads nothing more, and a map done on another
//! instance is seen at the next view.

use crate::domain::guard::PinPage;
use crate::domain::Compiled;
use app::error::AppResult;
use app::model::*;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// One artifact's done map, by pinned path.
pub struct ParsedMap {
    pub artifact: CompiledArtifact,
    pub map_sha256: String,
    /// Pinned path → its compiled lines.
    pub lines: HashMap<String, Vec<[u32; 2]>>,
    pub checksums: HashMap<String, Checksum>,
    pub totals: CompiledTotals,
}

/// One artifact's compiled coverage with its map's figures, as a verdict, the review summary and
/// an export bind them.
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct CompiledFigures {
    #[serde(flatten)]
    pub coverage: CompiledCoverage,
    /// Pinned files compiled in.
    pub files: u64,
    pub elsewhere_files: u64,
    pub checksum_mismatches: u64,
    pub map_sha256: String,
}

/// A pin's done maps, in the builds page's order (name, platform).
pub struct PinMaps {
    pub revision: i64,
    pub maps: Vec<ParsedMap>,
}

impl PinMaps {
    /// The map of `sha256`, else the first.
    pub fn chosen(&self, sha256: Option<&str>) -> Option<&ParsedMap> {
        sha256.and_then(|sha| self.maps.iter().find(|m| m.artifact.sha256 == sha)).or(self.maps.first())
    }
}

impl Compiled<'_> {
    /// The pin's done maps (none read when its record says it has none).
    pub(in crate::domain) async fn pin_maps(&self, access: &PinPage) -> AppResult<Option<Arc<PinMaps>>> {
        let revision = access.record.maps_revision;
        if revision == 0 {
            return Ok(None);
        }
        let pin = access.record.id;
        if let Some(kept) = self.caches.compiled.lock().expect("the maps cache").get(&pin) {
            if kept.revision == revision {
                return Ok(Some(Arc::clone(kept)));
            }
        }
        let builds = self.store.builds_of_pin(pin).await?;
        let mut maps = Vec::new();
        for row in self.store.compiled_maps(pin).await? {
            let Some((files, _)) = self.stored(&row).await? else { continue };
            let Some(build) = builds.iter().find(|b| b.sha256 == row.sha256) else { continue };
            maps.push(ParsedMap {
                artifact: CompiledArtifact {
                    name: build.name.clone(),
                    platform: build.platform.clone(),
                    sha256: row.sha256.clone(),
                },
                map_sha256: row.map_sha256.clone().unwrap_or_default(),
                totals: super::view(&row, None).totals,
                checksums: files.iter().map(|f| (f.path.clone(), f.checksum)).collect(),
                lines: files.into_iter().map(|f| (f.path, f.lines)).collect(),
            });
        }
        maps.sort_by(|a, b| (&a.artifact.name, &a.artifact.platform).cmp(&(&b.artifact.name, &b.artifact.platform)));
        let kept = Arc::new(PinMaps { revision, maps });
        self.caches.compiled.lock().expect("the maps cache").put(pin, Arc::clone(&kept));
        Ok(Some(kept))
    }
}

impl Compiled<'_> {
    /// Each artifact's compiled coverage of one reviewer's inputs (or everyone's together),
    /// counted over every indexed file of the pin.
    pub(in crate::domain) async fn figures(
        &self,
        access: &PinPage,
        files: &[crate::review::coverage::IndexedFile],
        of: &crate::review::coverage::ReviewerInputs,
    ) -> AppResult<Vec<CompiledFigures>> {
        let Some(maps) = self.pin_maps(access).await? else { return Ok(Vec::new()) };
        Ok(maps.maps.iter().map(|map| figures_of(map, files, of)).collect())
    }
}

/// One map's compiled coverage of a reviewer's inputs.
pub fn figures_of(
    map: &ParsedMap,
    files: &[crate::review::coverage::IndexedFile],
    of: &crate::review::coverage::ReviewerInputs,
) -> CompiledFigures {
    let (lines, shown, reviewed) = crate::review::coverage::compiled_coverage(files, &map.lines, of);
    let (artifact, sha256) = (map.artifact.name.clone(), map.artifact.sha256.clone());
    CompiledFigures {
        coverage: CompiledCoverage { artifact, sha256, lines, shown, reviewed },
        files: map.totals.files,
        elsewhere_files: map.totals.elsewhere_files,
        checksum_mismatches: map.totals.checksum_mismatches,
        map_sha256: map.map_sha256.clone(),
    }
}

/// A file's marks in the chosen artifact: its count, and the ranges within the lines the page
/// shows (`first..=last`), so a long file's view carries only its window's.
pub fn file_marks(maps: &PinMaps, chosen: &ParsedMap, path: &str, (first, last): (u32, u32)) -> FileCompiled {
    let all = chosen.lines.get(path).map(Vec::as_slice).unwrap_or_default();
    let lines = within(all, first, last).to_vec();
    let line_count = app::model::range_lines(all);
    let checksum = chosen.checksums.get(path).copied();
    FileCompiled {
        artifacts: maps.maps.iter().map(|m| m.artifact.clone()).collect(),
        chosen: chosen.artifact.sha256.clone(),
        lines,
        line_count,
        checksum,
        compiled_into: maps
            .maps
            .iter()
            .filter(|m| m.lines.contains_key(path))
            .map(|m| m.artifact.name.clone())
            .collect(),
    }
}

/// The chosen artifact's ranges of `path` that reach into lines `first..=last`.
pub fn window_marks(chosen: &ParsedMap, path: &str, (first, last): (u32, u32)) -> Vec<[u32; 2]> {
    within(chosen.lines.get(path).map(Vec::as_slice).unwrap_or_default(), first, last).to_vec()
}

/// The sorted, disjoint ranges that reach into `first..=last` (whole, as the page clips them).
fn within(ranges: &[[u32; 2]], first: u32, last: u32) -> &[[u32; 2]] {
    let start = ranges.partition_point(|[_, to]| *to < first);
    let end = start + ranges[start..].partition_point(|[from, _]| *from <= last);
    &ranges[start..end]
}

/// A directory's compiled files and, for each subdirectory, how many of its files are compiled.
pub fn tree_marks(chosen: &ParsedMap, directory: &str, scope: &crate::domain::guard::ScopeFilter) -> TreeCompiled {
    let prefix = if directory.is_empty() { String::new() } else { format!("{directory}/") };
    let mut files = Vec::new();
    let mut directories: BTreeMap<String, u64> = BTreeMap::new();
    for path in chosen.lines.keys().filter(|path| scope.keep(path)) {
        let Some(rest) = path.strip_prefix(&prefix) else { continue };
        match rest.split_once('/') {
            Some((subdirectory, _)) => *directories.entry(subdirectory.to_string()).or_default() += 1,
            None => files.push(rest.to_string()),
        }
    }
    files.sort();
    TreeCompiled { artifact: chosen.artifact.clone(), files, directories: directories.into_iter().collect() }
}

/// An artifact's map as the builds page shows it: files from elsewhere grouped by group and
/// prefix (toolchain, then vendored, generated, other), and the pinned files that differ.
pub fn summary(map: &CompiledMap) -> ArtifactCompiled {
    let order = |group: &str| ["generated", "vendored", "other", "toolchain"].iter().position(|g| *g == group);
    let mut groups: BTreeMap<(Option<usize>, String, String), ElsewhereGroup> = BTreeMap::new();
    for file in &map.elsewhere {
        let key = (order(&file.group), file.group.clone(), file.prefix.clone());
        let entry = groups.entry(key).or_insert_with(|| ElsewhereGroup {
            group: file.group.clone(),
            prefix: file.prefix.clone(),
            files: Vec::new(),
            lines: 0,
        });
        let lines = range_lines(&file.lines);
        let shown = file.path.strip_prefix(&file.prefix).map(|p| p.trim_start_matches('/')).unwrap_or(&file.path);
        entry.files.push((shown.to_string(), lines));
        entry.lines += lines;
    }
    ArtifactCompiled {
        sha256: map.sha256.clone(),
        state: map.state,
        reason: map.reason.clone(),
        totals: map.totals.clone(),
        debug_file_sha256: map.debug_file_sha256.clone(),
        elsewhere: groups.into_values().collect(),
        mismatched: map.files.iter().filter(|f| f.checksum == Checksum::Different).map(|f| f.path.clone()).collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::within;

    #[test]
    fn a_window_carries_the_ranges_that_reach_into_it() {
        let ranges = [[3, 5], [10, 4_000], [4_100, 4_200], [8_001, 8_001], [9_000, 12_500]];
        assert_eq!(within(&ranges, 1, 4_000), &ranges[..2]);
        assert_eq!(within(&ranges, 4_001, 8_000), &ranges[2..3]);
        assert_eq!(within(&ranges, 8_001, 12_000), &ranges[3..]);
        assert_eq!(within(&ranges, 12_501, 16_500), &[] as &[[u32; 2]]);
        assert_eq!(within(&ranges, 1, u32::MAX), &ranges[..]);
        assert_eq!(within(&[], 1, 10), &[] as &[[u32; 2]]);
    }
}
