//! `requirements.json` and `traceability.csv` against the events: each list is the one whose
//! canonical SHA-256 the latest `requirements.import` event of the bundle for its pin records (and
//! every such event's list is there), and the matrix is what those lists, `comments.json` (already
//! checked against its events) and the events give (`export::traceability::rows`). Bundles written
//! before requirements were traced have neither member; they pass when the events import no list.

use super::{read_member, Archive, Outcome};
use crate::export::bundle::ThreadRecord;
use crate::export::traceability::{self, RequirementsRecord};
use crate::export::{csv_uncell, members, Summary};

pub(super) fn check(archive: &mut Archive, comments: &[ThreadRecord], summary: &Summary, out: &mut Outcome) {
    let lists: Vec<RequirementsRecord> = match read_member(archive, members::REQUIREMENTS) {
        None if summary.requirement_lists.is_empty() => return,
        None => return out.fail("requirements.json is missing, though the events import requirement lists"),
        Some(bytes) => match serde_json::from_slice(&bytes) {
            Ok(lists) => lists,
            Err(_) => return out.fail("requirements.json: not of the bundle format's shape"),
        },
    };
    for list in &lists {
        let recorded = summary.requirement_lists.get(&list.pin);
        if !list.holds() {
            out.fail(format!("requirements.json: the list of pin {} does not have the SHA-256 it states", list.pin));
        } else if recorded != Some(&(list.list, list.sha256.clone())) {
            out.fail(format!(
                "requirements.json: the list of pin {} is not the one the bundle's latest requirements.import records",
                list.pin
            ));
        }
    }
    for pin in summary.requirement_lists.keys() {
        if lists.iter().filter(|l| l.pin == *pin).count() != 1 {
            out.fail(format!("requirements.json: pin {pin}'s list, which the events import, is not there once"));
        }
    }
    let expected: Vec<[String; 12]> =
        traceability::rows(&lists, comments, summary).iter().map(traceability::TraceRow::record).collect();
    let Some(bytes) = read_member(archive, members::TRACEABILITY) else {
        return out.fail("traceability.csv is missing");
    };
    let mut reader = csv::ReaderBuilder::new().has_headers(true).from_reader(bytes.as_slice());
    let header_ok = reader.headers().is_ok_and(|h| h.iter().eq(traceability::HEADER.iter().copied()));
    if !header_ok {
        return out.fail("traceability.csv: its header is not the documented one");
    }
    let mut found = Vec::new();
    for record in reader.records() {
        match record {
            Ok(record) => found.push(record),
            Err(_) => return out.fail("traceability.csv: not valid CSV"),
        }
    }
    let same = |row: &csv::StringRecord, want: &[String; 12]| {
        row.len() == 12 && row.iter().zip(want).all(|(cell, want)| csv_uncell(cell) == csv_uncell(want))
    };
    if found.len() != expected.len() {
        out.fail(format!(
            "traceability.csv: {} rows, but the lists, comments and events give {}",
            found.len(),
            expected.len()
        ));
    }
    let mut mismatches = 0;
    for (n, (row, want)) in found.iter().zip(&expected).enumerate() {
        if !same(row, want) {
            mismatches += 1;
            if mismatches <= 5 {
                out.fail(format!("traceability.csv: row {} ({} {}) differs from the events", n + 2, want[0], want[1]));
            }
        }
    }
}
