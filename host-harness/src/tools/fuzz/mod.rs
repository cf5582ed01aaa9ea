//! A fuzz pass through the component: fixture deliveries mutated (and random bytes) into `inbound`, random
//! replies into `outbound.validate` (text and attachments; quick replies, cards, actions and media by id), random
//! ice breakers and menus into `messenger-profile.set`, random links into `expiry.evaluate`; and through the host's
//! own parsers: REQUEST and LINK JSON with malformed times and numbers and the new kinds badly typed
//! (`outbound::parse_request`, `expiry::parse_link`), and the server's header and query reading with malformed
//! headers. Every case must end `ok` or as a typed refusal; a trap (`plugin-fault`) or a host panic is a failure.
//! Deterministic for a seed.

mod inputs;
mod rich;

use crate::harness::{CallError, Harness};
use inputs::{Rng, header_name, header_value, link_json, mutate, random_time, request_json};
use messenger_core::inbound::{Delivery, TranslateOptions};
use messenger_core::outbound::parse_request;
use std::collections::BTreeMap;
use std::panic::{AssertUnwindSafe, catch_unwind};

const SECRET: &str = "fuzz-app-secret";
/// The time requests are read at.
const NOW: u64 = 1_794_477_600_000;

/// What a pass saw.
#[derive(Debug, Default, serde::Serialize)]
pub struct Report {
    pub cases: u64,
    pub ok: u64,
    pub refused: BTreeMap<String, u64>,
    pub faults: u64,
    pub host_errors: u64,
    pub panics: u64,
    /// The first few failures, to reproduce them.
    pub failures: Vec<String>,
}

impl Report {
    pub fn passed(&self) -> bool {
        self.faults == 0 && self.host_errors == 0 && self.panics == 0
    }
}

/// Every `*.json` body in `dir`, to mutate.
pub fn seeds(dir: &std::path::Path) -> std::io::Result<Vec<Vec<u8>>> {
    Ok(std::fs::read_dir(dir)?
        .filter_map(Result::ok)
        .filter(|entry| entry.path().extension().is_some_and(|x| x == "json"))
        .filter_map(|entry| std::fs::read(entry.path()).ok())
        .collect())
}

/// Runs `cases` cases on `harness`; `seeds` are delivery bodies to mutate.
pub fn run(harness: &Harness, seeds: &[Vec<u8>], cases: u64, seed: u64) -> Report {
    let mut rng = Rng(seed.max(1));
    let mut report = Report::default();
    let options = TranslateOptions { app_secret: SECRET.into(), filters: None };
    for case in 0..cases {
        let outcome = catch_unwind(AssertUnwindSafe(|| match rng.below(16) {
            10 => {
                let text = request_json(&mut rng);
                parse_request(text.as_bytes(), NOW).map(drop).map_err(CallError::Rejected)
            }
            11 => {
                let text = link_json(&mut rng);
                messenger_core::expiry::parse_link(text.as_bytes(), NOW).map(drop).map_err(CallError::Rejected)
            }
            12 => {
                let headers: Vec<(Vec<u8>, Vec<u8>)> =
                    (0..rng.below(6)).map(|_| (header_name(&mut rng), header_value(&mut rng))).collect();
                let query = String::from_utf8_lossy(&header_value(&mut rng)).into_owned();
                crate::server::parse::read_request(&headers, &query, b"{}", SECRET);
                Ok(())
            }
            0..=6 => {
                let body = mutate(&mut rng, seeds);
                let signature = if rng.chance(95) {
                    messenger_core::signature::sign(SECRET.as_bytes(), &body)
                } else {
                    "sha256=00".into()
                };
                let delivery = Delivery {
                    headers: vec![("x-hub-signature-256".into(), signature)],
                    body,
                    received_at: random_time(&mut rng),
                };
                harness.translate(&delivery, &options).map(drop)
            }
            7 | 8 => harness.validate_reply(&inputs::reply(&mut rng)).map(drop),
            13 => harness.validate_reply(&rich::reply(&mut rng)).map(drop),
            14 => {
                let text = rich::request_json(&mut rng);
                let reply = parse_request(text.as_bytes(), NOW).map_err(CallError::Rejected)?;
                harness.validate_reply(&reply).map(drop)
            }
            15 => {
                let account = if rng.chance(90) { "17841400000000001" } else { "x/y" };
                harness.set_profile_setting(account, &rich::profile_setting(&mut rng), NOW)
            }
            _ => harness.evaluate_link(&inputs::link(&mut rng)).map(drop),
        }));
        report.cases += 1;
        match outcome {
            Ok(Ok(())) => report.ok += 1,
            Ok(Err(CallError::Rejected(e))) => *report.refused.entry(e.code).or_default() += 1,
            Ok(Err(CallError::Invalid(errors))) => {
                *report.refused.entry(errors.first().map_or("invalid".into(), |e| e.code.clone())).or_default() += 1
            }
            Ok(Err(CallError::PluginFault(why))) => {
                report.faults += 1;
                note(&mut report, format!("case {case}: plugin fault: {why}"));
            }
            Ok(Err(CallError::Conflict(why))) => *report.refused.entry(format!("conflict: {why}")).or_default() += 1,
            Ok(Err(CallError::Host(why))) => {
                report.host_errors += 1;
                note(&mut report, format!("case {case}: host error: {why:#}"));
            }
            Err(_) => {
                report.panics += 1;
                note(&mut report, format!("case {case}: the host panicked"));
            }
        }
    }
    report
}

fn note(report: &mut Report, failure: String) {
    if report.failures.len() < 10 {
        report.failures.push(failure);
    }
}
