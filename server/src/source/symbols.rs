//! Definitions in a pin, found without a compiler, as Sourcegraph's and OpenGrok's search-based
//! navigation does: the tokens syntect's grammars scope as `entity.name.*` (a function's, a type's,
//! a module's name where it is declared). A background job reads every text file of a pin once,
//! through a whole-pin receipt, and the domain stores what it finds.

use super::highlight::Highlighter;
use super::{PinLocation, Result, Source, SourceError};
use crate::audit::Receipt;
use crate::config::SourceLimits;
use std::collections::HashMap;
use std::sync::Arc;
use syntect::parsing::{Scope, ScopeStack};

/// A definition: its name, what it defines, and the line it is on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Definition {
    pub path: String,
    /// The file's blob: with the path, what decides its definitions (`store::definitions`).
    pub blob_id: String,
    pub name: String,
    pub kind: String,
    pub line: u32,
}

/// The kinds of `entity.name.<kind>` scopes that name a definition (not, say, an HTML tag).
const KINDS: &[&str] = &[
    "function",
    "type",
    "class",
    "struct",
    "enum",
    "trait",
    "union",
    "namespace",
    "module",
    "constant",
    "macro",
    "interface",
    "impl",
];

fn identifier(text: &str) -> bool {
    !text.is_empty()
        && text.len() <= 128
        && text.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '$')
        && !text.starts_with(|c: char| c.is_ascii_digit())
}

/// A definition in one file: its name, what it defines (one of `KINDS`), and its line.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Defined {
    pub name: String,
    pub kind: &'static str,
    pub line: u32,
}

impl Defined {
    /// A definition read back (from the highlight cache); `None` for a kind that is not one of ours.
    pub fn new(name: String, kind: &str, line: u32) -> Option<Defined> {
        Some(Defined { name, kind: KINDS.iter().find(|k| **k == kind)?, line })
    }
}

/// Finds definitions among a file's tokens as the parser scopes them: a token that is an
/// identifier under an `entity.name.<kind>` scope of one of `KINDS`.
#[derive(Default)]
pub struct Finder {
    kinds: HashMap<Scope, Option<&'static str>>,
    pub found: Vec<Defined>,
}

impl Finder {
    /// Looks at one token (a run of text under one scope stack) of line `line`.
    pub fn token(&mut self, stack: &ScopeStack, text: &str, line: u32) {
        let token = text.trim();
        if !identifier(token) {
            return;
        }
        let kinds = &mut self.kinds;
        let kind = stack.as_slice().iter().rev().find_map(|scope| {
            *kinds.entry(*scope).or_insert_with(|| {
                let name = scope.build_string();
                let mut atoms = name.split('.');
                match (atoms.next(), atoms.next(), atoms.next()) {
                    (Some("entity"), Some("name"), Some(kind)) => KINDS.iter().find(|k| **k == kind).copied(),
                    _ => None,
                }
            })
        });
        if let Some(kind) = kind {
            self.found.push(Defined { name: token.to_string(), kind, line });
        }
    }
}

impl Highlighter {
    /// The definitions in one file (nothing past the highlighting size cap or time budget), found
    /// as pre-highlighting finds them, in the parse that highlights the file.
    pub fn definitions(&self, path: &str, blob_id: &str, text: &str, limits: &SourceLimits) -> Vec<Definition> {
        let file_name = path.rsplit('/').next().unwrap_or(path);
        let syntax = self.syntax_within_cap(file_name, text, text.len() as u64, limits);
        let found = self.highlight_finding_definitions(syntax, text, limits).definitions.unwrap_or_default();
        found
            .into_iter()
            .map(|d| Definition {
                path: path.to_string(),
                blob_id: blob_id.to_string(),
                name: d.name,
                kind: d.kind.to_string(),
                line: d.line,
            })
            .collect()
    }
}

impl Source {
    /// Every definition in the pin's text files, parsed on both cores (each thread with its own
    /// repository handle). The receipt must cover the whole pin.
    pub async fn extract_definitions(self: &Arc<Self>, receipt: &Receipt, at: &PinLocation) -> Result<Vec<Definition>> {
        if !receipt.covers_whole(at.pin) {
            return Err(SourceError::WrongReceipt);
        }
        let tree_id = at.tree_id.clone();
        let repository = at.repository.clone();
        let this = Arc::clone(self);
        tokio::task::spawn_blocking(move || {
            let files = this.pool.with(&repository, |repo| {
                let root = repo.find_tree(git2::Oid::from_str(&tree_id)?)?;
                let odb = repo.odb()?;
                let mut files = Vec::new();
                root.walk(git2::TreeWalkMode::PreOrder, |dir, entry| {
                    let small = odb
                        .read_header(entry.id())
                        .is_ok_and(|(size, _)| size as u64 <= this.limits.highlight_max_bytes);
                    if entry.kind() == Some(git2::ObjectType::Blob) && entry.filemode() != 0o120000 && small {
                        files.push((format!("{dir}{}", String::from_utf8_lossy(entry.name_bytes())), entry.id()));
                    }
                    git2::TreeWalkResult::Ok
                })?;
                Ok(files)
            })?;
            let halves: Vec<&[(String, git2::Oid)]> = files.chunks(files.len().div_ceil(2).max(1)).collect();
            let parsed: Vec<Result<Vec<Definition>>> = std::thread::scope(|scope| {
                let workers: Vec<_> = halves
                    .into_iter()
                    .map(|half| {
                        let this = &this;
                        let repository = &repository;
                        scope.spawn(move || {
                            this.pool.with(repository, |repo| {
                                let mut found = Vec::new();
                                for (path, id) in half {
                                    let blob = repo.find_blob(*id)?;
                                    if !blob.is_binary() {
                                        let text = String::from_utf8_lossy(blob.content());
                                        found.extend(this.highlighter.definitions(
                                            path,
                                            &id.to_string(),
                                            &text,
                                            &this.limits,
                                        ));
                                    }
                                }
                                Ok(found)
                            })
                        })
                    })
                    .collect();
                workers.into_iter().map(|w| w.join().unwrap_or_else(|_| Ok(Vec::new()))).collect()
            });
            let mut definitions = Vec::new();
            for part in parsed {
                definitions.extend(part?);
            }
            Ok(definitions)
        })
        .await?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn functions_and_types_are_found_where_they_are_declared() {
        let text =
            "struct Ledger {\n    total: u64,\n}\n\nfn settle(ledger: &Ledger) -> u64 {\n    helper(ledger.total)\n}\n";
        let found = Highlighter::default().definitions("src/ledger.rs", "0123", text, &SourceLimits::default());
        let names: Vec<(&str, &str, u32)> = found.iter().map(|d| (d.name.as_str(), d.kind.as_str(), d.line)).collect();
        assert!(names.contains(&("Ledger", "struct", 1)), "{names:?}");
        assert!(names.contains(&("settle", "function", 5)), "{names:?}");
        assert!(!names.iter().any(|(n, _, _)| *n == "helper"), "a call is not a definition: {names:?}");
    }

    #[test]
    fn c_functions_are_found_too() {
        let text = "static int add(int a, int b) {\n    return a + b;\n}\n";
        let found = Highlighter::default().definitions("add.c", "0123", text, &SourceLimits::default());
        assert!(found.iter().any(|d| d.name == "add" && d.line == 1), "{found:?}");
    }
}
