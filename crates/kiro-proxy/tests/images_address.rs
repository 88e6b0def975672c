//! The SSRF address classifier: which addresses an image fetch may connect to.

use std::net::IpAddr;

use kiro_proxy::images::{AddressPolicy, BlockedRange, blocked_range};

fn ip(s: &str) -> IpAddr {
    s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
}

#[test]
fn public_addresses_are_allowed() {
    for addr in [
        "8.8.8.8",
        "1.1.1.1",
        "93.184.216.34",
        "223.255.255.255",
        // Just outside the blocked ranges.
        "9.255.255.255",
        "11.0.0.0",
        "100.63.255.255",
        "100.128.0.0",
        "126.255.255.255",
        "128.0.0.0",
        "169.253.255.255",
        "169.255.0.0",
        "172.15.255.255",
        "172.32.0.0",
        "192.167.255.255",
        "192.169.0.0",
        "198.17.255.255",
        "198.20.0.0",
        // IPv6 global unicast, and IPv6 forms that lead to a public IPv4 address.
        "2606:4700:4700::1111",
        "2001:4860:4860::8888",
        "2a00:1450:4001:82a::200e",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2002:808:808::1",
    ] {
        assert_eq!(blocked_range(ip(addr)), None, "{addr} should be allowed");
    }
}

#[test]
fn special_ipv4_ranges_are_refused() {
    use BlockedRange::*;
    for (addr, range) in [
        ("0.0.0.0", Unspecified),
        ("0.1.2.3", Unspecified),
        ("127.0.0.1", Loopback),
        ("127.255.255.254", Loopback),
        ("10.0.0.1", Private),
        ("10.255.255.255", Private),
        ("172.16.0.1", Private),
        ("172.31.255.255", Private),
        ("192.168.1.1", Private),
        ("100.64.0.1", SharedAddressSpace),
        ("100.127.255.255", SharedAddressSpace),
        ("100.100.100.200", SharedAddressSpace),
        ("169.254.169.254", CloudMetadata),
        ("169.254.0.1", LinkLocal),
        ("169.254.255.255", LinkLocal),
        ("224.0.0.1", Multicast),
        ("239.255.255.250", Multicast),
        ("255.255.255.255", Broadcast),
        ("240.0.0.1", Reserved),
        ("255.255.255.254", Reserved),
        ("192.0.0.170", Reserved),
        ("192.88.99.1", Reserved),
        ("192.0.2.1", Documentation),
        ("198.51.100.7", Documentation),
        ("203.0.113.9", Documentation),
        ("198.18.0.1", Benchmarking),
        ("198.19.255.255", Benchmarking),
    ] {
        assert_eq!(blocked_range(ip(addr)), Some(range), "{addr}");
    }
}

#[test]
fn special_ipv6_ranges_are_refused() {
    use BlockedRange::*;
    for (addr, range) in [
        ("::", Unspecified),
        ("::1", Loopback),
        ("fc00::1", UniqueLocal),
        ("fd12:3456:789a::1", UniqueLocal),
        ("fd00:ec2::254", CloudMetadata),
        ("fe80::1", LinkLocal),
        ("febf:ffff::1", LinkLocal),
        ("fec0::1", SiteLocal),
        ("ff02::1", Multicast),
        ("ff05::1:3", Multicast),
        ("2001:db8::1", Documentation),
        ("3fff::1", Documentation),
        ("2001::1", Reserved),
        ("2001:2::1", Reserved),
        ("100::1", NotGlobalUnicast),
        ("64:ff9b:1::a00:1", NotGlobalUnicast),
        ("4000::1", NotGlobalUnicast),
        // SIIT IPv4-translated form.
        ("::ffff:0:7f00:1", NotGlobalUnicast),
    ] {
        assert_eq!(blocked_range(ip(addr)), Some(range), "{addr}");
    }
}

#[test]
fn ipv6_forms_carrying_ipv4_are_judged_by_the_ipv4_address() {
    use BlockedRange::*;
    for (addr, range) in [
        // IPv4-mapped.
        ("::ffff:127.0.0.1", Loopback),
        ("::ffff:10.0.0.1", Private),
        ("::ffff:192.168.0.1", Private),
        ("::ffff:169.254.169.254", CloudMetadata),
        ("::ffff:100.64.0.1", SharedAddressSpace),
        ("::ffff:0.0.0.0", Unspecified),
        ("::ffff:255.255.255.255", Broadcast),
        // IPv4-compatible (deprecated: refused even for a public address).
        ("::127.0.0.1", Loopback),
        ("::10.0.0.1", Private),
        ("::169.254.169.254", CloudMetadata),
        ("::8.8.8.8", Ipv4Compatible),
        // NAT64 well-known prefix.
        ("64:ff9b::7f00:1", Loopback),
        ("64:ff9b::a00:1", Private),
        ("64:ff9b::c0a8:101", Private),
        ("64:ff9b::a9fe:a9fe", CloudMetadata),
        ("64:ff9b::6440:1", SharedAddressSpace),
        // 6to4.
        ("2002:7f00:1::1", Loopback),
        ("2002:a00:1::", Private),
        ("2002:a9fe:a9fe::1", CloudMetadata),
    ] {
        assert_eq!(blocked_range(ip(addr)), Some(range), "{addr}");
    }
}

#[test]
fn the_policy_allows_only_the_exact_test_exceptions() {
    let production = AddressPolicy::public_only();
    assert_eq!(production.check(ip("8.8.8.8")), Ok(()));
    assert_eq!(
        production.check(ip("127.0.0.1")),
        Err(BlockedRange::Loopback)
    );

    let test = AddressPolicy::public_only().allow_address_for_tests(ip("127.0.0.1"));
    assert_eq!(test.check(ip("127.0.0.1")), Ok(()));
    assert_eq!(test.check(ip("127.0.0.2")), Err(BlockedRange::Loopback));
    assert_eq!(test.check(ip("::1")), Err(BlockedRange::Loopback));
    assert_eq!(
        test.check(ip("::ffff:127.0.0.1")),
        Err(BlockedRange::Loopback)
    );
    assert_eq!(test.check(ip("10.0.0.1")), Err(BlockedRange::Private));
}

#[test]
fn refusals_name_the_rule() {
    assert!(BlockedRange::CloudMetadata.to_string().contains("metadata"));
    assert!(BlockedRange::Private.to_string().contains("private"));
    assert!(BlockedRange::Loopback.to_string().contains("loopback"));
}
