//! JumpCloud's wire shapes: v1 pages and v2 arrays, user, group, graph and application records,
//! read by hand-written visitors where the volume makes it pay. Private to the JumpCloud loader,
//! which turns them into the model; nothing here touches files.

use std::borrow::Cow;
use std::fmt;
use std::marker::PhantomData;
use std::path::Path;

use serde::Deserialize;
use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};

use crate::model::{Email, JcState, JcUser};
use crate::source::Error;
use crate::source::wire::{
    Key, OptBool, OptCow, Seen, non_empty, non_empty_cow, opt_count, opt_string,
};

/// The first present, non-blank value of several alias fields.
/// The value of a field given under several names (`_id`, `id`, `Id`): the non-blank ones must
/// agree (JumpCloud's v1 records carry `_id` and `id` alike); `names` says which in an error.
pub(in crate::source) fn agreed<T: PartialEq + fmt::Display, const N: usize>(
    names: &str,
    candidates: [Option<T>; N],
) -> Result<Option<T>, String> {
    let mut found: Option<T> = None;
    for value in candidates.into_iter().flatten() {
        match &found {
            None => found = Some(value),
            Some(first) if *first == value => {}
            Some(first) => {
                return Err(format!(
                    "{names} disagree (`{first}` and `{value}`), so which holds cannot be known"
                ));
            }
        }
    }
    Ok(found)
}

/// [`agreed`] for text, blank values left out.
fn agreed_text<'a, const N: usize>(
    names: &str,
    candidates: [Option<Cow<'a, str>>; N],
) -> Result<Option<Cow<'a, str>>, String> {
    agreed(
        names,
        candidates.map(|c| c.filter(|v| !v.trim().is_empty())),
    )
}

/// [`agreed`] for ids, blank values left out and the rest trimmed.
pub(super) fn agreed_id<const N: usize>(
    names: &str,
    candidates: [Option<String>; N],
) -> Result<Option<String>, String> {
    agreed(names, candidates.map(non_empty))
}

/// A v1 page (`{totalCount, results}`) or a v2 bare array, of any record type.
pub(super) enum JcDoc<T> {
    Array(Vec<T>),
    Page {
        total_count: Option<u64>,
        results: Vec<T>,
    },
    /// Not a JumpCloud document; says what it looks like.
    Foreign(&'static str),
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for JcDoc<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for V<T> {
            type Value = JcDoc<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JumpCloud v1 page {totalCount, results} or an array")
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
                let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
                while let Some(item) = seq.next_element()? {
                    out.push(item);
                }
                Ok(JcDoc::Array(out))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut total_count = None;
                let mut results = None;
                let mut slack = false;
                let mut has_user_keys = false;
                // Two pages run together must not read as the second one.
                let mut seen = Seen::default();
                while let Some(key) = map.next_key::<Cow<'de, str>>()? {
                    match key.as_ref() {
                        "totalCount" => {
                            seen.first(0, "totalCount")?;
                            total_count = map.next_value::<CountField>()?.0;
                        }
                        "results" => {
                            seen.first(1, "results")?;
                            results = Some(map.next_value::<Vec<T>>()?);
                        }
                        k => {
                            slack |= matches!(k, "Resources" | "totalResults" | "schemas");
                            has_user_keys |= matches!(k, "email" | "username" | "_id");
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(match (results, total_count) {
                    (Some(results), total_count) => JcDoc::Page {
                        total_count,
                        results,
                    },
                    (None, Some(0)) => JcDoc::Page {
                        total_count: Some(0),
                        results: Vec::new(),
                    },
                    _ if slack => JcDoc::Foreign("a Slack SCIM listing"),
                    _ if has_user_keys => JcDoc::Foreign("a single user object, not a listing"),
                    // `{"totalCount":5}`: the records themselves are missing.
                    _ if seen.has(0) => {
                        JcDoc::Foreign("a v1 page without `results` (it has only totalCount)")
                    }
                    _ => JcDoc::Foreign("a JSON object without totalCount or results"),
                })
            }
        }
        d.deserialize_any(V(PhantomData))
    }
}

struct CountField(Option<u64>);

impl<'de> Deserialize<'de> for CountField {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        opt_count(d).map(CountField)
    }
}

