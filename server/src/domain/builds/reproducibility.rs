//! Whether independent builders agree: a pin's builds grouped by artifact (name and platform),
//! reproduced when distinct accounts recorded one hash, a mismatch when hashes differ.

use app::model::*;
use std::collections::{BTreeMap, HashSet};

/// Groups a pin's builds by artifact (name and platform) and decides whether builders agree.
pub fn group(builds: Vec<BuildView>) -> Vec<ArtifactBuilds> {
    let mut by_artifact: BTreeMap<(String, String), Vec<BuildView>> = BTreeMap::new();
    for build in builds {
        by_artifact.entry((build.name.clone(), build.platform.clone())).or_default().push(build);
    }
    by_artifact
        .into_iter()
        .map(|((name, platform), builds)| {
            let mut accounts: BTreeMap<String, std::collections::BTreeSet<String>> = BTreeMap::new();
            for build in &builds {
                accounts.entry(build.sha256.clone()).or_default().insert(build.recorded_by.clone());
            }
            let accounts = accounts.into_iter().map(|(sha256, names)| (sha256, names.into_iter().collect())).collect();
            ArtifactBuilds { status: reproducibility(&builds), name, platform, accounts, builds }
        })
        .collect()
}

/// One hash from several distinct accounts is reproduced; two hashes is a mismatch (a builder whose
/// own records differ is not reproducible either). Accounts, not the labels records give: one
/// account's records count once whatever they call themselves.
pub fn reproducibility(builds: &[BuildView]) -> Reproducibility {
    let hashes: HashSet<&str> = builds.iter().map(|b| b.sha256.as_str()).collect();
    let builders: HashSet<&str> = builds.iter().map(|b| b.recorded_by.as_str()).collect();
    match (hashes.len(), builders.len()) {
        (0 | 1, 0 | 1) => Reproducibility::Single,
        (0 | 1, n) => Reproducibility::Reproduced(n as u32),
        _ => Reproducibility::Mismatch,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A record by `account`, labelled "lab" whatever the account (labels count for nothing).
    fn build(account: &str, sha: &str) -> BuildView {
        BuildView {
            id: 1,
            pin: 1,
            name: "app".into(),
            platform: String::new(),
            sha256: sha.into(),
            size: None,
            builder: "lab".into(),
            recorded_by: account.into(),
            command: String::new(),
            toolchain: String::new(),
            notes: String::new(),
            started_at_ms: None,
            finished_at_ms: None,
            recorded_at_ms: 0,
            uploaded: false,
            attestation_sha256: None,
        }
    }

    #[test]
    fn builders_agreeing_reproduce_and_any_difference_is_a_mismatch() {
        assert_eq!(reproducibility(&[build("ci", "a")]), Reproducibility::Single);
        assert_eq!(reproducibility(&[build("ci", "a"), build("ci", "a")]), Reproducibility::Single);
        assert_eq!(reproducibility(&[build("ci", "a"), build("lab", "a")]), Reproducibility::Reproduced(2));
        assert_eq!(reproducibility(&[build("ci", "a"), build("lab", "a"), build("x", "b")]), Reproducibility::Mismatch);
        assert_eq!(reproducibility(&[build("ci", "a"), build("ci", "b")]), Reproducibility::Mismatch);
    }
}
