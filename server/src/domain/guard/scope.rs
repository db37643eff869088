//! A grant limited to paths: gitignore-style patterns (`crypto/**`, `!crypto/test/**`, `*.h`),
//! matched with gitignore's own semantics (the `ignore` crate): a pattern without an inner `/`
//! matches at any depth, one with it from the root; a pattern naming a directory covers what it
//! holds; the last pattern that matches a path, or else one of its directories, decides, and a
//! `!` pattern takes the path out. A person's scope at a pin is the union of their active grants'
//! scopes; one grant without patterns is the whole tree.
//!
//! The guard hands every pin-scoped operation its `PathScope` (in `PinPage`); a path outside it
//! answers as a path that does not exist, and the refusal is recorded (`Core::refuse_outside`).

use super::rules::grant_is_active_at;
use crate::store::grants::GrantWindow;
use app::error::{AppError, AppResult};
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use std::sync::Arc;

/// At most this many patterns in one grant.
pub const MAX_PATTERNS: usize = 100;
/// At most this many bytes in one pattern.
const MAX_PATTERN_BYTES: usize = 300;

/// The paths a person may read at a pin.
#[derive(Clone, Default)]
pub struct PathScope {
    /// One matcher per scoped grant, with its patterns; none: the whole tree.
    grants: Vec<(Arc<[String]>, Arc<Gitignore>)>,
}

/// Matchers built from grants' stored patterns, kept: every request at a pin works out its
/// person's scope, and compiling 50 patterns each time costs more than the read it guards.
fn kept_matcher(text: &str) -> Arc<Gitignore> {
    static KEPT: std::sync::OnceLock<std::sync::Mutex<lru::LruCache<String, Arc<Gitignore>>>> =
        std::sync::OnceLock::new();
    let kept =
        KEPT.get_or_init(|| std::sync::Mutex::new(lru::LruCache::new(std::num::NonZeroUsize::MIN.saturating_add(255))));
    if let Some(found) = kept.lock().ok().and_then(|mut kept| kept.get(text).cloned()) {
        return found;
    }
    // Stored patterns were checked when the grant was made; ones that no longer parse (a
    // different matcher) cover nothing rather than everything.
    let built = Arc::new(matcher(&stored_patterns(text)).unwrap_or_else(|_| Gitignore::empty()));
    if let Ok(mut kept) = kept.lock() {
        kept.put(text.to_string(), Arc::clone(&built));
    }
    built
}

impl std::fmt::Debug for PathScope {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PathScope").field("patterns", &self.patterns()).finish()
    }
}

/// A grant's patterns checked and normalised (trimmed, blank lines and `#` comments dropped), or
/// a clear refusal: too many, too long, a control character, a pattern the matcher rejects, or
/// only `!` patterns (which would cover nothing).
pub fn check_patterns(patterns: &[String]) -> AppResult<Vec<String>> {
    let kept: Vec<String> =
        patterns.iter().map(|p| p.trim().to_string()).filter(|p| !p.is_empty() && !p.starts_with('#')).collect();
    if kept.len() > MAX_PATTERNS {
        return Err(AppError::Invalid(format!("a grant takes at most {MAX_PATTERNS} path patterns")));
    }
    for pattern in &kept {
        if pattern.len() > MAX_PATTERN_BYTES || pattern.chars().any(char::is_control) {
            return Err(AppError::Invalid(format!(
                "a path pattern is at most {MAX_PATTERN_BYTES} bytes, without control characters"
            )));
        }
        if pattern.split('/').any(|part| part == "..") {
            return Err(AppError::Invalid("a path pattern cannot name `..`".into()));
        }
    }
    if !kept.is_empty() && kept.iter().all(|p| p.starts_with('!')) {
        return Err(AppError::Invalid("a grant's paths need at least one pattern that is not `!…`".into()));
    }
    matcher(&kept)?;
    Ok(kept)
}

fn matcher(patterns: &[String]) -> AppResult<Gitignore> {
    let mut builder = GitignoreBuilder::new("");
    for pattern in patterns {
        builder.add_line(None, pattern).map_err(|_| AppError::Invalid(format!("{pattern:?} is not a path pattern")))?;
    }
    builder.build().map_err(|_| AppError::Invalid("the path patterns could not be read".into()))
}

