//! The generated world: what 10,000 remote accounts posted, as rows of the
//! server's tables, made by pure functions of a status's sequence number.
//!
//! Status `n` (0, 1, 2…) is posted at `t0 + n × STEP_MS` plus a jitter
//! below one step, so ids (Snowflake-style, on the node number [`NODE`],
//! which no server process leases) increase with `n` and a database grows
//! by appending newer statuses. Everything about status `n` — author,
//! kind, visibility, text, mentions, tags, attachments — comes from a hash
//! of `n`, so a batch can be generated on its own, and later batches refer
//! to earlier ones (replies, reblogs) without reading the database:
//!
//! * authors are skewed (the product of two uniform draws: the busiest 10 %
//!   of accounts post about a third of all statuses), scattered over the
//!   account numbers by a permutation;
//! * one status in ten is a reblog (an empty row with `reblog_of_id`) of a
//!   public original from the previous 10,000 statuses, each original
//!   reblogged at most once (so `(account, reblog_of)` stays unique);
//! * 18 % of the others are replies to one of the 300 statuses before
//!   them, mentioning the parent's author, at least as private as their
//!   parent;
//! * visibility: 78 % public, 12 % unlisted, 7 % private, 3 % direct
//!   (which always mention someone);
//! * 6 % mention one to three other accounts, 0.2 % mention `target`
//!   (who is then notified, and gets the status in the home feed when it
//!   is private or direct, as fan-out addresses it);
//! * 12 % have one to four attachments (images, some videos and audio,
//!   with sizes, blurhashes and often a description), 8 % one or two
//!   hashtags out of 400, 3 % a content warning; languages vary;
//! * text is 20 to 420 characters of prose in `<p>` with h-card mentions,
//!   hashtag links and sometimes a link.
//!
//! Counters are those the server keeps: `replies_count` and
//! `reblogs_count` count the children generated so far (see
//! [`generate`]'s `end`), and accounts' `statuses_count` and
//! `last_status_at` are summed per batch.
//!
//! Not generated: polls (the schema has none yet), favourites, edits, and
//! the ids of received activities (kept 14 days for deduplication; no read
//! path looks at them).

use std::collections::HashMap;

use perch_core::id::EPOCH_MILLIS;

/// The id node number of generated rows (the server leases from 0 up).
pub const NODE: i64 = 1023;
/// Milliseconds between consecutive statuses.
pub const STEP_MS: i64 = 400;
/// Reblogs point into the previous block of `10 × REBLOG_BLOCK` statuses.
const REBLOG_BLOCK: usize = 1000;
/// A unit modulo [`REBLOG_BLOCK`]: the permutation that picks originals.
const REBLOG_MULTIPLIER: usize = 379;
/// Its inverse modulo [`REBLOG_BLOCK`] (379 × 219 = 83,001).
const REBLOG_INVERSE: usize = 219;
/// Replies answer one of this many statuses before them.
const REPLY_WINDOW: usize = 300;
/// A unit modulo any account count not divisible by 7919: scatters the
/// busiest ranks over account numbers.
const AUTHOR_SCATTER: usize = 7919;
/// Distinct hashtags.
pub const TAGS: usize = 400;

/// An account a status mentions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mentioned {
    Remote(usize),
    Target,
}

/// The remote accounts, the local `target`, and where statuses start.
pub struct World {
    /// The origin serving the remote actors: `http://127.0.0.1:PORT`.
    pub origin: String,
    /// The server under test: `http://127.0.0.1:PORT`.
    pub server: String,
    /// The local account whose home timeline is read.
    pub target_id: i64,
    pub accounts: usize,
    /// `target` follows accounts `0..followed`.
    pub followed: usize,
    /// When status 0 was posted (Unix milliseconds).
    pub t0: i64,
    /// When the accounts were last fetched (Unix milliseconds).
    pub fetched_at: i64,
}

/// A Snowflake id at `millis` with sequence number `seq`.
pub fn snowflake(millis: i64, seq: i64) -> i64 {
    ((millis - EPOCH_MILLIS) << 22) | (NODE << 12) | seq
}

