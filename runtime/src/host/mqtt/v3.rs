//! Spin 4's `spin:mqtt/mqtt@3.0.0` (async) over the outbound MQTT capability.

use super::{Mqtt, MqttConnection, MqttCtxView, MqttError, OpenArgs};
use crate::host::bindings::spin::mqtt::mqtt as v3;
use rumqttc::QoS;
use wasmtime::component::{Accessor, Resource};

fn error(e: MqttError) -> v3::Error {
    match e {
        MqttError::InvalidAddress => v3::Error::InvalidAddress,
        MqttError::TooManyConnections => v3::Error::TooManyConnections,
        MqttError::ConnectionFailed(m) => v3::Error::ConnectionFailed(m),
        MqttError::Other(m) => v3::Error::Other(m),
    }
}

impl v3::Host for MqttCtxView<'_> {}

impl v3::HostConnection for MqttCtxView<'_> {
    fn drop(&mut self, conn: Resource<MqttConnection>) -> wasmtime::Result<()> {
        self.close(conn)
    }
}

impl<T> v3::HostConnectionWithStore<T> for Mqtt {
    async fn open(
        accessor: &Accessor<T, Self>,
        address: String,
        username: String,
        password: String,
        keep_alive: u64,
    ) -> wasmtime::Result<Result<Resource<MqttConnection>, v3::Error>> {
        let args = OpenArgs {
            address,
            username,
            password,
            keep_alive,
        };
        Ok(accessor.with(|mut a| a.get().open(args))?.map_err(error))
    }

    async fn publish(
        accessor: &Accessor<T, Self>,
        conn: Resource<MqttConnection>,
        topic: String,
        payload: Vec<u8>,
        qos: v3::Qos,
    ) -> wasmtime::Result<Result<(), v3::Error>> {
        let qos = match qos {
            v3::Qos::AtMostOnce => QoS::AtMostOnce,
            v3::Qos::AtLeastOnce => QoS::AtLeastOnce,
            v3::Qos::ExactlyOnce => QoS::ExactlyOnce,
        };
        let publisher = accessor.with(|mut a| a.get().publisher(&conn))?;
        Ok(publisher.publish(topic, payload, qos).await.map_err(error))
    }
}
