//! The guard's rules for threads: which state a thread may move to and who may move it (the
//! author of a thread, staff for the vendor's answer, nobody else), and who sees a private note. Comments are open, resolved, won't fix or withdrawn; findings
//! go open → vendor responded → accepted or disputed → fixed (verified by the reviewer at a pin);
//! private notes are only their author's.

use app::model::{CommentKind, Role, ThreadState};

/// The states `role` (the thread's author or not) may move a thread of `kind` to from `current`.
pub fn allowed_states(kind: CommentKind, current: ThreadState, role: Role, is_author: bool) -> Vec<ThreadState> {
    use ThreadState::*;
    let mut allowed = Vec::new();
    match kind {
        CommentKind::Comment => {
            if is_author || role == Role::Staff {
                allowed.extend(match current {
                    Open => vec![Resolved, WontFix],
                    Resolved | WontFix => vec![Open],
                    _ => vec![],
                });
            }
            if is_author && current != Withdrawn {
                allowed.push(Withdrawn);
            }
        }
        CommentKind::Note if is_author => {
            allowed.extend(match current {
                Open => vec![Resolved, Withdrawn],
                Resolved => vec![Open, Withdrawn],
                _ => vec![],
            });
        }
        CommentKind::Note => {}
        CommentKind::Finding => {
            if role == Role::Staff && !is_author {
                allowed.extend(match current {
                    Open => vec![Responded, Accepted, Disputed],
                    Responded => vec![Accepted, Disputed],
                    Accepted => vec![Disputed],
                    Disputed => vec![Accepted],
                    _ => vec![],
                });
            }
            if is_author {
                allowed.extend(match current {
                    Open | Responded | Accepted | Disputed => vec![Fixed],
                    Fixed => vec![Open],
                    _ => vec![],
                });
                if matches!(current, Responded | Accepted | Disputed) {
                    allowed.push(Open);
                }
                if current != Withdrawn {
                    allowed.push(Withdrawn);
                }
            }
        }
    }
    allowed
}

/// Whether a person sees a thread of `kind` written by `author`: a private note only its author
/// sees (staff and regulators included); every other thread everyone who reads the pin's review.
pub fn may_see_thread(kind: CommentKind, viewer: Option<i64>, author: i64) -> bool {
    kind != CommentKind::Note || viewer == Some(author)
}

/// Whether a person edits a comment (adds a version): only its author.
pub fn may_edit_comment(viewer: i64, author: i64) -> bool {
    viewer == author
}

#[cfg(test)]
mod tests {
    use super::*;
    use ThreadState::*;

    #[test]
    fn the_vendor_answers_a_finding_and_only_the_reviewer_verifies_its_fix() {
        assert_eq!(allowed_states(CommentKind::Finding, Open, Role::Staff, false), [Responded, Accepted, Disputed]);
        assert!(!allowed_states(CommentKind::Finding, Accepted, Role::Staff, false).contains(&Fixed));
        assert!(allowed_states(CommentKind::Finding, Accepted, Role::Reviewer, true).contains(&Fixed));
        assert!(allowed_states(CommentKind::Finding, Open, Role::Reviewer, false).is_empty(), "another reviewer");
        assert!(allowed_states(CommentKind::Finding, Fixed, Role::Reviewer, true).contains(&Open), "reopen");
    }

    #[test]
    fn a_comment_is_resolved_by_its_author_or_staff_and_withdrawn_by_its_author() {
        assert_eq!(allowed_states(CommentKind::Comment, Open, Role::Staff, false), [Resolved, WontFix]);
        assert_eq!(allowed_states(CommentKind::Comment, Open, Role::Reviewer, true), [Resolved, WontFix, Withdrawn]);
        assert_eq!(allowed_states(CommentKind::Comment, Resolved, Role::Reviewer, true), [Open, Withdrawn]);
        assert!(allowed_states(CommentKind::Comment, Withdrawn, Role::Reviewer, true).is_empty());
        assert!(allowed_states(CommentKind::Comment, Open, Role::Regulator, false).is_empty());
    }

    #[test]
    fn a_private_note_is_only_its_authors() {
        assert_eq!(allowed_states(CommentKind::Note, Open, Role::Reviewer, true), [Resolved, Withdrawn]);
        assert!(allowed_states(CommentKind::Note, Open, Role::Staff, false).is_empty());
        assert!(may_see_thread(CommentKind::Note, Some(7), 7));
        for stranger in [Some(8), None] {
            assert!(!may_see_thread(CommentKind::Note, stranger, 7), "{stranger:?}");
            assert!(may_see_thread(CommentKind::Finding, stranger, 7));
            assert!(may_see_thread(CommentKind::Comment, stranger, 7));
        }
        assert!(may_edit_comment(7, 7) && !may_edit_comment(8, 7));
    }
}
