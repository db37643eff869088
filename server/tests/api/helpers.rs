//! `spawn_app()` and the `TestApp` with helpers named after what users do.

use app::model::{PinId, Role};
use clearroom::audit::checkpoint::Checkpoint;
use clearroom::audit::note::NoteSigner;
use clearroom::audit::AuditLog;
use clearroom::auth::Password;
use clearroom::clock::Clock;
use clearroom::config::{Config, SourceLimits};
use clearroom::domain::{Actor, Domain};
use clearroom::startup::{open_domain, Application};
use reqwest::redirect::Policy;
use reqwest::{Client, Response, StatusCode};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub const PASSWORD: &str = "correct horse battery staple";

/// A 30-line Rust file, so that permalinks to ranges have lines to point at.
pub fn main_rs() -> String {
    let mut text = String::from("//! The sample program.\n\nuse std::collections::HashMap;\n\n");
    text.push_str(
        "/// Counts words.\npub fn count(text: &str) -> HashMap<&str, usize> {\n    let mut counts = HashMap::new();\n",
    );
    text.push_str("    for word in text.split_whitespace() {\n        *counts.entry(word).or_insert(0) += 1;\n    }\n    counts\n}\n\n");
    for i in 0..15 {
        text.push_str(&format!("const LIMIT_{i}: u32 = {i};\n"));
    }
    text.push_str("fn main() {\n    println!(\"{:?}\", count(\"a b a\"));\n}\n");
    text
}

pub const SECRET_MARKER: &str = "TOP_SECRET_ALGORITHM_MARKER";

/// Writes a repository with a commit: Rust, Markdown, a nested directory, a binary, a big file.
pub fn make_repository(dir: &Path) -> PathBuf {
    let repo = git2::Repository::init_bare(dir).expect("init");
    let big = "x = 1\n".repeat(200_000);
    let files: Vec<(&str, Vec<u8>)> = vec![
        ("README.md", b"# Sample\n\nReview me.\n".to_vec()),
        ("src/main.rs", main_rs().into_bytes()),
        ("src/deep/secret.c", format!("/* {SECRET_MARKER} */\nint f(void) {{ return 42; }}\n").into_bytes()),
        ("assets/logo.png", b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR\0\0\0\x01\0\0\0\x01\x08\x06\0\0\0".to_vec()),
        ("data/big.py", big.into_bytes()),
    ];
    clearroom::demo::write_commit(&repo, &files, "Release 1.0").unwrap();
    dir.to_path_buf()
}

/// A fresh database URL: a SQLite file in `dir`, or a new PostgreSQL database.
pub async fn test_database_url(dir: &Path) -> String {
    match std::env::var("TEST_DATABASE_URL") {
        Ok(base) if !base.is_empty() => {
            use sqlx::Connection;
            let name = format!("clearroom_test_{}", hex::encode(rand::random::<[u8; 6]>()));
            let mut admin = sqlx::PgConnection::connect(&base).await.expect("connecting to TEST_DATABASE_URL");
            sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.expect("create database");
            let (prefix, _) = base.rsplit_once('/').expect("a database URL ends in /NAME");
            format!("{prefix}/{name}")
        }
        _ => format!("sqlite://{}?mode=rwc", dir.join("test.db").display()),
    }
}

pub struct TestApp {
    pub address: String,
    pub domain: Arc<Domain>,
    /// The server's clock: tests move it instead of sleeping.
    pub clock: Clock,
    /// The log over the same database, read from the outside as an operator's tools would.
    pub log: AuditLog,
    pub signer: NoteSigner,
    pub client: Client,
    pub pin: PinId,
    pub repository_path: PathBuf,
    pub database_url: String,
    pub data_dir: PathBuf,
    _dir: tempfile::TempDir,
}

/// The server with a staff, two reviewers (one granted the pin) and a regulator.
pub async fn spawn_app() -> TestApp {
    spawn_app_with(SourceLimits::default()).await
}

/// `spawn_app` with other source limits (a search budget of nothing, say).
pub async fn spawn_app_with(limits: SourceLimits) -> TestApp {
    spawn_app_on(limits, Default::default()).await
}

/// `spawn_app_with` behind trusted proxies or with a public URL.
pub async fn spawn_app_on(limits: SourceLimits, network: clearroom::network::Network) -> TestApp {
    spawn_app_edited(limits, network, |_| {}).await
}

/// The test server with one setting of its configuration changed (`--require-staff-second-factor`…).
pub async fn spawn_app_configured(edit: impl FnOnce(&mut Config)) -> TestApp {
    spawn_app_edited(SourceLimits::default(), Default::default(), edit).await
}

async fn spawn_app_edited(
    limits: SourceLimits,
    network: clearroom::network::Network,
    edit: impl FnOnce(&mut Config),
) -> TestApp {
    // The server's log lines go to the test's output, shown when a test fails.
    let _ = tracing_subscriber::fmt().with_test_writer().with_env_filter("warn,clearroom=info").try_init();
    let dir = tempfile::tempdir().unwrap();
    let repository_path = make_repository(&dir.path().join("upstream.git"));
    let database_url = test_database_url(dir.path()).await;
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: dir.path().join("data"),
        database_url: database_url.clone(),
        site_root: dir.path().join("site"),
        limits,
        log_key: None,
        log_origin: "test.invalid/clearroom/log".into(),
        witness_policy: None,
        clock: Clock::movable(),
        network,
        // Staff may import from the test's own directory on the web.
        import_roots: vec![dir.path().to_path_buf()],
        require_staff_second_factor: false,
        connections: Default::default(),
        room: Default::default(),
    };
    let mut config = config;
    edit(&mut config);
    let clock = config.clock.clone();
    let domain = open_domain(&config).await.expect("open domain");
    for (name, role) in [
        ("staff", Role::Staff),
        ("reviewer", Role::Reviewer),
        ("outsider", Role::Reviewer),
        ("regulator", Role::Regulator),
    ] {
        domain
            .admin()
            .create_user(Actor::Operator, name, role, Some(Password::new(PASSWORD.into())))
            .await
            .expect("create user");
    }
    domain
        .admin()
        .import_repository(Actor::Operator, "product", &repository_path.display().to_string())
        .await
        .expect("import");
    let pin = domain.admin().create_pin(Actor::Operator, "product", "HEAD", "Release 1.0").await.expect("pin");
    let now = clock.now_ms();
    domain.access().grant(Actor::Operator, "reviewer", &[pin], now - 60_000, now + 3_600_000).await.expect("grant");
    let (log, signer) = outside_log(&config).await;
    let application = Application::build(config, Arc::clone(&domain)).await.expect("build");
    let address = format!("http://{}", application.address());
    tokio::spawn(application.run_until_stopped());
    let data_dir = dir.path().join("data");
    TestApp {
        address,
        domain,
        clock,
        log,
        signer,
        client: new_client(),
        pin,
        repository_path,
        database_url,
        data_dir,
        _dir: dir,
    }
}

