//! Why and in which capacity personal data is processed.

use std::borrow::Cow;
use std::fmt;
use std::str::FromStr;

use crate::Error;
use crate::error::echo;

/// The six lawful bases for processing under GDPR Art. 6(1).
///
/// Printed and parsed as snake_case (`legitimate_interests`); serde uses the
/// same names.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
/// Why and in which capacity personal data is processed.
///
/// [`LegalBasis`] is one of the six lawful bases of GDPR Art. 6(1); [`Role`] says
/// whether the helpdesk acts as controller (its own customers' data) or processor
/// (a subscriber's end users' data, Art. 28); [`Purpose`] names what the data is
/// processed for, in the host's own vocabulary.
#[serde(rename_all = "snake_case")]
pub enum LegalBasis {
    /// Art. 6(1)(a): the person consented.
    Consent,
    /// Art. 6(1)(b): needed for a contract with the person.
    Contract,
    /// Art. 6(1)(c): needed to comply with a legal obligation.
    LegalObligation,
    /// Art. 6(1)(d): needed to protect someone's vital interests.
    VitalInterests,
    /// Art. 6(1)(e): a task in the public interest or official authority.
    PublicTask,
    /// Art. 6(1)(f): the controller's or a third party's legitimate interests.
    LegitimateInterests,
}

impl LegalBasis {
    /// All six, in the order of Art. 6(1).
    pub const ALL: [LegalBasis; 6] = [
        LegalBasis::Consent,
        LegalBasis::Contract,
        LegalBasis::LegalObligation,
        LegalBasis::VitalInterests,
        LegalBasis::PublicTask,
        LegalBasis::LegitimateInterests,
    ];

    /// The snake_case name used by `Display`, `FromStr` and serde.
    pub const fn as_str(&self) -> &'static str {
        match self {
            LegalBasis::Consent => "consent",
            LegalBasis::Contract => "contract",
            LegalBasis::LegalObligation => "legal_obligation",
            LegalBasis::VitalInterests => "vital_interests",
            LegalBasis::PublicTask => "public_task",
            LegalBasis::LegitimateInterests => "legitimate_interests",
        }
    }

    /// The article reference: `"Art. 6(1)(a)"` for consent, and so on.
    pub const fn article(&self) -> &'static str {
        match self {
            LegalBasis::Consent => "Art. 6(1)(a)",
            LegalBasis::Contract => "Art. 6(1)(b)",
            LegalBasis::LegalObligation => "Art. 6(1)(c)",
            LegalBasis::VitalInterests => "Art. 6(1)(d)",
            LegalBasis::PublicTask => "Art. 6(1)(e)",
            LegalBasis::LegitimateInterests => "Art. 6(1)(f)",
        }
    }

    /// Whether the right to data portability (Art. 20(1)(a)) can apply:
    /// only to processing based on consent or contract.
    pub const fn allows_portability(&self) -> bool {
        matches!(self, LegalBasis::Consent | LegalBasis::Contract)
    }

    /// Whether the right to object (Art. 21(1)) can apply: only to processing
    /// based on a public task or legitimate interests.
    pub const fn allows_objection(&self) -> bool {
        matches!(
            self,
            LegalBasis::PublicTask | LegalBasis::LegitimateInterests
        )
    }
}

impl fmt::Display for LegalBasis {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for LegalBasis {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        LegalBasis::ALL
            .into_iter()
            .find(|basis| basis.as_str() == s)
            .ok_or_else(|| Error::InvalidLegalBasis { input: echo(s) })
    }
}

/// The capacity in which the helpdesk processes a piece of personal data.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Decides why and how the data is processed (Art. 4(7)); answers
    /// data-subject requests and notifies breaches to the authority.
    Controller,
    /// Processes on a controller's behalf (Art. 4(8), Art. 28); forwards requests
    /// and reports breaches to the controller.
    Processor,
}

impl Role {
    /// `"controller"` or `"processor"`.
    pub const fn as_str(&self) -> &'static str {
        match self {
            Role::Controller => "controller",
            Role::Processor => "processor",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.as_str())
    }
}

impl FromStr for Role {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        match s {
            "controller" => Ok(Role::Controller),
            "processor" => Ok(Role::Processor),
            _ => Err(Error::InvalidRole { input: echo(s) }),
        }
    }
}

/// The longest purpose name, in bytes.
pub const MAX_PURPOSE_LEN: usize = 64;

