//! Compiled-code maps in a bundle (`docs/bundle-format.md`): each map of a pin in scope whose
//! digest a `artifact.compiled_map` event of the bundle records, as its canonical form
//! (`compiled/<pin>-<sha256>.json`), and `compiled.json`, each map's figures and the compiled
//! coverage of each reviewer and of all together, computed from the bundle's events; and
//! `coverage.csv`'s `compiled_lines`. The writer and the verifier both compute them here.

use super::Summary;
use crate::review::coverage::{compiled_coverage, IndexedFile, ReviewerInputs};
use app::model::{Checksum, CompiledFile, ElsewhereFile};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// The member that holds a map.
pub fn member_name(pin: i64, sha256: &str) -> String {
    format!("compiled/{pin}-{sha256}.json")
}

/// A map member as read: the canonical form (`docs/compiled-map.md`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct MapMember {
    pub files: Vec<CompiledFile>,
    pub elsewhere: Vec<ElsewhereFile>,
}

/// A map in the bundle, with what names it.
#[derive(Clone, Debug)]
pub struct BundledMap {
    pub pin: i64,
    pub sha256: String,
    /// The artifact's name as its builds give it (informational: the digests name the bytes).
    pub artifact: String,
    pub map_sha256: String,
    pub map: MapMember,
}

/// A reviewer's (or everyone's) share of a map's compiled lines.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompiledShare {
    /// The reviewer; none for everyone together.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reviewer: Option<String>,
    /// Compiled lines shown to them by the bundle's events.
    pub shown: u64,
    /// Compiled lines of files they marked reviewed (the last mark of the bundle's events).
    pub reviewed: u64,
}

/// One record of `compiled.json`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct CompiledRecord {
    pub pin: i64,
    pub artifact: String,
    pub sha256: String,
    pub map_sha256: String,
    /// Pinned files with code in the artifact, and their compiled lines.
    pub files: u64,
    pub lines: u64,
    pub elsewhere_files: u64,
    pub checksum_mismatches: u64,
    /// Each reviewer the events show at the pin, by name.
    pub reviewers: Vec<CompiledShare>,
    pub combined: CompiledShare,
}

fn indexed(map: &MapMember) -> (Vec<IndexedFile>, HashMap<String, Vec<[u32; 2]>>) {
    let files = map
        .files
        .iter()
        .map(|f| IndexedFile { path: f.path.clone(), blob_id: String::new(), lines: 0, text: None })
        .collect();
    let lines = map.files.iter().map(|f| (f.path.clone(), f.lines.clone())).collect();
    (files, lines)
}

/// `compiled.json`: each map's figures and shares, from the events' summary (after `finish`).
pub fn records(maps: &[BundledMap], summary: &Summary) -> Vec<CompiledRecord> {
    maps.iter()
        .map(|bundled| {
            let (files, lines) = indexed(&bundled.map);
            let pin = bundled.pin;
            let rows = summary.files.range((pin, String::new())..(pin + 1, String::new())).map(|(_, row)| row);
            let mut people: BTreeSet<&str> = BTreeSet::new();
            let mut everyone = ReviewerInputs::default();
            for row in rows {
                people.extend(row.reviewed_by.iter().map(String::as_str));
                if !row.reviewed_by.is_empty() {
                    everyone.reviewed.insert(row.path.clone());
                }
                if row.shown_to_reviewers != Default::default() {
                    everyone.shown.insert(row.path.clone(), row.shown_to_reviewers.clone());
                }
            }
            people.extend(summary.shown_by.keys().filter(|(p, _, _)| *p == pin).map(|(_, _, who)| who.as_str()));
            let share = |reviewer: Option<&str>, inputs: &ReviewerInputs| {
                let (_, shown, reviewed) = compiled_coverage(&files, &lines, inputs);
                CompiledShare { reviewer: reviewer.map(str::to_string), shown, reviewed }
            };
            let reviewers = people
                .into_iter()
                .map(|who| {
                    let mut inputs = ReviewerInputs::default();
                    for ((p, path, reviewer), shown) in &summary.shown_by {
                        if *p == pin && reviewer == who {
                            inputs.shown.insert(path.clone(), shown.clone());
                        }
                    }
                    let reviewed = summary.files.range((pin, String::new())..(pin + 1, String::new()));
                    for (_, row) in reviewed.filter(|(_, row)| row.reviewed_by.iter().any(|r| r == who)) {
                        inputs.reviewed.insert(row.path.clone());
                    }
                    share(Some(who), &inputs)
                })
                .collect();
            CompiledRecord {
                pin,
                artifact: bundled.artifact.clone(),
                sha256: bundled.sha256.clone(),
                map_sha256: bundled.map_sha256.clone(),
                files: bundled.map.files.len() as u64,
                lines: bundled.map.files.iter().map(|f| app::model::range_lines(&f.lines)).sum(),
                elsewhere_files: bundled.map.elsewhere.len() as u64,
                checksum_mismatches: bundled.map.files.iter().filter(|f| f.checksum == Checksum::Different).count()
                    as u64,
                reviewers,
                combined: share(None, &everyone),
            }
        })
        .collect()
}

/// coverage.csv's `compiled_lines`: for each (pin, path) of a bundled map, its lines with code in
/// any of the pin's bundled maps (the union of their ranges).
pub fn compiled_lines(maps: &[BundledMap]) -> BTreeMap<(i64, String), u64> {
    let mut ranges: BTreeMap<(i64, String), Vec<[u32; 2]>> = BTreeMap::new();
    for bundled in maps {
        for file in &bundled.map.files {
            ranges.entry((bundled.pin, file.path.clone())).or_default().extend_from_slice(&file.lines);
        }
    }
    ranges
        .into_iter()
        .map(|(key, mut list)| {
            list.sort_unstable();
            let mut merged: Vec<[u32; 2]> = Vec::with_capacity(list.len());
            for [first, last] in list {
                match merged.last_mut() {
                    Some(end) if first <= end[1].saturating_add(1) => end[1] = end[1].max(last),
                    _ => merged.push([first, last]),
                }
            }
            (key, app::model::range_lines(&merged))
        })
        .collect()
}
