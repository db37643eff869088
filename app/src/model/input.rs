//! The newtypes that parse user input (parse, don't validate), the roles, and who is calling.
//!
//! Each newtype has one `parse` with a unit test per rule; the rest of the code takes the parsed
//! type, so an unchecked path or id cannot reach the domain.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A role decides what a signed-in person may do; grants narrow what a reviewer may see.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
#[serde(rename_all = "lowercase")]
pub enum Role {
    Staff,
    Reviewer,
    Regulator,
    /// A CI system or an independent rebuilder: records builds through an API token, reads no
    /// source, comments or grants.
    Builder,
    /// An outside organisation that authorises releases: reads the audit log and the review
    /// records, and, like a regulator, no source without a grant; comments on nothing.
    Supervisor,
}

impl Role {
    pub fn parse(text: &str) -> Result<Role, InputError> {
        match text {
            "staff" => Ok(Role::Staff),
            "reviewer" => Ok(Role::Reviewer),
            "regulator" => Ok(Role::Regulator),
            "builder" => Ok(Role::Builder),
            "supervisor" => Ok(Role::Supervisor),
            _ => Err(InputError("role must be staff, reviewer, regulator, builder or supervisor")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Staff => "staff",
            Role::Reviewer => "reviewer",
            Role::Regulator => "regulator",
            Role::Builder => "builder",
            Role::Supervisor => "supervisor",
        }
    }

    pub const ALL: [Role; 5] = [Role::Staff, Role::Reviewer, Role::Regulator, Role::Builder, Role::Supervisor];

    /// Whether the role oversees reviews from outside (regulators, supervisors): every pin's
    /// review records and the audit log, source only with a grant, no part in the review itself.
    pub fn oversees(self) -> bool {
        matches!(self, Role::Regulator | Role::Supervisor)
    }
}

/// What an API token may be used for. A token never reads source (that is done in the browser,
/// under a session, view by view) and never administers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum Scope {
    /// The audit log: entries, checkpoints, proofs.
    #[serde(rename = "log:read")]
    LogRead,
    /// Review records of the pins the account may use: comments, coverage, verdicts, builds and
    /// attestations; and taking part (commenting, marking, verdicts) where the role may.
    #[serde(rename = "review")]
    Review,
    /// Recording builds, uploading artifacts, issuing attestations.
    #[serde(rename = "build:write")]
    BuildWrite,
    /// Export bundles: estimating, making, downloading.
    #[serde(rename = "export")]
    Export,
    /// Operations (staff): background jobs' progress, metrics.
    #[serde(rename = "ops:read")]
    OpsRead,
    /// Releases: setting a release policy and proposing releases (staff), signing or objecting to
    /// them (supervisors).
    #[serde(rename = "release")]
    Release,
}

impl Scope {
    pub const ALL: [Scope; 6] =
        [Scope::LogRead, Scope::Review, Scope::BuildWrite, Scope::Export, Scope::OpsRead, Scope::Release];

    pub fn parse(text: &str) -> Result<Scope, InputError> {
        match text.trim() {
            "log:read" => Ok(Scope::LogRead),
            "review" => Ok(Scope::Review),
            "build:write" => Ok(Scope::BuildWrite),
            "export" => Ok(Scope::Export),
            "ops:read" => Ok(Scope::OpsRead),
            "release" => Ok(Scope::Release),
            _ => Err(InputError("a scope is log:read, review, build:write, export, ops:read or release")),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scope::LogRead => "log:read",
            Scope::Review => "review",
            Scope::BuildWrite => "build:write",
            Scope::Export => "export",
            Scope::OpsRead => "ops:read",
            Scope::Release => "release",
        }
    }

