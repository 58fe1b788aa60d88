//! Mastodon's Account entity, and CredentialAccount (an account as its own
//! owner sees it in `verify_credentials` and `update_credentials`), built
//! from [`AccountRow`] by pure functions.
//!
//! The field set follows what Mastodon 4.3 sends for an account that has not
//! moved and is not suspended, plus `moved: null`, so that clients which test
//! documented fields for `null` see a value rather than an absent key.

use perch_db::accounts::AccountRow;
use perch_db::profiles::FieldRow;
use serde::Serialize;
use url::Url;

use super::{CustomEmoji, iso_date, iso8601_millis};

const DAY_MILLIS: i64 = 86_400_000;

/// Mastodon's Account entity.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Account {
    pub id: String,
    pub username: String,
    pub acct: String,
    pub display_name: String,
    pub locked: bool,
    pub bot: bool,
    pub discoverable: bool,
    pub indexable: bool,
    pub group: bool,
    pub created_at: String,
    /// HTML.
    pub note: String,
    pub url: String,
    pub uri: String,
    pub avatar: String,
    pub avatar_static: String,
    pub header: String,
    pub header_static: String,
    pub followers_count: i64,
    pub following_count: i64,
    pub statuses_count: i64,
    pub last_status_at: Option<String>,
    pub hide_collections: Option<bool>,
    pub noindex: bool,
    pub moved: Option<Box<Account>>,
    pub emojis: Vec<CustomEmoji>,
    pub roles: Vec<AccountRole>,
    pub fields: Vec<Field>,
}

/// A profile metadata pair (Mastodon's Field entity).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Field {
    pub name: String,
    /// HTML in `Account.fields`, plain text in `source.fields`.
    pub value: String,
    pub verified_at: Option<String>,
}

/// A role badge shown on a profile (the short form of Role inside Account).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccountRole {
    pub id: String,
    pub name: String,
    pub color: String,
}

/// Mastodon's Role entity, as found in `CredentialAccount.role`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Role {
    pub id: String,
    pub name: String,
    pub color: String,
    /// Bitmask of Mastodon's permission flags, as a decimal string.
    pub permissions: String,
    pub highlighted: bool,
}

/// `CredentialAccount.source`: the raw values behind the rendered profile,
/// which clients put into their profile and compose forms.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Source {
    /// Default visibility: `public`, `unlisted`, `private` or `direct`.
    pub privacy: String,
    pub sensitive: bool,
    pub language: Option<String>,
    /// Plain text the user typed; `Account.note` is its HTML rendering.
    pub note: String,
    pub fields: Vec<Field>,
    pub follow_requests_count: i64,
    pub discoverable: bool,
    pub hide_collections: Option<bool>,
    pub indexable: bool,
}

/// The account as its owner sees it: every Account field at the top level,
/// plus `source` and `role`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct CredentialAccount {
    #[serde(flatten)]
    pub account: Account,
    pub source: Source,
    pub role: Role,
}

/// What [`credential_account`] needs beyond the account row, from the
/// user's settings.
#[derive(Clone, Debug, Default)]
pub struct SourceInput {
    pub note_source: String,
    pub privacy: String,
    pub sensitive: bool,
    pub language: Option<String>,
    pub follow_requests_count: i64,
}

/// Mastodon's Role entity of `role`: the seeded roles' ids and names, and
/// the permission flags Perch grants (perch_core's `Role`). `@everyone`
/// is offered nothing: Mastodon grants it invites, which Perch has not.
pub fn role_entity(role: perch_core::role::Role) -> Role {
    Role {
        id: role.mastodon_id().to_string(),
        name: role.display_name().to_owned(),
        color: String::new(),
        permissions: role.permissions().to_string(),
        highlighted: role.highlighted(),
    }
}

