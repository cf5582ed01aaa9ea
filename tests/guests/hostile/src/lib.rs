//! A hostile plugin. `inbound.translate` does what the delivery's body names:
//! - `loop`: spins forever;
//! - `alloc`: allocates until something stops it;
//! - `panic`: panics;
//! - `egress <url>`: asks the host for `<url>` and reports the answer as its error;
//! - `storage`: writes a key, then tries to read another channel's data, and reports what it saw;
//! - `wasi`: reaches for the environment, arguments, files and stdout, and reports what it got;
//! - `write-flood`: writes 256 KiB values under new keys for ever;
//! - `import-flood`: reads one key for ever;
//! - `egress-loop <url>`: asks the host for `<url>` for ever, whatever the answers;
//! - anything else: succeeds with no events.

mod wit {
    wit_bindgen::generate!({ world: "messenger-connector", path: "../../../wit" });
}

use wit::exports::helpdesk::messenger_connector::{expiry, history, inbound, linking, messenger_profile, outbound};
use wit::helpdesk::messenger_connector::{http, storage, types};

struct Hostile;
wit::export!(Hostile with_types_in wit);

fn report(code: &str, message: String) -> types::ErrorInfo {
    types::ErrorInfo { code: code.into(), message }
}

impl inbound::Guest for Hostile {
    fn verify_subscription(_: inbound::Handshake, _: String) -> Result<String, types::ErrorInfo> {
        Err(report("hostile", String::new()))
    }

    fn translate(delivery: inbound::Delivery, _: inbound::TranslateOptions) -> Result<Vec<types::InboxEvent>, types::ErrorInfo> {
        let body = String::from_utf8_lossy(&delivery.body).into_owned();
        let (command, argument) = body.split_once(' ').unwrap_or((body.as_str(), ""));
        match command {
            "loop" => {
                let mut n: u64 = 0;
                loop {
                    n = std::hint::black_box(n.wrapping_add(1));
                }
            }
            "alloc" => {
                let mut hoard: Vec<Vec<u8>> = Vec::new();
                loop {
                    hoard.push(vec![1u8; 1 << 20]);
                    std::hint::black_box(&hoard);
                }
            }
            "panic" => panic!("the hostile guest panics on purpose"),
            "egress" => {
                let request = http::Request { method: http::Method::Get, url: argument.into(), headers: vec![], body: vec![], timeout_ms: Some(2_000) };
                match http::send(&request) {
                    Ok(response) => Err(report("egress-answered", format!("{}", response.status))),
                    Err(http::Error::Denied(why)) => Err(report("egress-denied", why)),
                    Err(other) => Err(report("egress-failed", format!("{other:?}"))),
                }
            }
            "storage" => {
                storage::set("mine", b"here").map_err(|e| report("storage-failed", format!("{e:?}")))?;
                let mut seen = Vec::new();
                for key in ["mine", argument, "../other/mine", "instagram/other/mine", "/mine"] {
                    if let Ok(Some(value)) = storage::get(key) {
                        seen.push(format!("{key}={}", String::from_utf8_lossy(&value)));
                    }
                }
                let listed = storage::list_keys("", None, 100).map(|page| page.keys.join(",")).unwrap_or_default();
                Err(report("storage-seen", format!("{} | listed: {listed}", seen.join(";"))))
            }
            "wasi" => {
                let env = std::env::vars().count();
                let args = std::env::args().count();
                let files = std::fs::read_dir("/").is_ok() || std::fs::read("/etc/passwd").is_ok() || std::fs::write("/tmp/x", b"x").is_ok();
                println!("the hostile guest writes to stdout");
                Err(report("wasi-seen", format!("env={env} args={args} files={files}")))
            }
            "write-flood" => {
                let value = vec![7u8; 256 * 1024];
                for n in 0u64.. {
                    let _ = storage::set(&format!("flood/{n}"), &value);
                }
                Ok(Vec::new())
            }
            "import-flood" => loop {
                let _ = std::hint::black_box(storage::get("mine"));
            },
            "egress-loop" => loop {
                let request = http::Request { method: http::Method::Get, url: argument.into(), headers: vec![], body: vec![], timeout_ms: Some(2_000) };
                let _ = std::hint::black_box(http::send(&request));
            },
            _ => Ok(Vec::new()),
        }
    }

