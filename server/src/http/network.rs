//! Works out, once per request, where it came from and which origin it was addressed to (the rules
//! are `crate::network`'s), for the audit log, the sign-in limits and the same-origin check.

use crate::network::{canonical, Network};
use axum::extract::{ConnectInfo, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

/// What the other middleware reads: the client's address and the origin this site expects.
#[derive(Clone, Debug)]
pub struct Origin {
    pub client: IpAddr,
    pub expected_origin: Option<String>,
}

/// Works out `Origin` once per request.
pub async fn locate(
    State(network): State<Arc<Network>>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    mut request: Request,
    next: Next,
) -> Response {
    let headers = request.headers();
    let located = Origin {
        client: network.client(peer.ip(), headers),
        expected_origin: network.expected_origin(canonical(peer.ip()), headers),
    };
    request.extensions_mut().insert(located);
    next.run(request).await
}
