//! Which repositories the server may fetch from (a server decision, not the client's).
//!
//! - `https://` URLs to hosts whose every address is public are allowed.
//! - Plain `http://`, and hosts that resolve to loopback, private, link-local, shared, reserved
//!   or otherwise non-public addresses, are refused unless the operator lists the host
//!   (`--import-allow host[:port]`; without a port, any port of that host).
//! - Other schemes (`file://`, `ssh://`, `git://`, …) are always refused: only smart HTTP is
//!   spoken.
//! - URLs with credentials, a query or a fragment are refused (400): only public repositories
//!   are imported, and nothing secret is ever stored.
//!
//! The host is resolved here, and the connection goes to the addresses that were checked
//! ([`Target::client`] pins them), so a DNS answer that changes between the check and the
//! connection cannot slip past. Redirects are not followed by the client; discovery re-checks
//! each one ([`super::discovery`]).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use reqwest::Url;

use super::RemoteError;

/// The hosts (and optionally ports) the operator allows despite the policy.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowList {
    entries: Vec<(String, Option<u16>)>,
}

impl AllowList {
    /// Parses `host[:port]` entries (`[v6]:port` for IPv6 addresses).
    pub fn parse<S: AsRef<str>>(entries: impl IntoIterator<Item = S>) -> Result<Self, String> {
        let mut out = Vec::new();
        for entry in entries {
            let entry = entry.as_ref().trim();
            if entry.is_empty() {
                continue;
            }
            out.push(
                parse_entry(entry).ok_or_else(|| format!("invalid --import-allow entry '{entry}': use host[:port]"))?,
            );
        }
        Ok(Self { entries: out })
    }

    /// Whether `host` (lowercase, IPv6 without brackets) on `port` is listed.
    pub fn allows(&self, host: &str, port: u16) -> bool {
        self.entries
            .iter()
            .any(|(h, p)| h == host && p.is_none_or(|p| p == port))
    }
}

fn parse_entry(entry: &str) -> Option<(String, Option<u16>)> {
    let (host, port) = if let Some(rest) = entry.strip_prefix('[') {
        let (host, rest) = rest.split_once(']')?;
        let port = match rest {
            "" => None,
            _ => Some(rest.strip_prefix(':')?.parse().ok()?),
        };
        (host, port)
    } else {
        match entry.rsplit_once(':') {
            Some((host, port)) if !host.contains(':') => (host, Some(port.parse().ok()?)),
            _ => (entry, None),
        }
    };
    if host.is_empty() || host.contains(['/', '@', ' ']) {
        return None;
    }
    Some((host.to_ascii_lowercase(), port))
}

/// A repository URL that passed the policy, with the addresses to connect to.
#[derive(Debug, Clone)]
pub struct Target {
    /// The repository's base URL, without a trailing slash.
    pub base: Url,
    host: String,
    addrs: Vec<SocketAddr>,
}

/// Parses `raw` and checks it against the policy and `allow`, resolving its host.
pub async fn check(raw: &str, allow: &AllowList) -> Result<Target, RemoteError> {
    let url = Url::parse(raw.trim()).map_err(|e| RemoteError::InvalidUrl(format!("'{raw}': {e}")))?;
    check_url(url, allow).await
}

/// Checks an already parsed URL (a redirect's target) against the policy.
pub async fn check_url(mut url: Url, allow: &AllowList) -> Result<Target, RemoteError> {
    if !url.username().is_empty() || url.password().is_some() {
        return Err(RemoteError::InvalidUrl(
            "credentials in the URL are refused: only public repositories can be imported".into(),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(RemoteError::InvalidUrl(format!("'{url}' has a query or a fragment")));
    }
    let host = match url.host() {
        Some(url::Host::Domain(d)) => d.to_ascii_lowercase(),
        Some(url::Host::Ipv4(ip)) => ip.to_string(),
        Some(url::Host::Ipv6(ip)) => ip.to_string(),
        None if matches!(url.scheme(), "http" | "https") => {
            return Err(RemoteError::InvalidUrl(format!("'{url}' has no host")));
        }
        None => String::new(),
    };
    let port = url.port_or_known_default().unwrap_or(0);
    let listed = allow.allows(&host, port);
    match url.scheme() {
        "https" => {}
        "http" if listed => {}
        "http" => {
            return Err(RemoteError::Refused(format!(
                "plain http:// is refused for {host}:{port}: use https://, or have the operator allow it (--import-allow)"
            )));
        }
        scheme => {
            return Err(RemoteError::Refused(format!(
                "{scheme}:// URLs are refused: only https:// (and http:// to hosts the operator allows) can be imported"
            )));
        }
    }
    let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), port))
        .await
        .map_err(|e| RemoteError::Resolve(host.clone(), e))?
        .collect();
    if addrs.is_empty() {
        return Err(RemoteError::Resolve(host, std::io::Error::other("no addresses")));
    }
    if !listed && let Some(bad) = addrs.iter().find(|a| !is_public(a.ip())) {
        return Err(RemoteError::Refused(format!(
            "{host} resolves to the non-public address {}: have the operator allow it (--import-allow)",
            bad.ip()
        )));
    }
    let trimmed = url.path().trim_end_matches('/').to_string();
    url.set_path(&trimmed);
    Ok(Target { base: url, host, addrs })
}

