//! Where a request came from and which origin it was addressed to, behind reverse proxies too:
//! settings (`--trusted-proxy`, `--public-url`) and the rules that read a request's headers by
//! them. The HTTP layer applies them once per request (`http::network::locate`).
//!
//! The connection's peer is the client unless it is one of the configured trusted proxies; then
//! the client is the nearest untrusted address its `Forwarded` (RFC 7239) or `X-Forwarded-For`
//! header names, walking from the right (the entries a client writes itself sit on the left and
//! are never believed). The site's origin is `--public-url` when given, otherwise the scheme the
//! proxy reports (or `http`) with the request's `Host`.

use axum::http::{header, HeaderMap};
use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};

/// The site's public origin, from `--public-url`: scheme, host and port only.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PublicUrl {
    pub scheme: String,
    /// `host` or `host:port`, lower case, the port left out when it is the scheme's default.
    pub authority: String,
}

impl PublicUrl {
    /// Parses `https://review.example.org` (a trailing `/` is allowed; a path, query, user or
    /// fragment is not: the origin is all the server needs).
    pub fn parse(text: &str) -> Result<PublicUrl, String> {
        let url = url::Url::parse(text.trim()).map_err(|e| format!("not a URL: {e}"))?;
        if !matches!(url.scheme(), "http" | "https") {
            return Err("the scheme must be http or https".into());
        }
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err("give the origin only, such as https://review.example.org".into());
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err("a public URL carries no user name or password".into());
        }
        let host = url.host_str().ok_or("the URL has no host")?.to_ascii_lowercase();
        let authority = match url.port() {
            Some(port) => format!("{host}:{port}"),
            None => host,
        };
        Ok(PublicUrl { scheme: url.scheme().into(), authority })
    }

    pub fn origin(&self) -> String {
        format!("{}://{}", self.scheme, self.authority)
    }

    pub fn is_https(&self) -> bool {
        self.scheme == "https"
    }
}

/// How the server sits on the network (`--trusted-proxy`, `--public-url`).
#[derive(Clone, Debug, Default)]
pub struct Network {
    pub trusted_proxies: Vec<IpNet>,
    pub public_url: Option<PublicUrl>,
}

impl Network {
    fn trusted(&self, address: IpAddr) -> bool {
        let address = canonical(address);
        self.trusted_proxies.iter().any(|net| net.contains(&address))
    }

    /// The client's address: the peer, or when the peer is a trusted proxy, the nearest
    /// untrusted hop it forwarded for.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let peer = canonical(peer);
        if !self.trusted(peer) {
            return peer;
        }
        let hops = forwarded_for(headers);
        let mut client = peer;
        for hop in hops.iter().rev() {
            match hop {
                Some(address) => {
                    client = canonical(*address);
                    if !self.trusted(client) {
                        return client;
                    }
                }
                // An entry we cannot read (`unknown`, an obfuscated name): stop at the last hop we trust.
                None => return client,
            }
        }
        client
    }

    /// The origin a browser on this site sends: `--public-url`, else the scheme a trusted proxy
    /// reports (or `http`) with the `Host` header.
    pub fn expected_origin(&self, peer: IpAddr, headers: &HeaderMap) -> Option<String> {
        if let Some(public) = &self.public_url {
            return Some(public.origin());
        }
        let host = headers.get(header::HOST).and_then(|v| v.to_str().ok())?.to_ascii_lowercase();
        let scheme = if self.trusted(peer) { forwarded_proto(headers).unwrap_or("http") } else { "http" };
        Some(format!("{scheme}://{host}"))
    }
}

/// IPv4-mapped IPv6 addresses compare as the IPv4 address they carry.
pub fn canonical(address: IpAddr) -> IpAddr {
    match address {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map(IpAddr::V4).unwrap_or(address),
        v4 => v4,
    }
}

/// The `for=` hops of every `Forwarded` header, else of `X-Forwarded-For`, in order; `None` for
/// an entry that is not an address.
fn forwarded_for(headers: &HeaderMap) -> Vec<Option<IpAddr>> {
    let forwarded: Vec<&str> = headers.get_all(header::FORWARDED).iter().filter_map(|v| v.to_str().ok()).collect();
    if !forwarded.is_empty() {
        return forwarded
            .iter()
            .flat_map(|value| value.split(','))
            .filter_map(|element| {
                element.split(';').find_map(|pair| {
                    let (name, value) = pair.split_once('=')?;
                    name.trim().eq_ignore_ascii_case("for").then(|| node_address(value.trim().trim_matches('"')))
                })
            })
            .collect();
    }
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|value| value.split(','))
        .map(|hop| node_address(hop.trim()))
        .collect()
}

/// `192.0.2.1`, `192.0.2.1:4711`, `[2001:db8::1]`, `[2001:db8::1]:4711` or `2001:db8::1`.
fn node_address(node: &str) -> Option<IpAddr> {
    if let Ok(address) = node.parse::<IpAddr>() {
        return Some(address);
    }
    if let Ok(socket) = node.parse::<SocketAddr>() {
        return Some(socket.ip());
    }
    node.strip_prefix('[')?.strip_suffix(']')?.parse().ok()
}

