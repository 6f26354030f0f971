//! Domain types shared by the loaders and the analysis: normalised emails, Slack accounts,
//! JumpCloud users, groups and applications.
//!
//! Pure data. Nothing here reads files, parses wire formats or looks at the clock; the loaders in
//! `source` convert their private wire types into these.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::fmt;

/// The hash maps of the join: inputs are an admin's own exports, not hostile, so a fast hasher
/// (foldhash) instead of `SipHash`.
pub type FastMap<K, V> = HashMap<K, V, foldhash::fast::RandomState>;
/// See [`FastMap`].
pub type FastSet<K> = HashSet<K, foldhash::fast::RandomState>;

/// An empty [`FastMap`] with room for `n` keys.
pub fn fast_map<K, V>(n: usize) -> FastMap<K, V> {
    FastMap::with_capacity_and_hasher(n, foldhash::fast::RandomState::default())
}

/// An empty [`FastSet`] with room for `n` keys.
pub fn fast_set<K>(n: usize) -> FastSet<K> {
    FastSet::with_capacity_and_hasher(n, foldhash::fast::RandomState::default())
}

/// One index, or several: most keys of the join occur once, and need no allocation.
#[derive(Clone, Debug)]
pub enum Hits<T> {
    /// A single occurrence.
    One(T),
    /// Several.
    Many(Vec<T>),
}

impl<T: Copy> Hits<T> {
    /// Adds an occurrence.
    pub fn push(&mut self, v: T) {
        match self {
            Self::One(first) => *self = Self::Many(vec![*first, v]),
            Self::Many(all) => all.push(v),
        }
    }

    /// Every occurrence.
    pub fn as_slice(&self) -> &[T] {
        match self {
            Self::One(v) => std::slice::from_ref(v),
            Self::Many(all) => all,
        }
    }
}

/// An email address as the join uses it: trimmed and lower-cased.
///
/// The only way to build one is [`Email::parse`], so no comparison can forget to normalise.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(Box<str>);

/// `str::trim` that also drops the invisible format characters copy and paste leaves at the
/// ends of a value (zero-width space and joiners, word joiner, BOM), with a fast path for the
/// usual value that has neither at either end (millions of ids and emails go through it).
pub(crate) fn trim(s: &str) -> &str {
    match (s.as_bytes().first(), s.as_bytes().last()) {
        (Some(a), Some(b)) if a.is_ascii_graphic() && b.is_ascii_graphic() => s,
        _ => s.trim_matches(|c: char| {
            c.is_whitespace() || matches!(c, '\u{200B}'..='\u{200D}' | '\u{2060}' | '\u{FEFF}')
        }),
    }
}

/// Lower-cases `s`, except a character outside ASCII that would become an ASCII one: the
/// KELVIN SIGN (U+212A) lower-cases to `k`, so `\u{212A}im@…` would join the real `kim@…`.
fn lower_keeping_lookalikes(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if c.is_ascii() {
            out.push(c.to_ascii_lowercase());
        } else if c.to_lowercase().any(|l| l.is_ascii()) {
            out.push(c);
        } else {
            out.extend(c.to_lowercase());
        }
    }
    out
}

impl Email {
    /// Normalises `raw`; `None` for an empty or blank value (Slack sends `""` for unset emails).
    pub fn parse(raw: &str) -> Option<Self> {
        let trimmed = trim(raw);
        if trimmed.is_empty() {
            return None;
        }
        if trimmed.is_ascii() {
            return Some(if trimmed.bytes().any(|b| b.is_ascii_uppercase()) {
                Self(trimmed.to_ascii_lowercase().into_boxed_str())
            } else {
                Self(trimmed.into())
            });
        }
        Some(Self(lower_keeping_lookalikes(trimmed).into_boxed_str()))
    }

    /// Why this is not an email address, or `None`: it needs an `@` with something on either
    /// side, and no whitespace or control characters. Deliberately loose (the syntax of a
    /// mailbox is the mail system's business): it catches placeholders such as `N/A` and cells
    /// that hold something else, which would otherwise join unrelated records.
    pub fn problem(&self) -> Option<&'static str> {
        let s = self.as_str();
        match s.rfind('@') {
            None => Some("is not an email address (no @)"),
            Some(at) if at == 0 || at + 1 == s.len() => {
                Some("is not an email address (nothing before or after the @)")
            }
            Some(_) if s.chars().any(|c| c.is_whitespace() || c.is_control()) => {
                Some("is not an email address (it holds spaces or control characters)")
            }
            Some(_) => None,
        }
    }

    /// The normalised address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// True for Slack's synthetic bot addresses (`…@slack-bots.com`).
    pub fn is_slack_bot(&self) -> bool {
        // The domain holds no `@`, so this is "the part after the last `@` is slack-bots.com".
        self.0.ends_with("@slack-bots.com")
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// SCIM protocol version of a Slack listing.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScimVersion {
    /// SCIM 1.1 (`/scim/v1`).
    V1,
    /// SCIM 2.0 (`/scim/v2`).
    V2,
}

