//! `wasi:http/outgoing-handler` with `allowed_outbound_hosts` enforced before anything
//! leaves the host. A denied request gets `HTTP-request-denied` from its response future
//! (as in Spin), and the log names the destination and the rule that would allow it.
//! Relative URLs (no authority) are requests to the app itself and need a `self` rule;
//! `http://<component>.spin.internal` goes to that component in-process ([`ChainingHooks`]).

use http_body_util::BodyExt;
use spin_app::allowed_hosts::{AllowedHosts, OutboundTarget};
use std::future::Future;
use std::sync::Arc;
use wasmtime::StoreContextMut;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi_http::p2::HttpResult;
use wasmtime_wasi_http::p2::bindings::http::outgoing_handler;
use wasmtime_wasi_http::p2::bindings::http::types::{ErrorCode, Scheme};
use wasmtime_wasi_http::p2::body::HyperOutgoingBody;
use wasmtime_wasi_http::p2::types::{HostFutureIncomingResponse, HostOutgoingRequest};
use wasmtime_wasi_http::{RequestOptions, WasiBody, WasiHttpHooks, WasiHttpView};

/// The `wasi:http` version whose outgoing handler wasmtime-wasi-http defines; components
/// importing any other 0.2.x version are linked to it by semver.
const OUTGOING_HANDLER: &str = "wasi:http/outgoing-handler@0.2.12";

fn scheme_name(scheme: &Option<Scheme>) -> String {
    match scheme {
        Some(Scheme::Http) => "http".into(),
        Some(Scheme::Https) | None => "https".into(),
        Some(Scheme::Other(s)) => s.to_ascii_lowercase(),
    }
}

/// One component's outbound rules, shared by its requests.
#[derive(Debug)]
pub struct Outbound {
    /// The component (for log lines).
    pub component: String,
    /// Its `allowed_outbound_hosts`, templates expanded.
    pub allowed_hosts: AllowedHosts,
    /// `host:port` where the app itself answers (for relative-URL requests).
    pub self_authority: String,
    /// Where chained requests go.
    pub chain: Arc<dyn Chain>,
}

/// What runs a chained request (`http://<component>.spin.internal`): the HTTP trigger of
/// the running app implements it, so this capability needs no knowledge of the trigger.
pub trait Chain: Send + Sync + std::fmt::Debug {
    /// Serve `request` with `component`, as if from `client`.
    fn dispatch(
        &self,
        component: String,
        request: http::Request<WasiBody>,
        client: std::net::SocketAddr,
    ) -> std::pin::Pin<Box<dyn Future<Output = http::Response<HyperOutgoingBody>> + Send>>;
}

/// The component a chained URL names (`http://<id>.spin.internal/…`), if it is one.
pub fn chained_component(uri: &http::Uri) -> Option<&str> {
    let host = uri.host()?;
    let id = host.strip_suffix(spin_app::allowed_hosts::SERVICE_CHAINING_DOMAIN)?;
    (!id.is_empty() && !id.contains('.')).then_some(id)
}

impl Outbound {
    /// The address chained requests come from: the app's own.
    pub fn chain_client(&self) -> std::net::SocketAddr {
        self.self_authority
            .parse()
            .unwrap_or_else(|_| std::net::SocketAddr::from(([127, 0, 0, 1], 0)))
    }
}

/// Implemented by a request's state to give the outgoing handler its rules.
pub trait OutboundView: WasiHttpView {
    /// The component's rules.
    fn outbound(&self) -> Arc<Outbound>;
}

/// Where an allowed request goes.
pub enum Destination {
    /// Where it names.
    AsNamed,
    /// To the app itself (a relative URL), at this authority, over plain HTTP.
    App(String),
    /// To this component of the app, in-process.
    Component(String),
}

/// Why a request may not leave.
pub enum Refused {
    /// The authority does not parse.
    InvalidUri,
    /// No rule allows it (already logged, with the rule that would).
    Denied,
}

impl Outbound {
    /// Apply the rules to a request for `scheme://authority` (`None`: a relative URL).
    pub fn check(&self, scheme: &str, authority: Option<&str>) -> Result<Destination, Refused> {
        let id = &self.component;
        let denied = match authority {
            None | Some("") => {
                // A relative URL reaches the app itself over plain HTTP, whatever scheme it names.
                let hosts = &self.allowed_hosts;
                if hosts.allows_relative("http") || hosts.allows_relative("https") {
                    return Ok(Destination::App(self.self_authority.clone()));
                }
                format!(
                    "outbound request to the app itself (relative URL) denied: add \"http://self\" to allowed_outbound_hosts of component `{id}`"
                )
            }
            Some(authority) => {
                let parsed: http::uri::Authority =
                    authority.parse().map_err(|_| Refused::InvalidUri)?;
                let target = OutboundTarget {
                    scheme: scheme.to_ascii_lowercase(),
                    host: parsed.host().to_ascii_lowercase(),
                    port: parsed.port_u16(),
                };
                match self.allowed_hosts.rule_for(&target) {
                    Some(rule) => {
                        tracing::debug!(component = %id, "outbound {target} allowed by {rule}");
                        let uri = http::Uri::builder()
                            .scheme("http")
                            .authority(parsed.clone())
                            .path_and_query("/")
                            .build();
                        return Ok(match uri.as_ref().ok().and_then(chained_component) {
                            Some(component) => Destination::Component(component.to_string()),
                            None => Destination::AsNamed,
                        });
                    }
                    None => format!(
                        "outbound request to {target} denied: add \"{}\" to allowed_outbound_hosts of component `{id}`",
                        target.suggested_rule()
                    ),
                }
            }
        };
        tracing::warn!(component = %id, "{denied}");
        Err(Refused::Denied)
    }
}