impl World {
    pub fn domain(&self) -> &str {
        self.origin
            .strip_prefix("http://")
            .or_else(|| self.origin.strip_prefix("https://"))
            .unwrap_or(&self.origin)
    }

    /// When remote account `k` was first seen: a day before status 0.
    pub fn account_created_at(&self, k: usize) -> i64 {
        self.t0 - 86_400_000 + k as i64 * 10
    }

    pub fn account_id(&self, k: usize) -> i64 {
        snowflake(self.account_created_at(k), 0)
    }

    pub fn actor_uri(&self, k: usize) -> String {
        format!("{}/users/a{k}", self.origin)
    }

    /// The account that posted status `n`.
    pub fn author(&self, n: usize) -> usize {
        let a = self.accounts as u64;
        let rank = (hash(n, 1) % a) * (hash(n, 2) % a) / a;
        (rank as usize * AUTHOR_SCATTER) % self.accounts
    }

    pub fn posted_at(&self, n: usize) -> i64 {
        self.t0 + n as i64 * STEP_MS + (hash(n, 3) % STEP_MS as u64) as i64
    }

    pub fn status_id(&self, n: usize) -> i64 {
        snowflake(self.posted_at(n), 0)
    }

    /// The id of a status at `millis` (a bound for `max_id`).
    pub fn id_at(&self, millis: i64) -> i64 {
        snowflake(millis, 0)
    }

    fn remote_number(n: usize) -> u64 {
        109_000_000_000_000_000 + n as u64
    }

    pub fn status_uri(&self, n: usize) -> String {
        let k = self.author(n);
        match reblog_of(n) {
            Some(_) => format!(
                "{}/statuses/{}/activity",
                self.actor_uri(k),
                Self::remote_number(n)
            ),
            None => format!("{}/statuses/{}", self.actor_uri(k), Self::remote_number(n)),
        }
    }

    /// Whether status `n` enters `target`'s home feed on fan-out: it is
    /// not direct and its author is followed, or it is private or direct
    /// and mentions `target`.
    pub fn in_home_feed(&self, n: usize) -> bool {
        let visibility = visibility(n);
        (visibility <= 2 && self.author(n) < self.followed)
            || (visibility >= 2 && self.mentions(n).contains(&Mentioned::Target))
    }

    /// The accounts status `n` mentions (none for reblogs), without its
    /// author, in order of appearance.
    pub fn mentions(&self, n: usize) -> Vec<Mentioned> {
        if reblog_of(n).is_some() {
            return Vec::new();
        }
        let author = self.author(n);
        let mut out = Vec::new();
        let add = |out: &mut Vec<Mentioned>, m: Mentioned| {
            if m != Mentioned::Remote(author) && !out.contains(&m) {
                out.push(m);
            }
        };
        if let Some(parent) = reply_to(n) {
            add(&mut out, Mentioned::Remote(self.author(parent)));
        }
        if hash(n, 6) % 1000 < 2 {
            add(&mut out, Mentioned::Target);
        }
        if hash(n, 7) % 100 < 6 {
            for i in 0..1 + hash(n, 8) % 3 {
                let k = (hash(n, 9 + i) % self.accounts as u64) as usize;
                add(&mut out, Mentioned::Remote(k));
            }
        }
        if visibility(n) == 3 && out.is_empty() {
            let pick = hash(n, 12);
            let m = if pick % 20 == 0 {
                Mentioned::Target
            } else {
                Mentioned::Remote((pick % self.accounts as u64) as usize)
            };
            add(&mut out, m);
            if out.is_empty() {
                add(&mut out, Mentioned::Target);
            }
        }
        out
    }
}

/// The original status `n` reblogs: every tenth status (from the second
/// block on) reblogs a status numbered 6 modulo 10 in the block before, by
/// a permutation, so that each original is reblogged once at most.
pub fn reblog_of(n: usize) -> Option<usize> {
    if n % 10 != 7 || n < 10 * REBLOG_BLOCK {
        return None;
    }
    let a = n / 10;
    let (block, position) = (a / REBLOG_BLOCK, a % REBLOG_BLOCK);
    let original = (block - 1) * REBLOG_BLOCK + (position * REBLOG_MULTIPLIER) % REBLOG_BLOCK;
    Some(10 * original + 6)
}

