//! Meta's verification request as it arrives: `GET <callback>?hub.mode=subscribe&hub.verify_token=...&hub.challenge=...`.

/// The hub parameters of a verification request; each absent when the request did not carry it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Handshake {
    pub mode: Option<String>,
    pub verify_token: Option<String>,
    pub challenge: Option<String>,
}

/// The hub parameters of a query string (percent-decoded; `+` is a space). Unknown parameters are ignored; the
/// first occurrence of a parameter wins.
pub fn from_query(query: &str) -> Handshake {
    let mut handshake = Handshake::default();
    for pair in query.trim_start_matches('?').split('&') {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let slot = match decode(name).as_str() {
            "hub.mode" => &mut handshake.mode,
            "hub.verify_token" => &mut handshake.verify_token,
            "hub.challenge" => &mut handshake.challenge,
            _ => continue,
        };
        slot.get_or_insert_with(|| decode(value));
    }
    handshake
}

fn decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < bytes.len() => {
                match u8::from_str_radix(std::str::from_utf8(&bytes[i + 1..i + 3]).unwrap_or("zz"), 16) {
                    Ok(byte) => {
                        out.push(byte);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            other => out.push(other),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_hub_parameters() {
        let h = from_query("hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=my%20token%2B1&x=y");
        assert_eq!(h.mode.as_deref(), Some("subscribe"));
        assert_eq!(h.challenge.as_deref(), Some("1158201444"));
        assert_eq!(h.verify_token.as_deref(), Some("my token+1"));
        let h = from_query("?hub.mode=subscribe&hub.mode=other&hub.challenge=a+b%");
        assert_eq!(
            (h.mode.as_deref(), h.challenge.as_deref(), h.verify_token),
            (Some("subscribe"), Some("a b%"), None)
        );
    }
}