impl ScimVersion {
    /// `"v1"` or `"v2"`, as in the report and the base URL.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1 => "v1",
            Self::V2 => "v2",
        }
    }
}

/// One Slack account from a SCIM `/Users` listing.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SlackUser {
    /// Slack user id (`U…` or `W…`).
    pub id: String,
    /// `externalId`, when non-empty.
    pub external_id: Option<String>,
    /// `userName`, when present.
    pub user_name: Option<String>,
    /// `active`; a record without it counts as active (the conservative reading for an audit).
    pub active: bool,
    /// Every distinct non-empty email, the primary one first.
    pub emails: Vec<Email>,
    /// `meta.created`, when present and parseable.
    pub created: Option<jiff::Timestamp>,
    /// Carries Slack's guest extension (a multi-channel guest): guests are often invited by
    /// hand, outside SCIM, so findings say so.
    pub guest: bool,
}

impl SlackUser {
    /// The primary email (the loader guarantees there is at least one).
    pub fn primary_email(&self) -> &Email {
        &self.emails[0]
    }

    /// Bots are counted but never flagged and never deactivated.
    pub fn is_bot(&self) -> bool {
        self.emails.first().is_some_and(Email::is_slack_bot)
    }
}

/// A whole Slack `/Users` listing, checked for completeness by the loader.
#[derive(Clone, Debug, Default)]
pub struct SlackListing {
    /// Every account, in listing order.
    pub users: Vec<SlackUser>,
    /// Protocol version, when the listing says.
    pub scim_version: Option<ScimVersion>,
    /// `totalResults` of the pages (absent for bare arrays).
    pub total_results: Option<u64>,
}

/// JumpCloud's user `state`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum JcState {
    /// `ACTIVATED`.
    Activated,
    /// `STAGED`: not yet activated, gets no resources.
    Staged,
    /// `SUSPENDED`.
    Suspended,
    /// Absent from the record.
    Unknown,
}

impl JcState {
    /// Maps JumpCloud's value (any case) to a state. Any other value is `Err` with it: read as
    /// active, a `DISABLED` or `Deactivated` would hide drift.
    pub fn parse(raw: Option<&str>) -> Result<Self, String> {
        match raw.map(str::trim) {
            None | Some("") => Ok(Self::Unknown),
            Some(s) if s.eq_ignore_ascii_case("activated") || s.eq_ignore_ascii_case("active") => {
                Ok(Self::Activated)
            }
            Some(s) if s.eq_ignore_ascii_case("staged") => Ok(Self::Staged),
            Some(s) if s.eq_ignore_ascii_case("suspended") => Ok(Self::Suspended),
            Some(s) => Err(s.to_owned()),
        }
    }
}

/// One JumpCloud system user.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct JcUser {
    /// `_id` (24-hex `ObjectId`).
    pub id: String,
    /// Company email.
    pub email: Email,
    /// `alternateEmail`, when non-empty.
    pub alternate_email: Option<Email>,
    /// `state`.
    pub state: JcState,
    /// `suspended`.
    pub suspended: bool,
    /// `password_expired`.
    pub password_expired: bool,
    /// `account_locked` (kept for the record; JumpCloud's Slack mapping ignores it).
    pub account_locked: bool,
}

/// Why a JumpCloud user should not be active in Slack, in the order the report names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum InactiveReason {
    /// `suspended` is true or `state` is `SUSPENDED`.
    Suspended,
    /// `state` is `STAGED`.
    Staged,
    /// `password_expired` is true.
    PasswordExpired,
}

impl InactiveReason {
    /// The `reason` value in the report.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Suspended => "suspended",
            Self::Staged => "staged",
            Self::PasswordExpired => "password-expired",
        }
    }
}

impl JcUser {
    /// JumpCloud's Slack mapping: `active = !suspended && !passwordExpired`, and a suspended or
    /// staged state gets no resources. `None` means the status allows an active Slack account.
    pub fn inactive_reason(&self) -> Option<InactiveReason> {
        if self.suspended || self.state == JcState::Suspended {
            Some(InactiveReason::Suspended)
        } else if self.state == JcState::Staged {
            Some(InactiveReason::Staged)
        } else if self.password_expired {
            Some(InactiveReason::PasswordExpired)
        } else {
            None
        }
    }
}

