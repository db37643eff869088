//! The administrative command line, as an operator uses it, on a data directory.

use crate::helpers::make_repository;
use std::io::Write as _;
use std::process::{Command, Stdio};

fn server(data_dir: &std::path::Path, args: &[&str], stdin: Option<&str>) -> (bool, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_server"));
    command
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--log-origin")
        .arg("cli.invalid/clearroom/log")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let mut child = command.spawn().unwrap();
    let mut input = child.stdin.take().unwrap();
    if let Some(text) = stdin {
        input.write_all(text.as_bytes()).unwrap();
    }
    drop(input);
    let output = child.wait_with_output().unwrap();
    let text = format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr));
    (output.status.success(), text)
}

fn last_word(text: &str) -> String {
    text.split_whitespace().last().unwrap().to_string()
}

#[tokio::test]
async fn an_operator_sets_up_a_review_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let repository = make_repository(&dir.path().join("upstream.git"));
    let data = dir.path().join("data");

    let (ok, out) =
        server(&data, &["user", "add", "--username", "alice", "--role", "reviewer"], Some("a long enough password\n"));
    assert!(ok, "{out}");
    let (ok, out) = server(&data, &["user", "add", "--username", "rex", "--role", "regulator"], None);
    assert!(ok && out.contains("with password"), "a generated password is printed: {out}");
    let (ok, out) =
        server(&data, &["user", "add", "--username", "alice", "--role", "reviewer"], Some("another password 123\n"));
    assert!(!ok && out.contains("taken"), "{out}");

    let (ok, out) = server(&data, &["repo", "import", "product", repository.to_str().unwrap()], None);
    assert!(ok, "{out}");
    let (ok, out) = server(&data, &["pin", "product", "HEAD", "--label", "Release 1.0"], None);
    assert!(ok, "{out}");
    let pin = last_word(&out);
    assert_eq!(pin, "1");
    let (ok, out) = server(&data, &["pin", "product", "no-such-commit", "--label", "Bad"], None);
    assert!(!ok && out.contains("does not name a commit"), "{out}");
    let (ok, out) = server(&data, &["pin", "policy", &pin, "--history", "messages", "--downloads", "off"], None);
    assert!(ok && out.contains("policy set"), "{out}");
    let (ok, out) = server(&data, &["pin", "policy", &pin, "--history", "everything"], None);
    assert!(!ok && out.contains("off, messages, full"), "{out}");
    let (ok, out) = server(&data, &["pin", "policy", &pin], None);
    assert!(!ok && out.contains("name a policy"), "{out}");
    let (ok, out) = server(&data, &["pin", "policy", "99", "--history", "full"], None);
    assert!(!ok && out.contains("no pin 99"), "{out}");
    let (ok, out) = server(&data, &["pin", "product", "HEAD"], None);
    assert!(!ok && out.contains("--label"), "a pin needs its label: {out}");

    // The pin's requirement list, from a CSV file; a file that is not a list is refused with why.
    let list = dir.path().join("reqs.csv");
    std::fs::write(&list, "id,title,text\nFCS_COP.1/AES,AES,Encrypts.\nFIA_UAU.2,Auth,First.\n").unwrap();
    let import = ["requirements", "import", "--pin", &pin, "--file", list.to_str().unwrap()];
    let (ok, out) = server(&data, &import, None);
    assert!(ok && out.contains("imported 2 requirements for pin 1 as list 1 (sha256 "), "{out}");
    std::fs::write(&list, "id,title,text\nA B,spaces,x\n").unwrap();
    let (ok, out) = server(&data, &import, None);
    assert!(!ok && out.contains("without spaces or commas"), "{out}");
    let missing = ["requirements", "import", "--pin", &pin, "--file", "/nonexistent/reqs.csv"];
    let (ok, out) = server(&data, &missing, None);
    assert!(!ok && out.contains("reading /nonexistent/reqs.csv"), "{out}");

    let (ok, out) = server(
        &data,
        &[
            "grant",
            "--username",
            "alice",
            "--pin",
            &pin,
            "--from",
            "2020-01-01T00:00:00Z",
            "--until",
            "2099-01-01T00:00:00Z",
        ],
        None,
    );
    assert!(ok, "{out}");
    let (ok, out) = server(
        &data,
        &["grant", "--username", "alice", "--pin", "x", "--from", "2020-01-01T00:00:00Z", "--until", "soon"],
        None,
    );
    assert!(!ok, "{out}");

    let (ok, out) = server(&data, &["token", "create", "--username", "rex"], None);
    assert!(!ok && out.contains("--scope"), "a token names its scopes: {out}");
    let (ok, out) = server(&data, &["token", "create", "--username", "rex", "--scope", "build:write"], None);
    assert!(!ok && out.contains("cannot hold the build:write scope"), "{out}");
    let (ok, out) = server(&data, &["token", "create", "--username", "rex", "--scope", "source"], None);
    assert!(!ok, "{out}");
    let create =
        ["token", "create", "--username", "rex", "--scope", "log:read", "--days", "30", "--label", "oversight"];
    let (ok, out) = server(&data, &create, None);
    assert!(ok, "{out}");
    let token = last_word(&out);
    assert!(token.starts_with("crt_"));
    let (ok, out) = server(&data, &["token", "list"], None);
    assert!(ok && out.contains("rex") && out.contains("live") && out.contains("log:read") && out.contains("oversight"));
    assert!(!out.contains(&token), "the token itself is never shown again: {out}");
    let (ok, out) = server(&data, &["token", "revoke", "1"], None);
    assert!(ok, "{out}");
    let (ok, out) = server(&data, &["token", "revoke", "1"], None);
    assert!(!ok && out.contains("no live token"), "{out}");
    let (ok, out) = server(&data, &["token", "list"], None);
    assert!(ok && out.contains("revoked"), "{out}");
    let (ok, out) = server(&data, &["user", "disable", "rex", "--reason", "left the agency"], None);
    assert!(ok, "{out}");
    let (ok, out) = server(&data, &["user", "disable", "rex"], None);
    assert!(!ok && out.contains("already disabled"), "{out}");

    let (ok, out) = server(&data, &["revoke", "1"], None);
    assert!(ok, "{out}");
    let (ok, out) = server(&data, &["revoke", "1"], None);
    assert!(!ok && out.contains("no active grant"), "{out}");

    // The operator's actions are in the log, which verifies offline once a checkpoint is signed.
    let url = format!("sqlite://{}?mode=rwc", data.join("clearroom.db").display());
    let store = clearroom::store::Store::connect(&url).await.unwrap();
    let log = clearroom::audit::AuditLog::new(store, clearroom::clock::Clock::system());
    let key_text = std::fs::read_to_string(data.join("log-signing.key")).unwrap();
    let signer = clearroom::audit::note::NoteSigner::parse(&key_text).unwrap();
    log.publish_checkpoint(&signer).await.unwrap();
    std::fs::write(dir.path().join("log.pub"), signer.verifier().to_string()).unwrap();
    let (ok, out) = server(&data, &["verify", "log", "--key", dir.path().join("log.pub").to_str().unwrap()], None);
    assert!(ok && out.contains("all 12 verified"), "{out}");
}

