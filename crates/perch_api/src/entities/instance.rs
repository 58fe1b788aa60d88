//! The documents behind `GET /api/v1/instance` (Mastodon's V1::Instance) and
//! `GET /api/v2/instance` (Instance), built by pure functions from one
//! [`InstanceInfo`] that the handler gathers from configuration and counts.
//!
//! Clients read three things here before anything else: the version (to
//! decide which API features exist), the streaming URL (they do not assume
//! it is the REST origin) and the limits used by their compose screens.

use std::collections::BTreeMap;

use serde::Serialize;
use url::Url;

use super::Account;

/// What we claim to be. Client libraries gate features on the leading
/// `major.minor.patch`, so we name the Mastodon API level we implement first
/// and ourselves in the suffix, as other compatible servers do.
pub const VERSION: &str = concat!("4.3.0 (compatible; Perch ", env!("CARGO_PKG_VERSION"), ")");

/// The AGPL requires offering the source to network users.
pub const SOURCE_URL: &str = "https://github.com/perch-social/perch";

/// Everything the instance documents depend on, gathered by the handler.
#[derive(Clone, Debug)]
pub struct InstanceInfo {
    /// host[:port] of the public URL, as in `acct` addresses.
    pub domain: String,
    pub public_url: Url,
    pub title: String,
    /// Short, plain-text description.
    pub description: String,
    pub contact_email: String,
    pub contact_account: Option<Account>,
    /// Banner image; `None` when the operator has not set one.
    pub thumbnail_url: Option<String>,
    /// ISO 639-1 codes of the instance's main languages.
    pub languages: Vec<String>,
    pub registrations_open: bool,
    pub approval_required: bool,
    pub user_count: i64,
    pub status_count: i64,
    /// Number of other servers known.
    pub domain_count: i64,
    /// Local users active in the last four weeks.
    pub active_month: i64,
    pub max_status_chars: u32,
    pub max_media_attachments: u32,
    pub characters_reserved_per_url: u32,
    pub max_featured_tags: u32,
    pub max_pinned_statuses: u32,
    pub media: MediaLimits,
    pub polls: PollLimits,
    /// The server's rules, in their order.
    pub rules: Vec<Rule>,
    /// The Web Push (VAPID) public key, base64url.
    pub vapid_public_key: String,
}

/// Upload limits; serialized as-is as `configuration.media_attachments`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct MediaLimits {
    pub supported_mime_types: Vec<String>,
    /// Bytes.
    pub image_size_limit: u64,
    /// Pixels (width × height).
    pub image_matrix_limit: u64,
    /// Bytes.
    pub video_size_limit: u64,
    pub video_frame_rate_limit: u32,
    /// Pixels (width × height).
    pub video_matrix_limit: u64,
}

impl Default for MediaLimits {
    /// Still images only, with Mastodon 4.3's image limits, so clients that
    /// resize before upload aim for the same targets as with Mastodon; no
    /// video is taken, so its limits are zero.
    fn default() -> Self {
        Self {
            supported_mime_types: ["image/jpeg", "image/png", "image/webp", "image/gif"]
                .map(String::from)
                .to_vec(),
            image_size_limit: 16 * 1024 * 1024,
            image_matrix_limit: 7680 * 4320,
            video_size_limit: 0,
            video_frame_rate_limit: 0,
            video_matrix_limit: 0,
        }
    }
}

/// Poll limits; serialized as-is as `configuration.polls`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct PollLimits {
    pub max_options: u32,
    pub max_characters_per_option: u32,
    /// Seconds.
    pub min_expiration: u32,
    /// Seconds.
    pub max_expiration: u32,
}

impl Default for PollLimits {
    /// Mastodon's values: four options of 50 characters, five minutes to a
    /// month.
    fn default() -> Self {
        Self {
            max_options: 4,
            max_characters_per_option: 50,
            min_expiration: 300,
            max_expiration: 2_629_746,
        }
    }
}

/// Mastodon's Rule entity: one item of the server rules.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Rule {
    pub id: String,
    pub text: String,
    pub hint: String,
}

/// `configuration.statuses`, the same in both versions.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct StatusLimits {
    pub max_characters: u32,
    pub max_media_attachments: u32,
    pub characters_reserved_per_url: u32,
}

