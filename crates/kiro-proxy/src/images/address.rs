//! Which IP addresses an image fetch may connect to: public unicast only.
//!
//! The classifier names the rule that refuses an address, so the client's 400 can say why.
//! IPv6 forms that carry an IPv4 address (mapped, compatible, NAT64, 6to4) are judged by the
//! IPv4 address they lead to, since that is where the packets end up.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// The instance metadata service of AWS, GCP, Azure and others.
const METADATA_V4: Ipv4Addr = Ipv4Addr::new(169, 254, 169, 254);
/// The AWS instance metadata service over IPv6.
const METADATA_V6: Ipv6Addr = Ipv6Addr::new(0xfd00, 0x0ec2, 0, 0, 0, 0, 0, 0x0254);

/// Why an address is not fetched from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BlockedRange {
    /// `0.0.0.0/8`, `::`.
    Unspecified,
    /// `127.0.0.0/8`, `::1`.
    Loopback,
    /// RFC 1918: `10.0.0.0/8`, `172.16.0.0/12`, `192.168.0.0/16`.
    Private,
    /// `100.64.0.0/10`, carrier-grade NAT (also where some clouds put their metadata service).
    SharedAddressSpace,
    /// `169.254.0.0/16`, `fe80::/10`.
    LinkLocal,
    /// `169.254.169.254`, `fd00:ec2::254`.
    CloudMetadata,
    /// `224.0.0.0/4`, `ff00::/8`.
    Multicast,
    /// `255.255.255.255`.
    Broadcast,
    /// `192.0.2.0/24`, `198.51.100.0/24`, `203.0.113.0/24`, `2001:db8::/32`, `3fff::/20`.
    Documentation,
    /// `198.18.0.0/15`.
    Benchmarking,
    /// `240.0.0.0/4`, `192.0.0.0/24`, `192.88.99.0/24`, `2001::/23`.
    Reserved,
    /// `fc00::/7`.
    UniqueLocal,
    /// `fec0::/10` (deprecated site-local).
    SiteLocal,
    /// `::/96` with a public IPv4 address inside (deprecated IPv4-compatible form).
    Ipv4Compatible,
    /// IPv6 outside `2000::/3`, the only block assigned for global unicast.
    NotGlobalUnicast,
}

impl fmt::Display for BlockedRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            BlockedRange::Unspecified => "an unspecified address (0.0.0.0/8, ::)",
            BlockedRange::Loopback => "a loopback address (127.0.0.0/8, ::1)",
            BlockedRange::Private => {
                "a private address (10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16)"
            }
            BlockedRange::SharedAddressSpace => "a carrier-grade NAT address (100.64.0.0/10)",
            BlockedRange::LinkLocal => "a link-local address (169.254.0.0/16, fe80::/10)",
            BlockedRange::CloudMetadata => "the cloud instance metadata address",
            BlockedRange::Multicast => "a multicast address",
            BlockedRange::Broadcast => "the broadcast address",
            BlockedRange::Documentation => "a documentation address",
            BlockedRange::Benchmarking => "a benchmarking address (198.18.0.0/15)",
            BlockedRange::Reserved => "a reserved address",
            BlockedRange::UniqueLocal => "a unique local IPv6 address (fc00::/7)",
            BlockedRange::SiteLocal => "a site-local IPv6 address (fec0::/10)",
            BlockedRange::Ipv4Compatible => "a deprecated IPv4-compatible IPv6 address (::/96)",
            BlockedRange::NotGlobalUnicast => "an IPv6 address outside global unicast (2000::/3)",
        })
    }
}

/// The range that forbids fetching from `ip`, or `None` for a public unicast address.
pub fn blocked_range(ip: IpAddr) -> Option<BlockedRange> {
    match ip {
        IpAddr::V4(v4) => blocked_v4(v4),
        IpAddr::V6(v6) => blocked_v6(v6),
    }
}

