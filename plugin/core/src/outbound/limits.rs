//! What one reply may carry beyond text and attachments, one constant per limit. Sources: the project's reference
//! (sections 15, 16 and 19). Where it marks a figure unconfirmed, the constant says so and takes the figure it
//! names (often Messenger's, the documented twin); a change is then one line.

use crate::time::DAY_MS;

/// Quick replies under one text (Meta: "at most 13").
pub const MAX_QUICK_REPLIES: usize = 13;
/// A quick reply's title, in characters: Meta truncates a longer one, so it is refused instead.
pub const MAX_QUICK_REPLY_TITLE_CHARS: usize = 20;
/// A postback's or quick reply's payload, in characters. Unconfirmed for Instagram: Messenger's 1000.
pub const MAX_PAYLOAD_CHARS: usize = 1000;
/// Cards in one generic template (a carousel).
pub const MAX_CARDS: usize = 10;
/// A card's title, in characters.
pub const MAX_CARD_TITLE_CHARS: usize = 80;
/// A card's subtitle, in characters.
pub const MAX_CARD_SUBTITLE_CHARS: usize = 80;
/// Buttons on one card.
pub const MAX_CARD_BUTTONS: usize = 3;
/// A button's title, in characters. Unconfirmed: the reference's figure.
pub const MAX_BUTTON_TITLE_CHARS: usize = 20;
/// A link on a card or button, in bytes. Meta states none; this bound keeps every request far below the host's
/// 1 MiB body cap.
pub const MAX_URL_BYTES: usize = 2000;
/// A message id to react to. Mids are about 170 characters; this bounds what goes into a request.
pub const MAX_MESSAGE_ID_BYTES: usize = 512;
/// An emoji to react with, in grapheme clusters: one emoji, however many code points it takes.
pub const MAX_REACTION_GRAPHEMES: usize = 1;
/// The reaction name Meta's Facebook Login page documents, accepted beside a single emoji.
pub const REACTION_NAME_LOVE: &str = "love";
/// The metadata of a change of thread control, in characters. Unconfirmed for Instagram: Messenger's 1000.
pub const MAX_HANDOVER_METADATA_CHARS: usize = 1000;
/// How long after the customer's last message a sender action, reaction or thread control may go, by agent or bot
/// alike and never tagged. Unconfirmed: Meta documents no window for them; past 7 days nothing reaches the
/// customer, so nothing is sent.
pub const ACTION_WINDOW_MS: u64 = 7 * DAY_MS;
