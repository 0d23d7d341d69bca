//! The client's address: the peer's, unless the peer is a proxy the operator trusts
//! (`CAUSEWAY_TRUSTED_PROXIES`), in which case the nearest address in `X-Forwarded-For`
//! that is not one of those proxies. Behind a TLS proxy every peer address is the proxy's,
//! so throttles keyed on it would put every client in one bucket.

use std::net::{IpAddr, Ipv4Addr};

use poem::Request;

/// An address or a CIDR block (`10.0.0.0/8`, `2001:db8::/32`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IpBlock {
    network: IpAddr,
    prefix: u8,
}

impl IpBlock {
    pub fn parse(raw: &str) -> Option<Self> {
        let (address, prefix) = match raw.trim().split_once('/') {
            Some((a, p)) => (a, Some(p.parse::<u8>().ok()?)),
            None => (raw.trim(), None),
        };
        let network: IpAddr = address.parse().ok()?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Self { network, prefix })
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let bits = |ip: IpAddr| -> (u128, u8) {
            match ip {
                IpAddr::V4(v4) => (u128::from(u32::from(v4)) << 96, 32),
                IpAddr::V6(v6) => (u128::from(v6), 128),
            }
        };
        let ip = match ip {
            IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
            v4 => v4,
        };
        let ((net, width), (addr, addr_width)) = (bits(self.network), bits(ip));
        if width != addr_width {
            return false;
        }
        let mask = if self.prefix == 0 { 0 } else { u128::MAX << (128 - u32::from(self.prefix)) };
        net & mask == addr & mask
    }
}

/// The client address of `req`, given the operator's trusted proxies.
pub fn client_ip(req: &Request, trusted: &[IpBlock]) -> IpAddr {
    let peer = req.remote_addr().as_socket_addr().map_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED), |addr| addr.ip());
    let forwarded = req.headers().get_all("x-forwarded-for").iter().filter_map(|v| v.to_str().ok());
    resolve(peer, forwarded, trusted)
}

fn resolve<'a>(peer: IpAddr, forwarded: impl Iterator<Item = &'a str>, trusted: &[IpBlock]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|block| block.contains(ip));
    if !is_trusted(peer) {
        return peer;
    }
    // Each proxy appends the address it received from: read from the right, skipping
    // our own proxies; what is left of them the client could have forged.
    let hops: Vec<IpAddr> = forwarded.flat_map(|v| v.split(',')).filter_map(|part| part.trim().parse().ok()).collect();
    hops.into_iter().rev().find(|ip| !is_trusted(*ip)).unwrap_or(peer)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn from(peer: &str, forwarded: Option<&str>, trusted: &[IpBlock]) -> IpAddr {
        resolve(peer.parse().unwrap(), forwarded.into_iter(), trusted)
    }

    #[test]
    fn blocks() {
        let block = IpBlock::parse("10.0.0.0/8").unwrap();
        assert!(block.contains("10.1.2.3".parse().unwrap()));
        assert!(!block.contains("11.0.0.1".parse().unwrap()));
        assert!(block.contains("::ffff:10.9.9.9".parse().unwrap()));
        assert!(IpBlock::parse("192.0.2.7").unwrap().contains("192.0.2.7".parse().unwrap()));
        assert!(IpBlock::parse("2001:db8::/32").unwrap().contains("2001:db8:1::5".parse().unwrap()));
        for bad in ["", "10.0.0.0/33", "nope", "::/129"] {
            assert!(IpBlock::parse(bad).is_none(), "{bad}");
        }
    }

    #[test]
    fn the_forwarded_address_counts_only_behind_a_trusted_proxy() {
        let trusted = [IpBlock::parse("10.0.0.0/8").unwrap()];
        let ip = |s: &str| s.parse::<IpAddr>().unwrap();
        assert_eq!(from("203.0.113.9", Some("198.51.100.1"), &trusted), ip("203.0.113.9"), "a client cannot claim another address");
        assert_eq!(from("10.0.0.2", Some("198.51.100.1"), &trusted), ip("198.51.100.1"));
        assert_eq!(from("10.0.0.2", Some("1.2.3.4, 198.51.100.1, 10.0.0.3"), &trusted), ip("198.51.100.1"), "the nearest untrusted hop");
        assert_eq!(from("10.0.0.2", None, &trusted), ip("10.0.0.2"));
        assert_eq!(from("10.0.0.2", Some("198.51.100.1"), &[]), ip("10.0.0.2"), "no trusted proxies: the peer");
    }
}