fn blocked_v4(ip: Ipv4Addr) -> Option<BlockedRange> {
    use BlockedRange::*;
    let [a, b, c, _] = ip.octets();
    Some(match (a, b, c) {
        (0, _, _) => Unspecified,
        (10, _, _) | (172, 16..=31, _) | (192, 168, _) => Private,
        (100, 64..=127, _) => SharedAddressSpace,
        (127, _, _) => Loopback,
        (169, 254, _) if ip == METADATA_V4 => CloudMetadata,
        (169, 254, _) => LinkLocal,
        (192, 0, 2) | (198, 51, 100) | (203, 0, 113) => Documentation,
        (192, 0, 0) | (192, 88, 99) => Reserved,
        (198, 18..=19, _) => Benchmarking,
        (224..=239, _, _) => Multicast,
        _ if ip == Ipv4Addr::BROADCAST => Broadcast,
        (240..=255, _, _) => Reserved,
        _ => return None,
    })
}

fn blocked_v6(ip: Ipv6Addr) -> Option<BlockedRange> {
    use BlockedRange::*;
    if ip.is_unspecified() {
        return Some(Unspecified);
    }
    if ip.is_loopback() {
        return Some(Loopback);
    }
    if let Some(v4) = ip.to_ipv4_mapped() {
        return blocked_v4(v4);
    }
    let s = ip.segments();
    let low_v4 = || Ipv4Addr::from((u32::from(s[6]) << 16) | u32::from(s[7]));
    if s[..6] == [0; 6] {
        // Deprecated and never a legitimate destination; still name the IPv4 rule if one applies.
        return Some(blocked_v4(low_v4()).unwrap_or(Ipv4Compatible));
    }
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        // NAT64 well-known prefix: the translator forwards to the embedded IPv4 address.
        return blocked_v4(low_v4());
    }
    if ip == METADATA_V6 {
        return Some(CloudMetadata);
    }
    match s[0] {
        0xfc00..=0xfdff => return Some(UniqueLocal),
        0xfe80..=0xfebf => return Some(LinkLocal),
        0xfec0..=0xfeff => return Some(SiteLocal),
        0xff00..=0xffff => return Some(Multicast),
        _ => {}
    }
    if s[0] & 0xe000 != 0x2000 {
        return Some(NotGlobalUnicast);
    }
    if (s[0] == 0x2001 && s[1] == 0x0db8) || (s[0] == 0x3fff && s[1] < 0x1000) {
        return Some(Documentation);
    }
    if s[0] == 0x2001 && s[1] < 0x0200 {
        // IETF protocol assignments: Teredo, benchmarking, ORCHID and friends.
        return Some(Reserved);
    }
    if s[0] == 0x2002 {
        // 6to4: the relay delivers to the IPv4 address in bits 16..48.
        let v4 = Ipv4Addr::from((u32::from(s[1]) << 16) | u32::from(s[2]));
        return blocked_v4(v4);
    }
    None
}

/// The addresses a fetcher may connect to: public unicast, plus exact exceptions that only
/// tests add (so a test server on loopback can be reached).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AddressPolicy {
    test_exceptions: Vec<IpAddr>,
}

impl AddressPolicy {
    /// Public unicast addresses only: the production policy.
    pub fn public_only() -> Self {
        Self::default()
    }

    /// Also allows exactly `ip`. For tests only: nothing in the service calls this, and no
    /// configuration or environment variable reaches it.
    pub fn allow_address_for_tests(mut self, ip: IpAddr) -> Self {
        self.test_exceptions.push(ip);
        self
    }

    /// `Ok` when a fetch may connect to `ip`, else the rule that refuses it.
    pub fn check(&self, ip: IpAddr) -> Result<(), BlockedRange> {
        if self.test_exceptions.contains(&ip) {
            return Ok(());
        }
        blocked_range(ip).map_or(Ok(()), Err)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_exceptions_are_exact() {
        let policy = AddressPolicy::public_only().allow_address_for_tests([127, 0, 0, 1].into());
        assert_eq!(policy.check([127, 0, 0, 1].into()), Ok(()));
        assert_eq!(
            policy.check([127, 0, 0, 2].into()),
            Err(BlockedRange::Loopback)
        );
        assert_eq!(
            AddressPolicy::public_only().check([127, 0, 0, 1].into()),
            Err(BlockedRange::Loopback)
        );
    }
}
