//! `fermyon:spin/mqtt@2.0.0` over the outbound MQTT capability.

use super::{MqttConnection, MqttCtxView, MqttError, OpenArgs};
use crate::host::bindings::fermyon::spin::mqtt as v2;
use rumqttc::QoS;
use wasmtime::component::Resource;

fn error(e: MqttError) -> v2::Error {
    match e {
        MqttError::InvalidAddress => v2::Error::InvalidAddress,
        MqttError::TooManyConnections => v2::Error::TooManyConnections,
        MqttError::ConnectionFailed(m) => v2::Error::ConnectionFailed(m),
        MqttError::Other(m) => v2::Error::Other(m),
    }
}

impl v2::Host for MqttCtxView<'_> {}

impl v2::HostConnection for MqttCtxView<'_> {
    async fn open(
        &mut self,
        address: String,
        username: String,
        password: String,
        keep_alive: u64,
    ) -> wasmtime::Result<Result<Resource<MqttConnection>, v2::Error>> {
        let args = OpenArgs {
            address,
            username,
            password,
            keep_alive,
        };
        Ok(MqttCtxView::open(self, args)?.map_err(error))
    }

    async fn publish(
        &mut self,
        conn: Resource<MqttConnection>,
        topic: String,
        payload: Vec<u8>,
        qos: v2::Qos,
    ) -> wasmtime::Result<Result<(), v2::Error>> {
        let qos = match qos {
            v2::Qos::AtMostOnce => QoS::AtMostOnce,
            v2::Qos::AtLeastOnce => QoS::AtLeastOnce,
            v2::Qos::ExactlyOnce => QoS::ExactlyOnce,
        };
        let publisher = self.publisher(&conn)?;
        Ok(publisher.publish(topic, payload, qos).await.map_err(error))
    }

    async fn drop(&mut self, conn: Resource<MqttConnection>) -> wasmtime::Result<()> {
        self.close(conn)
    }
}
