//! Spin's request headers, computed from the routing decision alone: a pure function,
//! table-tested, so the server only applies what it returns.

use crate::router::RouteMatch;
use std::net::SocketAddr;

/// What the headers are computed from.
pub struct RequestFacts<'a> {
    /// The `Host` the client sent (or the listener's address when it sent none).
    pub host: &'a str,
    /// Path and query as received.
    pub path_and_query: &'a str,
    /// The client's address.
    pub client: SocketAddr,
}

/// The `spin-*` headers a guest receives, in Spin's order: `spin-full-url`,
/// `spin-path-info`, `spin-matched-route`, `spin-base-path`, `spin-raw-component-route`,
/// `spin-component-route`, `spin-client-addr`, then `spin-path-match-<name>` per parameter
/// (`_` in the name becomes `-`, as in Spin).
/// Every `spin-*` header the client sent is dropped by the caller, so none can be forged.
pub fn spin_headers(m: &RouteMatch<'_>, facts: &RequestFacts<'_>) -> Vec<(String, String)> {
    let mut out = vec![
        (
            "spin-full-url".to_string(),
            format!("http://{}{}", facts.host, facts.path_and_query),
        ),
        ("spin-path-info".into(), m.path_info.clone()),
        ("spin-matched-route".into(), m.route.based.clone()),
        ("spin-base-path".into(), "/".into()),
        ("spin-raw-component-route".into(), m.route.raw.clone()),
        (
            "spin-component-route".into(),
            m.route.raw_prefix().to_string(),
        ),
        ("spin-client-addr".into(), facts.client.to_string()),
    ];
    for (name, value) in &m.params {
        out.push((
            format!(
                "spin-path-match-{}",
                name.to_ascii_lowercase().replace('_', "-")
            ),
            value.clone(),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::router::Router;

    fn headers(base: &str, route: &str, path: &str, query: &str) -> Vec<(String, String)> {
        let (router, _) = Router::build(base, [("c", route)]).unwrap();
        let m = router.route(path).unwrap();
        let path_and_query = format!("{path}{query}");
        spin_headers(
            &m,
            &RequestFacts {
                host: "example.com:3000",
                path_and_query: &path_and_query,
                client: "10.0.0.7:5555".parse().unwrap(),
            },
        )
    }

    fn get<'a>(h: &'a [(String, String)], name: &str) -> &'a str {
        h.iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .unwrap()
    }

    #[test]
    fn table_of_routes_and_paths() {
        // (base, route, path, full url, path info, matched route, raw, component route)
        let cases = [
            (
                "/",
                "/...",
                "/a/b",
                "http://example.com:3000/a/b?x=1",
                "/a/b",
                "/...",
                "/...",
                "",
            ),
            (
                "/",
                "/hello",
                "/hello",
                "http://example.com:3000/hello?x=1",
                "",
                "/hello",
                "/hello",
                "/hello",
            ),
            (
                "/",
                "/api/...",
                "/api/",
                "http://example.com:3000/api/?x=1",
                "/",
                "/api/...",
                "/api/...",
                "/api",
            ),
            (
                "/base",
                "/hello/...",
                "/base/hello/x",
                "http://example.com:3000/base/hello/x?x=1",
                "/x",
                "/base/hello/...",
                "/hello/...",
                "/hello",
            ),
        ];
        for (base, route, path, url, info, matched, raw, component) in cases {
            let h = headers(base, route, path, "?x=1");
            assert_eq!(get(&h, "spin-full-url"), url, "{route} {path}");
            assert_eq!(get(&h, "spin-path-info"), info, "{route} {path}");
            assert_eq!(get(&h, "spin-matched-route"), matched, "{route} {path}");
            assert_eq!(get(&h, "spin-raw-component-route"), raw, "{route} {path}");
            assert_eq!(get(&h, "spin-component-route"), component, "{route} {path}");
            assert_eq!(get(&h, "spin-base-path"), "/");
            assert_eq!(get(&h, "spin-client-addr"), "10.0.0.7:5555");
        }
    }

    #[test]
    fn parameters_become_lowercase_path_match_headers_in_order() {
        let h = headers("/", "/users/:UserId/posts/:post", "/users/42/posts/7", "");
        let names: Vec<&str> = h.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(
            names,
            [
                "spin-full-url",
                "spin-path-info",
                "spin-matched-route",
                "spin-base-path",
                "spin-raw-component-route",
                "spin-component-route",
                "spin-client-addr",
                "spin-path-match-userid",
                "spin-path-match-post"
            ]
        );
        assert_eq!(get(&h, "spin-path-match-userid"), "42");
        assert_eq!(get(&h, "spin-path-match-post"), "7");
    }

    /// The conformance suite's request-shape case: `:path_segment` arrives as
    /// `spin-path-match-path-segment`, with the documented route headers.
    #[test]
    fn underscores_in_parameter_names_become_dashes() {
        let h = headers(
            "/",
            "/base/:path_segment/:path_end/...",
            "/base/path/end/rest",
            "?key=value",
        );
        assert_eq!(get(&h, "spin-path-match-path-segment"), "path");
        assert_eq!(get(&h, "spin-path-match-path-end"), "end");
        assert_eq!(get(&h, "spin-path-info"), "/rest");
        assert_eq!(
            get(&h, "spin-component-route"),
            "/base/:path_segment/:path_end"
        );
        assert_eq!(
            get(&h, "spin-matched-route"),
            "/base/:path_segment/:path_end/..."
        );
        assert_eq!(get(&h, "spin-base-path"), "/");
        assert!(!h.iter().any(|(k, _)| k.contains('_')));
    }
}
