//! The WAGI executor: a WASI command run once per request, CGI style, as Spin runs it.
//! The request is the environment (`REQUEST_METHOD`, `PATH_INFO`, `QUERY_STRING`,
//! `SERVER_*`, `X_FULL_URL`, `X_MATCHED_ROUTE`, `HTTP_*`, …) and stdin; `argv` comes from
//! the trigger's template (`${SCRIPT_NAME}`, `${ARGS}`); the response is stdout: CGI
//! headers (`status`, `location`, `content-type`, others), a blank line, the body.
//! Core-module commands run their entrypoint; components run `wasi:cli/run`.

use crate::state::ModuleState;
use bytes::Bytes;
use http::{HeaderName, HeaderValue, Response, StatusCode};
use wasmtime::{InstancePre, Store};
use wasmtime_wasi::WasiCtxBuilder;
use wasmtime_wasi::p2::bindings::CommandPre;
use wasmtime_wasi::p2::pipe::{MemoryInputPipe, MemoryOutputPipe};

/// Spin's defaults.
const DEFAULT_ENTRYPOINT: &str = "_start";
const DEFAULT_ARGV: &str = "${SCRIPT_NAME} ${ARGS}";

/// The trigger's `executor = { type = "wagi", entrypoint, argv }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WagiConfig {
    /// The function to run.
    pub entrypoint: String,
    /// The command line template.
    pub argv: String,
}

impl WagiConfig {
    /// From the locked trigger's settings, with Spin's defaults.
    pub fn new(entrypoint: Option<&str>, argv: Option<&str>) -> Self {
        Self {
            entrypoint: entrypoint.unwrap_or(DEFAULT_ENTRYPOINT).to_string(),
            argv: argv.unwrap_or(DEFAULT_ARGV).to_string(),
        }
    }
}

/// `spin-*` request headers and the CGI variables Spin sets from the same facts.
const SPIN_TO_CGI: &[(&str, &str)] = &[
    ("spin-full-url", "X_FULL_URL"),
    ("spin-path-info", "PATH_INFO"),
    ("spin-matched-route", "X_MATCHED_ROUTE"),
    ("spin-base-path", "X_BASE_PATH"),
    ("spin-raw-component-route", "X_RAW_COMPONENT_ROUTE"),
    ("spin-component-route", "X_COMPONENT_ROUTE"),
    ("spin-client-addr", "X_CLIENT_ADDR"),
];

fn header<'a>(parts: &'a http::request::Parts, name: &str) -> &'a str {
    parts
        .headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
}

/// The command line: `argv` with `${SCRIPT_NAME}` as the request path and `${ARGS}` as
/// the query's keys and (non-empty) values, decoded.
pub fn args(config: &WagiConfig, parts: &http::request::Parts) -> Vec<String> {
    let query: Vec<String> =
        url::form_urlencoded::parse(parts.uri.query().unwrap_or("").as_bytes())
            .flat_map(|(k, v)| {
                let v = (!v.is_empty()).then(|| v.into_owned());
                std::iter::once(k.into_owned()).chain(v)
            })
            .collect();
    let mut out = Vec::new();
    for word in config.argv.split_whitespace() {
        match word {
            "${SCRIPT_NAME}" => out.push(parts.uri.path().to_string()),
            "${ARGS}" => out.extend(query.iter().cloned()),
            other => out.push(other.to_string()),
        }
    }
    out
}

