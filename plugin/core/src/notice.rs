//! What the channel owners read in their 'my chat' room: what happened, what to do, and by when. Korean and
//! English; English for any other language.

use crate::breaks::Reason;
use crate::time::{TimestampMs, format_rfc3339};

const SETTINGS_EN: &str = "re-authorize the account in the helpdesk's Instagram channel settings (log in again and select every Instagram account the channel uses)";
const SETTINGS_KO: &str = "헬프데스크의 인스타그램 채널 설정에서 계정을 다시 인증해 주세요(다시 로그인한 뒤 채널에서 쓰는 인스타그램 계정을 모두 선택해야 합니다)";

pub fn text(reason: Reason, expires_at: TimestampMs, language: Option<&str>) -> String {
    let korean = language.is_some_and(|l| l.eq_ignore_ascii_case("ko") || l.to_ascii_lowercase().starts_with("ko-"));
    let stamp = format_rfc3339(expires_at);
    let (date, time) = (&stamp[..10], &stamp[11..16]);
    if korean {
        let when = format!(
            "{}년 {}월 {}일 {time}(UTC)",
            &date[..4],
            date[5..7].trim_start_matches('0'),
            date[8..10].trim_start_matches('0')
        );
        match reason {
            Reason::Expiring => format!(
                "인스타그램 계정 연동이 {when}에 만료됩니다. 그 전에 {SETTINGS_KO}. 만료되면 고객의 인스타그램 메시지를 받을 수 없습니다."
            ),
            Reason::Expired => format!(
                "인스타그램 계정 연동이 {when}에 만료되어 고객의 인스타그램 메시지를 받을 수 없습니다. 지금 {SETTINGS_KO}."
            ),
            Reason::TokenExpired => format!(
                "인스타그램 계정의 접근 토큰이 예정보다 일찍 만료되어 고객의 메시지를 받을 수 없습니다. 지금 {SETTINGS_KO}."
            ),
            Reason::PasswordChanged => format!(
                "인스타그램(페이스북) 계정의 비밀번호가 변경되어 연동이 끊겼습니다. 고객의 메시지를 받을 수 없으니 지금 {SETTINGS_KO}."
            ),
            Reason::Revoked => format!(
                "이 앱의 접근 권한이 해제되어 인스타그램 연동이 끊겼습니다. 고객의 메시지를 받을 수 없으니 지금 {SETTINGS_KO}."
            ),
            Reason::LoginRequired => format!(
                "페이스북에 다시 로그인하거나 계정을 확인해야 해서 연동이 끊겼습니다. 페이스북에 로그인한 뒤 {SETTINGS_KO}."
            ),
            Reason::MessageAccessOff => format!(
                "인스타그램 앱에서 '메시지 접근 허용'이 꺼져 있어 연동이 끊겼습니다. 인스타그램 앱의 설정 → 메시지 및 스토리 답장 → 연결된 도구에서 '메시지 접근 허용'을 켠 뒤 {SETTINGS_KO}."
            ),
        }
    } else {
        let when = format!("{date} {time} UTC");
        match reason {
            Reason::Expiring => format!(
                "Your Instagram account link expires on {when}. Before then, {SETTINGS_EN}; after it, customers' Instagram messages stop arriving."
            ),
            Reason::Expired => format!(
                "Your Instagram account link expired on {when}, and customers' Instagram messages no longer arrive. Now {SETTINGS_EN}."
            ),
            Reason::TokenExpired => format!(
                "The Instagram account's access token expired early, and customers' messages no longer arrive. Now {SETTINGS_EN}."
            ),
            Reason::PasswordChanged => format!(
                "Your Instagram link broke because the account's password was changed; customers' messages no longer arrive. Now {SETTINGS_EN}."
            ),
            Reason::Revoked => format!(
                "Your Instagram link broke because this app's access was removed or revoked; customers' messages no longer arrive. Now {SETTINGS_EN}."
            ),
            Reason::LoginRequired => format!(
                "Your Instagram link broke because Facebook needs you to log in again or confirm the account. Log in to Facebook, then {SETTINGS_EN}."
            ),
            Reason::MessageAccessOff => format!(
                "Your Instagram link broke because \"Allow access to messages\" is off. In the Instagram app, open Settings → Messages and story replies → Connected tools, turn on \"Allow access to messages\", then {SETTINGS_EN}."
            ),
        }
    }
}
