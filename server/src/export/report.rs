//! `report.html`: the bundle for people. One self-contained page (no script, no external
//! resource: styles inline, pictures as inline SVG) that prints to PDF on A4 or Letter.

use super::{CoverageRow, Scope, SessionSummary};
use crate::review::treemap::{self, Tile};
use crate::store::builds::BuildRow;
use crate::store::pins::PinRecord;
use app::html::{escape, percent, thousands};
use app::model::{CommentKind, FileCoverage, Thread};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

pub struct Report<'a> {
    pub created: &'a str,
    pub scope: &'a Scope,
    pub checkpoint_size: u64,
    pub events: u64,
    pub pins: &'a [PinRecord],
    pub sessions: &'a [&'a SessionSummary],
    pub coverage: &'a BTreeMap<(i64, String), CoverageRow>,
    /// Each pin's size: its files and lines (what the shares are of, whichever rows are listed).
    pub pin_totals: &'a BTreeMap<i64, (u64, u64)>,
    pub threads: &'a [Thread],
    pub verdicts: &'a [super::bundle::VerdictRecord],
    pub builds: &'a [BuildRow],
    /// `compiled.json`: each bundled compiled-code map's figures and compiled coverage.
    pub compiled: &'a [super::compiled::CompiledRecord],
    /// `requirements.json` and the rows of `traceability.csv`.
    pub requirements: &'a [super::traceability::RequirementsRecord],
    pub traceability: &'a [super::traceability::TraceRow],
    pub log_key: &'a str,
    pub log_fingerprint: &'a str,
}

