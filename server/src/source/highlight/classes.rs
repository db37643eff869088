//! A highlighted line as markup: each token takes the short class of the innermost scope of its
//! stack that has a colour, and runs of one class share one span.

use super::strip_newline;
use app::html::escape_into;
use syntect::parsing::{ParseState, Scope, ScopeStack, SyntaxSet};

/// The class of a token: the innermost scope of its stack that has a colour says what it is, as
/// one of a few short classes (`hk` keyword, `hs` string, …; `style/main.css` colours them), so a
/// token's markup is a few bytes and runs of one kind merge into one span. Cached per scope.
pub(super) struct ClassCache(pub(super) std::collections::HashMap<Scope, Option<&'static str>>);

/// The short class of one scope, `None` for scopes with no colour of their own (`source.*`,
/// `meta.*`, `punctuation.*` outside comments, plain variables): those take their parent's.
pub(super) fn class_of(scope: &str) -> Option<&'static str> {
    let starts = |prefix: &str| scope == prefix || scope.starts_with(prefix) && scope[prefix.len()..].starts_with('.');
    let class = if starts("comment") || starts("punctuation.definition.comment") {
        "hc"
    } else if starts("string") {
        "hs"
    } else if starts("constant.numeric") {
        "hn"
    } else if starts("constant") {
        "ho"
    } else if starts("storage.type")
        || starts("entity.name.type")
        || starts("entity.name.class")
        || starts("entity.name.struct")
        || starts("entity.name.enum")
        || starts("entity.name.trait")
        || starts("support.type")
        || starts("support.class")
    {
        "ht"
    } else if starts("keyword") || starts("storage") {
        "hk"
    } else if starts("entity.name.function") || starts("support.function") || starts("variable.function") {
        "hf"
    } else if starts("entity.name.tag") {
        "hg"
    } else if starts("entity.other.attribute-name") {
        "ha"
    } else if starts("variable.parameter") || starts("variable.language") {
        "hv"
    } else if starts("markup.heading") {
        "hh"
    } else if starts("markup.bold") {
        "hb"
    } else if starts("markup.italic") {
        "hi"
    } else if starts("invalid") {
        "hx"
    } else {
        return None;
    };
    Some(class)
}

impl ClassCache {
    fn classes(&mut self, stack: &ScopeStack) -> Option<&'static str> {
        stack
            .as_slice()
            .iter()
            .rev()
            .find_map(|scope| *self.0.entry(*scope).or_insert_with(|| class_of(&scope.build_string())))
    }
}

/// Appends `text` to `html` under `class`, merging with the span already open when it has the
/// same class; white space joins whatever span is open (it shows no colour).
fn push_token(html: &mut String, open: &mut Option<&'static str>, class: Option<&'static str>, text: &str) {
    if text.is_empty() {
        return;
    }
    let blank = open.is_some() && text.bytes().all(|b| b == b' ' || b == b'\t');
    if *open != class && !blank {
        if open.is_some() {
            html.push_str("</span>");
        }
        if let Some(class) = class {
            html.push_str("<span class=");
            html.push_str(class);
            html.push('>');
        }
        *open = class;
    }
    escape_into(html, text);
}

/// One line as a self-contained fragment of flat spans (none crosses a line end), so each table row
/// is valid HTML on its own.
///
/// With a `finder`, each token is also offered to it (the definitions on line `number`, found in
/// the same parse).
pub(super) fn highlight_line(
    line: &str,
    state: &mut ParseState,
    stack: &mut ScopeStack,
    syntaxes: &SyntaxSet,
    cache: &mut ClassCache,
    mut finder: Option<(&mut crate::source::symbols::Finder, u32)>,
) -> Option<String> {
    let ops = state.parse_line(line, syntaxes).ok()?;
    let content = strip_newline(line);
    let mut html = String::with_capacity(content.len() * 2);
    let mut open: Option<&'static str> = None;
    let mut cursor = 0;
    for (at, op) in &ops {
        let at = (*at).min(content.len());
        if at > cursor {
            push_token(&mut html, &mut open, cache.classes(stack), &content[cursor..at]);
            if let Some((finder, number)) = finder.as_mut() {
                finder.token(stack, &content[cursor..at], *number);
            }
            cursor = at;
        }
        stack.apply(op).ok()?;
    }
    if cursor < content.len() {
        push_token(&mut html, &mut open, cache.classes(stack), &content[cursor..]);
        if let Some((finder, number)) = finder.as_mut() {
            finder.token(stack, &content[cursor..], *number);
        }
    }
    if open.is_some() {
        html.push_str("</span>");
    }
    Some(html)
}
