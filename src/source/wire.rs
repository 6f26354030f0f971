//! Lenient field readers shared by the wire types: real exports put `null`, `""`, strings for
//! booleans and numbers for ids where a schema would not.

use std::fmt;

use std::borrow::Cow;

use serde::Deserialize;
use serde::de::{self, Deserializer, Visitor};

/// A boolean that may arrive as `true`, `"True"`, `"yes"`, `1`, `""` or `null`.
pub(super) fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = Option<bool>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a boolean, \"true\"/\"false\", 0/1 or null")
        }
        fn visit_bool<E>(self, v: bool) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
            match v {
                0 => Ok(Some(false)),
                1 => Ok(Some(true)),
                _ => Err(E::invalid_value(de::Unexpected::Unsigned(v), &self)),
            }
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            u64::try_from(v)
                .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
                .and_then(|v| self.visit_u64(v))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            parse_bool(v).map_err(|()| E::invalid_value(de::Unexpected::Str(v), &self))
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

/// Parses the spellings of a boolean that exports use; `Ok(None)` for an empty value.
pub(super) fn parse_bool(v: &str) -> Result<Option<bool>, ()> {
    let v = v.trim();
    if v.is_empty() {
        return Ok(None);
    }
    for t in ["true", "yes", "y", "t", "1"] {
        if v.eq_ignore_ascii_case(t) {
            return Ok(Some(true));
        }
    }
    for f in ["false", "no", "n", "f", "0"] {
        if v.eq_ignore_ascii_case(f) {
            return Ok(Some(false));
        }
    }
    Err(())
}

/// A string that may arrive as a number (some exports write numeric ids) or `null`.
pub(super) fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = Option<String>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string, a number or null")
        }
        fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(v.to_owned()))
        }
        fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(v.to_string()))
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

/// [`opt_string`] that borrows from the input when it can (no allocation per field).
pub(super) fn opt_cow<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Cow<'de, str>>, D::Error> {
    struct V;
    impl<'de> Visitor<'de> for V {
        type Value = Option<Cow<'de, str>>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string, a number or null")
        }
        fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Borrowed(v)))
        }
        fn visit_str<E>(self, v: &str) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(v.to_owned())))
        }
        fn visit_string<E>(self, v: String) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(v)))
        }
        fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(v.to_string())))
        }
        fn visit_i64<E>(self, v: i64) -> Result<Self::Value, E> {
            Ok(Some(Cow::Owned(v.to_string())))
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

/// `Some(s)` when `s` is non-empty after trimming, owned.
pub(super) fn non_empty_cow(s: Option<Cow<'_, str>>) -> Option<String> {
    s.map(|v| crate::model::trim(&v).to_owned())
        .filter(|v| !v.is_empty())
}

/// A count that may arrive as a number, a numeric string or `null`.
pub(super) fn opt_count<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    struct V;
    impl Visitor<'_> for V {
        type Value = Option<u64>;
        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a non-negative integer or null")
        }
        fn visit_u64<E>(self, v: u64) -> Result<Self::Value, E> {
            Ok(Some(v))
        }
        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
            u64::try_from(v)
                .map(Some)
                .map_err(|_| E::invalid_value(de::Unexpected::Signed(v), &self))
        }
        fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
            v.trim()
                .parse()
                .map(Some)
                .map_err(|_| E::invalid_value(de::Unexpected::Str(v), &self))
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

/// `Some(s)` when `s` is non-empty after trimming.
pub(super) fn non_empty(s: Option<String>) -> Option<String> {
    s.map(|v| crate::model::trim(&v).to_owned())
        .filter(|v| !v.is_empty())
}

/// The first non-empty of several alias fields.
pub(super) fn first_of<const N: usize>(candidates: [Option<String>; N]) -> Option<String> {
    candidates.into_iter().find_map(non_empty)
}

