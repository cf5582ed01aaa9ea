//! The `http` import: the guest's request goes through the host's allowlisted client, off the guest's clock.

use super::State;
use super::bindings::http as wit;
use messenger_core::wire::Mirror;

impl wit::Host for State {
    fn send(&mut self, request: wit::Request) -> wasmtime::Result<Result<wit::Response, wit::Error>> {
        let request = request.mirror();
        let client = self.http.clone();
        let result = self.clock.in_host(|| client.send(&request));
        Ok(result.map(Mirror::mirror).map_err(Mirror::mirror))
    }
}