/// One user record, in the v1/v2 API's spelling or the PowerShell SDK's `PascalCase`. Written by
/// hand rather than derived: keys are matched as raw bytes (no UTF-8 check, no allocation), which
/// is most of the cost of an export of a million users.
#[derive(Default)]
pub(super) struct WireUser<'a> {
    pub(super) underscore_id: Option<Cow<'a, str>>,
    pub(super) id: Option<Cow<'a, str>>,
    pub(super) pascal_id: Option<Cow<'a, str>>,
    pub(super) email: Option<Cow<'a, str>>,
    pub(super) pascal_email: Option<Cow<'a, str>>,
    pub(super) alternate_email: Option<Cow<'a, str>>,
    pub(super) pascal_alternate_email: Option<Cow<'a, str>>,
    pub(super) state: Option<Cow<'a, str>>,
    pub(super) pascal_state: Option<Cow<'a, str>>,
    pub(super) suspended: Option<bool>,
    pub(super) pascal_suspended: Option<bool>,
    pub(super) password_expired: Option<bool>,
    pub(super) pascal_password_expired: Option<bool>,
    pub(super) account_locked: Option<bool>,
    pub(super) pascal_account_locked: Option<bool>,
    // Markers of documents of another kind.
    pub(super) scim_user_name: bool,
    pub(super) sso_url: bool,
    /// `"type": "user_group"`: a record of a user-groups listing.
    pub(super) group: bool,
}

impl<'de> Deserialize<'de> for WireUser<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = WireUser<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a JumpCloud user record (an object)")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<WireUser<'de>, A::Error> {
                let mut u = WireUser::default();
                // A field given twice is an error (which value holds cannot be known); the
                // aliases `_id`/`id`/`Id` are fields of their own, which must agree.
                let mut seen = Seen::default();
                while let Some(Key(key)) = map.next_key()? {
                    let text = match &*key {
                        b"_id" => (0, "_id", &mut u.underscore_id),
                        b"id" => (1, "id", &mut u.id),
                        b"Id" => (2, "Id", &mut u.pascal_id),
                        b"email" => (3, "email", &mut u.email),
                        b"Email" => (4, "Email", &mut u.pascal_email),
                        b"alternateEmail" => (5, "alternateEmail", &mut u.alternate_email),
                        b"AlternateEmail" => (6, "AlternateEmail", &mut u.pascal_alternate_email),
                        b"state" => (7, "state", &mut u.state),
                        b"State" => (8, "State", &mut u.pascal_state),
                        other => {
                            let flag = match other {
                                b"suspended" => (9, "suspended", &mut u.suspended),
                                b"Suspended" => (10, "Suspended", &mut u.pascal_suspended),
                                b"password_expired" => {
                                    (11, "password_expired", &mut u.password_expired)
                                }
                                // JumpCloud's own Slack attribute mapping spells it so; either
                                // spelling fills one field.
                                b"PasswordExpired" | b"passwordExpired" => (
                                    12,
                                    "PasswordExpired/passwordExpired",
                                    &mut u.pascal_password_expired,
                                ),
                                b"account_locked" => (13, "account_locked", &mut u.account_locked),
                                b"AccountLocked" | b"accountLocked" => (
                                    14,
                                    "AccountLocked/accountLocked",
                                    &mut u.pascal_account_locked,
                                ),
                                b"type" => {
                                    seen.first(15, "type")?;
                                    let kind = map.next_value::<OptCow<'de>>()?.0;
                                    u.group = kind.is_some_and(|k| k == "user_group");
                                    continue;
                                }
                                other => {
                                    match other {
                                        b"userName" => u.scim_user_name = true,
                                        b"ssoUrl" => u.sso_url = true,
                                        _ => {}
                                    }
                                    map.next_value::<IgnoredAny>()?;
                                    continue;
                                }
                            };
                            seen.first(flag.0, flag.1)?;
                            *flag.2 = map.next_value::<OptBool>()?.0;
                            continue;
                        }
                    };
                    seen.first(text.0, text.1)?;
                    *text.2 = map.next_value::<OptCow<'de>>()?.0;
                }
                Ok(u)
            }
        }
        d.deserialize_map(V)
    }
}