/// Build the Account entity for `row`. `public_url` is this instance's base
/// URL, used for the default avatar and header images.
pub fn account_from_row(row: &AccountRow, public_url: &Url) -> Account {
    let acct = match &row.domain {
        None => row.username.clone(),
        Some(domain) => format!("{}@{domain}", row.username),
    };
    let avatar = row
        .avatar_url
        .clone()
        .unwrap_or_else(|| missing_image(public_url, "avatars"));
    let header = row
        .header_url
        .clone()
        .unwrap_or_else(|| missing_image(public_url, "headers"));
    Account {
        id: row.id.to_string(),
        username: row.username.clone(),
        acct,
        display_name: row.display_name.clone(),
        locked: row.locked,
        // Mastodon treats Service and Application actors as bots whatever
        // their profile says.
        bot: row.bot || matches!(row.actor_type.as_str(), "Service" | "Application"),
        discoverable: row.discoverable,
        // Opting in to full-text search of one's posts is explicit in
        // Mastodon; we store no such consent, so nobody is indexable.
        indexable: false,
        group: row.actor_type == "Group",
        // Mastodon rounds down to midnight so that the exact sign-up time
        // is not public.
        created_at: iso8601_millis(start_of_day(row.created_at)),
        note: row.note.clone(),
        // Remote actors need not publish a profile page; their id is the
        // best link we have.
        url: row.url.clone().unwrap_or_else(|| row.uri.clone()),
        uri: row.uri.clone(),
        // No animated images are transcoded yet, so the static versions are
        // the originals.
        avatar_static: avatar.clone(),
        avatar,
        header_static: header.clone(),
        header,
        // Counters are maintained incrementally and could drift below zero
        // after a race; a negative count breaks some clients' formatting.
        followers_count: row.followers_count.max(0),
        following_count: row.following_count.max(0),
        statuses_count: row.statuses_count.max(0),
        last_status_at: row.last_status_at.map(iso_date),
        hide_collections: None,
        noindex: false,
        moved: None,
        emojis: Vec::new(),
        roles: badges(row),
        fields: Vec::new(),
    }
}

/// The role badges of a local account: its role, when the role shows on
/// profiles (Mastodon's `highlighted`).
fn badges(row: &AccountRow) -> Vec<AccountRole> {
    row.role
        .as_deref()
        .and_then(|name| name.parse::<perch_core::role::Role>().ok())
        .filter(|role| role.highlighted())
        .map(|role| AccountRole {
            id: role.mastodon_id().to_string(),
            name: role.display_name().to_owned(),
            color: String::new(),
        })
        .into_iter()
        .collect()
}

/// Build the CredentialAccount for the owner of `row`, whose role is
/// `role`.
pub fn credential_account(
    row: &AccountRow,
    source: SourceInput,
    public_url: &Url,
    role: perch_core::role::Role,
) -> CredentialAccount {
    let account = account_from_row(row, public_url);
    let source = Source {
        privacy: source.privacy,
        sensitive: source.sensitive,
        language: source.language,
        note: source.note_source,
        fields: account.fields.clone(),
        follow_requests_count: source.follow_requests_count.max(0),
        discoverable: account.discoverable,
        hide_collections: account.hide_collections,
        indexable: account.indexable,
    };
    let role = role_entity(role);
    CredentialAccount {
        account,
        source,
        role,
    }
}

/// [`account_from_row`] with the account's metadata fields (values as HTML).
pub fn account_with_fields(row: &AccountRow, fields: &[FieldRow], public_url: &Url) -> Account {
    Account {
        fields: fields.iter().map(shown_field).collect(),
        ..account_from_row(row, public_url)
    }
}

/// [`credential_account`] with the account's metadata fields: values as
/// HTML at the top level, as their owner typed them in `source.fields`.
pub fn credential_account_with_fields(
    row: &AccountRow,
    fields: &[FieldRow],
    source: SourceInput,
    public_url: &Url,
    role: perch_core::role::Role,
) -> CredentialAccount {
    let mut credential = credential_account(row, source, public_url, role);
    credential.account.fields = fields.iter().map(shown_field).collect();
    credential.source.fields = fields
        .iter()
        .map(|field| Field {
            value: field
                .value_source
                .clone()
                .unwrap_or_else(|| field.value.clone()),
            ..shown_field(field)
        })
        .collect();
    credential
}

