//! The component's WIT events as the core's domain events, whose serde form is the CLI contract's JSON.

use crate::bindings::types as w;
use messenger_core::events as c;

pub fn event(event: w::InboxEvent) -> c::InboxEvent {
    let kind = match event.kind {
        w::EventKind::CustomerMessage(m) => c::EventKind::CustomerMessage(message(m)),
        w::EventKind::Echo(m) => c::EventKind::Echo(message(m)),
        w::EventKind::Reaction(r) => c::EventKind::Reaction(c::Reaction {
            message_id: r.message_id,
            customer_id: r.customer_id,
            timestamp: r.timestamp,
            action: match r.action {
                w::ReactionAction::React => c::ReactionAction::React,
                w::ReactionAction::Unreact => c::ReactionAction::Unreact,
            },
            reaction: r.reaction,
            emoji: r.emoji,
        }),
        w::EventKind::MessageDeleted(m) => c::EventKind::MessageDeleted(c::MessageRef {
            message_id: m.message_id,
            customer_id: m.customer_id,
            timestamp: m.timestamp,
        }),
        w::EventKind::MessageEdited(e) => c::EventKind::MessageEdited(c::MessageEdit {
            message_id: e.message_id,
            customer_id: e.customer_id,
            timestamp: e.timestamp,
            text: e.text,
            edit_count: e.edit_count,
        }),
        w::EventKind::Read(r) => c::EventKind::Read(c::ReadReceipt {
            message_id: r.message_id,
            watermark: r.watermark,
            customer_id: r.customer_id,
            timestamp: r.timestamp,
        }),
        w::EventKind::Postback(p) => c::EventKind::Postback(c::Postback {
            message_id: p.message_id,
            customer_id: p.customer_id,
            timestamp: p.timestamp,
            title: p.title,
            payload: p.payload,
        }),
        w::EventKind::Referral(r) => c::EventKind::Referral(c::Referral {
            customer_id: r.customer_id,
            timestamp: r.timestamp,
            source: r.source,
            reference: r.ref_,
            referral_type: r.referral_type,
        }),
        w::EventKind::Skipped(s) => {
            c::EventKind::Skipped(c::Skipped { reason: skip_reason(s.reason), message_id: s.message_id })
        }
    };
    c::InboxEvent { account_id: event.account_id, kind, customer: event.customer.map(profile) }
}

fn profile(p: w::CustomerProfile) -> c::CustomerProfile {
    c::CustomerProfile {
        username: p.username,
        name: p.name,
        profile_pic: p.profile_pic,
        anonymous: p.anonymous,
        profile_pending: p.profile_pending,
    }
}

fn skip_reason(reason: w::SkipReason) -> c::SkipReason {
    match reason {
        w::SkipReason::Duplicate => c::SkipReason::Duplicate,
        w::SkipReason::StoryMentionFiltered => c::SkipReason::StoryMentionFiltered,
        w::SkipReason::ShareFiltered => c::SkipReason::ShareFiltered,
        w::SkipReason::OwnSendEcho => c::SkipReason::OwnSendEcho,
        w::SkipReason::Unsupported => c::SkipReason::Unsupported,
        w::SkipReason::MalformedItem => c::SkipReason::MalformedItem,
    }
}

fn message(m: w::Message) -> c::Message {
    c::Message {
        message_id: m.message_id,
        customer_id: m.customer_id,
        timestamp: m.timestamp,
        text: m.text,
        attachments: m.attachments.into_iter().map(attachment).collect(),
        story: m.story.map(|s| c::StoryRef { url: s.url, id: s.id, expires_at: s.expires_at }),
        reply_to: m.reply_to,
        quick_reply: m.quick_reply,
    }
}

fn attachment(a: w::Attachment) -> c::Attachment {
    let kind = match a.type_ {
        w::AttachmentType::Image => c::AttachmentType::Image,
        w::AttachmentType::Video => c::AttachmentType::Video,
        w::AttachmentType::Audio => c::AttachmentType::Audio,
        w::AttachmentType::File => c::AttachmentType::File,
        w::AttachmentType::Share => c::AttachmentType::Share,
        w::AttachmentType::StoryMention => c::AttachmentType::StoryMention,
        w::AttachmentType::IgReel => c::AttachmentType::IgReel,
        w::AttachmentType::IgPost => c::AttachmentType::IgPost,
        w::AttachmentType::Unknown => c::AttachmentType::Unknown,
    };
    c::Attachment {
        kind,
        raw_type: a.raw_type,
        url: a.url,
        expires_at: a.expires_at,
        title: a.title,
        media_id: a.media_id,
    }
}
