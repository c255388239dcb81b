//! `allowed_outbound_hosts`: the rule syntax (`scheme://host[:port]`) and matching.
//!
//! Semantics follow Spin 3: the scheme may be `*`; the host may be `*`, `*.domain`, a name,
//! an IP address, an IPv4 CIDR (`10.0.0.0/8`), a bracketed IPv6 address or network
//! (`[::1]`, `[fd00::/8]`), or `self` (relative URLs, which reach the app itself); the port
//! may be a number, a range `a..b` (end excluded, as in Spin), `*`, or omitted for the
//! scheme's well-known port. Templates (`{{ var }}`) are expanded before parsing.

use std::fmt;
use std::net::IpAddr;

/// The domain under which components of the same app answer each other.
pub const SERVICE_CHAINING_DOMAIN: &str = ".spin.internal";

/// One parsed allow rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AllowedHost {
    original: String,
    scheme: Option<String>,
    host: HostRule,
    port: PortRule,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostRule {
    Any,
    /// Suffix including the leading dot, e.g. `.example.com`.
    Subdomain(String),
    ToSelf,
    Name(String),
    Network(IpNet),
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PortRule {
    Any,
    Port(u16),
    /// Start included, end excluded.
    Range(u16, u16),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct IpNet {
    addr: IpAddr,
    prefix: u8,
}

impl IpNet {
    fn parse(s: &str) -> Option<Self> {
        let (addr, prefix) = match s.split_once('/') {
            Some((a, p)) => (a.parse::<IpAddr>().ok()?, Some(p.parse::<u8>().ok()?)),
            None => (s.parse::<IpAddr>().ok()?, None),
        };
        let max = if addr.is_ipv4() { 32 } else { 128 };
        let prefix = prefix.unwrap_or(max);
        (prefix <= max).then_some(Self { addr, prefix })
    }

    fn contains(&self, ip: IpAddr) -> bool {
        fn bits(ip: IpAddr) -> (u128, u8) {
            match ip {
                IpAddr::V4(v4) => (u32::from(v4) as u128, 32),
                IpAddr::V6(v6) => (u128::from(v6), 128),
            }
        }
        let ((net, width), (candidate, cwidth)) = (bits(self.addr), bits(ip));
        if width != cwidth {
            return false;
        }
        if self.prefix == 0 {
            return true;
        }
        let shift = width - self.prefix;
        (net >> shift) == (candidate >> shift)
    }
}

/// Why an `allowed_outbound_hosts` entry is not valid.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{message}")]
pub struct AllowedHostError {
    /// What is wrong and how to write it instead.
    pub message: String,
}

fn invalid(message: String) -> AllowedHostError {
    AllowedHostError { message }
}

/// The well-known port of a scheme, used when a rule or a URL omits the port.
pub fn well_known_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" => Some(80),
        "https" => Some(443),
        "redis" => Some(6379),
        "postgres" => Some(5432),
        "mysql" => Some(3306),
        "mqtt" => Some(1883),
        _ => None,
    }
}

