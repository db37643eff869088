//! Imported tool results on a file page. The results on lines are one list after the code, grouped
//! by log, tool, rule, level and message, each group's lines by triage state; a line is a link to
//! it. The code table stays the file's rows as packed once per file (`source::rows`), whatever
//! results there are, so a file with 500 results costs its list, not a table rendered and
//! compressed again; the server makes the list (`results_list_html`) and keeps a whole file's with
//! its results until they change. `ToolResultMarks` places each result under the line it ends on; without
//! scripts the list is the way to them. Results on the whole file are notes above the code.

use crate::html::escape_into;
use crate::model::{Annotation, Triage};
use std::collections::HashMap;
use std::fmt::Write as _;

/// The class a level is shown with (anything else a tool wrote is `none`).
pub fn level_class(level: &str) -> &'static str {
    match level {
        "error" => "error",
        "warning" => "warning",
        "note" => "note",
        _ => "none",
    }
}

/// A result's level, rule, message and tool, as the start of its note.
fn head_html(out: &mut String, annotation: &Annotation) {
    let level = level_class(&annotation.level);
    let _ = write!(out, r#"<span class="badge level level-{level}">{level}</span> <code class="rule">"#);
    escape_into(out, &annotation.rule_id);
    out.push_str(r#"</code> <span class="message">"#);
    escape_into(out, &annotation.message);
    out.push_str(r#"</span> <span class="muted tool">"#);
    escape_into(out, &annotation.tool);
    out.push_str("</span>");
}

/// One imported tool result as a note: its level, rule, message and tool, and its triage (or a
/// link to triage it).
pub fn annotation_html(out: &mut String, pin: &str, annotation: &Annotation) {
    let level = level_class(&annotation.level);
    let _ =
        write!(out, r#"<div class="annotation level-{level}" id="result-{}-{}">"#, annotation.log, annotation.index);
    head_html(out, annotation);
    out.push(' ');
    let href = format!("/pins/{pin}/sarif/{}#result-{}", annotation.log, annotation.index);
    match (annotation.triage, annotation.finding) {
        (Some(_), Some(finding)) => {
            let _ = write!(
                out,
                r#"<a class="triage-state" href="/pins/{pin}/comments#thread-{finding}">finding #{finding}</a>"#
            );
        }
        (Some(state), None) => {
            let _ =
                write!(out, r#"<a class="triage-state triage-{}" href="{href}">{}</a>"#, state.as_str(), state.label());
        }
        (None, _) => {
            let _ = write!(out, r#"<a class="triage-state" href="{href}">Triage</a>"#);
        }
    }
    out.push_str("</div>");
}

/// The list of results on lines (`annotations` in line order): a group per log, tool, rule, level
/// and message, in the order of its first line; in each, the lines of its results not triaged (with
/// a link to triage them on the log's page), then those of each triage state (a confirmed result
/// with its finding). Each state's paragraph lists its results' indices (`data-i`) in the order of
/// its line links, and a confirmed result's link names its finding (`data-finding`), so that
/// `ToolResultMarks` can make each result's note under its line.
pub fn results_list_html(pin: &str, annotations: &[Annotation]) -> String {
    type Key<'a> = (i64, &'a str, &'a str, &'a str, &'a str);
    let mut groups: Vec<Vec<&Annotation>> = Vec::new();
    let mut at: HashMap<Key, usize> = HashMap::new();
    for a in annotations.iter().filter(|a| a.start_line.is_some()) {
        let key = (a.log, a.tool.as_str(), a.rule_id.as_str(), a.level.as_str(), a.message.as_str());
        let index = *at.entry(key).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[index].push(a);
    }
    let mut out = String::with_capacity(256 * groups.len() + 40 * annotations.len());
    out.push_str(r#"<ul class="result-groups">"#);
    for group in &groups {
        let head = group[0];
        let _ = write!(
            out,
            r#"<li class="result-group" data-level="{}" data-log="{}" data-triage="/pins/{pin}/sarif/{}" data-comments="/pins/{pin}/comments"><div class="annotation-head">"#,
            level_class(&head.level),
            head.log,
            head.log
        );
        head_html(&mut out, head);
        out.push_str("</div>");
        for state in [None, Some(Triage::Confirmed), Some(Triage::FalsePositive), Some(Triage::NotUseful)] {
            let members: Vec<&&Annotation> = group.iter().filter(|a| a.triage == state).collect();
            if members.is_empty() {
                continue;
            }
            // The results' indices, in the order of their line links (one attribute, not one a
            // link: a file with many results is a list of many links).
            out.push_str(r#"<p class="result-lines" data-i=""#);
            for (n, a) in members.iter().enumerate() {
                let _ = write!(out, "{}{}", if n > 0 { " " } else { "" }, a.index);
            }
            match state {
                None => out.push_str(r#""><span class="result-state">Not triaged</span>"#),
                Some(state) => {
                    let _ = write!(
                        out,
                        r#"" data-state="{}"><span class="result-state triage-{}">{}</span>"#,
                        state.as_str(),
                        state.as_str(),
                        state.label()
                    );
                }
            }
            let _ = write!(out, " ({}):", members.len());
            for a in &members {
                out.push(' ');
                line_link(&mut out, pin, a);
            }
            if state.is_none() {
                let rule = percent_encoding::utf8_percent_encode(&head.rule_id, percent_encoding::NON_ALPHANUMERIC);
                let _ = write!(
                    out,
                    r#" <a class="triage-state" href="/pins/{pin}/sarif/{}?rule={rule}&amp;state=untriaged">Triage</a>"#,
                    head.log
                );
            }
            out.push_str("</p>");
        }
        out.push_str("</li>");
    }
    out.push_str("</ul>");
    out
}

/// A result's lines as a link to them (`#L12`, `#L12-L14`), with its finding after it when it
/// made one (also on the link, for `ToolResultMarks`).
fn line_link(out: &mut String, pin: &str, a: &Annotation) {
    let first = a.start_line.unwrap_or(1);
    let last = a.end_line.filter(|&last| last > first);
    let finding = a.finding.filter(|_| a.triage == Some(Triage::Confirmed));
    let _ = write!(out, r##"<a href="#L{first}"##);
    if let Some(last) = last {
        let _ = write!(out, "-L{last}");
    }
    out.push('"');
    if let Some(finding) = finding {
        let _ = write!(out, r#" data-finding="{finding}""#);
    }
    let _ = write!(out, ">{first}");
    if let Some(last) = last {
        let _ = write!(out, "–{last}");
    }
    out.push_str("</a>");
    if let Some(finding) = finding {
        let _ = write!(out, r#" (<a href="/pins/{pin}/comments#thread-{finding}">finding #{finding}</a>)"#);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn result(index: u64, line: u32, rule: &str, triage: Option<Triage>, finding: Option<i64>) -> Annotation {
        Annotation {
            log: 4,
            index,
            tool: "Flawfinder".into(),
            rule_id: rule.into(),
            level: "error".into(),
            message: "strcpy <unchecked>".into(),
            start_line: Some(line),
            end_line: Some(line + u32::from(index == 2)),
            triage,
            finding,
        }
    }

    #[test]
    fn results_are_grouped_by_rule_and_listed_by_triage_state_with_their_lines() {
        let results = [
            result(0, 3, "FF1001", None, None),
            result(1, 5, "FF1002", Some(Triage::FalsePositive), None),
            result(2, 7, "FF1001", None, None),
            result(3, 9, "FF1001", Some(Triage::Confirmed), Some(12)),
        ];
        let html = results_list_html("1", &results);
        assert_eq!(html.matches("<li class=\"result-group\"").count(), 2);
        let first = &html[..html.find("FF1002").unwrap()];
        assert!(first.contains(r##"<p class="result-lines" data-i="0 2"><span class="result-state">Not triaged</span> (2): <a href="#L3">3</a> <a href="#L7-L8">7–8</a> <a class="triage-state" href="/pins/1/sarif/4?rule=FF1001&amp;state=untriaged">Triage</a>"##), "{first}");
        assert!(first.contains(r##"<p class="result-lines" data-i="3" data-state="confirmed">"##), "{first}");
        assert!(
            first.contains(
                r##"<a href="#L9" data-finding="12">9</a> (<a href="/pins/1/comments#thread-12">finding #12</a>)"##
            ),
            "{first}"
        );
        assert!(html.contains(r#"<p class="result-lines" data-i="1" data-state="false_positive">"#));
        assert!(html.contains("strcpy &lt;unchecked&gt;"), "the message is escaped");
        assert!(!html.contains("<unchecked>"));
    }

    #[test]
    fn a_level_a_tool_made_up_is_shown_as_none() {
        let mut odd = result(0, 3, "X", None, None);
        odd.level = "\"><script>".into();
        let html = results_list_html("1", &[odd.clone()]);
        assert!(html.contains(r#"data-level="none""#) && !html.contains("<script>"));
        let mut note = String::new();
        annotation_html(&mut note, "1", &odd);
        assert!(note.starts_with(r#"<div class="annotation level-none" id="result-4-0">"#), "{note}");
    }
}
