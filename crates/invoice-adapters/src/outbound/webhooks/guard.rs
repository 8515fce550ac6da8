//! The SSRF guard: webhook URLs must be http(s), and unless private targets
//! are allowed, must not reach loopback, private, link-local or otherwise
//! non-public addresses — checked when an endpoint is created and again
//! after DNS resolution on every send.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, ToSocketAddrs};

use ureq::config::Config;
use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::NextTimeout;

/// Longest accepted endpoint URL.
pub const MAX_URL_LEN: usize = 2048;

/// The grammar of an endpoint URL, as the OpenAPI `pattern` of `url` states
/// it: `http://` or `https://` (lower case), a host name (LDH labels of at
/// most 63 characters, optionally ending in a dot), a dotted IPv4 address
/// or a bracketed IPv6 address without an embedded IPv4 part, an optional
/// port from 1 to 65535, then an optional path and query of RFC 3986
/// characters (`%` only as a `%XX` escape). No user info, no fragment.
/// [`follows_url_grammar`] checks exactly this.
pub const URL_PATTERN: &str = r"^https?://(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?|\[(?:(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}|::(?:[0-9A-Fa-f]{1,4}:){6}[0-9A-Fa-f]{1,4}|(?:[0-9A-Fa-f]{1,4})?::(?:[0-9A-Fa-f]{1,4}:){5}[0-9A-Fa-f]{1,4}|(?:(?:[0-9A-Fa-f]{1,4}:){0,1}[0-9A-Fa-f]{1,4})?::(?:[0-9A-Fa-f]{1,4}:){4}[0-9A-Fa-f]{1,4}|(?:(?:[0-9A-Fa-f]{1,4}:){0,2}[0-9A-Fa-f]{1,4})?::(?:[0-9A-Fa-f]{1,4}:){3}[0-9A-Fa-f]{1,4}|(?:(?:[0-9A-Fa-f]{1,4}:){0,3}[0-9A-Fa-f]{1,4})?::(?:[0-9A-Fa-f]{1,4}:){2}[0-9A-Fa-f]{1,4}|(?:(?:[0-9A-Fa-f]{1,4}:){0,4}[0-9A-Fa-f]{1,4})?::[0-9A-Fa-f]{1,4}:[0-9A-Fa-f]{1,4}|(?:(?:[0-9A-Fa-f]{1,4}:){0,5}[0-9A-Fa-f]{1,4})?::[0-9A-Fa-f]{1,4}|(?:(?:[0-9A-Fa-f]{1,4}:){0,6}[0-9A-Fa-f]{1,4})?::)\])(?::(?:[1-9][0-9]{0,3}|[1-5][0-9]{4}|6[0-4][0-9]{3}|65[0-4][0-9]{2}|655[0-2][0-9]|6553[0-5]))?(?:/(?:[A-Za-z0-9._~!$&'()*+,;=:@/-]|%[0-9A-Fa-f]{2})*)?(?:\?(?:[A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*)?$";

/// Why a URL is refused. The messages name the host as the caller wrote
/// it, never an address it resolved to, so that the answer cannot be used
/// to read the server's internal DNS.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefused {
    /// Not an absolute `http://` or `https://` URL with a host.
    #[error("{0}")]
    Invalid(String),
    /// The host is a non-public address, in any spelling (IPv4, IPv6 with
    /// an embedded IPv4, a trailing dot, `localhost`).
    #[error("{0} is a non-public address (loopback, private, link-local or reserved); webhooks must target a public address")]
    Private(String),
    /// The host name resolves to a non-public address.
    #[error("{0} resolves to a non-public address; webhooks must target a public address")]
    ResolvesPrivate(String),
}

