//! The component: WIT bindings over `messenger-core`. Conversions only; every decision lives in the core.

mod wit {
    wit_bindgen::generate!({ world: "messenger-connector", path: "../wit" });
}

use messenger_core::{ConnectorError, events as core_ev, inbound as core_in, outbound as core_out, ports, settings};
use wit::exports::helpdesk::messenger_connector::{expiry, inbound, outbound};
use wit::helpdesk::messenger_connector::{http, storage, types};

struct Component;
wit::export!(Component with_types_in wit);

/// The `storage` import, as the core's port.
struct HostStorage;

impl ports::Storage for HostStorage {
    fn get(&self, key: &str) -> Result<Option<Vec<u8>>, ports::StorageError> {
        storage::get(key).map_err(storage_error)
    }
    fn set(&self, key: &str, value: &[u8]) -> Result<(), ports::StorageError> {
        storage::set(key, value).map_err(storage_error)
    }
    fn delete(&self, key: &str) -> Result<(), ports::StorageError> {
        storage::delete(key).map_err(storage_error)
    }
    fn insert_if_absent(&self, key: &str, value: &[u8]) -> Result<bool, ports::StorageError> {
        storage::insert_if_absent(key, value).map_err(storage_error)
    }
    fn compare_and_swap(&self, key: &str, expected: Option<&[u8]>, new: &[u8]) -> Result<bool, ports::StorageError> {
        storage::compare_and_swap(key, expected, new).map_err(storage_error)
    }
}

fn storage_error(error: storage::Error) -> ports::StorageError {
    match error {
        storage::Error::InvalidKey(why) => ports::StorageError::InvalidKey(why),
        storage::Error::TooLarge(why) => ports::StorageError::TooLarge(why),
        storage::Error::AccessDenied => ports::StorageError::AccessDenied,
        storage::Error::Unavailable(why) => ports::StorageError::Unavailable(why),
    }
}

/// The `http` import, as the core's port.
struct HostHttp;

impl ports::Http for HostHttp {
    fn send(&self, request: &ports::HttpRequest) -> Result<ports::HttpResponse, ports::HttpError> {
        let method = match request.method {
            ports::Method::Get => http::Method::Get,
            ports::Method::Post => http::Method::Post,
            ports::Method::Delete => http::Method::Delete,
        };
        let wire = http::Request {
            method,
            url: request.url.clone(),
            headers: request.headers.clone(),
            body: request.body.clone(),
            timeout_ms: request.timeout_ms,
        };
        match http::send(&wire) {
            Ok(r) => Ok(ports::HttpResponse { status: r.status, headers: r.headers, body: r.body }),
            Err(http::Error::Denied(why)) => Err(ports::HttpError::Denied(why)),
            Err(http::Error::Timeout) => Err(ports::HttpError::Timeout),
            Err(http::Error::Connection(why)) => Err(ports::HttpError::Connection(why)),
            Err(http::Error::TooLarge(n)) => Err(ports::HttpError::TooLarge(n)),
            Err(http::Error::InvalidRequest(why)) => Err(ports::HttpError::InvalidRequest(why)),
        }
    }
}

fn error_info(error: ConnectorError) -> types::ErrorInfo {
    types::ErrorInfo { code: error.code, message: error.message }
}

fn invalid_account(account_id: &str) -> Result<(), types::ErrorInfo> {
    if messenger_core::keys::is_valid_id(account_id) {
        Ok(())
    } else {
        Err(error_info(ConnectorError::new(
            messenger_core::codes::INVALID_ACCOUNT_ID,
            "an account id is 1 to 128 letters, digits, `_` or `-`",
        )))
    }
}

fn storage_failed(error: ports::StorageError) -> types::ErrorInfo {
    error_info(ConnectorError::new(messenger_core::codes::STORAGE_UNAVAILABLE, format!("storage failed: {error:?}")))
}

impl inbound::Guest for Component {
    fn verify_subscription(request: inbound::Handshake, expected_token: String) -> Result<String, types::ErrorInfo> {
        core_in::verify_subscription(
            request.mode.as_deref(),
            request.verify_token.as_deref(),
            request.challenge.as_deref(),
            &expected_token,
        )
        .map_err(error_info)
    }

    fn translate(
        delivery: inbound::Delivery,
        options: inbound::TranslateOptions,
    ) -> Result<Vec<types::InboxEvent>, types::ErrorInfo> {
        let delivery =
            core_in::Delivery { headers: &delivery.headers, body: &delivery.body, received_at: delivery.received_at };
        let options =
            core_in::TranslateOptions { app_secret: &options.app_secret, filters: options.filters.map(filters_in) };
        let events = core_in::translate(&delivery, &options, &HostStorage, &HostHttp).map_err(error_info)?;
        Ok(events.into_iter().map(event_out).collect())
    }

    fn get_filters(account_id: String) -> Result<inbound::Filters, types::ErrorInfo> {
        invalid_account(&account_id)?;
        let stored = settings::filters(&HostStorage, &account_id).map_err(storage_failed)?;
        Ok(inbound::Filters { skip_story_mentions: stored.skip_story_mentions, skip_shares: stored.skip_shares })
    }

