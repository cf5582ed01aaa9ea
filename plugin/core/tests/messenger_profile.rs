//! Ice breakers and the persistent menu natively: their limits (every problem at once), and the Messenger Profile
//! calls on a recording fake of the `http` port: paths per login, exact bodies, and every shape Meta answers in.

use messenger_core::messenger_profile::{
    IceBreaker, LocalizedIceBreakers, LocalizedMenu, MAX_ICE_BREAKER_QUESTION_CHARS, MAX_ICE_BREAKERS, MAX_MENU_ITEMS,
    MAX_MENU_TITLE_CHARS, ProfileField, ProfileSetting, codes, delete, get, parse_setting, set, validate,
};
use messenger_core::outbound::{Button, LinkButton, PostbackButton, codes as outbound_codes};
use messenger_core::ports::{Http, HttpError, HttpRequest, HttpResponse, MemoryStorage, Method, Storage};
use serde_json::{Value, json};
use std::cell::RefCell;

const ACCOUNT: &str = "17841400000000001";
const NOW: u64 = 1_794_477_600_000;

/// Answers every request with one body, and keeps what it was asked.
struct Recorder {
    status: u16,
    answer: Value,
    seen: RefCell<Vec<HttpRequest>>,
}

impl Recorder {
    fn answering(status: u16, answer: Value) -> Self {
        Self { status, answer, seen: RefCell::default() }
    }

    fn only(&self) -> (Method, String, Value) {
        let seen = self.seen.borrow();
        assert_eq!(seen.len(), 1, "{seen:?}");
        let body = if seen[0].body.is_empty() { Value::Null } else { serde_json::from_slice(&seen[0].body).unwrap() };
        (seen[0].method, seen[0].url.clone(), body)
    }
}

impl Http for Recorder {
    fn send(&self, request: &HttpRequest) -> Result<HttpResponse, HttpError> {
        self.seen.borrow_mut().push(request.clone());
        Ok(HttpResponse { status: self.status, headers: vec![], body: self.answer.to_string().into_bytes() })
    }
}

fn linked(login: &str) -> MemoryStorage {
    let storage = MemoryStorage::default();
    storage.set(&format!("account/{ACCOUNT}/access-token"), b"token").unwrap();
    storage.set(&format!("account/{ACCOUNT}/login"), login.as_bytes()).unwrap();
    storage
}

fn ice_breakers(locales: &[(&str, usize)]) -> ProfileSetting {
    ProfileSetting::IceBreakers(
        locales
            .iter()
            .map(|(locale, n)| LocalizedIceBreakers {
                locale: (*locale).into(),
                questions: (0..*n)
                    .map(|i| IceBreaker { question: format!("Where is my order {i}?"), payload: format!("ORDER_{i}") })
                    .collect(),
            })
            .collect(),
    )
}

fn menu(items: Vec<Button>) -> ProfileSetting {
    ProfileSetting::PersistentMenu(vec![LocalizedMenu { locale: "default".into(), items }])
}

fn agent() -> Button {
    Button::Postback(PostbackButton { title: "Talk to an agent".into(), payload: "AGENT".into() })
}

fn codes_of(setting: &ProfileSetting) -> Vec<String> {
    validate(setting).err().unwrap_or_default().into_iter().map(|e| e.code).collect()
}

#[test]
fn ice_breakers_at_and_over_their_limits() {
    assert!(codes_of(&ice_breakers(&[("default", MAX_ICE_BREAKERS), ("ko_KR", 1)])).is_empty());
    assert_eq!(codes_of(&ice_breakers(&[("default", MAX_ICE_BREAKERS + 1)])), [codes::TOO_MANY_ICE_BREAKERS]);
    assert_eq!(codes_of(&ice_breakers(&[("ko_KR", 1)])), [codes::MISSING_DEFAULT_LOCALE]);
    assert_eq!(codes_of(&ice_breakers(&[])), [codes::MISSING_DEFAULT_LOCALE]);
    assert_eq!(
        codes_of(&ice_breakers(&[("default", 1), ("default", 1), ("korean", 1), ("en_US", 0)])),
        [codes::DUPLICATE_LOCALE, codes::INVALID_LOCALE, codes::EMPTY_LOCALE],
        "every problem of the locales at once"
    );
    let question = |text: String| {
        ProfileSetting::IceBreakers(vec![LocalizedIceBreakers {
            locale: "default".into(),
            questions: vec![IceBreaker { question: text, payload: String::new() }],
        }])
    };
    assert_eq!(codes_of(&question("가".repeat(MAX_ICE_BREAKER_QUESTION_CHARS))), [outbound_codes::MISSING_PAYLOAD]);
    assert_eq!(
        codes_of(&question("q".repeat(MAX_ICE_BREAKER_QUESTION_CHARS + 1))),
        [codes::QUESTION_TOO_LONG, outbound_codes::MISSING_PAYLOAD]
    );
    assert_eq!(codes_of(&question(" ".into())), [codes::MISSING_QUESTION, outbound_codes::MISSING_PAYLOAD]);
}

