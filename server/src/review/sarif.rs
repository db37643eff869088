//! Reading a SARIF 2.1.0 log a reviewer imports (OASIS SARIF 2.1.0): each run's tool and rules,
//! and each result's rule, level, message and first physical location. Only those fields are
//! read (typed, so a large log costs what it keeps, not a whole JSON tree); everything else in the
//! log is ignored. Where a result is in the pin is `Placer`'s: a location's URI (with its base,
//! from `originalUriBaseIds`, or a run's artifact) is normalised and matched against the pin's
//! files, dropping leading directories until one matches, so that a tool run on a checkout under
//! `/home/lab/src/` places `file:///home/lab/src/crypto/aes.c` at `crypto/aes.c`.

use serde::Deserialize;
use std::collections::HashMap;

/// Longest message kept for a result (characters); the rest is cut with an ellipsis.
pub const MAX_MESSAGE: usize = 2_000;
/// Longest rule id, tool name or URI kept (characters).
pub const MAX_NAME: usize = 300;

/// The levels of SARIF results.
pub const LEVELS: [&str; 4] = ["error", "warning", "note", "none"];

/// What an imported log holds, as the server keeps it.
#[derive(Debug, Default)]
pub struct ParsedLog {
    /// Each run's tool: its name and version.
    pub tools: Vec<String>,
    pub results: Vec<ToolResult>,
}

/// One result: its tool, rule, level and message, and where the log says it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToolResult {
    pub tool: String,
    pub rule_id: String,
    pub rule_name: Option<String>,
    pub level: &'static str,
    pub message: String,
    /// The location's URI, with its base when it has one (empty: the result names no location).
    pub uri: String,
    pub start_line: Option<u32>,
    pub end_line: Option<u32>,
    /// The rule's CWE ids that the shipped list has.
    pub cwe: Vec<u32>,
}