/// A grant's stored patterns (one a line) as a list.
pub fn stored_patterns(text: &str) -> Vec<String> {
    text.lines().map(str::to_string).collect()
}

impl PathScope {
    /// Every path.
    pub fn whole() -> PathScope {
        PathScope::default()
    }

    /// No path but the root (patterns that could not be read).
    pub fn nothing() -> PathScope {
        PathScope { grants: vec![(Arc::from(Vec::new()), Arc::new(Gitignore::empty()))] }
    }

    /// The scope of the grants active at `now` (the union of theirs; whole if one has none).
    pub fn of_grants(grants: &[GrantWindow], now: i64) -> PathScope {
        let active: Vec<_> = grants.iter().filter(|grant| grant_is_active_at(grant, now)).collect();
        if active.is_empty() || active.iter().any(|grant| grant.paths.is_none()) {
            return PathScope::whole();
        }
        let mut scope = PathScope::default();
        for grant in active {
            let Some(text) = &grant.paths else { continue };
            scope.grants.push((stored_patterns(text).into(), kept_matcher(text)));
        }
        scope
    }

    /// A scope of one grant's patterns (checked first).
    pub fn of_patterns(patterns: &[String]) -> AppResult<PathScope> {
        let patterns = check_patterns(patterns)?;
        if patterns.is_empty() {
            return Ok(PathScope::whole());
        }
        let matcher = Arc::new(matcher(&patterns)?);
        Ok(PathScope { grants: vec![(patterns.into(), matcher)] })
    }

    pub fn is_whole(&self) -> bool {
        self.grants.is_empty()
    }

    /// The patterns, grant after grant (none when whole).
    pub fn patterns(&self) -> Vec<String> {
        self.grants.iter().flat_map(|(patterns, _)| patterns.iter().cloned()).collect()
    }

    /// Whether a file (any entry that is not a directory) at `path` is in scope (the root always).
    pub fn covers_file(&self, path: &str) -> bool {
        if self.is_whole() {
            return true;
        }
        if path.is_empty() {
            // The root: what a pin-wide comment is anchored to.
            return true;
        }
        if path.starts_with('/') {
            return false;
        }
        self.grants.iter().any(|(_, matcher)| matcher.matched_path_or_any_parents(path, false).is_ignore())
    }

    /// A fingerprint of the patterns, grant by grant, to key what is worked out from them (two
    /// grants are a union, one grant of the same patterns is not: their keys differ).
    pub fn key(&self) -> String {
        self.grants.iter().map(|(patterns, _)| patterns.join("\n")).collect::<Vec<_>>().join("\0")
    }
}

/// The paths in scope at one pin: its files in scope and every directory holding one (the root
/// always). Worked out from the pin's tree, once per pin and scope.
#[derive(Debug, Default)]
pub struct ScopedPaths {
    paths: foldhash::HashSet<String>,
}

impl ScopedPaths {
    /// From every non-directory entry's path at the pin.
    pub fn new(scope: &PathScope, files: &[String]) -> ScopedPaths {
        let mut paths = foldhash::HashSet::default();
        paths.insert(String::new());
        for file in files.iter().filter(|file| scope.covers_file(file)) {
            let mut end = file.len();
            paths.insert(file.clone());
            while let Some(slash) = file[..end].rfind('/') {
                if !paths.insert(file[..slash].to_string()) {
                    break;
                }
                end = slash;
            }
        }
        ScopedPaths { paths }
    }

    /// Whether a path (a file, or a directory: `""` is the root) is in scope.
    pub fn contains(&self, path: &str) -> bool {
        self.paths.contains(path)
    }

    /// The number of paths in scope (files and directories).
    pub fn len(&self) -> usize {
        self.paths.len()
    }