/// The CGI environment of a request whose `spin-*` headers the trigger has set.
pub fn environment(parts: &http::request::Parts, body_len: usize) -> Vec<(String, String)> {
    let host = header(parts, "host");
    let (server_name, server_port) = match host.rsplit_once(':') {
        Some((h, p)) if !h.is_empty() && p.bytes().all(|b| b.is_ascii_digit()) => (h, p),
        _ if !host.is_empty() => (host, "80"),
        _ => ("localhost", "80"),
    };
    let client = header(parts, "spin-client-addr");
    let client_ip = client
        .parse::<std::net::SocketAddr>()
        .map(|a| a.ip().to_string())
        .unwrap_or_default();
    let mut env: Vec<(String, String)> = vec![
        ("AUTH_TYPE".into(), String::new()),
        ("CONTENT_LENGTH".into(), body_len.to_string()),
        ("CONTENT_TYPE".into(), header(parts, "content-type").into()),
        ("GATEWAY_INTERFACE".into(), "CGI/1.1".into()),
        (
            "QUERY_STRING".into(),
            parts.uri.query().unwrap_or("").into(),
        ),
        ("REMOTE_ADDR".into(), client_ip.clone()),
        ("REMOTE_HOST".into(), client_ip),
        ("REMOTE_USER".into(), String::new()),
        ("REQUEST_METHOD".into(), parts.method.to_string()),
        (
            "SCRIPT_NAME".into(),
            header(parts, "spin-component-route").into(),
        ),
        (
            "X_RAW_PATH_INFO".into(),
            header(parts, "spin-path-info").into(),
        ),
        (
            "PATH_TRANSLATED".into(),
            header(parts, "spin-path-info").into(),
        ),
        ("SERVER_NAME".into(), server_name.into()),
        ("SERVER_PORT".into(), server_port.into()),
        ("SERVER_PROTOCOL".into(), format!("{:?}", parts.version)),
        ("SERVER_SOFTWARE".into(), "WAGI/1".into()),
    ];
    for (name, cgi) in SPIN_TO_CGI {
        env.push((cgi.to_string(), header(parts, name).into()));
    }
    for (name, value) in &parts.headers {
        let name = name.as_str();
        let value = || String::from_utf8_lossy(value.as_bytes()).into_owned();
        if let Some(param) = name.strip_prefix("spin-path-match-") {
            let var = format!(
                "X_PATH_MATCH_{}",
                param.to_ascii_uppercase().replace('-', "_")
            );
            env.push((var, value()));
        } else if name.starts_with("spin-") || name == "authorization" || name == "connection" {
            continue;
        } else {
            let var = format!("HTTP_{}", name.to_ascii_uppercase().replace('-', "_"));
            env.push((var, value()));
        }
    }
    env
}

/// The response a CGI program wrote: headers up to the first blank line, then the body.
/// It must set at least one of `content-type`, `location` or `status`; `location` alone
/// means 302.
pub fn parse_output(stdout: &[u8]) -> Result<Response<Bytes>, String> {
    let mut split = None;
    let mut i = 0;
    while i < stdout.len() {
        if stdout[i..].starts_with(b"\n\n") {
            split = Some((i, i + 2));
            break;
        }
        if stdout[i..].starts_with(b"\r\n\r\n") {
            split = Some((i, i + 4));
            break;
        }
        if stdout[i..].starts_with(b"\n\r\n") {
            split = Some((i, i + 3));
            break;
        }
        i += 1;
    }
    let Some((end, body_start)) = split else {
        return Err("its output has no blank line ending the CGI headers".into());
    };
    let head = std::str::from_utf8(&stdout[..end])
        .map_err(|_| "its CGI headers are not valid UTF-8".to_string())?;
    let mut response = Response::new(Bytes::copy_from_slice(&stdout[body_start..]));
    let (mut sufficient, mut explicit_status) = (false, false);
    for line in head.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let Some((name, value)) = line.split_once(':') else {
            return Err(format!("CGI header line {line:?} has no `:`"));
        };
        let (name, value) = (name.trim().to_ascii_lowercase(), value.trim());
        match name.as_str() {
            "status" => {
                let code = value.split_whitespace().next().unwrap_or("");
                let status = code
                    .parse::<u16>()
                    .ok()
                    .and_then(|c| StatusCode::from_u16(c).ok())
                    .ok_or_else(|| format!("`status: {value}` is not an HTTP status"))?;
                *response.status_mut() = status;
                (sufficient, explicit_status) = (true, true);
            }
            _ => {
                let header = HeaderName::try_from(&name)
                    .map_err(|_| format!("{name:?} is not a valid header name"))?;
                let value = HeaderValue::try_from(value)
                    .map_err(|_| format!("the value of `{name}` is not a valid header value"))?;
                if name == "location" && !explicit_status {
                    *response.status_mut() = StatusCode::FOUND;
                }
                sufficient |= name == "content-type" || name == "location";
                response.headers_mut().append(header, value);
            }
        }
    }
    if !sufficient {
        return Err("its CGI headers set none of `content-type`, `location` or `status`".into());
    }
    Ok(response)
}

/// WASI for one WAGI request: the component's environment and files, plus the request's
/// CGI variables, arguments, stdin; stdout captured up to `max_output` bytes.
pub fn wasi(
    mut base: WasiCtxBuilder,
    config: &WagiConfig,
    parts: &http::request::Parts,
    body: Bytes,
    max_output: usize,
) -> (WasiCtxBuilder, MemoryOutputPipe) {
    let stdout = MemoryOutputPipe::new(max_output);
    let env = environment(parts, body.len());
    base.envs(&env)
        .args(&args(config, parts))
        .stdin(MemoryInputPipe::new(body))
        .stdout(stdout.clone());
    (base, stdout)
}

/// The response a finished WAGI program wrote, or a 500 (logged) when it is not usable.
pub fn response_of(id: &str, stdout: &MemoryOutputPipe) -> Response<Bytes> {
    parse_output(&stdout.contents()).unwrap_or_else(|e| {
        tracing::error!("component `{id}` (WAGI) wrote an unusable response: {e}");
        let mut r = Response::new(Bytes::from_static(b"Internal Server Error"));
        *r.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
        r
    })
}