#[derive(Deserialize)]
struct Log {
    version: Option<String>,
    runs: Option<Vec<Run>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Run {
    tool: Tool,
    #[serde(default)]
    results: Option<Vec<SarifResult>>,
    #[serde(default)]
    original_uri_base_ids: HashMap<String, ArtifactLocation>,
    #[serde(default)]
    artifacts: Vec<Artifact>,
}

#[derive(Deserialize)]
struct Tool {
    driver: Driver,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Driver {
    name: String,
    version: Option<String>,
    semantic_version: Option<String>,
    #[serde(default)]
    rules: Vec<Rule>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Rule {
    id: String,
    name: Option<String>,
    short_description: Option<Message>,
    default_configuration: Option<Configuration>,
    #[serde(default)]
    relationships: Vec<Relationship>,
    properties: Option<Properties>,
}

#[derive(Deserialize)]
struct Configuration {
    level: Option<String>,
}

#[derive(Deserialize)]
struct Relationship {
    target: Option<Reference>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Reference {
    id: Option<String>,
    index: Option<usize>,
    tool_component: Option<ComponentReference>,
}

#[derive(Deserialize)]
struct ComponentReference {
    name: Option<String>,
}

#[derive(Deserialize)]
struct Properties {
    #[serde(default)]
    tags: Vec<serde_json::Value>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SarifResult {
    rule_id: Option<String>,
    rule_index: Option<usize>,
    rule: Option<Reference>,
    level: Option<String>,
    message: Option<Message>,
    #[serde(default)]
    locations: Vec<Location>,
}

#[derive(Deserialize)]
struct Message {
    text: Option<String>,
    markdown: Option<String>,
    #[serde(default)]
    arguments: Vec<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Location {
    physical_location: Option<PhysicalLocation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PhysicalLocation {
    artifact_location: Option<ArtifactLocation>,
    region: Option<Region>,
}

#[derive(Deserialize, Clone)]
#[serde(rename_all = "camelCase")]
struct ArtifactLocation {
    uri: Option<String>,
    uri_base_id: Option<String>,
    index: Option<usize>,
}

#[derive(Deserialize)]
struct Artifact {
    location: Option<ArtifactLocation>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct Region {
    start_line: Option<u64>,
    end_line: Option<u64>,
}

fn cut(text: &str, most: usize) -> String {
    match text.char_indices().nth(most) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

/// Reads a log. The error says what is wrong in the reviewer's terms (the JSON parser's message
/// names the line and column).
pub fn parse(bytes: &[u8]) -> Result<ParsedLog, String> {
    let log: Log = serde_json::from_slice(bytes).map_err(|e| format!("the log is not SARIF 2.1.0 JSON: {e}"))?;
    match log.version.as_deref() {
        Some("2.1.0") => {}
        Some(other) => return Err(format!("the log is SARIF {}; import SARIF 2.1.0", cut(other, 20))),
        None => return Err("the log names no version; import SARIF 2.1.0 (\"version\": \"2.1.0\")".into()),
    }
    let runs = log.runs.ok_or("the log has no runs")?;
    let mut parsed = ParsedLog::default();
    for mut run in runs {
        let tool = tool_name(&run.tool.driver);
        let rules: Vec<RuleFacts> = run.tool.driver.rules.iter().map(RuleFacts::of).collect();
        let by_id: HashMap<&str, usize> = rules.iter().enumerate().map(|(at, r)| (r.id.as_str(), at)).collect();
        for result in run.results.take().unwrap_or_default() {
            let rule = result
                .rule_index
                .or_else(|| result.rule.as_ref().and_then(|r| r.index))
                .and_then(|at| rules.get(at))
                .or_else(|| {
                    let id = result.rule_id.as_deref().or_else(|| result.rule.as_ref()?.id.as_deref())?;
                    by_id.get(id).map(|&at| &rules[at])
                });
            let rule_id = result
                .rule_id
                .clone()
                .or_else(|| result.rule.as_ref().and_then(|r| r.id.clone()))
                .or_else(|| rule.map(|r| r.id.clone()))
                .unwrap_or_else(|| "(no rule)".into());
            let level = result.level.as_deref().or(rule.and_then(|r| r.level.as_deref())).unwrap_or("warning");
            let level = *LEVELS.iter().find(|l| **l == level).ok_or_else(|| {
                format!("a result's level is {:?}; SARIF's levels are error, warning, note and none", cut(level, 20))
            })?;
            let message = result
                .message
                .as_ref()
                .and_then(message_text)
                .or_else(|| rule.and_then(|r| r.description.clone()))
                .unwrap_or_else(|| "(no message)".into());
            let (uri, start_line, end_line) = location(&run, result.locations.first());
            parsed.results.push(ToolResult {
                tool: tool.clone(),
                rule_id: cut(&rule_id, MAX_NAME),
                rule_name: rule.and_then(|r| r.name.clone()),
                level,
                message: cut(&message, MAX_MESSAGE),
                uri: cut(&uri, MAX_NAME * 4),
                start_line,
                end_line,
                cwe: rule.map(|r| r.cwe.clone()).unwrap_or_default(),
            });
        }
        parsed.tools.push(tool);
    }
    Ok(parsed)
}

fn tool_name(driver: &Driver) -> String {
    let version = driver.semantic_version.as_deref().or(driver.version.as_deref());
    let name = match version {
        Some(version) => format!("{} {}", driver.name.trim(), version.trim()),
        None => driver.name.trim().to_string(),
    };
    cut(&name, MAX_NAME)
}

/// What a result takes from its rule.
struct RuleFacts {
    id: String,
    name: Option<String>,
    level: Option<String>,
    description: Option<String>,
    cwe: Vec<u32>,
}

impl RuleFacts {
    fn of(rule: &Rule) -> RuleFacts {
        let mut cwe: Vec<u32> = Vec::new();
        for relationship in &rule.relationships {
            let Some(target) = &relationship.target else { continue };
            let is_cwe = target
                .tool_component
                .as_ref()
                .and_then(|c| c.name.as_deref())
                .is_some_and(|n| n.eq_ignore_ascii_case("cwe"));
            if let Some(id) = target.id.as_deref().filter(|_| is_cwe) {
                cwe.extend(crate::review::cwe::parse_id(id).ok());
            }
        }
        for tag in rule.properties.iter().flat_map(|p| &p.tags) {
            let tag = tag.as_str().unwrap_or_default().to_ascii_lowercase();
            // `CWE-120` (flawfinder, Semgrep) or `external/cwe/cwe-120` (CodeQL).
            let id = tag.strip_prefix("external/cwe/cwe-").or_else(|| tag.strip_prefix("cwe-"));
            cwe.extend(id.and_then(|id| id.parse::<u32>().ok()));
        }
        cwe.retain(|id| crate::review::cwe::weakness(*id).is_some());
        cwe.sort_unstable();
        cwe.dedup();
        cwe.truncate(crate::review::cwe::MAX_PER_FINDING);
        RuleFacts {
            id: rule.id.clone(),
            name: rule.name.clone(),
            level: rule.default_configuration.as_ref().and_then(|c| c.level.clone()),
            description: rule.short_description.as_ref().and_then(message_text),
            cwe,
        }
    }
}

/// A message's text with its `{0}` placeholders filled from its arguments.
fn message_text(message: &Message) -> Option<String> {
    let text = message.text.as_deref().or(message.markdown.as_deref())?;
    let mut filled = text.to_string();
    for (at, argument) in message.arguments.iter().enumerate().take(20) {
        filled = filled.replace(&format!("{{{at}}}"), argument);
    }
    Some(filled)
}

/// A location's URI (joined to its base) and lines, from the location or the run's artifact it
/// names.
fn location(run: &Run, location: Option<&Location>) -> (String, Option<u32>, Option<u32>) {
    let Some(physical) = location.and_then(|l| l.physical_location.as_ref()) else {
        return (String::new(), None, None);
    };
    let artifact = physical.artifact_location.as_ref().map(|a| match (&a.uri, a.index) {
        (None, Some(index)) => run.artifacts.get(index).and_then(|a| a.location.clone()).unwrap_or_else(|| a.clone()),
        _ => a.clone(),
    });
    let uri = artifact.map(|a| joined(run, &a, 0)).unwrap_or_default();
    let line = |n: Option<u64>| n.filter(|n| *n >= 1).map(|n| n.min(u64::from(u32::MAX)) as u32);
    let start = physical.region.as_ref().and_then(|r| line(r.start_line));
    let end = physical.region.as_ref().and_then(|r| line(r.end_line)).filter(|end| start.is_some_and(|s| *end >= s));
    (uri, start, end.or(start))
}

/// An artifact location's URI with its base's before it (bases may themselves have bases).
fn joined(run: &Run, location: &ArtifactLocation, depth: u32) -> String {
    let uri = location.uri.clone().unwrap_or_default();
    let base = location.uri_base_id.as_deref().and_then(|id| run.original_uri_base_ids.get(id));
    match base {
        Some(base) if depth < 8 && !uri.contains("://") && !uri.starts_with('/') => {
            let base = joined(run, base, depth + 1);
            if base.is_empty() || base.ends_with('/') {
                format!("{base}{uri}")
            } else {
                format!("{base}/{uri}")
            }
        }
        _ => uri,
    }
}

/// A URI as a relative path: scheme and host dropped, percent-decoded, `\` as `/`, `.` and `..`
/// resolved, no leading `/` (`None` when nothing is left).
pub fn normalised(uri: &str) -> Option<String> {
    let mut rest = uri.trim();
    if let Some(after) = rest.strip_prefix("file://") {
        // `file://host/path` and `file:///path`: the host (or nothing) goes.
        rest = after.find('/').map_or("", |at| &after[at..]);
    } else if let Some(after) = rest.strip_prefix("file:") {
        rest = after;
    } else if rest.contains("://") {
        return None;
    }
    let decoded = percent_encoding::percent_decode_str(rest).decode_utf8().ok()?.replace('\\', "/");
    // A Windows drive (`C:/src/a.c`) is a root like `/`.
    let decoded = match decoded.as_bytes() {
        [drive, b':', ..] if drive.is_ascii_alphabetic() => decoded[2..].to_string(),
        _ => decoded,
    };
    let mut parts: Vec<&str> = Vec::new();
    for part in decoded.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            part => parts.push(part),
        }
    }
    (!parts.is_empty()).then(|| parts.join("/"))
}

/// Where results go in a pin: its files (those the importer may read) with their line counts.
pub struct Placer<'a> {
    files: HashMap<&'a str, u64>,
}

/// Where a result was placed, or why not.
#[derive(Debug, PartialEq, Eq)]
pub enum Placement {
    /// At a file of the pin, at the result's lines if it gave any.
    At(String),
    /// Not in the pin: why.
    Outside(&'static str),
}

impl<'a> Placer<'a> {
    pub fn new(files: impl IntoIterator<Item = (&'a str, u64)>) -> Placer<'a> {
        Placer { files: files.into_iter().collect() }
    }

    /// The pin's file a result is at: its normalised path, or the longest tail of it that is a
    /// file; its lines must lie in the file.
    pub fn place(&self, result: &ToolResult) -> Placement {
        if result.uri.is_empty() {
            return Placement::Outside("the result names no file");
        }
        let Some(path) = normalised(&result.uri) else {
            return Placement::Outside("the location is not a file");
        };
        let mut tail = path.as_str();
        loop {
            if let Some(&lines) = self.files.get(tail) {
                return match result.end_line.or(result.start_line) {
                    Some(last) if u64::from(last) > lines.max(1) => Placement::Outside("past the end of the file"),
                    _ => Placement::At(tail.to_string()),
                };
            }
            match tail.split_once('/') {
                Some((_, rest)) => tail = rest,
                None => return Placement::Outside("no such file at the pin"),
            }
        }
    }
}

#[cfg(test)]
#[path = "sarif_tests.rs"]
mod tests;
