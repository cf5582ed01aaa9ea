//! Conversions between the core's domain types and the WIT types. No logic.

use crate::wit::exports::helpdesk::messenger_connector::{expiry, outbound};
use crate::wit::helpdesk::messenger_connector::types;
use messenger_core::{ConnectorError, accounts, events as core_ev, expiry as core_exp, graph, outbound as core_out};

pub fn error_info(error: ConnectorError) -> types::ErrorInfo {
    types::ErrorInfo { code: error.code, message: error.message }
}

pub fn graph_out(g: graph::GraphError) -> types::GraphError {
    types::GraphError { code: g.code, subcode: g.subcode, is_transient: g.is_transient, http_status: g.http_status }
}

pub fn graph_in(g: types::GraphError) -> graph::GraphError {
    graph::GraphError { code: g.code, subcode: g.subcode, is_transient: g.is_transient, http_status: g.http_status }
}

pub fn login_in(login: expiry::LoginKind) -> core_exp::LoginKind {
    match login {
        expiry::LoginKind::Facebook => core_exp::LoginKind::Facebook,
        expiry::LoginKind::Instagram => core_exp::LoginKind::Instagram,
    }
}

pub fn link_in(link: expiry::Link) -> core_exp::Link {
    core_exp::Link {
        now: link.now,
        linked_at: link.linked_at,
        token_expires_at: link.token_expires_at,
        last_notice_at: link.last_notice_at,
        owners: link.owners,
        last_error: link.last_error.map(graph_in),
        last_error_at: link.last_error_at,
        language: link.language,
        login: link.login.map_or(core_exp::LoginKind::Facebook, login_in),
    }
}

pub fn decision_out(d: core_exp::Decision) -> expiry::LinkDecision {
    expiry::LinkDecision {
        state: match d.state {
            core_exp::LinkState::Active => expiry::LinkState::Active,
            core_exp::LinkState::ExpiringSoon => expiry::LinkState::ExpiringSoon,
            core_exp::LinkState::Expired => expiry::LinkState::Expired,
            core_exp::LinkState::Broken => expiry::LinkState::Broken,
        },
        expires_at: d.expires_at,
        notify: d.notify,
        notice: d.notice,
        refresh: d.refresh,
        reason: d.reason.map(|r| r.as_str().to_owned()),
    }
}

pub fn linked_out(a: accounts::LinkedAccount) -> expiry::LinkedAccount {
    expiry::LinkedAccount {
        account_id: a.account_id,
        username: a.username,
        expires_at: a.expires_at,
        relinked: a.relinked,
    }
}

pub fn change_out(c: accounts::SelectionChange) -> expiry::SelectionChange {
    expiry::SelectionChange { added: c.added, kept: c.kept, removed: c.removed, warning: c.warning }
}

pub fn account_out(a: accounts::AccountInfo) -> expiry::AccountInfo {
    expiry::AccountInfo {
        account_id: a.account_id,
        username: a.record.username,
        login: if a.record.instagram_login { expiry::LoginKind::Instagram } else { expiry::LoginKind::Facebook },
        linked_at: a.record.linked_at,
        token_expires_at: a.record.token_expires_at,
        representative: a.representative,
        last_error: a.last_error.map(graph_out),
        last_error_at: a.last_error_at,
    }
}

pub fn media_out(kind: core_out::MediaType) -> outbound::MediaType {
    match kind {
        core_out::MediaType::Image => outbound::MediaType::Image,
        core_out::MediaType::Video => outbound::MediaType::Video,
        core_out::MediaType::Audio => outbound::MediaType::Audio,
        core_out::MediaType::File => outbound::MediaType::File,
    }
}

pub fn plan_out(plan: core_out::SendPlan) -> outbound::SendPlan {
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

pub fn plan_in(plan: outbound::SendPlan) -> core_out::SendPlan {
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

pub fn status_out(status: core_out::DeliveryStatus) -> outbound::DeliveryStatus {
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
            graph: failure.graph.map(graph_out),
        }),
    }
}

pub fn event_out(event: core_ev::InboxEvent) -> types::InboxEvent {
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
