//! Outbound MQTT, as Spin offers it: `fermyon:spin/mqtt@2.0.0` ([`v2`]) and Spin 4's async
//! `spin:mqtt/mqtt@3.0.0` ([`v3`]). `open` takes the broker's address as Spin does
//! (`mqtt://host[:port]?client_id=...`, or `mqtts://` for TLS verified against the system's
//! roots, which `SSL_CERT_FILE`/`SSL_CERT_DIR` replace), a user name and password (empty for
//! none) and the keep-alive interval; the address must be allowed by
//! `allowed_outbound_hosts` (a denied one is `connection-failed("address … is not
//! permitted")`, as in Spin, with a log line naming the rule to add). The connection is made
//! by the first `publish`, which returns once the message has left (QoS 0), or the broker
//! acknowledged it (QoS 1) or completed it (QoS 2); connection errors are
//! `connection-failed` with the client's message.

mod v2;
mod v3;

use crate::host::outbound::{Destination, Outbound, Refused};
use rumqttc::{
    AsyncClient, Event, EventLoop, Incoming, MqttOptions, Outgoing, QoS, TlsConfiguration,
    Transport,
};
use std::sync::Arc;
use std::time::Duration;
use wasmtime::component::{HasData, Linker, Resource, ResourceTable};

/// Most connections one request may hold open at once.
const MAX_OPEN: usize = 256;
/// Messages a connection may queue before `publish` waits.
const QUEUE: usize = 64;
/// How long one `publish` may take, connecting included.
const PUBLISH_TIMEOUT: Duration = Duration::from_secs(30);

/// Why an operation failed; both interface versions have these cases.
#[derive(Debug, Clone, PartialEq)]
pub enum MqttError {
    /// Not an MQTT URL Spin accepts.
    InvalidAddress,
    /// Too many connections open in this request.
    TooManyConnections,
    /// Not allowed, or the broker could not be reached or refused.
    ConnectionFailed(String),
    /// Anything else.
    Other(String),
}

/// An open connection (the `connection` resource of both versions).
pub struct MqttConnection {
    client: AsyncClient,
    events: Arc<tokio::sync::Mutex<EventLoop>>,
}

/// The MQTT context of one request.
pub struct MqttCtx {
    outbound: Arc<Outbound>,
    open: usize,
}

impl MqttCtx {
    /// A request's context: the component's rules.
    pub fn new(outbound: Arc<Outbound>) -> Self {
        Self { outbound, open: 0 }
    }
}

/// The MQTT context and the resource table of a request.
pub struct MqttCtxView<'a> {
    /// The context.
    pub ctx: &'a mut MqttCtx,
    /// Where open connections live.
    pub table: &'a mut ResourceTable,
}

/// Implemented by a request's state to give the MQTT interfaces their context.
pub trait MqttView: Send {
    /// The context, borrowed for one call.
    fn mqtt(&mut self) -> MqttCtxView<'_>;
}

/// [`HasData`] for the MQTT interfaces.
pub struct Mqtt;

impl HasData for Mqtt {
    type Data<'a> = MqttCtxView<'a>;
}

/// Link both MQTT interface versions for `T`.
pub fn add_to_linker<T: MqttView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    crate::host::bindings::fermyon::spin::mqtt::add_to_linker::<T, Mqtt>(linker, T::mqtt)?;
    crate::host::bindings::spin::mqtt::mqtt::add_to_linker::<T, Mqtt>(linker, T::mqtt)?;
    Ok(())
}

/// The arguments of `open`.
pub struct OpenArgs {
    /// `mqtt://host:port?client_id=...`.
    pub address: String,
    /// User name, or empty.
    pub username: String,
    /// Password, or empty.
    pub password: String,
    /// Keep-alive interval in seconds.
    pub keep_alive: u64,
}

impl MqttCtxView<'_> {
    /// Check and open a connection (connecting happens on the first publish).
    fn open(
        &mut self,
        args: OpenArgs,
    ) -> wasmtime::Result<Result<Resource<MqttConnection>, MqttError>> {
        let connection = match connect(&self.ctx.outbound, args) {
            Ok(c) => c,
            Err(e) => return Ok(Err(e)),
        };
        if self.ctx.open >= MAX_OPEN {
            return Ok(Err(MqttError::TooManyConnections));
        }
        self.ctx.open += 1;
        Ok(Ok(self.table.push(connection)?))
    }

    fn publisher(&self, conn: &Resource<MqttConnection>) -> wasmtime::Result<Publisher> {
        let c = self.table.get(conn)?;
        Ok(Publisher {
            client: c.client.clone(),
            events: c.events.clone(),
        })
    }

    fn close(&mut self, conn: Resource<MqttConnection>) -> wasmtime::Result<()> {
        self.table.delete(conn)?;
        self.ctx.open = self.ctx.open.saturating_sub(1);
        Ok(())
    }
}

