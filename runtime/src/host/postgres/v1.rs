//! Spin 1.x's unversioned `fermyon:spin/postgres` (also what the pre-component ABI's
//! `outbound-pg` calls): every call names its server; a request's calls to one address share
//! a connection. Types this version has no case for are
//! `unsupported` values of type `other`, as in 2.0.0.

use super::types::{DataType, Value};
use super::{PgCtxView, PgError, Session, connect};
use crate::host::spin_v1::bindings::fermyon::spin::{postgres as v1, rdbms_types as types};

fn error(e: PgError) -> v1::PgError {
    match e {
        PgError::ConnectionFailed(m) => v1::PgError::ConnectionFailed(m),
        PgError::BadParameter(m) => v1::PgError::BadParameter(m),
        PgError::QueryFailed(q) => v1::PgError::QueryFailed(q.text()),
        PgError::ValueConversionFailed(m) => v1::PgError::ValueConversionFailed(m),
        PgError::Other(m) => v1::PgError::OtherError(m),
    }
}

super::rdbms_conversions!(types);

impl PgCtxView<'_> {
    /// Run `op` on this request's connection to `address`, opened by its first call (so a
    /// transaction spans calls, as in Spin 1.x); the connection is pooled when the request
    /// ends.
    async fn at<T>(
        &mut self,
        address: String,
        op: impl AsyncFnOnce(Session) -> Result<T, PgError>,
    ) -> Result<T, v1::PgError> {
        let client = match self.ctx.by_address.get(&address) {
            Some(conn) => conn.client.clone(),
            None => {
                let (outbound, clients) = self.parts();
                let conn = connect(outbound, clients, address.clone(), None)
                    .await
                    .and_then(|conn| self.admit().map(|()| conn))
                    .map_err(error)?;
                let client = conn.client.clone();
                self.ctx.by_address.insert(address, conn);
                client
            }
        };
        let client = client.ok_or_else(|| error(PgError::Other("connection closed".into())))?;
        op(Session(client)).await.map_err(error)
    }
}

impl types::Host for PgCtxView<'_> {}

impl v1::Host for PgCtxView<'_> {
    async fn query(
        &mut self,
        address: String,
        statement: String,
        params: Vec<types::ParameterValue>,
    ) -> wasmtime::Result<Result<types::RowSet, v1::PgError>> {
        let params: Vec<Value> = params.into_iter().map(param).collect();
        let result = self
            .at(address, async |s| s.query(statement, params).await)
            .await;
        Ok(result.map(row_set))
    }

    async fn execute(
        &mut self,
        address: String,
        statement: String,
        params: Vec<types::ParameterValue>,
    ) -> wasmtime::Result<Result<u64, v1::PgError>> {
        let params = params.into_iter().map(param).collect();
        Ok(self
            .at(address, async |s| s.execute(statement, params).await)
            .await)
    }
}