fn shown_field(field: &FieldRow) -> Field {
    Field {
        name: field.name.clone(),
        value: field.value.clone(),
        verified_at: field.verified_at.map(iso8601_millis),
    }
}

/// Mastodon's placeholder image path, which clients recognise (and some
/// replace with their own artwork) when an account has no image.
fn missing_image(public_url: &Url, kind: &str) -> String {
    let base = public_url.as_str().trim_end_matches('/');
    format!("{base}/{kind}/original/missing.png")
}

fn start_of_day(unix_millis: i64) -> i64 {
    unix_millis.saturating_sub(unix_millis.rem_euclid(DAY_MILLIS))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // a failed unwrap is a failed test
pub(super) mod tests {
    use super::*;
    use crate::entities::tests::{key_paths, paths};
    use perch_core::role::Role as UserRole;
    use serde_json::{Value, json};

    /// Top-level keys of Mastodon 4.3's Account (none of its values is an
    /// object while `moved` is null).
    const ACCOUNT_KEYS: &str = "
        id username acct display_name locked bot discoverable indexable group created_at
        note url uri avatar avatar_static header header_static followers_count
        following_count statuses_count last_status_at hide_collections noindex moved emojis
        roles fields";

    fn public_url() -> Url {
        Url::parse("https://perch.example/").unwrap()
    }

    pub(in crate::entities) fn local_row() -> AccountRow {
        AccountRow {
            id: 113_456_789_012_345_678,
            username: "alice".to_owned(),
            domain: None,
            uri: "https://perch.example/users/alice".to_owned(),
            url: Some("https://perch.example/@alice".to_owned()),
            actor_type: "Person".to_owned(),
            display_name: "Alice".to_owned(),
            note: "<p>Hello</p>".to_owned(),
            locked: false,
            bot: false,
            discoverable: true,
            avatar_url: None,
            header_url: None,
            inbox_url: None,
            shared_inbox_url: None,
            outbox_url: None,
            followers_url: None,
            following_url: None,
            followers_count: 3,
            following_count: -2,
            statuses_count: 7,
            last_status_at: Some(1_795_462_765_000),
            // 2026-11-23T19:39:25.123Z
            created_at: 1_795_462_765_123,
            updated_at: 1_795_462_765_123,
            accepts_chat_messages: false,
            suspended_at: None,
            silenced_at: None,
            sensitized_at: None,
            deleted_at: None,
            featured_url: None,
            also_known_as: None,
            moved_to_account_id: None,
            role: Some("user".to_owned()),
        }
    }

    fn remote_row() -> AccountRow {
        AccountRow {
            id: 42,
            username: "bob".to_owned(),
            domain: Some("social.example".to_owned()),
            uri: "https://social.example/users/bob".to_owned(),
            url: None,
            actor_type: "Group".to_owned(),
            display_name: String::new(),
            note: String::new(),
            locked: true,
            avatar_url: Some("https://media.social.example/a.png".to_owned()),
            header_url: Some("https://media.social.example/h.png".to_owned()),
            inbox_url: Some("https://social.example/users/bob/inbox".to_owned()),
            followers_count: -1,
            following_count: 0,
            statuses_count: -5,
            last_status_at: None,
            created_at: 0,
            role: None,
            ..local_row()
        }
    }

    fn to_json<T: Serialize>(entity: &T) -> Value {
        serde_json::to_value(entity).unwrap()
    }

    #[test]
    fn local_and_remote_accounts_have_exactly_the_documented_keys() {
        for row in [local_row(), remote_row()] {
            let json = to_json(&account_from_row(&row, &public_url()));
            assert_eq!(key_paths(&json), paths(ACCOUNT_KEYS), "{}", row.username);
        }
    }

    #[test]
    fn local_account_values() {
        let json = to_json(&account_from_row(&local_row(), &public_url()));
        assert_eq!(json["id"], "113456789012345678");
        assert_eq!(json["username"], "alice");
        assert_eq!(json["acct"], "alice");
        assert_eq!(json["url"], "https://perch.example/@alice");
        assert_eq!(json["uri"], "https://perch.example/users/alice");
        assert_eq!(json["created_at"], "2026-11-23T00:00:00.000Z");
        assert_eq!(json["last_status_at"], "2026-11-23");
        assert_eq!(json["followers_count"], 3);
        assert_eq!(json["following_count"], 0);
        assert_eq!(json["statuses_count"], 7);
        assert_eq!(json["discoverable"], true);
        assert_eq!(json["group"], false);
        assert_eq!(json["bot"], false);
        assert_eq!(json["note"], "<p>Hello</p>");
        assert_eq!(json["hide_collections"], Value::Null);
        assert_eq!(json["moved"], Value::Null);
        assert_eq!(json["noindex"], false);
        for list in ["emojis", "roles", "fields"] {
            assert_eq!(json[list], json!([]), "{list}");
        }
    }

    #[test]
    fn staff_show_their_role_as_a_badge_and_others_none() {
        let badge = |role: &str| {
            let row = AccountRow {
                role: Some(role.to_owned()),
                ..local_row()
            };
            to_json(&account_from_row(&row, &public_url()))["roles"].clone()
        };
        assert_eq!(
            badge("moderator"),
            json!([{"id": "1", "name": "Moderator", "color": ""}])
        );
        assert_eq!(
            badge("owner"),
            json!([{"id": "3", "name": "Owner", "color": ""}])
        );
        assert_eq!(badge("user"), json!([]));
        assert_eq!(badge("no such role"), json!([]));
        let remote = to_json(&account_from_row(&remote_row(), &public_url()));
        assert_eq!(remote["roles"], json!([]));
    }

    #[test]
    fn missing_images_point_at_mastodons_placeholders() {
        let json = to_json(&account_from_row(&local_row(), &public_url()));
        let avatar = "https://perch.example/avatars/original/missing.png";
        let header = "https://perch.example/headers/original/missing.png";
        assert_eq!(json["avatar"], avatar);
        assert_eq!(json["avatar_static"], avatar);
        assert_eq!(json["header"], header);
        assert_eq!(json["header_static"], header);
    }

    #[test]
    fn placeholders_keep_a_path_prefix_without_doubling_slashes() {
        let base = Url::parse("http://localhost:3000/perch/").unwrap();
        let account = account_from_row(&local_row(), &base);
        let expected = "http://localhost:3000/perch/avatars/original/missing.png";
        assert_eq!(account.avatar, expected);
    }

    #[test]
    fn remote_account_values() {
        let json = to_json(&account_from_row(&remote_row(), &public_url()));
        assert_eq!(json["id"], "42");
        assert_eq!(json["acct"], "bob@social.example");
        assert_eq!(json["url"], "https://social.example/users/bob");
        assert_eq!(json["group"], true);
        assert_eq!(json["locked"], true);
        assert_eq!(json["created_at"], "1970-01-01T00:00:00.000Z");
        assert_eq!(json["last_status_at"], Value::Null);
        assert_eq!(json["followers_count"], 0);
        assert_eq!(json["statuses_count"], 0);
        assert_eq!(json["avatar"], "https://media.social.example/a.png");
        assert_eq!(json["avatar_static"], "https://media.social.example/a.png");
        assert_eq!(json["header"], "https://media.social.example/h.png");
    }

    #[test]
    fn service_and_application_actors_are_bots() {
        for actor_type in ["Service", "Application"] {
            let actor_type = actor_type.to_owned();
            let row = AccountRow {
                actor_type,
                ..remote_row()
            };
            assert!(
                account_from_row(&row, &public_url()).bot,
                "{}",
                row.actor_type
            );
        }
        let row = AccountRow {
            bot: true,
            ..local_row()
        };
        assert!(account_from_row(&row, &public_url()).bot);
    }

    #[test]
    fn created_before_epoch_still_rounds_down_to_midnight() {
        let row = AccountRow {
            created_at: -1,
            ..local_row()
        };
        let account = account_from_row(&row, &public_url());
        assert_eq!(account.created_at, "1969-12-31T00:00:00.000Z");
    }

    fn source_input() -> SourceInput {
        SourceInput {
            note_source: "Hello".to_owned(),
            privacy: "unlisted".to_owned(),
            sensitive: true,
            language: Some("en".to_owned()),
            follow_requests_count: 2,
        }
    }

    fn credential_json(source: SourceInput, role: UserRole) -> Value {
        to_json(&credential_account(
            &local_row(),
            source,
            &public_url(),
            role,
        ))
    }

    #[test]
    fn credential_account_adds_source_and_role_at_the_top_level() {
        let json = credential_json(source_input(), UserRole::User);
        let expected = format!(
            "{ACCOUNT_KEYS} source source.privacy source.sensitive source.language source.note
             source.fields source.follow_requests_count source.discoverable
             source.hide_collections source.indexable
             role role.id role.name role.color role.permissions role.highlighted"
        );
        assert_eq!(key_paths(&json), paths(&expected));
        assert_eq!(json["id"], "113456789012345678");
        assert_eq!(
            json["source"],
            json!({
                "privacy": "unlisted",
                "sensitive": true,
                "language": "en",
                "note": "Hello",
                "fields": [],
                "follow_requests_count": 2,
                "discoverable": true,
                "hide_collections": null,
                "indexable": false,
            })
        );
    }

    #[test]
    fn unset_language_is_null() {
        let input = SourceInput {
            language: None,
            ..source_input()
        };
        assert_eq!(
            credential_json(input, UserRole::User)["source"]["language"],
            Value::Null
        );
    }

    #[test]
    fn normal_user_has_the_everyone_role() {
        let expected = json!({
            "id": "-99",
            "name": "",
            "color": "",
            "permissions": "0",
            "highlighted": false,
        });
        assert_eq!(
            credential_json(source_input(), UserRole::User)["role"],
            expected
        );
    }

    #[test]
    fn fields_are_html_at_the_top_level_and_typed_text_in_source() {
        let fields = [FieldRow {
            name: "Site".to_owned(),
            value: "<a href=\"https://a.example\">https://a.example</a>".to_owned(),
            value_source: Some("https://a.example".to_owned()),
            verified_at: Some(0),
        }];
        let plain = account_with_fields(&local_row(), &fields, &public_url());
        assert_eq!(plain.fields[0].value, fields[0].value);
        assert_eq!(
            plain.fields[0].verified_at.as_deref(),
            Some("1970-01-01T00:00:00.000Z")
        );
        let json = to_json(&credential_account_with_fields(
            &local_row(),
            &fields,
            source_input(),
            &public_url(),
            UserRole::User,
        ));
        assert_eq!(json["fields"][0]["value"], fields[0].value);
        assert_eq!(json["source"]["fields"][0]["name"], "Site");
        assert_eq!(json["source"]["fields"][0]["value"], "https://a.example");
    }

    #[test]
    fn each_role_is_mastodons_seeded_role_with_its_permissions() {
        let expected = [
            (UserRole::Owner, "3", "Owner", 1_048_575u32, true),
            (UserRole::Admin, "2", "Admin", 980_988, true),
            (UserRole::Moderator, "1", "Moderator", 1_820, true),
        ];
        for (role, id, name, permissions, highlighted) in expected {
            let json = credential_json(source_input(), role);
            assert_eq!(
                json["role"],
                json!({
                    "id": id,
                    "name": name,
                    "color": "",
                    "permissions": permissions.to_string(),
                    "highlighted": highlighted,
                }),
                "{role}"
            );
        }
    }
}
