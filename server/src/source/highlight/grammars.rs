//! Which grammar highlights a file: syntect's defaults and our own (`syntaxes/`), chosen by the
//! file's extension or whole name, else by its first line. It never reads more of a file than its
//! first line's first 256 bytes.

use super::Highlighter;
use syntect::parsing::{SyntaxReference, SyntaxSet};

/// Our own grammars, added to syntect's defaults (which have none for these).
const OWN_SYNTAXES: [&str; 1] = [include_str!("syntaxes/TOML.sublime-syntax")];

/// Files whose whole name says their grammar where the extension does not (a `.lock` file may be
/// TOML, JSON or neither).
const BY_WHOLE_NAME: [(&str, &str); 6] = [
    ("Cargo.lock", "toml"),
    ("poetry.lock", "toml"),
    ("uv.lock", "toml"),
    ("Pipfile", "toml"),
    ("composer.lock", "json"),
    ("flake.lock", "json"),
];

/// syntect's default grammars with ours, linked once per process (a few hundred milliseconds).
pub(super) fn syntaxes() -> SyntaxSet {
    static SET: std::sync::OnceLock<SyntaxSet> = std::sync::OnceLock::new();
    SET.get_or_init(|| {
        let mut builder = SyntaxSet::load_defaults_newlines().into_builder();
        for source in OWN_SYNTAXES {
            let syntax = syntect::parsing::SyntaxDefinition::load_from_str(source, true, None)
                .expect("our own grammars are valid (a unit test loads them)");
            builder.add(syntax);
        }
        builder.build()
    })
    .clone()
}

impl Highlighter {
    /// The grammar for a file: by its extension or name, else by its first line (only its first
    /// 256 bytes are looked at: a grammar's first-line pattern on a megabyte line costs seconds).
    pub(in crate::source) fn syntax_for(&self, file_name: &str, text: &str) -> Option<&SyntaxReference> {
        self.syntax_by_name(file_name)
            .or_else(|| {
                let first = text.lines().next().unwrap_or("");
                let mut end = first.len().min(256);
                while !first.is_char_boundary(end) {
                    end -= 1;
                }
                self.syntaxes.find_syntax_by_first_line(&first[..end])
            })
            .filter(|s| s.name != "Plain Text")
    }

    /// The grammar a file's name alone decides (its extension, or its whole name: `Makefile`).
    pub(in crate::source) fn syntax_by_name(&self, file_name: &str) -> Option<&SyntaxReference> {
        let extension = BY_WHOLE_NAME
            .iter()
            .find(|(name, _)| *name == file_name)
            .map(|(_, extension)| *extension)
            .unwrap_or_else(|| file_name.rsplit_once('.').map(|(_, e)| e).unwrap_or(file_name));
        self.syntaxes
            .find_syntax_by_extension(extension)
            .or_else(|| self.syntaxes.find_syntax_by_extension(file_name))
            .filter(|s| s.name != "Plain Text")
    }
}