    fn set_filters(account_id: String, filters: inbound::Filters) -> Result<(), types::ErrorInfo> {
        invalid_account(&account_id)?;
        settings::set_filters(&HostStorage, &account_id, filters_in(filters)).map_err(storage_failed)
    }
}

fn filters_in(f: inbound::Filters) -> settings::Filters {
    settings::Filters { skip_story_mentions: f.skip_story_mentions, skip_shares: f.skip_shares }
}

/// Exports whose behaviour a later version provides answer so, by name.
fn not_yet(feature: &str) -> types::ErrorInfo {
    error_info(ConnectorError::not_yet_available(feature))
}

impl outbound::Guest for Component {
    fn validate(reply: outbound::Reply) -> Result<outbound::SendPlan, Vec<types::ErrorInfo>> {
        let reply = core_out::Reply {
            account_id: reply.account_id,
            customer_id: reply.customer_id,
            now: reply.now,
            author: match reply.author {
                outbound::Author::Agent => core_out::Author::Agent,
                outbound::Author::Bot => core_out::Author::Bot,
            },
            last_customer_message_at: reply.last_customer_message_at,
            human_agent_tag: reply.human_agent_tag,
            text: reply.text,
            attachments: reply
                .attachments
                .into_iter()
                .map(|a| core_out::OutgoingAttachment { url: a.url, mime_type: a.mime_type, size_bytes: a.size_bytes })
                .collect(),
        };
        core_out::validate(&reply).map(plan_out).map_err(|errors| errors.into_iter().map(error_info).collect())
    }

    fn send(plan: outbound::SendPlan, now: u64) -> Result<Vec<outbound::DeliveryStatus>, types::ErrorInfo> {
        let statuses = core_out::send(&plan_in(plan), now, &HostStorage, &HostHttp).map_err(error_info)?;
        Ok(statuses.into_iter().map(status_out).collect())
    }
}

fn media_out(kind: core_out::MediaType) -> outbound::MediaType {
    match kind {
        core_out::MediaType::Image => outbound::MediaType::Image,
        core_out::MediaType::Video => outbound::MediaType::Video,
        core_out::MediaType::Audio => outbound::MediaType::Audio,
        core_out::MediaType::File => outbound::MediaType::File,
    }
}

fn plan_out(plan: core_out::SendPlan) -> outbound::SendPlan {
    let messages = plan
        .messages
        .into_iter()
        .map(|m| match m {
            core_out::PlannedMessage::Text(text) => outbound::PlannedMessage::Text(text),
            core_out::PlannedMessage::Attachment { kind, url } => {
                outbound::PlannedMessage::Attachment(outbound::PlannedAttachment { type_: media_out(kind), url })
            }
        })
        .collect();
    outbound::SendPlan {
        account_id: plan.account_id,
        customer_id: plan.customer_id,
        messages,
        tag: plan.tag.map(|core_out::MessageTag::HumanAgent| outbound::MessageTag::HumanAgent),
        window_closes_at: plan.window_closes_at,
    }
}

fn plan_in(plan: outbound::SendPlan) -> core_out::SendPlan {
    let messages = plan
        .messages
        .into_iter()
        .map(|m| match m {
            outbound::PlannedMessage::Text(text) => core_out::PlannedMessage::Text(text),
            outbound::PlannedMessage::Attachment(a) => core_out::PlannedMessage::Attachment {
                kind: match a.type_ {
                    outbound::MediaType::Image => core_out::MediaType::Image,
                    outbound::MediaType::Video => core_out::MediaType::Video,
                    outbound::MediaType::Audio => core_out::MediaType::Audio,
                    outbound::MediaType::File => core_out::MediaType::File,
                },
                url: a.url,
            },
        })
        .collect();
    core_out::SendPlan {
        account_id: plan.account_id,
        customer_id: plan.customer_id,
        messages,
        tag: plan.tag.map(|outbound::MessageTag::HumanAgent| core_out::MessageTag::HumanAgent),
        window_closes_at: plan.window_closes_at,
    }
}

fn status_out(status: core_out::DeliveryStatus) -> outbound::DeliveryStatus {
    match status {
        core_out::DeliveryStatus::Sent(mid) => outbound::DeliveryStatus::Sent(mid),
        core_out::DeliveryStatus::NotAttempted => outbound::DeliveryStatus::NotAttempted,
        core_out::DeliveryStatus::Failed(failure) => outbound::DeliveryStatus::Failed(outbound::SendError {
            error: error_info(failure.error),
            retry: match failure.retry {
                core_out::Retry::Now => outbound::Retry::Now,
                core_out::Retry::Later => outbound::Retry::Later,
                core_out::Retry::Never => outbound::Retry::Never,
                core_out::Retry::Reauthorize => outbound::Retry::Reauthorize,
            },
            graph: failure.graph.map(|g| types::GraphError {
                code: g.code,
                subcode: g.subcode,
                is_transient: g.is_transient,
                http_status: g.http_status,
            }),
        }),
    }
}

