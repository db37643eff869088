//! Why part of a file or a diff is shown without highlighting, or not at all. The layers below the
//! pages say which case holds, with its figures; the page words it (`components::notices`), so no
//! layer below the pages writes text a reader sees.

use serde::{Deserialize, Serialize};

/// Why a file's lines are plain, or absent.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum FileNotice {
    /// Larger than the display cap: no line is shown.
    NotDisplayed { max_bytes: u64 },
    /// Larger than the highlight cap: the whole file, as plain text.
    PlainWhole { highlight_max_bytes: u64 },
    /// Larger than the highlight cap and shown a window at a time, as plain text; `cut_lines` lines of
    /// the window are longer than `cut_max_bytes` and cut there.
    PlainWindows { highlight_max_bytes: u64, window_lines: u32, cut_lines: u32, cut_max_bytes: u64 },
    /// Highlighted, except `long_lines` lines longer than `line_max_bytes`, and everything after
    /// line `stopped_at` when highlighting ran out of time.
    PartlyPlain { long_lines: u32, line_max_bytes: u64, stopped_at: Option<u32> },
}

/// Why a diff's lines are not compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[cfg_attr(feature = "ssr", derive(utoipa::ToSchema))]
pub enum DiffNotice {
    /// A side is binary.
    Binary,
    /// A side is larger than the diff cap.
    TooLarge { max_bytes: u64 },
}

/// A form's outcome, shown on the page the form returns to. The server puts one in the request
/// only when the URL's message carries its seal (`server/src/http/notice.rs`), so a crafted link
/// shows nothing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PageNotice {
    pub kind: PageNoticeKind,
    pub message: String,
}

/// Whether a form's outcome is a success or a refusal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PageNoticeKind {
    Done,
    Error,
}

impl PageNoticeKind {
    /// Its query parameter: `done` or `error`.
    pub fn key(self) -> &'static str {
        match self {
            PageNoticeKind::Done => "done",
            PageNoticeKind::Error => "error",
        }
    }
}

/// A form the server refused, kept for the page it came from (in the session, never in a URL,
/// since a comment's text may be sensitive): the page shows `message` next to the form whose id is
/// `place` (the redirect scrolls there) and fills the fields in as they were typed. Secrets
/// (passwords, codes) are never kept.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeptForm {
    pub place: String,
    /// Whether the server refused it (or, false, did it and says so in place).
    pub refused: bool,
    pub message: String,
    pub fields: Vec<(String, String)>,
}

impl KeptForm {
    /// The field's value as it was sent, or empty.
    pub fn field(&self, name: &str) -> &str {
        self.fields.iter().find(|(key, _)| key == name).map_or("", |(_, value)| value.as_str())
    }

    /// Whether a field of a list (a multiple select, checkboxes) was sent with `value`.
    pub fn has(&self, name: &str, value: &str) -> bool {
        self.fields.iter().any(|(key, sent)| key == name && sent == value)
    }
}