impl Target {
    /// An HTTP client that connects only to the checked addresses, follows no redirects and
    /// uses no proxy (a proxy would resolve the host itself).
    pub fn client(&self, connect_timeout: Duration) -> Result<reqwest::Client, RemoteError> {
        let mut builder = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .connect_timeout(connect_timeout)
            .user_agent(concat!("git/pi-worker-", env!("CARGO_PKG_VERSION")));
        if self.host.parse::<IpAddr>().is_err() {
            builder = builder.resolve_to_addrs(&self.host, &self.addrs);
        }
        builder.build().map_err(RemoteError::Unreachable)
    }

    /// The URL of `suffix` beneath the repository (`info/refs`, `git-upload-pack`).
    pub fn url(&self, suffix: &str) -> String {
        format!("{}/{suffix}", self.base.as_str().trim_end_matches('/'))
    }
}

/// Whether an address is publicly routable: not loopback, private, link-local, shared (CGNAT),
/// documentation, benchmarking, multicast, broadcast, unspecified or reserved.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => is_public_v4(v4),
            None => is_public_v6(v6),
        },
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_broadcast()
        || ip.is_documentation()
        || ip.is_multicast()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (18..20).contains(&b))
        || a >= 240)
}

fn is_public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    // Global unicast is 2000::/3; within it, documentation (2001:db8::/32), Teredo and other
    // IETF assignments (2001::/23) and 6to4 (2002::/16, which embeds an IPv4 address) are refused.
    (s[0] & 0xe000) == 0x2000 && !(s[0] == 0x2001 && (s[1] == 0x0db8 || s[1] < 0x0200)) && s[0] != 0x2002
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn public_and_non_public_addresses() {
        for public in ["8.8.8.8", "140.82.112.3", "2606:4700::1111", "::ffff:8.8.8.8"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
        for private in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "198.18.0.1",
            "::1",
            "::",
            "fe80::1",
            "fc00::1",
            "fd12::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "2001:db8::1",
            "2002:7f00:1::1",
            "64:ff9b::7f00:1",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
    }

    #[test]
    fn allow_list_entries() {
        let allow = AllowList::parse(["127.0.0.1:8080", "Git.Internal", "[::1]:9000", ""]).unwrap();
        assert!(allow.allows("127.0.0.1", 8080));
        assert!(!allow.allows("127.0.0.1", 8081));
        assert!(allow.allows("git.internal", 443));
        assert!(allow.allows("::1", 9000));
        assert!(AllowList::parse(["http://x"]).is_err());
        assert!(AllowList::parse(["x:notaport"]).is_err());
    }

    #[tokio::test]
    async fn urls_the_policy_refuses() {
        let none = AllowList::default();
        let refused = |r: Result<Target, RemoteError>| matches!(r, Err(RemoteError::Refused(_)));
        let invalid = |r: Result<Target, RemoteError>| matches!(r, Err(RemoteError::InvalidUrl(_)));
        assert!(refused(check("file:///etc", &none).await));
        assert!(refused(check("ssh://github.com/x/y", &none).await));
        assert!(refused(check("http://example.com/x", &none).await));
        assert!(refused(check("https://127.0.0.1/x", &none).await));
        assert!(refused(check("https://[::1]/x", &none).await));
        assert!(refused(check("https://localhost/x", &none).await));
        assert!(invalid(check("https://user:pw@example.com/x", &none).await));
        assert!(invalid(check("https://example.com/x?a=b", &none).await));
        assert!(invalid(check("not a url", &none).await));
        let allow = AllowList::parse(["127.0.0.1:8080"]).unwrap();
        let target = check("http://127.0.0.1:8080/repo.git/", &allow).await.unwrap();
        assert_eq!(target.url("info/refs"), "http://127.0.0.1:8080/repo.git/info/refs");
        assert!(refused(check("http://127.0.0.1:8081/repo.git", &allow).await));
    }
}