    pub fn is_empty(&self) -> bool {
        self.paths.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(patterns: &[&str]) -> PathScope {
        PathScope::of_patterns(&patterns.iter().map(|p| p.to_string()).collect::<Vec<_>>()).unwrap()
    }

    #[test]
    fn patterns_follow_gitignore() {
        let lab = scope(&["crypto/**", "!crypto/test/**", "*.h"]);
        assert!(lab.covers_file("crypto/aes.c"));
        assert!(lab.covers_file("crypto/sub/gcm.c"));
        assert!(!lab.covers_file("crypto/test/vectors.c"));
        assert!(lab.covers_file("net/socket.h"), "a pattern without a slash matches at any depth");
        assert!(!lab.covers_file("net/socket.c"));
        assert!(!lab.covers_file("cryptography/x.c"));
        // A directory pattern covers what it holds; an anchored one only from the root.
        let dir = scope(&["/src/deep/", "docs"]);
        assert!(dir.covers_file("src/deep/a/b.rs"));
        assert!(!dir.covers_file("other/src/deep/a.rs"));
        assert!(dir.covers_file("x/docs/readme.md"));
        assert!(!dir.covers_file("src/shallow.rs"));
        assert!(PathScope::whole().covers_file("anything"));
    }

    #[test]
    fn bad_patterns_are_refused_clearly() {
        let refused = |patterns: &[&str]| {
            PathScope::of_patterns(&patterns.iter().map(|p| p.to_string()).collect::<Vec<_>>()).unwrap_err()
        };
        assert!(matches!(refused(&["!crypto/**"]), AppError::Invalid(_)));
        assert!(matches!(refused(&["a\u{7}b"]), AppError::Invalid(_)));
        assert!(matches!(refused(&["../etc/**"]), AppError::Invalid(_)));
        assert!(matches!(refused(&["src/[z-a]"]), AppError::Invalid(_)));
        assert!(matches!(refused(&vec!["a"; MAX_PATTERNS + 1]), AppError::Invalid(_)));
        // Blank lines and comments are dropped; nothing left is the whole tree.
        assert!(scope(&["", "# all of it"]).is_whole());
        assert_eq!(check_patterns(&[" crypto/** ".into(), "".into()]).unwrap(), vec!["crypto/**"]);
    }

    fn window(paths: Option<&str>, ends_at: i64) -> GrantWindow {
        GrantWindow { id: 1, pin_id: 1, starts_at: 0, ends_at, revoked_at: None, paths: paths.map(Into::into) }
    }

    #[test]
    fn a_persons_scope_is_the_union_of_their_active_grants() {
        let both = PathScope::of_grants(&[window(Some("crypto/**"), 10), window(Some("net/**"), 10)], 5);
        assert!(both.covers_file("crypto/a.c") && both.covers_file("net/b.c") && !both.covers_file("ui/c.c"));
        // An unscoped active grant is the whole tree; an ended scoped one does not narrow it.
        assert!(PathScope::of_grants(&[window(Some("crypto/**"), 10), window(None, 10)], 5).is_whole());
        // The order of one grant's patterns decides; two grants are a union.
        let (a, b) = ("secret/a/**", "**\n!secret/**");
        let two = PathScope::of_grants(&[window(Some(a), 10), window(Some(b), 10)], 5);
        let one = PathScope::of_grants(&[window(Some(format!("{a}\n{b}").as_str()), 10)], 5);
        assert!(two.covers_file("secret/a/x.c") && !one.covers_file("secret/a/x.c"));
        assert_ne!(two.key(), one.key(), "what is kept for one is never given to the other");
        let ended = PathScope::of_grants(&[window(Some("crypto/**"), 10), window(Some("net/**"), 4)], 5);
        assert!(!ended.covers_file("net/b.c"));
        assert_eq!(ended.patterns(), vec!["crypto/**"]);
    }

    #[test]
    fn directories_holding_files_in_scope_are_in_scope() {
        let files: Vec<String> =
            ["crypto/aes.c", "crypto/test/t.c", "net/a.c", "README"].iter().map(|f| f.to_string()).collect();
        let paths = ScopedPaths::new(&scope(&["crypto/**", "!crypto/test/**"]), &files);
        assert!(paths.contains("") && paths.contains("crypto") && paths.contains("crypto/aes.c"));
        for outside in ["crypto/test", "crypto/test/t.c", "net", "net/a.c", "README", "crypto/missing.c"] {
            assert!(!paths.contains(outside), "{outside}");
        }
    }
}