/// The fields the analysis reads from any JumpCloud user record, whatever its source (borrowed
/// from the page when they can be).
pub(in crate::source) struct RawUser<'a> {
    pub(in crate::source) id: Option<Cow<'a, str>>,
    pub(in crate::source) email: Option<Cow<'a, str>>,
    pub(in crate::source) alternate_email: Option<Cow<'a, str>>,
    pub(in crate::source) state: Option<Cow<'a, str>>,
    pub(in crate::source) suspended: Option<bool>,
    pub(in crate::source) password_expired: Option<bool>,
    pub(in crate::source) account_locked: Option<bool>,
}

/// Which status fields a set of user records carried at all (in any record).
#[derive(Clone, Copy, Debug, Default)]
pub(in crate::source) struct StatusFields {
    pub(in crate::source) state: bool,
    pub(in crate::source) suspended: bool,
    pub(in crate::source) password_expired: bool,
}

impl StatusFields {
    pub(in crate::source) fn add(&mut self, other: Self) {
        self.state |= other.state;
        self.suspended |= other.suspended;
        self.password_expired |= other.password_expired;
    }
}

impl RawUser<'_> {
    /// The status fields this record carries.
    pub(in crate::source) fn status_fields(&self) -> StatusFields {
        StatusFields {
            state: self.state.is_some(),
            suspended: self.suspended.is_some(),
            password_expired: self.password_expired.is_some(),
        }
    }

    /// Validates a record; `record` names it in errors.
    pub(in crate::source) fn into_user(
        self,
        path: &Path,
        record: impl Fn() -> String,
    ) -> Result<JcUser, Error> {
        let bad = |problem: String| Error::Record {
            path: path.to_path_buf(),
            record: record(),
            problem,
        };
        let id = non_empty_cow(self.id).ok_or_else(|| bad("user has no _id/id/Id".to_owned()))?;
        let email = self
            .email
            .as_deref()
            .and_then(Email::parse)
            .ok_or_else(|| bad(format!("user {id} has no email")))?;
        let alternate_email = self.alternate_email.as_deref().and_then(Email::parse);
        // A placeholder (`N/A`) would join unrelated users as one duplicate email.
        for (field, value) in [
            ("email", Some(&email)),
            ("alternateEmail", alternate_email.as_ref()),
        ] {
            if let Some(problem) = value.and_then(Email::problem) {
                let shown = crate::render::visible(value.map_or("", Email::as_str));
                return Err(bad(format!("user {id}: {field} `{shown}` {problem}")));
            }
        }
        let state = JcState::parse(self.state.as_deref()).map_err(|other| {
            bad(format!(
                "user {id} has state {other:?}, none of ACTIVATED, STAGED, SUSPENDED: its status cannot be judged"
            ))
        })?;
        Ok(JcUser {
            id,
            email,
            alternate_email,
            state,
            suspended: self.suspended.unwrap_or(false),
            password_expired: self.password_expired.unwrap_or(false),
            account_locked: self.account_locked.unwrap_or(false),
        })
    }
}

impl<'a> RawUser<'a> {
    /// The record's fields, each from whichever of its spellings it carries; spellings that
    /// disagree are an error.
    pub(super) fn from_wire(w: WireUser<'a>) -> Result<Self, String> {
        Ok(Self {
            id: agreed_text("`_id`, `id` and `Id`", [w.underscore_id, w.id, w.pascal_id])?,
            email: agreed_text("`email` and `Email`", [w.email, w.pascal_email])?,
            alternate_email: agreed_text(
                "`alternateEmail` and `AlternateEmail`",
                [w.alternate_email, w.pascal_alternate_email],
            )?,
            state: agreed_text("`state` and `State`", [w.state, w.pascal_state])?,
            suspended: agreed(
                "`suspended` and `Suspended`",
                [w.suspended, w.pascal_suspended],
            )?,
            password_expired: agreed(
                "`password_expired` and `PasswordExpired`",
                [w.password_expired, w.pascal_password_expired],
            )?,
            account_locked: agreed(
                "`account_locked` and `AccountLocked`",
                [w.account_locked, w.pascal_account_locked],
            )?,
        })
    }
}

#[derive(Deserialize)]
pub(super) struct WireGroup {
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) id: Option<String>,
    #[serde(default, rename = "_id", deserialize_with = "opt_string")]
    pub(super) underscore_id: Option<String>,
    #[serde(default, rename = "Id", deserialize_with = "opt_string")]
    pub(super) pascal_id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) name: Option<String>,
    #[serde(default, rename = "Name", deserialize_with = "opt_string")]
    pub(super) pascal_name: Option<String>,
}

