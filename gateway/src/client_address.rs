//! Which address a request comes from, as the anonymous rate limit and the failed-token budget
//! see it. Behind the Ingress every connection comes from the controller, so its address would
//! put every anonymous client in one bucket; the controller says who it forwards for in
//! `X-Forwarded-For`. That header is trusted only when the connection comes from a configured
//! proxy (`rate_limit.trusted_proxies`, empty by default), and only as far as the trusted hops
//! go: a client can write anything on the left of the header, never on the right of what a
//! trusted proxy appended.

use actix_web::HttpRequest;
use std::{
    net::{IpAddr, SocketAddr},
    str::FromStr,
};

/// One address or CIDR block: `10.0.0.7`, `10.0.0.0/8`, `fd00::/8`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Network {
    address: IpAddr,
    prefix: u8,
}

impl FromStr for Network {
    type Err = String;
    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let (address, prefix) = match text.split_once('/') {
            Some((address, prefix)) => (address, Some(prefix)),
            None => (text, None),
        };
        let address: IpAddr = address
            .trim()
            .parse()
            .map_err(|_| format!("{text:?} is not an IP address or a CIDR block"))?;
        let address = address.to_canonical();
        let bits = if address.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => bits,
            Some(p) => p
                .trim()
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= bits)
                .ok_or_else(|| format!("{text:?}: the prefix length must be 0 to {bits}"))?,
        };
        Ok(Self { address, prefix })
    }
}

impl Network {
    pub fn contains(&self, ip: IpAddr) -> bool {
        let mask = |bits: u32, width: u32| -> u128 {
            if bits == 0 {
                0
            } else {
                (u128::MAX << (width - bits)) & (u128::MAX >> (128 - width))
            }
        };
        match (self.address, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let m = mask(u32::from(self.prefix), 32);
                u128::from(u32::from(net)) & m == u128::from(u32::from(ip)) & m
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let m = mask(u32::from(self.prefix), 128);
                u128::from(net) & m == u128::from(ip) & m
            }
            _ => false,
        }
    }
}

/// The proxies whose `X-Forwarded-For` is believed.
#[derive(Clone, Debug, Default)]
pub struct TrustedProxies(Vec<Network>);

impl TrustedProxies {
    /// Parses the configured entries; the error names the first bad one.
    pub fn parse(entries: &[String]) -> Result<Self, String> {
        entries
            .iter()
            .map(|e| e.parse())
            .collect::<Result<_, _>>()
            .map(Self)
    }

    fn trusts(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|n| n.contains(ip))
    }

    /// The client's address: the connecting one, unless it is a trusted proxy; then the
    /// right-most address of `X-Forwarded-For` that is not a trusted proxy (or the left-most
    /// one, when every hop is trusted). An entry that is not an address ends the walk: what
    /// is left of it was not written by a proxy we trust.
    pub fn client(&self, req: &HttpRequest) -> Option<IpAddr> {
        let peer = req.peer_addr()?.ip().to_canonical();
        if !self.trusts(peer) {
            return Some(peer);
        }
        let headers: Vec<&str> = req
            .headers()
            .get_all("x-forwarded-for")
            .filter_map(|v| v.to_str().ok())
            .collect();
        let mut client = peer;
        for hop in headers.iter().flat_map(|h| h.split(',')).rev() {
            let Some(ip) = hop_address(hop.trim()) else {
                break;
            };
            client = ip;
            if !self.trusts(ip) {
                break;
            }
        }
        Some(client)
    }
}

/// `203.0.113.7`, `203.0.113.7:4711`, `2001:db8::1` or `[2001:db8::1]:4711`.
fn hop_address(hop: &str) -> Option<IpAddr> {
    hop.parse::<IpAddr>()
        .or_else(|_| hop.parse::<SocketAddr>().map(|s| s.ip()))
        .ok()
        .map(|ip| ip.to_canonical())
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn proxies(entries: &[&str]) -> TrustedProxies {
        TrustedProxies::parse(&entries.iter().map(|e| (*e).to_owned()).collect::<Vec<_>>())
            .expect("valid")
    }

    fn client(trusted: &[&str], peer: &str, forwarded: &[&str]) -> String {
        let mut req =
            TestRequest::default().peer_addr(format!("{peer}:40000").parse().expect("peer"));
        for value in forwarded {
            req = req.append_header(("x-forwarded-for", *value));
        }
        proxies(trusted)
            .client(&req.to_http_request())
            .expect("address")
            .to_string()
    }

    #[test]
    fn networks_parse_and_match() {
        let net: Network = "10.0.0.0/8".parse().expect("cidr");
        assert!(net.contains("10.1.2.3".parse().expect("ip")));
        assert!(!net.contains("11.1.2.3".parse().expect("ip")));
        assert!(net.contains("::ffff:10.0.0.1".parse().expect("mapped")));
        let one: Network = "192.168.1.2".parse().expect("ip");
        assert!(one.contains("192.168.1.2".parse().expect("ip")));
        assert!(!one.contains("192.168.1.3".parse().expect("ip")));
        let v6: Network = "fd00::/8".parse().expect("v6");
        assert!(v6.contains("fd12::1".parse().expect("ip")));
        assert!(!v6.contains("10.0.0.1".parse().expect("ip")));
        let all: Network = "0.0.0.0/0".parse().expect("all");
        assert!(all.contains("203.0.113.9".parse().expect("ip")));
        for bad in ["ingress", "10.0.0.0/33", "10.0.0.0/", "::/129", ""] {
            assert!(bad.parse::<Network>().is_err(), "{bad}");
        }
    }

    #[test]
    fn forwarded_for_is_read_only_from_trusted_proxies() {
        // Off by default: the header is ignored.
        assert_eq!(client(&[], "10.0.0.5", &["203.0.113.7"]), "10.0.0.5");
        // From an untrusted peer: ignored too.
        assert_eq!(
            client(&["10.0.0.0/8"], "198.51.100.1", &["203.0.113.7"]),
            "198.51.100.1"
        );
        // From the Ingress: the right-most untrusted hop.
        assert_eq!(
            client(&["10.0.0.0/8"], "10.0.0.5", &["203.0.113.7"]),
            "203.0.113.7"
        );
        // What the client wrote on the left does not count.
        assert_eq!(
            client(&["10.0.0.0/8"], "10.0.0.5", &["1.2.3.4, 203.0.113.7"]),
            "203.0.113.7"
        );
        assert_eq!(
            client(
                &["10.0.0.0/8"],
                "10.0.0.5",
                &["1.2.3.4", "203.0.113.7, 10.0.0.9"]
            ),
            "203.0.113.7"
        );
        // Garbage ends the walk at the last trusted hop.
        assert_eq!(
            client(
                &["10.0.0.0/8"],
                "10.0.0.5",
                &["203.0.113.7, nonsense, 10.0.0.9"]
            ),
            "10.0.0.9"
        );
        // Every hop trusted: the left-most.
        assert_eq!(
            client(&["10.0.0.0/8"], "10.0.0.5", &["10.0.0.8, 10.0.0.9"]),
            "10.0.0.8"
        );
        // No header: the proxy itself.
        assert_eq!(client(&["10.0.0.0/8"], "10.0.0.5", &[]), "10.0.0.5");
        assert_eq!(
            client(&["10.0.0.0/8"], "10.0.0.5", &["[2001:db8::1]:4711"]),
            "2001:db8::1"
        );
    }
}
