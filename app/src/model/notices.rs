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
