//! Spin's HTTP routing: exact segments, `:name` segments and a trailing `/...` wildcard.
//! Exact beats wildcard; among wildcards the longest prefix wins. A later trigger with
//! the same route replaces an earlier one (with a warning), as in Spin.

use spin_app::route::{RouteError, RoutePattern, Segment, join};
use std::cmp::Ordering;

/// One route, after the base path is applied.
#[derive(Debug, Clone)]
pub struct Route {
    /// The component that handles it.
    pub component: String,
    /// The route as written in the manifest.
    pub raw: String,
    /// Base + route, trailing slash removed (`spin-matched-route`).
    pub based: String,
    segments: Vec<Segment>,
    wildcard: bool,
}

/// A route that replaced an earlier one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Duplicate {
    /// The route.
    pub route: String,
    /// The component that lost it.
    pub replaced: String,
    /// The component that has it.
    pub effective: String,
}

/// A routing decision for one path.
#[derive(Debug)]
pub struct RouteMatch<'a> {
    /// The route that matched.
    pub route: &'a Route,
    /// `:name` captures, in route order.
    pub params: Vec<(String, String)>,
    /// The part of the path matched by a trailing wildcard (`spin-path-info`).
    pub path_info: String,
}

/// The routing table.
#[derive(Debug, Clone, Default)]
pub struct Router {
    routes: Vec<Route>,
}

fn rank_key(r: &Route) -> Vec<u8> {
    // END > exact > param > wildcard, compared left to right.
    let mut key: Vec<u8> = r
        .segments
        .iter()
        .map(|s| match s {
            Segment::Exact(_) => 2,
            Segment::Param(_) => 1,
        })
        .collect();
    key.push(if r.wildcard { 0 } else { 3 });
    key
}

impl Router {
    /// Build from `(component, route)` pairs; `base` is the app's HTTP base path. Routes
    /// follow [`spin_app::route`]'s grammar; one that does not is an error.
    pub fn build<'a>(
        base: &str,
        entries: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> Result<(Self, Vec<Duplicate>), RouteError> {
        let base_pattern = RoutePattern::parse(base)?;
        let mut routes: Vec<Route> = Vec::new();
        let mut duplicates = Vec::new();
        for (component, raw) in entries {
            let RoutePattern { segments, wildcard } =
                RoutePattern::parse(raw)?.under(&base_pattern);
            let based = join(base, raw);
            let route = Route {
                component: component.to_string(),
                raw: raw.to_string(),
                based,
                segments,
                wildcard,
            };
            if let Some(existing) = routes.iter_mut().find(|r| r.raw == route.raw) {
                duplicates.push(Duplicate {
                    route: route.based.clone(),
                    replaced: existing.component.clone(),
                    effective: route.component.clone(),
                });
                *existing = route;
            } else {
                routes.push(route);
            }
        }
        Ok((Self { routes }, duplicates))
    }

    /// All routes, in manifest order.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// Routes that can never be chosen: each pair is (the route that wins, a later route of
    /// the same shape, differing only in `:name` parameter names, that it hides).
    pub fn shadowed(&self) -> Vec<(&Route, &Route)> {
        fn shape(r: &Route) -> (Vec<Option<&str>>, bool) {
            let segments: Vec<Option<&str>> = r
                .segments
                .iter()
                .map(|s| match s {
                    Segment::Exact(e) => Some(e.as_str()),
                    Segment::Param(_) => None,
                })
                .collect();
            (segments, r.wildcard)
        }
        let mut out = Vec::new();
        for (i, later) in self.routes.iter().enumerate() {
            if let Some(winner) = self.routes[..i].iter().find(|r| shape(r) == shape(later)) {
                out.push((winner, later));
            }
        }
        out
    }

    /// The best route for a request path (without query), if any.
    pub fn route(&self, path: &str) -> Option<RouteMatch<'_>> {
        let trailing_slash = path.len() > 1 && path.ends_with('/');
        let parts: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        let mut best: Option<RouteMatch<'_>> = None;
        for route in &self.routes {
            let n = route.segments.len();
            if parts.len() < n || (!route.wildcard && parts.len() != n) {
                continue;
            }
            let mut params = Vec::new();
            let matched = route
                .segments
                .iter()
                .zip(&parts)
                .all(|(seg, part)| match seg {
                    Segment::Exact(s) => s == part,
                    Segment::Param(name) => {
                        params.push((name.clone(), part.to_string()));
                        true
                    }
                });
            if !matched {
                continue;
            }
            let better = match &best {
                None => true,
                Some(b) => rank_key(route).cmp(&rank_key(b.route)) == Ordering::Greater,
            };
            if better {
                best = Some(RouteMatch {
                    route,
                    params,
                    path_info: String::new(),
                });
            }
        }
        let RouteMatch { route, params, .. } = best?;
        let n = route.segments.len();
        let path_info = if route.wildcard {
            let rest = parts[n..].join("/");
            match (rest.is_empty(), trailing_slash) {
                (true, false) => String::new(),
                (true, true) => "/".to_string(),
                (false, false) => format!("/{rest}"),
                (false, true) => format!("/{rest}/"),
            }
        } else {
            String::new()
        };
        Some(RouteMatch {
            route,
            params,
            path_info,
        })
    }
}