/// The reblog of status `n`, if any: the inverse of [`reblog_of`].
pub fn reblogged_by(n: usize) -> Option<usize> {
    if n % 10 != 6 {
        return None;
    }
    let a = n / 10;
    let (block, position) = (a / REBLOG_BLOCK, a % REBLOG_BLOCK);
    let reblogger = (block + 1) * REBLOG_BLOCK + (position * REBLOG_INVERSE) % REBLOG_BLOCK;
    Some(10 * reblogger + 7)
}

/// The status `n` replies to, if any (never a reblog). Statuses that may
/// be reblogged (6 modulo 10) are not replies, so that they stay public.
pub fn reply_to(n: usize) -> Option<usize> {
    if n == 0 || n % 10 == 6 || reblog_of(n).is_some() || hash(n, 4) % 100 >= 20 {
        return None;
    }
    let back = 1 + (hash(n, 5) % REPLY_WINDOW.min(n) as u64) as usize;
    let parent = n - back;
    Some(if reblog_of(parent).is_some() {
        parent - 1
    } else {
        parent
    })
}

/// 0 public, 1 unlisted, 2 private, 3 direct. Reblogs are public; the
/// originals reblogs may pick are public or unlisted; a reply is at least
/// as private as its parent.
pub fn visibility(n: usize) -> i16 {
    if reblog_of(n).is_some() {
        return 0;
    }
    let own = own_visibility(n);
    match reply_to(n) {
        // Chains of replies are short: a reply is one status in six.
        Some(parent) => own.max(visibility(parent)),
        None => own,
    }
}

fn own_visibility(n: usize) -> i16 {
    let draw = hash(n, 13) % 100;
    if n % 10 == 6 {
        return if draw < 88 { 0 } else { 1 };
    }
    match draw {
        0..78 => 0,
        78..90 => 1,
        90..97 => 2,
        _ => 3,
    }
}