/// A purpose of processing (Art. 5(1)(b)): a short lower-case name such as
/// `support` or `ai_summarisation`.
///
/// A name starts with a letter and holds lower-case ASCII letters, digits, `_`
/// and `-`, at most [`MAX_PURPOSE_LEN`] bytes. The constants cover what every
/// helpdesk does; hosts name their own with [`Purpose::new`].
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Purpose(Cow<'static, str>);

impl Purpose {
    /// Answering support requests: the helpdesk's reason to exist.
    pub const SUPPORT: Purpose = Purpose(Cow::Borrowed("support"));
    /// Invoicing and collecting payment.
    pub const BILLING: Purpose = Purpose(Cow::Borrowed("billing"));
    /// Keeping the service and its data secure (logs, fraud and abuse detection).
    pub const SECURITY: Purpose = Purpose(Cow::Borrowed("security"));
    /// Measuring and improving the service.
    pub const ANALYTICS: Purpose = Purpose(Cow::Borrowed("analytics"));
    /// Sending marketing; the person may object at any time (Art. 21(2)).
    pub const MARKETING: Purpose = Purpose(Cow::Borrowed("marketing"));
    /// Meeting legal obligations: tax records, law-enforcement requests.
    pub const LEGAL_COMPLIANCE: Purpose = Purpose(Cow::Borrowed("legal_compliance"));
    /// Handing data to an AI model, e.g. to summarise or triage tickets.
    pub const AI_ASSISTANCE: Purpose = Purpose(Cow::Borrowed("ai_assistance"));

    /// A purpose by name.
    pub fn new(name: impl Into<Cow<'static, str>>) -> Result<Purpose, Error> {
        let name = name.into();
        let fail = |reason: &str| Error::InvalidPurpose {
            input: echo(&name),
            reason: reason.to_owned(),
        };
        if name.is_empty() {
            return Err(fail("a purpose cannot be empty"));
        }
        if name.len() > MAX_PURPOSE_LEN {
            return Err(fail("longer than 64 bytes"));
        }
        if !name.starts_with(|c: char| c.is_ascii_lowercase()) {
            return Err(fail("must start with a lower-case letter"));
        }
        if !name
            .bytes()
            .all(|b| matches!(b, b'a'..=b'z' | b'0'..=b'9' | b'_' | b'-'))
        {
            return Err(fail("use lower-case letters, digits, _ and -"));
        }
        Ok(Purpose(name))
    }

    /// The name.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl FromStr for Purpose {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Purpose::new(s.to_owned())
    }
}

impl fmt::Display for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(&self.0)
    }
}

impl fmt::Debug for Purpose {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Purpose({})", self.0)
    }
}

impl serde::Serialize for Purpose {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> serde::Deserialize<'de> for Purpose {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Purpose::new(String::deserialize(deserializer)?).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn legal_bases_follow_article_6() {
        let letters: Vec<&str> = LegalBasis::ALL.iter().map(|b| b.article()).collect();
        assert_eq!(
            letters,
            [
                "Art. 6(1)(a)",
                "Art. 6(1)(b)",
                "Art. 6(1)(c)",
                "Art. 6(1)(d)",
                "Art. 6(1)(e)",
                "Art. 6(1)(f)"
            ]
        );
        assert!(LegalBasis::Consent.allows_portability());
        assert!(!LegalBasis::LegitimateInterests.allows_portability());
        assert!(LegalBasis::LegitimateInterests.allows_objection());
        assert!(!LegalBasis::Contract.allows_objection());
        assert!("Consent".parse::<LegalBasis>().is_err());
    }

    #[test]
    fn roles_parse() {
        assert_eq!("processor".parse::<Role>().unwrap(), Role::Processor);
        assert!("owner".parse::<Role>().is_err());
    }

    #[test]
    fn purpose_names_are_slugs() {
        assert_eq!(
            Purpose::new("ai_summarisation").unwrap().as_str(),
            "ai_summarisation"
        );
        assert_eq!(
            Purpose::new("sla-reporting").unwrap().as_str(),
            "sla-reporting"
        );
        for bad in [
            "",
            "Support",
            "1st-line",
            "support desk",
            "résumé",
            &"x".repeat(65),
        ] {
            assert!(bad.parse::<Purpose>().is_err(), "{bad:?}");
        }
        for constant in [
            Purpose::SUPPORT,
            Purpose::BILLING,
            Purpose::SECURITY,
            Purpose::ANALYTICS,
            Purpose::MARKETING,
            Purpose::LEGAL_COMPLIANCE,
            Purpose::AI_ASSISTANCE,
        ] {
            assert_eq!(constant.as_str().parse::<Purpose>().unwrap(), constant);
        }
    }
}
