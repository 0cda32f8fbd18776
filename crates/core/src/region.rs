//! Data regions: where a tenant's data lives.

use std::fmt;
use std::str::FromStr;

use crate::Error;
use crate::error::echo;

/// A data region: a named region or an ISO 3166-1 alpha-2 country.
///
/// Data regions: where a tenant's data lives.
///
/// Helpdesk vendors assign each subscriber to a data region at provisioning
/// ("Australia, Canada, United Kingdom, United States"). A [`Region`] is either
/// one of the six named regions Custodia knows by name ([`Region::AU`],
/// [`Region::CA`], [`Region::EU`], [`Region::NZ`], [`Region::UK`],
/// [`Region::US`]) or any other country by its ISO 3166-1 alpha-2 code
/// ([`Region::custom`]).
///
/// A region is stored as its two-letter code, so there is exactly one value per
/// region. Two codes are not ISO country codes but are reserved for exactly this
/// use by ISO 3166/MA: `EU` (the European Union as a whole) and `UK` (the United
/// Kingdom, whose country code is `GB`; `GB` parses to [`Region::UK`]). Parsing is
/// case-insensitive; printing is upper case.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Region([u8; 2]);

/// Every officially assigned ISO 3166-1 alpha-2 code (249 of them).
const ISO_3166_ALPHA2: &str = "\
AD AE AF AG AI AL AM AO AQ AR AS AT AU AW AX AZ BA BB BD BE BF BG BH BI BJ BL BM BN BO BQ \
BR BS BT BV BW BY BZ CA CC CD CF CG CH CI CK CL CM CN CO CR CU CV CW CX CY CZ DE DJ DK DM \
DO DZ EC EE EG EH ER ES ET FI FJ FK FM FO FR GA GB GD GE GF GG GH GI GL GM GN GP GQ GR GS \
GT GU GW GY HK HM HN HR HT HU ID IE IL IM IN IO IQ IR IS IT JE JM JO JP KE KG KH KI KM KN \
KP KR KW KY KZ LA LB LC LI LK LR LS LT LU LV LY MA MC MD ME MF MG MH MK ML MM MN MO MP MQ \
MR MS MT MU MV MW MX MY MZ NA NC NE NF NG NI NL NO NP NR NU NZ OM PA PE PF PG PH PK PL PM \
PN PR PS PT PW PY QA RE RO RS RU RW SA SB SC SD SE SG SH SI SJ SK SL SM SN SO SR SS ST SV \
SX SY SZ TC TD TF TG TH TJ TK TL TM TN TO TR TT TV TW TZ UA UG UM US UY UZ VA VC VE VG VI \
VN VU WF WS YE YT ZA ZM ZW";

/// The 27 member states of the European Union.
const EU_MEMBERS: &str =
    "AT BE BG CY CZ DE DK EE ES FI FR GR HR HU IE IT LT LU LV MT NL PL PT RO SE SI SK";

/// The EEA members outside the EU (Iceland, Liechtenstein, Norway).
const EEA_ONLY: &str = "IS LI NO";

fn listed(list: &str, code: [u8; 2]) -> bool {
    list.as_bytes().chunks(3).any(|entry| entry[..2] == code)
}

impl Region {
    /// Australia.
    pub const AU: Region = Region(*b"AU");
    /// Canada.
    pub const CA: Region = Region(*b"CA");
    /// The European Union, as one region.
    pub const EU: Region = Region(*b"EU");
    /// New Zealand.
    pub const NZ: Region = Region(*b"NZ");
    /// The United Kingdom.
    pub const UK: Region = Region(*b"UK");
    /// The United States.
    pub const US: Region = Region(*b"US");

    /// The six named regions, in alphabetical order.
    pub const NAMED: [Region; 6] = [
        Region::AU,
        Region::CA,
        Region::EU,
        Region::NZ,
        Region::UK,
        Region::US,
    ];

    /// A region by ISO 3166-1 alpha-2 code, in either case. `GB` gives [`Region::UK`].
    pub fn custom(code: &str) -> Result<Region, Error> {
        let invalid = || Error::InvalidRegion { input: echo(code) };
        let [a, b] = code.as_bytes() else {
            return Err(invalid());
        };
        let upper = [a.to_ascii_uppercase(), b.to_ascii_uppercase()];
        match &upper {
            b"GB" | b"UK" => Ok(Region::UK),
            b"EU" => Ok(Region::EU),
            _ if listed(ISO_3166_ALPHA2, upper) => Ok(Region(upper)),
            _ => Err(invalid()),
        }
    }

