//! A highlight-cache entry as stored: text, zstd-compressed by the caller.

use super::super::highlight::Highlighted;

/// The first line of every stored entry.
const MAGIC: &str = "clearroom-highlight-4";

/// An entry as text: the magic line, the language, the notice, the lines of the whole file (for a
/// window), the definitions found (JSON `[[name, kind, line], …]`; each an empty line for none),
/// then the count and one highlighted line per line (highlighted lines never hold a newline).
pub(super) fn encode(entry: &Highlighted) -> String {
    let mut out = String::with_capacity(entry.lines.iter().map(|l| l.len() + 1).sum::<usize>() + 64);
    out.push_str(MAGIC);
    out.push('\n');
    out.push_str(entry.language.as_deref().unwrap_or(""));
    out.push('\n');
    out.push_str(&entry.notice.as_ref().and_then(|n| serde_json::to_string(n).ok()).unwrap_or_default());
    out.push('\n');
    out.push_str(&entry.total.map_or(String::new(), |t| t.to_string()));
    out.push('\n');
    if let Some(definitions) = &entry.definitions {
        let rows: Vec<(&str, &str, u32)> = definitions.iter().map(|d| (d.name.as_str(), d.kind, d.line)).collect();
        out.push_str(&serde_json::to_string(&rows).unwrap_or_default());
    }
    out.push('\n');
    out.push_str(&entry.lines.len().to_string());
    for line in &entry.lines {
        out.push('\n');
        out.push_str(line);
    }
    out
}

pub(super) fn decode(text: &str) -> Option<Highlighted> {
    let mut parts = text.split('\n');
    if parts.next()? != MAGIC {
        return None;
    }
    let language = Some(parts.next()?).filter(|l| !l.is_empty()).map(str::to_string);
    let notice = match parts.next()? {
        "" => None,
        notice => Some(serde_json::from_str(notice).ok()?),
    };
    let total = match parts.next()? {
        "" => None,
        total => Some(total.parse().ok()?),
    };
    let definitions = match parts.next()? {
        "" => None,
        rows => Some(
            serde_json::from_str::<Vec<(String, String, u32)>>(rows)
                .ok()?
                .into_iter()
                .map(|(name, kind, line)| super::super::symbols::Defined::new(name, &kind, line))
                .collect::<Option<Vec<_>>>()?,
        ),
    };
    let count: usize = parts.next()?.parse().ok()?;
    let lines: Vec<String> = parts.map(str::to_string).collect();
    (lines.len() == count).then_some(Highlighted {
        lines,
        language,
        notice,
        timed_out: false,
        total,
        packed: Default::default(),
        definitions,
    })
}
