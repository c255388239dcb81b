//! `wasi:sockets` (0.2 and 0.3) for components, granted as Spin grants it: by
//! `allowed_outbound_hosts` rules with the `tcp` and `udp` schemes, such as
//! `tcp://127.0.0.1:6379`, `tcp://10.0.0.0/8:5432`, `udp://[::1]:53` or
//! `tcp://{{ host }}:{{ port }}` (templates are expanded when the app loads).
//!
//! - A TCP connection, or a UDP datagram or connection, is allowed when a rule for its
//!   scheme matches the address (IP, CIDR network, `*`; the port, a range, or `*`), or names
//!   a host that resolves to that address. Anything else is refused before it leaves the
//!   host, with a log line naming the rule that would allow it.
//! - Serving is not: a socket may bind only the unspecified address with an ephemeral port
//!   (what a client's implicit bind does); listening and accepting are refused. Datagrams
//!   from hosts the rules do not allow are dropped.
//! - Name lookups (`ip-name-lookup`) resolve only names that a `tcp` or `udp` rule allows
//!   (IP literals need no lookup); others fail with `access-denied` and a log line, so a
//!   guest cannot use DNS to reach, or to signal, hosts its rules do not name.

use super::outbound::{Outbound, OutboundView};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::{Linker, Resource};
use wasmtime_wasi::sockets::{SocketAddrUse, WasiSocketsCtxView};
use wasmtime_wasi::{WasiCtxBuilder, WasiView};

/// How long resolving a rule's host name, to match an address, may take.
const RESOLVE_TIMEOUT: Duration = Duration::from_secs(5);

/// The schemes whose rules grant sockets.
const SCHEMES: [&str; 2] = ["tcp", "udp"];

/// Grant a request's WASI context the sockets `outbound`'s rules allow.
pub fn grant(wasi: &mut WasiCtxBuilder, outbound: &Arc<Outbound>) {
    let hosts = &outbound.allowed_hosts;
    let (tcp, udp) = (hosts.mentions_scheme("tcp"), hosts.mentions_scheme("udp"));
    wasi.allow_tcp(tcp)
        .allow_udp(udp)
        .allow_ip_name_lookup(tcp || udp);
    let outbound = outbound.clone();
    wasi.socket_addr_check(move |addr, usage| {
        let outbound = outbound.clone();
        Box::pin(async move { permits(&outbound, addr, usage).await })
    });
}

/// May the component use `addr` so?
async fn permits(outbound: &Outbound, addr: SocketAddr, usage: SocketAddrUse) -> bool {
    let scheme = match usage {
        SocketAddrUse::TcpConnect => "tcp",
        // Datagrams from a host are let in as datagrams to it are let out.
        SocketAddrUse::UdpSend | SocketAddrUse::UdpReceive => "udp",
        // The implicit bind of a connecting or sending socket (or the same bind made
        // explicitly): any local address, an ephemeral port.
        SocketAddrUse::TcpBind | SocketAddrUse::UdpBind
            if addr.ip().is_unspecified() && addr.port() == 0 =>
        {
            return true;
        }
        SocketAddrUse::TcpBind
        | SocketAddrUse::UdpBind
        | SocketAddrUse::TcpListen
        | SocketAddrUse::TcpAccept => {
            tracing::warn!(
                component = %outbound.component,
                "binding or listening on {addr} denied: components may connect, not serve"
            );
            return false;
        }
    };
    let authority = addr.to_string();
    let target = spin_app::allowed_hosts::OutboundTarget {
        scheme: scheme.into(),
        host: addr.ip().to_string(),
        port: Some(addr.port()),
    };
    if outbound.allowed_hosts.rule_for(&target).is_some() {
        return true;
    }
    for name in outbound.allowed_hosts.names_for(scheme, addr.port()) {
        let resolved = tokio::time::timeout(
            RESOLVE_TIMEOUT,
            tokio::net::lookup_host((name, addr.port())),
        )
        .await;
        if let Ok(Ok(mut found)) = resolved
            && found.any(|a| a.ip() == addr.ip())
        {
            return true;
        }
    }
    // Refused: this logs the rule that would allow it.
    outbound.check(scheme, Some(&authority)).is_ok()
}