    /// Whether an account of `role` can hold the scope at all (a token gives no more than its
    /// account may do).
    pub fn fits(self, role: Role) -> bool {
        match self {
            Scope::LogRead => matches!(role, Role::Staff | Role::Regulator | Role::Supervisor),
            Scope::Export => matches!(role, Role::Staff | Role::Regulator),
            Scope::Review => role != Role::Builder,
            Scope::BuildWrite => matches!(role, Role::Staff | Role::Builder),
            Scope::OpsRead => role == Role::Staff,
            Scope::Release => matches!(role, Role::Staff | Role::Supervisor),
        }
    }

    /// Every scope an account of `role` can hold.
    pub fn all_for(role: Role) -> Vec<Scope> {
        Scope::ALL.into_iter().filter(|scope| scope.fits(role)).collect()
    }

    /// `log:read review`, as stored and shown.
    pub fn join(scopes: &[Scope]) -> String {
        scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ")
    }

    /// The stored form back; unknown words are dropped (deny by default).
    pub fn split(text: &str) -> Vec<Scope> {
        let mut scopes: Vec<Scope> = text.split_whitespace().filter_map(|word| Scope::parse(word).ok()).collect();
        scopes.sort();
        scopes.dedup();
        scopes
    }
}

/// The API token a request came with: which one, and what it may do.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenAccess {
    pub id: i64,
    pub scopes: Vec<Scope>,
}

/// Why a piece of user input was refused; the text is shown to the user as it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InputError(pub &'static str);

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for InputError {}

/// The person behind a request, as the server established it from the session or an API token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Identity {
    pub user_id: i64,
    pub username: String,
    pub role: Role,
}

/// Who is asking, where from, under which session. Built by the server for every request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    pub identity: Option<Identity>,
    /// A short, non-secret fingerprint of the session (never the session id itself).
    pub session: Option<String>,
    pub client_address: String,
    /// The anti-forgery token that every state-changing form must echo.
    pub csrf_token: Option<String>,
    /// Set when the request came with an API token instead of a session.
    pub token: Option<TokenAccess>,
    /// When a reviewer's latest active grant ends, as the server read it while resuming this
    /// request's session (inner `None`: no grant is active). Only for showing it (the page's
    /// "access ends" line); every decision reads the grants again. `None`: not read.
    pub access_ends_ms: Option<Option<i64>>,
}

impl Caller {
    /// Someone not (yet) known: no session, no token, only where the request came from.
    pub fn anonymous(client_address: String) -> Caller {
        Caller { identity: None, session: None, client_address, csrf_token: None, token: None, access_ends_ms: None }
    }
}

/// A pin id as it appears in URLs: a positive decimal integer.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct PinId(i64);

impl PinId {
    pub fn parse(text: &str) -> Result<PinId, InputError> {
        let refused = InputError("a pin id is a positive number");
        if text.is_empty() || text.len() > 18 || !text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(refused);
        }
        match text.parse::<i64>() {
            Ok(value) if value > 0 => Ok(PinId(value)),
            _ => Err(refused),
        }
    }

    pub fn from_stored(value: i64) -> PinId {
        PinId(value)
    }

    pub fn get(self) -> i64 {
        self.0
    }
}

impl fmt::Display for PinId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

/// A SHA-256 digest as 64 hexadecimal digits, kept in lowercase (upper case is accepted).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct Sha256Hex(String);

