//! A pin's build recipe: what the room runs, on which toolchain, what it keeps, within which
//! limits. Read from TOML (the command line) or JSON (the API) into one checked form; a field that
//! is wrong is named in the error. Its canonical JSON (keys sorted, no spaces, every default
//! written out) has the SHA-256 that provenance names. Format: `docs/attestations.md`.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Names the room sets itself; a recipe may not set them.
const RESERVED: [&str; 6] = ["PATH", "HOME", "TZ", "LC_ALL", "SOURCE_DATE_EPOCH", "TMPDIR"];

/// A recipe as written. Unknown keys are refused.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Written {
    name: String,
    command: Command,
    toolchain: String,
    outputs: Vec<WrittenOutput>,
    #[serde(default)]
    env: BTreeMap<String, String>,
    #[serde(default)]
    limits: WrittenLimits,
}

/// A command as an argument list, or as one string for `/bin/sh -c`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Command {
    Shell(String),
    Argv(Vec<String>),
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct WrittenOutput {
    path: String,
    artifact: String,
    #[serde(default)]
    platform: String,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct WrittenLimits {
    wall_seconds: Option<u64>,
    memory_mb: Option<u64>,
    processes: Option<u64>,
    output_mb: Option<u64>,
}

/// One output of a build: a file in the build directory, recorded as an artifact.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Output {
    pub path: String,
    pub artifact: String,
    pub platform: String,
}

/// What a room build may use.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limits {
    pub wall_seconds: u64,
    pub memory_mb: u64,
    pub processes: u64,
    pub output_mb: u64,
}

/// Each limit's default and range.
const LIMITS: [(&str, u64, u64, u64); 4] = [
    ("wall_seconds", 1800, 1, 86_400),
    ("memory_mb", 4096, 64, 262_144),
    ("processes", 512, 8, 65_536),
    ("output_mb", 1024, 1, 65_536),
];

/// A checked recipe.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Recipe {
    pub name: String,
    pub command: Command,
    /// `host`, or a directory under the server's toolchain root.
    pub toolchain: String,
    pub outputs: Vec<Output>,
    pub env: BTreeMap<String, String>,
    pub limits: Limits,
}

/// A recipe refused: the field, and what is wrong with it.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
#[error("recipe: {field}: {problem}")]
pub struct RecipeError {
    pub field: String,
    pub problem: String,
}

fn refuse(field: impl Into<String>, problem: impl Into<String>) -> RecipeError {
    RecipeError { field: field.into(), problem: problem.into() }
}

/// Reads serde's error into the field it names (`limits.wall_seconds`, or the unknown key).
fn parse_error(path: String, error: impl std::fmt::Display) -> RecipeError {
    let (field, problem) = field_problem("recipe", "is not a recipe key", path, error);
    refuse(field, problem)
}

/// Reads serde's error (through `serde_path_to_error`) of a TOML or JSON `document` into the
/// field it names and what is wrong with it; an unknown key is said to be `unknown`.
pub(crate) fn field_problem(
    document: &str,
    unknown: &str,
    path: String,
    error: impl std::fmt::Display,
) -> (String, String) {
    let text = error.to_string();
    // TOML's errors quote the line before saying what is wrong: the message is the last line.
    let message = text.lines().rev().find(|line| !line.trim().is_empty()).unwrap_or_default();
    // serde_path_to_error's path may already end at the key.
    let within = |key: &str| match path.as_str() {
        "." | "" => key.to_string(),
        p if p == key || p.ends_with(&format!(".{key}")) => p.to_string(),
        p => format!("{p}.{key}"),
    };
    for (marker, problem) in [("unknown field `", unknown), ("missing field `", "is required")] {
        if let Some(rest) = text.split(marker).nth(1) {
            return (within(rest.split('`').next().unwrap_or_default()), problem.to_string());
        }
    }
    let field = if path == "." { document.to_string() } else { path };
    let problem = message.split(" at line ").next().unwrap_or(message).trim();
    (field, if problem.is_empty() { "is not valid".into() } else { problem.to_string() })
}

impl Recipe {
    /// A recipe from TOML (`recipe.toml`).
    pub fn from_toml(text: &str) -> Result<Recipe, RecipeError> {
        let deserializer = toml::Deserializer::parse(text).map_err(|e| refuse("recipe", toml_problem(&e)))?;
        let written: Written =
            serde_path_to_error::deserialize(deserializer).map_err(|e| parse_error(e.path().to_string(), e.inner()))?;
        Recipe::check(written)
    }

    /// A recipe from JSON (the API).
    pub fn from_json(bytes: &[u8]) -> Result<Recipe, RecipeError> {
        let mut deserializer = serde_json::Deserializer::from_slice(bytes);
        let written: Written = serde_path_to_error::deserialize(&mut deserializer)
            .map_err(|e| parse_error(e.path().to_string(), e.inner()))?;
        Recipe::check(written)
    }