/// A deterministic 64-bit hash of `(n, salt)` (SplitMix64's finaliser).
pub fn hash(n: usize, salt: u64) -> u64 {
    let mut z = (n as u64)
        .wrapping_mul(0x9E37_79B9_7F4A_7C15)
        .wrapping_add(salt.wrapping_mul(0xD1B5_4A32_D192_ED03));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A row of `statuses`.
pub struct Status {
    pub id: i64,
    pub account_id: i64,
    pub uri: String,
    pub url: Option<String>,
    pub content: String,
    pub spoiler_text: String,
    pub sensitive: bool,
    pub visibility: i16,
    pub language: Option<&'static str>,
    pub in_reply_to_id: Option<i64>,
    pub in_reply_to_account_id: Option<i64>,
    pub in_reply_to_uri: Option<String>,
    pub reblog_of_id: Option<i64>,
    pub replies_count: i64,
    pub reblogs_count: i64,
    pub created_at: i64,
}

/// A row of `media_attachments` (a remote status's attachment).
pub struct Media {
    pub id: i64,
    pub account_id: i64,
    pub status_id: i64,
    pub kind: &'static str,
    pub content_type: &'static str,
    pub url: String,
    pub preview_url: Option<String>,
    pub width: Option<i32>,
    pub height: Option<i32>,
    pub blurhash: Option<&'static str>,
    pub description: Option<String>,
    pub created_at: i64,
}

/// A `mention` notification of `target`.
pub struct Notification {
    pub id: i64,
    pub from_account_id: i64,
    pub status_id: i64,
    pub created_at: i64,
}

/// The rows of a run of consecutive statuses.
#[derive(Default)]
pub struct Chunk {
    pub statuses: Vec<Status>,
    /// `(status id, account id)`.
    pub mentions: Vec<(i64, i64)>,
    /// `(status id, tag id)`.
    pub tags: Vec<(i64, i64)>,
    pub media: Vec<Media>,
    pub notifications: Vec<Notification>,
    /// Statuses entering `target`'s home feed, oldest first.
    pub home_feed: Vec<i64>,
    /// Per account number: (statuses posted, latest `created_at`).
    pub posted: HashMap<usize, (i64, i64)>,
    /// Statuses stored before this batch that gain replies or reblogs
    /// from it: id → (replies, reblogs) to add.
    pub older_counts: HashMap<i64, (i64, i64)>,
}

/// The id of tag number `i`.
pub fn tag_id(world: &World, i: usize) -> i64 {
    snowflake(world.t0 - 86_400_000 * 2 + i as i64, 0)
}

pub fn tag_name(i: usize) -> String {
    let word = WORDS[i % WORDS.len()];
    match i / WORDS.len() {
        0 => word.to_owned(),
        round => format!("{word}{round}"),
    }
}

/// Statuses `range` of a batch that starts at `batch_start` and whose
/// statuses end at `end` (exclusive): children numbered `end` or more do
/// not exist yet and are not counted.
pub fn generate(
    world: &World,
    range: std::ops::Range<usize>,
    batch_start: usize,
    end: usize,
) -> Chunk {
    let mut chunk = Chunk::default();
    let (lo, hi) = (range.start, range.end);
    // Replies to statuses of this chunk come from at most REPLY_WINDOW later.
    let mut replies = vec![0i64; hi - lo];
    for m in lo + 1..(hi + REPLY_WINDOW).min(end) {
        if let Some(parent) = reply_to(m) {
            if (lo..hi).contains(&parent) {
                replies[parent - lo] += 1;
            }
        }
    }
    for n in range {
        let status = status(world, n, replies[n - lo], end);
        let author = world.author(n);
        let entry = chunk.posted.entry(author).or_insert((0, 0));
        entry.0 += 1;
        entry.1 = entry.1.max(status.created_at);
        let older = reply_to(n)
            .map(|p| (p, (1, 0)))
            .or_else(|| reblog_of(n).map(|o| (o, (0, 1))));
        if let Some((parent, (r, b))) = older.filter(|(p, _)| *p < batch_start) {
            let counts = chunk
                .older_counts
                .entry(world.status_id(parent))
                .or_default();
            counts.0 += r;
            counts.1 += b;
        }
        for mentioned in world.mentions(n) {
            let account_id = match mentioned {
                Mentioned::Remote(k) => world.account_id(k),
                Mentioned::Target => {
                    chunk.notifications.push(Notification {
                        id: status.id + 8,
                        from_account_id: status.account_id,
                        status_id: status.id,
                        created_at: status.created_at,
                    });
                    world.target_id
                }
            };
            chunk.mentions.push((status.id, account_id));
        }
        for tag in tags(n) {
            chunk.tags.push((status.id, tag_id(world, tag)));
        }
        chunk.media.extend(media(world, n, &status));
        if world.in_home_feed(n) {
            chunk.home_feed.push(status.id);
        }
        chunk.statuses.push(status);
    }
    chunk
}

fn tags(n: usize) -> Vec<usize> {
    if reblog_of(n).is_some() || hash(n, 20) % 100 >= 8 {
        return Vec::new();
    }
    let pick = |salt| {
        let t = TAGS as u64;
        ((hash(n, salt) % t) * (hash(n, salt + 1) % t) / t) as usize
    };
    let first = pick(21);
    let second = pick(23);
    if hash(n, 25) % 3 == 0 && second != first {
        vec![first, second]
    } else {
        vec![first]
    }
}

fn status(world: &World, n: usize, replies_count: i64, end: usize) -> Status {
    let author = world.author(n);
    let id = world.status_id(n);
    let created_at = world.posted_at(n);
    let reblogs_count = i64::from(reblogged_by(n).is_some_and(|r| r < end));
    if let Some(original) = reblog_of(n) {
        return Status {
            id,
            account_id: world.account_id(author),
            uri: world.status_uri(n),
            url: None,
            content: String::new(),
            spoiler_text: String::new(),
            sensitive: false,
            visibility: 0,
            language: None,
            in_reply_to_id: None,
            in_reply_to_account_id: None,
            in_reply_to_uri: None,
            reblog_of_id: Some(world.status_id(original)),
            replies_count: 0,
            reblogs_count: 0,
            created_at,
        };
    }
    let parent = reply_to(n);
    let spoiler = hash(n, 30) % 100 < 3;
    let with_media = hash(n, 40) % 100 < 12;
    Status {
        id,
        account_id: world.account_id(author),
        uri: world.status_uri(n),
        url: Some(format!(
            "{}/@a{author}/{}",
            world.origin,
            World::remote_number(n)
        )),
        content: content(world, n),
        spoiler_text: if spoiler {
            SPOILERS[(hash(n, 31) % SPOILERS.len() as u64) as usize].to_owned()
        } else {
            String::new()
        },
        sensitive: spoiler || (with_media && hash(n, 32) % 100 < 5),
        visibility: visibility(n),
        language: LANGUAGES[(hash(n, 33) % LANGUAGES.len() as u64) as usize],
        in_reply_to_id: parent.map(|p| world.status_id(p)),
        in_reply_to_account_id: parent.map(|p| world.account_id(world.author(p))),
        in_reply_to_uri: parent.map(|p| world.status_uri(p)),
        reblog_of_id: None,
        replies_count,
        reblogs_count,
        created_at,
    }
}

fn content(world: &World, n: usize) -> String {
    let mut html = String::with_capacity(512);
    html.push_str("<p>");
    for mentioned in world.mentions(n) {
        let (href, name) = match mentioned {
            Mentioned::Remote(k) => (format!("{}/@a{k}", world.origin), format!("a{k}")),
            Mentioned::Target => (
                format!("{}/@{}", world.server, crate::server::TARGET_USER),
                crate::server::TARGET_USER.to_owned(),
            ),
        };
        html.push_str(&format!(
            "<span class=\"h-card\"><a href=\"{href}\" class=\"u-url mention\">@<span>{name}</span></a></span> "
        ));
    }
    let length = 20 + (hash(n, 50) % 101) * (hash(n, 51) % 101) * 4 / 100;
    let text = excerpt(hash(n, 52), length as usize);
    if hash(n, 53) % 10 == 0 {
        // Two paragraphs.
        let cut = text[..text.len() / 2].rfind(' ').unwrap_or(0);
        html.push_str(&text[..cut]);
        html.push_str("</p><p>");
        html.push_str(text[cut..].trim_start());
    } else {
        html.push_str(text);
    }
    if hash(n, 54) % 20 == 0 {
        html.push_str(&format!(
            " <a href=\"https://news.example/articles/{n}\" rel=\"nofollow noopener\" \
             target=\"_blank\">news.example/articles/{n}</a>"
        ));
    }
    for tag in tags(n) {
        let name = tag_name(tag);
        html.push_str(&format!(
            " <a href=\"{}/tags/{name}\" class=\"mention hashtag\" rel=\"tag\">#<span>{name}</span></a>",
            world.origin
        ));
    }
    html.push_str("</p>");
    html
}

/// About `length` characters of the corpus from a point chosen by `seed`,
/// cut at spaces.
fn excerpt(seed: u64, length: usize) -> &'static str {
    let length = length.min(CORPUS.len() / 2);
    let start = (seed % (CORPUS.len() - length) as u64) as usize;
    let start = CORPUS[start..].find(' ').map_or(start, |i| start + i + 1);
    let end = (start + length).min(CORPUS.len());
    let end = CORPUS[..end]
        .rfind(' ')
        .filter(|e| *e > start)
        .unwrap_or(end);
    &CORPUS[start..end]
}

