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

/// Why a URL is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlRefused {
    /// Not an absolute `http://` or `https://` URL with a host.
    #[error("{0}")]
    Invalid(String),
    /// The host is, or resolves to, a non-public address.
    #[error("{0} is a loopback, private or link-local address; webhooks must target a public address")]
    Private(String),
}

/// True for addresses a webhook must not reach by default: unspecified,
/// loopback, private (RFC 1918, unique local), shared (CGNAT), link-local,
/// multicast, broadcast, documentation, benchmarking and reserved ranges,
/// and IPv6 addresses embedding one of those IPv4 addresses.
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
    if let Some(v4) = ip.to_ipv4_mapped() {
        return forbidden_v4(v4);
    }
    let s = ip.segments();
    ip.is_unspecified()
        || ip.is_loopback()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
        || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
        || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated) fec0::/10
        || (s[0] == 0x2001 && s[1] == 0x0db8) // documentation
        || (s[0] == 0x0064 && s[1] == 0xff9b) // NAT64: embeds an IPv4 address
        || (s[..6] == [0, 0, 0, 0, 0, 0]) // IPv4-compatible (deprecated)
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

/// Parses and checks an endpoint URL. With `allow_private` false, an IP
/// literal, `localhost`, or a name that resolves now to a forbidden address
/// is refused; a name that does not resolve yet is accepted (the send-time
/// check still applies).
pub fn check_url(url: &str, allow_private: bool) -> Result<Uri, UrlRefused> {
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
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return if is_forbidden(ip) {
            Err(UrlRefused::Private(ip.to_string()))
        } else {
            Ok(uri)
        };
    }
    let lower = bare.trim_end_matches('.').to_ascii_lowercase();
    if lower == "localhost" || lower.ends_with(".localhost") {
        return Err(UrlRefused::Private(host.to_string()));
    }
    let port = authority.port_u16().unwrap_or(default_port);
    if let Ok(addrs) = (bare, port).to_socket_addrs() {
        if let Some(bad) = addrs.map(|a| a.ip()).find(|ip| is_forbidden(*ip)) {
            return Err(UrlRefused::Private(format!("{host} ({bad})")));
        }
    }
    Ok(uri)
}

/// A target refused at send time, reported as the attempt's error.
#[derive(Debug, thiserror::Error)]
#[error("refused to connect: {0} is a loopback, private or link-local address")]
struct ForbiddenTarget(IpAddr);

/// ureq's resolver with the SSRF check applied to every resolved address,
/// so a name that resolves (or later re-resolves) to a forbidden address is
/// never connected to.
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
        let addrs = self.inner.resolve(uri, config, timeout)?;
        if !self.allow_private {
            if let Some(bad) = addrs.iter().map(|a| a.ip()).find(|ip| is_forbidden(*ip)) {
                return Err(ureq::Error::Other(Box::new(ForbiddenTarget(bad))));
            }
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
