//! Prometheus metrics (text exposition format, through `prometheus-client`): requests and their
//! latency by route family, audit appends and commit latency, sign-in outcomes; gauges read at
//! scrape time (highlight cache, background jobs, the self-audit). Served at `GET /metrics` to
//! staff (session or an `ops:read` token) and, when configured, unauthenticated on a listener of
//! its own (`--metrics-listen`). Labels never carry a user, a path of source or an id.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;
use std::sync::OnceLock;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    pub method: String,
    pub route: String,
    pub status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RouteLabels {
    pub route: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OutcomeLabels {
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct JobLabels {
    pub state: String,
}

pub struct Metrics {
    registry: Registry,
    pub requests: Family<RequestLabels, Counter>,
    pub request_seconds: Family<RouteLabels, Histogram>,
    pub audit_appends: Counter,
    pub audit_commits_failed: Counter,
    pub audit_commit_seconds: Histogram,
    pub sign_ins: Family<OutcomeLabels, Counter>,
    pub cache_hits: Gauge<u64, AtomicU64>,
    pub cache_misses: Gauge<u64, AtomicU64>,
    pub cache_bytes: Gauge<u64, AtomicU64>,
    pub jobs: Family<JobLabels, Gauge>,
    pub self_audit_alarm: Gauge,
    pub self_audit_verified: Gauge<u64, AtomicU64>,
}

fn new_metrics() -> Metrics {
    let mut registry = Registry::with_prefix("clearroom");
    let requests = Family::<RequestLabels, Counter>::default();
    registry.register("http_requests", "HTTP requests answered, by method, route family and status", requests.clone());
    let request_seconds =
        Family::<RouteLabels, Histogram>::new_with_constructor(|| Histogram::new(exponential_buckets(0.001, 2.0, 16)));
    registry.register("http_request_duration_seconds", "Time to answer a request", request_seconds.clone());
    let audit_appends = Counter::default();
    registry.register("audit_appends", "Audit events durably committed", audit_appends.clone());
    let audit_commits_failed = Counter::default();
    registry.register(
        "audit_commits_failed",
        "Audit commits that failed (nothing was shown or changed)",
        audit_commits_failed.clone(),
    );
    let audit_commit_seconds = Histogram::new(exponential_buckets(0.0001, 2.0, 16));
    registry.register(
        "audit_commit_duration_seconds",
        "Time to write and durably commit a batch of audit events",
        audit_commit_seconds.clone(),
    );
    let sign_ins = Family::<OutcomeLabels, Counter>::default();
    registry.register("sign_ins", "Sign-in attempts by outcome", sign_ins.clone());
    let cache_hits = Gauge::<u64, AtomicU64>::default();
    registry.register(
        "highlight_cache_hits",
        "Highlighted files served from the caches since start",
        cache_hits.clone(),
    );
    let cache_misses = Gauge::<u64, AtomicU64>::default();
    registry.register("highlight_cache_misses", "Highlighted files computed since start", cache_misses.clone());
    let cache_bytes = Gauge::<u64, AtomicU64>::default();
    registry.register(
        "highlight_cache_memory_bytes",
        "Bytes held by the in-memory highlight cache",
        cache_bytes.clone(),
    );
    let jobs = Family::<JobLabels, Gauge>::default();
    registry.register("background_jobs", "Background jobs by state", jobs.clone());
    let self_audit_alarm = Gauge::default();
    registry.register("self_audit_alarm", "1 when the log's self-audit found a mismatch", self_audit_alarm.clone());
    let self_audit_verified = Gauge::<u64, AtomicU64>::default();
    registry.register(
        "self_audit_verified_entries",
        "Log entries the self-audit has verified",
        self_audit_verified.clone(),
    );
    Metrics {
        registry,
        requests,
        request_seconds,
        audit_appends,
        audit_commits_failed,
        audit_commit_seconds,
        sign_ins,
        cache_hits,
        cache_misses,
        cache_bytes,
        jobs,
        self_audit_alarm,
        self_audit_verified,
    }
}

/// The process's metrics (one registry per process: every server built in it shares it).
pub fn metrics() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(new_metrics)
}

impl Metrics {
    /// The text exposition format.
    pub fn encode(&self) -> String {
        let mut text = String::new();
        if prometheus_client::encoding::text::encode(&mut text, &self.registry).is_err() {
            text.clear();
        }
        text
    }
}

/// A route family for labels: fixed segments kept, ids and everything after a file-path route
/// dropped, unknown first segments folded into `other`, so the label set stays small.
pub fn route_family(path: &str) -> String {
    const KNOWN: [&str; 16] = [
        "api",
        "pins",
        "admin",
        "audit",
        "log",
        "exports",
        "login",
        "logout",
        "verify",
        "fn",
        "healthz",
        "metrics",
        "pkg",
        "style",
        "favicon.svg",
        "account",
    ];
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').filter(|s| !s.is_empty()).collect();
    let Some(first) = segments.first() else { return "/".into() };
    if !KNOWN.contains(first) {
        return "other".into();
    }
    if matches!(*first, "pkg" | "style" | "fn") {
        return format!("/{first}");
    }
    // The segment after one of these names one item (a pin, a user, a repository…), never a kind.
    const COLLECTIONS: [&str; 10] = [
        "pins",
        "users",
        "repositories",
        "grants",
        "jobs",
        "comments",
        "exports",
        "entries",
        "artifacts",
        "attestations",
    ];
    let mut family = String::new();
    let mut previous = "";
    let mut in_pin = false;
    for segment in segments.iter().take(6) {
        let id = COLLECTIONS.contains(&previous) || segment.chars().all(|c| c.is_ascii_digit()) || segment.len() >= 32;
        family.push('/');
        family.push_str(if id { "{id}" } else { segment });
        // Under a pin, the segment after its id is the kind of page; what follows it is a path,
        // a symbol or another pin, none of which belongs in a label.
        if in_pin && !id {
            break;
        }
        in_pin = previous == "pins" || (in_pin && id);
        previous = segment;
    }
    family
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn route_families_name_no_ids_or_paths() {
        assert_eq!(route_family("/pins/12/blob/src/secret.c"), "/pins/{id}/blob");
        assert_eq!(route_family("/api/v1/log/entries"), "/api/v1/log/entries");
        assert_eq!(route_family("/api/v1/pins/3/compare/4"), "/api/v1/pins/{id}/compare");
        assert_eq!(route_family("/pkg/clearroom.wasm"), "/pkg");
        assert_eq!(route_family("/wp-admin/setup.php"), "other");
        assert_eq!(route_family("/"), "/");
        assert_eq!(route_family(&format!("/api/v1/attestations/{}", "ab".repeat(32))), "/api/v1/attestations/{id}");
        // Whatever follows a pin's page kind, and names of users and repositories.
        assert_eq!(route_family("/api/v1/pins/3/reviewed/README.md"), "/api/v1/pins/{id}/reviewed");
        assert_eq!(route_family("/api/v1/pins/3/symbols/parse_config"), "/api/v1/pins/{id}/symbols");
        assert_eq!(route_family("/pins/3/history/src/main.rs"), "/pins/{id}/history");
        assert_eq!(route_family("/pins/3"), "/pins/{id}");
        assert_eq!(route_family("/admin/pins/3/policy"), "/admin/pins/{id}/policy");
        assert_eq!(route_family("/admin/users/alice/disable"), "/admin/users/{id}/disable");
        assert_eq!(route_family("/admin/repositories/firmware/fetch"), "/admin/repositories/{id}/fetch");
        assert_eq!(route_family("/api/v1/log/entries/17/proof"), "/api/v1/log/entries/{id}/proof");
        assert_eq!(route_family("/admin/users"), "/admin/users");
    }

    #[test]
    fn the_exposition_names_every_family() {
        let metrics = metrics();
        metrics.audit_appends.inc();
        let text = metrics.encode();
        for name in
            ["clearroom_audit_appends_total", "clearroom_self_audit_alarm", "clearroom_audit_commit_duration_seconds"]
        {
            assert!(text.contains(name), "{name} in {text}");
        }
    }
}