/// The log and its signing key, opened beside the server on its database and data directory.
pub async fn outside_log(config: &Config) -> (AuditLog, NoteSigner) {
    let store = clearroom::store::Store::connect(&config.database_url).await.expect("connect");
    let key = std::fs::read_to_string(config.log_key_path()).expect("the log key");
    (AuditLog::new(store, config.clock.clone()), NoteSigner::parse(&key).expect("a signing key"))
}

/// A client that says, as browsers do, that its requests come from the page's own site.
pub fn new_client() -> Client {
    let mut headers = reqwest::header::HeaderMap::new();
    headers.insert("sec-fetch-site", reqwest::header::HeaderValue::from_static("same-origin"));
    Client::builder().cookie_store(true).redirect(Policy::none()).default_headers(headers).build().unwrap()
}

/// A client that sends no `Sec-Fetch-Site` of its own (an old browser, a script).
pub fn bare_client() -> Client {
    Client::builder().cookie_store(true).redirect(Policy::none()).build().unwrap()
}

/// The anti-forgery token of a page's forms.
pub fn csrf_of(page: &str) -> String {
    let marker = "name=\"csrf\" value=\"";
    let start = page.find(marker).expect("a form with its anti-forgery token") + marker.len();
    page[start..].split('"').next().unwrap().to_string()
}

/// A signed-in browser's client and its anti-forgery token.
pub async fn signed_in(app: &TestApp, username: &str) -> (Client, String) {
    let client = crate::audit::spawn_client_as(app, username).await;
    let html = client.get(app.url("/")).send().await.unwrap().text().await.unwrap();
    (client, csrf_of(&html))
}

pub fn location(response: &Response) -> String {
    response.headers().get("location").map(|v| v.to_str().unwrap().to_string()).unwrap_or_default()
}

/// The outcome messages a page shows (a notice at the top, or next to a form), in page order.
pub fn outcomes(page: &str) -> Vec<String> {
    let mut found = Vec::new();
    for marker in [r#"class="notice notice-"#, r#"class="field-error"#, r#"class="field-done"#] {
        for (at, _) in page.match_indices(marker) {
            let rest = &page[at..];
            let Some(start) = rest.find('>') else { continue };
            let end = rest[start..].find("</").map_or(rest.len(), |end| start + end);
            found.push((at, rest[start + 1..end].to_string()));
        }
    }
    found.sort();
    found.into_iter().map(|(_, text)| text).collect()
}

