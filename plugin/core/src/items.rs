//! One `messaging[]` item into one inbox event: every kind Meta sends, each delivered once.

use crate::attachments;
use crate::events::{
    AdContext, CustomerProfile, EventKind, Handover, HandoverAction, Message, MessageEdit, MessageRef, Postback,
    Reaction, ReactionAction, ReadReceipt, Referral, SkipReason, Skipped, StoryRef,
};
use crate::keys;
use crate::ports::{Http, Storage, StorageError};
use crate::profile;
use crate::settings::{self, Filters};
use crate::time::{DAY_MS, TimestampMs};
use crate::webhook::{Item, RawEdit, RawHandover, RawMessage, RawPostback, RawReaction, RawRead, RawReferral};
use std::collections::HashMap;

/// An item's event, and the customer it concerns (for the profile).
pub(crate) struct Translated {
    pub kind: EventKind,
    pub customer_id: Option<String>,
    /// The profile to show, when the item brings its own (a comment's username) instead of a Graph lookup.
    pub profile: Option<CustomerProfile>,
    /// The item had no readable time of its own: the delivery's receive time stands in.
    pub time_from_delivery: bool,
    /// Events that come beside this one from the same item (an ad's referral beside its first message).
    pub beside: Vec<EventKind>,
}

impl Translated {
    pub(crate) fn skipped(reason: SkipReason, message_id: Option<String>) -> Self {
        Self::of_kind(EventKind::Skipped(Skipped { reason, message_id, customer_id: None }), None)
    }

    /// A skip that still names its customer, so the helpdesk can place it in the right conversation.
    pub(crate) fn skipped_for(reason: SkipReason, message_id: Option<String>, customer: &str) -> Self {
        let skipped = Skipped { reason, message_id, customer_id: Some(customer.to_owned()) };
        Self::of_kind(EventKind::Skipped(skipped), None)
    }

    pub(crate) fn malformed() -> Self {
        Self::skipped(SkipReason::MalformedItem, None)
    }

    pub(crate) fn of(kind: EventKind, customer_id: &str) -> Self {
        Self::of_kind(kind, Some(customer_id.to_owned()))
    }

    fn of_kind(kind: EventKind, customer_id: Option<String>) -> Self {
        Self { kind, customer_id, profile: None, time_from_delivery: false, beside: Vec::new() }
    }
}

/// Translates the items of one delivery, remembering per-delivery lookups (profiles, filters).
pub(crate) struct Translator<'a, S, H> {
    pub storage: &'a S,
    pub http: &'a H,
    pub received_at: TimestampMs,
    pub filter_override: Option<Filters>,
    profiles: HashMap<(String, String), CustomerProfile>,
    filters: HashMap<String, Filters>,
}

impl<'a, S: Storage, H: Http> Translator<'a, S, H> {
    pub fn new(storage: &'a S, http: &'a H, received_at: TimestampMs, filter_override: Option<Filters>) -> Self {
        Self { storage, http, received_at, filter_override, profiles: HashMap::new(), filters: HashMap::new() }
    }

    pub fn item(&mut self, account_id: &str, item: Item) -> Result<Translated, StorageError> {
        let item_time_missing = item.timestamp.is_none();
        let at = item.timestamp.unwrap_or(self.received_at);
        let mut translated = self.timed_item(account_id, item, at)?;
        translated.time_from_delivery = item_time_missing;
        Ok(translated)
    }

    fn timed_item(&mut self, account_id: &str, item: Item, at: TimestampMs) -> Result<Translated, StorageError> {
        let sender = item.sender.map(|p| p.id).filter(|id| keys::is_valid_id(id));
        let recipient = item.recipient.map(|p| p.id).filter(|id| keys::is_valid_id(id));
        if let Some(read) = item.read {
            return self.read(account_id, sender, at, read);
        }
        let Some(sender) = sender else { return Ok(Translated::malformed()) };
        if let Some(message) = item.message {
            // An echo goes from the business to the customer: the customer is its recipient.
            let customer = if message.is_echo { recipient } else { Some(sender) };
            return match customer {
                Some(customer) => self.message(account_id, &customer, at, message),
                None => Ok(Translated::malformed()),
            };
        }
        if let Some(edit) = item.message_edit {
            return self.edit(account_id, &sender, at, edit);
        }
        if let Some(reaction) = item.reaction {
            return self.reaction(account_id, &sender, at, reaction);
        }
        if let Some(postback) = item.postback {
            return self.postback(account_id, &sender, at, postback);
        }
        if let Some(referral) = item.referral {
            return self.referral(account_id, &sender, at, referral);
        }
        let handovers = [
            (HandoverAction::Pass, item.pass_thread_control),
            (HandoverAction::Take, item.take_thread_control),
            (HandoverAction::Request, item.request_thread_control),
        ];
        if let Some((action, raw)) = handovers.into_iter().find_map(|(action, raw)| Some((action, raw?))) {
            return self.handover(account_id, &sender, at, action, raw);
        }
        Ok(Translated::skipped(SkipReason::Unsupported, None))
    }

