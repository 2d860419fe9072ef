//! The names Stepmint's certificates are for: the SAN set a leaf covers, and the X.509 name
//! constraints that limit the local CA to those names.
//!
//! The CA sits in `ca/bundle.pem`, which `stepmint ca env` hands to curl, Python, OpenSSL and
//! the AWS SDKs, so without constraints its key could vouch for any host to them. With them, a
//! stolen key still vouches only for what Stepmint serves: `localhost` (and names under it),
//! the loopback networks `127.0.0.0/8` and `::1`, and the `--san` names the CA was made with
//! (a DNS name covers the names under it, as RFC 5280 says; `*.example.test` is covered by
//! `example.test`). Constraints are fixed when the CA is made, so a later `--san` outside them
//! is refused with the way to make a CA that covers it.

use std::collections::BTreeSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use rcgen::{CidrSubnet, GeneralSubtree, NameConstraints};
use x509_parser::prelude::{GeneralName, X509Certificate};

use crate::error::{Error, Result};

/// The names every leaf certificate covers.
pub const DEFAULT_SANS: [&str; 3] = ["localhost", "127.0.0.1", "::1"];

/// The normalised SAN set: the defaults plus `extra`, lower-cased, IPs in canonical form. A
/// wildcard is allowed only as a whole first label (`*.example.test`), as certificates allow.
pub fn san_set(extra: &[String]) -> Result<BTreeSet<String>> {
    let mut set: BTreeSet<String> = DEFAULT_SANS.iter().map(|s| s.to_string()).collect();
    for name in extra {
        let name = name.trim();
        if let Ok(ip) = name.parse::<IpAddr>() {
            set.insert(ip.to_string());
            continue;
        }
        let labels = name.strip_prefix("*.").unwrap_or(name);
        let valid = !name.is_empty()
            && name.len() <= 253
            && labels.split('.').all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && label
                        .bytes()
                        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
            });
        if !valid {
            return Err(Error::invalid(
                "san",
                format!(
                    "`{name}` is neither a DNS name nor an IP address (a wildcard may only be \
                     the first label: *.example.test)"
                ),
            ));
        }
        set.insert(name.to_ascii_lowercase());
    }
    Ok(set)
}

/// What a CA may vouch for: DNS subtrees and IP networks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Permitted {
    dns: Vec<String>,
    networks: Vec<(IpAddr, u8)>,
}

impl Permitted {
    /// The subtrees a new CA gets for `sans` (a normalised set, see [`san_set`]): `localhost`,
    /// the loopback networks, and each name or address in it.
    pub fn for_sans(sans: &BTreeSet<String>) -> Permitted {
        let mut p = Permitted {
            dns: vec!["localhost".into()],
            networks: vec![
                (IpAddr::V4(Ipv4Addr::new(127, 0, 0, 0)), 8),
                (IpAddr::V6(Ipv6Addr::LOCALHOST), 128),
            ],
        };
        for name in sans {
            if p.covers(name) {
                continue;
            }
            match name.parse::<IpAddr>() {
                Ok(ip @ IpAddr::V4(_)) => p.networks.push((ip, 32)),
                Ok(ip @ IpAddr::V6(_)) => p.networks.push((ip, 128)),
                Err(_) => p
                    .dns
                    .push(name.strip_prefix("*.").unwrap_or(name).to_string()),
            }
        }
        p
    }

    /// The constraints of `cert`: `None` when it has none (a CA made before Stepmint added
    /// them), an error when it has some Stepmint cannot read (it would not have made them).
    pub fn of(cert: &X509Certificate<'_>) -> std::result::Result<Option<Permitted>, String> {
        let ext = cert
            .name_constraints()
            .map_err(|e| format!("unreadable name constraints: {e}"))?;
        let Some(ext) = ext else {
            return Ok(None);
        };
        if ext.value.excluded_subtrees.is_some() {
            return Err("excluded name subtrees, which Stepmint never makes".into());
        }
        let mut p = Permitted {
            dns: Vec::new(),
            networks: Vec::new(),
        };
        for subtree in ext.value.permitted_subtrees.iter().flatten() {
            match &subtree.base {
                GeneralName::DNSName(d) => p.dns.push(d.to_ascii_lowercase()),
                GeneralName::IPAddress(bytes) => {
                    p.networks.push(network(bytes).ok_or_else(|| {
                        format!("a permitted IP subtree of {} bytes", bytes.len())
                    })?);
                }
                other => return Err(format!("a permitted subtree Stepmint never makes: {other}")),
            }
        }
        Ok(Some(p))
    }

