//! Requirement lists (a security target's functional requirements, e.g. `FCS_COP.1/AES`): read
//! from CSV (header `id,title,text`) or JSON (an array of `{id, title, text}`, or an object with
//! such an array as `requirements`), checked, and put in the canonical form whose SHA-256 the
//! `requirements.import` event records and a verifier recomputes (`docs/bundle-format.md`).

use serde::{Deserialize, Serialize};

/// The largest list file read (bytes).
pub const MAX_LIST_BYTES: usize = 8 * 1024 * 1024;
/// Most requirements one list holds.
pub const MAX_REQUIREMENTS: usize = 10_000;
/// Most requirement ids one thread is tagged with.
pub const MAX_TAGS: usize = 20;
const MAX_ID: usize = 100;
const MAX_TITLE: usize = 500;
const MAX_TEXT: usize = 20_000;

/// One requirement. Its members are declared in the canonical order (RFC 8785 sorts keys).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Requirement {
    pub id: String,
    #[serde(default)]
    pub text: String,
    #[serde(default)]
    pub title: String,
}

/// Whether `id` is a requirement id: 1 to 100 characters, none of them white space, a control
/// character or a comma (ids are listed comma- or space-separated in forms).
pub fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.chars().count() <= MAX_ID
        && !id.chars().any(|c| c.is_whitespace() || c.is_control() || c == ',')
}

/// Reads a list from CSV or JSON (told apart by the first character that is not white space).
pub fn parse(bytes: &[u8]) -> Result<Vec<Requirement>, String> {
    if bytes.len() > MAX_LIST_BYTES {
        return Err(format!("the list is larger than {} MiB", MAX_LIST_BYTES / (1024 * 1024)));
    }
    let text = std::str::from_utf8(bytes).map_err(|_| "the list is not UTF-8 text".to_string())?;
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let list = match text.trim_start().chars().next() {
        None => return Err("the list is empty".into()),
        Some('[' | '{') => from_json(text)?,
        Some(_) => from_csv(text)?,
    };
    check(list)
}

fn from_json(text: &str) -> Result<Vec<Requirement>, String> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Document {
        List(Vec<Requirement>),
        Object { requirements: Vec<Requirement> },
    }
    match serde_json::from_str::<Document>(text) {
        Ok(Document::List(list) | Document::Object { requirements: list }) => Ok(list),
        Err(_) => Err("the JSON is not an array of {id, title, text} (or an object with one as `requirements`)".into()),
    }
}

fn from_csv(text: &str) -> Result<Vec<Requirement>, String> {
    let mut reader = csv::ReaderBuilder::new().has_headers(true).flexible(false).from_reader(text.as_bytes());
    let header: Vec<String> = reader
        .headers()
        .map_err(|_| "the CSV has no header".to_string())?
        .iter()
        .map(|h| h.trim().to_ascii_lowercase())
        .collect();
    let column = |name: &str| header.iter().position(|h| h == name);
    let (Some(id), title, text_at) = (column("id"), column("title"), column("text")) else {
        return Err("the CSV header must name the columns id, title and text".into());
    };
    let mut list = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let record = record.map_err(|_| format!("row {} of the CSV is not valid CSV", n + 2))?;
        let cell = |at: Option<usize>| at.and_then(|i| record.get(i)).unwrap_or("").to_string();
        list.push(Requirement { id: cell(Some(id)), title: cell(title), text: cell(text_at) });
    }
    Ok(list)
}

/// Trims each field and checks the list: ids valid and unique, fields within their sizes.
fn check(list: Vec<Requirement>) -> Result<Vec<Requirement>, String> {
    if list.is_empty() {
        return Err("the list holds no requirement".into());
    }
    if list.len() > MAX_REQUIREMENTS {
        return Err(format!("the list holds more than {MAX_REQUIREMENTS} requirements"));
    }
    let mut seen = std::collections::HashSet::new();
    let mut checked = Vec::with_capacity(list.len());
    for (n, requirement) in list.into_iter().enumerate() {
        let at = n + 1;
        let id = requirement.id.trim().to_string();
        if !valid_id(&id) {
            return Err(format!("requirement {at}: an id is 1 to {MAX_ID} characters without spaces or commas"));
        }
        if !seen.insert(id.clone()) {
            return Err(format!("requirement {at}: the id {id} is listed twice"));
        }
        let title = requirement.title.trim().to_string();
        let text = requirement.text.trim().replace("\r\n", "\n");
        if title.chars().count() > MAX_TITLE || text.chars().count() > MAX_TEXT {
            return Err(format!(
                "requirement {at} ({id}): a title is at most {MAX_TITLE} characters and a text {MAX_TEXT}"
            ));
        }
        checked.push(Requirement { id, title, text });
    }
    Ok(checked)
}

/// The canonical form of a list: its RFC 8785 (JCS) serialisation, an array of objects with the
/// members `id`, `text`, `title` in that order, no white space. (For strings only, serde_json's
/// compact output is JCS: it escapes `"`, `\` and control characters, the latter as `\b`, `\f`,
/// `\n`, `\r`, `\t` or lowercase `\u00xx`, and nothing else.)
pub fn canonical(list: &[Requirement]) -> Vec<u8> {
    serde_json::to_vec(list).expect("strings serialise")
}

/// The lowercase hex SHA-256 of the canonical form.
pub fn digest(list: &[Requirement]) -> String {
    crate::builds::sha256_hex(&canonical(list))
}

