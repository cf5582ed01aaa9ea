//! The limits of ice breakers and the persistent menu, one constant each, and their checks: every broken rule at
//! once. Where the reference marks a figure unconfirmed, the constant says so.

use super::{LocalizedIceBreakers, LocalizedMenu, ProfileSetting};
use crate::error::ConnectorError;
use crate::outbound::{Label, check_button, check_count, check_payload};

/// Ice breakers per locale (Meta: "at most 4").
pub const MAX_ICE_BREAKERS: usize = 4;
/// An ice breaker's question, in characters. Unconfirmed: no limit is documented for Instagram; Messenger's 80.
pub const MAX_ICE_BREAKER_QUESTION_CHARS: usize = 80;
/// Items of the persistent menu per locale. Unconfirmed: Messenger's hard limit of 20 (Meta advises 5 at most).
pub const MAX_MENU_ITEMS: usize = 20;
/// A menu item's title, in characters. Unconfirmed for Instagram: Messenger's 30.
pub const MAX_MENU_TITLE_CHARS: usize = 30;
/// The whole setting as sent: the host's cap on a request body (`http` in the WIT), which many locales could pass.
pub const MAX_SETTING_BYTES: usize = 1 << 20;
/// The locale every setting needs, the one shown where no other matches.
pub const DEFAULT_LOCALE: &str = "default";

/// The error codes of a setting, beside `missing-title`, `missing-payload`, `payload-too-long`,
/// `button-title-too-long` and `invalid-url`, shared with cards.
pub mod codes {
    pub const MISSING_DEFAULT_LOCALE: &str = "missing-default-locale";
    pub const INVALID_LOCALE: &str = "invalid-locale";
    pub const DUPLICATE_LOCALE: &str = "duplicate-locale";
    pub const EMPTY_LOCALE: &str = "empty-locale";
    pub const TOO_MANY_ICE_BREAKERS: &str = "too-many-ice-breakers";
    pub const MISSING_QUESTION: &str = "missing-question";
    pub const QUESTION_TOO_LONG: &str = "question-too-long";
    pub const TOO_MANY_MENU_ITEMS: &str = "too-many-menu-items";
    pub const SETTING_TOO_LARGE: &str = "setting-too-large";
}

const QUESTION: Label = Label {
    noun: "question",
    max_chars: MAX_ICE_BREAKER_QUESTION_CHARS,
    missing: codes::MISSING_QUESTION,
    too_long: codes::QUESTION_TOO_LONG,
};

/// Checks a setting against Meta's limits; every problem at once.
pub fn validate(setting: &ProfileSetting) -> Result<(), Vec<ConnectorError>> {
    let mut errors = Vec::new();
    match setting {
        ProfileSetting::IceBreakers(locales) => {
            check_locales(&mut errors, locales.iter().map(|l| (l.locale.as_str(), l.questions.len())));
            locales.iter().for_each(|locale| check_ice_breakers(&mut errors, locale));
        }
        ProfileSetting::PersistentMenu(locales) => {
            check_locales(&mut errors, locales.iter().map(|l| (l.locale.as_str(), l.items.len())));
            locales.iter().for_each(|locale| check_menu(&mut errors, locale));
        }
    }
    let bytes = super::graph::set_body(setting).len();
    if bytes > MAX_SETTING_BYTES {
        let message = format!("the setting takes {bytes} bytes to send; at most {MAX_SETTING_BYTES} go in one request");
        errors.push(ConnectorError::new(codes::SETTING_TOO_LARGE, message));
    }
    if errors.is_empty() { Ok(()) } else { Err(errors) }
}

/// Each locale named once, well formed, not empty; `default` among them.
fn check_locales<'a>(errors: &mut Vec<ConnectorError>, locales: impl Iterator<Item = (&'a str, usize)>) {
    let mut seen: Vec<&str> = Vec::new();
    for (locale, items) in locales {
        if !is_locale(locale) {
            let message = format!("{locale:?} is not a locale: `default`, or a language and region such as `ko_KR`");
            errors.push(ConnectorError::new(codes::INVALID_LOCALE, message));
        }
        if seen.contains(&locale) {
            errors.push(ConnectorError::new(codes::DUPLICATE_LOCALE, format!("locale {locale:?} is given twice")));
        }
        if items == 0 {
            let message = format!("locale {locale:?} has nothing in it; delete the setting to remove it all");
            errors.push(ConnectorError::new(codes::EMPTY_LOCALE, message));
        }
        seen.push(locale);
    }
    if !seen.contains(&DEFAULT_LOCALE) {
        let message = format!("a setting needs a {DEFAULT_LOCALE:?} locale, shown where no other matches");
        errors.push(ConnectorError::new(codes::MISSING_DEFAULT_LOCALE, message));
    }
}

/// `default`, or Meta's `ll_CC` (a lower-case language of 2 or 3 letters, an upper-case region of 2).
fn is_locale(locale: &str) -> bool {
    let Some((language, region)) = locale.split_once('_') else { return locale == DEFAULT_LOCALE };
    (2..=3).contains(&language.len())
        && language.bytes().all(|b| b.is_ascii_lowercase())
        && region.len() == 2
        && region.bytes().all(|b| b.is_ascii_uppercase())
}

fn check_ice_breakers(errors: &mut Vec<ConnectorError>, locale: &LocalizedIceBreakers) {
    let what = format!("ice breakers in locale {:?}", locale.locale);
    check_count(errors, &what, locale.questions.len(), MAX_ICE_BREAKERS, codes::TOO_MANY_ICE_BREAKERS);
    for (index, ice_breaker) in locale.questions.iter().enumerate() {
        let at = format!("ice breaker {} of locale {:?}", index + 1, locale.locale);
        QUESTION.check(errors, &at, &ice_breaker.question);
        check_payload(errors, &at, &ice_breaker.payload);
    }
}

fn check_menu(errors: &mut Vec<ConnectorError>, locale: &LocalizedMenu) {
    let what = format!("menu items in locale {:?}", locale.locale);
    check_count(errors, &what, locale.items.len(), MAX_MENU_ITEMS, codes::TOO_MANY_MENU_ITEMS);
    for (index, item) in locale.items.iter().enumerate() {
        check_button(
            errors,
            &format!("menu item {} of locale {:?}", index + 1, locale.locale),
            item,
            MAX_MENU_TITLE_CHARS,
        );
    }
}