fn media(world: &World, n: usize, status: &Status) -> Vec<Media> {
    if status.reblog_of_id.is_some() || hash(n, 40) % 100 >= 12 {
        return Vec::new();
    }
    let count = [1, 1, 1, 1, 1, 1, 2, 2, 3, 4][(hash(n, 41) % 10) as usize];
    (0..count)
        .map(|j| {
            let draw = hash(n, 42 + j) % 100;
            let (kind, content_type, extension) = match draw {
                0..70 => ("image", "image/jpeg", "jpg"),
                70..85 => ("image", "image/png", "png"),
                85..96 => ("video", "video/mp4", "mp4"),
                _ => ("audio", "audio/mpeg", "mp3"),
            };
            let url = format!(
                "{}/system/media_attachments/files/{}/{j}/original.{extension}",
                world.origin,
                World::remote_number(n)
            );
            let (width, height) = SIZES[(hash(n, 46 + j) % SIZES.len() as u64) as usize];
            let sized = kind != "audio";
            Media {
                id: status.id + 1 + j as i64,
                account_id: status.account_id,
                status_id: status.id,
                kind,
                content_type,
                preview_url: (kind == "image").then(|| url.clone()),
                url,
                width: sized.then_some(width),
                height: sized.then_some(height),
                blurhash: sized
                    .then(|| BLURHASHES[(hash(n, 50 + j) % BLURHASHES.len() as u64) as usize]),
                description: (hash(n, 54 + j) % 100 < 40)
                    .then(|| excerpt(hash(n, 58 + j), 60).to_owned()),
                created_at: status.created_at,
            }
        })
        .collect()
}

