//! The parsing newtypes refuse what is not theirs.

use super::*;

#[test]
fn a_pin_id_is_a_positive_number() {
    assert_eq!(PinId::parse("42").unwrap().get(), 42);
    for bad in ["", "0", "-1", "1.5", "abc", "١", "99999999999999999999", " 1", "+1"] {
        assert!(PinId::parse(bad).is_err(), "{bad:?} should be refused");
    }
}

#[test]
fn a_repository_path_stays_inside_the_tree() {
    assert_eq!(RepoPath::parse("src/main.rs").unwrap().as_str(), "src/main.rs");
    assert_eq!(RepoPath::parse("src/").unwrap().as_str(), "src");
    assert!(RepoPath::parse("").unwrap().is_root());
    for bad in ["../etc/passwd", "src/../../x", "/etc/passwd", "a//b", "./a", "a/./b", "a\0b", "a\\b"] {
        assert!(RepoPath::parse(bad).is_err(), "{bad:?} should be refused");
    }
    assert!(RepoPath::parse(&"a".repeat(5000)).is_err());
}

#[test]
fn a_url_encoded_path_is_decoded_before_it_is_checked() {
    assert_eq!(RepoPath::parse_url_encoded("src/my%20file.rs").unwrap().as_str(), "src/my file.rs");
    let odd = RepoPath::parse("docs/a #1?.md").unwrap();
    assert_eq!(odd.url_encoded(), "docs/a%20%231%3F.md");
    assert_eq!(RepoPath::parse_url_encoded(&odd.url_encoded()).unwrap(), odd);
    for bad in ["src/%2e%2e/%2e%2e/etc", "%2fetc/passwd", "a%00b", "a/%ff%fe"] {
        assert!(RepoPath::parse_url_encoded(bad).is_err(), "{bad:?} should be refused");
    }
}

#[test]
fn a_repository_path_knows_its_parent_and_name() {
    let path = RepoPath::parse("a/b/c.rs").unwrap();
    assert_eq!(path.parent().as_str(), "a/b");
    assert_eq!(path.file_name(), "c.rs");
    assert_eq!(RepoPath::root().join("x").as_str(), "x");
    assert_eq!(path.segments().collect::<Vec<_>>(), ["a", "b", "c.rs"]);
}

#[test]
fn a_line_range_reads_a_permalink_fragment() {
    assert_eq!(LineRange::parse("L12").unwrap(), LineRange { first: 12, last: 12 });
    assert_eq!(LineRange::parse("#L10-L20").unwrap(), LineRange { first: 10, last: 20 });
    assert_eq!(LineRange::parse("L10-L20").unwrap().to_string(), "L10-L20");
    for bad in ["", "L", "L0", "12", "L20-L10", "L1-", "Lx", "L1-L2-L3", "L99999999999"] {
        assert!(LineRange::parse(bad).is_err(), "{bad:?} should be refused");
    }
}

#[test]
fn a_role_is_one_of_three() {
    assert_eq!(Role::parse("staff").unwrap(), Role::Staff);
    assert!(Role::parse("admin").is_err());
    assert_eq!(Role::parse("builder").unwrap(), Role::Builder);
}

#[test]
fn a_sha256_is_64_hex_digits_kept_in_lowercase() {
    let upper = "E3B0C44298FC1C149AFBF4C8996FB92427AE41E4649B934CA495991B7852B855";
    assert_eq!(Sha256Hex::parse(upper).unwrap().as_str(), upper.to_ascii_lowercase());
    assert!(Sha256Hex::parse(&upper[1..]).is_err());
    assert!(Sha256Hex::parse(&format!("{}g", &upper[1..])).is_err());
    assert!(Sha256Hex::parse("").is_err());
}
