//! The words of the notices the layers below the pages give as values (`model::notices`).

use crate::html::thousands;
use crate::model::{DiffNotice, FileNotice};

const KIB: u64 = 1024;
const MIB: u64 = 1024 * 1024;

pub fn file_notice(notice: &FileNotice) -> String {
    match *notice {
        FileNotice::NotDisplayed { max_bytes } => {
            format!("This file is larger than {} MiB and is not displayed.", max_bytes / MIB)
        }
        FileNotice::PlainWhole { highlight_max_bytes } => format!(
            "This file is larger than {} KiB, so it is shown as plain text without highlighting.",
            highlight_max_bytes / KIB
        ),
        FileNotice::PlainWindows { highlight_max_bytes, window_lines, cut_lines, cut_max_bytes } => {
            let mut text = format!(
                "This file is larger than {} KiB: it is shown as plain text, {} lines at a time (Go to line and Find in this file reach every line).",
                highlight_max_bytes / KIB,
                thousands(window_lines)
            );
            if cut_lines > 0 {
                text.push_str(&match cut_lines {
                    1 => format!(" 1 line here longer than {} KiB is cut.", cut_max_bytes / KIB),
                    n => format!(" {n} lines here longer than {} KiB are cut.", cut_max_bytes / KIB),
                });
            }
            text
        }
        FileNotice::PartlyPlain { long_lines, line_max_bytes, stopped_at } => {
            let mut parts = Vec::new();
            if long_lines > 0 {
                parts.push(match long_lines {
                    1 => format!("1 line longer than {line_max_bytes} bytes is shown without highlighting."),
                    n => format!("{n} lines longer than {line_max_bytes} bytes are shown without highlighting."),
                });
            }
            if let Some(line) = stopped_at {
                parts.push(format!("Highlighting stopped at line {line}; the rest is plain text."));
            }
            parts.join(" ")
        }
    }
}

pub fn diff_notice(notice: DiffNotice) -> String {
    match notice {
        DiffNotice::Binary => "A binary file: its lines are not compared. Sizes and blob ids are above.".into(),
        DiffNotice::TooLarge { max_bytes } => format!(
            "This file is larger than {} MiB on one side, so its lines are not compared here; open each version instead.",
            max_bytes / MIB
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_notice_names_its_figures() {
        assert_eq!(
            file_notice(&FileNotice::NotDisplayed { max_bytes: 8 * MIB }),
            "This file is larger than 8 MiB and is not displayed."
        );
        let windows = FileNotice::PlainWindows {
            highlight_max_bytes: MIB,
            window_lines: 4000,
            cut_lines: 2,
            cut_max_bytes: 64 * KIB,
        };
        assert!(file_notice(&windows)
            .starts_with("This file is larger than 1024 KiB: it is shown as plain text, 4,000 lines"));
        assert!(file_notice(&windows).ends_with(" 2 lines here longer than 64 KiB are cut."));
        let partly = FileNotice::PartlyPlain { long_lines: 0, line_max_bytes: 20, stopped_at: Some(7) };
        assert_eq!(file_notice(&partly), "Highlighting stopped at line 7; the rest is plain text.");
        assert!(diff_notice(DiffNotice::TooLarge { max_bytes: 4 * MIB }).contains("larger than 4 MiB on one side"));
    }
}
