//! A send budget per account: a token bucket in storage, so that the connector answers `later` instead of breaking
//! Meta's rate limits. Updated with compare-and-swap, so concurrent calls never overspend it.

use crate::keys;
use crate::ports::{Storage, StorageError};
use crate::time::TimestampMs;

/// About 100 calls a second for text (the reference's figure), and a burst of one second's worth.
pub const TEXT_PER_SECOND: u64 = 100;
/// About 10 a second for media.
pub const MEDIA_PER_SECOND: u64 = 10;

const MILLI: u64 = 1000;

/// Takes one send from the account's bucket; false when it is empty now.
pub(crate) fn take(
    storage: &impl Storage,
    account_id: &str,
    media: bool,
    now: TimestampMs,
) -> Result<bool, StorageError> {
    let (class, per_second) = if media { ("media", MEDIA_PER_SECOND) } else { ("text", TEXT_PER_SECOND) };
    let key = keys::send_budget(account_id, class);
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
        let sent = (0..150).filter(|_| take(&storage, "1", false, 1_000).unwrap()).count();
        assert_eq!(sent, TEXT_PER_SECOND as usize);
        assert!(!take(&storage, "1", false, 1_000).unwrap());
        assert!(take(&storage, "1", false, 1_010).unwrap(), "10 ms refill one text send");
        let media = (0..20).filter(|_| take(&storage, "1", true, 1_000).unwrap()).count();
        assert_eq!(media, MEDIA_PER_SECOND as usize, "media has its own, smaller bucket");
        assert!(take(&storage, "2", false, 1_000).unwrap(), "each account has its own");
    }
}
