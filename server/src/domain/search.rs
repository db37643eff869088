//! Searching a pin, finding its files, looking up a symbol, and fetching new commits into a
//! repository. A search records its query before any blob is read (a receipt for "search pin P for
//! Q"), then the files and lines the page shows before it is sent.

use super::guard::{require, Actor, Permission};
use super::Search;
use crate::audit::Action;
use crate::audit::{Query, Scope};
use crate::source::{Cursor, FileSet, PackedFile, SearchHit, SearchRequest, Totals};
use app::error::{AppError, AppResult};
use app::model::*;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Longest query accepted.
const MAX_QUERY: usize = 1000;
/// Files the finder offers at most.
const FOUND_FILES: usize = 50;

/// The pattern a query asks for: an escaped literal or a regular expression, case as asked.
pub fn compile(query: &SearchQuery) -> AppResult<regex::bytes::Regex> {
    let text = query.q.as_str();
    if text.trim().is_empty() {
        return Err(AppError::Invalid("type something to search for".into()));
    }
    if text.chars().count() > MAX_QUERY {
        return Err(AppError::Invalid(format!("a query is at most {MAX_QUERY} characters")));
    }
    let pattern = if query.regex { text.to_string() } else { regex::escape(text) };
    regex::bytes::RegexBuilder::new(&pattern)
        .case_insensitive(!query.case)
        .multi_line(true)
        .size_limit(20 * 1024 * 1024)
        .dfa_size_limit(20 * 1024 * 1024)
        .build()
        .map_err(|error| AppError::Invalid(format!("not a valid regular expression: {error}")))
}

fn path_glob(query: &SearchQuery) -> AppResult<Option<globset::GlobMatcher>> {
    match query.path.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
        None => Ok(None),
        Some(glob) => globset::GlobBuilder::new(glob)
            .literal_separator(false)
            .build()
            .map(|g| Some(g.compile_matcher()))
            .map_err(|error| AppError::Invalid(format!("not a valid path pattern: {error}"))),
    }
}

/// A search's totals are kept by what decides them: the pin, the pattern, letter case, lines or
/// not, the paths asked for, and the searcher's scope (its patterns).
pub type TotalsKey = (i64, String, bool, bool, Option<String>, String);

/// What the first page of a search counted: its totals, and the files that match (numbered in
/// the pin's search pack) when it counted them there exactly, so that later pages read only those.
#[derive(Clone)]
pub struct Counted {
    totals: Totals,
    matching: Option<Arc<FileSet>>,
}

/// Which lines of a matching file a search answers with (and records).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lines {
    /// The matching lines and the lines around them, as the page shows them.
    WithContext,
    /// The matching lines alone, as the API sends them.
    MatchesOnly,
}

fn shown_ranges(hit: &SearchHit) -> Vec<LineRange> {
    let mut ranges: Vec<LineRange> = Vec::new();
    for line in &hit.lines {
        match ranges.last_mut() {
            Some(last) if last.last + 1 >= line.number => last.last = last.last.max(line.number),
            _ => ranges.push(LineRange { first: line.number, last: line.number }),
        }
    }
    ranges
}