/// The ids a person typed (comma- or space-separated; duplicates dropped, order kept).
pub fn parse_tags(text: &str) -> Vec<String> {
    let mut tags: Vec<String> = Vec::new();
    for tag in text.split(|c: char| c == ',' || c.is_whitespace()).filter(|t| !t.is_empty()) {
        if !tags.iter().any(|t| t == tag) {
            tags.push(tag.to_string());
        }
    }
    tags
}

/// Checks a thread's tags against the pin's list: each must be listed. Returns them in the list's
/// order, without repeats.
pub fn checked_tags(tags: &[String], list: &[Requirement]) -> Result<Vec<String>, String> {
    if tags.len() > MAX_TAGS {
        return Err(format!("a thread names at most {MAX_TAGS} requirements"));
    }
    for tag in tags {
        if !list.iter().any(|r| r.id == *tag.trim()) {
            return Err(match list.is_empty() {
                true => "this pin has no requirement list; staff import one first".into(),
                false => format!("{} is not in this pin's requirement list", tag.trim()),
            });
        }
    }
    Ok(list.iter().filter(|r| tags.iter().any(|t| t.trim() == r.id)).map(|r| r.id.clone()).collect())
}

/// The lines of a verdict's summary that name the requirement (the id as a whole word: not inside
/// a longer id), trimmed.
pub fn notes_naming<'s>(summary: &'s str, id: &str) -> Vec<&'s str> {
    let part_of_id = |c: char| c.is_alphanumeric() || matches!(c, '_' | '.' | '/' | '-' | '(' | ')');
    summary
        .lines()
        .filter(|line| {
            line.match_indices(id).any(|(at, _)| {
                let before = line[..at].chars().next_back();
                let after = line[at + id.len()..].chars().next();
                // A trailing full stop or parenthesis ends a sentence, not the id.
                let after_ok = match after {
                    None => true,
                    Some('.' | ')') => !line[at + id.len() + 1..].chars().next().is_some_and(|c| c.is_alphanumeric()),
                    Some(c) => !part_of_id(c),
                };
                before.is_none_or(|c| !part_of_id(c)) && after_ok
            })
        })
        .map(str::trim)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_and_json_read_alike_and_hash_canonically() {
        let csv = "\u{feff}id,title,text\r\nFCS_COP.1/AES, AES ,\"Encrypt, decrypt\"\r\nFIA_UAU.2,Auth,\"Line one\nline two\"\r\n";
        let json = r#"{"requirements":[{"title":"AES","id":"FCS_COP.1/AES","text":"Encrypt, decrypt"},
            {"id":"FIA_UAU.2","title":"Auth","text":"Line one\nline two"}]}"#;
        let a = parse(csv.as_bytes()).unwrap();
        let b = parse(json.as_bytes()).unwrap();
        assert_eq!(a, b);
        assert_eq!(
            String::from_utf8(canonical(&a)).unwrap(),
            r#"[{"id":"FCS_COP.1/AES","text":"Encrypt, decrypt","title":"AES"},{"id":"FIA_UAU.2","text":"Line one\nline two","title":"Auth"}]"#
        );
        assert_eq!(digest(&a), crate::builds::sha256_hex(&canonical(&b)));
        // Columns in another order, and a control character escaped as JCS does.
        let swapped = parse(b"text,id,title\n\"a\x01b\",R1,T\n").unwrap();
        assert_eq!(String::from_utf8(canonical(&swapped)).unwrap(), r#"[{"id":"R1","text":"a\u0001b","title":"T"}]"#);
    }

    #[test]
    fn bad_lists_are_refused_with_the_reason() {
        let refused = |text: &str| parse(text.as_bytes()).unwrap_err();
        assert!(refused("").contains("empty"));
        assert!(refused("id,title,text\n").contains("no requirement"));
        assert!(refused("name,title\nx,y\n").contains("header"));
        assert!(refused("id,title,text\nA B,t,x\n").contains("requirement 1"));
        assert!(refused("id,title,text\nA,t,x\nA,u,y\n").contains("listed twice"));
        assert!(refused("[{\"title\":\"no id\"}]").contains("JSON"));
        assert!(refused("[1,2]").contains("JSON"));
        assert!(parse(&[0xff, 0xfe]).unwrap_err().contains("UTF-8"));
    }

    #[test]
    fn tags_are_checked_against_the_list_in_its_order() {
        let list = parse(b"id,title,text\nA.1,a,\nB.2,b,\nC.3,c,\n").unwrap();
        assert_eq!(parse_tags("C.3, A.1 C.3"), vec!["C.3", "A.1"]);
        assert_eq!(checked_tags(&parse_tags("C.3, A.1"), &list).unwrap(), vec!["A.1", "C.3"]);
        assert!(checked_tags(&["Z.9".into()], &list).unwrap_err().contains("Z.9 is not in"));
        assert!(checked_tags(&["A.1".into()], &[]).unwrap_err().contains("no requirement list"));
    }

    #[test]
    fn verdict_notes_name_the_requirement_as_a_whole_id() {
        let summary = "Overall fine.\nFCS_COP.1: AES-GCM correct.\nFCS_COP.1/AES reviewed too.\nSee FCS_COP.1.\n";
        assert_eq!(notes_naming(summary, "FCS_COP.1"), vec!["FCS_COP.1: AES-GCM correct.", "See FCS_COP.1."]);
        assert_eq!(notes_naming(summary, "FCS_COP.1/AES"), vec!["FCS_COP.1/AES reviewed too."]);
        assert!(notes_naming(summary, "FCS_COP").is_empty());
    }
}
