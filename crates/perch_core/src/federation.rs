//! The instance's federation policy: servers an admin blocked (with a
//! severity) and, in allow-list mode, the only servers it federates with.
//! A block or an allowance of a domain covers its subdomains too.

use std::str::FromStr;

/// How hard a domain block hits (Mastodon's severities).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Severity {
    /// Only the rejections that come with it (media, reports).
    Noop,
    /// The server's accounts stay out of public timelines and notify only
    /// their followers.
    Silence,
    /// Nothing from the server is accepted and nothing is sent to it.
    Suspend,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Noop => "noop",
            Severity::Silence => "silence",
            Severity::Suspend => "suspend",
        }
    }
}

impl FromStr for Severity {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name {
            "noop" => Ok(Severity::Noop),
            "silence" => Ok(Severity::Silence),
            "suspend" => Ok(Severity::Suspend),
            other => Err(format!(
                "unknown severity {other:?} (noop, silence or suspend)"
            )),
        }
    }
}

/// Whether the instance federates with every server not blocked, or only
/// with those an admin allowed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Mode {
    #[default]
    Open,
    Allowlist,
}

impl FromStr for Mode {
    type Err = String;

    fn from_str(name: &str) -> Result<Self, Self::Err> {
        match name.trim().to_ascii_lowercase().as_str() {
            "open" => Ok(Mode::Open),
            "allowlist" => Ok(Mode::Allowlist),
            other => Err(format!(
                "unknown federation mode {other:?} (open or allowlist)"
            )),
        }
    }
}

/// A domain block as the policy reads it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DomainBlock {
    pub domain: String,
    pub severity: Severity,
    pub reject_media: bool,
    pub reject_reports: bool,
}

/// The whole policy, as loaded from the database.
#[derive(Clone, Debug, Default)]
pub struct DomainRules {
    pub mode: Mode,
    pub blocks: Vec<DomainBlock>,
    pub allows: Vec<String>,
}

/// Whether `domain` (as stored: lower case, maybe with a port) is `host`
/// or one of its parents.
pub fn covers(domain: &str, host: &str) -> bool {
    let host = host.to_ascii_lowercase();
    host == domain
        || host
            .strip_suffix(domain)
            .is_some_and(|rest| rest.ends_with('.'))
}

impl DomainRules {
    /// The block that applies to `host`: the most specific one.
    pub fn block_for(&self, host: &str) -> Option<&DomainBlock> {
        self.blocks
            .iter()
            .filter(|b| covers(&b.domain, host))
            .max_by_key(|b| b.domain.len())
    }

    /// Whether nothing is taken from `host` nor sent to it: it is
    /// suspended, or the instance federates only with allowed servers and
    /// it is not one of them.
    pub fn refuses(&self, host: &str) -> bool {
        if self.mode == Mode::Allowlist && !self.allows.iter().any(|d| covers(d, host)) {
            return true;
        }
        self.block_for(host)
            .is_some_and(|b| b.severity == Severity::Suspend)
    }

    /// Whether reports (`Flag`s) from `host` are dropped.
    pub fn rejects_reports(&self, host: &str) -> bool {
        self.block_for(host).is_some_and(|b| b.reject_reports)
    }

    /// Whether media from `host` are dropped.
    pub fn rejects_media(&self, host: &str) -> bool {
        self.block_for(host).is_some_and(|b| b.reject_media)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(domain: &str, severity: Severity) -> DomainBlock {
        DomainBlock {
            domain: domain.to_owned(),
            severity,
            reject_media: false,
            reject_reports: severity == Severity::Noop,
        }
    }

    #[test]
    fn a_block_covers_subdomains_and_the_most_specific_wins() {
        let rules = DomainRules {
            blocks: vec![
                block("spam.example", Severity::Suspend),
                block("ok.spam.example", Severity::Noop),
            ],
            ..DomainRules::default()
        };
        assert!(rules.refuses("spam.example"));
        assert!(rules.refuses("a.b.SPAM.example"));
        assert!(!rules.refuses("notspam.example"), "not a subdomain");
        assert!(!rules.refuses("ok.spam.example"));
        assert!(rules.rejects_reports("x.ok.spam.example"));
        assert!(!rules.refuses("other.example"));
        assert!(covers("127.0.0.1:8080", "127.0.0.1:8080"));
        assert!(!covers("127.0.0.1:8080", "127.0.0.1:8081"));
    }

    #[test]
    fn an_allowlist_refuses_everyone_else() {
        let rules = DomainRules {
            mode: Mode::Allowlist,
            allows: vec!["friends.example".to_owned()],
            blocks: vec![block("bad.friends.example", Severity::Suspend)],
        };
        assert!(!rules.refuses("friends.example"));
        assert!(!rules.refuses("social.friends.example"));
        assert!(
            rules.refuses("bad.friends.example"),
            "a block still applies"
        );
        assert!(rules.refuses("stranger.example"));
        assert_eq!("Allowlist".parse::<Mode>(), Ok(Mode::Allowlist));
        assert!("closed".parse::<Mode>().is_err());
        assert_eq!("suspend".parse::<Severity>(), Ok(Severity::Suspend));
    }
}