impl Search<'_> {
    /// Runs a search through its receipt: over the pin's search pack once the pin is indexed, else
    /// over the repository's blobs.
    async fn search_pin(
        &self,
        receipt: &crate::audit::Receipt,
        access: &super::guard::PinPage,
        request: SearchRequest,
    ) -> AppResult<crate::source::SearchOutcome> {
        let (files, indexed, _) = self.indexed_files(access.pin()).await?;
        if indexed {
            let packed: Vec<PackedFile> = files
                .iter()
                .filter_map(|f| {
                    f.text.map(|(offset, length)| PackedFile {
                        path: f.path.clone(),
                        blob_id: f.blob_id.clone(),
                        offset,
                        length,
                    })
                })
                .collect();
            // The pack is on the data volume of the instance that indexed the pin; an instance
            // without it searches the repository instead.
            let packed = Arc::new(packed);
            if let Some(outcome) = self.source.search_pack(receipt, &access.location(), packed, request.clone()).await?
            {
                return Ok(outcome);
            }
        }
        Ok(self.source.search(receipt, &access.location(), request).await?)
    }

    /// Searches a pin. The query is recorded before any blob is read; the files and lines the
    /// answer holds are recorded before they are returned: with `Lines::WithContext` (the page)
    /// the lines around each match too, with `Lines::MatchesOnly` (the API) only the matching ones.
    pub async fn search(
        &self,
        actor: Actor<'_>,
        pin: PinId,
        query: &SearchQuery,
        files_per_page: usize,
        lines: Lines,
    ) -> AppResult<SearchView> {
        let pattern = compile(query)?;
        let paths = path_glob(query)?;
        let from = match query.cursor.as_deref().filter(|c| !c.is_empty()) {
            None => None,
            Some(text) => Some(
                Cursor::decode(text)
                    .ok_or_else(|| AppError::Invalid("not a search cursor: start again from the first page".into()))?,
            ),
        };
        let caller = match &actor {
            Actor::Web(caller) => *caller,
            _ => return Err(AppError::Forbidden("searches are made by people".into())),
        };
        let identity = super::guard::signed_in(caller)?.clone();
        let access = self.pin_access(&actor, pin).await?;
        let recorded = Query {
            kind: match (query.regex, query.multiline) {
                (false, _) => "text",
                (true, false) => "regex",
                (true, true) => "regex-multiline",
            },
            text: query.q.clone(),
            case: query.case,
            path: query.path.clone().filter(|p| !p.trim().is_empty()),
        };
        let event = actor
            .event(Action::SearchRun)
            .on(access.object(&RepoPath::root()).shown(&access.record.tree_id))
            .query(recorded.clone());
        let receipt = self.read(event, Scope::Search(pin)).await?;
        let started = Instant::now();
        let multiline = query.regex && query.multiline;
        let scope = self.scope_filter(&access).await?;
        let key: TotalsKey =
            (pin.get(), pattern.as_str().to_string(), query.case, multiline, recorded.path.clone(), access.scope.key());
        let known = self.caches.search_totals.lock().expect("cache lock").get(&key).cloned();
        let request = SearchRequest {
            pattern,
            paths,
            scope: scope.search_filter(),
            from: from.clone(),
            want_files: files_per_page,
            lines_per_file: if query.all_lines { SEARCH_ALL_LINES } else { SEARCH_LINES },
            continue_in_file: query.all_lines,
            multiline,
            count: known.is_none(),
            within: known.as_ref().and_then(|k| k.matching.clone()),
            highlight: lines == Lines::WithContext,
            budget: Duration::from_millis(self.source.limits().search_budget_ms),
        };
        let mut outcome = self.search_pin(&receipt, &access, request).await?;
        let totals = match (known, outcome.totals) {
            (Some(known), _) => known.totals,
            (None, Some(totals)) => {
                let matching = outcome.matching.take().map(Arc::new);
                self.caches.search_totals.lock().expect("cache lock").put(key, Counted { totals, matching });
                totals
            }
            (None, None) => Totals::default(),
        };
        if lines == Lines::MatchesOnly {
            for hit in &mut outcome.hits {
                hit.lines.retain(|line| !line.matches.is_empty());
            }
        }
        let mut results = actor.event(Action::SearchResults).query(recorded).with(json!({
            "files": outcome.hits.len(),
            "truncated": outcome.timed_out,
            "from": from.map(|c| json!({ "path": c.path, "line": c.line })),
            "total": { "files": totals.files, "lines": totals.lines, "exact": totals.exact },
        }));
        for hit in &outcome.hits {
            let path = RepoPath::parse(&hit.path)?;
            for range in shown_ranges(hit) {
                results = results.on(access.object(&path).shown(&hit.blob_id).lines(range));
            }
        }
        if outcome.hits.is_empty() {
            results = results.on(access.object(&RepoPath::root()));
        }
        self.record(results).await?;
        Ok(SearchView {
            pin: self.pin_summary(&access).await?,
            query: query.clone(),
            results: outcome
                .hits
                .into_iter()
                .map(|hit| FileMatches {
                    path: hit.path,
                    more_lines: hit.more_lines,
                    continues: hit.resume.is_some(),
                    lines: hit
                        .lines
                        .into_iter()
                        .map(|l| MatchLine { line: l.number, text: l.text, matches: l.matches, html: l.html })
                        .collect(),
                })
                .collect(),
            truncated: outcome.timed_out,
            next: outcome.next.as_ref().map(Cursor::encode),
            totals: SearchTotals { files: totals.files, lines: totals.lines, exact: totals.exact },
            files_searched: outcome.files_searched,
            elapsed_ms: started.elapsed().as_millis() as u64,
            watermark: Watermark {
                username: identity.username,
                role: identity.role,
                session: caller.session.clone(),
                at_ms: self.clock.now_ms(),
            },
        })
    }

    /// The pin's files whose paths match `query` fuzzily, best first (from the pin's index). The
    /// query and the paths offered are recorded.
    pub async fn find_files(&self, actor: Actor<'_>, pin: PinId, query: &str) -> AppResult<Vec<FoundFile>> {
        let query = query.trim();
        if query.chars().count() > 200 {
            return Err(AppError::Invalid("a file name query is at most 200 characters".into()));
        }
        let access = self.pin_access(&actor, pin).await?;
        let (files, _, _) = self.indexed_files(pin).await?;
        let scope = self.scope_filter(&access).await?;
        let found = tokio::task::spawn_blocking({
            let query = query.to_string();
            move || {
                use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
                let mut matcher = nucleo_matcher::Matcher::new(nucleo_matcher::Config::DEFAULT.match_paths());
                let pattern = Pattern::parse(&query, CaseMatching::Smart, Normalization::Smart);
                let mut buffer = Vec::new();
                let mut scored: Vec<(u32, usize)> = files
                    .iter()
                    .enumerate()
                    .filter(|(_, f)| scope.keep(&f.path))
                    .filter_map(|(i, f)| {
                        pattern.score(nucleo_matcher::Utf32Str::new(&f.path, &mut buffer), &mut matcher).map(|s| (s, i))
                    })
                    .collect();
                scored.sort_by(|a, b| b.0.cmp(&a.0).then(files[a.1].path.len().cmp(&files[b.1].path.len())));
                scored
                    .into_iter()
                    .take(FOUND_FILES)
                    .map(|(_, i)| {
                        let mut positions = Vec::new();
                        pattern.indices(
                            nucleo_matcher::Utf32Str::new(&files[i].path, &mut buffer),
                            &mut matcher,
                            &mut positions,
                        );
                        positions.sort_unstable();
                        positions.dedup();
                        FoundFile { path: files[i].path.clone(), positions }
                    })
                    .collect::<Vec<_>>()
            }
        })
        .await
        .map_err(|e| super::error::internal(&e))?;
        let mut event = actor
            .event(Action::FilesFind)
            .query(Query { kind: "path", text: query.to_string(), case: false, path: None })
            .on(access.object(&RepoPath::root()));
        for file in &found {
            event = event.on(access.object(&RepoPath::parse(&file.path)?));
        }
        self.record(event).await?;
        Ok(found)
    }

    /// A symbol's likely definitions (from the pin's definitions) and references (a whole-word
    /// search), recorded like a search.
    pub async fn symbol(&self, actor: Actor<'_>, pin: PinId, name: &str) -> AppResult<SymbolView> {
        let name = name.trim();
        if name.is_empty()
            || name.chars().count() > 128
            || !name.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '$')
        {
            return Err(AppError::Invalid("a symbol is a name made of letters, digits and '_'".into()));
        }
        let access = self.pin_access(&actor, pin).await?;
        let progress = self.definitions_progress(pin).await?;
        let recorded = Query { kind: "symbol", text: name.to_string(), case: true, path: None };
        let event = actor
            .event(Action::SymbolLookup)
            .on(access.object(&RepoPath::root()).shown(&access.record.tree_id))
            .query(recorded.clone());
        let receipt = self.read(event, Scope::Search(pin)).await?;
        let pattern = regex::bytes::Regex::new(&format!(r"\b{}\b", regex::escape(name)))
            .map_err(|e| super::error::internal(&e))?;
        let scope = self.scope_filter(&access).await?;
        let request = SearchRequest {
            pattern,
            paths: None,
            scope: scope.search_filter(),
            from: None,
            want_files: 30,
            lines_per_file: 5,
            continue_in_file: false,
            multiline: false,
            count: false,
            within: None,
            highlight: false,
            budget: Duration::from_millis(self.source.limits().search_budget_ms.min(2_000)),
        };
        let outcome = self.search_pin(&receipt, &access, request).await?;
        let definitions: Vec<SymbolSite> = self
            .store
            .symbol_sites(pin.get(), name)
            .await?
            .into_iter()
            .filter(|(_, path, _)| scope.keep(path))
            .map(|(kind, path, line)| {
                let text = outcome
                    .hits
                    .iter()
                    .find(|h| h.path == path)
                    .and_then(|h| h.lines.iter().find(|l| l.number == line))
                    .map(|l| l.text.clone())
                    .unwrap_or_default();
                SymbolSite { path, line, kind, text }
            })
            .collect();
        let references: Vec<SymbolSite> = outcome
            .hits
            .iter()
            .flat_map(|hit| {
                hit.lines.iter().filter(|l| !l.matches.is_empty()).map(|l| SymbolSite {
                    path: hit.path.clone(),
                    line: l.number,
                    kind: "reference".into(),
                    text: l.text.clone(),
                })
            })
            .filter(|r| !definitions.iter().any(|d| d.path == r.path && d.line == r.line))
            .collect();
        let mut shown = actor.event(Action::SymbolResults).query(recorded).on(access.object(&RepoPath::root()));
        for site in definitions.iter().chain(&references) {
            let path = RepoPath::parse(&site.path)?;
            let blob = outcome.hits.iter().find(|h| h.path == site.path).map(|h| h.blob_id.clone());
            let mut object = access.object(&path).lines(LineRange { first: site.line.max(1), last: site.line.max(1) });
            object.blob = blob;
            shown = shown.on(object);
        }
        self.record(shown).await?;
        Ok(SymbolView { pin, name: name.to_string(), definitions, references, indexing: !progress.finished })
    }

    /// Fetches new commits into a repository from where it was imported, recording the refs that
    /// moved; pinned commits keep their objects.
    pub async fn fetch_repository(
        &self,
        actor: Actor<'_>,
        name: &str,
    ) -> AppResult<Vec<(String, Option<String>, String)>> {
        require(&actor, Permission::Administer)?;
        let repository = self
            .store
            .repository_by_name(name)
            .await?
            .ok_or_else(|| AppError::NotFound(format!("there is no repository named {name}")))?;
        let from = self
            .admin()
            .checked_source(&repository)
            .map_err(|reason| AppError::Invalid(format!("could not fetch from {}: {reason}", repository.source)))?;
        let moved = self.source.fetch(&repository.name, &from).await.map_err(|error| {
            tracing::warn!(error = %crate::error_chain(&error), "fetching a repository failed");
            AppError::Invalid(format!(
                "could not fetch from {}: the source must be a git repository this server can read",
                repository.source
            ))
        })?;
        let refs: Vec<_> = moved.iter().map(|(r, old, new)| json!({ "ref": r, "old": old, "new": new })).collect();
        self.write(async |tx| {
            let event = actor
                .event(Action::RepoFetch)
                .with(json!({ "repository": repository.name, "source": repository.source, "moved": refs }));
            tx.append(&event).await?;
            Ok(())
        })
        .await?;
        Ok(moved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(q: &str, regex: bool, case: bool) -> SearchQuery {
        SearchQuery { q: q.into(), regex, case, multiline: false, path: None, cursor: None, all_lines: false }
    }

    #[test]
    fn a_literal_query_is_escaped_and_case_is_optional() {
        let literal = compile(&query("a.b(", false, false)).unwrap();
        assert!(literal.is_match(b"x A.B( y"));
        assert!(!literal.is_match(b"axb("));
        let exact = compile(&query("Total", false, true)).unwrap();
        assert!(!exact.is_match(b"total"));
    }

    #[test]
    fn an_invalid_pattern_says_why() {
        let error = compile(&query("fn (", true, false)).unwrap_err();
        assert_eq!(error.status(), 400);
        assert!(error.to_string().contains("unclosed group"), "{error}");
        assert!(compile(&query("   ", false, false)).is_err());
        assert!(path_glob(&SearchQuery { path: Some("src/[".into()), ..query("x", false, false) }).is_err());
    }

    #[test]
    fn a_files_exact_glob_matches_that_file_alone() {
        for path in ["data/big.py", "src/a[1]*.rs", "odd/{x,y}?!\\z.c"] {
            let glob = app::model::exact_glob(path);
            let matcher = path_glob(&SearchQuery { path: Some(glob.clone()), ..query("x", false, false) })
                .unwrap()
                .expect("a glob");
            assert!(matcher.is_match(path), "{glob} matches {path}");
        }
        let glob = app::model::exact_glob("src/a[1]*.rs");
        let matcher = path_glob(&SearchQuery { path: Some(glob), ..query("x", false, false) }).unwrap().unwrap();
        assert!(!matcher.is_match("src/a1.rs") && !matcher.is_match("src/a[1]x.rs"));
    }
}
