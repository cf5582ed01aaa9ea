//! The expiry policy at its boundaries: day 52, 53, 53 + 1 s, 60, 60 + 1 s; told already or not; each error.

use messenger_core::expiry::{Decision, Link, LinkState, LoginKind, Reason, evaluate};
use messenger_core::graph::GraphError;
use messenger_core::time::{DAY_MS, SECOND_MS};

const LINKED: u64 = 1_794_474_843_512;
const OWNERS: [&str; 2] = ["owner-1", "owner-2"];

fn link(day: u64, extra_ms: u64, last_notice_at: Option<u64>) -> Link {
    Link {
        now: LINKED + day * DAY_MS + extra_ms,
        linked_at: LINKED,
        token_expires_at: None,
        last_notice_at,
        owners: OWNERS.iter().map(|o| o.to_string()).collect(),
        last_error: None,
        last_error_at: None,
        language: None,
        login: Some(LoginKind::Facebook),
    }
}

fn told(d: &Decision) -> bool {
    d.notify == OWNERS
}

#[test]
fn the_60_day_cycle_at_its_boundaries() {
    let at_53 = LINKED + 53 * DAY_MS;
    // (day, extra, last notice, state, owners told now)
    let table = [
        (0, 0, None, LinkState::Active, false),
        (52, 0, None, LinkState::Active, false),
        (53, 0, None, LinkState::ExpiringSoon, true),
        (53, 0, Some(at_53), LinkState::ExpiringSoon, false),
        (53, SECOND_MS, None, LinkState::ExpiringSoon, true),
        (53, SECOND_MS, Some(at_53), LinkState::ExpiringSoon, false),
        (53, SECOND_MS, Some(at_53 - 1), LinkState::ExpiringSoon, true),
        (59, 0, Some(at_53 + DAY_MS), LinkState::ExpiringSoon, false),
        (60, 0, None, LinkState::Expired, true),
        (60, 0, Some(at_53), LinkState::Expired, false),
        (60, SECOND_MS, None, LinkState::Expired, true),
        (60, SECOND_MS, Some(LINKED), LinkState::Expired, true),
    ];
    for (day, extra, notice, state, notify) in table {
        let decision = evaluate(&link(day, extra, notice));
        assert_eq!(
            (decision.state, told(&decision)),
            (state, notify),
            "day {day} + {extra} ms, last notice {notice:?}"
        );
        assert_eq!(decision.expires_at, LINKED + 60 * DAY_MS);
        assert_eq!(decision.notice.is_some(), state != LinkState::Active, "day {day}");
    }
}

#[test]
fn the_token_s_own_expiry_wins() {
    let mut l = link(10, 0, None);
    l.token_expires_at = Some(LINKED + 15 * DAY_MS);
    let decision = evaluate(&l);
    assert_eq!((decision.state, decision.expires_at), (LinkState::ExpiringSoon, LINKED + 15 * DAY_MS));
}

#[test]
fn graph_errors_break_the_link_early_and_owners_are_told_once() {
    let error = |code, subcode| Some(GraphError { code, subcode, is_transient: false, http_status: 400 });
    let table = [
        (error(190, Some(460)), LinkState::Broken, Reason::PasswordChanged),
        (error(190, Some(458)), LinkState::Broken, Reason::Revoked),
        (error(190, Some(467)), LinkState::Broken, Reason::Revoked),
        (error(190, None), LinkState::Broken, Reason::Revoked),
        (error(190, Some(459)), LinkState::Broken, Reason::LoginRequired),
        (error(190, Some(463)), LinkState::Expired, Reason::TokenExpired),
        (error(102, None), LinkState::Broken, Reason::Revoked),
        (error(200, None), LinkState::Broken, Reason::MessageAccessOff),
    ];
    let broke_at = LINKED + 20 * DAY_MS;
    for (last_error, state, reason) in table {
        let mut l = link(21, 0, Some(LINKED + DAY_MS));
        l.last_error = last_error.clone();
        l.last_error_at = Some(broke_at);
        let decision = evaluate(&l);
        assert_eq!((decision.state, decision.reason, told(&decision)), (state, Some(reason), true), "{last_error:?}");
        l.last_notice_at = Some(broke_at + 1);
        assert!(evaluate(&l).notify.is_empty(), "told once: {last_error:?}");
    }
    let mut rate_limited = link(10, 0, None);
    rate_limited.last_error = error(613, None);
    assert_eq!(evaluate(&rate_limited).state, LinkState::Active, "a rate limit breaks nothing");
}

#[test]
fn notices_say_what_to_do_and_by_when_in_korean_and_english() {
    let english = evaluate(&link(53, 0, None)).notice.unwrap();
    assert!(english.contains("2026-11-12") || english.contains("UTC"), "{english}");
    assert!(english.contains("re-authorize"), "{english}");
    let mut korean = link(53, 0, None);
    korean.language = Some("ko".into());
    let text = evaluate(&korean).notice.unwrap();
    assert!(text.contains("만료") && text.contains("다시 인증"), "{text}");
    let expires = messenger_core::time::format_rfc3339(LINKED + 60 * DAY_MS);
    assert!(english.contains(&expires[..10]), "the date: {english}");
    let mut access_off = link(5, 0, None);
    access_off.last_error = Some(GraphError { code: 200, subcode: None, is_transient: false, http_status: 400 });
    assert!(evaluate(&access_off).notice.unwrap().contains("Allow access to messages"));
}

#[test]
fn instagram_tokens_are_refreshed_well_before_the_notice() {
    let mut l = link(31, 0, None);
    l.login = Some(LoginKind::Instagram);
    assert!(evaluate(&l).refresh, "30 days or less left, older than a day");
    l.now = LINKED + 29 * DAY_MS;
    assert!(!evaluate(&l).refresh, "more than 30 days left");
    l.now = LINKED + 61 * DAY_MS;
    assert!(!evaluate(&l).refresh, "expired tokens cannot be refreshed");
    let facebook = link(31, 0, None);
    assert!(!evaluate(&facebook).refresh, "Facebook Login links are not refreshable");
}
