//! `application/x-www-form-urlencoded`, as browsers post plain forms and as query strings come: name and value
//! pairs, in order, with repeated names kept (a checkbox list).

/// The decoded pairs of a form body or query string. Pairs whose bytes are not UTF-8 once decoded are dropped.
pub(super) struct Form(Vec<(String, String)>);

impl Form {
    /// The pairs of `encoded`, in order.
    pub fn parse(encoded: &[u8]) -> Self {
        let pairs = encoded
            .split(|b| *b == b'&')
            .filter(|pair| !pair.is_empty())
            .filter_map(|pair| {
                let (name, value) = match pair.iter().position(|b| *b == b'=') {
                    Some(at) => (&pair[..at], &pair[at + 1..]),
                    None => (pair, &[][..]),
                };
                Some((decode(name)?, decode(value)?))
            })
            .collect();
        Self(pairs)
    }

    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Every value of `name`, in order.
    pub fn all(&self, name: &str) -> Vec<String> {
        self.0.iter().filter(|(n, _)| n == name).map(|(_, v)| v.clone()).collect()
    }
}

/// `+` is a space; `%XX` a byte; a malformed escape stays as it is.
fn decode(encoded: &[u8]) -> Option<String> {
    let mut bytes = Vec::with_capacity(encoded.len());
    let mut rest = encoded;
    while let Some((&first, tail)) = rest.split_first() {
        let escaped = match (first, tail) {
            (b'%', [high, low, ..]) => hex_digit(*high).zip(hex_digit(*low)).map(|(h, l)| h << 4 | l),
            _ => None,
        };
        match (first, escaped) {
            (_, Some(byte)) => {
                bytes.push(byte);
                rest = &tail[2..];
            }
            (b'+', None) => {
                bytes.push(b' ');
                rest = tail;
            }
            (other, None) => {
                bytes.push(other);
                rest = tail;
            }
        }
    }
    String::from_utf8(bytes).ok()
}

/// The value of one hex digit.
fn hex_digit(c: u8) -> Option<u8> {
    (c as char).to_digit(16).map(|d| d as u8)
}

#[cfg(test)]
mod tests {
    use super::Form;

    #[test]
    fn repeated_names_spaces_and_escapes() {
        let form = Form::parse(b"account=1&account=2&note=a+b%21&bad=%zz&empty");
        assert_eq!(form.all("account"), ["1", "2"]);
        assert_eq!(form.get("note"), Some("a b!"));
        assert_eq!(form.get("bad"), Some("%zz"));
        assert_eq!(form.get("empty"), Some(""));
        assert_eq!(form.get("missing"), None);
    }
}