    fn get_filters(_: String) -> Result<inbound::Filters, types::ErrorInfo> {
        Err(report("hostile", String::new()))
    }

    fn set_filters(_: String, _: inbound::Filters) -> Result<(), types::ErrorInfo> {
        Err(report("hostile", String::new()))
    }
}

impl outbound::Guest for Hostile {
    fn validate(_: outbound::Reply) -> Result<outbound::SendPlan, Vec<types::ErrorInfo>> {
        Err(vec![])
    }
    fn send(_: outbound::SendPlan, _: u64) -> Result<Vec<outbound::DeliveryStatus>, types::ErrorInfo> {
        Err(report("hostile", String::new()))
    }
}

impl expiry::Guest for Hostile {
    fn evaluate(_: expiry::Link) -> Result<expiry::LinkDecision, types::ErrorInfo> {
        Err(report("hostile", String::new()))
    }
    fn refresh(_: String, _: u64) -> Result<u64, types::ErrorInfo> {
        Err(report("hostile", String::new()))
    }
    fn link_accounts(_: expiry::LinkRequest) -> Result<Vec<expiry::LinkedAccount>, types::ErrorInfo> {
        Err(report("hostile", String::new()))
    }
    fn plan_selection(_: Vec<String>) -> Result<expiry::SelectionChange, types::ErrorInfo> {
        Err(report("hostile", String::new()))
    }
    fn apply_selection(_: Vec<String>) -> Result<expiry::SelectionChange, types::ErrorInfo> {
        Err(report("hostile", String::new()))
    }
    fn set_representative(_: Option<String>) -> Result<(), types::ErrorInfo> {
        Err(report("hostile", String::new()))
    }
    fn list_accounts() -> Result<Vec<expiry::AccountInfo>, types::ErrorInfo> {
        Err(report("hostile", String::new()))
    }
}

impl messenger_profile::Guest for Hostile {
    fn get(_: String, _: messenger_profile::ProfileField, _: u64) -> Result<messenger_profile::ProfileSetting, types::ErrorInfo> {
        Err(report("hostile", String::new()))
    }
    fn set(_: String, _: messenger_profile::ProfileSetting, _: u64) -> Result<(), Vec<types::ErrorInfo>> {
        Err(vec![])
    }
    fn delete(_: String, _: messenger_profile::ProfileField, _: u64) -> Result<(), types::ErrorInfo> {
        Err(report("hostile", String::new()))
    }
}

impl linking::Guest for Hostile {
    fn subscribe_webhooks(_: String, _: u64) -> Result<linking::Subscription, types::ErrorInfo> {
        Err(report("hostile", String::new()))
    }
    fn list_subscriptions() -> Result<Vec<linking::Subscription>, types::ErrorInfo> {
        Err(report("hostile", String::new()))
    }
    fn deauthorize(_: String, _: u64) -> Result<Vec<String>, types::ErrorInfo> {
        Err(report("hostile", String::new()))
    }
    fn forget_person(_: String) -> Result<Vec<String>, types::ErrorInfo> {
        Err(report("hostile", String::new()))
    }
    fn probe_token(_: String, _: u64) -> Result<Option<types::GraphError>, types::ErrorInfo> {
        Err(report("hostile", String::new()))
    }
}

impl history::Guest for Hostile {
    fn start_backfill(_: String, _: Option<String>, _: u64) -> Result<history::BackfillProgress, types::ErrorInfo> {
        Err(report("hostile", String::new()))
    }
    fn backfill_step(_: String, _: u64) -> Result<history::BackfillBatch, types::ErrorInfo> {
        Err(report("hostile", String::new()))
    }
    fn get_backfill(_: String) -> Result<Option<history::BackfillProgress>, types::ErrorInfo> {
        Err(report("hostile", String::new()))
    }
}