    fn check(written: Written) -> Result<Recipe, RecipeError> {
        let name = written.name.trim().to_string();
        if name.is_empty() || name.chars().count() > 200 || name.chars().any(char::is_control) {
            return Err(refuse("name", "is one line of 1 to 200 characters"));
        }
        match &written.command {
            Command::Shell(line) if line.trim().is_empty() => return Err(refuse("command", "is empty")),
            Command::Argv(argv) if argv.is_empty() || argv[0].is_empty() => {
                return Err(refuse("command", "names no program"))
            }
            Command::Argv(argv) if argv.len() > 1000 => return Err(refuse("command", "has over 1,000 arguments")),
            _ => {}
        }
        let words: Vec<&String> = match &written.command {
            Command::Shell(line) => vec![line],
            Command::Argv(argv) => argv.iter().collect(),
        };
        if words.iter().any(|w| w.contains('\0') || w.len() > 100_000) {
            return Err(refuse("command", "has a NUL or an argument over 100,000 bytes"));
        }
        let toolchain = written.toolchain.trim().to_string();
        if toolchain.is_empty() {
            return Err(refuse("toolchain", "is required: `host`, or a directory under the toolchain root"));
        }
        if toolchain != "host" && !plain_relative(&toolchain) {
            return Err(refuse("toolchain", "is `host` or a directory name under the toolchain root"));
        }
        if written.outputs.is_empty() {
            return Err(refuse("outputs", "lists no output"));
        }
        if written.outputs.len() > 100 {
            return Err(refuse("outputs", "lists over 100 outputs"));
        }
        let mut outputs = Vec::new();
        let mut artifacts = std::collections::BTreeSet::new();
        for (n, output) in written.outputs.into_iter().enumerate() {
            if !plain_relative(&output.path) {
                return Err(refuse(
                    format!("outputs[{n}].path"),
                    "is a path relative to the build directory, without `..`",
                ));
            }
            let artifact = output.artifact.trim().to_string();
            if artifact.is_empty() || artifact.chars().count() > 200 || artifact.chars().any(char::is_control) {
                return Err(refuse(format!("outputs[{n}].artifact"), "is one line of 1 to 200 characters"));
            }
            let platform = output.platform.trim().to_string();
            if platform.chars().count() > 100 || platform.chars().any(char::is_control) {
                return Err(refuse(format!("outputs[{n}].platform"), "is one line of at most 100 characters"));
            }
            if !artifacts.insert((artifact.clone(), platform.clone())) {
                return Err(refuse(format!("outputs[{n}].artifact"), "names an artifact and platform twice"));
            }
            outputs.push(Output { path: output.path, artifact, platform });
        }
        for (key, value) in &written.env {
            let field = format!("env.{key}");
            let valid = key.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && key.len() <= 100;
            if !valid {
                return Err(refuse(field, "is not a variable name (letters, digits and _)"));
            }
            if RESERVED.contains(&key.as_str()) {
                return Err(refuse(field, "is set by the room"));
            }
            if value.contains('\0') || value.len() > 10_000 {
                return Err(refuse(field, "has a NUL or is over 10,000 bytes"));
            }
        }
        if written.env.len() > 100 {
            return Err(refuse("env", "sets over 100 variables"));
        }
        let given =
            [written.limits.wall_seconds, written.limits.memory_mb, written.limits.processes, written.limits.output_mb];
        let mut values = [0u64; 4];
        for (n, ((key, default, min, max), given)) in LIMITS.iter().zip(given).enumerate() {
            let value = given.unwrap_or(*default);
            if !(*min..=*max).contains(&value) {
                return Err(refuse(format!("limits.{key}"), format!("is between {min} and {max}")));
            }
            values[n] = value;
        }
        let limits =
            Limits { wall_seconds: values[0], memory_mb: values[1], processes: values[2], output_mb: values[3] };
        Ok(Recipe { name, command: written.command, toolchain, outputs, env: written.env, limits })
    }

    /// The canonical JSON: keys sorted, no spaces, every default written out.
    pub fn canonical_json(&self) -> String {
        // serde_json's maps are sorted (no `preserve_order`), so a value's keys come out sorted.
        let value = serde_json::to_value(self).expect("a recipe is JSON");
        serde_json::to_string(&value).expect("JSON")
    }

    /// The SHA-256 of the canonical JSON (hex).
    pub fn digest(&self) -> String {
        super::sha256_hex(self.canonical_json().as_bytes())
    }

    /// The command as run: an argument list, or `/bin/sh -c` with the one string.
    pub fn argv(&self) -> Vec<String> {
        match &self.command {
            Command::Shell(line) => vec!["/bin/sh".into(), "-c".into(), line.clone()],
            Command::Argv(argv) => argv.clone(),
        }
    }
}