/// Follows a form's redirect with the same client and returns what the page then says about it
/// (`outcomes`, joined), whether the message came in the URL or was kept next to the form.
pub async fn outcome_after(app: &TestApp, client: &Client, response: Response) -> String {
    let back = location(&response);
    assert!(back.starts_with('/'), "a redirect back: {} {back}", response.status());
    let page = client.get(app.url(&back)).send().await.unwrap().text().await.unwrap();
    outcomes(&page).join(" | ")
}

impl TestApp {
    /// An API token with every scope the account's role can hold, for 90 days.
    pub async fn token(&self, username: &str) -> String {
        let overview = self.domain.admin().admin_overview(Actor::Operator).await.unwrap();
        let role = overview.users.iter().find(|u| u.username == username).expect("an account").role;
        let scopes = app::model::Scope::all_for(role);
        let request = clearroom::domain::TokenRequest { scopes: &scopes, days: 90, label: "test" };
        self.domain.access().create_token(Actor::Operator, username, request).await.unwrap()
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.address, path)
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("request")
    }

    pub async fn get_text(&self, path: &str) -> (StatusCode, String) {
        let response = self.get(path).await;
        let status = response.status();
        (status, response.text().await.unwrap())
    }

    /// Posts a form the way the browser's sign-in page does.
    pub async fn login(&self, username: &str, password: &str) -> Response {
        self.client
            .post(self.url("/login"))
            .header("origin", &self.address)
            .form(&[("username", username), ("password", password), ("next", "")])
            .send()
            .await
            .expect("login")
    }

    /// A client of its own, signed in as `username` (source is read under a session, never a token).
    pub async fn session_client(&self, username: &str) -> Client {
        let client = new_client();
        let response = client
            .post(self.url("/login"))
            .form(&[("username", username), ("password", PASSWORD), ("next", "")])
            .send()
            .await
            .expect("login");
        assert_eq!(response.status(), reqwest::StatusCode::SEE_OTHER);
        client
    }

    pub async fn login_as(&self, username: &str) {
        let response = self.login(username, PASSWORD).await;
        assert_eq!(response.status(), StatusCode::SEE_OTHER, "sign-in of {username} should redirect");
        assert_eq!(location(&response), "/");
    }

    pub async fn open_file(&self, path: &str) -> (StatusCode, String) {
        self.get_text(&format!("/pins/{}/blob/{}", self.pin, path)).await
    }

    pub async fn open_tree(&self, path: &str) -> (StatusCode, String) {
        self.get_text(&format!("/pins/{}/tree/{}", self.pin, path)).await
    }

    /// The anti-forgery token from a page's forms.
    pub async fn csrf_token(&self) -> String {
        let (_, html) = self.get_text("/").await;
        csrf_of(&html)
    }

    pub async fn post_form(&self, path: &str, fields: &[(&str, &str)]) -> Response {
        self.client.post(self.url(path)).header("origin", &self.address).form(fields).send().await.expect("post")
    }

    pub async fn events(&self, action: &str) -> Vec<app::model::AuditEntry> {
        let query = app::model::AuditQuery { action: Some(action.into()), limit: 500, ..Default::default() };
        self.log.query(&query).await.expect("audit query").entries
    }

    /// Signs a checkpoint now, as the server's publisher would.
    pub async fn publish_checkpoint(&self) -> Checkpoint {
        self.log.publish_checkpoint(&self.signer).await.expect("a checkpoint")
    }

    /// The grants, as the staff console lists them.
    pub async fn grants(&self) -> Vec<app::model::GrantSummary> {
        self.domain.admin().admin_overview(Actor::Operator).await.expect("overview").grants
    }

    pub async fn user_exists(&self, username: &str) -> bool {
        let overview = self.domain.admin().admin_overview(Actor::Operator).await.expect("overview");
        overview.users.iter().any(|u| u.username == username)
    }

    /// Live sessions in the store.
    pub async fn count_sessions(&self) -> i64 {
        use sqlx::{Connection, Row};
        let mut connection = sqlx::AnyConnection::connect(&self.database_url).await.unwrap();
        let now = self.clock.now_ms() / 1000;
        sqlx::query("SELECT COUNT(*) FROM sessions WHERE expiry_date > $1")
            .bind(now)
            .fetch_one(&mut connection)
            .await
            .unwrap()
            .try_get(0)
            .unwrap()
    }

    /// Runs SQL against the app's database from the outside, as an operator or a fault would.
    pub async fn execute_sql(&self, statements: &[&str]) {
        use sqlx::Connection;
        let mut connection = sqlx::AnyConnection::connect(&self.database_url).await.unwrap();
        for statement in statements {
            sqlx::query(statement).execute(&mut connection).await.unwrap();
        }
    }

    /// The one number a query answers (a count), read from the outside.
    pub async fn count_sql(&self, query: &str) -> i64 {
        use sqlx::{Connection, Row};
        let mut connection = sqlx::AnyConnection::connect(&self.database_url).await.unwrap();
        sqlx::query(query).fetch_one(&mut connection).await.unwrap().try_get(0).unwrap()
    }

    /// A fault in the audit store: every insert into the log fails from now on.
    pub async fn break_audit_inserts(&self) {
        if self.is_postgres() {
            self.execute_sql(&[
                "CREATE FUNCTION test_fail() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END; $$",
                "CREATE TRIGGER test_fail BEFORE INSERT ON audit_events FOR EACH ROW EXECUTE FUNCTION test_fail()",
            ])
            .await;
        } else {
            self.execute_sql(&[
                "CREATE TRIGGER test_fail BEFORE INSERT ON audit_events BEGIN SELECT RAISE(ABORT, 'disk full'); END",
            ])
            .await;
        }
    }

    pub fn is_postgres(&self) -> bool {
        self.database_url.starts_with("postgres")
    }
}

