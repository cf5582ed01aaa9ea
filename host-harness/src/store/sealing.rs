//! Tokens sealed at rest: the values of the token keys (`account/<id>/access-token`, `channel/access-token`; see
//! wit/storage.wit) are stored as ChaCha20-Poly1305 ciphertext under a 256-bit key the host holds, never the
//! database. The namespace and key are the associated data, so a sealed value moved under another key or channel
//! does not open. The component never sees any of this: it reads and writes plain tokens.

use anyhow::{Context, Result, bail};
use ring::aead::{Aad, CHACHA20_POLY1305, LessSafeKey, NONCE_LEN, Nonce, UnboundKey};
use ring::rand::{SecureRandom, SystemRandom};
use std::path::Path;

/// What a sealed value starts with (then the nonce, then the ciphertext and its tag).
const MAGIC: &[u8] = b"sealed1:";
/// The environment variable holding the key, as 64 hex digits.
pub const KEY_ENV: &str = "MESSENGER_TOKEN_KEY";

/// Whether `key` holds a token, and so is sealed.
pub fn is_token_key(key: &str) -> bool {
    key == messenger_core::keys::CHANNEL_ACCESS_TOKEN
        || key.strip_prefix("account/").is_some_and(|rest| rest.ends_with("/access-token"))
}

/// The sealing key.
pub struct Sealer {
    key: LessSafeKey,
    random: SystemRandom,
}

impl Sealer {
    /// From 64 hex digits (32 bytes).
    pub fn from_hex(hex: &str) -> Result<Self> {
        let hex = hex.trim();
        let bytes = (0..hex.len())
            .step_by(2)
            .map(|i| hex.get(i..i + 2).and_then(|pair| u8::from_str_radix(pair, 16).ok()))
            .collect::<Option<Vec<u8>>>();
        match bytes {
            Some(bytes) if bytes.len() == 32 => Self::from_bytes(&bytes),
            _ => bail!("a token key is 64 hex digits (32 bytes), e.g. from `openssl rand -hex 32`"),
        }
    }

    fn from_bytes(bytes: &[u8]) -> Result<Self> {
        let key = UnboundKey::new(&CHACHA20_POLY1305, bytes).map_err(|_| anyhow::anyhow!("an unusable token key"))?;
        Ok(Self { key: LessSafeKey::new(key), random: SystemRandom::new() })
    }

    /// The key in `path`, or a new random one written there (0600) when there is none. The new key is written
    /// whole to a temporary file first and linked into place, which fails if another process got there first: then
    /// its key is the one used.
    pub fn from_key_file(path: &Path) -> Result<(Self, bool)> {
        let read = |path: &Path| -> Result<Self> {
            let hex = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
            Self::from_hex(&hex).with_context(|| format!("reading {}", path.display()))
        };
        if path.exists() {
            return Ok((read(path)?, false));
        }
        let mut bytes = [0u8; 32];
        let random = SystemRandom::new();
        random.fill(&mut bytes).map_err(|_| anyhow::anyhow!("no randomness for a token key"))?;
        let mut nonce = [0u8; 8];
        random.fill(&mut nonce).map_err(|_| anyhow::anyhow!("no randomness"))?;
        let temp = path.with_extension(format!("tmp-{}", messenger_core::hex::encode(&nonce)));
        crate::store::files::write_private(&temp, messenger_core::hex::encode(&bytes).as_bytes(), true)?;
        let linked = std::fs::hard_link(&temp, path);
        let _ = std::fs::remove_file(&temp);
        match linked {
            Ok(()) => Ok((Self::from_bytes(&bytes)?, true)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok((read(path)?, false)),
            Err(e) => Err(e).with_context(|| format!("creating {}", path.display())),
        }
    }

    pub fn seal(&self, namespace: &str, key: &str, plain: &[u8]) -> Result<Vec<u8>> {
        let mut nonce = [0u8; NONCE_LEN];
        self.random.fill(&mut nonce).map_err(|_| anyhow::anyhow!("no randomness for a nonce"))?;
        let mut sealed = plain.to_vec();
        self.key
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), aad(namespace, key), &mut sealed)
            .map_err(|_| anyhow::anyhow!("sealing a token failed"))?;
        Ok([MAGIC, &nonce, &sealed].concat())
    }

    /// The plain value; a value stored before sealing was on (no marker) is returned as it is.
    pub fn open(&self, namespace: &str, key: &str, stored: &[u8]) -> Result<Vec<u8>> {
        let Some(rest) = stored.strip_prefix(MAGIC) else { return Ok(stored.to_vec()) };
        let (nonce, sealed) = rest.split_at_checked(NONCE_LEN).context("a sealed token is cut short")?;
        let nonce = Nonce::try_assume_unique_for_key(nonce).map_err(|_| anyhow::anyhow!("a sealed token's nonce"))?;
        let mut sealed = sealed.to_vec();
        let plain = self
            .key
            .open_in_place(nonce, aad(namespace, key), &mut sealed)
            .map_err(|_| anyhow::anyhow!("{key} does not open with this token key (another node's key?)"))?;
        Ok(plain.to_vec())
    }
}

fn aad(namespace: &str, key: &str) -> Aad<Vec<u8>> {
    Aad::from([namespace.as_bytes(), b"\0", key.as_bytes()].concat())
}

/// Whether a stored value is sealed.
pub fn is_sealed(stored: &[u8]) -> bool {
    stored.starts_with(MAGIC)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_sealed_token_opens_only_under_its_own_key_and_name() {
        let sealer = Sealer::from_hex(&"ab".repeat(32)).unwrap();
        let sealed = sealer.seal("instagram/default", "channel/access-token", b"tok-123").unwrap();
        assert!(is_sealed(&sealed) && !sealed.windows(7).any(|w| w == b"tok-123"));
        assert_eq!(sealer.open("instagram/default", "channel/access-token", &sealed).unwrap(), b"tok-123");
        assert!(sealer.open("instagram/other", "channel/access-token", &sealed).is_err(), "another channel");
        assert!(sealer.open("instagram/default", "account/1/access-token", &sealed).is_err(), "another key");
        let other = Sealer::from_hex(&"cd".repeat(32)).unwrap();
        assert!(other.open("instagram/default", "channel/access-token", &sealed).is_err(), "another key");
        assert!(Sealer::from_hex("abc").is_err());
        assert!(is_token_key("account/17841400000000001/access-token") && !is_token_key("account/1/link"));
    }
}
