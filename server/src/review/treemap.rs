//! The coverage picture: a squarified treemap (Bruls, Huizing and van Wijk, 2000) of a pin's
//! directory tree, area proportional to lines, each file coloured by its coverage state, rendered
//! as SVG on the server. Hovering names the file; clicking opens it.
//!
//! Files too small to see (under `MIN_AREA` square units) are not drawn one by one; their
//! directory's background stands for them, so the picture stays a few hundred kilobytes for a tree
//! of ten thousand files.

use app::html::escape;
use app::model::FileCoverage;
use std::collections::BTreeMap;
use std::fmt::Write as _;

pub const WIDTH: f64 = 1200.0;
pub const HEIGHT: f64 = 640.0;
const MIN_AREA: f64 = 24.0;

/// One file to draw.
pub struct Tile<'a> {
    pub path: &'a str,
    pub lines: u64,
    pub state: FileCoverage,
}

#[derive(Default)]
struct Node<'a> {
    weight: f64,
    files: Vec<(&'a str, f64, FileCoverage, u64)>,
    children: BTreeMap<&'a str, Node<'a>>,
}

impl<'a> Node<'a> {
    fn insert(&mut self, segments: &[&'a str], tile: &Tile<'a>, weight: f64) {
        self.weight += weight;
        match segments {
            [] | [_] => self.files.push((tile.path, weight, tile.state, tile.lines)),
            [first, rest @ ..] => self.children.entry(first).or_default().insert(rest, tile, weight),
        }
    }
}

#[derive(Clone, Copy)]
struct Rect {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
}

/// The worst aspect ratio of a row of areas laid along a side of length `side`.
fn worst(row: &[f64], side: f64) -> f64 {
    let sum: f64 = row.iter().sum();
    let (min, max) = row.iter().fold((f64::MAX, 0f64), |(lo, hi), &a| (lo.min(a), hi.max(a)));
    let side2 = side * side;
    let sum2 = sum * sum;
    (side2 * max / sum2).max(sum2 / (side2 * min))
}

/// Lays out `areas` (sorted descending, summing to the rectangle's area) in `rect`.
fn squarify(areas: &[f64], rect: Rect) -> Vec<Rect> {
    let mut out = Vec::with_capacity(areas.len());
    let mut rest = rect;
    let mut start = 0;
    while start < areas.len() {
        let side = rest.w.min(rest.h);
        let mut end = start + 1;
        while end < areas.len() && worst(&areas[start..=end], side) <= worst(&areas[start..end], side) {
            end += 1;
        }
        let row = &areas[start..end];
        let sum: f64 = row.iter().sum();
        if rest.w >= rest.h {
            // A column on the left.
            let width = if rest.h > 0.0 { sum / rest.h } else { 0.0 };
            let mut y = rest.y;
            for &area in row {
                let height = if width > 0.0 { area / width } else { 0.0 };
                out.push(Rect { x: rest.x, y, w: width, h: height });
                y += height;
            }
            rest = Rect { x: rest.x + width, y: rest.y, w: (rest.w - width).max(0.0), h: rest.h };
        } else {
            // A row on top.
            let height = if rest.w > 0.0 { sum / rest.w } else { 0.0 };
            let mut x = rest.x;
            for &area in row {
                let width = if height > 0.0 { area / height } else { 0.0 };
                out.push(Rect { x, y: rest.y, w: width, h: height });
                x += width;
            }
            rest = Rect { x: rest.x, y: rest.y + height, w: rest.w, h: (rest.h - height).max(0.0) };
        }
        start = end;
    }
    out
}

enum Item<'n, 'a> {
    Dir(&'a str, &'n Node<'a>),
    File(&'a str, FileCoverage, u64),
}

fn draw(node: &Node<'_>, name: &str, rect: Rect, link: &dyn Fn(&str) -> String, svg: &mut String) {
    let _ = write!(
        svg,
        r#"<g><rect class="tm-dir" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}"><title>{}</title></rect>"#,
        rect.x,
        rect.y,
        rect.w,
        rect.h,
        escape(if name.is_empty() { "/" } else { name })
    );
    let mut items: Vec<(f64, Item<'_, '_>)> = Vec::new();
    for (segment, child) in &node.children {
        items.push((child.weight, Item::Dir(segment, child)));
    }
    for (path, weight, state, lines) in &node.files {
        items.push((*weight, Item::File(path, *state, *lines)));
    }
    items.sort_by(|a, b| b.0.total_cmp(&a.0));
    let total: f64 = items.iter().map(|(w, _)| w).sum();
    if total <= 0.0 {
        svg.push_str("</g>");
        return;
    }
    // A directory keeps a one-unit frame so its children read as its own.
    let inner = if rect.w > 6.0 && rect.h > 6.0 {
        Rect { x: rect.x + 1.0, y: rect.y + 1.0, w: rect.w - 2.0, h: rect.h - 2.0 }
    } else {
        rect
    };
    let scale = inner.w * inner.h / total;
    let areas: Vec<f64> = items.iter().map(|(w, _)| w * scale).collect();
    for ((area, item), tile) in areas.iter().zip(&items).zip(squarify(&areas, inner)) {
        if *area < MIN_AREA {
            continue;
        }
        match item.1 {
            Item::Dir(segment, child) => {
                let path = if name.is_empty() { segment.to_string() } else { format!("{name}/{segment}") };
                draw(child, &path, tile, link, svg);
            }
            Item::File(path, state, lines) => {
                let _ = write!(
                    svg,
                    r#"<a href="{}"><rect class="tm-file tm-{}" x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}"><title>{} — {}, {} lines</title></rect></a>"#,
                    escape(&link(path)),
                    state.as_str(),
                    tile.x,
                    tile.y,
                    tile.w,
                    tile.h,
                    escape(path),
                    state.as_str(),
                    lines
                );
            }
        }
    }
    svg.push_str("</g>");
}

/// The SVG picture of `tiles`; `link` gives each file's address.
pub fn render(tiles: &[Tile<'_>], link: &dyn Fn(&str) -> String, label: &str) -> String {
    let mut root = Node::default();
    for tile in tiles {
        // Every file gets some area, so empty and binary files still appear.
        let weight = tile.lines.max(1) as f64;
        let segments: Vec<&str> = tile.path.split('/').collect();
        root.insert(&segments, tile, weight);
    }
    let mut svg = format!(
        r#"<svg xmlns="http://www.w3.org/2000/svg" class="treemap" viewBox="0 0 {WIDTH} {HEIGHT}" role="group" aria-label="{}">"#,
        escape(label)
    );
    draw(&root, "", Rect { x: 0.0, y: 0.0, w: WIDTH, h: HEIGHT }, link, &mut svg);
    svg.push_str("</svg>");
    svg
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn squarified_tiles_fill_the_rectangle_exactly() {
        let areas = [6.0, 6.0, 4.0, 3.0, 2.0, 2.0, 1.0];
        let rects = squarify(&areas, Rect { x: 0.0, y: 0.0, w: 6.0, h: 4.0 });
        assert_eq!(rects.len(), areas.len());
        for (rect, area) in rects.iter().zip(areas) {
            assert!((rect.w * rect.h - area).abs() < 1e-9, "each tile has its area");
            assert!(
                rect.x >= -1e-9 && rect.y >= -1e-9 && rect.x + rect.w <= 6.0 + 1e-9 && rect.y + rect.h <= 4.0 + 1e-9
            );
        }
        // The classic example's first row is the two sixes, side by side along the short side.
        assert!((rects[0].w - 3.0).abs() < 1e-9 && (rects[0].h - 2.0).abs() < 1e-9);
    }

    #[test]
    fn the_picture_names_and_links_each_visible_file() {
        let tiles = [
            Tile { path: "src/main.rs", lines: 300, state: FileCoverage::Reviewed },
            Tile { path: "src/a<b>.rs", lines: 100, state: FileCoverage::Shown },
            Tile { path: "README.md", lines: 50, state: FileCoverage::None },
        ];
        let svg = render(&tiles, &|path| format!("/pins/1/blob/{path}"), "coverage");
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains(r#"<a href="/pins/1/blob/src/main.rs"><rect class="tm-file tm-reviewed""#), "{svg}");
        assert!(svg.contains("src/a&lt;b&gt;.rs — shown, 100 lines"), "names are escaped");
        assert_eq!(svg.matches("tm-file").count(), 3);
    }
}