impl expiry::Guest for Component {
    fn evaluate(_: expiry::Link) -> Result<expiry::LinkDecision, types::ErrorInfo> {
        Err(not_yet("expiry.evaluate"))
    }
    fn refresh(_: String, _: u64) -> Result<u64, types::ErrorInfo> {
        Err(not_yet("expiry.refresh"))
    }
    fn link_accounts(_: expiry::LinkRequest) -> Result<Vec<expiry::LinkedAccount>, types::ErrorInfo> {
        Err(not_yet("expiry.link-accounts"))
    }
    fn plan_selection(_: Vec<String>) -> Result<expiry::SelectionChange, types::ErrorInfo> {
        Err(not_yet("expiry.plan-selection"))
    }
    fn apply_selection(_: Vec<String>) -> Result<expiry::SelectionChange, types::ErrorInfo> {
        Err(not_yet("expiry.apply-selection"))
    }
    fn set_representative(_: Option<String>) -> Result<(), types::ErrorInfo> {
        Err(not_yet("expiry.set-representative"))
    }
}

fn event_out(event: core_ev::InboxEvent) -> types::InboxEvent {
    use core_ev::EventKind as K;
    use types::EventKind as W;
    let kind = match event.kind {
        K::CustomerMessage(m) => W::CustomerMessage(message_out(m)),
        K::Echo(m) => W::Echo(message_out(m)),
        K::Reaction(r) => W::Reaction(types::Reaction {
            message_id: r.message_id,
            customer_id: r.customer_id,
            timestamp: r.timestamp,
            action: match r.action {
                core_ev::ReactionAction::React => types::ReactionAction::React,
                core_ev::ReactionAction::Unreact => types::ReactionAction::Unreact,
            },
            reaction: r.reaction,
            emoji: r.emoji,
        }),
        K::MessageDeleted(m) => W::MessageDeleted(types::MessageRef {
            message_id: m.message_id,
            customer_id: m.customer_id,
            timestamp: m.timestamp,
        }),
        K::MessageEdited(e) => W::MessageEdited(types::MessageEdit {
            message_id: e.message_id,
            customer_id: e.customer_id,
            timestamp: e.timestamp,
            text: e.text,
            edit_count: e.edit_count,
        }),
        K::Read(r) => W::Read(types::ReadReceipt {
            message_id: r.message_id,
            watermark: r.watermark,
            customer_id: r.customer_id,
            timestamp: r.timestamp,
        }),
        K::Postback(p) => W::Postback(types::Postback {
            message_id: p.message_id,
            customer_id: p.customer_id,
            timestamp: p.timestamp,
            title: p.title,
            payload: p.payload,
        }),
        K::Referral(r) => W::Referral(types::Referral {
            customer_id: r.customer_id,
            timestamp: r.timestamp,
            source: r.source,
            ref_: r.reference,
            referral_type: r.referral_type,
        }),
        K::Skipped(s) => W::Skipped(types::Skipped { reason: skip_reason_out(s.reason), message_id: s.message_id }),
    };
    types::InboxEvent { account_id: event.account_id, kind, customer: event.customer.map(profile_out) }
}

fn profile_out(p: core_ev::CustomerProfile) -> types::CustomerProfile {
    types::CustomerProfile {
        username: p.username,
        name: p.name,
        profile_pic: p.profile_pic,
        anonymous: p.anonymous,
        profile_pending: p.profile_pending,
    }
}

fn skip_reason_out(reason: core_ev::SkipReason) -> types::SkipReason {
    use core_ev::SkipReason as K;
    use types::SkipReason as W;
    match reason {
        K::Duplicate => W::Duplicate,
        K::StoryMentionFiltered => W::StoryMentionFiltered,
        K::ShareFiltered => W::ShareFiltered,
        K::OwnSendEcho => W::OwnSendEcho,
        K::Unsupported => W::Unsupported,
        K::MalformedItem => W::MalformedItem,
    }
}

fn message_out(m: core_ev::Message) -> types::Message {
    types::Message {
        message_id: m.message_id,
        customer_id: m.customer_id,
        timestamp: m.timestamp,
        text: m.text,
        attachments: m.attachments.into_iter().map(attachment_out).collect(),
        story: m.story.map(|s| types::StoryRef { url: s.url, id: s.id, expires_at: s.expires_at }),
        reply_to: m.reply_to,
        quick_reply: m.quick_reply,
    }
}

fn attachment_out(a: core_ev::Attachment) -> types::Attachment {
    use core_ev::AttachmentType as K;
    use types::AttachmentType as W;
    let kind = match a.kind {
        K::Image => W::Image,
        K::Video => W::Video,
        K::Audio => W::Audio,
        K::File => W::File,
        K::Share => W::Share,
        K::StoryMention => W::StoryMention,
        K::IgReel => W::IgReel,
        K::IgPost => W::IgPost,
        K::Unknown => W::Unknown,
    };
    types::Attachment {
        type_: kind,
        raw_type: a.raw_type,
        url: a.url,
        expires_at: a.expires_at,
        title: a.title,
        media_id: a.media_id,
    }
}
