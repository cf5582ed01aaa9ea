//! Attachments as links: never downloaded, never re-hosted, never dropped for an unknown type.

use crate::events::{Attachment, AttachmentType};
use crate::time::{DAY_MS, TimestampMs};
use crate::webhook::RawAttachment;

/// A message's attachments, in Meta's order. A legacy `share` that repeats an `ig_post` of the same media (Meta
/// sent both from Nov 2025 to Feb 2026) is collapsed into the `ig_post`; view-once media, which has no link, is
/// left out.
pub(crate) fn translate(raw: Vec<RawAttachment>, timestamp: TimestampMs) -> Vec<Attachment> {
    let posts: Vec<String> = raw
        .iter()
        .filter(|a| a.kind == "ig_post")
        .filter_map(|a| a.payload.as_ref()?.ig_post_media_id.clone())
        .collect();
    raw.into_iter()
        .filter(|a| a.kind != "ephemeral")
        .filter(|a| {
            let repeats_a_post =
                a.payload.as_ref().and_then(|p| p.ig_post_media_id.as_ref()).is_some_and(|id| posts.contains(id));
            !(a.kind == "share" && repeats_a_post)
        })
        .map(|a| one(a, timestamp))
        .collect()
}

fn one(raw: RawAttachment, timestamp: TimestampMs) -> Attachment {
    let kind = match raw.kind.as_str() {
        "image" => AttachmentType::Image,
        "video" => AttachmentType::Video,
        "audio" => AttachmentType::Audio,
        "file" => AttachmentType::File,
        "share" => AttachmentType::Share,
        "story_mention" => AttachmentType::StoryMention,
        "ig_reel" => AttachmentType::IgReel,
        "ig_post" => AttachmentType::IgPost,
        _ => AttachmentType::Unknown,
    };
    // A story's link dies with the story, 24 h after it was shared with the business.
    let is_story = matches!(kind, AttachmentType::StoryMention) || raw.kind == "ig_story";
    let payload = raw.payload.unwrap_or_default();
    Attachment {
        kind,
        url: payload.url.or(payload.story_media_url),
        expires_at: is_story.then(|| timestamp.saturating_add(DAY_MS)),
        title: payload.title,
        media_id: payload.ig_post_media_id.or(payload.reel_video_id).or(payload.story_media_id),
        raw_type: raw.kind,
    }
}

/// Whether a message is a share (post, reel or legacy share), for the account's share filter.
pub(crate) fn is_share(attachments: &[Attachment]) -> bool {
    attachments
        .iter()
        .any(|a| matches!(a.kind, AttachmentType::Share | AttachmentType::IgPost | AttachmentType::IgReel))
}

/// Whether a message is a story mention, for the account's story-mention filter.
pub(crate) fn is_story_mention(attachments: &[Attachment]) -> bool {
    attachments.iter().any(|a| a.kind == AttachmentType::StoryMention)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(json: &str) -> Vec<RawAttachment> {
        serde_json::from_str(json).unwrap()
    }

    #[test]
    fn collapses_a_legacy_share_into_its_ig_post() {
        let both = raw(
            r#"[{"type":"share","payload":{"ig_post_media_id":"7","url":"a"}},{"type":"ig_post","payload":{"ig_post_media_id":"7","url":"b","title":"t"}}]"#,
        );
        let out = translate(both, 0);
        assert_eq!(out.len(), 1);
        assert_eq!(
            (out[0].kind, out[0].url.as_deref(), out[0].media_id.as_deref()),
            (AttachmentType::IgPost, Some("b"), Some("7"))
        );
        let other_media = raw(
            r#"[{"type":"share","payload":{"ig_post_media_id":"8"}},{"type":"ig_post","payload":{"ig_post_media_id":"7"}}]"#,
        );
        assert_eq!(translate(other_media, 0).len(), 2);
    }

    #[test]
    fn unknown_types_are_kept_with_their_name_and_link() {
        let out = translate(
            raw(r#"[{"type":"ig_story","payload":{"story_media_id":"5","story_media_url":"u"}},{"type":"template"}]"#),
            1_000,
        );
        assert_eq!(
            (out[0].kind, out[0].raw_type.as_str(), out[0].url.as_deref()),
            (AttachmentType::Unknown, "ig_story", Some("u"))
        );
        assert_eq!(out[0].expires_at, Some(1_000 + DAY_MS));
        assert_eq!(
            (out[1].kind, out[1].raw_type.as_str(), out[1].url.as_deref()),
            (AttachmentType::Unknown, "template", None)
        );
    }

    #[test]
    fn view_once_media_has_no_link_and_is_left_out() {
        assert!(translate(raw(r#"[{"type":"ephemeral"}]"#), 0).is_empty());
    }
}