/// True for addresses a webhook must not reach by default: unspecified,
/// loopback, private (RFC 1918, unique local), shared (CGNAT), link-local,
/// multicast, broadcast, documentation, benchmarking and reserved ranges,
/// and IPv6 addresses that carry one of those IPv4 addresses inside (see
/// [`embedded_v4`]).
pub fn is_forbidden(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_multicast()
        || ip.is_broadcast()
        || ip.is_documentation()
        || a == 0 // "this network"
        || a >= 240 // reserved
        || (a == 100 && (64..128).contains(&b)) // shared address space (CGNAT)
        || (a == 192 && b == 0 && c == 0) // IETF protocol assignments
        || (a == 198 && (18..20).contains(&b)) // benchmarking
}

fn forbidden_v6(ip: Ipv6Addr) -> bool {
    if embedded_v4(ip).into_iter().any(forbidden_v4) {
        return true;
    }
    let s = ip.segments();
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated) fec0::/10
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation 2001:db8::/32
        || (s[0] & 0xfff0) == 0x3ff0 // documentation 3fff::/20
        || (s[0] == 0x2001 && s[1] == 0x0002 && s[2] == 0) // benchmarking 2001:2::/48
        || (s[0] == 0x2001 && matches!(s[1] & 0xfff0, 0x0010 | 0x0020)) // ORCHID 2001:10::/28, 2001:20::/28
        || (s[..4] == [0x0100, 0, 0, 0]) // discard-only 100::/64
        || (s[0] == 0x0064 && s[1] == 0xff9b) // NAT64, well-known 64:ff9b::/96 and local-use 64:ff9b:1::/48
        || (s[..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible ::/96 (deprecated)
        || (s[..6] == [0, 0, 0, 0, 0xffff, 0]) // SIIT IPv4-translated ::ffff:0:0:0/96
}

/// Every IPv4 address an IPv6 address carries inside, by each embedding a
/// host or a router may act on: IPv4-mapped (`::ffff:a.b.c.d`),
/// IPv4-compatible (`::a.b.c.d`), SIIT IPv4-translated (`::ffff:0:a.b.c.d`),
/// NAT64 (`64:ff9b::a.b.c.d`, `64:ff9b:1::/48`), 6to4 (`2002:AABB:CCDD::`),
/// Teredo (`2001:0:SSSS:SSSS:…:CCCC:CCCC`: the server, and the client stored
/// inverted) and ISATAP interface ids (`…:0:5efe:a.b.c.d`). A forbidden
/// address inside makes the whole address forbidden.
pub fn embedded_v4(ip: Ipv6Addr) -> Vec<Ipv4Addr> {
    let s = ip.segments();
    let v4 = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    let mut out = Vec::new();
    let low = v4(s[6], s[7]);
    match s {
        [0, 0, 0, 0, 0, 0xffff, ..] | [0, 0, 0, 0, 0, 0, ..] | [0, 0, 0, 0, 0xffff, 0, ..] => out.push(low),
        [0x0064, 0xff9b, ..] => out.push(low),
        [0x2002, hi, lo, ..] => out.push(v4(hi, lo)),
        [0x2001, 0, hi, lo, ..] => {
            out.push(v4(hi, lo));
            out.push(Ipv4Addr::from(!u32::from(low)));
        }
        _ => {}
    }
    if (s[4] & 0xfdff) == 0 && s[5] == 0x5efe {
        out.push(low);
    }
    out
}

/// True when `url` follows [`URL_PATTERN`] (checked by hand, so that the
/// server and its contract agree on every string).
pub fn follows_url_grammar(url: &str) -> bool {
    let Some(rest) = url.strip_prefix("https://").or_else(|| url.strip_prefix("http://")) else {
        return false;
    };
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let (path, query) = match tail.split_once('?') {
        Some((path, query)) => (path, Some(query)),
        None => (tail, None),
    };
    authority_follows_grammar(authority) && escaped_chars(path, false) && query.is_none_or(|q| escaped_chars(q, true))
}

/// `host[:port]` with the host a name, an IPv4 address or a bracketed IPv6 address.
fn authority_follows_grammar(authority: &str) -> bool {
    let (host_ok, port) = if let Some(inner) = authority.strip_prefix('[') {
        let Some((address, after)) = inner.split_once(']') else {
            return false;
        };
        let ipv6 = !address.is_empty()
            && address.bytes().all(|b| b.is_ascii_hexdigit() || b == b':')
            && address.parse::<Ipv6Addr>().is_ok();
        match after {
            "" => (ipv6, None),
            _ => (ipv6, Some(after.strip_prefix(':').unwrap_or("x"))),
        }
    } else {
        let (host, port) = match authority.split_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        };
        (host_name_follows_grammar(host), port)
    };
    host_ok
        && port.is_none_or(|p| {
            (1..=5).contains(&p.len())
                && p.bytes().all(|b| b.is_ascii_digit())
                && !p.starts_with('0')
                && p.parse::<u32>().is_ok_and(|n| n <= 65535)
        })
}

