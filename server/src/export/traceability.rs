//! `requirements.json` and `traceability.csv`: each bundled pin's requirement list (the one whose
//! canonical SHA-256 the latest `requirements.import` event of the bundle records) and the matrix
//! of requirements to the regions of `comments.json` tagged with them, with each region's review
//! state from the events. The writer and the verifier compute the matrix with the same function,
//! and `report.html` shows it (`docs/bundle-format.md`).

use super::bundle::ThreadRecord;
use super::{csv_cell, Summary};
use crate::review::requirements::{digest, Requirement};
use app::html::escape;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write as _;

/// One entry of `requirements.json`: a pin's list.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequirementsRecord {
    pub pin: i64,
    /// The list's id on the server (the event's `details.list_id`).
    pub list: i64,
    /// The SHA-256 of the canonical form of `requirements`.
    pub sha256: String,
    pub requirements: Vec<Requirement>,
}

impl RequirementsRecord {
    /// Whether `sha256` is the digest of the requirements as listed.
    pub fn holds(&self) -> bool {
        digest(&self.requirements) == self.sha256
    }
}

pub const HEADER: [&str; 12] = [
    "pin",
    "requirement",
    "title",
    "thread",
    "kind",
    "severity",
    "state",
    "path",
    "start_line",
    "end_line",
    "shown_by",
    "reviewed_by",
];

/// One row of the matrix: a requirement and a region traced to it (`thread` None: untraced).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceRow {
    pub pin: i64,
    pub requirement: String,
    pub title: String,
    pub thread: Option<i64>,
    pub kind: String,
    pub severity: String,
    pub state: String,
    pub path: String,
    pub lines: Option<[u32; 2]>,
    /// Reviewers whose events in the bundle showed all of the region (sorted).
    pub shown_by: Vec<String>,
    /// Reviewers whose last mark of the file in the bundle is a mark (sorted).
    pub reviewed_by: Vec<String>,
}

impl TraceRow {
    pub fn record(&self) -> [String; 12] {
        let number = |n: Option<u32>| n.map(|n| n.to_string()).unwrap_or_default();
        [
            self.pin.to_string(),
            csv_cell(&self.requirement),
            csv_cell(&self.title),
            self.thread.map(|t| t.to_string()).unwrap_or_default(),
            self.kind.clone(),
            self.severity.clone(),
            self.state.clone(),
            csv_cell(&self.path),
            number(self.lines.map(|l| l[0])),
            number(self.lines.map(|l| l[1])),
            csv_cell(&self.shown_by.join(" ")),
            csv_cell(&self.reviewed_by.join(" ")),
        ]
    }
}

/// The matrix: per list (by pin), per requirement in the list's order, one row per thread of that
/// pin tagged with it (by thread id), or one row with no thread when none is.
pub fn rows(lists: &[RequirementsRecord], threads: &[ThreadRecord], summary: &Summary) -> Vec<TraceRow> {
    let mut by_pin: Vec<&RequirementsRecord> = lists.iter().collect();
    by_pin.sort_by_key(|l| l.pin);
    let mut tagged: BTreeMap<(i64, &str), Vec<&ThreadRecord>> = BTreeMap::new();
    // Only tags the bundle proves: a thread whose own comment.create event it holds.
    for thread in threads.iter().filter(|t| t.comments.first().is_some_and(|c| c.id == t.id && c.event.is_some())) {
        for id in &thread.requirements {
            tagged.entry((thread.pin, id.as_str())).or_default().push(thread);
        }
    }
    let mut out = Vec::new();
    for list in by_pin {
        for requirement in &list.requirements {
            let base = TraceRow {
                pin: list.pin,
                requirement: requirement.id.clone(),
                title: requirement.title.clone(),
                thread: None,
                kind: String::new(),
                severity: String::new(),
                state: String::new(),
                path: String::new(),
                lines: None,
                shown_by: Vec::new(),
                reviewed_by: Vec::new(),
            };
            let mut regions = tagged.get(&(list.pin, requirement.id.as_str())).cloned().unwrap_or_default();
            if regions.is_empty() {
                out.push(base);
                continue;
            }
            regions.sort_by_key(|t| t.id);
            for thread in regions {
                let region = thread.lines.map(|[a, b]| (u64::from(a), u64::from(b)));
                let shown_by = match thread.path.is_empty() {
                    true => Vec::new(),
                    false => summary
                        .shown_by
                        .range((list.pin, thread.path.clone(), String::new())..)
                        .take_while(|((pin, path, _), _)| *pin == list.pin && *path == thread.path)
                        .filter(|(_, shown)| shown.covers(region))
                        .map(|((_, _, reviewer), _)| reviewer.clone())
                        .collect(),
                };
                let reviewed_by = summary
                    .files
                    .get(&(list.pin, thread.path.clone()))
                    .map(|row| row.reviewed_by.clone())
                    .unwrap_or_default();
                out.push(TraceRow {
                    thread: Some(thread.id),
                    kind: thread.kind.clone(),
                    severity: thread.severity.clone().unwrap_or_default(),
                    state: thread.state.clone(),
                    path: thread.path.clone(),
                    lines: thread.lines,
                    shown_by,
                    reviewed_by,
                    ..base.clone()
                });
            }
        }
    }
    out
}

