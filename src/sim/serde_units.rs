//! Serde adapters so scenario files can say `rate = "100k"`, `size = "256mb"`,
//! `repl-timeout = 60` or `repl-diskless-sync = "yes"`: each field accepts a string with a unit
//! or a bare number, and is written back in the shortest exact human form.
//!
//! A value that does not parse fails with a message the TOML reader attaches to the value's
//! span, which is how `Scenario::from_toml` can name the line and field.

use super::units;
use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serializer};

#[derive(Deserialize)]
#[serde(untagged)]
enum Raw {
    Str(String),
    Int(i64),
    Float(f64),
    Bool(bool),
}

impl Raw {
    fn text(self) -> String {
        match self {
            Raw::Str(s) => s,
            Raw::Int(i) => i.to_string(),
            Raw::Float(f) => f.to_string(),
            Raw::Bool(b) => if b { "yes" } else { "no" }.to_string(),
        }
    }
}

fn raw_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Raw::deserialize(d).map(Raw::text)
}

/// Sizes in bytes (`1mb`, `256mb`, `1048576`).
pub mod bytes {
    use super::*;
    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&units::format_bytes(*v))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        units::parse_bytes(&raw_text(d)?).map_err(D::Error::custom)
    }
}

/// Durations in milliseconds; a bare number means milliseconds.
pub mod millis {
    use super::*;
    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&units::format_duration_ms(*v))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        units::parse_duration_ms(&raw_text(d)?, 1).map_err(D::Error::custom)
    }
}

/// Durations in whole seconds (Redis's timers count seconds); a bare number means seconds.
pub mod seconds {
    use super::*;
    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(*v)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        parse(&raw_text(d)?).map_err(D::Error::custom)
    }
    pub fn parse(text: &str) -> Result<u64, String> {
        let ms = units::parse_duration_ms(text, 1000)?;
        if ms % 1000 != 0 {
            return Err(format!("`{text}`: this setting counts whole seconds"));
        }
        Ok(ms / 1000)
    }
}

/// Rates and counts with decimal units (`100k`).
pub mod rate {
    use super::*;
    pub fn serialize<S: Serializer>(v: &f64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&units::format_rate(*v))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        units::parse_rate(&raw_text(d)?).map_err(D::Error::custom)
    }
}

/// Optional size (absent = not set).
pub mod opt_bytes {
    use super::*;
    pub fn serialize<S: Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(b) => s.serialize_str(&units::format_bytes(*b)),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        units::parse_bytes(&raw_text(d)?)
            .map(Some)
            .map_err(D::Error::custom)
    }
}

/// Optional duration in milliseconds.
pub mod opt_millis {
    use super::*;
    pub fn serialize<S: Serializer>(v: &Option<u64>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(b) => s.serialize_str(&units::format_duration_ms(*b)),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
        units::parse_duration_ms(&raw_text(d)?, 1)
            .map(Some)
            .map_err(D::Error::custom)
    }
}

/// Redis booleans (`yes`/`no`), written back as `yes`/`no`.
pub mod yes_no {
    use super::*;
    pub fn serialize<S: Serializer>(v: &bool, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(if *v { "yes" } else { "no" })
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
        units::parse_bool(&raw_text(d)?).map_err(D::Error::custom)
    }
}

/// Plain counts that may be written with a unit (`keys = "10m"`).
pub mod count {
    use super::*;
    pub fn serialize<S: Serializer>(v: &u64, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(*v)
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
        let r = units::parse_rate(&raw_text(d)?).map_err(D::Error::custom)?;
        Ok(r.round() as u64)
    }
}