const LANGUAGES: [Option<&str>; 20] = [
    Some("en"),
    Some("en"),
    Some("en"),
    Some("en"),
    Some("en"),
    Some("en"),
    Some("en"),
    Some("en"),
    Some("en"),
    Some("en"),
    Some("en"),
    Some("en"),
    Some("en"),
    Some("de"),
    Some("de"),
    Some("fr"),
    Some("es"),
    Some("ja"),
    None,
    None,
];

const SPOILERS: [&str; 4] = ["spoilers", "politics", "food", "eye contact"];

const SIZES: [(i32, i32); 5] = [
    (1200, 900),
    (1080, 1350),
    (1920, 1080),
    (800, 800),
    (640, 480),
];

const BLURHASHES: [&str; 6] = [
    "LEHV6nWB2yk8pyo0adR*.7kCMdnj",
    "LGF5]+Yk^6#M@-5c,1J5@[or[Q6.",
    "L6PZfSi_.AyE_3t7t7R**0o#DgR4",
    "LKN]Rv%2Tw=w]~RBVZRi};RPxuwH",
    "LKO2?U%2Tw=w]~RBVZRi};RPxuwH",
    "L9AB*A%LPqys8_H=yDR5nMMeVXR5",
];

const WORDS: [&str; 40] = [
    "photography",
    "caturday",
    "rust",
    "fediverse",
    "music",
    "books",
    "gardening",
    "science",
    "art",
    "cycling",
    "coffee",
    "linux",
    "birds",
    "hiking",
    "cooking",
    "news",
    "climate",
    "football",
    "movies",
    "history",
    "space",
    "travel",
    "knitting",
    "gaming",
    "opensource",
    "design",
    "poetry",
    "dogs",
    "running",
    "jazz",
    "sketch",
    "food",
    "weather",
    "mastodon",
    "programming",
    "architecture",
    "nature",
    "podcast",
    "tea",
    "sunset",
];