#[tokio::test]
async fn an_operator_exports_a_bundle_and_verifies_it_offline() {
    let dir = tempfile::tempdir().unwrap();
    let repository = make_repository(&dir.path().join("upstream.git"));
    let data = dir.path().join("data");
    let (ok, out) = server(&data, &["repo", "import", "product", repository.to_str().unwrap()], None);
    assert!(ok, "{out}");
    let (ok, out) = server(&data, &["pin", "product", "HEAD", "--label", "Release 1.0"], None);
    assert!(ok, "{out}");
    let pin = last_word(&out);
    let bundle = dir.path().join("bundle.zip");
    let (ok, out) = server(&data, &["export", "--pin", &pin, "--out", bundle.to_str().unwrap()], None);
    assert!(ok, "{out}");
    assert!(out.contains("sha256 "), "{out}");

    // The key a regulator got from the vendor: here, the data directory's own.
    let signer = std::fs::read_to_string(data.join("log-signing.key")).unwrap();
    let signer = clearroom::audit::note::NoteSigner::parse(&signer).unwrap();
    let key = dir.path().join("log.vkey");
    std::fs::write(&key, format!("{}\n", signer.verifier())).unwrap();
    let (ok, out) =
        server(&data, &["verify", "bundle", bundle.to_str().unwrap(), "--key", key.to_str().unwrap()], None);
    assert!(ok, "{out}");
    assert!(out.contains("VERIFIED"), "{out}");

    // Another key: refused, naming what failed.
    let other = clearroom::audit::note::NoteSigner::generate("cli.invalid/clearroom/log").unwrap();
    std::fs::write(&key, format!("{}\n", other.verifier())).unwrap();
    let (ok, out) =
        server(&data, &["verify", "bundle", bundle.to_str().unwrap(), "--key", key.to_str().unwrap()], None);
    assert!(!ok, "{out}");
    assert!(out.contains("FAILED  checkpoint: does not verify with the log key"), "{out}");
    let (ok, out) = server(&data, &["export", "--pin", "99", "--out", bundle.to_str().unwrap()], None);
    assert!(!ok && out.contains("there is no pin 99"), "{out}");
}