/// Dot-separated LDH labels of 1 to 63 characters, optionally ending in a dot.
fn host_name_follows_grammar(host: &str) -> bool {
    let host = host.strip_suffix('.').unwrap_or(host);
    !host.is_empty()
        && host.split('.').all(|label| {
            (1..=63).contains(&label.len())
                && label.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
                && !label.starts_with('-')
                && !label.ends_with('-')
        })
}

/// RFC 3986 path (or, with `query`, query) characters, `%` only as `%XX`.
fn escaped_chars(text: &str, query: bool) -> bool {
    let bytes = text.as_bytes();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                if !bytes
                    .get(i + 1..i + 3)
                    .is_some_and(|h| h.iter().all(u8::is_ascii_hexdigit))
                {
                    return false;
                }
                i += 3;
                continue;
            }
            b if b.is_ascii_alphanumeric() || b"._~!$&'()*+,;=:@/-".contains(&b) => {}
            b'?' if query => {}
            _ => return false,
        }
        i += 1;
    }
    true
}

/// Parses and checks an endpoint URL. With `allow_private` false, a host
/// that is a non-public address in any spelling ([`check_host`]) is refused,
/// and so is a name that resolves now to one; a name that does not resolve
/// yet is accepted (the send-time check still applies).
pub fn check_url(url: &str, allow_private: bool) -> Result<Uri, UrlRefused> {
    check_url_with(url, allow_private, |host, port| {
        (host, port)
            .to_socket_addrs()
            .map(|addrs| addrs.map(|a| a.ip()).collect())
            .unwrap_or_default()
    })
}

/// [`check_url`] with the name resolution passed in, so tests can pin what
/// a name resolves to.
fn check_url_with(
    url: &str,
    allow_private: bool,
    resolve: impl FnOnce(&str, u16) -> Vec<IpAddr>,
) -> Result<Uri, UrlRefused> {
    let invalid = |m: &str| UrlRefused::Invalid(m.to_string());
    if url.len() > MAX_URL_LEN {
        return Err(invalid("must be at most 2048 characters"));
    }
    if !follows_url_grammar(url) {
        return Err(invalid(
            "must be an absolute http:// or https:// URL: a host name, IPv4 or [IPv6] address, an optional port, path and query, no credentials or fragment",
        ));
    }
    let uri: Uri = url.parse().map_err(|_| invalid("is not a valid absolute URL"))?;
    let scheme = uri.scheme_str().map(str::to_ascii_lowercase);
    let default_port = match scheme.as_deref() {
        Some("https") => 443,
        Some("http") => 80,
        _ => return Err(invalid("must be an http:// or https:// URL")),
    };
    let authority = uri.authority().ok_or_else(|| invalid("must name a host"))?;
    if authority.as_str().contains('@') {
        return Err(invalid("must not contain credentials"));
    }
    let host = authority.host();
    if host.is_empty() {
        return Err(invalid("must name a host"));
    }
    if allow_private {
        return Ok(uri);
    }
    if check_host(host)? {
        return Ok(uri);
    }
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    let port = authority.port_u16().unwrap_or(default_port);
    if resolve(bare, port).into_iter().any(is_forbidden) {
        return Err(UrlRefused::ResolvesPrivate(host.to_string()));
    }
    Ok(uri)
}

