//! The one correspondence between the core's types and the WIT's, written once for both sides of the boundary.
//!
//! Each adapter has its own generated WIT types (wit-bindgen in the component, wasmtime's `bindgen!` in the host),
//! with the same names and shapes. `wit_mappings!` lists, once, which core type is which WIT type and which fields
//! and cases they share; each adapter instantiates it with the paths of its generated modules and gets
//! `Mirror` conversions both ways. A field added to an inbox event is one name in the list below; the WIT, the
//! core type and this list are all that change.

/// A conversion between a core type and its WIT twin (either way round), field by field.
pub trait Mirror<T> {
    /// The same value as the other side's type.
    fn mirror(self) -> T;
}

macro_rules! identity {
    ($($t:ty),*) => { $(impl Mirror<$t> for $t { fn mirror(self) -> $t { self } })* };
}
identity!((), String, bool, u8, u16, u32, u64, i64);

impl<A: Mirror<B>, B> Mirror<Vec<B>> for Vec<A> {
    fn mirror(self) -> Vec<B> {
        self.into_iter().map(Mirror::mirror).collect()
    }
}

impl<A: Mirror<B>, B> Mirror<Option<B>> for Option<A> {
    fn mirror(self) -> Option<B> {
        self.map(Mirror::mirror)
    }
}

impl<A: Mirror<C>, B: Mirror<D>, C, D> Mirror<(C, D)> for (A, B) {
    fn mirror(self) -> (C, D) {
        (self.0.mirror(), self.1.mirror())
    }
}

/// The WIT carries a break reason as its name; an unknown name (never sent by this component) reads as none.
impl Mirror<String> for crate::breaks::Reason {
    fn mirror(self) -> String {
        self.as_str().to_owned()
    }
}

impl Mirror<Option<crate::breaks::Reason>> for Option<String> {
    fn mirror(self) -> Option<crate::breaks::Reason> {
        self.as_deref().and_then(crate::breaks::Reason::from_name)
    }
}

/// `Mirror` both ways between a core type and a WIT type.
///
/// - `record A, B { f, g } renamed { kind => type_ }`: the same fields (the renamed ones core name first);
/// - `enum A, B { X, Y }`: the same unit cases;
/// - `variant A, B { X(_), Y(_) } units { Z }`: cases with one payload each, and unit cases.
#[macro_export]
macro_rules! mirror {
    (record $a:ty, $b:ty { $($f:ident),* $(,)? } $(renamed { $($fa:ident => $fb:ident),* $(,)? })?) => {
        impl $crate::wire::Mirror<$b> for $a {
            fn mirror(self) -> $b {
                type Target = $b;
                Target { $($f: $crate::wire::Mirror::mirror(self.$f),)* $($($fb: $crate::wire::Mirror::mirror(self.$fa),)*)? }
            }
        }
        impl $crate::wire::Mirror<$a> for $b {
            fn mirror(self) -> $a {
                type Target = $a;
                Target { $($f: $crate::wire::Mirror::mirror(self.$f),)* $($($fa: $crate::wire::Mirror::mirror(self.$fb),)*)? }
            }
        }
    };
    (enum $a:ty, $b:ty { $($v:ident),* $(,)? }) => {
        $crate::mirror!(variant $a, $b { } units { $($v),* });
    };
    (variant $a:ty, $b:ty { $($v:ident(_)),* $(,)? } units { $($u:ident),* $(,)? }) => {
        $crate::mirror!(@one_way $a, $b { $($v),* } { $($u),* });
        $crate::mirror!(@one_way $b, $a { $($v),* } { $($u),* });
    };
    (@one_way $from:ty, $to:ty { $($v:ident),* } { $($u:ident),* }) => {
        impl $crate::wire::Mirror<$to> for $from {
            fn mirror(self) -> $to {
                type Target = $to;
                match self {
                    $(Self::$v(payload) => Target::$v($crate::wire::Mirror::mirror(payload)),)*
                    $(Self::$u => Target::$u,)*
                }
            }
        }
    };
}

