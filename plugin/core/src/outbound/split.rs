//! Long text into messages of at most 1000 UTF-8 bytes: cut at a paragraph, else a sentence, else a word, else
//! between grapheme clusters, never inside one. Whitespace at a cut is dropped; nothing visible is lost.
//!
//! Sentences and words are found by a scan of grapheme clusters of our own rather than UAX #29's sentence and
//! word tables, which were an eighth of the component (54 KB): a sentence ends at `.`, `!`, `?` or `…` before
//! a space and a word that does not start in lower case (so "e.g. this" stays whole), or just after a CJK full
//! stop, question or exclamation mark; a word ends at a space.

use crate::error::ConnectorError;
use unicode_segmentation::UnicodeSegmentation;

/// Meta's limit and the helpdesk's rule, in bytes.
pub const MAX_TEXT_BYTES: usize = 1000;
/// A reply longer than this many messages is refused rather than flooding the customer.
pub const MAX_PARTS: usize = 20;

/// The messages `text` is sent as, in order. Text that fits is sent byte for byte as written.
pub fn split(text: &str) -> Result<Vec<String>, ConnectorError> {
    let mut parts = Vec::new();
    let mut rest = text;
    while rest.len() > MAX_TEXT_BYTES {
        let limit = last_grapheme_bound(rest, MAX_TEXT_BYTES);
        if limit == 0 {
            let message = format!(
                "one character (a grapheme cluster) of the text is over {MAX_TEXT_BYTES} bytes, so it cannot be sent"
            );
            return Err(ConnectorError::new(super::codes::TEXT_UNSPLITTABLE, message));
        }
        let window = &rest[..limit];
        let cut = paragraph_bound(window)
            .or_else(|| {
                let (sentence, word) = sentence_and_word_bounds(window, &rest[limit..]);
                sentence.or(word)
            })
            .unwrap_or(limit);
        let part = rest[..cut].trim_end();
        if !part.is_empty() {
            parts.push(part.to_owned());
        }
        rest = rest[cut..].trim_start();
        if parts.len() > MAX_PARTS {
            break;
        }
    }
    if !rest.is_empty() {
        parts.push(rest.to_owned());
    }
    if parts.len() > MAX_PARTS {
        let message = format!("the text needs more than {MAX_PARTS} messages of {MAX_TEXT_BYTES} bytes; shorten it");
        return Err(ConnectorError::new(super::codes::TEXT_TOO_LONG, message));
    }
    Ok(parts)
}

/// The largest grapheme boundary of `text` at or below `max` bytes (0 when the first grapheme is larger).
fn last_grapheme_bound(text: &str, max: usize) -> usize {
    let mut last = 0;
    for (start, grapheme) in text.grapheme_indices(true) {
        let end = start + grapheme.len();
        if end > max {
            break;
        }
        last = end;
    }
    last
}

/// Just after the last blank line in `window` (`\n\n` or `\r\n\r\n`), if any.
fn paragraph_bound(window: &str) -> Option<usize> {
    let unix = window.rfind("\n\n").map(|i| i + 2);
    let windows = window.rfind("\n\r\n").map(|i| i + 3);
    unix.max(windows).filter(|&cut| cut > 0 && cut <= window.len())
}

/// The last sentence end and the last word end in `window` (offsets in `(0, window.len()]`), given what follows
/// it. Both fall between grapheme clusters.
fn sentence_and_word_bounds(window: &str, after: &str) -> (Option<usize>, Option<usize>) {
    let (mut sentence, mut word) = (None, None);
    let mut previous_ends_sentence = false;
    let mut clusters = window.grapheme_indices(true).peekable();
    while let Some((start, cluster)) = clusters.next() {
        if cluster.trim().is_empty() {
            if start > 0 {
                word = Some(start);
                let next = clusters.peek().map_or(after, |&(at, _)| &window[at..]).trim_start();
                if previous_ends_sentence && !next.starts_with(char::is_lowercase) {
                    sentence = Some(start);
                }
            }
            previous_ends_sentence = false;
            continue;
        }
        let last = cluster.chars().next_back();
        previous_ends_sentence = matches!(last, Some('.' | '!' | '?' | '…'));
        if matches!(last, Some('。' | '！' | '？')) {
            sentence = Some(start + cluster.len());
        }
    }
    (sentence, word)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn visible(text: &str) -> String {
        text.graphemes(true).filter(|g| !g.trim().is_empty()).collect()
    }

    #[test]
    fn short_text_is_kept_byte_for_byte() {
        assert_eq!(split("  hi there \n").unwrap(), vec!["  hi there \n".to_string()]);
        assert_eq!(split(&"가".repeat(333)).unwrap().len(), 1, "999 bytes fit");
        assert_eq!(split(&"가".repeat(334)).unwrap().len(), 2, "1002 bytes do not");
    }

    #[test]
    fn prefers_paragraphs_then_sentences_then_words() {
        let text = format!("{}\n\n{}", "a".repeat(600), "b".repeat(600));
        assert_eq!(split(&text).unwrap(), vec!["a".repeat(600), "b".repeat(600)]);
        // A sentence ends before a word that does not start in lower case (abbreviations stay whole).
        let text = format!("{}. {}.", "word ".repeat(120).trim_end(), "Next ".repeat(100).trim_end());
        let parts = split(&text).unwrap();
        assert!(parts[0].ends_with('.'), "cut after the sentence: {:?}", &parts[0][parts[0].len() - 10..]);
        let text = "word ".repeat(300);
        let parts = split(&text).unwrap();
        assert!(
            parts
                .iter()
                .all(|p| p.len() <= MAX_TEXT_BYTES && !p.starts_with(' ') && p.split_whitespace().all(|w| w == "word"))
        );
    }

    #[test]
    fn finds_sentences_in_korean_japanese_and_after_abbreviations() {
        let korean = format!("{}요. {}", "배송 ".repeat(130), "다음 문장입니다 ".repeat(30));
        assert!(split(&korean).unwrap()[0].ends_with("요."), "a Korean sentence ends at its full stop");
        let japanese = format!("{}。{}", "配送".repeat(100), "次の文".repeat(60));
        let parts = split(&japanese).unwrap();
        assert!(parts[0].ends_with('。'), "cut just after the CJK full stop: {}", &parts[0][parts[0].len() - 9..]);
        let abbreviation = format!("{} e.g. {}", "word ".repeat(190).trim_end(), "more ".repeat(30));
        let parts = split(&abbreviation).unwrap();
        assert!(!parts[0].ends_with("e.g."), "no sentence end before a lower-case word");
    }

    #[test]
    fn never_cuts_a_grapheme_even_without_spaces() {
        let family = "👨\u{200d}👩\u{200d}👧\u{200d}👦"; // 25 bytes, one grapheme
        let text = family.repeat(100);
        let parts = split(&text).unwrap();
        assert!(parts.iter().all(|p| p.len() <= MAX_TEXT_BYTES && p.len() % family.len() == 0));
        assert_eq!(parts.concat(), text);
        assert_eq!(visible(&parts.concat()), visible(&text));
    }

    #[test]
    fn refuses_what_cannot_be_split_or_is_too_long() {
        let zalgo = format!("e{}", "\u{301}".repeat(600)); // one grapheme of 1201 bytes
        assert_eq!(split(&zalgo).unwrap_err().code, super::super::codes::TEXT_UNSPLITTABLE);
        assert_eq!(split(&"x ".repeat(15_000)).unwrap_err().code, super::super::codes::TEXT_TOO_LONG);
    }
}