impl Sha256Hex {
    pub fn parse(text: &str) -> Result<Sha256Hex, InputError> {
        let text = text.trim();
        if text.len() != 64 || !text.bytes().all(|b| b.is_ascii_hexdigit()) {
            return Err(InputError("a SHA-256 is 64 hexadecimal digits"));
        }
        Ok(Sha256Hex(text.to_ascii_lowercase()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Sha256Hex {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A path inside a pinned git tree: relative, `/`-separated, no empty, `.` or `..` segment, no NUL,
/// no backslash. The empty path is the root. It never names a file on the server's disk.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct RepoPath(String);

impl RepoPath {
    pub const MAX_LEN: usize = 4096;

    pub fn parse(text: &str) -> Result<RepoPath, InputError> {
        let trimmed = text.trim_end_matches('/');
        if trimmed.is_empty() {
            return Ok(RepoPath(String::new()));
        }
        if trimmed.len() > Self::MAX_LEN {
            return Err(InputError("the path is too long"));
        }
        if trimmed.starts_with('/') {
            return Err(InputError("the path must be relative to the repository root"));
        }
        if trimmed.contains('\0') || trimmed.contains('\\') {
            return Err(InputError("the path contains a forbidden character"));
        }
        for segment in trimmed.split('/') {
            if segment.is_empty() || segment == "." || segment == ".." {
                return Err(InputError("the path contains an empty, '.' or '..' segment"));
            }
        }
        Ok(RepoPath(trimmed.to_string()))
    }

    /// Parses a path as it appears in a URL, percent-encoded; invalid UTF-8 is refused.
    pub fn parse_url_encoded(text: &str) -> Result<RepoPath, InputError> {
        let decoded = percent_encoding::percent_decode_str(text)
            .decode_utf8()
            .map_err(|_| InputError("the path is not valid UTF-8"))?;
        RepoPath::parse(&decoded)
    }

    /// The path for use in a URL: each segment percent-encoded, `/` kept between them.
    pub fn url_encoded(&self) -> String {
        const SEGMENT: &percent_encoding::AsciiSet = &percent_encoding::CONTROLS
            .add(b' ')
            .add(b'"')
            .add(b'#')
            .add(b'%')
            .add(b'<')
            .add(b'>')
            .add(b'?')
            .add(b'`')
            .add(b'{')
            .add(b'}')
            .add(b'/')
            .add(b'\\')
            .add(b'^')
            .add(b'|')
            .add(b'[')
            .add(b']');
        self.segments()
            .map(|s| percent_encoding::utf8_percent_encode(s, SEGMENT).to_string())
            .collect::<Vec<_>>()
            .join("/")
    }

    pub fn root() -> RepoPath {
        RepoPath(String::new())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    pub fn segments(&self) -> impl Iterator<Item = &str> {
        self.0.split('/').filter(|s| !s.is_empty())
    }

    pub fn file_name(&self) -> &str {
        self.0.rsplit('/').next().unwrap_or("")
    }

    pub fn parent(&self) -> RepoPath {
        match self.0.rfind('/') {
            Some(at) => RepoPath(self.0[..at].to_string()),
            None => RepoPath::root(),
        }
    }

    pub fn join(&self, name: &str) -> RepoPath {
        if self.0.is_empty() {
            RepoPath(name.to_string())
        } else {
            RepoPath(format!("{}/{}", self.0, name))
        }
    }
}

impl fmt::Display for RepoPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A line range from a permalink fragment: `L12` or `L10-L20` (1-based, inclusive).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub struct LineRange {
    pub first: u32,
    pub last: u32,
}

impl LineRange {
    pub fn parse(text: &str) -> Result<LineRange, InputError> {
        let refused = InputError("a line range looks like L12 or L10-L20");
        let text = text.strip_prefix('#').unwrap_or(text);
        let number = |part: &str| -> Result<u32, InputError> {
            let digits = part.strip_prefix('L').ok_or(refused.clone())?;
            if digits.is_empty() || digits.len() > 9 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return Err(refused.clone());
            }
            match digits.parse::<u32>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(refused.clone()),
            }
        };
        let (first, last) = match text.split_once('-') {
            Some((a, b)) => (number(a)?, number(b)?),
            None => {
                let n = number(text)?;
                (n, n)
            }
        };
        if last < first {
            return Err(InputError("a line range must not end before it starts"));
        }
        Ok(LineRange { first, last })
    }

    pub fn contains(&self, line: u32) -> bool {
        self.first <= line && line <= self.last
    }
}

impl fmt::Display for LineRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.first == self.last {
            write!(f, "L{}", self.first)
        } else {
            write!(f, "L{}-L{}", self.first, self.last)
        }
    }
}

#[cfg(test)]
#[path = "input_tests.rs"]
mod tests;