/// The scheme the nearest proxy says the client used (`Forwarded: proto=`, `X-Forwarded-Proto`).
fn forwarded_proto(headers: &HeaderMap) -> Option<&'static str> {
    let last_forwarded = headers
        .get_all(header::FORWARDED)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|value| value.split(','))
        .next_back()
        .and_then(|element| {
            element.split(';').find_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                name.trim().eq_ignore_ascii_case("proto").then(|| value.trim().trim_matches('"').to_string())
            })
        });
    let proto = last_forwarded.or_else(|| {
        let value = headers.get("x-forwarded-proto")?.to_str().ok()?;
        Some(value.split(',').next_back()?.trim().to_string())
    })?;
    match proto.to_ascii_lowercase().as_str() {
        "https" => Some("https"),
        "http" => Some("http"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(pairs: &[(&'static str, &'static str)]) -> HeaderMap {
        let mut map = HeaderMap::new();
        for (k, v) in pairs {
            map.append(*k, HeaderValue::from_static(v));
        }
        map
    }

    fn behind(proxies: &[&str]) -> Network {
        Network { trusted_proxies: proxies.iter().map(|p| p.parse().unwrap()).collect(), public_url: None }
    }

    fn ip(text: &str) -> IpAddr {
        text.parse().unwrap()
    }

    #[test]
    fn forwarded_headers_from_an_untrusted_peer_are_ignored() {
        let network = behind(&["10.0.0.0/8"]);
        let spoofed = headers(&[("x-forwarded-for", "198.51.100.7"), ("forwarded", "for=198.51.100.8")]);
        assert_eq!(network.client(ip("203.0.113.5"), &spoofed), ip("203.0.113.5"));
        assert_eq!(Network::default().client(ip("10.0.0.1"), &spoofed), ip("10.0.0.1"));
    }

    #[test]
    fn the_client_is_the_nearest_untrusted_hop() {
        let network = behind(&["10.0.0.0/8", "127.0.0.1/32"]);
        // The client wrote the first entry itself; the proxy appended the address it saw.
        let chain = headers(&[("x-forwarded-for", "1.2.3.4, 203.0.113.9, 10.1.1.1")]);
        assert_eq!(network.client(ip("127.0.0.1"), &chain), ip("203.0.113.9"));
        let split = headers(&[("x-forwarded-for", "1.2.3.4"), ("x-forwarded-for", "203.0.113.9")]);
        assert_eq!(network.client(ip("10.0.0.2"), &split), ip("203.0.113.9"));
        let forwarded = headers(&[("forwarded", "for=1.2.3.4, for=\"[2001:db8::7]:4711\";proto=https")]);
        assert_eq!(network.client(ip("10.0.0.2"), &forwarded), ip("2001:db8::7"));
        // Only trusted hops: the farthest of them.
        let internal = headers(&[("x-forwarded-for", "10.9.9.9")]);
        assert_eq!(network.client(ip("10.0.0.2"), &internal), ip("10.9.9.9"));
        // An unreadable hop: the last one trusted.
        let unknown = headers(&[("forwarded", "for=unknown")]);
        assert_eq!(network.client(ip("10.0.0.2"), &unknown), ip("10.0.0.2"));
        // No header at all: the proxy itself.
        assert_eq!(network.client(ip("10.0.0.2"), &HeaderMap::new()), ip("10.0.0.2"));
        // A mapped IPv4 peer matches an IPv4 range.
        assert_eq!(network.client(ip("::ffff:10.0.0.2"), &chain), ip("203.0.113.9"));
    }

    #[test]
    fn the_expected_origin_follows_the_public_url_or_the_trusted_proxy() {
        let host = headers(&[("host", "Review.Example:8443"), ("x-forwarded-proto", "https")]);
        assert_eq!(Network::default().expected_origin(ip("10.0.0.2"), &host).unwrap(), "http://review.example:8443");
        assert_eq!(
            behind(&["10.0.0.0/8"]).expected_origin(ip("10.0.0.2"), &host).unwrap(),
            "https://review.example:8443"
        );
        let public =
            Network { public_url: Some(PublicUrl::parse("https://review.example.org/").unwrap()), ..behind(&[]) };
        assert_eq!(public.expected_origin(ip("10.0.0.2"), &host).unwrap(), "https://review.example.org");
    }

    #[test]
    fn a_public_url_is_an_origin() {
        let url = PublicUrl::parse("HTTPS://Review.Example.org:443").unwrap();
        assert_eq!(url.origin(), "https://review.example.org");
        assert!(url.is_https());
        assert_eq!(PublicUrl::parse("http://h:8080").unwrap().origin(), "http://h:8080");
        for bad in ["ftp://h", "https://h/path", "https://u:p@h", "https://h/?q", "not a url", "https://h/#f"] {
            assert!(PublicUrl::parse(bad).is_err(), "{bad}");
        }
    }
}