/// A second server instance on the same database and data (as behind a load balancer).
pub async fn spawn_second_instance(app: &TestApp) -> String {
    let config = Config {
        listen: "127.0.0.1:0".parse().unwrap(),
        data_dir: app.data_dir.clone(),
        database_url: app.database_url.clone(),
        site_root: app.data_dir.join("site"),
        limits: SourceLimits::default(),
        log_key: None,
        log_origin: "test.invalid/clearroom/log".into(),
        witness_policy: None,
        clock: app.clock.clone(),
        network: Default::default(),
        import_roots: Vec::new(),
        require_staff_second_factor: false,
        connections: Default::default(),
        room: Default::default(),
    };
    let domain = open_domain(&config).await.expect("second instance");
    let application = Application::build(config, domain).await.expect("build second");
    let address = format!("http://{}", application.address());
    tokio::spawn(application.run_until_stopped());
    address
}

/// A page as a browser that accepts compressed responses gets it: its status, its
/// `Content-Encoding`, and its text, decoded.
pub async fn get_compressed(client: &Client, url: &str) -> (StatusCode, Option<String>, String) {
    use std::io::Read as _;
    let response = client.get(url).header("accept-encoding", "gzip, deflate, br, zstd").send().await.expect("request");
    let status = response.status();
    let encoding = response.headers().get("content-encoding").map(|v| v.to_str().unwrap().to_string());
    let bytes = response.bytes().await.unwrap();
    let mut text = String::new();
    match encoding.as_deref() {
        Some("gzip") => {
            flate2::read::GzDecoder::new(&bytes[..]).read_to_string(&mut text).expect("a whole gzip member");
        }
        Some("zstd") => text = String::from_utf8(zstd::decode_all(&bytes[..]).unwrap()).unwrap(),
        None => text = String::from_utf8(bytes.to_vec()).unwrap(),
        Some(other) => panic!("an encoding the test does not decode: {other}"),
    }
    (status, encoding, text)
}

/// The code table of a file page (from its `<tbody>` to its end).
pub fn code_rows(html: &str) -> &str {
    let start = html.find("<tbody>").expect("a code table");
    let end = html[start..].find("</tbody>").expect("the table ends") + start;
    &html[start..end]
}

/// Writes a commit into the server's copy of the repository and pins it, granted to the reviewer.
pub async fn next_release(app: &TestApp, files: &[(&str, Vec<u8>, u32)], label: &str) -> app::model::PinId {
    let repo = git2::Repository::open_bare(app.data_dir.join("repos/product.git")).unwrap();
    let commit = clearroom::demo::write_commit_with_modes(&repo, files, label).unwrap();
    let pin = app
        .domain
        .admin()
        .create_pin(clearroom::domain::Actor::Operator, "product", &commit.to_string(), label)
        .await
        .unwrap();
    let now = app.clock.now_ms();
    app.domain
        .access()
        .grant(clearroom::domain::Actor::Operator, "reviewer", &[pin], now - 1000, now + 3_600_000)
        .await
        .unwrap();
    pin
}

/// Runs the jobs queued, then waits for those the server's own workers took, until every job of
/// `pin` is done.
pub async fn jobs_done(app: &TestApp, pin: app::model::PinId) {
    while app.domain.jobs().run_next_job().await.unwrap() {}
    for _ in 0..300 {
        let jobs = app.domain.jobs().pin_jobs(clearroom::domain::Actor::Operator, pin).await.unwrap();
        if jobs.iter().all(|job| job.state == "done") {
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    panic!("the jobs of pin {pin} did not finish");
}
