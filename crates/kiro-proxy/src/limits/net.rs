//! Addresses: IP ranges (`10.0.0.0/8`, `2001:db8::/32`, or one address) and the client address
//! of a request.
//!
//! The client address is the socket peer, unless the peer is one of the operator's trusted
//! proxies: then it is the right-most address of `X-Forwarded-For` that is not itself a trusted
//! proxy. Everything left of that entry was written by the client (or by proxies we cannot
//! vouch for) and is ignored, so a client cannot pick its own address by sending the header.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use http::HeaderMap;

/// An IP range: an address and a prefix length. IPv4-mapped IPv6 addresses count as IPv4.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct IpNet {
    /// The network address (host bits cleared).
    addr: IpAddr,
    prefix: u8,
}

/// Why a range did not parse; the message is for the operator.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{0}` is not an IP address or CIDR range (e.g. 203.0.113.7, 10.0.0.0/8, 2001:db8::/32)")]
pub struct BadIpNet(pub String);

impl IpNet {
    /// A range of one address.
    pub fn host(addr: IpAddr) -> Self {
        let addr = addr.to_canonical();
        Self {
            addr,
            prefix: max_prefix(addr),
        }
    }

    /// Whether `ip` is in the range.
    pub fn contains(&self, ip: IpAddr) -> bool {
        match (self.addr, ip.to_canonical()) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = mask_v4(self.prefix);
                u32::from(ip) & mask == u32::from(net)
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = mask_v6(self.prefix);
                u128::from(ip) & mask == u128::from(net)
            }
            _ => false,
        }
    }
}

fn max_prefix(addr: IpAddr) -> u8 {
    if addr.is_ipv4() { 32 } else { 128 }
}

fn mask_v4(prefix: u8) -> u32 {
    u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0)
}

fn mask_v6(prefix: u8) -> u128 {
    u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0)
}

impl FromStr for IpNet {
    type Err = BadIpNet;

    fn from_str(text: &str) -> Result<Self, BadIpNet> {
        let bad = || BadIpNet(text.to_owned());
        let t = text.trim();
        let (addr, prefix) = match t.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (t, None),
        };
        let addr: IpAddr = addr.parse().map_err(|_| bad())?;
        // `::ffff:10.0.0.0/104` is an IPv4 range in IPv6 dress.
        let (addr, shift) = match addr {
            IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
                Some(v4) => (IpAddr::V4(v4), 96),
                None => (addr, 0),
            },
            IpAddr::V4(_) => (addr, 0),
        };
        let prefix = match prefix {
            None => max_prefix(addr),
            Some(p) => {
                let p: u8 = p.parse().map_err(|_| bad())?;
                let p = p.checked_sub(shift).ok_or_else(bad)?;
                if p > max_prefix(addr) {
                    return Err(bad());
                }
                p
            }
        };
        // Host bits are cleared: `10.1.2.3/8` means 10.0.0.0/8, as most tools read it.
        let addr = match addr {
            IpAddr::V4(a) => IpAddr::V4(Ipv4Addr::from(u32::from(a) & mask_v4(prefix))),
            IpAddr::V6(a) => IpAddr::V6(Ipv6Addr::from(u128::from(a) & mask_v6(prefix))),
        };
        Ok(Self { addr, prefix })
    }
}

impl fmt::Display for IpNet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.prefix == max_prefix(self.addr) {
            write!(f, "{}", self.addr)
        } else {
            write!(f, "{}/{}", self.addr, self.prefix)
        }
    }
}