impl AllowedHost {
    /// Parse one rule (templates must already be expanded).
    pub fn parse(text: &str) -> Result<Self, AllowedHostError> {
        let original = text.to_string();
        let text = text.trim();
        if text == "insecure:allow-all" {
            return Err(invalid(
                "`insecure:allow-all` is not allowed here; write \"*://*:*\" if you really mean to allow all outbound traffic".into(),
            ));
        }
        let Some((scheme, rest)) = text.split_once("://") else {
            return Err(invalid(format!(
                "{text:?} has no scheme; write it as <scheme>://<host>[:<port>], e.g. \"https://{text}\" (\"*\" is allowed for each part)"
            )));
        };
        let scheme = match scheme {
            "*" => None,
            s if !s.is_empty() && s.chars().all(|c| c.is_ascii_alphabetic()) => {
                Some(s.to_ascii_lowercase())
            }
            s => {
                return Err(invalid(format!(
                    "{text:?}: scheme {s:?} must be letters only (like \"https\") or \"*\""
                )));
            }
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        let (host, port) = split_host_port(rest).map_err(|m| invalid(format!("{text:?}: {m}")))?;
        let host = parse_host(host).map_err(|m| invalid(format!("{text:?}: {m}")))?;
        let port = match port {
            None => {
                let Some(scheme) = &scheme else {
                    return Err(invalid(format!(
                        "{text:?}: a rule with scheme \"*\" must give a port (\":*\" for any)"
                    )));
                };
                PortRule::Port(well_known_port(scheme).ok_or_else(|| {
                    invalid(format!(
                        "{text:?}: scheme {scheme:?} has no well-known port; add one, e.g. \":8080\" or \":*\""
                    ))
                })?)
            }
            Some("*") => PortRule::Any,
            Some(p) => parse_port(p).map_err(|m| invalid(format!("{text:?}: {m}")))?,
        };
        Ok(Self {
            original,
            scheme,
            host,
            port,
        })
    }

    /// Whether it names components of the same app (`<id>.spin.internal`,
    /// `*.spin.internal`): local service chaining.
    pub fn is_service_chaining(&self) -> bool {
        match &self.host {
            HostRule::Name(n) => n.ends_with(SERVICE_CHAINING_DOMAIN),
            HostRule::Subdomain(d) => d == SERVICE_CHAINING_DOMAIN,
            _ => false,
        }
    }

    /// Does this rule allow a request to `target`?
    pub fn allows(&self, target: &OutboundTarget) -> bool {
        self.scheme_allows(&target.scheme)
            && self.host_allows(&target.host)
            && self.port_allows(target.port_or_default())
    }

    fn scheme_allows(&self, scheme: &str) -> bool {
        self.scheme.as_deref().is_none_or(|s| s == scheme)
    }

    fn host_allows(&self, host: &str) -> bool {
        let host = host.to_ascii_lowercase();
        match &self.host {
            HostRule::Any => true,
            HostRule::Subdomain(suffix) => host.ends_with(suffix.as_str()),
            HostRule::ToSelf => false,
            HostRule::Name(name) => *name == host,
            HostRule::Network(net) => host
                .trim_start_matches('[')
                .trim_end_matches(']')
                .parse::<IpAddr>()
                .is_ok_and(|ip| net.contains(ip)),
        }
    }

    fn port_allows(&self, port: Option<u16>) -> bool {
        match (&self.port, port) {
            (PortRule::Any, _) => true,
            (_, None) => false,
            (PortRule::Port(p), Some(port)) => *p == port,
            (PortRule::Range(a, b), Some(port)) => (*a..*b).contains(&port),
        }
    }

    fn allows_relative(&self, scheme: &str) -> bool {
        self.scheme_allows(scheme) && matches!(self.host, HostRule::Any | HostRule::ToSelf)
    }
}

impl fmt::Display for AllowedHost {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.original)
    }
}

fn split_host_port(rest: &str) -> Result<(&str, Option<&str>), String> {
    if rest.is_empty() {
        return Err("the host is empty".into());
    }
    if let Some(after_bracket) = rest.strip_prefix('[') {
        let close = after_bracket
            .find(']')
            .ok_or("an IPv6 address opened with `[` must close with `]`")?;
        let host = &rest[..close + 2];
        let tail = &rest[close + 2..];
        return match tail {
            "" => Ok((host, None)),
            t => t
                .strip_prefix(':')
                .map(|p| (host, Some(p)))
                .ok_or_else(|| format!("unexpected {t:?} after the host")),
        };
    }
    if rest.contains('/')
        && !rest
            .split('/')
            .nth(1)
            .unwrap_or("")
            .chars()
            .all(|c| c.is_ascii_digit() || c == ':' || c == '*' || c == '.')
    {
        return Err("a rule must not contain a path; give only scheme, host and port".into());
    }
    Ok(match rest.rsplit_once(':') {
        Some((h, p)) => (h, Some(p)),
        None => (rest, None),
    })
}

fn parse_host(host: &str) -> Result<HostRule, String> {
    let host = host.trim().to_ascii_lowercase();
    match host.as_str() {
        "*" => return Ok(HostRule::Any),
        "self" | "self.alt" => return Ok(HostRule::ToSelf),
        "" => return Err("the host is empty".into()),
        _ => {}
    }
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(&host);
    if let Some(net) = IpNet::parse(bare) {
        return Ok(HostRule::Network(net));
    }
    if host.contains('/') {
        return Err(format!(
            "{host:?} is neither a host name nor a valid CIDR network like \"10.0.0.0/8\""
        ));
    }
    if let Some(domain) = host.strip_prefix("*.") {
        if domain.contains('*') || domain.is_empty() {
            return Err(
                "a wildcard is allowed only as the first label, as in \"*.example.com\"".into(),
            );
        }
        return Ok(HostRule::Subdomain(format!(".{domain}")));
    }
    if host.contains('*') {
        return Err("a wildcard is allowed only as the whole host (\"*\") or as the first label (\"*.example.com\")".into());
    }
    if !host
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '.' || c == '_')
    {
        return Err(format!("{host:?} is not a valid host name"));
    }
    Ok(HostRule::Name(host))
}

