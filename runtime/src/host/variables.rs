//! The variables capability: a component's variables, resolved once at start-up, read
//! through `fermyon:spin/variables@2.0.0`, Spin 4's `spin:variables@3.0.0` and
//! `wasi:config/store@0.2.0-draft-2024-09-27` (each a thin adapter over [`Variables`]).

use crate::host::bindings::fermyon::spin::variables;
use crate::host::bindings::spin::variables::variables as variables3;
use crate::host::bindings::wasi::config::store as config;
use spin_app::template::is_snake_id;
use std::collections::BTreeMap;
use wasmtime::component::{Accessor, HasData, Linker};

/// One component's variables (its `[component.x.variables]`, templates expanded).
#[derive(Debug, Default)]
pub struct Variables {
    /// The component (for error messages).
    pub component: String,
    /// Name → value.
    pub values: BTreeMap<String, String>,
}

/// Why `get` of the variables interfaces gives no value.
pub enum GetError {
    /// Not lower_snake_case.
    InvalidName(String),
    /// The component has no such variable.
    Undefined(String),
}

/// Why Spin's pre-2.0 `config` interfaces cannot give a value (their `invalid-key` and
/// `provider` cases, as Spin maps the variables errors onto them).
pub enum LegacyConfigError {
    /// Not lower_snake_case.
    InvalidKey(String),
    /// The component has no such key.
    Provider(String),
}

impl Variables {
    /// `get(name)` of the variables interfaces.
    pub fn get(&self, name: &str) -> Result<String, GetError> {
        if !is_snake_id(name) {
            return Err(GetError::InvalidName(format!(
                "`{name}` is not a valid variable name (lower_snake_case)"
            )));
        }
        self.values.get(name).cloned().ok_or_else(|| {
            GetError::Undefined(format!(
                "component `{}` has no variable `{name}`",
                self.component
            ))
        })
    }

    /// `get-config(key)` of the pre-component and unversioned `config` interfaces.
    pub fn legacy_get(&self, key: &str) -> Result<String, LegacyConfigError> {
        if !is_snake_id(key) {
            return Err(LegacyConfigError::InvalidKey(format!(
                "`{key}` is not a valid config key (lower_snake_case)"
            )));
        }
        self.values.get(key).cloned().ok_or_else(|| {
            LegacyConfigError::Provider(format!(
                "component `{}` has no config key `{key}`",
                self.component
            ))
        })
    }
}

/// Implemented by a request's state to give the variables interfaces their context.
pub trait VariablesView: Send {
    /// The component's variables.
    fn variables(&mut self) -> &Variables;
}

/// [`HasData`] for the variables interfaces: they only read.
pub struct Vars;

impl HasData for Vars {
    type Data<'a> = &'a Variables;
}

/// Link both variables interfaces for `T`.
pub fn add_to_linker<T: VariablesView + 'static>(linker: &mut Linker<T>) -> wasmtime::Result<()> {
    variables::add_to_linker::<T, Vars>(linker, T::variables)?;
    variables3::add_to_linker::<T, Vars>(linker, T::variables)?;
    config::add_to_linker::<T, Vars>(linker, T::variables)?;
    Ok(())
}

impl variables::Host for &Variables {
    async fn get(&mut self, name: String) -> wasmtime::Result<Result<String, variables::Error>> {
        Ok(Variables::get(self, &name).map_err(|e| match e {
            GetError::InvalidName(m) => variables::Error::InvalidName(m),
            GetError::Undefined(m) => variables::Error::Undefined(m),
        }))
    }
}

impl variables3::Host for &Variables {}

impl<T> variables3::HostWithStore<T> for Vars {
    async fn get(
        accessor: &Accessor<T, Self>,
        name: String,
    ) -> wasmtime::Result<Result<String, variables3::Error>> {
        Ok(accessor
            .with(|mut a| a.get().get(&name))
            .map_err(|e| match e {
                GetError::InvalidName(m) => variables3::Error::InvalidName(m),
                GetError::Undefined(m) => variables3::Error::Undefined(m),
            }))
    }
}

impl config::Host for &Variables {
    async fn get(
        &mut self,
        key: String,
    ) -> wasmtime::Result<Result<Option<String>, config::Error>> {
        Ok(Ok(self.values.get(&key).cloned()))
    }

    async fn get_all(&mut self) -> wasmtime::Result<Result<Vec<(String, String)>, config::Error>> {
        Ok(Ok(self
            .values
            .iter()
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect()))
    }
}
