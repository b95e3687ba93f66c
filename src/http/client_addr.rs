//! The client address of a request, as the limits per address see it: the rules are in
//! `nosebook_core::limits::client_addr`, the request is read here.

use std::net::IpAddr;

use actix_web::HttpRequest;
use nosebook_core::limits::client_addr::{TrustedProxies, canonical};

/// The client's address, as the limits see it; `None` when the connection has no peer address
/// (never on TCP).
pub fn client_ip(req: &HttpRequest, trusted: &TrustedProxies) -> Option<IpAddr> {
    let peer = canonical(req.peer_addr()?.ip());
    if !trusted.contains(peer) {
        return Some(peer);
    }
    let forwarded = req
        .headers()
        .get_all("X-Forwarded-For")
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect::<Vec<_>>();
    let mut client = peer;
    for hop in forwarded.iter().rev() {
        match hop.parse::<IpAddr>().map(canonical) {
            Ok(ip) if trusted.contains(ip) => client = ip,
            Ok(ip) => return Some(ip),
            // Garbage where an address belongs: stop at the last address a trusted proxy vouched for.
            Err(_) => break,
        }
    }
    Some(client)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use actix_web::test::TestRequest;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_header_counts_only_behind_a_trusted_proxy() {
        let request = |peer: &str, xff: &str| {
            TestRequest::default()
                .peer_addr(format!("{peer}:5000").parse().unwrap())
                .insert_header(("X-Forwarded-For", xff))
                .to_http_request()
        };
        let none = TrustedProxies::default();
        let lb = TrustedProxies::parse("172.16.0.0/12").unwrap();
        // Untrusted peer: the header is the client's own claim and ignored.
        assert_eq!(client_ip(&request("203.0.113.9", "1.2.3.4"), &none), Some(ip("203.0.113.9")));
        assert_eq!(client_ip(&request("203.0.113.9", "1.2.3.4"), &lb), Some(ip("203.0.113.9")));
        // Behind the proxy: the rightmost address the proxy did not add itself; a spoofed
        // entry on the left is not believed.
        assert_eq!(client_ip(&request("172.18.0.5", "6.6.6.6, 198.51.100.7"), &lb), Some(ip("198.51.100.7")));
        assert_eq!(client_ip(&request("172.18.0.5", "198.51.100.7, 172.18.0.9"), &lb), Some(ip("198.51.100.7")));
        assert_eq!(client_ip(&request("172.18.0.5", "junk"), &lb), Some(ip("172.18.0.5")));
    }
}
