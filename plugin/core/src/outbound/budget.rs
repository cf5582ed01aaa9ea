//! A send budget per account: a token bucket in storage per class of call, so that the connector answers `later`
//! instead of breaking Meta's rate limits. Updated with compare-and-swap, so concurrent calls never overspend it.

use super::PlannedMessage;
use crate::keys;
use crate::ports::{Storage, StorageError};
use crate::time::TimestampMs;

/// The classes of calls that Meta rates apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateClass {
    /// Text, quick replies, cards, reactions and thread control.
    Text,
    /// Attachments: images, video, audio, files.
    Media,
    /// Typing indicators and seen marks.
    SenderAction,
}

/// One class's rate per account: calls a second, and a burst of one second's worth.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rate {
    pub class: RateClass,
    /// Its bucket's storage name (`budget/<account>/<name>`).
    pub name: &'static str,
    pub per_second: u64,
}

/// Meta's published rates per Instagram account (the Instagram Platform overview, reference sections 4 and 20),
/// one row per class:
/// - text, links, reactions and stickers: 100 calls a second (Messenger raised text to 300 in Oct 2024; plan for
///   100). Cards, quick replies and thread control go with text;
/// - audio and video: 10 a second; images are held to it too, the stricter reading;
/// - sender actions: unconfirmed, no figure is published; text's rate, in a bucket of their own so that a typing
///   indicator never holds a reply back.
pub const RATES: [Rate; 3] = [
    Rate { class: RateClass::Text, name: "text", per_second: 100 },
    Rate { class: RateClass::Media, name: "media", per_second: 10 },
    Rate { class: RateClass::SenderAction, name: "sender-action", per_second: 100 },
];

/// Text's rate, from the table.
pub const TEXT_PER_SECOND: u64 = RATES[0].per_second;
/// Media's rate, from the table.
pub const MEDIA_PER_SECOND: u64 = RATES[1].per_second;
/// Sender actions' rate, from the table.
pub const SENDER_ACTIONS_PER_SECOND: u64 = RATES[2].per_second;

impl RateClass {
    /// The class a planned message is counted in.
    pub fn of(message: &PlannedMessage) -> Self {
        match message {
            PlannedMessage::Attachment(_) | PlannedMessage::ReusedAttachment(_) => Self::Media,
            PlannedMessage::SenderAction(_) => Self::SenderAction,
            _ => Self::Text,
        }
    }

    /// Its row of `RATES`.
    pub fn rate(self) -> Rate {
        RATES.into_iter().find(|rate| rate.class == self).expect("every class has a row in RATES")
    }
}

const MILLI: u64 = 1000;

/// Takes one call from the account's bucket for `class`; false when it is empty now.
pub(crate) fn take(
    storage: &impl Storage,
    account_id: &str,
    class: RateClass,
    now: TimestampMs,
) -> Result<bool, StorageError> {
    let Rate { name, per_second, .. } = class.rate();
    let key = keys::send_budget(account_id, name);
    let capacity = per_second * MILLI;
    for _ in 0..8 {
        let current = storage.get(&key)?;
        // "<milli-tokens>:<updated-ms>"; a missing or unreadable bucket is full.
        let (level, updated) = current
            .as_deref()
            .and_then(|b| std::str::from_utf8(b).ok())
            .and_then(|t| t.split_once(':'))
            .and_then(|(l, u)| Some((l.parse::<u64>().ok()?, u.parse::<u64>().ok()?)))
            .unwrap_or((capacity, now));
        // per_second tokens a second = per_second milli-tokens a millisecond.
        let refilled = level.saturating_add(now.saturating_sub(updated).saturating_mul(per_second)).min(capacity);
        if refilled < MILLI {
            return Ok(false);
        }
        let next = format!("{}:{}", refilled - MILLI, now.max(updated));
        if storage.compare_and_swap(&key, current.as_deref(), next.as_bytes())? {
            return Ok(true);
        }
    }
    Ok(false)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ports::MemoryStorage;

    #[test]
    fn a_burst_of_one_second_then_refills_with_time() {
        let storage = MemoryStorage::default();
        let sent = (0..150).filter(|_| take(&storage, "1", RateClass::Text, 1_000).unwrap()).count();
        assert_eq!(sent, TEXT_PER_SECOND as usize);
        assert!(!take(&storage, "1", RateClass::Text, 1_000).unwrap());
        assert!(take(&storage, "1", RateClass::Text, 1_010).unwrap(), "10 ms refill one text send");
        let media = (0..20).filter(|_| take(&storage, "1", RateClass::Media, 1_000).unwrap()).count();
        assert_eq!(media, MEDIA_PER_SECOND as usize, "media has its own, smaller bucket");
        assert!(take(&storage, "2", RateClass::Text, 1_000).unwrap(), "each account has its own");
    }

    #[test]
    fn sender_actions_have_a_bucket_of_their_own() {
        let storage = MemoryStorage::default();
        let typing = (0..150).filter(|_| take(&storage, "1", RateClass::SenderAction, 1_000).unwrap()).count();
        assert_eq!(typing, SENDER_ACTIONS_PER_SECOND as usize);
        assert!(take(&storage, "1", RateClass::Text, 1_000).unwrap(), "typing never holds a reply back");
    }

    #[test]
    fn every_kind_of_message_is_counted_in_its_class() {
        use crate::outbound::{MediaType, ReusedAttachment, SenderAction};
        let reused =
            PlannedMessage::ReusedAttachment(ReusedAttachment { kind: MediaType::Video, attachment_id: "1".into() });
        assert_eq!(RateClass::of(&reused), RateClass::Media);
        assert_eq!(RateClass::of(&PlannedMessage::SenderAction(SenderAction::MarkSeen)), RateClass::SenderAction);
        assert_eq!(RateClass::of(&PlannedMessage::Text("x".into())), RateClass::Text);
        assert_eq!(RateClass::of(&PlannedMessage::Cards(vec![])), RateClass::Text);
    }
}
