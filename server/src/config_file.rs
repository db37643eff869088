//! Settings from a TOML file (`--config FILE` or `CLEARROOM_CONFIG`). One precedence, for every
//! setting: a command-line flag, then the environment, then the file, then the default. The file's
//! keys are the long options' names (`public-url`, or `public_url`); each is handed to the
//! command line as its environment variable when that variable is not already set, so clap applies
//! the precedence and the same parsing as for flags. An unknown key is an error (a typo must not
//! silently leave a security setting at its default). Values are never printed.

use anyhow::{bail, Context as _};
use std::path::{Path, PathBuf};

/// Every setting a file may hold, and the environment variable the command line reads it from.
pub const SETTINGS: &[(&str, &str)] = &[
    ("data-dir", "CLEARROOM_DATA_DIR"),
    ("database-url", "CLEARROOM_DATABASE_URL"),
    ("log-key", "CLEARROOM_LOG_KEY"),
    ("log-origin", "CLEARROOM_LOG_ORIGIN"),
    ("log-format", "CLEARROOM_LOG_FORMAT"),
    ("listen", "CLEARROOM_LISTEN"),
    ("site-root", "LEPTOS_SITE_ROOT"),
    ("highlight-max-bytes", "CLEARROOM_HIGHLIGHT_MAX_BYTES"),
    ("search-budget-ms", "CLEARROOM_SEARCH_BUDGET_MS"),
    ("memory-cache-mb", "CLEARROOM_MEMORY_CACHE_MB"),
    ("disk-cache-mb", "CLEARROOM_DISK_CACHE_MB"),
    ("upload-max-bytes", "CLEARROOM_UPLOAD_MAX_BYTES"),
    ("witness-policy", "CLEARROOM_WITNESS_POLICY"),
    ("export-retention-hours", "CLEARROOM_EXPORT_RETENTION_HOURS"),
    ("export-disk-mb", "CLEARROOM_EXPORT_DISK_MB"),
    ("exports-per-day", "CLEARROOM_EXPORTS_PER_DAY"),
    ("public-rate-limit", "CLEARROOM_PUBLIC_RATE_LIMIT"),
    ("job-stale-seconds", "CLEARROOM_JOB_STALE_SECONDS"),
    ("room-dir", "CLEARROOM_ROOM_DIR"),
    ("toolchain-root", "CLEARROOM_TOOLCHAIN_ROOT"),
    ("trusted-proxy", "CLEARROOM_TRUSTED_PROXIES"),
    ("public-url", "CLEARROOM_PUBLIC_URL"),
    ("metrics-listen", "CLEARROOM_METRICS_LISTEN"),
    ("import-root", "CLEARROOM_IMPORT_ROOTS"),
    ("require-staff-second-factor", "CLEARROOM_REQUIRE_STAFF_SECOND_FACTOR"),
];

/// The file named by `--config FILE` / `--config=FILE` in `args`, else by `CLEARROOM_CONFIG`.
pub fn named_in(args: &[String]) -> Option<PathBuf> {
    let mut iter = args.iter();
    while let Some(arg) = iter.next() {
        if arg == "--" {
            break;
        }
        if arg == "--config" {
            return iter.next().map(PathBuf::from);
        }
        if let Some(path) = arg.strip_prefix("--config=") {
            return Some(PathBuf::from(path));
        }
    }
    std::env::var_os("CLEARROOM_CONFIG").map(PathBuf::from)
}

/// The environment variables a file's settings become: `(variable, value)` in file order.
pub fn read(path: &Path) -> anyhow::Result<Vec<(&'static str, String)>> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    parse(&text).with_context(|| format!("in {}", path.display()))
}

pub fn parse(text: &str) -> anyhow::Result<Vec<(&'static str, String)>> {
    let table: toml::Table = text.parse().context("not valid TOML")?;
    let mut settings = Vec::new();
    for (key, value) in &table {
        let name = key.replace('_', "-");
        // The plural spellings of the repeatable options read naturally in a file.
        let name = match name.as_str() {
            "trusted-proxies" => "trusted-proxy".to_string(),
            "import-roots" => "import-root".to_string(),
            _ => name,
        };
        let Some((_, variable)) = SETTINGS.iter().find(|(setting, _)| *setting == name) else {
            let known: Vec<&str> = SETTINGS.iter().map(|(setting, _)| *setting).collect();
            bail!("unknown setting {key:?} (known: {})", known.join(", "));
        };
        let value = match value {
            toml::Value::String(text) => text.clone(),
            toml::Value::Integer(number) => number.to_string(),
            toml::Value::Boolean(flag) => flag.to_string(),
            toml::Value::Array(items) => {
                let mut parts = Vec::new();
                for item in items {
                    match item {
                        toml::Value::String(text) if !text.contains(',') => parts.push(text.clone()),
                        _ => bail!("{key}: a list of strings without commas"),
                    }
                }
                parts.join(",")
            }
            _ => bail!("{key}: a string, a number, true/false or a list of strings"),
        };
        settings.push((*variable, value));
    }
    Ok(settings)
}

/// Reads the file named on the command line or in the environment, if any, and sets each of its
/// settings as its environment variable unless the environment already has it. Runs before the
/// runtime starts (no other thread reads the environment yet).
pub fn apply_from_args() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let Some(path) = named_in(&args) else { return Ok(()) };
    for (variable, value) in read(&path)? {
        if std::env::var_os(variable).is_none() {
            std::env::set_var(variable, value);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_setting_a_file_may_hold_is_a_long_option_read_from_its_variable() {
        let cli = [include_str!("cli/mod.rs"), include_str!("main.rs")].concat();
        for (setting, variable) in SETTINGS {
            assert!(cli.contains(&format!("\"{variable}\"")), "{setting}: no option reads {variable}");
            let field = setting.replace('-', "_");
            let long = format!("long = \"{setting}\"");
            assert!(
                cli.contains(&format!("{field}:")) || cli.contains(&long),
                "{setting}: no long option of that name"
            );
        }
    }

    #[test]
    fn a_file_names_settings_as_the_long_options_do() {
        let settings = parse(
            "public-url = \"https://review.example.org\"\ntrusted_proxies = [\"10.0.0.0/8\", \"192.0.2.1\"]\n\
             memory-cache-mb = 128\nlog-format = \"json\"\n",
        )
        .unwrap();
        assert_eq!(
            settings,
            vec![
                ("CLEARROOM_LOG_FORMAT", "json".to_string()),
                ("CLEARROOM_MEMORY_CACHE_MB", "128".to_string()),
                ("CLEARROOM_PUBLIC_URL", "https://review.example.org".to_string()),
                ("CLEARROOM_TRUSTED_PROXIES", "10.0.0.0/8,192.0.2.1".to_string()),
            ]
        );
    }

    #[test]
    fn an_unknown_or_odd_setting_is_an_error() {
        assert!(parse("public-ulr = \"https://x\"").unwrap_err().to_string().contains("unknown setting"));
        assert!(parse("listen = { a = 1 }").is_err());
        assert!(parse("import-root = [\"a,b\"]").is_err());
        assert!(parse("not toml").is_err());
    }

    #[test]
    fn the_file_is_named_by_a_flag_or_the_environment() {
        let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(named_in(&args(&["server", "--config", "a.toml", "serve"])), Some(PathBuf::from("a.toml")));
        assert_eq!(named_in(&args(&["server", "serve", "--config=b.toml"])), Some(PathBuf::from("b.toml")));
    }
}
