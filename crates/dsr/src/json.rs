//! Versioned JSON documents.

use serde::de::DeserializeOwned;

use crate::Error;

/// Parses `text` as a JSON object whose `version` field must equal `supported`,
/// then as `T`. Version first, so a newer document gets a version error rather
/// than a confusing shape error. Errors quote at most
/// [`MAX_ECHO`](custodia_core::MAX_ECHO) characters of any value in `text`.
pub(crate) fn decode_versioned<T: DeserializeOwned>(
    text: &str,
    what: &'static str,
    supported: u32,
) -> Result<T, Error> {
    // serde quotes a mistyped value whole, and these documents hold personal
    // data: message and source carry at most a short prefix of it.
    let decode = |e: serde_json::Error| {
        let e = custodia_core::echo_json_error(e);
        Error::Decode {
            what,
            message: e.to_string(),
            source: Some(e.into()),
        }
    };
    let value: serde_json::Value = serde_json::from_str(text).map_err(decode)?;
    let found = value
        .get("version")
        .and_then(serde_json::Value::as_u64)
        .ok_or_else(|| Error::Decode {
            what,
            message: "missing or non-numeric \"version\" field".into(),
            source: None,
        })?;
    if found != u64::from(supported) {
        return Err(Error::UnsupportedVersion {
            what,
            found: u32::try_from(found).unwrap_or(u32::MAX),
            supported,
        });
    }
    serde_json::from_value(value).map_err(decode)
}

/// Pretty JSON of a document.
pub(crate) fn encode<T: serde::Serialize>(value: &T, what: &'static str) -> Result<String, Error> {
    serde_json::to_string_pretty(value).map_err(|e| Error::Encode {
        what,
        source: e.into(),
    })
}

/// Refuses a document whose `schema` names another kind of document.
pub(crate) fn check_schema(found: &str, expected: &str, what: &'static str) -> Result<(), Error> {
    if found == expected {
        Ok(())
    } else {
        Err(Error::Decode {
            what,
            message: format!(
                "schema {:?}, expected {expected:?}",
                found.chars().take(80).collect::<String>()
            ),
            source: None,
        })
    }
}