    /// The customer's profile, once per delivery.
    pub fn profile(&mut self, account_id: &str, customer_id: &str) -> Result<CustomerProfile, StorageError> {
        let memo_key = (account_id.to_owned(), customer_id.to_owned());
        if let Some(known) = self.profiles.get(&memo_key) {
            return Ok(known.clone());
        }
        let found = profile::lookup(self.storage, self.http, account_id, customer_id, self.received_at)?;
        self.profiles.insert(memo_key, found.clone());
        Ok(found)
    }

    fn message(
        &mut self,
        account: &str,
        customer: &str,
        at: TimestampMs,
        m: RawMessage,
    ) -> Result<Translated, StorageError> {
        if m.mid.is_empty() {
            return Ok(Translated::malformed());
        }
        if m.is_deleted {
            let unsent = MessageRef { message_id: m.mid, customer_id: customer.to_owned(), timestamp: at };
            let key = keys::seen_event(&["deleted", account, &unsent.message_id]);
            return self.once(&key, EventKind::MessageDeleted(unsent), customer);
        }
        if let Some(reason) = self.first_sighting(&m)? {
            return Ok(Translated::skipped(reason, Some(m.mid)));
        }
        if m.is_unsupported {
            return Ok(Translated::skipped_for(SkipReason::Unsupported, Some(m.mid), customer));
        }
        let attachments = attachments::translate(m.attachments, at);
        let (reply_to, story) = match m.reply_to {
            Some(reply) => (
                reply.mid,
                reply
                    .story
                    .and_then(|s| Some(StoryRef { url: s.url?, id: s.id, expires_at: at.saturating_add(DAY_MS) })),
            ),
            None => (None, None),
        };
        if m.text.is_none() && attachments.is_empty() && story.is_none() {
            // View-once media and the like: nothing apps can show, but the customer sent something.
            return Ok(Translated::skipped_for(SkipReason::Unsupported, Some(m.mid), customer));
        }
        if !m.is_echo {
            let filters = self.filters(account)?;
            if filters.skip_story_mentions && attachments::is_story_mention(&attachments) {
                return Ok(Translated::skipped_for(SkipReason::StoryMentionFiltered, Some(m.mid), customer));
            }
            if filters.skip_shares && attachments::is_share(&attachments) {
                return Ok(Translated::skipped_for(SkipReason::ShareFiltered, Some(m.mid), customer));
            }
        }
        let message = Message {
            message_id: m.mid,
            customer_id: customer.to_owned(),
            timestamp: at,
            text: m.text,
            attachments,
            story,
            reply_to,
            quick_reply: m.quick_reply.map(|q| q.payload),
        };
        // An ad-started chat's first message carries the ad's referral: an event beside the message.
        let referral = m.referral.filter(|_| !m.is_echo).map(|r| {
            EventKind::Referral(Referral {
                message_id: Some(message.message_id.clone()),
                ..referral_of(customer, at, r)
            })
        });
        let kind = if m.is_echo { EventKind::Echo(message) } else { EventKind::CustomerMessage(message) };
        Ok(Translated { beside: referral.into_iter().collect(), ..Translated::of(kind, customer) })
    }

    fn edit(&mut self, account: &str, customer: &str, at: TimestampMs, e: RawEdit) -> Result<Translated, StorageError> {
        let count = e.num_edit.as_deref().unwrap_or("");
        let key = keys::seen_event(&["edit", account, &e.mid, count, e.text.as_deref().unwrap_or("")]);
        let edit_count = count.parse().ok();
        let edit = MessageEdit {
            message_id: e.mid,
            customer_id: customer.to_owned(),
            timestamp: at,
            text: e.text,
            edit_count,
        };
        self.once(&key, EventKind::MessageEdited(edit), customer)
    }

    fn reaction(
        &mut self,
        account: &str,
        customer: &str,
        at: TimestampMs,
        r: RawReaction,
    ) -> Result<Translated, StorageError> {
        let action = match r.action.as_str() {
            "react" => ReactionAction::React,
            "unreact" => ReactionAction::Unreact,
            _ => return Ok(Translated::malformed()),
        };
        let stamp = at.to_string();
        let name = r.reaction.as_deref().unwrap_or("");
        let key = keys::seen_event(&["reaction", account, customer, &r.mid, &r.action, name, &stamp]);
        let reaction = Reaction {
            message_id: r.mid,
            customer_id: customer.to_owned(),
            timestamp: at,
            action,
            reaction: r.reaction,
            emoji: r.emoji,
        };
        self.once(&key, EventKind::Reaction(reaction), customer)
    }

    /// A read may come with no sender at all (seen in real traffic): it is still reported, for its message.
    fn read(
        &mut self,
        account: &str,
        customer: Option<String>,
        at: TimestampMs,
        r: RawRead,
    ) -> Result<Translated, StorageError> {
        if r.mid.is_none() && r.watermark.is_none() {
            return Ok(Translated::malformed());
        }
        let (stamp, watermark) = (at.to_string(), r.watermark.map(|w| w.to_string()).unwrap_or_default());
        let who = customer.as_deref().unwrap_or("");
        let key = keys::seen_event(&["read", account, who, r.mid.as_deref().unwrap_or(""), &watermark, &stamp]);
        let read =
            ReadReceipt { message_id: r.mid, watermark: r.watermark, customer_id: customer.clone(), timestamp: at };
        let mut translated = self.once(&key, EventKind::Read(read), who)?;
        translated.customer_id = translated.customer_id.filter(|_| customer.is_some());
        Ok(translated)
    }

