//! The `http` import: the guest's request goes through the host's allowlisted client, off the guest's clock.

use super::State;
use super::bindings::http as wit;
use messenger_core::wire::Mirror;

impl wit::Host for State {
    fn send(&mut self, request: wit::Request) -> wasmtime::Result<Result<wit::Response, wit::Error>> {
        self.admit(1, 0)?;
        let mut request: crate::egress::Request = request.mirror();
        // A request never outlives the call's wall-clock limit.
        let remaining = self.clock.remaining().as_millis().clamp(1, u32::MAX as u128) as u32;
        request.timeout_ms = Some(request.timeout_ms.map_or(remaining, |asked| asked.min(remaining)));
        let client = self.http.clone();
        let result = self.clock.in_host(|| client.send(&request));
        Ok(result.map(Mirror::mirror).map_err(Mirror::mirror))
    }
}