/// Refuses a host that is itself a non-public address, whatever its
/// spelling: an IPv4 or IPv6 literal (IPv4 inside IPv6 included), with or
/// without a trailing dot (`127.0.0.1.`), the legacy numeric forms a system
/// resolver also accepts (`2130706433`, `0x7f.1`, `0177.0.0.1`), and
/// `localhost` names. `Ok(true)` when the host is a public address literal
/// (nothing to resolve), `Ok(false)` when it is a name.
pub fn check_host(host: &str) -> Result<bool, UrlRefused> {
    let bare = host.strip_prefix('[').and_then(|h| h.strip_suffix(']')).unwrap_or(host);
    let name = bare.strip_suffix('.').unwrap_or(bare);
    if let Some(ip) = literal_ip(name) {
        return if is_forbidden(ip) {
            Err(UrlRefused::Private(host.to_string()))
        } else {
            Ok(true)
        };
    }
    let lower = name.to_ascii_lowercase();
    if lower == "localhost" || lower.ends_with(".localhost") {
        return Err(UrlRefused::Private(host.to_string()));
    }
    Ok(false)
}

/// An IP address literal, including the numeric IPv4 spellings of
/// `inet_aton` (one to four parts, each decimal, `0x` hex or `0` octal, the
/// last filling the remaining bytes), which resolvers turn into addresses
/// without asking DNS.
fn literal_ip(name: &str) -> Option<IpAddr> {
    if let Ok(ip) = name.parse::<IpAddr>() {
        return Some(ip);
    }
    let parts: Vec<&str> = name.split('.').collect();
    if parts.len() > 4 {
        return None;
    }
    let mut numbers = Vec::with_capacity(parts.len());
    for part in &parts {
        let (digits, radix) = if let Some(hex) = part.strip_prefix("0x").or_else(|| part.strip_prefix("0X")) {
            (hex, 16)
        } else if part.len() > 1 && part.starts_with('0') {
            (&part[1..], 8)
        } else {
            (*part, 10)
        };
        if digits.is_empty() || !digits.chars().all(|c| c.is_digit(radix)) {
            return None;
        }
        numbers.push(u64::from_str_radix(digits, radix).ok()?);
    }
    let (last, head) = numbers.split_last()?;
    if head.iter().any(|n| *n > 255) || *last >= 1u64 << (8 * (4 - head.len())) {
        return None;
    }
    let value = head
        .iter()
        .enumerate()
        .fold(*last, |acc, (i, n)| acc | (n << (8 * (3 - i))));
    Some(IpAddr::V4(Ipv4Addr::from(u32::try_from(value).ok()?)))
}

/// Why the guarded resolver gave no address; the sender turns it into a
/// fixed error class for the delivery log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ResolveRefused {
    /// The host is, or resolved to, a non-public address.
    #[error("the host is or resolves to a non-public address")]
    NonPublic,
    /// The name did not resolve.
    #[error("the host name did not resolve")]
    NotFound,
}

/// ureq's resolver with the SSRF check applied before resolving (to the
/// host as spelled) and to every resolved address, so a name that resolves
/// (or later re-resolves) to a forbidden address is never connected to.
#[derive(Debug, Default)]
pub struct GuardedResolver {
    allow_private: bool,
    inner: DefaultResolver,
}

impl GuardedResolver {
    /// A resolver that refuses forbidden addresses unless `allow_private`.
    pub fn new(allow_private: bool) -> Self {
        GuardedResolver {
            allow_private,
            inner: DefaultResolver::default(),
        }
    }
}

