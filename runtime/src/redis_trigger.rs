//! The Redis trigger, as Spin runs it: each `[[trigger.redis]]` subscribes its component
//! to a channel of a Redis server; every message published there calls the component's
//! `handle-message` with the payload, in a fresh instance under the same request timeout
//! and memory limit as HTTP. Components export Spin 2/3's `fermyon:spin/inbound-redis`
//! (`@2.0.0`, or unversioned from Spin 1.x SDKs) or Spin 4's
//! `spin:redis/inbound-redis@3.0.0` (async).
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
use wasmtime::component::{Component, ComponentExportIndex, InstancePre, Linker, Val};

/// The interfaces a Redis-triggered component may export, newest first.
const HANDLERS: [&str; 3] = [
    "spin:redis/inbound-redis@3.0.0",
    "fermyon:spin/inbound-redis@2.0.0",
    "fermyon:spin/inbound-redis",
];

/// Backoff between reconnection attempts.
const FIRST_RETRY: Duration = Duration::from_secs(1);
const LAST_RETRY: Duration = Duration::from_secs(30);

/// A component linked for `handle-message`.
pub struct RedisComponent {
    /// Settings shared by its messages.
    pub state: Arc<ComponentState>,
    pre: InstancePre<RequestState>,
    handle_message: ComponentExportIndex,
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
    let found: Vec<(&str, ComponentExportIndex)> = HANDLERS
        .iter()
        .filter_map(|name| {
            let interface = component.get_export_index(None, name)?;
            Some((
                *name,
                component.get_export_index(Some(&interface), "handle-message")?,
            ))
        })
        .collect();
    if found.len() > 1 {
        let names: Vec<&str> = found.iter().map(|(n, _)| *n).collect();
        return Err(Error::Component {
            component: id.clone(),
            what: format!(
                "exports more than one Redis handler: `{}`",
                names.join("`, `")
            ),
            source: "a component must export exactly one Redis handler".into(),
            help: Some("build it for one redis-trigger world (one SDK)"),
        });
    }
    let handle_message = found.first().map(|(_, index)| *index).ok_or_else(|| {
        let exports: Vec<String> = component
            .component_type()
            .exports(engine)
            .map(|(name, _)| format!("`{name}`"))
            .collect();
        Error::Component {
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
                HANDLERS.join("`, `")
            )
            .into(),
            help: Some(
                "build it for Spin's redis-trigger world (e.g. `componentize-py -w spin-redis`)",
            ),
        }
    })?;
    let mut linker = linker.clone();
    linker.allow_shadowing(true);
    unsupported::stub_unsupported_imports(&mut linker, component, engine)
        .map_err(|e| failed("cannot be linked", e.into()))?;
    let pre = linker
        .instantiate_pre(component)
        .map_err(|e| failed("imports something this runtime does not provide", e.into()))?;
    Ok(RedisComponent {
        state,
        pre,
        handle_message,
    })
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
    let call = async {
        let instance = component.pre.instantiate_async(&mut store).await?;
        let func = instance
            .get_func(&mut store, component.handle_message)
            .ok_or_else(|| wasmtime::format_err!("`handle-message` is not a function"))?;
        let message = Val::List(payload.into_iter().map(Val::U8).collect());
        let mut results = [Val::Bool(false)];
        func.call_async(&mut store, &[message], &mut results)
            .await?;
        Ok::<_, wasmtime::Error>(results.into_iter().next())
    };
    match tokio::time::timeout(limits.request_timeout, call).await {
        Ok(Ok(Some(Val::Result(Ok(_))))) => {
            tracing::debug!("component `{id}` handled a message on `{channel}`")
        }
        Ok(Ok(Some(Val::Result(Err(e))))) => {
            tracing::error!(
                "component `{id}` returned an error for a message on `{channel}`: {e:?}"
            )
        }
        Ok(Ok(other)) => tracing::error!(
            "component `{id}` returned {other:?} for a message on `{channel}`, not a result"
        ),
        Ok(Err(e)) if store.data().limiter.hit => tracing::error!(
            "component `{id}` exceeded the memory limit of {} bytes handling a message on `{channel}`: {e:#}",
            limits.memory_bytes
        ),
        Ok(Err(e)) => tracing::error!("component `{id}` failed on a message on `{channel}`: {e:#}"),
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
    let client = redis::Client::open(address)?;
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