fn connect(outbound: &Outbound, args: OpenArgs) -> Result<MqttConnection, MqttError> {
    let url = url::Url::parse(&args.address).map_err(|_| MqttError::InvalidAddress)?;
    let (scheme, default_port) = match url.scheme() {
        "mqtt" | "tcp" => ("mqtt", 1883),
        "mqtts" | "ssl" => ("mqtts", 8883),
        _ => return Err(MqttError::InvalidAddress),
    };
    let host = match url.host() {
        Some(url::Host::Ipv6(ip)) => format!("[{ip}]"),
        Some(host) => host.to_string(),
        None => return Err(MqttError::InvalidAddress),
    };
    let authority = format!("{host}:{}", url.port().unwrap_or(default_port));
    match outbound.check(scheme, Some(&authority)) {
        Ok(Destination::AsNamed) => {}
        Ok(_) | Err(Refused::InvalidUri | Refused::Denied) => {
            return Err(MqttError::ConnectionFailed(format!(
                "address {scheme}://{authority} is not permitted"
            )));
        }
    }
    // As Spin: the address carries the client id (`?client_id=...`). TLS is set here, not by
    // the parser (whose default settings would panic where it cannot load roots).
    let mut plain = url.clone();
    plain
        .set_scheme("mqtt")
        .and_then(|()| plain.set_port(Some(url.port().unwrap_or(default_port))))
        .map_err(|()| MqttError::InvalidAddress)?;
    let mut options =
        MqttOptions::parse_url(plain.as_str()).map_err(|_| MqttError::InvalidAddress)?;
    if scheme == "mqtts" {
        let config = crate::host::tls::client_config(None).map_err(MqttError::ConnectionFailed)?;
        options.set_transport(Transport::tls_with_config(TlsConfiguration::Rustls(config)));
    }
    if !args.username.is_empty() || !args.password.is_empty() {
        options.set_credentials(args.username, args.password);
    }
    options.set_keep_alive(Duration::from_secs(args.keep_alive.min(u16::MAX.into())));
    let (client, events) = AsyncClient::new(options, QUEUE);
    Ok(MqttConnection {
        client,
        events: Arc::new(tokio::sync::Mutex::new(events)),
    })
}

/// What `publish` needs, out of the resource table.
pub struct Publisher {
    client: AsyncClient,
    events: Arc<tokio::sync::Mutex<EventLoop>>,
}

impl Publisher {
    /// Publish and drive the connection until the message is done at `qos`.
    pub async fn publish(self, topic: String, payload: Vec<u8>, qos: QoS) -> Result<(), MqttError> {
        self.client
            .publish_bytes(topic, qos, false, payload.into())
            .await
            .map_err(|e| MqttError::Other(e.to_string()))?;
        let mut events = self.events.lock().await;
        let done = async {
            loop {
                let event = events
                    .poll()
                    .await
                    .map_err(|e| MqttError::ConnectionFailed(e.to_string()))?;
                match (qos, event) {
                    (QoS::AtMostOnce, Event::Outgoing(Outgoing::Publish(_)))
                    | (QoS::AtLeastOnce, Event::Incoming(Incoming::PubAck(_)))
                    | (QoS::ExactlyOnce, Event::Incoming(Incoming::PubComp(_))) => return Ok(()),
                    (_, Event::Incoming(Incoming::ConnAck(ack)))
                        if ack.code != rumqttc::ConnectReturnCode::Success =>
                    {
                        return Err(MqttError::ConnectionFailed(format!(
                            "the broker refused the connection: {:?}",
                            ack.code
                        )));
                    }
                    _ => {}
                }
            }
        };
        tokio::time::timeout(PUBLISH_TIMEOUT, done)
            .await
            .unwrap_or_else(|_| {
                Err(MqttError::ConnectionFailed(format!(
                    "publishing took longer than {}s",
                    PUBLISH_TIMEOUT.as_secs()
                )))
            })
    }
}