impl Resolver for GuardedResolver {
    fn resolve(&self, uri: &Uri, config: &Config, timeout: NextTimeout) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let refuse = |why: ResolveRefused| ureq::Error::Other(Box::new(why));
        if !self.allow_private && check_host(uri.host().unwrap_or_default()).is_err() {
            return Err(refuse(ResolveRefused::NonPublic));
        }
        let addrs = match self.inner.resolve(uri, config, timeout) {
            Ok(addrs) => addrs,
            Err(ureq::Error::Io(_) | ureq::Error::HostNotFound) => return Err(refuse(ResolveRefused::NotFound)),
            Err(other) => return Err(other),
        };
        if !self.allow_private && addrs.iter().any(|a| is_forbidden(a.ip())) {
            return Err(refuse(ResolveRefused::NonPublic));
        }
        Ok(addrs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn non_public_ranges_are_forbidden() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "64:ff9b::a00:1",
        ] {
            assert!(is_forbidden(ip.parse().unwrap()), "{ip}");
        }
        for ip in ["93.184.216.34", "1.1.1.1", "2606:4700::1111", "::ffff:1.1.1.1"] {
            assert!(!is_forbidden(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn every_ipv4_embedding_of_a_forbidden_address_is_forbidden() {
        for ip in [
            "2002:7f00:1::",                        // 6to4 of 127.0.0.1 (the probe's)
            "2002:a9fe:a9fe::1",                    // 6to4 of 169.254.169.254
            "2002:c0a8:101:1::1",                   // 6to4 of 192.168.1.1
            "::ffff:0:7f00:1",                      // SIIT of 127.0.0.1 (the probe's)
            "::ffff:0:a00:1",                       // SIIT of 10.0.0.1
            "::ffff:0:101:101",                     // SIIT of a public address: never routable
            "::127.0.0.1",                          // IPv4-compatible
            "::1.1.1.1",                            // IPv4-compatible, deprecated whatever it holds
            "::ffff:7f00:1",                        // IPv4-mapped
            "64:ff9b::7f00:1",                      // NAT64, well-known prefix
            "64:ff9b:1::a00:1",                     // NAT64, local-use prefix
            "2001:0:7f00:1::1",                     // Teredo, server 127.0.0.1
            "2001:0:4136:e378:8000:63bf:80ff:fffe", // Teredo, client 127.0.0.1 (inverted)
            "2001:0:4136:e378:8000:63bf:f5ff:fffe", // Teredo, client 10.0.0.1 (inverted)
            "2606:4700::5efe:7f00:1",               // ISATAP interface id, 127.0.0.1
            "2606:4700::200:5efe:a9fe:a9fe",        // ISATAP (universal bit), 169.254.169.254
            "100::1",                               // discard-only
            "3fff::1",                              // documentation
            "2001:2::1",                            // benchmarking
        ] {
            assert!(is_forbidden(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "2002:101:101::1",                      // 6to4 of 1.1.1.1
            "2001:0:4136:e378:8000:63bf:fefe:fefe", // Teredo, public server and client 1.1.1.1
            "2606:4700::5efe:101:101",              // ISATAP interface id of 1.1.1.1
            "2606:4700:4700::1111",
        ] {
            assert!(!is_forbidden(ip.parse().unwrap()), "{ip}");
        }
        assert_eq!(
            embedded_v4("2001:0:4136:e378:8000:63bf:80ff:fffe".parse().unwrap()),
            vec![Ipv4Addr::new(65, 54, 227, 120), Ipv4Addr::new(127, 0, 0, 1)]
        );
    }

    #[test]
    fn every_spelling_of_a_forbidden_host_is_refused_at_creation() {
        for url in [
            "http://127.0.0.1./",         // trailing dot (the probe's)
            "http://10.0.0.1.:8080/hook", // trailing dot and a port
            "http://2130706433/",         // one decimal number
            "http://0x7f.1/",             // hex and a short form
            "http://0177.0.0.1/",         // octal
            "http://127.1/",              // short form
            "http://0/",                  // 0.0.0.0
            "http://0xa9.0xfe.0xa9.0xfe/latest/meta-data",
            "http://[2002:7f00:1::]/",   // the probe's 6to4
            "http://[::ffff:0:7f00:1]/", // the probe's SIIT
            "http://[64:ff9b::a9fe:a9fe]/",
            "http://localhost./",
        ] {
            let refused = check_url_with(url, false, |_, _| panic!("{url}: a literal is never resolved"));
            assert!(matches!(refused, Err(UrlRefused::Private(_))), "{url}: {refused:?}");
        }
        for url in ["http://1.1.1.1./", "http://16843009/", "http://[2002:101:101::1]/"] {
            assert!(
                check_url_with(url, false, |_, _| panic!("{url}: a literal is never resolved")).is_ok(),
                "{url}"
            );
        }
        // Names that only look numeric in part are names, and get resolved.
        for name in ["1.2.3.4.5", "0x7g.1", "08.1", "a.127"] {
            assert_eq!(literal_ip(name), None, "{name}");
        }
    }

    #[test]
    fn a_refusal_never_tells_what_a_name_resolved_to() {
        let refused = check_url_with("http://vm/", false, |host, port| {
            assert_eq!((host, port), ("vm", 80));
            vec!["127.0.0.1".parse().unwrap()]
        })
        .unwrap_err();
        assert_eq!(refused, UrlRefused::ResolvesPrivate("vm".into()));
        let message = refused.to_string();
        assert!(message.starts_with("vm resolves to a non-public address"), "{message}");
        assert!(!message.contains("127.0.0.1"), "{message}");
        let public = check_url_with("https://hooks.example/x", false, |_, _| {
            vec!["1.1.1.1".parse().unwrap()]
        });
        assert!(public.is_ok());
        // A name that does not resolve now is checked again at send time.
        assert!(check_url_with("https://later.example/", false, |_, _| vec![]).is_ok());
    }

    #[test]
    fn urls_are_checked_without_resolving_literals() {
        assert!(check_url("https://93.184.216.34/hook", false).is_ok());
        assert!(matches!(
            check_url("ftp://93.184.216.34/", false),
            Err(UrlRefused::Invalid(_))
        ));
        assert!(matches!(check_url("/relative", false), Err(UrlRefused::Invalid(_))));
        assert!(matches!(
            check_url("https://user:pw@93.184.216.34/", false),
            Err(UrlRefused::Invalid(_))
        ));
        for private in [
            "http://127.0.0.1:9/",
            "http://[::1]/",
            "http://localhost/",
            "http://api.localhost./",
            "http://10.0.0.1/",
            "http://169.254.169.254/latest/meta-data",
        ] {
            assert!(
                matches!(check_url(private, false), Err(UrlRefused::Private(_))),
                "{private}"
            );
            assert!(check_url(private, true).is_ok(), "{private}");
        }
    }

    #[test]
    fn the_url_grammar_is_exact() {
        for ok in [
            "https://a.com",
            "http://127.0.0.1:9/hooks",
            "http://[::1]/hook",
            "http://[fd00::1]:8443",
            "http://[1:2:3:4:5:6:7::]/",
            "http://[1:2:3:4:5:6:7:8]/",
            "https://a.com?x=1",
            "https://a.com:65535/p%20q?x?y=%2F",
            "https://b-c.d.example./x/y/;a=b,c@d:e!$&'()*+~",
        ] {
            assert!(follows_url_grammar(ok), "{ok}");
            assert!(check_url(ok, true).is_ok(), "{ok}");
        }
        for bad in [
            "HTTPS://a.com",
            "https://",
            "https://a-.com",
            "https://-a.com",
            "https://a..com",
            "https://.",
            "https://a.com:0",
            "https://a.com:080",
            "https://a.com:65536",
            "https://a.com:",
            "https://a.com/#x",
            "https://a.com/%2",
            "https://a.com/%zz",
            "https://a b.com",
            "https://a.com/ x",
            "https://u@a.com",
            "https://[::ffff:1.2.3.4]/",
            "https://[1:2:3:4::5:6:7:8]/",
            "https://[1::2::3]/",
            "https://[]/",
            "https://[::1]x/",
            "https://a.com/\u{e9}",
            &format!("https://{}.com", "a".repeat(64)),
        ] {
            assert!(!follows_url_grammar(bad), "{bad}");
            assert!(matches!(check_url(bad, true), Err(UrlRefused::Invalid(_))), "{bad}");
        }
    }
}
