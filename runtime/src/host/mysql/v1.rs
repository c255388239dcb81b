//! Spin 1.x's unversioned `fermyon:spin/mysql` (also what the pre-component ABI's
//! `outbound-mysql` calls): every call names its server; a request's calls to one address
//! share a connection.

use super::{DataType, MysqlCtxView, MysqlError, Session, Value, connect};
use crate::host::spin_v1::bindings::fermyon::spin::{mysql as v1, rdbms_types as types};

fn error(e: MysqlError) -> v1::MysqlError {
    match e {
        MysqlError::ConnectionFailed(m) => v1::MysqlError::ConnectionFailed(m),
        MysqlError::QueryFailed(m) => v1::MysqlError::QueryFailed(m),
        MysqlError::ValueConversionFailed(m) => v1::MysqlError::ValueConversionFailed(m),
        MysqlError::Other(m) => v1::MysqlError::OtherError(m),
    }
}

super::conversions!(values types);
super::conversions!(row_set types);

impl MysqlCtxView<'_> {
    /// This request's connection to `address`, opened by its first call.
    async fn at(&mut self, address: String) -> Result<Session, v1::MysqlError> {
        if let Some(conn) = self.ctx.by_address.get(&address) {
            return Ok(Session(conn.conn.clone()));
        }
        let conn = connect(self.outbound(), address.clone())
            .await
            .and_then(|conn| self.admit().map(|()| conn))
            .map_err(error)?;
        let session = Session(conn.conn.clone());
        self.ctx.by_address.insert(address, conn);
        Ok(session)
    }
}

impl types::Host for MysqlCtxView<'_> {}

impl v1::Host for MysqlCtxView<'_> {
    async fn query(
        &mut self,
        address: String,
        statement: String,
        params: Vec<types::ParameterValue>,
    ) -> wasmtime::Result<Result<types::RowSet, v1::MysqlError>> {
        let session = match self.at(address).await {
            Ok(s) => s,
            Err(e) => return Ok(Err(e)),
        };
        let params = params.into_iter().map(param).collect();
        let result = session.query(statement, params).await;
        Ok(result.map(row_set).map_err(error))
    }

    async fn execute(
        &mut self,
        address: String,
        statement: String,
        params: Vec<types::ParameterValue>,
    ) -> wasmtime::Result<Result<(), v1::MysqlError>> {
        let session = match self.at(address).await {
            Ok(s) => s,
            Err(e) => return Ok(Err(e)),
        };
        let params = params.into_iter().map(param).collect();
        Ok(session.execute(statement, params).await.map_err(error))
    }
}
