//! The CWE list a finding is classified against: MITRE's CWE 4.14, shipped in the repository
//! (`server/cwe/`, with its terms of use) and embedded, so that checking an id and naming it need
//! no network. Parsed once, on first use.

use app::error::AppError;
use app::model::Weakness;
use std::collections::BTreeMap;
use std::sync::OnceLock;

/// The CWE version of the embedded list.
pub const VERSION: &str = "4.14";

/// Most CWE ids one finding carries.
pub const MAX_PER_FINDING: usize = 8;

const LIST: &str = include_str!("../../cwe/cwe-4.14.csv");

/// Every weakness of the list by id: its name.
pub fn list() -> &'static BTreeMap<u32, String> {
    static PARSED: OnceLock<BTreeMap<u32, String>> = OnceLock::new();
    PARSED.get_or_init(|| {
        let mut reader = csv::Reader::from_reader(LIST.as_bytes());
        reader
            .records()
            .map(|record| {
                let record = record.expect("the embedded CWE list is CSV");
                let id = record[0].parse::<u32>().expect("the embedded CWE list's ids are numbers");
                (id, record[1].to_string())
            })
            .collect()
    })
}

/// A weakness by id, with its name, when the list has it.
pub fn weakness(id: u32) -> Option<Weakness> {
    list().get(&id).map(|name| Weakness { id, name: name.clone() })
}

/// One id as written: `79` or `CWE-79` (any case, spaces around).
pub fn parse_id(text: &str) -> Result<u32, AppError> {
    let text = text.trim();
    let digits = text.get(..4).filter(|p| p.eq_ignore_ascii_case("cwe-")).map_or(text, |_| &text[4..]);
    digits.parse::<u32>().map_err(|_| AppError::Invalid(format!("{text:?} is not a CWE id (write 79 or CWE-79)")))
}

/// A finding's CWE ids: each in the list, none twice, at most `MAX_PER_FINDING`; sorted.
pub fn checked(ids: &[u32]) -> Result<Vec<u32>, AppError> {
    if ids.len() > MAX_PER_FINDING {
        return Err(AppError::Invalid(format!("a finding carries at most {MAX_PER_FINDING} CWE ids")));
    }
    let mut sorted = ids.to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    match sorted.iter().find(|id| !list().contains_key(id)) {
        Some(id) => Err(AppError::Invalid(format!("CWE-{id} is not a weakness of the CWE {VERSION} list"))),
        None => Ok(sorted),
    }
}

/// Ids as stored (`79,787`, or nothing).
pub fn stored(ids: &[u32]) -> Option<String> {
    (!ids.is_empty()).then(|| ids.iter().map(u32::to_string).collect::<Vec<_>>().join(","))
}

/// Ids as stored, read back (an id the list lacks, from a newer list, is kept without a name).
pub fn from_stored(text: Option<&str>) -> Vec<Weakness> {
    text.unwrap_or_default()
        .split(',')
        .filter_map(|id| id.trim().parse::<u32>().ok())
        .map(|id| weakness(id).unwrap_or(Weakness { id, name: String::new() }))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_list_names_well_known_weaknesses() {
        assert_eq!(list().len(), 963);
        assert_eq!(weakness(787).unwrap().name, "Out-of-bounds Write");
        assert!(weakness(79).unwrap().name.starts_with("Improper Neutralization of Input During Web Page Generation"));
        assert!(weakness(1).is_none(), "CWE-1 is a view, not a weakness");
    }

    #[test]
    fn ids_are_read_checked_and_stored() {
        assert_eq!(parse_id(" CWE-79 ").unwrap(), 79);
        assert_eq!(parse_id("cwe-787").unwrap(), 787);
        assert_eq!(parse_id("20").unwrap(), 20);
        assert!(parse_id("CWE-").is_err() && parse_id("seventy").is_err());
        assert_eq!(checked(&[787, 79, 787]).unwrap(), [79, 787]);
        assert_eq!(checked(&[99_999]).unwrap_err().to_string(), "CWE-99999 is not a weakness of the CWE 4.14 list");
        assert!(checked(&[20, 22, 78, 79, 89, 94, 119, 120, 125]).is_err(), "nine is too many");
        assert_eq!(stored(&[79, 787]).as_deref(), Some("79,787"));
        assert_eq!(stored(&[]), None);
        let back = from_stored(Some("79,787"));
        assert_eq!(back.iter().map(|w| w.id).collect::<Vec<_>>(), [79, 787]);
        assert!(from_stored(None).is_empty());
    }
}
