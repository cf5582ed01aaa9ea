//! The console's pages: templates kept in `host-harness/templates/` (compiled into the binary), rendered with
//! minijinja, HTML-escaped, in Korean or English (`i18n.json`), and sent with headers that forbid script, framing
//! and caching.

use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use minijinja::Environment;
use serde_json::{Value, json};

/// The templates, by name.
const TEMPLATES: &[(&str, &str)] = &[
    ("base.html", include_str!("../../../templates/base.html")),
    ("login.html", include_str!("../../../templates/login.html")),
    ("console.html", include_str!("../../../templates/console.html")),
    ("select.html", include_str!("../../../templates/select.html")),
    ("message.html", include_str!("../../../templates/message.html")),
];

/// The console's words in each language it speaks.
const TEXTS: &str = include_str!("../../../templates/i18n.json");

/// The stylesheet and icon, served from `/static/` (the policy allows styles and images from this origin only).
pub(super) const STYLESHEET: &str = include_str!("../../../templates/console.css");
pub(super) const ICON: &str = include_str!("../../../templates/icon.svg");

/// What every console answer carries: no script at all, styles and images from this origin, forms posted here,
/// never framed, never cached, and no Referer (the callback's URL holds a code and a state).
pub(super) const SECURITY_HEADERS: &[(&str, &str)] = &[
    (
        "content-security-policy",
        "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; \
         base-uri 'none'",
    ),
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "no-referrer"),
    ("cache-control", "no-store"),
];

/// The templates and words, loaded once.
pub(crate) struct Pages {
    templates: Environment<'static>,
    texts: Value,
}

/// A language the console speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Lang {
    En,
    Ko,
}

impl Lang {
    /// The first of Korean and English the browser asks for (`Accept-Language`, by weight), else the configured
    /// language, else English.
    pub fn choose(headers: &HeaderMap, configured: Option<&str>) -> Self {
        let asked = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
        let mut ranges: Vec<(f32, &str)> = asked
            .split(',')
            .filter_map(|range| {
                let mut parts = range.split(';');
                let tag = parts.next()?.trim();
                let weight = parts.find_map(|p| p.trim().strip_prefix("q=")?.parse().ok()).unwrap_or(1.0);
                Some((weight, tag))
            })
            .collect();
        ranges.sort_by(|a, b| b.0.total_cmp(&a.0));
        let spoken = ranges.into_iter().filter(|(weight, _)| *weight > 0.0).find_map(|(_, tag)| Self::of_tag(tag));
        spoken.or_else(|| configured.and_then(Self::of_tag)).unwrap_or(Self::En)
    }

    /// The language of a tag (`ko`, `en-US`, ...), if the console speaks it.
    fn of_tag(tag: &str) -> Option<Self> {
        let primary = tag.split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "ko" => Some(Self::Ko),
            "en" => Some(Self::En),
            _ => None,
        }
    }

    /// Its tag, for `<html lang>` and the texts.
    pub fn tag(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Ko => "ko",
        }
    }
}

impl Pages {
    /// Parses the templates and the texts (compiled in, so a failure is a bug caught by any test).
    pub fn new() -> Self {
        let mut templates = Environment::new();
        for (name, source) in TEMPLATES {
            templates.add_template(name, source).expect("the console's templates parse");
        }
        let texts = serde_json::from_str(TEXTS).expect("i18n.json is JSON");
        Self { templates, texts }
    }

    /// A word or sentence in `lang` (the key itself when missing, so a gap shows instead of failing).
    pub fn text(&self, lang: Lang, key: &str) -> String {
        self.texts[lang.tag()][key].as_str().unwrap_or(key).to_owned()
    }

    /// `template` rendered with `context`, the language's words as `t` and its tag as `lang`, answered with `status`.
    pub fn render(&self, status: StatusCode, template: &str, lang: Lang, mut context: Value) -> Response {
        context["t"] = self.texts[lang.tag()].clone();
        context["lang"] = json!(lang.tag());
        let rendered = self.templates.get_template(template).and_then(|t| t.render(&context));
        match rendered {
            Ok(html) => (status, [(header::CONTENT_TYPE, "text/html; charset=utf-8")], html).into_response(),
            Err(e) => {
                tracing::error!(template, error = %e, "rendering a console page failed");
                (StatusCode::INTERNAL_SERVER_ERROR, "the page could not be rendered").into_response()
            }
        }
    }

    /// A page that only says something: a title and a sentence (by their keys in the texts), with `details`
    /// (already in words) and a link onward.
    pub fn message(&self, status: StatusCode, lang: Lang, title: &str, body: &str, details: Option<&str>) -> Response {
        let context = json!({"title": self.text(lang, title), "body": self.text(lang, body), "details": details});
        self.render(status, "message.html", lang, context)
    }
}

/// Adds the security headers to a console answer.
pub(super) fn secure(mut response: Response) -> Response {
    for (name, value) in SECURITY_HEADERS {
        response.headers_mut().insert(*name, HeaderValue::from_static(value));
    }
    response
}