/// A graph record: `GraphConnection` (`{to:{id,type}}`), `GraphObjectWithPaths` (`{id,type}`)
/// or the PowerShell SDK's flat `{ToId, ToType}`.
#[derive(Deserialize)]
pub(super) struct WireGraph {
    #[serde(default)]
    pub(super) to: Option<WireGraphTo>,
    #[serde(default, rename = "ToId", deserialize_with = "opt_string")]
    pub(super) to_id: Option<String>,
    #[serde(default, rename = "ToType", deserialize_with = "opt_target")]
    pub(super) to_type: Option<Target>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) id: Option<String>,
    #[serde(default, rename = "Id", deserialize_with = "opt_string")]
    pub(super) pascal_id: Option<String>,
    #[serde(default, rename = "type", deserialize_with = "opt_target")]
    pub(super) kind: Option<Target>,
    #[serde(default, rename = "Type", deserialize_with = "opt_target")]
    pub(super) pascal_kind: Option<Target>,
}

#[derive(Deserialize)]
pub(super) struct WireGraphTo {
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) id: Option<String>,
    #[serde(default, rename = "type", deserialize_with = "opt_target")]
    pub(super) kind: Option<Target>,
}

/// What a graph record points at (its `type`), read without allocating: a group export holds
/// millions of these.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Target {
    User,
    UserGroup,
    Application,
    Other,
}

impl fmt::Display for Target {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::User => "user",
            Self::UserGroup => "user_group",
            Self::Application => "application",
            Self::Other => "another type",
        })
    }
}

/// A graph `type`: `None` for null or blank.
fn opt_target<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Target>, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = Option<Target>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string, a number or null")
        }
        fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
            Ok(match v {
                "user" => Some(Target::User),
                "user_group" => Some(Target::UserGroup),
                "application" => Some(Target::Application),
                v if v.trim().is_empty() => None,
                _ => Some(Target::Other),
            })
        }
        fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
            Ok(Some(Target::Other))
        }
        fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
            Ok(Some(Target::Other))
        }
        fn visit_none<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_unit<E>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
    }
    d.deserialize_any(V)
}

impl WireGraph {
    /// `(id, type)`; the type is `None` when the record does not say. Spellings that disagree
    /// are an error: which target is meant cannot be known.
    pub(super) fn target(self) -> Result<(Option<String>, Option<Target>), String> {
        let (to_id, to_kind) = self.to.map_or((None, None), |t| (t.id, t.kind));
        Ok((
            agreed_id(
                "`to.id`, `ToId`, `id` and `Id`",
                [to_id, self.to_id, self.id, self.pascal_id],
            )?,
            agreed(
                "`to.type`, `ToType`, `type` and `Type`",
                [to_kind, self.to_type, self.kind, self.pascal_kind],
            )?,
        ))
    }
}

#[derive(Deserialize)]
pub(super) struct WireApp {
    #[serde(default, rename = "_id", deserialize_with = "opt_string")]
    pub(super) underscore_id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) id: Option<String>,
    #[serde(default, rename = "Id", deserialize_with = "opt_string")]
    pub(super) pascal_id: Option<String>,
    #[serde(default, deserialize_with = "opt_string")]
    pub(super) name: Option<String>,
    #[serde(
        default,
        rename = "displayName",
        alias = "DisplayName",
        deserialize_with = "opt_string"
    )]
    pub(super) display_name: Option<String>,
    #[serde(
        default,
        rename = "displayLabel",
        alias = "DisplayLabel",
        deserialize_with = "opt_string"
    )]
    pub(super) display_label: Option<String>,
    #[serde(default)]
    pub(super) config: Option<serde_json::Value>,
}

impl WireApp {
    pub(super) fn sp_url(&self) -> Option<String> {
        let config = self.config.as_ref()?;
        ["acsUrl", "spEntityId"].iter().find_map(|k| {
            config
                .get(k)
                .and_then(|v| v.get("value").or(Some(v)))
                .and_then(serde_json::Value::as_str)
                .map(str::to_owned)
                .filter(|s| !s.trim().is_empty())
        })
    }
}

#[derive(Deserialize)]
pub(super) struct WireManifest {
    #[serde(default)]
    pub(super) slack_app_ids: Option<Vec<String>>,
}