impl Recipe {
    /// The recipe as TOML (for the form that edits it): read back, the same recipe.
    pub fn to_toml(&self) -> String {
        // A JSON string is a TOML basic string (the same escapes).
        let text = |value: &str| serde_json::to_string(value).expect("a string");
        let mut out = format!("name = {}\n", text(&self.name));
        match &self.command {
            Command::Shell(line) => out.push_str(&format!("command = {}\n", text(line))),
            Command::Argv(argv) => {
                let words: Vec<String> = argv.iter().map(|w| text(w)).collect();
                out.push_str(&format!("command = [{}]\n", words.join(", ")));
            }
        }
        out.push_str(&format!("toolchain = {}\n", text(&self.toolchain)));
        for output in &self.outputs {
            out.push_str(&format!(
                "\n[[outputs]]\npath = {}\nartifact = {}\nplatform = {}\n",
                text(&output.path),
                text(&output.artifact),
                text(&output.platform)
            ));
        }
        if !self.env.is_empty() {
            out.push_str("\n[env]\n");
            for (name, value) in &self.env {
                out.push_str(&format!("{name} = {}\n", text(value)));
            }
        }
        let l = &self.limits;
        out.push_str(&format!(
            "\n[limits]\nwall_seconds = {}\nmemory_mb = {}\nprocesses = {}\noutput_mb = {}\n",
            l.wall_seconds, l.memory_mb, l.processes, l.output_mb
        ));
        out
    }
}

/// TOML's own syntax error, its first line.
pub(crate) fn toml_problem(error: &toml::de::Error) -> String {
    error.message().lines().next().unwrap_or("is not TOML").to_string()
}

/// A relative path of plain parts: no `..`, `.`, empty part, leading `/` or NUL.
fn plain_relative(path: &str) -> bool {
    !path.is_empty()
        && path.len() <= 4096
        && !path.starts_with('/')
        && !path.contains('\0')
        && path.split('/').all(|part| !part.is_empty() && part != "." && part != "..")
}

#[cfg(test)]
mod tests {
    use super::*;

    const SMALLEST: &str = r#"
name = "hello"
command = ["make", "hello"]
toolchain = "host"
[[outputs]]
path = "hello"
artifact = "hello"
platform = "linux-x86_64"
[limits]
wall_seconds = 120
"#;

    #[test]
    fn the_smallest_recipe_reads_with_its_defaults_and_a_stable_digest() {
        let recipe = Recipe::from_toml(SMALLEST).unwrap();
        assert_eq!(recipe.argv(), ["make", "hello"]);
        assert_eq!(recipe.limits, Limits { wall_seconds: 120, memory_mb: 4096, processes: 512, output_mb: 1024 });
        assert_eq!(
            recipe.canonical_json(),
            r#"{"command":["make","hello"],"env":{},"limits":{"memory_mb":4096,"output_mb":1024,"processes":512,"wall_seconds":120},"name":"hello","outputs":[{"artifact":"hello","path":"hello","platform":"linux-x86_64"}],"toolchain":"host"}"#
        );
        let json = Recipe::from_json(recipe.canonical_json().as_bytes()).unwrap();
        assert_eq!(json.digest(), recipe.digest());
        assert_eq!(Recipe::from_toml(&recipe.to_toml()).unwrap(), recipe, "its TOML reads back the same");
        let shell = Recipe::from_toml(&SMALLEST.replace(r#"["make", "hello"]"#, r#""make hello && strip hello""#));
        assert_eq!(shell.unwrap().argv(), ["/bin/sh", "-c", "make hello && strip hello"]);
    }

    #[test]
    fn a_bad_recipe_names_its_field() {
        let field = |text: &str| Recipe::from_toml(text).unwrap_err().field;
        assert_eq!(field(&format!("colour = 1\n{SMALLEST}")), "colour");
        assert_eq!(field(&SMALLEST.replace("wall_seconds = 120", "wall_seconds = 120\ncpu = 2")), "limits.cpu");
        assert_eq!(field(&SMALLEST.replace("wall_seconds = 120", "wall_seconds = 0")), "limits.wall_seconds");
        assert_eq!(field(&SMALLEST.replace("wall_seconds = 120", "wall_seconds = \"x\"")), "limits.wall_seconds");
        assert_eq!(field(&SMALLEST.replace("path = \"hello\"", "path = \"/etc/passwd\"")), "outputs[0].path");
        assert_eq!(field(&SMALLEST.replace("path = \"hello\"", "path = \"out/../../x\"")), "outputs[0].path");
        assert_eq!(field(&SMALLEST.replace("toolchain = \"host\"\n", "")), "toolchain");
        assert_eq!(field(&SMALLEST.replace("toolchain = \"host\"", "toolchain = \"../x\"")), "toolchain");
        assert_eq!(field(&SMALLEST.replace(r#"["make", "hello"]"#, "[]")), "command");
        assert_eq!(field(&SMALLEST.replace("[limits]", "[env]\nPATH = \"/x\"\n[limits]")), "env.PATH");
        assert_eq!(field("name = "), "recipe");
        let json = Recipe::from_json(
            br#"{"name":"x","command":"make","toolchain":"host","outputs":[{"path":"a","artifact":"a","extra":1}]}"#,
        );
        assert_eq!(json.unwrap_err().field, "outputs[0].extra");
    }
}
