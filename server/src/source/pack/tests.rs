//! The search pack read back: files in any order, a later release's pack pointing into the
//! earlier one's, and packs of the earlier forms.

use super::*;
use sha2::Digest as _;

fn pin(id: &str) -> app::model::PinId {
    app::model::PinId::parse(id).unwrap()
}

/// A release's files: (blob id, text).
type Files = [(String, Vec<u8>)];
/// A pack to lend from: its pin, its files' places and its files.
type Lent<'a> = (&'a str, &'a [(u64, u64)], &'a Files);

/// Writes a pack of `files` for `id`, lending from `lender`'s (its id, places and files); the
/// places.
fn write(dir: &Path, id: &str, files: &Files, lender: Option<Lent<'_>>) -> Vec<(u64, u64)> {
    let lender = lender.map(|(id, places, files)| {
        let blobs = files.iter().map(|(blob, _)| blob.clone()).zip(places.iter().copied());
        Lender::open(dir, pin(id), blobs).unwrap().expect("a lender")
    });
    let mut writer = PackWriter::create(&framed_path(dir, pin(id)), pin(id), lender).unwrap();
    let places = files.iter().map(|(blob, text)| writer.add(blob, text).unwrap()).collect();
    writer.finish().unwrap();
    places
}

fn read_all(dir: &Path, id: &str, files: &Files, places: &[(u64, u64)]) {
    let mut reader = PackReader::open(dir, pin(id)).unwrap().expect("a pack");
    let mut buffer = Vec::new();
    for i in (0..files.len()).chain((0..files.len()).rev()).chain([0, files.len() - 1, files.len() / 2, 3]) {
        reader.read(places[i].0, places[i].1, &mut buffer).unwrap();
        assert_eq!(buffer, files[i].1, "pin {id}, file {i}");
    }
}

fn release(from: u32, to: u32, edit: &str) -> Vec<(String, Vec<u8>)> {
    (from..to)
        .map(|i| {
            // Lines that compress little, so that what is stored twice shows in the sizes.
            let lines = if i % 50 == 0 { 20_000 } else { 1 + i };
            let edit = if i % 3 == 0 { edit } else { "" };
            let text: String = (0..lines)
                .map(|j| format!("{i} {j} {edit} {}\n", hex::encode(sha2::Sha256::digest(format!("{i}.{j}")))))
                .collect();
            let text = text.into_bytes();
            (hex::encode(sha2::Sha256::digest(&text)), text)
        })
        .collect()
}

#[test]
fn files_read_back_from_frames_in_any_order_and_an_old_raw_pack_still_reads() {
    let dir = tempfile::tempdir().unwrap();
    let texts = release(0, 300, "");
    let places = write(dir.path(), "7", &texts, None);
    let packed = std::fs::metadata(framed_path(dir.path(), pin("7"))).unwrap().len();
    let text: u64 = texts.iter().map(|t| t.1.len() as u64).sum();
    assert!(packed * 3 < text * 2, "compressed: {packed} of {text}");
    read_all(dir.path(), "7", &texts, &places);
    let mut reader = PackReader::open(dir.path(), pin("7")).unwrap().unwrap();
    let mut buffer = Vec::new();
    assert!(reader.read(text + 5, 1, &mut buffer).is_err(), "past the end");

    std::fs::write(raw_path(dir.path(), pin("8")), b"abcdef").unwrap();
    let mut raw = PackReader::open(dir.path(), pin("8")).unwrap().expect("the old pack");
    raw.read(2, 3, &mut buffer).unwrap();
    assert_eq!(buffer, b"cde");
    assert!(PackReader::open(dir.path(), pin("9")).unwrap().is_none());
}

#[test]
fn a_later_release_points_into_the_earlier_pack_for_the_files_they_share() {
    let dir = tempfile::tempdir().unwrap();
    let size = |id: &str| std::fs::metadata(framed_path(dir.path(), pin(id))).unwrap().len();
    let first = release(0, 300, "");
    let first_places = write(dir.path(), "7", &first, None);
    // A third of the files changed, 30 removed, 30 added, one blob at two paths.
    let mut second = release(30, 330, "changed");
    second.push(second[5].clone());
    let second_places = write(dir.path(), "8", &second, Some(("7", &first_places, &first)));
    read_all(dir.path(), "8", &second, &second_places);
    assert_eq!(second_places[5], second_places[300], "a blob twice is stored once");
    assert!(second_places.iter().any(|p| p.0 >= BORROWED) && second_places.iter().any(|p| p.0 < BORROWED));
    assert!(size("8") * 2 < size("7"), "shared text not stored again: {} against {}", size("8"), size("7"));

    // A third release lends from the second: frames of both earlier packs, read in one pass.
    let third = release(60, 360, "changed");
    let third_places = write(dir.path(), "9", &third, Some(("8", &second_places, &second)));
    read_all(dir.path(), "9", &third, &third_places);
    let mut reader = PackReader::open(dir.path(), pin("9")).unwrap().unwrap();
    let Form::Framed { frames, .. } = &reader.0 else { panic!("a framed pack") };
    let packs: std::collections::BTreeSet<u64> = frames.iter().map(|f| f.pack).collect();
    assert_eq!(packs, [7, 8, 9].into(), "frames from each pack");
    let mut buffer = Vec::new();
    assert!(reader.read(BORROWED - 1, 1, &mut buffer).is_err(), "between own and borrowed text");
}
