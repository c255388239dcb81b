//! `fermyon:spin/variables@2.0.0` and `wasi:config/store@0.2.0-draft-2024-09-27`, both
//! answering from the component's variables, resolved at start-up.

use crate::host::bindings::fermyon::spin::variables;
use crate::host::bindings::wasi::config::store as config;
use crate::state::RequestState;
use spin_app::template::is_snake_id;

impl variables::Host for RequestState {
    async fn get(&mut self, name: String) -> wasmtime::Result<Result<String, variables::Error>> {
        if !is_snake_id(&name) {
            return Ok(Err(variables::Error::InvalidName(format!(
                "`{name}` is not a valid variable name (lower_snake_case)"
            ))));
        }
        Ok(match self.component.variables.get(&name) {
            Some(value) => Ok(value.clone()),
            None => Err(variables::Error::Undefined(format!(
                "component `{}` has no variable `{name}`",
                self.component.id
            ))),
        })
    }
}

impl config::Host for RequestState {
    async fn get(
        &mut self,
        key: String,
    ) -> wasmtime::Result<Result<Option<String>, config::Error>> {
        Ok(Ok(self.component.variables.get(&key).cloned()))
    }

    async fn get_all(&mut self) -> wasmtime::Result<Result<Vec<(String, String)>, config::Error>> {
        Ok(Ok(self
            .component
            .variables
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()))
    }
}