/// Run a component's `wasi:cli/run` (the WAGI executor for components, as Spin runs them);
/// the response comes from `stdout` afterwards.
pub async fn run_command(
    store: &mut Store<crate::state::RequestState>,
    pre: &CommandPre<crate::state::RequestState>,
) -> wasmtime::Result<()> {
    let command = pre.instantiate_async(&mut *store).await?;
    match command.wasi_cli_run().call_run(&mut *store).await {
        Ok(Ok(())) => Ok(()),
        Ok(Err(())) => Err(wasmtime::Error::msg(
            "the program exited with a failure status",
        )),
        Err(e) if super::exited_ok(&e) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Run the entrypoint; the response comes from `stdout` afterwards.
pub async fn run(
    store: &mut Store<ModuleState>,
    pre: &InstancePre<ModuleState>,
    config: &WagiConfig,
) -> wasmtime::Result<()> {
    let instance = pre.instantiate_async(&mut *store).await?;
    let entry = instance.get_typed_func::<(), ()>(&mut *store, &config.entrypoint)?;
    match entry.call_async(&mut *store, ()).await {
        Err(e) if !super::exited_ok(&e) => Err(e),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(uri: &str, headers: &[(&str, &str)]) -> http::request::Parts {
        let mut b = http::Request::builder().method("POST").uri(uri);
        for (k, v) in headers {
            b = b.header(*k, *v);
        }
        b.body(()).unwrap().into_parts().0
    }

    #[test]
    fn argv_template() {
        let p = parts("/hello/x?a=1&b=&c=%20d", &[]);
        let default = WagiConfig::new(None, None);
        assert_eq!(args(&default, &p), ["/hello/x", "a", "1", "b", "c", " d"]);
        let custom = WagiConfig::new(None, Some("prog -v ${ARGS}"));
        assert_eq!(args(&custom, &p), ["prog", "-v", "a", "1", "b", "c", " d"]);
    }

    #[test]
    fn environment_from_request_and_spin_headers() {
        let p = parts(
            "/api/7/rest?q=1",
            &[
                ("host", "example.com:3000"),
                ("content-type", "text/plain"),
                ("x-custom", "v"),
                ("authorization", "secret"),
                ("spin-client-addr", "10.0.0.1:5555"),
                ("spin-path-info", "/rest"),
                ("spin-component-route", "/api/:id"),
                ("spin-path-match-user-id", "7"),
            ],
        );
        let env: std::collections::HashMap<_, _> = environment(&p, 12).into_iter().collect();
        assert_eq!(env["REQUEST_METHOD"], "POST");
        assert_eq!(env["QUERY_STRING"], "q=1");
        assert_eq!(env["CONTENT_LENGTH"], "12");
        assert_eq!(env["CONTENT_TYPE"], "text/plain");
        assert_eq!(env["SERVER_NAME"], "example.com");
        assert_eq!(env["SERVER_PORT"], "3000");
        assert_eq!(env["REMOTE_ADDR"], "10.0.0.1");
        assert_eq!(env["PATH_INFO"], "/rest");
        assert_eq!(env["SCRIPT_NAME"], "/api/:id");
        assert_eq!(env["X_PATH_MATCH_USER_ID"], "7");
        assert_eq!(env["HTTP_X_CUSTOM"], "v");
        assert!(!env.contains_key("HTTP_AUTHORIZATION"));
        assert!(!env.keys().any(|k| k.starts_with("HTTP_SPIN")));
    }

    #[test]
    fn output_parsing() {
        let r = parse_output(b"Content-Type: text/plain\nX-A: 1\n\nhello\n\nworld").unwrap();
        assert_eq!(r.status(), 200);
        assert_eq!(r.headers()["content-type"], "text/plain");
        assert_eq!(r.headers()["x-a"], "1");
        assert_eq!(r.body().as_ref(), b"hello\n\nworld");

        let r = parse_output(b"location: /elsewhere\r\n\r\n").unwrap();
        assert_eq!(r.status(), 302);
        let r = parse_output(b"Status: 404 Not Found\ncontent-type: text/html\n\nnope").unwrap();
        assert_eq!(r.status(), 404);
        let r = parse_output(b"status: 201\nlocation: /new\n\n").unwrap();
        assert_eq!(r.status(), 201);

        for bad in [
            &b"just a body"[..],
            b"x-only: 1\n\nbody",
            b"status: abc\n\n",
            b"no colon here\n\n",
            b"",
        ] {
            assert!(
                parse_output(bad).is_err(),
                "{:?}",
                String::from_utf8_lossy(bad)
            );
        }
    }
}