impl Route {
    /// `/...` for `component`: how a chained request (`<component>.spin.internal`) is
    /// routed.
    pub fn catch_all(component: &str) -> Self {
        Self {
            component: component.to_string(),
            raw: "/...".into(),
            based: "/...".into(),
            segments: Vec::new(),
            wildcard: true,
        }
    }

    /// The manifest route without a trailing wildcard (`spin-component-route`).
    pub fn raw_prefix(&self) -> &str {
        self.raw.strip_suffix("/...").unwrap_or(&self.raw)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn router(routes: &[(&str, &str)]) -> Router {
        Router::build("/", routes.iter().copied()).unwrap().0
    }

    #[test]
    fn same_shape_routes_shadow_later_ones() {
        let r = router(&[
            ("a", "/users/:id"),
            ("b", "/users/:name"),
            ("c", "/users/:id/..."),
            ("d", "/users/me"),
        ]);
        let pairs: Vec<(&str, &str)> = r
            .shadowed()
            .iter()
            .map(|(w, l)| (w.component.as_str(), l.component.as_str()))
            .collect();
        assert_eq!(pairs, [("a", "b")]);
        assert_eq!(r.route("/users/42").unwrap().route.component, "a");
    }

    fn target(r: &Router, path: &str) -> Option<String> {
        r.route(path).map(|m| m.route.component.clone())
    }

    #[test]
    fn exact_and_wildcard_table() {
        let r = router(&[
            ("root", "/"),
            ("all", "/..."),
            ("foo", "/foo"),
            ("foo-any", "/foo/..."),
            ("foo-bar-any", "/foo/bar/..."),
            ("user", "/users/:id"),
            ("user-any", "/users/..."),
            ("user-posts", "/users/:id/posts"),
        ]);
        let cases = [
            ("/", "root"),
            ("/nothing", "all"),
            ("/foo", "foo"),
            ("/foo/", "foo"),
            ("/foo/x", "foo-any"),
            ("/foo/bar", "foo-bar-any"),
            ("/foo/bar/baz/qux", "foo-bar-any"),
            ("/foobar", "all"),
            ("/users/42", "user"),
            ("/users/42/x", "user-any"),
            ("/users/42/posts", "user-posts"),
            ("/users", "user-any"),
        ];
        for (path, expected) in cases {
            assert_eq!(target(&r, path).as_deref(), Some(expected), "{path}");
        }
    }

    #[test]
    fn longest_prefix_wins_regardless_of_order() {
        for routes in [
            [
                ("one", "/one/..."),
                ("two", "/one/two/..."),
                ("three", "/one/two/three/..."),
            ],
            [
                ("three", "/one/two/three/..."),
                ("two", "/one/two/..."),
                ("one", "/one/..."),
            ],
        ] {
            let r = router(&routes);
            assert_eq!(target(&r, "/one/two/three/four").as_deref(), Some("three"));
            assert_eq!(target(&r, "/one/two/x").as_deref(), Some("two"));
            assert_eq!(target(&r, "/one").as_deref(), Some("one"));
        }
    }

    #[test]
    fn no_match_is_none() {
        let r = router(&[("hello", "/hello")]);
        assert!(r.route("/").is_none());
        assert!(r.route("/hello/more").is_none());
        assert!(r.route("/hell").is_none());
    }

    #[test]
    fn path_info_and_params() {
        let r = router(&[("c", "/foo/:userid/..."), ("w", "/static/...")]);
        let m = r.route("/foo/42/bar").unwrap();
        assert_eq!(m.params, vec![("userid".to_string(), "42".to_string())]);
        assert_eq!(m.path_info, "/bar");
        assert_eq!(m.route.raw_prefix(), "/foo/:userid");
        assert_eq!(r.route("/static").unwrap().path_info, "");
        assert_eq!(r.route("/static/").unwrap().path_info, "/");
        assert_eq!(r.route("/static/a/b").unwrap().path_info, "/a/b");
        assert_eq!(r.route("/static/a/b/").unwrap().path_info, "/a/b/");
    }

    #[test]
    fn base_path_and_duplicates() {
        let (r, dups) =
            Router::build("/base", [("a", "/x"), ("b", "/x"), ("c", "/y/...")]).unwrap();
        assert_eq!(target(&r, "/base/x").as_deref(), Some("b"));
        assert!(r.route("/x").is_none());
        assert_eq!(r.route("/base/y/z").unwrap().route.based, "/base/y/...");
        assert_eq!(
            dups,
            vec![Duplicate {
                route: "/base/x".into(),
                replaced: "a".into(),
                effective: "b".into()
            }]
        );
    }
}
