//! Threads as a viewer sees them: assembled from the stored comments, versions and states, with
//! private notes kept to their author, Markdown rendered, and what the viewer may do worked out.

use super::guard::threads::{allowed_states, may_see_thread};
use crate::review::markdown;
use crate::store::review::{CommentRow, CommentRows, StateRow};
use app::model::*;
use std::collections::HashMap;

/// Who is looking, and whether they may take part in the review of the pin at hand.
pub struct Viewer {
    pub user_id: Option<i64>,
    pub role: Role,
    /// May comment, reply, mark and change states at this pin (reviewers with a grant, staff).
    pub may_review: bool,
}

fn anchor_lines(row: &CommentRow) -> Option<LineRange> {
    match (row.start_line, row.end_line) {
        (Some(first), Some(last)) if first > 0 && last >= first => {
            Some(LineRange { first: first as u32, last: last as u32 })
        }
        _ => None,
    }
}

fn state_change(row: &StateRow) -> StateChange {
    StateChange {
        state: ThreadState::parse(&row.state).unwrap_or(ThreadState::Open),
        reason: row.reason.clone(),
        fixed_pin: row.fixed_pin.map(PinId::from_stored),
        by: row.by.clone(),
        at_ms: row.at,
    }
}

/// Builds the threads of `rows` that `viewer` may see, anchored at `at_pin` (threads of another pin
/// are marked as carried from it). `labels` names pins.
pub fn assemble(
    rows: &CommentRows,
    viewer: &Viewer,
    at_pin: Option<i64>,
    labels: &HashMap<i64, String>,
) -> Vec<Thread> {
    let mut versions: HashMap<i64, Vec<CommentVersion>> = HashMap::new();
    for version in &rows.versions {
        versions.entry(version.comment_id).or_default().push(CommentVersion {
            version: version.version as u32,
            body_html: String::new(),
            body: version.body.clone(),
            author: version.author.clone(),
            created_at_ms: version.created_at,
        });
    }
    let mut states: HashMap<i64, Vec<StateChange>> = HashMap::new();
    for state in &rows.states {
        states.entry(state.comment_id).or_default().push(state_change(state));
    }
    let mut replies: HashMap<i64, Vec<&CommentRow>> = HashMap::new();
    for row in rows.comments.iter().filter(|r| r.reply_to.is_some()) {
        replies.entry(row.reply_to.unwrap_or_default()).or_default().push(row);
    }
    let mut comment_view = |row: &CommentRow, may_act: bool| CommentView {
        id: row.id,
        author: row.author.clone(),
        author_role: row.author_role,
        created_at_ms: row.created_at,
        versions: versions.remove(&row.id).unwrap_or_default(),
        can_edit: may_act && viewer.user_id == Some(row.author_id),
    };
    let mut threads = Vec::new();
    for root in rows.comments.iter().filter(|r| r.reply_to.is_none()) {
        let kind = CommentKind::parse(&root.kind).unwrap_or(CommentKind::Comment);
        let is_author = viewer.user_id == Some(root.author_id);
        if !may_see_thread(kind, viewer.user_id, root.author_id) {
            continue;
        }
        let carried_from = at_pin.filter(|pin| *pin != root.pin_id).map(|_| PinId::from_stored(root.pin_id));
        let may_act = viewer.may_review && carried_from.is_none();
        let history = states.remove(&root.id).unwrap_or_default();
        let state = history.last().map(|s| s.state).unwrap_or(ThreadState::Open);
        let thread_replies: Vec<CommentView> =
            replies.remove(&root.id).unwrap_or_default().into_iter().map(|r| comment_view(r, may_act)).collect();
        threads.push(Thread {
            id: root.id,
            pin: PinId::from_stored(root.pin_id),
            pin_label: labels.get(&root.pin_id).cloned().unwrap_or_default(),
            path: RepoPath::parse(&root.path).unwrap_or_default(),
            lines: anchor_lines(root),
            kind,
            severity: root.severity.as_deref().and_then(|s| Severity::parse(s).ok()),
            cwe: crate::review::cwe::from_stored(root.cwe.as_deref()),
            requirements: root
                .requirements
                .as_deref()
                .and_then(|stored| serde_json::from_str(stored).ok())
                .unwrap_or_default(),
            state,
            states: history,
            root: comment_view(root, may_act),
            replies: thread_replies,
            carried_from,
            can_reply: may_act && kind != CommentKind::Note,
            allowed_states: if may_act { allowed_states(kind, state, viewer.role, is_author) } else { Vec::new() },
            commitment_key: root.commitment_key.clone().filter(|_| kind == CommentKind::Note && is_author),
        });
    }
    threads
}

/// Renders the Markdown of every version of `threads` (what a page is about to show).
pub fn render_bodies(threads: &mut [Thread], cache: &markdown::Cache) {
    for thread in threads {
        for comment in std::iter::once(&mut thread.root).chain(thread.replies.iter_mut()) {
            for version in &mut comment.versions {
                version.body_html = cache.render(comment.id, version.version, &version.body).to_string();
            }
        }
    }
}