const STYLE: &str = r#"
:root { color-scheme: light; --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --accent: #0b5cad; }
* { box-sizing: border-box; }
body { font: 10.5pt/1.45 system-ui, -apple-system, "Segoe UI", "Noto Sans", "DejaVu Sans", sans-serif; color: var(--fg); margin: 0 auto; max-width: 60rem; padding: 2rem; }
h1 { font-size: 18pt; margin: 0 0 .2rem; }
h2 { font-size: 13pt; margin: 1.8rem 0 .5rem; padding-bottom: .2rem; border-bottom: 2px solid var(--fg); break-after: avoid; }
h3 { font-size: 11pt; margin: 1.2rem 0 .4rem; break-after: avoid; }
p, li { margin: .3rem 0; }
.muted { color: var(--muted); }
code, .mono { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 9pt; overflow-wrap: anywhere; }
table { border-collapse: collapse; width: 100%; margin: .4rem 0 1rem; table-layout: auto; }
th, td { text-align: left; vertical-align: top; padding: .25rem .45rem; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; }
th { font-weight: 600; background: #f6f8fa; white-space: nowrap; overflow-wrap: normal; }
.nowrap { white-space: nowrap; overflow-wrap: normal; }
thead { display: table-header-group; }
tr { break-inside: avoid; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; margin: .5rem 0; }
dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; overflow-wrap: anywhere; }
.badge { display: inline-block; padding: 0 .4rem; border-radius: .6rem; border: 1px solid var(--line); font-size: 8.5pt; white-space: nowrap; }
.sev-critical, .sev-high { background: #ffebe9; border-color: #ff8182; }
.sev-medium { background: #fff8c5; border-color: #d4a72c; }
.sev-low, .sev-info { background: #ddf4ff; border-color: #54aeff; }
.bar { height: .7rem; background: #d0d7de; border-radius: .2rem; overflow: hidden; display: flex; min-width: 8rem; }
.bar span { display: block; height: 100%; }
.legend span { display: inline-block; width: .8rem; height: .8rem; vertical-align: -.1rem; margin: 0 .25rem 0 .8rem; border-radius: .15rem; }
.tm-none { fill: #d0d7de; background: #d0d7de; } .tm-shown { fill: #f2cc60; background: #f2cc60; }
.tm-reviewed { fill: #2da44e; background: #2da44e; } .tm-carried { fill: #54aeff; background: #54aeff; }
svg.treemap { width: 100%; height: auto; border: 1px solid var(--line); break-inside: avoid; }
svg.treemap .tm-dir { fill: #e9edf1; stroke: #aeb7c0; stroke-width: .6; }
svg.treemap .tm-file { stroke: #fff; stroke-width: .4; }
.finding { border: 1px solid var(--line); border-radius: .3rem; padding: .5rem .7rem; margin: .5rem 0; break-inside: avoid; }
.finding .body { overflow-wrap: anywhere; margin: .3rem 0 0; }
.finding .body pre { white-space: pre-wrap; font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 9pt; }
.finding .body > :first-child { margin-top: 0; }
.warn { color: #a40e26; font-weight: 600; }
@page { size: auto; margin: 16mm 14mm; }
@media print { body { padding: 0; max-width: none; } a { color: inherit; text-decoration: none; } }
"#;

fn duration(first: &str, last: &str) -> String {
    match (app::times::parse(first), app::times::parse(last)) {
        (Ok(a), Ok(b)) if b >= a => app::times::duration_text(b - a),
        _ => String::new(),
    }
}

fn when(text: &str) -> String {
    app::times::parse(text).map(app::times::utc_text).unwrap_or_else(|_| text.to_string())
}

impl Report<'_> {
    pub fn render(&self) -> String {
        let mut out = String::with_capacity(64 * 1024);
        let _ = write!(
            out,
            "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
             <meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\
             <title>Review record — Clearroom export</title><style>{STYLE}</style></head><body>"
        );
        self.header(&mut out);
        self.reviewers(&mut out);
        self.coverage_section(&mut out);
        self.compiled_section(&mut out);
        self.findings(&mut out);
        super::traceability::report_section(&mut out, self.requirements, self.traceability);
        self.verdicts_section(&mut out);
        self.builds_section(&mut out);
        self.verification(&mut out);
        out.push_str("</body></html>\n");
        out
    }

    fn header(&self, out: &mut String) {
        let scope = self.scope.describe(false);
        let _ = write!(
            out,
            "<header><h1>Review record</h1><p class=\"muted\">Exported from Clearroom on {} · {} events, proven against the log's checkpoint of {} entries</p>\
             <dl class=\"facts\"><dt>Scope</dt><dd>{}</dd><dt>Pins</dt><dd>",
            escape(&when(self.created)),
            self.events,
            self.checkpoint_size,
            escape(&scope)
        );
        if self.pins.is_empty() {
            out.push_str("none");
        }
        for (n, pin) in self.pins.iter().enumerate() {
            if n > 0 {
                out.push_str("<br>");
            }
            let _ = write!(
                out,
                "pin {} “{}” of <b>{}</b> at <code>{}</code>",
                pin.id,
                escape(&pin.label),
                escape(&pin.repository),
                escape(&pin.commit_id)
            );
        }
        out.push_str("</dd></dl></header>");
    }

    fn reviewers(&self, out: &mut String) {
        out.push_str("<section><h2>Reviewers and their sessions</h2>");
        if self.sessions.is_empty() {
            out.push_str("<p class=\"muted\">No session in scope.</p></section>");
            return;
        }
        let mut people: BTreeMap<String, (u64, BTreeSet<String>)> = BTreeMap::new();
        for session in self.sessions {
            let entry = people.entry(session.actor.clone().unwrap_or_else(|| "(anonymous)".into())).or_default();
            entry.0 += 1;
            entry.1.extend(session.files_opened.iter().cloned());
        }
        out.push_str("<table><thead><tr><th>Person</th><th class=\"num\">Sessions</th><th class=\"num\">Files opened</th></tr></thead><tbody>");
        for (person, (sessions, files)) in &people {
            let _ = write!(
                out,
                "<tr><td>{}</td><td class=\"num\">{sessions}</td><td class=\"num\">{}</td></tr>",
                escape(person),
                files.len()
            );
        }
        out.push_str("</tbody></table><h3>Sessions</h3><table><thead><tr><th>Person</th><th>From</th><th>To</th><th class=\"num\">Length</th><th>Address</th><th class=\"num\">Events</th><th>Files opened</th></tr></thead><tbody>");
        for session in self.sessions {
            let start = session.signed_in.clone().unwrap_or_else(|| session.first_event.clone());
            let end = session.signed_out.clone().unwrap_or_else(|| session.last_event.clone());
            let files: Vec<&str> = session.files_opened.iter().map(String::as_str).take(12).collect();
            let more = session.files_opened.len().saturating_sub(files.len());
            let _ = write!(
                out,
                "<tr><td>{} <span class=\"muted\">{}</span></td><td>{}</td><td>{}</td><td class=\"num\">{}</td><td class=\"mono\">{}</td><td class=\"num\">{}</td><td class=\"mono\">{}{}</td></tr>",
                escape(session.actor.as_deref().unwrap_or("(anonymous)")),
                escape(session.role.as_deref().unwrap_or("")),
                escape(&when(&start)),
                escape(&when(&end)),
                escape(&duration(&start, &end)),
                escape(&session.clients.iter().cloned().collect::<Vec<_>>().join(", ")),
                session.events,
                escape(&files.join(", ")),
                if more > 0 { format!(" and {more} more") } else { String::new() }
            );
        }
        out.push_str("</tbody></table></section>");
    }

    fn coverage_section(&self, out: &mut String) {
        out.push_str("<section><h2>Coverage</h2><p class=\"muted\">From the events in this bundle, by the rule of the coverage page: a file's lines are <i>shown</i> when an event records them shown to a reviewer, a file is <i>reviewed</i> when a reviewer marked it (a bundle of the pin's whole history gives the page's figures). The table lists every file anyone opened or marked.</p>\
            <p class=\"legend\"><span class=\"tm-reviewed\"></span>reviewed<span class=\"tm-shown\"></span>shown<span class=\"tm-none\"></span>not opened</p>");
        for pin in self.pins {
            let rows: Vec<&CoverageRow> = self.coverage.values().filter(|r| r.pin == pin.id).collect();
            let (files, all) = self
                .pin_totals
                .get(&pin.id)
                .copied()
                .unwrap_or_else(|| (rows.len() as u64, rows.iter().map(|r| r.lines.unwrap_or(0)).sum()));
            // The coverage page's rule: shown to reviewers, in the lines shown; reviewed, whole files.
            let shown: Vec<&&CoverageRow> =
                rows.iter().filter(|r| r.shown_to_reviewers != Default::default()).collect();
            let shown_lines: u64 =
                shown.iter().map(|r| r.lines.map_or(0, |lines| r.shown_to_reviewers.lines(lines))).sum();
            let reviewed: Vec<&&CoverageRow> = rows.iter().filter(|r| !r.reviewed_by.is_empty()).collect();
            let reviewed_lines: u64 = reviewed.iter().map(|r| r.lines.unwrap_or(0)).sum();
            let width = |part: u64| if all == 0 { 0.0 } else { part as f64 * 100.0 / all as f64 };
            let _ = write!(
                out,
                "<h3>Pin {} “{}”</h3><table><tbody>\
                 <tr><th>Files</th><td class=\"num\">{}</td><th>Shown to reviewers</th><td class=\"num\">{} ({})</td><th>Reviewed</th><td class=\"num\">{} ({})</td></tr>\
                 <tr><th>Lines</th><td class=\"num\">{}</td><th>Shown to reviewers</th><td class=\"num\">{} ({})</td><th>Reviewed</th><td class=\"num\">{} ({})</td></tr>\
                 <tr><td colspan=\"6\"><div class=\"bar\" aria-hidden=\"true\"><span class=\"tm-reviewed\" style=\"width:{:.1}%\"></span><span class=\"tm-shown\" style=\"width:{:.1}%\"></span></div></td></tr></tbody></table>",
                pin.id,
                escape(&pin.label),
                thousands(files),
                thousands(shown.len() as u64),
                percent(shown.len() as u64, files),
                thousands(reviewed.len() as u64),
                percent(reviewed.len() as u64, files),
                thousands(all),
                thousands(shown_lines),
                percent(shown_lines, all),
                thousands(reviewed_lines),
                percent(reviewed_lines, all),
                width(reviewed_lines),
                (width(shown_lines) - width(reviewed_lines)).max(0.0),
            );
            if !rows.is_empty() && rows.len() <= 20_000 {
                let tiles: Vec<Tile<'_>> = rows
                    .iter()
                    .map(|r| Tile {
                        path: &r.path,
                        lines: r.lines.unwrap_or(1),
                        state: if !r.reviewed_by.is_empty() {
                            FileCoverage::Reviewed
                        } else if r.shown_to_reviewers != Default::default() {
                            FileCoverage::Shown
                        } else {
                            FileCoverage::None
                        },
                    })
                    .collect();
                out.push_str(&treemap::render(&tiles, &|_| "#coverage".into(), &format!("coverage of pin {}", pin.id)));
            }
            // Every file someone opened or marked, with who did.
            let opened: Vec<&&CoverageRow> = rows.iter().filter(|r| r.views > 0 || !r.reviewed_by.is_empty()).collect();
            if !opened.is_empty() {
                out.push_str("<table><thead><tr><th>File</th><th class=\"num\">Lines</th><th class=\"num\">Views</th><th>Viewed by</th><th>Reviewed by</th><th>Last viewed</th></tr></thead><tbody>");
                for row in opened.iter().take(2000) {
                    let _ = write!(
                        out,
                        "<tr><td class=\"mono\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                        escape(&row.path),
                        row.lines.map(|l| l.to_string()).unwrap_or_default(),
                        row.views,
                        escape(&row.viewed_by.join(", ")),
                        escape(&row.reviewed_by.join(", ")),
                        escape(&row.last_viewed.as_deref().map(when).unwrap_or_default())
                    );
                }
                out.push_str("</tbody></table>");
                if opened.len() > 2000 {
                    let _ = write!(out, "<p class=\"muted\">{} more files in coverage.csv.</p>", opened.len() - 2000);
                }
            }
        }
        out.push_str("</section>");
    }

    /// Reviewed = compiled: of each artifact's compiled lines, what reviewers were shown and marked.
    fn compiled_section(&self, out: &mut String) {
        if self.compiled.is_empty() {
            return;
        }
        out.push_str("<section><h2>Compiled code</h2><p class=\"muted\">From each artifact's debug information (its compiled-code map, in <code>compiled/</code>, its SHA-256 in the log): the lines of the pinned files that produced code in it, and of those, the lines shown to reviewers and the lines of files they marked reviewed. Files compiled in from outside the pinned tree are listed in the map.</p>");
        for record in self.compiled {
            let _ = write!(
                out,
                "<h3>Pin {} · {} <span class=\"mono\">{}</span></h3><p>{} lines in {} files of the pin compiled into it; {} files compiled in from elsewhere; {}.</p>\
                 <table><thead><tr><th>Reviewer</th><th class=\"num\">Shown ∩ compiled</th><th class=\"num\">Reviewed ∩ compiled</th></tr></thead><tbody>",
                record.pin,
                escape(&record.artifact),
                escape(&record.sha256),
                thousands(record.lines),
                thousands(record.files),
                thousands(record.elsewhere_files),
                match record.checksum_mismatches {
                    0 => "no compiled file differs from its pinned file".to_string(),
                    n => format!("<b>{n} compiled files differ from the pinned files</b> (their MD5 in the debug information)"),
                },
            );
            let everyone = std::iter::once(&record.combined);
            for share in record.reviewers.iter().chain(everyone) {
                let _ = write!(
                    out,
                    "<tr><td>{}</td><td class=\"num\">{} of {} ({})</td><td class=\"num\">{} of {} ({})</td></tr>",
                    escape(share.reviewer.as_deref().unwrap_or("Everyone together")),
                    thousands(share.shown),
                    thousands(record.lines),
                    percent(share.shown, record.lines),
                    thousands(share.reviewed),
                    thousands(record.lines),
                    percent(share.reviewed, record.lines),
                );
            }
            out.push_str("</tbody></table>");
        }
        out.push_str("</section>");
    }

    fn findings(&self, out: &mut String) {
        let findings: Vec<&Thread> = self.threads.iter().filter(|t| t.kind == CommentKind::Finding).collect();
        let _ = write!(out, "<section><h2>Findings ({})</h2>", findings.len());
        if findings.is_empty() {
            out.push_str("<p class=\"muted\">No finding in scope.</p>");
        }
        for thread in findings {
            let severity = thread.severity.map(|s| s.as_str()).unwrap_or("unrated");
            let place = match (thread.path.as_str(), thread.lines) {
                ("", _) => "the whole pin".to_string(),
                (path, Some(lines)) if lines.first == lines.last => format!("{path}, line {}", lines.first),
                (path, Some(lines)) => format!("{path}, lines {}–{}", lines.first, lines.last),
                (path, None) => path.to_string(),
            };
            let _ = write!(
                out,
                "<div class=\"finding\"><span class=\"badge sev-{severity}\">{severity}</span> <span class=\"badge\">{}</span> \
                 <b>#{}</b> at pin {} · <span class=\"mono\">{}</span> · by {} on {}<div class=\"body\">{}</div>",
                escape(thread.state.label()),
                thread.id,
                thread.pin.get(),
                escape(&place),
                escape(&thread.root.author),
                escape(&app::times::utc_text(thread.root.created_at_ms)),
                // Sanitised as on the pages (no image, no script; links marked noopener).
                crate::review::markdown::render(&thread.root.current().body)
            );
            if !thread.cwe.is_empty() {
                let named: Vec<String> =
                    thread.cwe.iter().map(|w| escape(&format!("CWE-{}: {}", w.id, w.name))).collect();
                let _ = write!(out, "<p class=\"cwe\">{}</p>", named.join("; "));
            }
            if !thread.replies.is_empty() {
                let _ = write!(
                    out,
                    "<p class=\"muted\">{} in comments.json.</p>",
                    app::html::counted(thread.replies.len() as u64, "reply", "replies")
                );
            }
            out.push_str("</div>");
        }
        let comments = self.threads.iter().filter(|t| t.kind == CommentKind::Comment).count();
        let _ = write!(
            out,
            "<p class=\"muted\">{} besides the findings in comments.json.</p></section>",
            app::html::counted(comments as u64, "comment thread is", "comment threads are")
        );
    }

    fn verdicts_section(&self, out: &mut String) {
        let _ = write!(out, "<section><h2>Verdicts ({})</h2>", self.verdicts.len());
        if self.verdicts.is_empty() {
            out.push_str("<p class=\"muted\">No verdict in scope.</p></section>");
            return;
        }
        out.push_str("<table><thead><tr><th>Pin</th><th>Reviewer</th><th>Verdict</th><th>When</th><th>Summary</th></tr></thead><tbody>");
        for verdict in self.verdicts {
            let _ = write!(
                out,
                "<tr><td>{}</td><td>{}</td><td><b>{}</b>{}</td><td>{}</td><td>{}</td></tr>",
                verdict.pin,
                escape(&verdict.reviewer),
                escape(&verdict.verdict.replace('_', " ")),
                if verdict.supersedes.is_none() {
                    ""
                } else {
                    " <span class=\"muted\">(supersedes an earlier one)</span>"
                },
                escape(&when(&verdict.created)),
                escape(&verdict.summary)
            );
        }
        out.push_str("</tbody></table></section>");
    }

    fn builds_section(&self, out: &mut String) {
        let _ = write!(out, "<section><h2>Builds and reproducibility ({})</h2>", self.builds.len());
        if self.builds.is_empty() {
            out.push_str("<p class=\"muted\">No build recorded for these pins.</p></section>");
            return;
        }
        // Reproducibility, derived as the server derives it: equal hashes from distinct accounts.
        let mut by_artifact: BTreeMap<(i64, &str, &str), BTreeMap<&str, BTreeSet<&str>>> = BTreeMap::new();
        for build in self.builds {
            by_artifact
                .entry((build.pin_id, build.name.as_str(), build.platform.as_str()))
                .or_default()
                .entry(build.sha256.as_str())
                .or_default()
                .insert(build.recorded_by.as_deref().unwrap_or("operator"));
        }
        out.push_str("<table><thead><tr><th>Pin</th><th>Artifact</th><th>SHA-256</th><th>Builders</th><th>Status</th></tr></thead><tbody>");
        for ((pin, name, platform), hashes) in &by_artifact {
            let status = if hashes.len() > 1 {
                "<span class=\"warn\">MISMATCH</span>".to_string()
            } else if hashes.values().next().is_some_and(|b| b.len() > 1) {
                "reproduced".to_string()
            } else {
                "one builder".to_string()
            };
            for (hash, builders) in hashes {
                let _ = write!(
                    out,
                    "<tr><td>{pin}</td><td>{} <span class=\"muted\">{}</span></td><td class=\"mono\">{}</td><td>{}</td><td class=\"nowrap\">{status}</td></tr>",
                    escape(name),
                    escape(platform),
                    escape(hash),
                    escape(&builders.iter().copied().collect::<Vec<_>>().join(", "))
                );
            }
        }
        out.push_str("</tbody></table><p class=\"muted\">Each recorded build has a signed provenance attestation in attestations.intoto.jsonl.</p></section>");
    }

    fn verification(&self, out: &mut String) {
        let _ = write!(
            out,
            "<section><h2>How to verify this bundle</h2><ol>\
             <li>Obtain the log's verifier key from the vendor through a channel you trust, and compare its fingerprint with <code>{}</code>.</li>\
             <li>Run <code>server verify bundle clearroom-export.zip --key log.vkey</code> (add <code>--previous-checkpoint FILE</code> with the last checkpoint you hold, <code>--attestation-key KEY</code> and <code>--policy FILE</code> where you have them). It works offline.</li>\
             <li>It checks the manifest's signature and every member's SHA-256, the checkpoint's signature, every event's inclusion in the log, consistency with your earlier checkpoint, every attestation, and that the findings, comments, verdicts, grants, sessions and coverage agree with the events.</li>\
             <li>The format is documented in <code>docs/bundle-format.md</code>, so that you can write your own verifier.</li></ol>\
             <p class=\"muted\">Log key: <code>{}</code></p></section>",
            escape(self.log_fingerprint),
            escape(self.log_key)
        );
    }
}