/// Apply the component's rules to an outgoing request, then hand it to wasmtime-wasi-http.
fn policed_handle<T: OutboundView>(
    state: &mut T,
    request: Resource<HostOutgoingRequest>,
    options: Option<Resource<RequestOptions>>,
) -> HttpResult<Resource<HostFutureIncomingResponse>> {
    let component = state.outbound();
    let mut http = state.http();
    let req = http.table.get_mut(&request)?;
    let scheme = scheme_name(&req.scheme);
    match component.check(&scheme, req.authority.as_deref()) {
        // The chaining hooks recognize the authority when the request is sent.
        Ok(Destination::AsNamed | Destination::Component(_)) => {}
        Ok(Destination::App(authority)) => {
            req.authority = Some(authority);
            req.scheme = Some(Scheme::Http);
        }
        Err(Refused::InvalidUri) => return Err(ErrorCode::HttpRequestUriInvalid.into()),
        Err(Refused::Denied) => {
            // As Spin: `handle` succeeds and the response future resolves to the error.
            http.table.delete(request)?;
            let denied =
                HostFutureIncomingResponse::Ready(Err(ErrorCode::HttpRequestDenied.into()));
            return Ok(http.table.push(denied)?);
        }
    }
    outgoing_handler::Host::handle(&mut http, request, options)
}

/// `wasi:http` hooks that send `<component>.spin.internal` requests to the component, and
/// everything else over the network.
pub struct ChainingHooks {
    /// The sending component's rules (and its app).
    pub outbound: Arc<Outbound>,
}

type SendFuture = Box<
    dyn Future<
            Output = Result<
                (
                    http::Response<WasiBody>,
                    Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
                ),
                wasmtime_wasi_http::Error,
            >,
        > + Send,
>;

impl Outbound {
    /// The rules applied to a request as it is sent (every `wasi:http` version comes
    /// through here; `wasi:http@0.2` requests were checked once already, when relative URLs
    /// were pointed at the app). The app's own address counts as `self`.
    fn check_sent(&self, uri: &http::Uri) -> Result<(), Refused> {
        let authority = uri.authority().map(|a| a.as_str());
        if authority == Some(self.self_authority.as_str()) {
            let hosts = &self.allowed_hosts;
            if hosts.allows_relative("http") || hosts.allows_relative("https") {
                return Ok(());
            }
        }
        self.check(uri.scheme_str().unwrap_or("https"), authority)
            .map(drop)
    }
}

impl WasiHttpHooks for ChainingHooks {
    fn send_request(
        &mut self,
        request: http::Request<WasiBody>,
        options: Option<RequestOptions>,
        _fut: Box<dyn Future<Output = Result<(), wasmtime_wasi_http::Error>> + Send>,
    ) -> SendFuture {
        if let Err(refused) = self.outbound.check_sent(request.uri()) {
            let error = match refused {
                Refused::Denied => wasmtime_wasi_http::Error::HttpRequestDenied,
                Refused::InvalidUri => wasmtime_wasi_http::Error::HttpRequestUriInvalid,
            };
            return Box::new(async move { Err(error) });
        }
        let Some(id) = chained_component(request.uri()).map(String::from) else {
            return Box::new(async move {
                let (response, io) =
                    wasmtime_wasi_http::default_send_request(request, options).await?;
                Ok((
                    response.map(BodyExt::boxed_unsync),
                    Box::new(io) as Box<dyn Future<Output = _> + Send>,
                ))
            });
        };
        let outbound = self.outbound.clone();
        Box::new(async move {
            let client = outbound.chain_client();
            let response = outbound.chain.dispatch(id, request, client).await;
            let done: Box<dyn Future<Output = _> + Send> = Box::new(async { Ok(()) });
            Ok((response.map(|b| b.map_err(Into::into).boxed_unsync()), done))
        })
    }
}

/// Define the policed `wasi:http/outgoing-handler#handle`.
pub fn add_to_linker<T: OutboundView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    linker.instance(OUTGOING_HANDLER)?.func_wrap(
        "handle",
        |mut store: StoreContextMut<'_, T>,
         (request, options): (
            Resource<HostOutgoingRequest>,
            Option<Resource<RequestOptions>>,
        )| {
            match policed_handle(store.data_mut(), request, options) {
                Ok(response) => Ok((Ok(response),)),
                Err(e) => Ok((Err(e.downcast()?),)),
            }
        },
    )?;
    Ok(())
}