#[test]
fn the_menu_at_and_over_its_limits() {
    assert!(codes_of(&menu(vec![agent(); MAX_MENU_ITEMS])).is_empty());
    assert_eq!(codes_of(&menu(vec![agent(); MAX_MENU_ITEMS + 1])), [codes::TOO_MANY_MENU_ITEMS]);
    let titled = |title: String| Button::WebUrl(LinkButton { title, url: "https://shop.example.com/".into() });
    assert!(codes_of(&menu(vec![titled("t".repeat(MAX_MENU_TITLE_CHARS))])).is_empty(), "menus allow longer titles");
    assert_eq!(
        codes_of(&menu(vec![titled("t".repeat(MAX_MENU_TITLE_CHARS + 1))])),
        [outbound_codes::BUTTON_TITLE_TOO_LONG]
    );
    let plain_http = Button::WebUrl(LinkButton { title: "Shop".into(), url: "http://shop.example.com/".into() });
    assert_eq!(codes_of(&menu(vec![plain_http])), [outbound_codes::INVALID_URL]);
    let huge =
        vec![Button::Postback(PostbackButton { title: "x".into(), payload: "\u{1}".repeat(1000) }); MAX_MENU_ITEMS];
    let locales = ["default", "ko_KR", "en_US", "ja_JP", "zh_CN", "zh_TW", "fr_FR", "de_DE", "es_ES", "it_IT"];
    let big = ProfileSetting::PersistentMenu(
        locales.iter().map(|l| LocalizedMenu { locale: (*l).into(), items: huge.clone() }).collect(),
    );
    assert_eq!(codes_of(&big), [codes::SETTING_TOO_LARGE], "one request carries at most the host's body cap");
}

#[test]
fn set_sends_the_localized_format_and_names_the_platform_only_under_facebook_login() {
    let setting = ice_breakers(&[("default", 1), ("ko_KR", 1)]);
    let expected = json!({"platform": "instagram", "ice_breakers": [
        {"locale": "default", "call_to_actions": [{"question": "Where is my order 0?", "payload": "ORDER_0"}]},
        {"locale": "ko_KR", "call_to_actions": [{"question": "Where is my order 0?", "payload": "ORDER_0"}]}]});
    for (login, url) in [
        ("facebook", "https://graph.facebook.com/v23.0/me/messenger_profile?platform=instagram"),
        ("instagram", "https://graph.instagram.com/v23.0/me/messenger_profile"),
    ] {
        let graph = Recorder::answering(200, json!({"success": true}));
        set(ACCOUNT, &setting, NOW, &linked(login), &graph).unwrap();
        assert_eq!(graph.only(), (Method::Post, url.to_owned(), expected.clone()), "{login}");
        assert_eq!(graph.seen.borrow()[0].headers[0], ("authorization".into(), "Bearer token".into()));
    }
    let graph = Recorder::answering(200, json!({"result": "success"}));
    set(ACCOUNT, &menu(vec![agent()]), NOW, &linked("facebook"), &graph).unwrap();
    let (_, _, body) = graph.only();
    assert_eq!(
        body,
        json!({"platform": "instagram", "persistent_menu": [{"locale": "default", "call_to_actions": [
            {"type": "postback", "title": "Talk to an agent", "payload": "AGENT"}]}]})
    );
}

