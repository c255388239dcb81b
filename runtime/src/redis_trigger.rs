//! The Redis trigger, as Spin runs it: each `[[trigger.redis]]` subscribes its component
//! to a channel of a Redis server; every message published there calls the component's
//! `handle-message` with the payload, in a fresh instance under the same request timeout
//! and memory limit as HTTP. Components export `fermyon:spin/inbound-redis` (Spin 1 to 3
//! SDKs; the interface was never versioned) or Spin 4's `spin:redis/inbound-redis@3.0.0`
//! (async), called through typed bindings so a payload is passed as bytes.
//!
//! One subscriber connection per server address carries every channel of that server. When
//! it fails (the server restarts, the network drops), it is made again with a backoff of 1 s
//! doubling to 30 s, and the subscriptions are renewed. A guest's error or trap is logged
//! and the subscription goes on. As in Spin, a server's messages are handled one after the
//! other (the components of one channel at once), each by the app being served when it
//! arrives (so `spin watch` reloads apply to the next message).

use crate::Error;
use crate::app::LoadedApp;
use crate::host::unsupported;
use crate::state::{ComponentState, RequestState};
use futures::StreamExt;
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};
use wasmtime::Engine;
use wasmtime::component::{Component, InstancePre, Linker};

/// Typed bindings of the two exports (so a payload is passed as bytes, not one value each).
mod bindings {
    /// Spin 1 to 3: `fermyon:spin/inbound-redis`.
    pub mod v1 {
        wasmtime::component::bindgen!({
            path: "wit-v1",
            world: "spin-runtime:v1/spin-v1-redis",
            exports: { default: async },
        });
    }
    /// Spin 4: `spin:redis/inbound-redis@3.0.0` (async).
    pub mod v3 {
        wasmtime::component::bindgen!({
            path: "wit",
            world: "spin-runtime:host/redis-v3",
            exports: { default: async | store },
            with: { "spin:redis/redis": crate::host::bindings::spin::redis::redis },
        });
    }
}

/// The interfaces a Redis-triggered component may export.
const HANDLERS: [&str; 2] = [
    "spin:redis/inbound-redis@3.0.0",
    "fermyon:spin/inbound-redis",
];

/// Backoff between reconnection attempts.
const FIRST_RETRY: Duration = Duration::from_secs(1);
const LAST_RETRY: Duration = Duration::from_secs(30);

/// How a component is called for a message.
enum Handler {
    /// Spin 1 to 3 SDKs.
    V1(bindings::v1::SpinV1RedisPre<RequestState>),
    /// Spin 4 SDKs (an async export).
    V3(bindings::v3::RedisV3Pre<RequestState>),
}

/// A component linked for `handle-message`.
pub struct RedisComponent {
    /// Settings shared by its messages.
    pub state: Arc<ComponentState>,
    handler: Handler,
}

/// One `[[trigger.redis]]`, resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subscription {
    /// `redis://host:port`.
    pub address: String,
    /// The channel.
    pub channel: String,
    /// The component handling its messages.
    pub component: String,
}

/// Link `component` and find its `handle-message`.
pub fn prepare(
    engine: &Engine,
    linker: &Linker<RequestState>,
    component: &Component,
    state: Arc<ComponentState>,
) -> Result<RedisComponent, Error> {
    let id = state.id.clone();
    let failed = |what: &str, source: crate::BoxError| Error::Component {
        component: id.clone(),
        what: what.to_string(),
        source,
        help: None,
    };
    let mut linker = linker.clone();
    linker.allow_shadowing(true);
    unsupported::stub_unsupported_imports(&mut linker, component, engine)
        .map_err(|e| failed("cannot be linked", e.into()))?;
    let pre: InstancePre<RequestState> = linker
        .instantiate_pre(component)
        .map_err(|e| failed("imports something this runtime does not provide", e.into()))?;
    let v1 = bindings::v1::SpinV1RedisPre::new(pre.clone()).ok();
    let v3 = bindings::v3::RedisV3Pre::new(pre).ok();
    let handler = match (v1, v3) {
        (Some(v1), None) => Handler::V1(v1),
        (None, Some(v3)) => Handler::V3(v3),
        (Some(_), Some(_)) => {
            return Err(Error::Component {
                component: id.clone(),
                what: format!(
                    "exports more than one Redis handler: `{}`",
                    HANDLERS.join("`, `")
                ),
                source: "a component must export exactly one Redis handler".into(),
                help: Some("build it for one redis-trigger world (one SDK)"),
            });
        }
        (None, None) => {
            let exports: Vec<String> = component
                .component_type()
                .exports(engine)
                .map(|(name, _)| format!("`{name}`"))
                .collect();
            return Err(Error::Component {
                component: id.clone(),
                what: format!(
                    "is subscribed to a Redis channel but exports no Redis handler (it exports {})",
                    if exports.is_empty() {
                        "nothing".into()
                    } else {
                        exports.join(", ")
                    }
                ),
                source: format!(
                    "a Redis-triggered component exports `{}`",
                    HANDLERS.join("` or `")
                )
                .into(),
                help: Some(
                    "build it for Spin's redis-trigger world (e.g. `componentize-py -w spin-redis`)",
                ),
            });
        }
    };
    Ok(RedisComponent { state, handler })
}

