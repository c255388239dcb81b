//! The app's idle PostgreSQL connections, by address: a connection a request drops is rolled
//! back and reset (what `DISCARD ALL` does, but for the client's own prepared statements) off
//! the guest's time, then kept for the next request; one whose reset fails is closed.

use super::CONNECT_TIMEOUT;
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// Idle connections kept per address.
const MAX_IDLE: usize = 16;
/// Addresses with idle connections kept.
const MAX_ADDRESSES: usize = 64;
/// How a connection is reset between requests: DISCARD ALL, but DEALLOCATE only the
/// statements a guest `PREPARE`d in SQL (the client's own, prepared by the protocol, stay).
const RESET: &str = "CLOSE ALL; SET SESSION AUTHORIZATION DEFAULT; RESET ALL; UNLISTEN *; \
                     SELECT pg_advisory_unlock_all(); DISCARD PLANS; DISCARD TEMP; \
                     DISCARD SEQUENCES; \
                     DO $$DECLARE s text; BEGIN \
                       FOR s IN SELECT name FROM pg_prepared_statements WHERE from_sql LOOP \
                         EXECUTE format('DEALLOCATE %I', s); \
                       END LOOP; \
                     END$$";

/// Idle connections of the app, by address (and CA).
#[derive(Default)]
pub struct PgClients {
    idle: Mutex<HashMap<String, Vec<tokio_postgres::Client>>>,
}

impl std::fmt::Debug for PgClients {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PgClients")
    }
}

impl PgClients {
    pub(super) fn take(&self, key: &str) -> Option<tokio_postgres::Client> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        let clients = idle.get_mut(key)?;
        while let Some(client) = clients.pop() {
            if !client.is_closed() {
                return Some(client);
            }
        }
        None
    }

    /// Reset `client` and keep it for the next request, off the guest's time.
    pub(super) fn give_back(self: Arc<Self>, key: String, client: tokio_postgres::Client) {
        // Without a runtime (a store dropped outside one) the connection just closes.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        runtime.spawn(async move {
            // Outside a transaction ROLLBACK only warns. Then what DISCARD ALL does but
            // DEALLOCATE ALL: the client's own prepared statements (those it looks types up
            // with) must stay.
            let reset = async {
                client.batch_execute("ROLLBACK").await?;
                client.batch_execute(RESET).await
            };
            // A connection that could not be reset in time is closed, not kept.
            match tokio::time::timeout(CONNECT_TIMEOUT, reset).await {
                Ok(Ok(())) if !client.is_closed() => {}
                Ok(Err(e)) => {
                    tracing::warn!("a PostgreSQL connection could not be reset, closing it: {e}");
                    return;
                }
                _ => return,
            }
            let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
            if idle.len() >= MAX_ADDRESSES && !idle.contains_key(&key) {
                let Some(old) = idle.keys().next().cloned() else {
                    return;
                };
                idle.remove(&old);
            }
            let clients = idle.entry(key).or_default();
            if clients.len() < MAX_IDLE {
                clients.push(client);
            }
        });
    }
}

/// An open connection (the `connection` resource of every version).
pub struct PgConnection {
    pub(super) client: Option<Arc<tokio_postgres::Client>>,
    pub(super) key: String,
    pub(super) clients: Arc<PgClients>,
}

impl Drop for PgConnection {
    fn drop(&mut self) {
        if let Some(client) = self.client.take().and_then(|c| Arc::try_unwrap(c).ok()) {
            self.clients
                .clone()
                .give_back(std::mem::take(&mut self.key), client);
        }
    }
}
