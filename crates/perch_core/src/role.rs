//! Roles of local users, from most to least trusted: the owner, admins,
//! moderators and everyone else, and what each may do. Stored in
//! `users.role` by name; shown to clients as Mastodon's Role entity.

use std::fmt;
use std::str::FromStr;

/// A local user's role.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Role {
    User,
    Moderator,
    Admin,
    /// The operator: everything an admin may do, and naming admins.
    Owner,
}

/// Mastodon's permission flags (`Role.permissions` is their sum).
pub mod permission {
    pub const ADMINISTRATOR: u32 = 0x1;
    pub const DEVOPS: u32 = 0x2;
    pub const VIEW_AUDIT_LOG: u32 = 0x4;
    pub const VIEW_DASHBOARD: u32 = 0x8;
    pub const MANAGE_REPORTS: u32 = 0x10;
    pub const MANAGE_FEDERATION: u32 = 0x20;
    pub const MANAGE_SETTINGS: u32 = 0x40;
    pub const MANAGE_BLOCKS: u32 = 0x80;
    pub const MANAGE_TAXONOMIES: u32 = 0x100;
    pub const MANAGE_APPEALS: u32 = 0x200;
    pub const MANAGE_USERS: u32 = 0x400;
    pub const MANAGE_INVITES: u32 = 0x800;
    pub const MANAGE_RULES: u32 = 0x1000;
    pub const MANAGE_ANNOUNCEMENTS: u32 = 0x2000;
    pub const MANAGE_CUSTOM_EMOJIS: u32 = 0x4000;
    pub const MANAGE_WEBHOOKS: u32 = 0x8000;
    pub const INVITE_USERS: u32 = 0x10000;
    pub const MANAGE_ROLES: u32 = 0x20000;
    pub const MANAGE_USER_ACCESS: u32 = 0x40000;
    pub const DELETE_USER_DATA: u32 = 0x80000;
    /// Every flag.
    pub const ALL: u32 = (1 << 20) - 1;
}

impl Role {
    pub const ALL: [Role; 4] = [Role::Owner, Role::Admin, Role::Moderator, Role::User];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Owner => "owner",
            Role::Admin => "admin",
            Role::Moderator => "moderator",
            Role::User => "user",
        }
    }

    /// The name clients show (Mastodon's seeded roles).
    pub fn display_name(self) -> &'static str {
        match self {
            Role::Owner => "Owner",
            Role::Admin => "Admin",
            Role::Moderator => "Moderator",
            Role::User => "",
        }
    }

    /// The id of Mastodon's seeded role of the same name (`-99` is its
    /// `@everyone`), so that clients that know them recognise them.
    pub fn mastodon_id(self) -> i64 {
        match self {
            Role::Owner => 3,
            Role::Admin => 2,
            Role::Moderator => 1,
            Role::User => -99,
        }
    }

    /// Mastodon's permission flags of the role. Moderators handle reports
    /// and users; admins also the federation, blocks, rules and the other
    /// settings, and may name moderators. Perch has no invites, so they
    /// offer none. The owner holds every flag, as Mastodon computes it for
    /// its administrator flag.
    pub fn permissions(self) -> u32 {
        use permission::*;
        let moderator = VIEW_DASHBOARD
            | VIEW_AUDIT_LOG
            | MANAGE_REPORTS
            | MANAGE_USERS
            | MANAGE_TAXONOMIES
            | MANAGE_APPEALS;
        match self {
            Role::User => 0,
            Role::Moderator => moderator,
            Role::Admin => {
                moderator
                    | MANAGE_FEDERATION
                    | MANAGE_SETTINGS
                    | MANAGE_BLOCKS
                    | MANAGE_RULES
                    | MANAGE_ANNOUNCEMENTS
                    | MANAGE_CUSTOM_EMOJIS
                    | MANAGE_WEBHOOKS
                    | MANAGE_ROLES
                    | MANAGE_USER_ACCESS
                    | DELETE_USER_DATA
            }
            Role::Owner => ALL,
        }
    }

    /// Whether the role holds every flag of `wanted`.
    pub fn may(self, wanted: u32) -> bool {
        self.permissions() & wanted == wanted
    }

    /// Whether the role shows on the user's profile as a badge.
    pub fn highlighted(self) -> bool {
        self != Role::User
    }

    /// Whether a user of this role may give `other` to someone, or take it
    /// from them: only roles below one's own (the owner may name admins,
    /// an admin moderators), and never the owner's.
    pub fn may_assign(self, other: Role) -> bool {
        self.may(permission::MANAGE_ROLES) && other < self && other != Role::Owner
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Role {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str().eq_ignore_ascii_case(name.trim()))
            .ok_or_else(|| format!("unknown role {name:?} (owner, admin, moderator or user)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_nest_and_parse() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>(), Ok(role));
        }
        assert_eq!("Moderator".parse::<Role>(), Ok(Role::Moderator));
        assert!("root".parse::<Role>().is_err());
        // Each role holds what the one below it holds.
        for pair in Role::ALL.windows(2) {
            let (higher, lower) = (pair[0], pair[1]);
            assert!(higher.may(lower.permissions()), "{higher} ⊇ {lower}");
            assert!(higher > lower);
        }
        assert!(Role::Moderator.may(permission::MANAGE_REPORTS));
        assert!(!Role::Moderator.may(permission::MANAGE_FEDERATION));
        assert!(Role::Admin.may(permission::MANAGE_FEDERATION | permission::MANAGE_RULES));
        assert!(!Role::Admin.may(permission::ADMINISTRATOR));
        assert!(Role::Owner.may(permission::ADMINISTRATOR));
        assert!(!Role::User.may(permission::MANAGE_REPORTS));
    }

    #[test]
    fn only_lower_roles_are_given() {
        assert!(Role::Owner.may_assign(Role::Admin));
        assert!(!Role::Owner.may_assign(Role::Owner));
        assert!(Role::Admin.may_assign(Role::Moderator));
        assert!(Role::Admin.may_assign(Role::User));
        assert!(!Role::Admin.may_assign(Role::Admin));
        assert!(!Role::Moderator.may_assign(Role::User));
    }
}