/// `traceability.csv`'s bytes (RFC 4180, CRLF, as `coverage.csv`).
pub fn csv(rows: &[TraceRow]) -> Result<Vec<u8>, csv::Error> {
    let mut writer = csv::WriterBuilder::new().terminator(csv::Terminator::CRLF).from_writer(Vec::new());
    writer.write_record(HEADER)?;
    for row in rows {
        writer.write_record(row.record())?;
    }
    writer.into_inner().map_err(|e| e.into_error().into())
}

/// The report's section: per pin, untraced requirements first, then each traced one with its
/// regions and their review state.
pub fn report_section(out: &mut String, lists: &[RequirementsRecord], rows: &[TraceRow]) {
    if lists.is_empty() {
        return;
    }
    out.push_str(
        "<section><h2>Requirements traced to code</h2><p class=\"muted\">Each requirement of the pin's list \
         (<code>requirements.json</code>, its SHA-256 in the log) with the regions reviewers tagged with it \
         (<code>traceability.csv</code>, from <code>comments.json</code> and the events): whether all of a region \
         was shown to a reviewer, and whether its file was marked reviewed.</p>",
    );
    for list in lists {
        let of_pin: Vec<&TraceRow> = rows.iter().filter(|r| r.pin == list.pin).collect();
        let untraced: Vec<&&TraceRow> = of_pin.iter().filter(|r| r.thread.is_none()).collect();
        let traced = list.requirements.len() - untraced.len();
        let _ = write!(out, "<h3>Pin {}: {} of {} requirements traced</h3>", list.pin, traced, list.requirements.len());
        if !untraced.is_empty() {
            out.push_str("<p><span class=\"warn\">Untraced:</span> ");
            let names: Vec<String> = untraced
                .iter()
                .map(|r| format!("<code>{}</code> {}", escape(&r.requirement), escape(&r.title)))
                .collect();
            out.push_str(&names.join("; "));
            out.push_str("</p>");
        }
        if traced == 0 {
            continue;
        }
        out.push_str(
            "<table><thead><tr><th>Requirement</th><th>Region</th><th>Thread</th><th>Shown to</th>\
             <th>Reviewed by</th></tr></thead><tbody>",
        );
        for row in of_pin.iter().filter(|r| r.thread.is_some()) {
            let place = match row.lines {
                Some([a, b]) if a == b => format!("{}:{a}", row.path),
                Some([a, b]) => format!("{}:{a}–{b}", row.path),
                None if row.path.is_empty() => "the whole pin".into(),
                None => row.path.clone(),
            };
            let what = match row.severity.as_str() {
                "" => format!("{} ({})", row.kind, row.state),
                severity => format!("{} {severity} ({})", row.kind, row.state),
            };
            let people = |names: &[String]| if names.is_empty() { "—".to_string() } else { names.join(", ") };
            let _ = write!(
                out,
                "<tr><td><code>{}</code></td><td><code>{}</code></td><td>#{} {}</td><td>{}</td><td>{}</td></tr>",
                escape(&row.requirement),
                escape(&place),
                row.thread.unwrap_or_default(),
                escape(&what),
                escape(&people(&row.shown_by)),
                escape(&people(&row.reviewed_by)),
            );
        }
        out.push_str("</tbody></table>");
    }
    out.push_str("</section>");
}