    /// The two-letter code, upper case: `"AU"`, `"UK"`, `"DE"`.
    pub fn code(&self) -> &str {
        // Only ASCII letters are ever stored.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }

    /// Whether this is one of the six named regions.
    pub fn is_named(&self) -> bool {
        Region::NAMED.contains(self)
    }

    /// The English name of a named region; `None` for other countries.
    pub fn name(&self) -> Option<&'static str> {
        Some(match &self.0 {
            b"AU" => "Australia",
            b"CA" => "Canada",
            b"EU" => "European Union",
            b"NZ" => "New Zealand",
            b"UK" => "United Kingdom",
            b"US" => "United States",
            _ => return None,
        })
    }

    /// Whether a rule or list naming this region speaks of data in
    /// `other`: the region itself, and for [`Region::EU`] every member
    /// state too (data stored in `DE` is data stored in the EU). Not the
    /// other way round: a rule for `DE` does not cover data placed in the
    /// EU as a whole, whose country is not known.
    pub fn covers(&self, other: Region) -> bool {
        *self == other || (*self == Region::EU && other.is_eu())
    }

    /// Whether the region is the EU or one of its member states.
    pub fn is_eu(&self) -> bool {
        *self == Region::EU || listed(EU_MEMBERS, self.0)
    }

    /// Whether the region is in the European Economic Area (the EU plus Iceland,
    /// Liechtenstein and Norway), where the GDPR applies directly.
    pub fn is_eea(&self) -> bool {
        self.is_eu() || listed(EEA_ONLY, self.0)
    }
}

impl FromStr for Region {
    type Err = Error;

    fn from_str(s: &str) -> Result<Self, Error> {
        Region::custom(s)
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.pad(self.code())
    }
}

impl fmt::Debug for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Region({})", self.code())
    }
}

impl serde::Serialize for Region {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.code())
    }
}

impl<'de> serde::Deserialize<'de> for Region {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Region::custom(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_list_is_complete_and_sorted() {
        let codes: Vec<&str> = ISO_3166_ALPHA2.split(' ').collect();
        assert_eq!(codes.len(), 249);
        assert!(
            codes.windows(2).all(|w| w[0] < w[1]),
            "unsorted or duplicated"
        );
        assert!(codes.iter().all(|c| c.len() == 2));
        assert_eq!(EU_MEMBERS.split(' ').count(), 27);
        for member in EU_MEMBERS.split(' ').chain(EEA_ONLY.split(' ')) {
            assert!(codes.contains(&member), "{member}");
        }
    }

    #[test]
    fn named_regions_parse_in_any_case() {
        for region in Region::NAMED {
            assert_eq!(region.code().parse::<Region>().unwrap(), region);
            assert_eq!(
                region.code().to_lowercase().parse::<Region>().unwrap(),
                region
            );
            assert!(region.is_named());
            assert!(region.name().is_some());
        }
        assert_eq!("gb".parse::<Region>().unwrap(), Region::UK);
        assert_eq!("de".parse::<Region>().unwrap().to_string(), "DE");
    }

    #[test]
    fn invalid_codes_are_rejected() {
        for bad in ["", "A", "AUS", "XX", "ZZ", "1A", "é", "ÅÅ"] {
            let err = bad.parse::<Region>().unwrap_err();
            assert!(matches!(err, Error::InvalidRegion { .. }), "{bad:?}");
        }
    }

    #[test]
    fn eea_membership() {
        assert!(Region::EU.is_eu());
        assert!(Region::custom("FR").unwrap().is_eu());
        assert!(!Region::custom("NO").unwrap().is_eu());
        assert!(Region::custom("NO").unwrap().is_eea());
        assert!(!Region::UK.is_eea());
        assert!(!Region::custom("CH").unwrap().is_eea());
        assert!(!Region::custom("DE").unwrap().is_named());
    }

    #[test]
    fn the_eu_covers_its_member_states_only() {
        let [de, no, ch] = ["DE", "NO", "CH"].map(|c| Region::custom(c).unwrap());
        assert!(Region::EU.covers(de) && Region::EU.covers(Region::EU));
        assert!(!Region::EU.covers(no) && !Region::EU.covers(ch) && !Region::EU.covers(Region::UK));
        assert!(!de.covers(Region::EU) && de.covers(de) && !Region::US.covers(de));
    }
}