/// Mastodon's V1::Instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InstanceV1 {
    pub uri: String,
    pub title: String,
    pub short_description: String,
    pub description: String,
    pub email: String,
    pub version: String,
    pub urls: V1Urls,
    pub stats: V1Stats,
    pub thumbnail: Option<String>,
    pub languages: Vec<String>,
    pub registrations: bool,
    pub approval_required: bool,
    pub invites_enabled: bool,
    pub configuration: V1Configuration,
    pub contact_account: Option<Account>,
    pub rules: Vec<Rule>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct V1Urls {
    pub streaming_api: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct V1Stats {
    pub user_count: i64,
    pub status_count: i64,
    pub domain_count: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct V1Configuration {
    pub accounts: V1AccountLimits,
    pub statuses: StatusLimits,
    pub media_attachments: MediaLimits,
    pub polls: PollLimits,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct V1AccountLimits {
    pub max_featured_tags: u32,
}

/// Mastodon's (v2) Instance.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct InstanceV2 {
    pub domain: String,
    pub title: String,
    pub version: String,
    pub source_url: String,
    pub description: String,
    pub usage: Usage,
    pub thumbnail: Thumbnail,
    pub icon: Vec<Icon>,
    pub languages: Vec<String>,
    pub configuration: Configuration,
    pub registrations: Registrations,
    pub api_versions: ApiVersions,
    pub contact: Contact,
    pub rules: Vec<Rule>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Usage {
    pub users: UsageUsers,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct UsageUsers {
    pub active_month: i64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Thumbnail {
    pub url: String,
    pub blurhash: Option<String>,
    /// `@1x` / `@2x` → URL; empty until thumbnails are resized.
    pub versions: BTreeMap<String, String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Icon {
    pub src: String,
    /// `"{w}x{h}"`.
    pub size: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Configuration {
    pub urls: Urls,
    pub vapid: Vapid,
    pub accounts: AccountLimits,
    pub statuses: StatusLimits,
    pub media_attachments: MediaLimits,
    pub polls: PollLimits,
    pub translation: Translation,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Urls {
    pub streaming: String,
    /// The operator's status page, if any.
    pub status: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Vapid {
    /// The key push subscriptions are made for (`applicationServerKey`).
    pub public_key: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccountLimits {
    pub max_featured_tags: u32,
    pub max_pinned_statuses: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Translation {
    pub enabled: bool,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Registrations {
    pub enabled: bool,
    pub approval_required: bool,
    pub message: Option<String>,
    /// A sign-up page elsewhere, for instances that register off-site.
    pub url: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ApiVersions {
    /// Mastodon's API revision; 2 is what Mastodon 4.3 reports.
    pub mastodon: u32,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Contact {
    pub email: String,
    pub account: Option<Account>,
}

/// Build `GET /api/v1/instance`.
pub fn instance_v1(info: &InstanceInfo) -> InstanceV1 {
    InstanceV1 {
        uri: info.domain.clone(),
        title: info.title.clone(),
        // Since Mastodon 4.0 both fields carry the short description; the
        // long HTML one moved to `/api/v1/instance/extended_description`.
        short_description: info.description.clone(),
        description: info.description.clone(),
        email: info.contact_email.clone(),
        version: VERSION.to_owned(),
        urls: V1Urls {
            streaming_api: streaming_url(&info.public_url),
        },
        stats: V1Stats {
            user_count: info.user_count.max(0),
            status_count: info.status_count.max(0),
            domain_count: info.domain_count.max(0),
        },
        thumbnail: info.thumbnail_url.clone(),
        languages: info.languages.clone(),
        registrations: info.registrations_open,
        approval_required: info.approval_required,
        invites_enabled: false,
        configuration: V1Configuration {
            accounts: V1AccountLimits {
                max_featured_tags: info.max_featured_tags,
            },
            statuses: status_limits(info),
            media_attachments: info.media.clone(),
            polls: info.polls.clone(),
        },
        contact_account: info.contact_account.clone(),
        rules: info.rules.clone(),
    }
}

/// Build `GET /api/v2/instance`.
pub fn instance_v2(info: &InstanceInfo) -> InstanceV2 {
    // v2's thumbnail URL is not nullable (typed clients fail to decode
    // null). Without a banner we reuse the default-avatar placeholder, which
    // the server has to serve anyway for accounts without an avatar.
    let thumbnail_url = info.thumbnail_url.clone().unwrap_or_else(|| {
        let base = info.public_url.as_str().trim_end_matches('/');
        format!("{base}/avatars/original/missing.png")
    });
    InstanceV2 {
        domain: info.domain.clone(),
        title: info.title.clone(),
        version: VERSION.to_owned(),
        source_url: SOURCE_URL.to_owned(),
        description: info.description.clone(),
        usage: Usage {
            users: UsageUsers {
                active_month: info.active_month.max(0),
            },
        },
        thumbnail: Thumbnail {
            url: thumbnail_url,
            blurhash: None,
            versions: BTreeMap::new(),
        },
        icon: Vec::new(),
        languages: info.languages.clone(),
        configuration: Configuration {
            urls: Urls {
                streaming: streaming_url(&info.public_url),
                status: None,
            },
            vapid: Vapid {
                public_key: info.vapid_public_key.clone(),
            },
            accounts: AccountLimits {
                max_featured_tags: info.max_featured_tags,
                max_pinned_statuses: info.max_pinned_statuses,
            },
            statuses: status_limits(info),
            media_attachments: info.media.clone(),
            polls: info.polls.clone(),
            translation: Translation { enabled: false },
        },
        registrations: Registrations {
            enabled: info.registrations_open,
            approval_required: info.approval_required,
            message: None,
            url: None,
        },
        api_versions: ApiVersions { mastodon: 2 },
        contact: Contact {
            email: info.contact_email.clone(),
            account: info.contact_account.clone(),
        },
        rules: info.rules.clone(),
    }
}

/// The WebSocket base URL clients connect to for streaming: the public URL
/// with `ws`/`wss` for `http`/`https` and no trailing slash, since clients
/// append `/api/v1/streaming` themselves.
pub fn streaming_url(public_url: &Url) -> String {
    let ws_scheme = if public_url.scheme() == "https" {
        "wss"
    } else {
        "ws"
    };
    let rest = &public_url.as_str()[public_url.scheme().len()..];
    format!("{ws_scheme}{}", rest.trim_end_matches('/'))
}

fn status_limits(info: &InstanceInfo) -> StatusLimits {
    StatusLimits {
        max_characters: info.max_status_chars,
        max_media_attachments: info.max_media_attachments,
        characters_reserved_per_url: info.characters_reserved_per_url,
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
mod tests {
    use super::*;
    use crate::entities::account::tests::local_row;
    use crate::entities::account_from_row;
    use crate::entities::tests::{key_paths, paths};
    use serde_json::{Value, json};

    /// The limits both versions share under `configuration`.
    const SHARED_CONFIGURATION: &str = "
        configuration.statuses configuration.statuses.max_characters
        configuration.statuses.max_media_attachments
        configuration.statuses.characters_reserved_per_url
        configuration.media_attachments configuration.media_attachments.supported_mime_types
        configuration.media_attachments.image_size_limit
        configuration.media_attachments.image_matrix_limit
        configuration.media_attachments.video_size_limit
        configuration.media_attachments.video_frame_rate_limit
        configuration.media_attachments.video_matrix_limit
        configuration.polls configuration.polls.max_options
        configuration.polls.max_characters_per_option configuration.polls.min_expiration
        configuration.polls.max_expiration";

    const V1_KEYS: &str = "
        uri title short_description description email version urls urls.streaming_api
        stats stats.user_count stats.status_count stats.domain_count thumbnail languages
        registrations approval_required invites_enabled contact_account rules
        configuration configuration.accounts configuration.accounts.max_featured_tags";

    const V2_KEYS: &str = "
        domain title version source_url description usage usage.users
        usage.users.active_month thumbnail thumbnail.url thumbnail.blurhash
        thumbnail.versions icon languages registrations registrations.enabled
        registrations.approval_required registrations.message registrations.url
        api_versions api_versions.mastodon contact contact.email contact.account rules
        configuration configuration.urls configuration.urls.streaming
        configuration.urls.status configuration.vapid configuration.vapid.public_key
        configuration.accounts configuration.accounts.max_featured_tags
        configuration.accounts.max_pinned_statuses configuration.translation
        configuration.translation.enabled";

    fn info(public_url: &str) -> InstanceInfo {
        InstanceInfo {
            domain: "perch.example".to_owned(),
            public_url: Url::parse(public_url).unwrap(),
            title: "Perch".to_owned(),
            description: "A small perch".to_owned(),
            contact_email: "admin@perch.example".to_owned(),
            contact_account: None,
            thumbnail_url: None,
            languages: vec!["en".to_owned()],
            registrations_open: true,
            approval_required: false,
            user_count: 3,
            status_count: 10,
            domain_count: -1,
            active_month: 2,
            max_status_chars: 500,
            max_media_attachments: 4,
            characters_reserved_per_url: 23,
            max_featured_tags: 10,
            max_pinned_statuses: 5,
            media: MediaLimits::default(),
            polls: PollLimits::default(),
            rules: Vec::new(),
            vapid_public_key: "BPushKey".to_owned(),
        }
    }

    fn v1_json(info: &InstanceInfo) -> Value {
        serde_json::to_value(instance_v1(info)).unwrap()
    }

    fn v2_json(info: &InstanceInfo) -> Value {
        serde_json::to_value(instance_v2(info)).unwrap()
    }

    #[test]
    fn v1_has_exactly_the_documented_keys() {
        let json = v1_json(&info("https://perch.example/"));
        let expected = format!("{V1_KEYS} {SHARED_CONFIGURATION}");
        assert_eq!(key_paths(&json), paths(&expected));
    }

    #[test]
    fn v2_has_exactly_the_documented_keys() {
        let json = v2_json(&info("https://perch.example/"));
        let expected = format!("{V2_KEYS} {SHARED_CONFIGURATION}");
        assert_eq!(key_paths(&json), paths(&expected));
    }

    #[test]
    fn v1_values() {
        let json = v1_json(&info("https://perch.example/"));
        assert_eq!(json["uri"], "perch.example");
        assert_eq!(json["urls"]["streaming_api"], "wss://perch.example");
        assert_eq!(json["stats"]["user_count"], 3);
        assert_eq!(json["stats"]["domain_count"], 0);
        assert_eq!(json["thumbnail"], Value::Null);
        assert_eq!(json["contact_account"], Value::Null);
        assert_eq!(json["registrations"], true);
        assert_eq!(json["invites_enabled"], false);
        assert_eq!(json["rules"], json!([]));
        assert_eq!(json["configuration"]["statuses"]["max_characters"], 500);
        assert_eq!(
            json["configuration"]["media_attachments"]["supported_mime_types"],
            json!(["image/jpeg", "image/png", "image/webp", "image/gif"])
        );
    }

    #[test]
    fn v2_values() {
        let json = v2_json(&info("https://perch.example/"));
        assert_eq!(json["domain"], "perch.example");
        assert_eq!(json["source_url"], SOURCE_URL);
        assert_eq!(json["usage"]["users"]["active_month"], 2);
        let placeholder = "https://perch.example/avatars/original/missing.png";
        assert_eq!(json["thumbnail"]["url"], placeholder);
        assert_eq!(json["thumbnail"]["blurhash"], Value::Null);
        assert_eq!(json["thumbnail"]["versions"], json!({}));
        assert_eq!(json["icon"], json!([]));
        assert_eq!(json["registrations"]["enabled"], true);
        assert_eq!(json["registrations"]["message"], Value::Null);
        assert_eq!(json["contact"]["email"], "admin@perch.example");
        assert_eq!(json["contact"]["account"], Value::Null);
        let configuration = &json["configuration"];
        assert_eq!(configuration["vapid"]["public_key"], "BPushKey");
        assert_eq!(configuration["translation"]["enabled"], false);
        assert_eq!(configuration["accounts"]["max_pinned_statuses"], 5);
    }

    #[test]
    fn thumbnail_when_set_is_used_by_both_versions() {
        let banner = "https://cdn.example/banner.png";
        let info = InstanceInfo {
            thumbnail_url: Some(banner.to_owned()),
            ..info("https://perch.example/")
        };
        assert_eq!(v1_json(&info)["thumbnail"], banner);
        assert_eq!(v2_json(&info)["thumbnail"]["url"], banner);
    }

    #[test]
    fn api_version_is_an_integer() {
        let json = v2_json(&info("https://perch.example/"));
        assert!(json["api_versions"]["mastodon"].is_u64());
        assert_eq!(json["api_versions"]["mastodon"], 2);
    }

    #[test]
    fn streaming_url_follows_the_public_scheme() {
        let secure = v2_json(&info("https://perch.example/"));
        assert_eq!(
            secure["configuration"]["urls"]["streaming"],
            "wss://perch.example"
        );
        let plain = v2_json(&info("http://localhost:3000/"));
        assert_eq!(
            plain["configuration"]["urls"]["streaming"],
            "ws://localhost:3000"
        );
        let v1 = v1_json(&info("http://localhost:3000"));
        assert_eq!(v1["urls"]["streaming_api"], "ws://localhost:3000");
    }

    /// The rule client libraries apply: the leading `x.y.z` of `version`,
    /// whatever follows.
    fn leading_semver(version: &str) -> Option<(u32, u32, u32)> {
        let end = version
            .find(|c: char| !c.is_ascii_digit() && c != '.')
            .unwrap_or(version.len());
        let mut parts = version[..end].split('.').map(|p| p.parse::<u32>().ok());
        Some((parts.next()??, parts.next()??, parts.next()??))
    }

    #[test]
    fn version_reads_as_mastodon_4_3_0() {
        let info = info("https://perch.example/");
        for json in [v1_json(&info), v2_json(&info)] {
            let version = json["version"].as_str().unwrap();
            assert_eq!(leading_semver(version), Some((4, 3, 0)));
            assert!(version.contains(concat!("Perch ", env!("CARGO_PKG_VERSION"))));
        }
    }

    #[test]
    fn contact_account_is_embedded_in_both_versions() {
        let base = info("https://perch.example/");
        let account = account_from_row(&local_row(), &base.public_url);
        let info = InstanceInfo {
            contact_account: Some(account),
            ..base
        };
        assert_eq!(v1_json(&info)["contact_account"]["acct"], "alice");
        assert_eq!(v2_json(&info)["contact"]["account"]["acct"], "alice");
    }
}
