use super::*;
use serde_json::json;

fn log(results: serde_json::Value, extra: serde_json::Value) -> Vec<u8> {
    let mut run = json!({
        "tool": {"driver": {"name": "Flawfinder", "version": "2.0.19", "rules": [
            {"id": "FF1001", "name": "strcpy", "shortDescription": {"text": "Check for overflow"},
             "defaultConfiguration": {"level": "error"},
             "relationships": [{"target": {"id": "CWE-120", "toolComponent": {"name": "CWE"}}}]},
            {"id": "js/xss", "properties": {"tags": ["security", "external/cwe/cwe-079", "CWE-99999"]}}
        ]}},
        "results": results
    });
    for (key, value) in extra.as_object().unwrap() {
        run[key] = value.clone();
    }
    serde_json::to_vec(&json!({"version": "2.1.0", "runs": [run]})).unwrap()
}

#[test]
fn results_take_their_rule_level_and_message_from_the_rule_when_they_lack_them() {
    let bytes = log(
        json!([
            {"ruleId": "FF1001", "ruleIndex": 0, "message": {"text": "strcpy({0})", "arguments": ["dst"]},
             "locations": [{"physicalLocation": {"artifactLocation": {"uri": "src/a.c", "uriBaseId": "SRC"},
                                                 "region": {"startLine": 5, "endLine": 3}}}]},
            {"ruleId": "js/xss", "level": "note", "message": {}},
            {"rule": {"index": 0}, "message": {"markdown": "**x**"}, "locations": []}
        ]),
        json!({"originalUriBaseIds": {"SRC": {"uri": "file:///home/lab/checkout/"}}}),
    );
    let parsed = parse(&bytes).unwrap();
    assert_eq!(parsed.tools, ["Flawfinder 2.0.19"]);
    let [first, second, third] = &parsed.results[..] else { panic!("{parsed:?}") };
    assert_eq!(first.message, "strcpy(dst)");
    assert_eq!(first.level, "error", "the rule's default");
    assert_eq!(first.uri, "file:///home/lab/checkout/src/a.c");
    assert_eq!((first.start_line, first.end_line), (Some(5), Some(5)), "an end before the start is dropped");
    assert_eq!(first.cwe, [120]);
    assert_eq!(first.rule_name.as_deref(), Some("strcpy"));
    assert_eq!((second.level, second.message.as_str()), ("note", "(no message)"));
    assert_eq!(second.cwe, [79], "CodeQL's tag; an id not in the list is left out");
    assert_eq!((third.rule_id.as_str(), third.message.as_str(), third.uri.as_str()), ("FF1001", "**x**", ""));
}

#[test]
fn a_log_that_is_not_sarif_2_1_0_is_refused_with_the_reason() {
    assert!(parse(b"{").unwrap_err().contains("not SARIF 2.1.0 JSON"));
    assert!(parse(br#"{"version": "2.0.0", "runs": []}"#).unwrap_err().contains("SARIF 2.0.0"));
    assert!(parse(br#"{"runs": []}"#).unwrap_err().contains("names no version"));
    assert!(parse(br#"{"version": "2.1.0"}"#).unwrap_err().contains("no runs"));
    let bad_level = log(json!([{"ruleId": "x", "level": "fatal", "message": {"text": "m"}}]), json!({}));
    assert!(parse(&bad_level).unwrap_err().contains("\"fatal\""));
    let results_not_list = log(json!({"ruleId": "x"}), json!({}));
    assert!(parse(&results_not_list).is_err());
}

#[test]
fn uris_are_normalised_to_relative_paths() {
    assert_eq!(normalised("file:///home/lab/src/a%20b.c").as_deref(), Some("home/lab/src/a b.c"));
    assert_eq!(normalised("file://host/share/x.c").as_deref(), Some("share/x.c"));
    assert_eq!(normalised("./src/../lib/./y.c").as_deref(), Some("lib/y.c"));
    assert_eq!(normalised(r"C:\work\src\z.c").as_deref(), Some("work/src/z.c"));
    assert_eq!(normalised("https://example.com/a.c"), None);
    assert_eq!(normalised("/"), None);
}

#[test]
fn a_result_is_placed_at_the_longest_tail_of_its_path_that_is_a_file_of_the_pin() {
    let placer = Placer::new([("src/a.c", 10), ("a.c", 3), ("lib/b.c", 0)]);
    let at = |uri: &str, line: Option<u32>| {
        let result = ToolResult {
            tool: "t".into(),
            rule_id: "r".into(),
            rule_name: None,
            level: "note",
            message: "m".into(),
            uri: uri.into(),
            start_line: line,
            end_line: line,
            cwe: vec![],
        };
        placer.place(&result)
    };
    assert_eq!(at("file:///home/lab/src/a.c", Some(10)), Placement::At("src/a.c".into()));
    assert_eq!(at("a.c", None), Placement::At("a.c".into()));
    assert_eq!(at("other/a.c", Some(3)), Placement::At("a.c".into()));
    assert_eq!(at("src/a.c", Some(11)), Placement::Outside("past the end of the file"));
    assert_eq!(at("lib/b.c", Some(1)), Placement::At("lib/b.c".into()), "an empty file has line 1");
    assert_eq!(at("src/missing.c", Some(1)), Placement::Outside("no such file at the pin"));
    assert_eq!(at("", None), Placement::Outside("the result names no file"));
    assert_eq!(at("https://example.com/a.c", None), Placement::Outside("the location is not a file"));
}