/// May the component look `name` up?
fn lookup_permitted(outbound: &Outbound, name: &str) -> bool {
    let literal = name.trim_start_matches('[').trim_end_matches(']');
    if literal.parse::<IpAddr>().is_ok() || outbound.allowed_hosts.allows_name(&SCHEMES, name) {
        return true;
    }
    tracing::warn!(
        component = %outbound.component,
        "name lookup of {name} denied: add \"tcp://{name}:<port>\" (or udp://) to allowed_outbound_hosts of component `{}`",
        outbound.component
    );
    false
}

/// Put the name check in front of both versions' `resolve-addresses` (wasmtime-wasi's own
/// definitions are shadowed; the 0.2 one still resolves, after the check).
pub fn add_to_linker<T: WasiView + OutboundView + 'static>(
    linker: &mut Linker<T>,
) -> wasmtime::Result<()> {
    use wasmtime_wasi::p2::bindings::sockets::ip_name_lookup::{Host, ResolveAddressStream};
    use wasmtime_wasi::p2::bindings::sockets::network::{ErrorCode, Network};
    use wasmtime_wasi::p3::bindings::sockets::ip_name_lookup::ErrorCode as ErrorCode3;
    use wasmtime_wasi::p3::bindings::sockets::types::IpAddress;

    linker.allow_shadowing(true);
    linker
        .instance("wasi:sockets/ip-name-lookup@0.2.12")?
        .func_wrap(
            "resolve-addresses",
            |mut store, (network, name): (Resource<Network>, String)| {
                type Out = Result<Resource<ResolveAddressStream>, ErrorCode>;
                if !lookup_permitted(&store.data().outbound(), &name) {
                    return Ok((Out::Err(ErrorCode::AccessDenied),));
                }
                let view = store.data_mut().ctx();
                let mut sockets = WasiSocketsCtxView {
                    ctx: view.ctx.sockets(),
                    table: view.table,
                };
                match Host::resolve_addresses(&mut sockets, network, name) {
                    Ok(stream) => Ok((Out::Ok(stream),)),
                    Err(e) => Ok((Out::Err(e.downcast()?),)),
                }
            },
        )?;
    linker
        .instance("wasi:sockets/ip-name-lookup@0.3.0")?
        .func_wrap_concurrent("resolve-addresses", |accessor, (name,): (String,)| {
            Box::pin(async move {
                type Out = Result<Vec<IpAddress>, ErrorCode3>;
                let outbound = accessor.with(|mut a| a.get().outbound());
                if !lookup_permitted(&outbound, &name) {
                    return Ok((Out::Err(ErrorCode3::AccessDenied),));
                }
                Ok((resolve(&name).await,))
            })
        })?;
    linker.allow_shadowing(false);
    Ok(())
}

/// `name`'s addresses (an IP literal is itself), as `wasi:sockets@0.3.0` returns them.
async fn resolve(
    name: &str,
) -> Result<
    Vec<wasmtime_wasi::p3::bindings::sockets::types::IpAddress>,
    wasmtime_wasi::p3::bindings::sockets::ip_name_lookup::ErrorCode,
> {
    use wasmtime_wasi::p3::bindings::sockets::ip_name_lookup::ErrorCode;
    let literal = name.trim_start_matches('[').trim_end_matches(']');
    if let Ok(ip) = literal.parse::<IpAddr>() {
        return Ok(vec![ip.into()]);
    }
    if url::Host::parse(name).is_err() {
        return Err(ErrorCode::InvalidArgument);
    }
    match tokio::time::timeout(RESOLVE_TIMEOUT, tokio::net::lookup_host((name, 0))).await {
        Err(_) => Err(ErrorCode::TemporaryResolverFailure),
        Ok(Err(_)) => Err(ErrorCode::NameUnresolvable),
        Ok(Ok(found)) => {
            let mut ips: Vec<IpAddr> = found.map(|a| a.ip()).collect();
            ips.dedup();
            Ok(ips.into_iter().map(Into::into).collect())
        }
    }
}