#[tokio::test]
async fn settings_come_from_a_file_below_the_environment_and_the_flags() {
    let dir = tempfile::tempdir().unwrap();
    let from_file = dir.path().join("from-file");
    let config = dir.path().join("clearroom.toml");
    let run = |args: &[&str], env: &[(&str, &std::path::Path)]| {
        let mut command = Command::new(env!("CARGO_BIN_EXE_server"));
        command.env_remove("CLEARROOM_DATA_DIR").env_remove("CLEARROOM_CONFIG").args(args);
        for (name, value) in env {
            command.env(name, value);
        }
        let output = command.stdin(Stdio::null()).output().unwrap();
        (
            output.status.success(),
            format!("{}{}", String::from_utf8_lossy(&output.stdout), String::from_utf8_lossy(&output.stderr)),
        )
    };
    std::fs::write(
        &config,
        format!("data-dir = {:?}\nlog_origin = \"file.invalid/clearroom/log\"\n", from_file.display().to_string()),
    )
    .unwrap();
    let add = ["user", "add", "--username", "fay", "--role", "regulator"];
    let config_arg = config.to_str().unwrap();
    // The file alone.
    let (ok, out) = run(&[&["--config", config_arg][..], &add[..]].concat(), &[]);
    assert!(ok, "{out}");
    assert!(from_file.join("clearroom.db").exists());
    // The environment wins over the file, and a flag over both.
    let from_env = dir.path().join("from-env");
    let (ok, out) = run(&[&["--config", config_arg][..], &add[..]].concat(), &[("CLEARROOM_DATA_DIR", &from_env)]);
    assert!(ok, "{out}");
    assert!(from_env.join("clearroom.db").exists());
    let from_flag = dir.path().join("from-flag");
    let flag = from_flag.to_str().unwrap();
    let (ok, out) = run(
        &[&["--config", config_arg, "--data-dir", flag][..], &add[..]].concat(),
        &[("CLEARROOM_DATA_DIR", &from_env)],
    );
    assert!(ok, "{out}");
    assert!(from_flag.join("clearroom.db").exists());
    // A misspelt setting stops the server with its name; no value is printed.
    std::fs::write(&config, "database-url = \"postgres://user:s3cret@db/clearroom\"\npublic-ulr = \"https://x\"\n")
        .unwrap();
    let (ok, out) = run(&[&["--config", config_arg][..], &add[..]].concat(), &[]);
    assert!(!ok && out.contains("unknown setting \"public-ulr\""), "{out}");
    assert!(!out.contains("s3cret"), "{out}");
}

