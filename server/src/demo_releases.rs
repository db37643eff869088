//! `serve --demo`'s releases: two supervisors with keys made as `server supervisor key` makes them
//! (kept in the data directory so a newcomer can sign with them), the repository's release policy,
//! the demo release proposed and signed by one supervisor — the policy's quorum, so it is
//! authorised and in the public log (`/releases`) — and the previous release, whose builders
//! disagree, objected to by the other.

use crate::config::Config;
use crate::domain::releases::PolicyFormat;
use crate::domain::{Actor, Domain};
use crate::releases::keys;
use app::model::{NewRelease, PinId, ReleaseArtifact};
use sha2::Digest as _;

const POLICY: &str = "# Each artifact reproduced by two builder accounts, no reviewer's objection, no open\n\
# critical finding, and one of the two supervisors' signatures.\n\
reproduced_by = 2\nverdicts_no_objection = 0\nmax_open_findings_at = \"critical\"\n\
[supervisors]\nquorum = 1\nnames = [\"supervisor\", \"supervisor2\"]\n";

/// The stand-in hash the demo's builders recorded for a pin (`demo::builds`).
fn stand_in(text: String) -> String {
    hex::encode(sha2::Sha256::digest(text.as_bytes()))
}

fn release(version: &str, sha256: String) -> NewRelease {
    NewRelease {
        version: version.into(),
        artifacts: vec![ReleaseArtifact { name: "clearroom-server".into(), platform: "linux/amd64".into(), sha256 }],
    }
}

pub async fn seed(
    domain: &Domain,
    config: &Config,
    repository: &str,
    pin: PinId,
    previous: Option<PinId>,
) -> anyhow::Result<String> {
    let fail = |e: app::error::AppError| anyhow::anyhow!("{e}");
    let dir = config.data_dir.join("demo-supervisor-keys");
    std::fs::create_dir_all(&dir)?;
    let mut signers = Vec::new();
    for name in ["supervisor", "supervisor2"] {
        let signer = crate::audit::note::NoteSigner::generate(name).map_err(|e| anyhow::anyhow!("{e}"))?;
        crate::audit::checkpoint::write_private(&dir.join(format!("{name}.key")), &(signer.to_key_string() + "\n"))?;
        std::fs::write(dir.join(format!("{name}.pub")), signer.verifier().to_string() + "\n")?;
        domain.releases().register_key(Actor::Operator, name, &signer.verifier().to_string()).await.map_err(fail)?;
        signers.push(signer);
    }
    let policy =
        domain.releases().set_policy(Actor::Operator, repository, POLICY, PolicyFormat::Toml).await.map_err(fail)?;
    let mut lines = vec![format!(
        "Release policy of {repository} (sha256 {}): `server release policy show --repo {repository}`.",
        policy.sha256
    )];
    if let Some(previous) = previous {
        let proposed = domain
            .releases()
            .propose(Actor::Operator, previous, &release("0.9", stand_in(format!("demo build of pin {previous}"))))
            .await
            .map_err(fail)?;
        let dossier = domain.releases().dossier(Actor::Operator, proposed.id).await.map_err(fail)?;
        let reason = "ci and lab built different binaries of this commit: reproduce it before release.";
        let objection = keys::object(&dossier, &signers[1], reason)?;
        let file = serde_json::to_string(&objection)?;
        domain.releases().decide(Actor::Operator, proposed.id, Some("supervisor2"), &file).await.map_err(fail)?;
        lines.push(format!(
            "Release 0.9 (pin {previous}) was objected to by supervisor2: `server release show {}`.",
            proposed.id
        ));
    }
    let proposed = domain
        .releases()
        .propose(Actor::Operator, pin, &release("1.0", stand_in(format!("demo build of pin {pin}"))))
        .await
        .map_err(fail)?;
    let dossier = domain.releases().dossier(Actor::Operator, proposed.id).await.map_err(fail)?;
    let signature = serde_json::to_string(&keys::sign(&dossier, &signers[0])?)?;
    let signed =
        domain.releases().decide(Actor::Operator, proposed.id, Some("supervisor"), &signature).await.map_err(fail)?;
    lines.push(format!(
        "Release 1.0 (pin {pin}) is {} by supervisor and in the public log: /releases, /bt/checkpoint, /entries/… (no sign-in).",
        signed.state.as_str()
    ));
    lines.push(format!(
        "The supervisors' keys are in {}. Check a file against the public log: `server release proof {} --out proof.json`, then `server verify release FILE --bt-key KEY --supervisor-key {} --proof proof.json` (KEY from /bt/key).",
        dir.display(),
        proposed.id,
        dir.join("supervisor.pub").display()
    ));
    Ok(lines.join("\n"))
}