#[test]
fn an_invalid_setting_reaches_no_graph_and_a_refusal_is_sorted() {
    let graph = Recorder::answering(200, json!({"success": true}));
    let errors = set(ACCOUNT, &ice_breakers(&[("ko_KR", 5)]), NOW, &linked("instagram"), &graph).unwrap_err();
    assert_eq!(errors.len(), 2);
    assert!(graph.seen.borrow().is_empty());
    let refused = Recorder::answering(400, json!({"error": {"message": "x", "code": 190, "error_subcode": 460}}));
    let storage = linked("instagram");
    let errors = set(ACCOUNT, &ice_breakers(&[("default", 1)]), NOW, &storage, &refused).unwrap_err();
    assert_eq!(errors[0].code, "password-changed");
    assert!(storage.get(&format!("account/{ACCOUNT}/link-error")).unwrap().is_some(), "the broken link is recorded");
    let no = Recorder::answering(200, json!({"success": false}));
    assert_eq!(
        delete(ACCOUNT, ProfileField::IceBreakers, NOW, &linked("instagram"), &no).unwrap_err().code,
        "unexpected-response"
    );
}

#[test]
fn delete_names_the_field_in_its_body() {
    let graph = Recorder::answering(200, json!({"success": true}));
    delete(ACCOUNT, ProfileField::PersistentMenu, NOW, &linked("facebook"), &graph).unwrap();
    let url = "https://graph.facebook.com/v23.0/me/messenger_profile?platform=instagram".to_owned();
    assert_eq!(graph.only(), (Method::Delete, url, json!({"fields": ["persistent_menu"]})));
}

#[test]
fn get_reads_every_shape_meta_answers_in() {
    let localized = json!({"data": [{"call_to_actions": [{"question": "Q1", "payload": "P1"}], "locale": "default"}]});
    let nested = json!({"data": [{"ice_breakers": [{"call_to_actions": [{"question": "Q1", "payload": "P1"}], "locale": "default"}]}]});
    let flat = json!({"data": [{"question": "Q1", "payload": "P1"}]});
    let expected = ProfileSetting::IceBreakers(vec![LocalizedIceBreakers {
        locale: "default".into(),
        questions: vec![IceBreaker { question: "Q1".into(), payload: "P1".into() }],
    }]);
    for answer in [localized, nested, flat] {
        let graph = Recorder::answering(200, answer.clone());
        assert_eq!(
            get(ACCOUNT, ProfileField::IceBreakers, NOW, &linked("instagram"), &graph).unwrap(),
            expected,
            "{answer}"
        );
        assert_eq!(graph.only().1, "https://graph.instagram.com/v23.0/me/messenger_profile?fields=ice_breakers");
    }
    let none = Recorder::answering(200, json!({"data": []}));
    assert_eq!(
        get(ACCOUNT, ProfileField::PersistentMenu, NOW, &linked("facebook"), &none).unwrap(),
        ProfileSetting::empty(ProfileField::PersistentMenu)
    );
    assert_eq!(
        none.only().1,
        "https://graph.facebook.com/v23.0/me/messenger_profile?fields=persistent_menu&platform=instagram"
    );
    let menu_answer = json!({"data": [{"persistent_menu": [{"locale": "default", "composer_input_disabled": false, "call_to_actions": [
        {"type": "postback", "title": "Talk to an agent", "payload": "AGENT"},
        {"type": "nested", "title": "More", "call_to_actions": []},
        {"type": "web_url", "title": "Shop", "url": "https://shop.example.com/"}]}]}]});
    let graph = Recorder::answering(200, menu_answer);
    let shop = Button::WebUrl(LinkButton { title: "Shop".into(), url: "https://shop.example.com/".into() });
    assert_eq!(
        get(ACCOUNT, ProfileField::PersistentMenu, NOW, &linked("facebook"), &graph).unwrap(),
        menu(vec![agent(), shop])
    );
}

#[test]
fn settings_read_from_their_json_and_refuse_what_is_not() {
    let json = br#"[{"locale":"default","items":[{"type":"postback","title":"Talk to an agent","payload":"AGENT"}]}]"#;
    assert_eq!(parse_setting(ProfileField::PersistentMenu, json).unwrap(), menu(vec![agent()]));
    let wrong = br#"[{"locale":"default","items":[{"type":"call","title":"Call","payload":"+82"}]}]"#;
    assert_eq!(parse_setting(ProfileField::PersistentMenu, wrong).unwrap_err().code, "invalid-request");
    assert_eq!(parse_setting(ProfileField::IceBreakers, b"{}").unwrap_err().code, "invalid-request");
}