#[tokio::test]
async fn an_operator_sets_a_recipe_and_builds_a_pin_in_the_room() {
    let dir = tempfile::tempdir().unwrap();
    let repository = make_repository(&dir.path().join("upstream.git"));
    let data = dir.path().join("data");
    assert!(server(&data, &["repo", "import", "product", repository.to_str().unwrap()], None).0);
    let (ok, out) = server(&data, &["pin", "product", "HEAD", "--label", "Release 1.0"], None);
    assert!(ok, "{out}");
    let pin = last_word(&out);
    let recipe = dir.path().join("recipe.toml");
    let write = |text: &str| std::fs::write(&recipe, text).unwrap();
    write("name = \"listing\"\ncommand = \"find . -type f | sort > files\"\ntoolchain = \"host\"\n[[outputs]]\npath = \"files\"\nartifact = \"files\"\nplatform = \"any\"\n");
    let recipe_path = recipe.to_str().unwrap();
    let (ok, out) = server(&data, &["build", "recipe", "set", "--pin", &pin, "--file", recipe_path], None);
    assert!(ok && out.contains("recipe sha256 "), "{out}");
    let (ok, out) = server(&data, &["build", "run", "--pin", &pin, "--wait"], None);
    assert!(ok, "{out}");
    let output = out.lines().find(|l| l.starts_with("output ")).expect("an output line");
    let words: Vec<&str> = output.split(' ').collect();
    assert_eq!(words[..3], ["output", "files", "any"]);
    assert_eq!(words[3].len(), 64, "{output}");
    // A failing build exits non-zero with its reason; a bad recipe names its field.
    write(
        "name = \"fails\"\ncommand = \"exit 3\"\ntoolchain = \"host\"\n[[outputs]]\npath = \"x\"\nartifact = \"x\"\n",
    );
    assert!(server(&data, &["build", "recipe", "set", "--pin", &pin, "--file", recipe_path], None).0);
    let (ok, out) = server(&data, &["build", "run", "--pin", &pin, "--wait"], None);
    assert!(!ok && out.contains("exit status 3"), "{out}");
    write("name = \"bad\"\ncommand = \"true\"\ntoolchain = \"host\"\n[[outputs]]\npath = \"/etc/passwd\"\nartifact = \"x\"\n");
    let (ok, out) = server(&data, &["build", "recipe", "set", "--pin", &pin, "--file", recipe_path], None);
    assert!(!ok && out.contains("outputs[0].path"), "{out}");
}

