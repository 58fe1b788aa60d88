//! Validated account attributes. Each newtype is parsed once, where input
//! enters (REST, CLI), and trusted everywhere after.

use std::fmt;

/// Why a value was refused. The message is shown to users as is.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvalidInput {
    #[error("username must be 1 to 30 characters of letters, digits and underscores")]
    Username,
    #[error("email address is not valid")]
    Email,
    #[error("password must be {min} to {max} characters long", min = Password::MIN_CHARS, max = Password::MAX_CHARS)]
    PasswordLength,
}

/// A local username: `[A-Za-z0-9_]{1,30}`. Uniqueness is case-insensitive and
/// enforced by the database.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Username(String);

impl Username {
    pub const MAX_CHARS: usize = 30;

    pub fn parse(input: &str) -> Result<Self, InvalidInput> {
        let valid = !input.is_empty()
            && input.len() <= Self::MAX_CHARS
            && input
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'_');
        if valid {
            Ok(Self(input.to_owned()))
        } else {
            Err(InvalidInput::Username)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Username {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// An email address, syntactically checked (one `@`, a non-empty local part,
/// a dotted domain, no whitespace or control characters) and kept as typed.
/// Deliverability is not checked here.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Email(String);

impl Email {
    const MAX_LEN: usize = 254;

    pub fn parse(input: &str) -> Result<Self, InvalidInput> {
        let input = input.trim();
        let Some((local, domain)) = input.split_once('@') else {
            return Err(InvalidInput::Email);
        };
        let local_ok = !local.is_empty() && local.len() <= 64 && !local.contains('@');
        let domain_ok = domain.contains('.')
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && domain
                .chars()
                .all(|c| c.is_alphanumeric() || c == '-' || c == '.');
        let chars_ok = !input.chars().any(|c| c.is_whitespace() || c.is_control());
        if local_ok && domain_ok && chars_ok && input.len() <= Self::MAX_LEN {
            Ok(Self(input.to_owned()))
        } else {
            Err(InvalidInput::Email)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// A new password in clear text, 8 to 128 characters. Never logged.
pub struct Password(String);

impl Password {
    pub const MIN_CHARS: usize = 8;
    pub const MAX_CHARS: usize = 128;

    pub fn parse(input: &str) -> Result<Self, InvalidInput> {
        let chars = input.chars().count();
        if (Self::MIN_CHARS..=Self::MAX_CHARS).contains(&chars) {
            Ok(Self(input.to_owned()))
        } else {
            Err(InvalidInput::PasswordLength)
        }
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(..)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames() {
        for ok in ["a", "alice", "Bob_42", &"x".repeat(30)] {
            assert!(Username::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "al ice",
            "alice@example.com",
            "élodie",
            "a-b",
            &"x".repeat(31),
        ] {
            assert_eq!(Username::parse(bad), Err(InvalidInput::Username), "{bad}");
        }
    }

    #[test]
    fn emails() {
        for ok in [
            "a@example.com",
            "first.last+tag@mail.example.org",
            " pad@example.com ",
        ] {
            assert!(Email::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "plain",
            "@example.com",
            "a@",
            "a@localhost",
            "a@@example.com",
            "a b@example.com",
            "a@exa mple.com",
            "a@.example.com",
            "a@example..com",
        ] {
            assert_eq!(Email::parse(bad), Err(InvalidInput::Email), "{bad}");
        }
        assert_eq!(
            Email::parse(" pad@example.com ").expect("valid").as_str(),
            "pad@example.com"
        );
    }

    #[test]
    fn password_length_counts_characters() {
        assert!(Password::parse("1234567").is_err());
        assert!(Password::parse("12345678").is_ok());
        assert!(Password::parse(&"é".repeat(128)).is_ok());
        assert!(Password::parse(&"x".repeat(129)).is_err());
        assert_eq!(
            format!("{:?}", Password::parse("secret-password").expect("valid")),
            "Password(..)"
        );
    }
}