/// Every WIT type the core has a twin of, for one adapter: `wit_mappings!(types = path, inbound = path, ...)`
/// with the adapter's generated module of each interface.
#[macro_export]
macro_rules! wit_mappings {
    (
        types = $t:path, http = $h:path, storage = $s:path, inbound = $i:path, outbound = $o:path, expiry = $e:path,
        messenger_profile = $p:path $(,)?
    ) => {
        const _: () = {
            use $crate::mirror;
            use $crate::{accounts, events as ev, expiry as ex, graph, inbound as inb, outbound as out, ports, settings};
            use $crate::messenger_profile as prof;
            use $t as t;
            use $h as h;
            use $s as s;
            use $i as i;
            use $o as o;
            use $e as e;
            use $p as p;

            mirror!(record $crate::ConnectorError, t::ErrorInfo { code, message });
            mirror!(record graph::GraphError, t::GraphError { code, subcode, is_transient, http_status });

            mirror!(record ev::InboxEvent, t::InboxEvent {
                account_id, kind, customer, standby, backfill, time_from_delivery,
            });
            mirror!(variant ev::EventKind, t::EventKind {
                CustomerMessage(_), Echo(_), Reaction(_), MessageDeleted(_), MessageEdited(_), Read(_), Postback(_),
                Referral(_), Skipped(_), Handover(_), Comment(_),
            } units {});
            mirror!(record ev::Comment, t::Comment {
                comment_id, parent_id, media, customer_id, username, text, timestamp, live,
            });
            mirror!(record ev::CommentMedia, t::CommentMedia { id, product_type, ad_id, ad_title, original_media_id });
            mirror!(record ev::AdContext, t::AdContext { ad_title, photo_url, video_url, post_id });
            mirror!(record ev::Handover, t::Handover {
                customer_id, timestamp, action, owner_app_id, previous_owner_app_id, requested_owner_app_id, metadata,
            });
            mirror!(enum ev::HandoverAction, t::HandoverAction { Pass, Take, Request });
            mirror!(variant out::Button, t::Button { WebUrl(_), Postback(_) } units {});
            mirror!(record out::LinkButton, t::LinkButton { title, url });
            mirror!(record out::PostbackButton, t::PostbackButton { title, payload });
            mirror!(record ev::Message, t::Message {
                message_id, customer_id, timestamp, text, attachments, story, reply_to, quick_reply,
            });
            mirror!(record ev::Attachment, t::Attachment { raw_type, url, expires_at, title, media_id }
                renamed { kind => type_ });
            mirror!(enum ev::AttachmentType, t::AttachmentType {
                Image, Video, Audio, File, Share, StoryMention, IgReel, IgPost, Unknown,
            });
            mirror!(record ev::StoryRef, t::StoryRef { url, id, expires_at });
            mirror!(record ev::CustomerProfile, t::CustomerProfile {
                username, name, profile_pic, anonymous, profile_pending,
            });
            mirror!(record ev::Reaction, t::Reaction { message_id, customer_id, timestamp, action, reaction, emoji });
            mirror!(enum ev::ReactionAction, t::ReactionAction { React, Unreact });
            mirror!(record ev::MessageRef, t::MessageRef { message_id, customer_id, timestamp });
            mirror!(record ev::MessageEdit, t::MessageEdit { message_id, customer_id, timestamp, text, edit_count });
            mirror!(record ev::ReadReceipt, t::ReadReceipt { message_id, watermark, customer_id, timestamp });
            mirror!(record ev::Postback, t::Postback { message_id, customer_id, timestamp, title, payload });
            mirror!(record ev::Referral, t::Referral {
                customer_id, timestamp, source, referral_type, ad_id, ad_context, message_id,
            } renamed { reference => ref_ });
            mirror!(record ev::Skipped, t::Skipped { reason, message_id, customer_id });
            mirror!(enum ev::SkipReason, t::SkipReason {
                Duplicate, StoryMentionFiltered, ShareFiltered, OwnSendEcho, Unsupported, MalformedItem, OwnComment,
                CommentFiltered,
            });

            mirror!(enum ports::Method, h::Method { Get, Post, Delete });
            mirror!(record ports::HttpRequest, h::Request { method, url, headers, body, timeout_ms });
            mirror!(record ports::HttpResponse, h::Response { status, headers, body });
            mirror!(variant ports::HttpError, h::Error { Denied(_), Connection(_), TooLarge(_), InvalidRequest(_) }
                units { Timeout });
            mirror!(variant ports::StorageError, s::Error { InvalidKey(_), TooLarge(_), Unavailable(_) }
                units { AccessDenied });

            mirror!(record inb::Handshake, i::Handshake { mode, verify_token, challenge });
            mirror!(record inb::Delivery, i::Delivery { headers, body, received_at });
            mirror!(record inb::TranslateOptions, i::TranslateOptions { app_secret, filters });
            mirror!(record settings::Filters, i::Filters { skip_story_mentions, skip_shares, skip_comments });

            mirror!(record out::Reply, o::Reply {
                account_id, customer_id, now, author, last_customer_message_at, human_agent_tag, text, attachments,
                quick_replies, cards, sender_action, reaction, thread_control, comment_id, public_reply,
            });
            mirror!(enum out::Author, o::Author { Agent, Bot });
            mirror!(record out::OutgoingAttachment, o::OutgoingAttachment { url, mime_type, size_bytes, attachment_id });
            mirror!(record out::QuickReply, o::QuickReply { title, payload });
            mirror!(record out::Card, o::Card { title, subtitle, image_url, default_url, buttons });
            mirror!(enum out::SenderAction, o::SenderAction { TypingOn, TypingOff, MarkSeen });
            mirror!(record out::ReactionRequest, o::ReactionRequest { message_id, emoji, remove });
            mirror!(enum out::ThreadAction, o::ThreadAction { Pass, Take, Request });
            mirror!(record out::ThreadControl, o::ThreadControl { action, target_app_id, metadata });
            mirror!(record out::SendPlan, o::SendPlan { account_id, customer_id, messages, tag, window_closes_at });
            mirror!(variant out::PlannedMessage, o::PlannedMessage {
                Text(_), Attachment(_), ReusedAttachment(_), TextWithQuickReplies(_), Cards(_), SenderAction(_),
                Reaction(_), ThreadControl(_), CommentReply(_),
            } units {});
            mirror!(record out::CommentReply, o::CommentReply { comment_id, text, public });
            mirror!(record out::PlannedAttachment, o::PlannedAttachment { url } renamed { kind => type_ });
            mirror!(record out::ReusedAttachment, o::ReusedAttachment { attachment_id } renamed { kind => type_ });
            mirror!(record out::TextWithQuickReplies, o::TextWithQuickReplies { text, quick_replies });
            mirror!(enum out::MediaType, o::MediaType { Image, Video, Audio, File });
            mirror!(enum out::MessageTag, o::MessageTag { HumanAgent });
            mirror!(variant out::DeliveryStatus, o::DeliveryStatus { Sent(_), Failed(_), SentAttachment(_) }
                units { NotAttempted, Done });
            mirror!(record out::SentAttachment, o::SentAttachment { message_id, attachment_id });
            mirror!(record out::SendError, o::SendError { error, retry, graph });
            mirror!(enum out::Retry, o::Retry { Now, Later, Never, Reauthorize });

            mirror!(record ex::Link, e::Link {
                now, linked_at, token_expires_at, last_notice_at, owners, last_error, last_error_at, language, login,
            });
            mirror!(enum ex::LoginKind, e::LoginKind { Facebook, Instagram });
            mirror!(record ex::Decision, e::LinkDecision { state, expires_at, notify, notice, refresh, reason });
            mirror!(enum ex::LinkState, e::LinkState { Active, ExpiringSoon, Expired, Broken });
            mirror!(record accounts::LinkRequest, e::LinkRequest { login, code, redirect_uri, app_id, app_secret, now });
            mirror!(record accounts::LinkedAccount, e::LinkedAccount { account_id, username, expires_at, relinked });
            mirror!(record accounts::SelectionChange, e::SelectionChange { added, kept, removed, warning });
            mirror!(record accounts::AccountInfo, e::AccountInfo {
                account_id, username, login, linked_at, token_expires_at, representative, last_error, last_error_at,
            });

            mirror!(record prof::IceBreaker, p::IceBreaker { question, payload });
            mirror!(record prof::LocalizedIceBreakers, p::LocalizedIceBreakers { locale, questions });
            mirror!(record prof::LocalizedMenu, p::LocalizedMenu { locale, items });
            mirror!(enum prof::ProfileField, p::ProfileField { IceBreakers, PersistentMenu });
            mirror!(variant prof::ProfileSetting, p::ProfileSetting { IceBreakers(_), PersistentMenu(_) } units {});
        };
    };
}

/// The `linking` interface's types (WIT 0.2.0), for one adapter: `linking_wit_mappings!(linking = path)` with the
/// adapter's generated module. Kept apart from `wit_mappings!` so each interface added in 0.2.0 brings its own.
#[macro_export]
macro_rules! linking_wit_mappings {
    (linking = $l:path $(,)?) => {
        const _: () = {
            use $crate::{accounts, mirror};
            use $l as l;

    mirror!(record accounts::Subscription, l::Subscription { account_id, at, fields, error });
        };
    };
}

/// The `history` interface's types (WIT 0.3.0), for one adapter: `history_wit_mappings!(history = path)` with the
/// adapter's generated module.
#[macro_export]
macro_rules! history_wit_mappings {
    (history = $h:path $(,)?) => {
        const _: () = {
            use $crate::{history, mirror};
            use $h as h;

            mirror!(record history::BackfillProgress, h::BackfillProgress {
                account_id, customer_id, state, started_at, updated_at, conversations_total, conversations_done,
                messages_imported, error,
            });
            mirror!(enum history::BackfillState, h::BackfillState { Running, Done, Failed });
            mirror!(record history::BackfillBatch, h::BackfillBatch { events, progress, graph_calls, next_step_after_ms });
        };
    };
}