#[tokio::test]
async fn an_operator_adds_a_supervisor_and_sets_a_release_policy_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let repository = make_repository(&dir.path().join("upstream.git"));
    let data = dir.path().join("data");
    let (ok, out) = server(&data, &["user", "add", "--username", "sup1", "--role", "supervisor"], None);
    assert!(ok, "{out}");
    let (ok, out) = server(&data, &["repo", "import", "product", repository.to_str().unwrap()], None);
    assert!(ok, "{out}");
    let policy = dir.path().join("policy.toml");
    std::fs::write(&policy, "reproduced_by = 1\n[supervisors]\nquorum = 1\nnames = [\"sup1\"]\n").unwrap();
    let (ok, out) =
        server(&data, &["release", "policy", "set", "--repo", "product", "--file", policy.to_str().unwrap()], None);
    assert!(ok, "{out}");
    let digest = last_word(&out);
    assert_eq!(digest.len(), 64, "{out}");
    let (ok, shown) = server(&data, &["release", "policy", "show", "--repo", "product"], None);
    assert!(ok && shown.contains("\"names\": [\n") && last_word(&shown) == digest, "{shown}");

    std::fs::write(&policy, "reproduced_by = 1\nquorum = 2\n").unwrap();
    let (ok, out) =
        server(&data, &["release", "policy", "set", "--repo", "product", "--file", policy.to_str().unwrap()], None);
    assert!(!ok && out.contains("release policy: quorum: is not a release policy rule"), "{out}");

    // A release, from the supervisor's key to the authorisation, every step at the command line.
    let path = |name: &str| dir.path().join(name).to_str().unwrap().to_string();
    let (ok, out) = server(&data, &["supervisor", "key", "--out", &path("sup1.key")], None);
    assert!(ok && last_word(&out).starts_with("sup1+"), "{out}");
    assert_eq!(std::fs::read_to_string(path("sup1.pub")).unwrap().trim(), out.lines().last().unwrap());
    let (ok, out) = server(&data, &["supervisor", "key", "--out", &path("sup1.key")], None);
    assert!(!ok && out.contains("it must not exist"), "a key is never overwritten: {out}");
    let (ok, out) =
        server(&data, &["supervisor", "register", "--username", "sup1", "--key-file", &path("sup1.pub")], None);
    assert!(ok, "{out}");
    let (ok, out) = server(&data, &["pin", "product", "HEAD", "--label", "Release 1.0"], None);
    let pin = last_word(&out);
    assert!(ok, "{out}");
    let binary = path("product");
    std::fs::write(&binary, b"the product, built").unwrap();
    let sha = crate::builds::sha256(b"the product, built");
    assert!(server(&data, &["build", "record", "--pin", &pin, "--name", "product", "--sha256", &sha], None).0);
    let artifact = format!("product:linux:{sha}");
    let propose = ["release", "propose", "--pin", &pin, "--version", "1.0", "--artifact", &artifact];
    let (ok, out) = server(&data, &propose, None);
    assert!(ok && out.contains("rule reproduced_by met"), "{out}");
    let id = last_word(&out);
    let (ok, out) = server(&data, &["release", "dossier", &id, "--out", &path("dossier.json")], None);
    assert!(ok, "{out}");
    let sign = ["supervisor", "sign", &path("dossier.json"), "--key", &path("sup1.key"), "--out", &path("sup1.sig")];
    let (ok, out) = server(&data, &sign, None);
    assert!(ok, "{out}");
    let (ok, out) =
        server(&data, &["release", "sign", &id, "--username", "sup1", "--signature", &path("sup1.sig")], None);
    assert!(ok && out.contains("signed sup1"), "{out}");
    let (ok, out) = server(&data, &["release", "show", &id], None);
    assert!(ok && out.ends_with("state authorised\n") && out.contains("rule supervisors met"), "{out}");

    // Its proof, checked offline; a tampered file and a missing supervisor fail by name.
    let (ok, out) = server(&data, &["release", "proof", &id, "--out", &path("proof.json")], None);
    assert!(ok, "{out}");
    let bt_key = data.join("public-log-signing.key");
    let signer = clearroom::audit::note::NoteSigner::parse(&std::fs::read_to_string(bt_key).unwrap()).unwrap();
    std::fs::write(path("bt.pub"), signer.verifier().to_string()).unwrap();
    let verify = |file: &str, keys: &[&str]| {
        let mut args =
            vec!["verify", "release", file, "--bt-key", path("bt.pub").leak(), "--proof", path("proof.json").leak()];
        for key in keys {
            args.extend(["--supervisor-key", *key]);
        }
        server(&data, &args, None)
    };
    let sup1 = path("sup1.pub");
    let (ok, out) = verify(&binary, &[&sup1]);
    assert!(ok && out.contains("verified:"), "{out}");
    std::fs::write(path("tampered"), b"the product, built!").unwrap();
    let (ok, out) = verify(&path("tampered"), &[&sup1]);
    assert!(!ok && out.contains("FAILED: the release does not name a file"), "{out}");
    let (ok, out) = verify(&binary, &[]);
    assert!(!ok && out.contains("FAILED: 0 of the given supervisors' keys signed"), "{out}");
}
