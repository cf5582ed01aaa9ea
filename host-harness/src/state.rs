//! The per-call store state, and the host side of the two imports. WASI is linked because Rust's std needs it,
//! but its context grants nothing: no files, environment, sockets, clocks beyond the defaults, or stdio.

use crate::bindings::{http as wit_http, storage as wit_storage, types as wit_types};
use crate::http::{self, HttpClient, HttpError};
use crate::limits::{CallClock, Limits};
use crate::storage::{Session, StorageError};
use wasmtime::component::ResourceTable;
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

pub struct State {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: crate::limits::Limiter,
    pub(crate) clock: CallClock,
    session: Option<Session>,
    http: HttpClient,
}

impl State {
    pub fn new(session: Session, http: HttpClient, limits: &Limits) -> Self {
        Self {
            wasi: WasiCtxBuilder::new().build(),
            table: ResourceTable::new(),
            limiter: limits.limiter(),
            clock: CallClock::start(limits.call_deadline),
            session: Some(session),
            http,
        }
    }

    /// The largest linear memory the guest reached in this store.
    pub fn peak_memory_bytes(&self) -> usize {
        self.limiter.peak_memory_bytes
    }

    /// Gives back the call's storage session, to commit or roll back.
    pub fn into_session(mut self) -> Session {
        self.session.take().expect("the session stays in the state until the call ends")
    }

    /// Runs a storage operation, off the guest's clock.
    fn stored<R>(
        &mut self,
        op: impl FnOnce(&Session) -> Result<R, StorageError>,
    ) -> wasmtime::Result<Result<R, wit_storage::Error>> {
        let session = self.session.take().expect("the session stays in the state until the call ends");
        let result = self.clock.in_host(|| op(&session));
        self.session = Some(session);
        Ok(result.map_err(|e| match e {
            StorageError::InvalidKey(why) => wit_storage::Error::InvalidKey(why),
            StorageError::TooLarge(why) => wit_storage::Error::TooLarge(why),
            StorageError::Unavailable(why) => wit_storage::Error::Unavailable(why),
        }))
    }
}

impl WasiView for State {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

impl wit_types::Host for State {}

impl wit_storage::Host for State {
    fn get(&mut self, key: String) -> wasmtime::Result<Result<Option<Vec<u8>>, wit_storage::Error>> {
        self.stored(|s| s.get(&key))
    }

    fn set(&mut self, key: String, value: Vec<u8>) -> wasmtime::Result<Result<(), wit_storage::Error>> {
        self.stored(|s| s.set(&key, &value))
    }

    fn delete(&mut self, key: String) -> wasmtime::Result<Result<(), wit_storage::Error>> {
        self.stored(|s| s.delete(&key))
    }

    fn exists(&mut self, key: String) -> wasmtime::Result<Result<bool, wit_storage::Error>> {
        self.stored(|s| s.exists(&key))
    }

    fn list_keys(
        &mut self,
        prefix: String,
        cursor: Option<String>,
        limit: u32,
    ) -> wasmtime::Result<Result<wit_storage::KeyPage, wit_storage::Error>> {
        let page = self.stored(|s| s.list_keys(&prefix, cursor.as_deref(), limit))?;
        Ok(page.map(|(keys, cursor)| wit_storage::KeyPage { keys, cursor }))
    }

    fn insert_if_absent(&mut self, key: String, value: Vec<u8>) -> wasmtime::Result<Result<bool, wit_storage::Error>> {
        self.stored(|s| s.insert_if_absent(&key, &value))
    }

    fn compare_and_swap(
        &mut self,
        key: String,
        expected: Option<Vec<u8>>,
        new: Vec<u8>,
    ) -> wasmtime::Result<Result<bool, wit_storage::Error>> {
        self.stored(|s| s.compare_and_swap(&key, expected.as_deref(), &new))
    }
}

impl wit_http::Host for State {
    fn send(&mut self, request: wit_http::Request) -> wasmtime::Result<Result<wit_http::Response, wit_http::Error>> {
        let request = http::Request {
            method: match request.method {
                wit_http::Method::Get => http::Method::Get,
                wit_http::Method::Post => http::Method::Post,
                wit_http::Method::Delete => http::Method::Delete,
            },
            url: request.url,
            headers: request.headers,
            body: request.body,
            timeout_ms: request.timeout_ms,
        };
        let client = self.http.clone();
        let result = self.clock.in_host(|| client.send(&request));
        Ok(result.map(|r| wit_http::Response { status: r.status, headers: r.headers, body: r.body }).map_err(
            |e| match e {
                HttpError::Denied(why) => wit_http::Error::Denied(why),
                HttpError::Timeout => wit_http::Error::Timeout,
                HttpError::Connection(why) => wit_http::Error::Connection(why),
                HttpError::TooLarge(n) => wit_http::Error::TooLarge(n),
                HttpError::InvalidRequest(why) => wit_http::Error::InvalidRequest(why),
            },
        ))
    }
}