    /// Whether a certificate for `name` (a DNS name, a wildcard or an IP address) is within.
    pub fn covers(&self, name: &str) -> bool {
        if let Ok(ip) = name.parse::<IpAddr>() {
            return self
                .networks
                .iter()
                .any(|(net, prefix)| in_network(ip, *net, *prefix));
        }
        let name = name.strip_prefix("*.").unwrap_or(name).to_ascii_lowercase();
        self.dns
            .iter()
            .any(|c| name == *c || name.ends_with(&format!(".{c}")))
    }

    /// As rcgen writes them into a CA certificate.
    pub fn to_rcgen(&self) -> NameConstraints {
        let mut permitted: Vec<GeneralSubtree> = self
            .dns
            .iter()
            .map(|d| GeneralSubtree::DnsName(d.clone()))
            .collect();
        permitted.extend(self.networks.iter().map(|(ip, prefix)| {
            GeneralSubtree::IpAddress(CidrSubnet::from_addr_prefix(*ip, *prefix))
        }));
        NameConstraints {
            permitted_subtrees: permitted,
            excluded_subtrees: Vec::new(),
        }
    }

    /// For messages: `localhost, example.test, 127.0.0.0/8, ::1/128`.
    pub fn describe(&self) -> String {
        let nets = self.networks.iter().map(|(ip, p)| format!("{ip}/{p}"));
        self.dns
            .iter()
            .cloned()
            .chain(nets)
            .collect::<Vec<_>>()
            .join(", ")
    }
}

/// An IP subtree's bytes (address then mask) as an address and prefix length; `None` for a
/// length or a mask that is not one (a mask with a hole in it names no network).
fn network(bytes: &[u8]) -> Option<(IpAddr, u8)> {
    let half = bytes.len() / 2;
    let (addr, mask) = bytes.split_at(half);
    let ip = ip_from_bytes(addr)?;
    let ones: u32 = mask.iter().map(|b| b.count_ones()).sum();
    let contiguous = mask
        .iter()
        .flat_map(|b| (0..8).rev().map(move |i| b >> i & 1))
        .skip_while(|bit| *bit == 1)
        .all(|bit| bit == 0);
    (bytes.len().is_multiple_of(2) && contiguous).then_some((ip, u8::try_from(ones).ok()?))
}

fn in_network(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX
                .checked_shl(32 - u32::from(prefix.min(32)))
                .unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX
                .checked_shl(128 - u32::from(prefix.min(128)))
                .unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// An IPv4 or IPv6 address from its 4 or 16 bytes.
pub fn ip_from_bytes(bytes: &[u8]) -> Option<IpAddr> {
    match bytes.len() {
        4 => <[u8; 4]>::try_from(bytes).ok().map(IpAddr::from),
        16 => <[u8; 16]>::try_from(bytes).ok().map(IpAddr::from),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_san_is_refused() {
        assert!(san_set(&["exa mple".into()]).is_err());
        assert!(san_set(&["".into()]).is_err());
        assert!(san_set(&["a.*.test".into()]).is_err());
        assert!(san_set(&["*".into()]).is_err());
        let set = san_set(&["Example.TEST".into(), "::0001".into(), "*.w.test".into()]).unwrap();
        assert!(set.contains("example.test") && set.contains("::1") && set.contains("*.w.test"));
    }

    #[test]
    fn the_permitted_names_are_the_served_ones_and_loopback() {
        let sans = san_set(&[
            "api.bitbucket.org".into(),
            "*.w.test".into(),
            "192.0.2.7".into(),
            "127.9.9.9".into(),
        ])
        .unwrap();
        let p = Permitted::for_sans(&sans);
        assert_eq!(
            p.describe(),
            "localhost, w.test, api.bitbucket.org, 127.0.0.0/8, ::1/128, 192.0.2.7/32"
        );
        for name in [
            "localhost",
            "wrong-host.localhost",
            "API.bitbucket.org",
            "x.w.test",
            "*.w.test",
            "127.0.0.1",
            "127.255.0.3",
            "::1",
            "192.0.2.7",
        ] {
            assert!(p.covers(name), "{name}");
        }
        for name in [
            "example.com",
            "bitbucket.org",
            "evilapi.bitbucket.org",
            "localhost.evil",
            "xlocalhost",
            "192.0.2.8",
            "128.0.0.1",
            "::2",
            "::ffff:127.0.0.1",
        ] {
            assert!(!p.covers(name), "{name}");
        }
    }

    #[test]
    fn network_masks_must_be_contiguous() {
        assert_eq!(
            network(&[127, 0, 0, 0, 255, 0, 0, 0]),
            Some((IpAddr::V4(Ipv4Addr::new(127, 0, 0, 0)), 8))
        );
        assert_eq!(network(&[127, 0, 0, 0, 255, 0, 255, 0]), None);
        assert_eq!(network(&[127, 0, 0, 0, 255]), None);
    }
}
