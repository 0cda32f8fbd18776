//! Record metadata: what evaluation needs to know about a stored record.

use std::collections::BTreeMap;

use custodia_core::{DataCategory, Region, SubjectId, TenantId, Timestamp};

use serde::Deserialize;

use crate::Error;

/// The metadata of one stored record (a ticket, a log line, a contact).
///
/// Its JSON form is one line of a records file (unknown keys are ignored, so
/// an export may carry more):
///
/// ```json
/// {"id":"t-1","tenant":"6a1e52c4-0b8e-4a57-9d3f-2c7e8f10c057","category":"user.content.ticket",
///  "subject":"0f8fad5b-d9cb-469f-a165-70867728950e","region":"EU","labels":{},
///  "created":"2026-01-01T00:00:00Z","events":{"closed":"2026-02-01T00:00:00Z"}}
/// ```
///
/// `subject`, `region`, `labels` and `events` may be left out. An event is
/// taken as having happened once it is present, whatever its timestamp, so a
/// decision depends only on the record and the policy, never on when it is
/// asked (which keeps evaluation monotone in time).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RetentionRecord {
    /// The host's id for the record.
    pub id: String,
    /// The tenant it belongs to.
    #[serde(deserialize_with = "parsed")]
    pub tenant: TenantId,
    /// What kind of data it is.
    pub category: DataCategory,
    /// The person it is about, if any.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "parsed_option"
    )]
    pub subject: Option<SubjectId>,
    /// Where it is stored, if the host tracks it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub region: Option<Region>,
    /// Free-form labels (`legal = "contract"`), matched by rule selectors.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// When it was created: the `created` trigger.
    #[serde(deserialize_with = "timestamp")]
    pub created: Timestamp,
    /// When other trigger events happened (`closed`, `last_activity`,
    /// `account_terminated`, custom events), and which dispositions were
    /// already applied (`anonymized`, `archived`, `reviewed`; see [`Sweep`](crate::Sweep) and [`Disposition::done_event`](crate::Disposition::done_event)).
    #[serde(default, deserialize_with = "events")]
    pub events: BTreeMap<String, Timestamp>,
}

/// Parses an RFC 3339 timestamp (custodia-core's parser, with its fast path
/// for `YYYY-MM-DDTHH:MM:SSZ`), the error as text for serde.
fn parse_timestamp(s: &str) -> Result<Timestamp, String> {
    custodia_core::parse_timestamp(s).map_err(|e| e.to_string())
}

fn timestamp<'de, D: serde::Deserializer<'de>>(deserializer: D) -> Result<Timestamp, D::Error> {
    struct Visitor;
    impl serde::de::Visitor<'_> for Visitor {
        type Value = Timestamp;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("an RFC 3339 timestamp")
        }

        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Timestamp, E> {
            parse_timestamp(v).map_err(E::custom)
        }
    }
    deserializer.deserialize_str(Visitor)
}

/// A value parsed from a string by its `FromStr`, whose error names the field
/// ("invalid tenant id ...").
fn parsed<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr<Err = custodia_core::Error>,
{
    struct Visitor<T>(std::marker::PhantomData<T>);
    impl<T: std::str::FromStr<Err = custodia_core::Error>> serde::de::Visitor<'_> for Visitor<T> {
        type Value = T;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a string")
        }

        fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<T, E> {
            v.parse().map_err(E::custom)
        }
    }
    deserializer.deserialize_str(Visitor(std::marker::PhantomData))
}

fn parsed_option<'de, D, T>(deserializer: D) -> Result<Option<T>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: std::str::FromStr<Err = custodia_core::Error>,
{
    /// `T` through [`parsed`], for `Option`'s own deserializer.
    struct Parsed<T>(T);
    impl<'de, T: std::str::FromStr<Err = custodia_core::Error>> Deserialize<'de> for Parsed<T> {
        fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            parsed(deserializer).map(Parsed)
        }
    }
    Ok(<Option<Parsed<T>>>::deserialize(deserializer)?.map(|p| p.0))
}

/// A timestamp in a map value position.
struct FastTimestamp(Timestamp);

impl<'de> serde::Deserialize<'de> for FastTimestamp {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        timestamp(deserializer).map(FastTimestamp)
    }
}

fn events<'de, D: serde::Deserializer<'de>>(
    deserializer: D,
) -> Result<BTreeMap<String, Timestamp>, D::Error> {
    let map = BTreeMap::<String, FastTimestamp>::deserialize(deserializer)?;
    Ok(map.into_iter().map(|(k, v)| (k, v.0)).collect())
}

impl RetentionRecord {
    /// A record with no subject, region, labels or events.
    pub fn new(
        id: impl Into<String>,
        tenant: TenantId,
        category: DataCategory,
        created: Timestamp,
    ) -> Self {
        Self {
            id: id.into(),
            tenant,
            category,
            subject: None,
            region: None,
            labels: BTreeMap::new(),
            created,
            events: BTreeMap::new(),
        }
    }

    /// Sets the subject.
    pub fn with_subject(mut self, subject: SubjectId) -> Self {
        self.subject = Some(subject);
        self
    }

    /// Sets the region.
    pub fn with_region(mut self, region: Region) -> Self {
        self.region = Some(region);
        self
    }

    /// Adds a label.
    pub fn with_label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// Records an event.
    pub fn with_event(mut self, name: impl Into<String>, at: Timestamp) -> Self {
        self.events.insert(name.into(), at);
        self
    }

    /// Parses one JSON line; the error says which field was wrong and where,
    /// quoting at most [`MAX_ECHO`](custodia_core::MAX_ECHO) characters of
    /// any value in the line, in its message and its source alike.
    pub fn from_json(line: &str) -> Result<Self, Error> {
        serde_json::from_str(line)
            .map_err(|e| Error::Record(custodia_core::echo_json_error(e).into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fast_timestamps_agree_with_chrono() {
        for s in [
            "2026-01-31T23:59:59Z",
            "2024-02-29T00:00:00Z",
            "1970-01-01T00:00:00Z",
            "0001-01-01T00:00:00Z",
            "9999-12-31T23:59:59Z",
        ] {
            assert_eq!(
                parse_timestamp(s),
                Ok(s.parse::<Timestamp>().unwrap()),
                "{s}"
            );
        }
        // Other spellings go to chrono.
        for s in [
            "2026-01-31T23:59:59.5Z",
            "2026-01-31T23:59:59+02:00",
            "2026-01-31T23:59:60Z",
        ] {
            assert_eq!(
                parse_timestamp(s),
                Ok(s.parse::<Timestamp>().unwrap()),
                "{s}"
            );
        }
        for s in [
            "2023-02-29T00:00:00Z",
            "2026-13-01T00:00:00Z",
            "2026-01-01T24:00:00Z",
            "2026-0a-01T00:00:00Z",
            "yesterday",
        ] {
            assert!(parse_timestamp(s).is_err(), "{s}");
            assert!(s.parse::<Timestamp>().is_err(), "{s}");
        }
    }
}