fn parse_port(p: &str) -> Result<PortRule, String> {
    let num = |s: &str| {
        s.parse::<u16>()
            .map_err(|_| format!("port {s:?} is not a number between 0 and 65535"))
    };
    match p.split_once("..") {
        Some((a, b)) => {
            let (a, b) = (num(a)?, num(b)?);
            if a >= b {
                return Err(format!(
                    "port range {p:?} is empty; the end is excluded, so write e.g. \"{a}..{}\"",
                    a.saturating_add(1)
                ));
            }
            Ok(PortRule::Range(a, b))
        }
        None => Ok(PortRule::Port(num(p)?)),
    }
}

/// Where an outbound request wants to go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundTarget {
    /// Lowercase scheme, e.g. `https`.
    pub scheme: String,
    /// Host name or IP address (IPv6 with or without brackets).
    pub host: String,
    /// Explicit port, if the URL gave one.
    pub port: Option<u16>,
}

impl OutboundTarget {
    fn port_or_default(&self) -> Option<u16> {
        self.port.or_else(|| well_known_port(&self.scheme))
    }

    /// The narrowest rule that would allow this target, for error messages.
    pub fn suggested_rule(&self) -> String {
        let port = match (self.port, well_known_port(&self.scheme)) {
            (Some(p), Some(d)) if p == d => String::new(),
            (Some(p), _) => format!(":{p}"),
            (None, _) => String::new(),
        };
        format!("{}://{}{}", self.scheme, self.host, port)
    }
}

impl fmt::Display for OutboundTarget {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.port {
            Some(p) => write!(f, "{}://{}:{}", self.scheme, self.host, p),
            None => write!(f, "{}://{}", self.scheme, self.host),
        }
    }
}

/// A component's whole allow list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AllowedHosts {
    rules: Vec<AllowedHost>,
}

impl AllowedHosts {
    /// Parse every rule; the first invalid one is the error.
    pub fn parse<S: AsRef<str>>(entries: &[S]) -> Result<Self, AllowedHostError> {
        let rules = entries
            .iter()
            .map(|e| AllowedHost::parse(e.as_ref()))
            .collect::<Result<_, _>>()?;
        Ok(Self { rules })
    }

    /// The first rule that allows `target`, if any.
    pub fn rule_for(&self, target: &OutboundTarget) -> Option<&AllowedHost> {
        self.rules.iter().find(|r| r.allows(target))
    }

    /// May a relative URL (a request to the app itself) be sent with this scheme?
    pub fn allows_relative(&self, scheme: &str) -> bool {
        self.rules.iter().any(|r| r.allows_relative(scheme))
    }

    /// Could some rule allow `scheme` (a rule for it, or for any scheme)?
    pub fn mentions_scheme(&self, scheme: &str) -> bool {
        self.rules.iter().any(|r| r.scheme_allows(scheme))
    }

    /// The host names that rules for `scheme` name exactly and whose port rule allows
    /// `port`: a socket address resolved from one of them is allowed.
    pub fn names_for(&self, scheme: &str, port: u16) -> impl Iterator<Item = &str> {
        self.rules.iter().filter_map(move |r| match &r.host {
            HostRule::Name(name) if r.scheme_allows(scheme) && r.port_allows(Some(port)) => {
                Some(name.as_str())
            }
            _ => None,
        })
    }

    /// May host `name` be looked up for one of `schemes` (a rule for it, at any port)?
    pub fn allows_name(&self, schemes: &[&str], name: &str) -> bool {
        self.rules.iter().any(|r| {
            schemes.iter().any(|s| r.scheme_allows(s))
                && !matches!(r.host, HostRule::Network(_))
                && r.host_allows(name)
        })
    }

    /// True when there are no rules (nothing is allowed).
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn target(url: &str) -> OutboundTarget {
        let u = url::Url::parse(url).unwrap();
        OutboundTarget {
            scheme: u.scheme().into(),
            host: u.host_str().unwrap().into(),
            port: u.port(),
        }
    }

    fn allows(rule: &str, url: &str) -> bool {
        AllowedHost::parse(rule).unwrap().allows(&target(url))
    }