/// Parses SCIM timestamps: RFC 3339 (`2019-07-24T00:55:02-07:00`) and Slack's colon-less
/// offsets (`2024-04-10T00:00:00+0000`).
pub(super) fn timestamp(raw: &str) -> Option<jiff::Timestamp> {
    let raw = raw.trim();
    raw.parse::<jiff::Timestamp>().ok().or_else(|| {
        jiff::fmt::strtime::parse("%Y-%m-%dT%H:%M:%S%z", raw)
            .and_then(|t| t.to_timestamp())
            .ok()
    })
}

/// A map key as raw bytes, borrowed from the page when it has no escapes.
pub(crate) struct Key<'a>(pub(crate) Cow<'a, [u8]>);

impl<'de> Deserialize<'de> for Key<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Key<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a key")
            }
            fn visit_borrowed_bytes<E>(self, v: &'de [u8]) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v)))
            }
            fn visit_bytes<E>(self, v: &[u8]) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.to_vec())))
            }
            fn visit_borrowed_str<E>(self, v: &'de str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Borrowed(v.as_bytes())))
            }
            fn visit_str<E>(self, v: &str) -> Result<Key<'de>, E> {
                Ok(Key(Cow::Owned(v.as_bytes().to_vec())))
            }
        }
        d.deserialize_bytes(V)
    }
}

/// The fields of a record (or a page's envelope) read so far, one bit each, so that a key given
/// twice is an error rather than a silent last-one-wins: one test per key and no allocation (the
/// user visitors read a million records).
#[derive(Clone, Copy, Default)]
pub(super) struct Seen(u32);

impl Seen {
    /// Marks field `bit` as read; serde's `duplicate field` error naming `key` when it was read
    /// before (`Error::json` turns that into [`Error::DuplicateKey`](super::Error::DuplicateKey)).
    #[inline]
    pub(super) fn first<E: de::Error>(&mut self, bit: u32, key: &'static str) -> Result<(), E> {
        let mask = 1 << bit;
        if self.0 & mask != 0 {
            return Err(E::duplicate_field(key));
        }
        self.0 |= mask;
        Ok(())
    }

    /// Whether field `bit` was read.
    pub(super) fn has(self, bit: u32) -> bool {
        self.0 & (1 << bit) != 0
    }
}

/// The key of serde's `duplicate field` error (from [`Seen`] or a derived `Deserialize`).
pub(super) fn duplicate_field(e: &serde_json::Error) -> Option<String> {
    let text = e.to_string();
    let rest = text.strip_prefix("duplicate field `")?;
    rest.split_once('`').map(|(key, _)| key.to_owned())
}

/// `opt_cow` as a type, for `next_value`.
pub(super) struct OptCow<'a>(pub(super) Option<Cow<'a, str>>);

impl<'de> Deserialize<'de> for OptCow<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        opt_cow(d).map(OptCow)
    }
}

/// `opt_bool` as a type, for `next_value`.
pub(super) struct OptBool(pub(super) Option<bool>);

impl<'de> Deserialize<'de> for OptBool {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        opt_bool(d).map(OptBool)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize)]
    struct B {
        #[serde(default, deserialize_with = "opt_bool")]
        v: Option<bool>,
    }

    fn b(json: &str) -> Result<Option<bool>, serde_json::Error> {
        serde_json::from_str::<B>(json).map(|b| b.v)
    }

    #[test]
    fn lenient_booleans() {
        assert_eq!(b(r#"{"v":true}"#).unwrap(), Some(true));
        assert_eq!(b(r#"{"v":"False"}"#).unwrap(), Some(false));
        assert_eq!(b(r#"{"v":1}"#).unwrap(), Some(true));
        assert_eq!(b(r#"{"v":null}"#).unwrap(), None);
        assert_eq!(b(r#"{"v":""}"#).unwrap(), None);
        assert_eq!(b(r"{}").unwrap(), None);
        assert!(b(r#"{"v":"maybe"}"#).is_err());
        assert!(b(r#"{"v":7}"#).is_err());
    }

    #[test]
    fn scim_timestamps() {
        let a = timestamp("2019-07-24T00:55:02-07:00").unwrap();
        let b = timestamp("2019-07-24T07:55:02+0000").unwrap();
        assert_eq!(a, b);
        assert!(timestamp("yesterday").is_none());
    }
}