/// Prose the statuses' text is cut from (no markup, ASCII).
const CORPUS: &str = "The morning train was late again, so I finally finished the book I started in \
spring. Somebody on the platform was feeding sparrows from a paper bag and they were not shy at \
all. Does anyone know a good repair shop for old film cameras? Mine has a sticky shutter and I \
would rather not give up on it. We planted beans, tomatoes and far too much mint; the mint is \
winning. New release is out today: faster start-up, fewer allocations and a long list of small \
fixes reported by all of you. Thank you for the patience while we sorted out the build servers. \
It rained for the whole hike but the view from the ridge was worth every wet sock. Reminder that \
the library has free workshops on Thursdays, this week it is bookbinding and it is great fun. I \
have opinions about the new bus timetable and none of them are polite. The cat has discovered \
the warm spot on top of the router and will not be moved. Trying out a recipe for flatbread \
that needs no oven, only a heavy pan and a little patience. Our meetup moved to the back room \
of the cafe on the corner; bring a laptop if you want to hack on something together. Today I \
learned that octopuses taste with their arms, which explains a great deal about my aquarium \
visits. Long thread about moving a small community server to new hardware without downtime, \
what went well and the one thing that went badly. The city is resurfacing our street and the \
noise starts at seven sharp every morning. Please boost: the food bank needs volunteers on \
Saturday afternoons, no experience needed, just comfortable shoes. Finished the jigsaw puzzle, \
one piece missing, naturally. Spent the evening sketching the bridge from the river bank while \
the light went from gold to blue. If your backups have never been restored, you do not have \
backups, you have hopes. A quiet week at work, which means the pile of small chores finally \
got some attention. The orchestra played the second symphony tonight and the slow movement \
brought the whole hall to silence. Learning a new language at forty is humbling and wonderful \
in equal measure. Fresh snow on the hills this morning and the first frost on the car. Anyone \
else still using a paper notebook for their to-do list? It is the only thing that has ever \
worked for me. Our little bakery turned ten today and the queue went round the block. The \
conference talks are online now, mine is the one with the broken slide clicker halfway through.";

#[cfg(test)]
mod tests {
    use super::*;

    fn world() -> World {
        World {
            origin: "http://127.0.0.1:40000".to_owned(),
            server: "http://127.0.0.1:40001".to_owned(),
            target_id: 1,
            accounts: 10_000,
            followed: 1_000,
            t0: EPOCH_MILLIS + 86_400_000 * 100,
            fetched_at: EPOCH_MILLIS + 86_400_000 * 200,
        }
    }

    #[test]
    fn the_reblog_permutation_is_inverted() {
        assert_eq!((REBLOG_MULTIPLIER * REBLOG_INVERSE) % REBLOG_BLOCK, 1);
        for n in 10_000..60_000 {
            if let Some(original) = reblog_of(n) {
                assert!(original < n && original + 2 * 10 * REBLOG_BLOCK > n);
                assert_eq!(reblogged_by(original), Some(n));
                assert_eq!(visibility(original).min(1), visibility(original));
            }
        }
    }

    #[test]
    fn ids_increase_and_replies_point_back_to_posts() {
        let world = world();
        let mut last = 0;
        for n in 0..50_000 {
            let id = world.status_id(n);
            assert!(id > last);
            last = id;
            if let Some(parent) = reply_to(n) {
                assert!(parent < n && reblog_of(parent).is_none());
                assert!(visibility(n) >= visibility(parent));
            }
            if visibility(n) == 3 {
                assert!(!world.mentions(n).is_empty());
            }
        }
    }

    #[test]
    fn a_chunk_counts_replies_within_the_batch() {
        let world = world();
        let whole = generate(&world, 0..20_000, 0, 20_000);
        let halves = [
            generate(&world, 0..10_000, 0, 20_000),
            generate(&world, 10_000..20_000, 0, 20_000),
        ];
        let total = |c: &Chunk| c.statuses.iter().map(|s| s.replies_count).sum::<i64>();
        assert_eq!(total(&whole), total(&halves[0]) + total(&halves[1]));
        let replies = (0..20_000).filter(|n| reply_to(*n).is_some()).count() as i64;
        assert_eq!(total(&whole), replies);
        // A later batch reports what it adds to earlier statuses.
        let later = generate(&world, 20_000..30_000, 20_000, 30_000);
        assert!(!later.older_counts.is_empty());
    }

    #[test]
    fn the_mix_is_roughly_as_documented() {
        let world = world();
        let chunk = generate(&world, 0..100_000, 0, 100_000);
        let reblogs = chunk
            .statuses
            .iter()
            .filter(|s| s.reblog_of_id.is_some())
            .count();
        assert!((8_000..10_000).contains(&reblogs), "{reblogs}");
        let feed = chunk.home_feed.len();
        assert!((7_000..14_000).contains(&feed), "{feed}");
        assert!(!chunk.media.is_empty() && !chunk.tags.is_empty());
        assert!(!chunk.notifications.is_empty());
    }
}