/// A JumpCloud user group with what the export says about it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JcGroup {
    /// Group id.
    pub id: String,
    /// Group name, when present.
    pub name: Option<String>,
    /// Direct member users.
    pub member_user_ids: Vec<String>,
    /// Direct member groups (nested groups), when the export has any.
    pub member_group_ids: Vec<String>,
    /// Applications the group is bound to directly.
    pub application_ids: Vec<String>,
}

/// A JumpCloud application (SSO connector).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct JcApp {
    /// `_id`.
    pub id: String,
    /// `name`: the catalog key (`slack` for Slack connectors).
    pub name: Option<String>,
    /// `displayName`.
    pub display_name: Option<String>,
    /// `displayLabel`: the admin's label.
    pub display_label: Option<String>,
    /// The SAML ACS URL or SP entity id, when the export has it.
    pub sp_url: Option<String>,
}

/// Everything loaded from JumpCloud.
#[derive(Clone, Debug, Default)]
pub struct JumpCloud {
    /// Users, deduplicated by id.
    pub users: Vec<JcUser>,
    /// Groups; `None` when the input has no group data at all (a plain users file).
    pub groups: Option<Vec<JcGroup>>,
    /// Applications listing (empty when absent).
    pub applications: Vec<JcApp>,
    /// `applications/<id>/users`: the users bound to each application, directly or via groups.
    pub app_users: BTreeMap<String, Vec<String>>,
    /// `manifest.json` `slack_app_ids`, when the bundle declares them.
    pub manifest_slack_app_ids: Option<Vec<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lookalikes_never_fold_into_ascii_addresses() {
        let norm = |s: &str| Email::parse(s).unwrap().as_str().to_owned();
        assert_eq!(norm(" Kim@X.io "), "kim@x.io");
        assert_eq!(norm("Émile@Café.fr"), "émile@café.fr");
        // KELVIN SIGN lower-cases to `k`, and a capital I with a dot to `i` + a combining dot.
        assert_ne!(norm("\u{212A}im@x.io"), "kim@x.io");
        assert_eq!(norm("\u{212A}im@x.io"), "\u{212A}im@x.io");
        assert_eq!(norm("\u{130}nes@x.io"), "\u{130}nes@x.io");
    }

    #[test]
    fn what_is_not_an_address() {
        let problem = |s: &str| Email::parse(s).unwrap().problem();
        assert_eq!(problem("Ann@X.io"), None);
        assert_eq!(problem("josé@exämple.org"), None);
        // A quoted local part may hold a space (RFC 5321); no directory uses one.
        assert!(problem("\"a b\"@x.io").is_some());
        for bad in [
            "N/A",
            "n/a",
            "@x.io",
            "ann@",
            "ann @x.io",
            "a\u{1}@x.io",
            "x@y.z\nfoo",
        ] {
            assert!(problem(bad).is_some(), "{bad:?}");
        }
    }

    #[test]
    fn only_the_slack_bots_domain_is_a_bot() {
        let bot = |s: &str| Email::parse(s).unwrap().is_slack_bot();
        assert!(bot("botuser-T1-A1@slack-bots.com"));
        assert!(bot(" BotUser@Slack-Bots.com "));
        assert!(bot("a@b@slack-bots.com"));
        assert!(!bot("a@notslack-bots.com"));
        assert!(!bot("slack-bots.com"));
        assert!(!bot("a@slack-bots.com.evil.example"));
        assert!(!bot("a@sub.slack-bots.com"));
    }

    #[test]
    fn trim_fast_path_agrees_with_str_trim() {
        for s in [
            "",
            " ",
            "a",
            " a",
            "a ",
            "\ta\n",
            "a b",
            "\u{a0}a",
            "a\u{2003}",
            "é",
            " é ",
        ] {
            assert_eq!(trim(s), s.trim(), "{s:?}");
        }
    }

    #[test]
    fn emails_are_trimmed_and_lowercased() {
        assert_eq!(Email::parse(" Ann@X.io\t").unwrap().as_str(), "ann@x.io");
        assert_eq!(Email::parse("ann@x.io").unwrap().as_str(), "ann@x.io");
        assert!(Email::parse("  ").is_none());
        // Invisible characters pasted at either end, never inside.
        assert_eq!(
            Email::parse("\u{feff}Ann@x.io\u{200b}").unwrap().as_str(),
            "ann@x.io"
        );
        assert_eq!(
            Email::parse("a\u{200b}b@x.io").unwrap().as_str(),
            "a\u{200b}b@x.io"
        );
        assert!(Email::parse("\u{200b}").is_none());
    }
}