/// Call `component` with one message; errors are logged, never returned.
async fn deliver(
    app: Arc<LoadedApp>,
    component: Arc<RedisComponent>,
    channel: String,
    payload: Vec<u8>,
) {
    let id = &component.state.id;
    let limits = &app.limits;
    let deadline = Instant::now() + limits.request_timeout;
    let state = match RequestState::new(&component.state, app.stores.clone(), limits.memory_bytes) {
        Ok(state) => state,
        Err(e) => {
            tracing::error!("component `{id}`: cannot prepare for a Redis message: {e}");
            return;
        }
    };
    let mut store = crate::state::new_store(&app.engine, state, deadline);
    // The guest's error, as text, when it returned one.
    let call = async {
        Ok::<_, wasmtime::Error>(match &component.handler {
            Handler::V1(pre) => {
                let instance = pre.instantiate_async(&mut store).await?;
                let guest = instance.fermyon_spin_inbound_redis();
                guest
                    .call_handle_message(&mut store, &payload)
                    .await?
                    .err()
                    .map(|e| format!("{e:?}"))
            }
            Handler::V3(pre) => {
                let instance = pre.instantiate_async(&mut store).await?;
                let outcome = store
                    .run_concurrent(async |accessor| {
                        instance
                            .spin_redis_inbound_redis()
                            .call_handle_message(accessor, payload)
                            .await
                    })
                    .await??;
                outcome.err().map(|e| format!("{e:?}"))
            }
        })
    };
    match tokio::time::timeout(limits.request_timeout, call).await {
        Ok(Ok(None)) => tracing::debug!("component `{id}` handled a message on `{channel}`"),
        Ok(Ok(Some(e))) => {
            tracing::error!("component `{id}` returned an error for a message on `{channel}`: {e}")
        }
        Ok(Err(e)) if store.data().limiter.hit => tracing::error!(
            "component `{id}` exceeded the memory limit of {} bytes handling a message on `{channel}`: {e:#}",
            limits.memory_bytes
        ),
        Ok(Err(e)) => {
            tracing::error!("component `{id}` failed on a message on `{channel}`: {e:#}")
        }
        Err(_) => tracing::error!(
            "component `{id}` exceeded the request timeout of {:?} on a message on `{channel}` and was stopped",
            limits.request_timeout
        ),
    }
}

/// Subscribe to every server the app's Redis triggers name, until dropped. `current` gives
/// the app being served.
pub async fn run(
    subscriptions: Vec<Subscription>,
    current: impl Fn() -> Arc<LoadedApp> + Send + Sync + Clone + 'static,
) {
    let mut by_address: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for s in subscriptions {
        let channels = by_address.entry(s.address).or_default();
        if !channels.contains(&s.channel) {
            channels.push(s.channel);
        }
    }
    let tasks: Vec<_> = by_address
        .into_iter()
        .map(|(address, channels)| tokio::spawn(subscribe(address, channels, current.clone())))
        .collect();
    for task in tasks {
        let _ = task.await;
    }
}

/// The address as logs show it: without a password.
pub fn shown(address: &str) -> String {
    match url::Url::parse(address) {
        Ok(mut url) if url.password().is_some() => {
            let _ = url.set_password(Some("***"));
            url.to_string()
        }
        _ => address.to_string(),
    }
}

/// One server's subscriber, made again whenever it fails.
async fn subscribe(
    address: String,
    channels: Vec<String>,
    current: impl Fn() -> Arc<LoadedApp> + Send + Sync + 'static,
) {
    let mut retry = FIRST_RETRY;
    loop {
        match listen(&address, &channels, &current, &mut retry).await {
            Ok(()) => tracing::warn!("the Redis connection to {} closed", shown(&address)),
            Err(e) => tracing::warn!("Redis subscriber for {}: {e}", shown(&address)),
        }
        tracing::info!("reconnecting to {} in {retry:?}", shown(&address));
        tokio::time::sleep(retry).await;
        retry = (retry * 2).min(LAST_RETRY);
    }
}

/// Connect, subscribe, and deliver messages until the connection ends.
async fn listen(
    address: &str,
    channels: &[String],
    current: &(impl Fn() -> Arc<LoadedApp> + Send + Sync),
    retry: &mut Duration,
) -> redis::RedisResult<()> {
    let client = crate::host::redis::client(address)?;
    let mut pubsub = client.get_async_pubsub().await?;
    for channel in channels {
        pubsub.subscribe(channel).await?;
    }
    tracing::info!(
        "subscribed to {} on {}",
        channels
            .iter()
            .map(|c| format!("`{c}`"))
            .collect::<Vec<_>>()
            .join(", "),
        shown(address)
    );
    *retry = FIRST_RETRY;
    let mut messages = pubsub.on_message();
    while let Some(message) = messages.next().await {
        let channel = message.get_channel_name().to_string();
        let payload = message.get_payload_bytes().to_vec();
        let app = current();
        let deliveries = app
            .redis
            .iter()
            .filter(|(sub, _)| sub.address == address && sub.channel == channel)
            .map(|(_, component)| {
                deliver(
                    app.clone(),
                    component.clone(),
                    channel.clone(),
                    payload.clone(),
                )
            });
        futures::future::join_all(deliveries).await;
    }
    Ok(())
}