impl serde::Serialize for IpNet {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for IpNet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Whether any range of `nets` holds `ip`.
pub fn any_contains(nets: &[IpNet], ip: IpAddr) -> bool {
    nets.iter().any(|n| n.contains(ip))
}

/// The client address of a request from `peer` with `headers` (see the module docs).
pub fn client_ip(peer: IpAddr, headers: &HeaderMap, trusted: &[IpNet]) -> IpAddr {
    let peer = peer.to_canonical();
    if !any_contains(trusted, peer) {
        return peer;
    }
    // Several header lines are one list, in order.
    let hops: Vec<&str> = headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .collect();
    let mut nearest = peer;
    for hop in hops.iter().rev() {
        // An entry we cannot read ends the chain: the last trusted hop is the best we know.
        let Some(ip) = parse_hop(hop) else {
            return nearest;
        };
        if !any_contains(trusted, ip) {
            return ip;
        }
        nearest = ip;
    }
    nearest
}

/// One `X-Forwarded-For` entry: an address, possibly with a port (`1.2.3.4:5678`,
/// `[2001:db8::1]:443`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse::<IpAddr>() {
        return Some(ip.to_canonical());
    }
    if let Some(rest) = hop.strip_prefix('[') {
        let (addr, _) = rest.split_once(']')?;
        return addr
            .parse::<Ipv6Addr>()
            .ok()
            .map(|a| IpAddr::V6(a).to_canonical());
    }
    let (addr, port) = hop.rsplit_once(':')?;
    port.parse::<u16>().ok()?;
    addr.parse::<Ipv4Addr>().ok().map(IpAddr::V4)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net(s: &str) -> IpNet {
        s.parse().unwrap()
    }

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn ranges_parse_and_match() {
        assert!(net("10.0.0.0/8").contains(ip("10.200.3.4")));
        assert!(!net("10.0.0.0/8").contains(ip("11.0.0.1")));
        assert_eq!(net("10.1.2.3/8").to_string(), "10.0.0.0/8");
        assert_eq!(net("203.0.113.7").to_string(), "203.0.113.7");
        assert!(net("203.0.113.7").contains(ip("::ffff:203.0.113.7")));
        assert!(net("::ffff:10.0.0.0/104").contains(ip("10.9.9.9")));
        assert!(net("2001:db8::/32").contains(ip("2001:db8:1::5")));
        assert!(!net("2001:db8::/32").contains(ip("10.0.0.1")));
        assert!(net("0.0.0.0/0").contains(ip("8.8.8.8")));
        assert!(!net("0.0.0.0/0").contains(ip("::2")));
        for bad in [
            "",
            "10.0.0.0/33",
            "abc",
            "10.0.0.0/",
            "10.0.0/8",
            "::/129",
            "1.2.3.4/-1",
        ] {
            assert!(bad.parse::<IpNet>().is_err(), "{bad}");
        }
    }

    fn xff(values: &[&str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append("x-forwarded-for", v.parse().unwrap());
        }
        h
    }

    #[test]
    fn forwarded_for_only_from_trusted_peers() {
        let trusted = [net("127.0.0.1"), net("10.0.0.0/8")];
        let h = xff(&["1.1.1.1, 203.0.113.9"]);
        // Untrusted peer: the header is ignored.
        assert_eq!(
            client_ip(ip("198.51.100.1"), &h, &trusted),
            ip("198.51.100.1")
        );
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &[]), ip("127.0.0.1"));
        // Trusted peer: the right-most untrusted hop; the spoofable left part is ignored.
        assert_eq!(client_ip(ip("127.0.0.1"), &h, &trusted), ip("203.0.113.9"));
        let chain = xff(&["6.6.6.6", "203.0.113.9, 10.1.1.1"]);
        assert_eq!(
            client_ip(ip("127.0.0.1"), &chain, &trusted),
            ip("203.0.113.9")
        );
        // Ports and brackets.
        let ported = xff(&["[2001:db8::7]:443", "203.0.113.9:5000"]);
        assert_eq!(
            client_ip(ip("10.0.0.2"), &ported, &trusted),
            ip("203.0.113.9")
        );
        // Garbage stops the walk at the last trusted hop.
        let junk = xff(&["203.0.113.9, unknown, 10.2.2.2"]);
        assert_eq!(client_ip(ip("127.0.0.1"), &junk, &trusted), ip("10.2.2.2"));
        // No header: the peer.
        assert_eq!(
            client_ip(ip("127.0.0.1"), &HeaderMap::new(), &trusted),
            ip("127.0.0.1")
        );
    }
}