    #[test]
    fn matching_table() {
        let cases = [
            ("https://example.com", "https://example.com/x", true),
            ("https://example.com", "https://example.com:443/", true),
            ("https://example.com", "http://example.com/", false),
            ("https://example.com", "https://example.com:8443/", false),
            ("https://example.com", "https://EXAMPLE.com/", true),
            ("https://example.com", "https://api.example.com/", false),
            ("https://*.example.com", "https://api.example.com/", true),
            ("https://*.example.com", "https://a.b.example.com/", true),
            ("https://*.example.com", "https://example.com/", false),
            ("https://*.example.com", "https://evilexample.com/", false),
            ("*://example.com:*", "http://example.com:1234/", true),
            ("*://example.com:*", "https://example.com/", true),
            ("http://*:*", "http://anything.test:9/", true),
            ("http://*", "http://anything.test:9/", false),
            ("http://*", "http://anything.test/", true),
            (
                "http://localhost:3000..3010",
                "http://localhost:3000/",
                true,
            ),
            (
                "http://localhost:3000..3010",
                "http://localhost:3009/",
                true,
            ),
            (
                "http://localhost:3000..3010",
                "http://localhost:3010/",
                false,
            ),
            ("http://10.0.0.0/8:80", "http://10.1.2.3/", true),
            ("http://10.0.0.0/8:*", "http://11.1.2.3/", false),
            ("http://127.0.0.1:*", "http://127.0.0.1:8080/", true),
            ("http://127.0.0.1:*", "http://127.0.0.2:8080/", false),
            ("http://[::1]:8080", "http://[::1]:8080/", true),
            ("http://[fd00::/8]:*", "http://[fd12::1]:80/", true),
            ("http://self", "http://example.com/", false),
        ];
        for (rule, url, expected) in cases {
            assert_eq!(allows(rule, url), expected, "{rule} vs {url}");
        }
    }

    #[test]
    fn relative_urls() {
        let hosts = AllowedHosts::parse(&["http://self"]).unwrap();
        assert!(hosts.allows_relative("http"));
        assert!(!hosts.allows_relative("https"));
        assert!(
            AllowedHosts::parse(&["*://*:*"])
                .unwrap()
                .allows_relative("https")
        );
        assert!(
            !AllowedHosts::parse(&["https://example.com"])
                .unwrap()
                .allows_relative("http")
        );
    }

    #[test]
    fn invalid_rules() {
        for (rule, needle) in [
            ("example.com", "has no scheme"),
            ("insecure:allow-all", "not allowed"),
            ("https://example.com/path", "must not contain a path"),
            ("https://ex*ample.com", "wildcard"),
            ("https://*.*.example.com", "wildcard"),
            ("ftp://example.com", "no well-known port"),
            ("*://example.com", "must give a port"),
            ("https://example.com:99999", "not a number"),
            ("https://example.com:10..5", "is empty"),
            ("ht-tp://example.com", "letters only"),
            ("https://10.0.0.0/40", "CIDR"),
        ] {
            let err = AllowedHost::parse(rule).unwrap_err().message;
            assert!(err.contains(needle), "{rule}: {err}");
        }
    }

    #[test]
    fn socket_rules_by_scheme_name_and_port() {
        let hosts = AllowedHosts::parse(&[
            "tcp://db.internal:5432",
            "tcp://10.0.0.0/8:6379",
            "udp://*.dns.test:53",
            "https://api.test",
        ])
        .unwrap();
        assert!(hosts.mentions_scheme("tcp") && hosts.mentions_scheme("udp"));
        assert!(!hosts.mentions_scheme("mqtt"));
        assert_eq!(
            hosts.names_for("tcp", 5432).collect::<Vec<_>>(),
            ["db.internal"]
        );
        assert_eq!(hosts.names_for("tcp", 5433).count(), 0);
        assert_eq!(hosts.names_for("udp", 5432).count(), 0);
        assert!(hosts.allows_name(&["tcp", "udp"], "db.internal"));
        assert!(hosts.allows_name(&["tcp", "udp"], "a.dns.test"));
        // An HTTP rule's host, or a network, is no reason to look a name up for a socket.
        assert!(!hosts.allows_name(&["tcp", "udp"], "api.test"));
        assert!(!hosts.allows_name(&["tcp", "udp"], "10.0.0.1"));
        assert!(
            AllowedHosts::parse(&["*://*:*"])
                .unwrap()
                .mentions_scheme("udp")
        );
    }

    #[test]
    fn suggestions() {
        assert_eq!(
            target("https://example.com:443/").suggested_rule(),
            "https://example.com"
        );
        assert_eq!(
            target("http://127.0.0.1:8080/a").suggested_rule(),
            "http://127.0.0.1:8080"
        );
    }
}
