//! `fermyon:spin/mysql@2.0.0` (with `rdbms-types`) over the outbound MySQL capability.

use super::{DataType, MysqlConnection, MysqlCtxView, MysqlError, Value, connect};
use crate::host::bindings::fermyon::spin::{mysql as v2, rdbms_types as types};
use wasmtime::component::Resource;

super::conversions!(types);
super::conversions!(row_set types);

impl types::Host for MysqlCtxView<'_> {}
impl v2::Host for MysqlCtxView<'_> {}

impl v2::HostConnection for MysqlCtxView<'_> {
    async fn open(
        &mut self,
        address: String,
    ) -> wasmtime::Result<Result<Resource<MysqlConnection>, types::Error>> {
        let opened = connect(self.outbound(), address).await;
        Ok(self.push(opened)?.map_err(error))
    }

    async fn query(
        &mut self,
        conn: Resource<MysqlConnection>,
        statement: String,
        params: Vec<types::ParameterValue>,
    ) -> wasmtime::Result<Result<types::RowSet, types::Error>> {
        let params = params.into_iter().map(param).collect();
        let result = self.session(&conn)?.query(statement, params).await;
        Ok(result.map(row_set).map_err(error))
    }

    async fn execute(
        &mut self,
        conn: Resource<MysqlConnection>,
        statement: String,
        params: Vec<types::ParameterValue>,
    ) -> wasmtime::Result<Result<(), types::Error>> {
        let params = params.into_iter().map(param).collect();
        let result = self.session(&conn)?.execute(statement, params).await;
        Ok(result.map_err(error))
    }

    async fn drop(&mut self, conn: Resource<MysqlConnection>) -> wasmtime::Result<()> {
        self.close(conn)
    }
}