    fn postback(
        &mut self,
        account: &str,
        customer: &str,
        at: TimestampMs,
        p: RawPostback,
    ) -> Result<Translated, StorageError> {
        let stamp = at.to_string();
        let key =
            keys::seen_event(&["postback", account, customer, p.mid.as_deref().unwrap_or(""), &p.payload, &stamp]);
        let postback = Postback {
            message_id: p.mid,
            customer_id: customer.to_owned(),
            timestamp: at,
            title: p.title,
            payload: p.payload,
        };
        self.once(&key, EventKind::Postback(postback), customer)
    }

    fn referral(
        &mut self,
        account: &str,
        customer: &str,
        at: TimestampMs,
        r: RawReferral,
    ) -> Result<Translated, StorageError> {
        let stamp = at.to_string();
        let (reference, kind) = (r.reference.as_deref().unwrap_or(""), r.kind.as_deref().unwrap_or(""));
        let key = keys::seen_event(&["referral", account, customer, &r.source, reference, kind, &stamp]);
        self.once(&key, EventKind::Referral(referral_of(customer, at, r)), customer)
    }

    /// Which app holds the conversation now: pass and take name the new owner; a request changes none.
    fn handover(
        &mut self,
        account: &str,
        customer: &str,
        at: TimestampMs,
        action: HandoverAction,
        h: RawHandover,
    ) -> Result<Translated, StorageError> {
        let owner = match action {
            HandoverAction::Pass | HandoverAction::Take => h.new_owner_app_id,
            HandoverAction::Request => None,
        };
        let (stamp, name) = (at.to_string(), format!("{action:?}"));
        let part = |id: &Option<String>| id.clone().unwrap_or_default();
        let key = keys::seen_event(&[
            "handover",
            account,
            customer,
            &name,
            &part(&h.previous_owner_app_id),
            &part(&owner),
            &part(&h.requested_owner_app_id),
            &stamp,
        ]);
        let handover = Handover {
            customer_id: customer.to_owned(),
            timestamp: at,
            action,
            owner_app_id: owner,
            previous_owner_app_id: h.previous_owner_app_id,
            requested_owner_app_id: h.requested_owner_app_id,
            metadata: h.metadata,
        };
        self.once(&key, EventKind::Handover(handover), customer)
    }

    /// The event the first time its key is seen, `skipped` / `duplicate` after.
    fn once(&self, key: &str, kind: EventKind, customer: &str) -> Result<Translated, StorageError> {
        if self.storage.insert_if_absent(key, keys::SEEN_INBOUND)? {
            return Ok(Translated::of(kind, customer));
        }
        let message_id = match &kind {
            EventKind::MessageDeleted(m) => Some(m.message_id.clone()),
            EventKind::MessageEdited(e) => Some(e.message_id.clone()),
            EventKind::Reaction(r) => Some(r.message_id.clone()),
            EventKind::Read(r) => r.message_id.clone(),
            EventKind::Postback(p) => p.message_id.clone(),
            _ => None,
        };
        Ok(Translated::skipped(SkipReason::Duplicate, message_id))
    }

    /// Marks the message as seen, atomically; the reason to skip it when it was seen before.
    fn first_sighting(&self, message: &RawMessage) -> Result<Option<SkipReason>, StorageError> {
        let key = keys::seen_message(&message.mid);
        if self.storage.insert_if_absent(&key, keys::SEEN_INBOUND)? {
            return Ok(None);
        }
        let sent_by_us = message.is_echo && self.storage.get(&key)?.as_deref() == Some(keys::SEEN_SENT);
        Ok(Some(if sent_by_us { SkipReason::OwnSendEcho } else { SkipReason::Duplicate }))
    }

    pub(crate) fn filters(&mut self, account: &str) -> Result<Filters, StorageError> {
        if let Some(forced) = self.filter_override {
            return Ok(forced);
        }
        if let Some(known) = self.filters.get(account) {
            return Ok(*known);
        }
        let stored = settings::filters(self.storage, account)?;
        self.filters.insert(account.to_owned(), stored);
        Ok(stored)
    }
}

/// A referral as the event shows it: the link's or ad's source, and the ad with its context when it came from one.
fn referral_of(customer: &str, at: TimestampMs, r: RawReferral) -> Referral {
    let ad_context = r.ads_context_data.map(|c| AdContext {
        ad_title: c.ad_title,
        photo_url: c.photo_url,
        video_url: c.video_url,
        post_id: c.post_id,
    });
    Referral {
        customer_id: customer.to_owned(),
        timestamp: at,
        source: r.source,
        reference: r.reference,
        referral_type: r.kind,
        ad_id: r.ad_id,
        ad_context,
        message_id: None,
    }
}
