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

/// Parts of member states that have ISO 3166-1 codes of their own and are
/// EU territory, where the Treaties and so the GDPR apply:
///
/// - the outermost regions of Art. 349 TFEU with a code of their own,
///   made part of the EU by Art. 355(1) TFEU: Guadeloupe (`GP`), French
///   Guiana (`GF`), Martinique (`MQ`), Mayotte (`YT`, an outermost region
///   since 2014, European Council Decision 2012/419/EU), Réunion (`RE`) and
///   Saint-Martin (`MF`);
/// - Åland (`AX`), to which the Treaties apply under Art. 355(4) TFEU and
///   Protocol No 2 to the 1994 Act of Accession (its derogations concern
///   taxes and establishment, not data protection).
///
/// The other outermost regions (Canary Islands, Azores, Madeira) and Ceuta
/// and Melilla have no officially assigned code: they are `ES` and `PT`.
/// Not EU territory, so not listed: Saint-Barthélemy (`BL`, an overseas
/// country or territory since 2012, European Council Decision
/// 2010/718/EU) and the other overseas countries and territories of Annex
/// II TFEU, which Art. 355(2) TFEU associates but does not make part of the
/// EU (`AW`, `BQ`, `CW`, `GL`, `NC`, `PF`, `PM`, `SX`, `TF`, `WF`); the
/// Faroe Islands (`FO`, excluded by Art. 355(5)(a) TFEU); Gibraltar (`GI`,
/// which left with the United Kingdom on 31 January 2020).
const EU_TERRITORIES: &str = "AX GF GP MF MQ RE YT";

/// The EEA members outside the EU (Iceland, Liechtenstein, Norway).
///
/// Svalbard and Jan Mayen (`SJ`) is not EEA: Protocol 40 to the EEA
/// Agreement excludes Svalbard, and Jan Mayen shares its code, so a region
/// given as `SJ` cannot be placed inside the EEA (a false denial, never a
/// false allowance). Bouvet Island (`BV`), a Norwegian dependency, is not
/// part of the Kingdom's territory to which the Agreement applies (Art.
/// 126(1) EEA).
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
    /// `other`: the region itself, and for [`Region::EU`] every region
    /// [`is_eu`](Region::is_eu) answers for (data stored in `DE` or in `RE`
    /// is data stored in the EU). Not the other way round: a rule for `DE`
    /// does not cover data placed in the EU as a whole, whose country is
    /// not known, and a rule for `FR` does not cover `RE`, which has a code
    /// of its own.
    pub fn covers(&self, other: Region) -> bool {
        *self == other || (*self == Region::EU && other.is_eu())
    }

    /// Whether the region is EU territory: the EU itself, one of its 27
    /// member states, or a part of a member state with a code of its own to
    /// which the Treaties apply: the outermost regions Guadeloupe (`GP`),
    /// French Guiana (`GF`), Martinique (`MQ`), Mayotte (`YT`), Réunion
    /// (`RE`) and Saint-Martin (`MF`) (Art. 349 and 355(1) TFEU), and Åland
    /// (`AX`, Art. 355(4) TFEU). The overseas countries and territories
    /// (Art. 355(2) TFEU: Greenland, New Caledonia, Saint-Barthélemy, ...),
    /// the Faroe Islands and Gibraltar are not.
    pub fn is_eu(&self) -> bool {
        *self == Region::EU || listed(EU_MEMBERS, self.0) || listed(EU_TERRITORIES, self.0)
    }

    /// Whether the region is in the European Economic Area, where the GDPR
    /// applies directly: EU territory ([`is_eu`](Region::is_eu), so the
    /// outermost regions and Åland too) plus Iceland, Liechtenstein and
    /// Norway. Svalbard and Jan Mayen (`SJ`) is not: the EEA Agreement does
    /// not apply to Svalbard (Protocol 40), and the code covers both.
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
        assert_eq!(EU_TERRITORIES.split(' ').count(), 7);
        for member in EU_MEMBERS
            .split(' ')
            .chain(EU_TERRITORIES.split(' '))
            .chain(EEA_ONLY.split(' '))
        {
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
    fn every_code_agrees_on_eu_eea_and_covers() {
        let mut eu = Vec::new();
        let mut eea = Vec::new();
        for code in ISO_3166_ALPHA2.split(' ') {
            let region = Region::custom(code).unwrap();
            assert_eq!(Region::EU.covers(region), region.is_eu(), "{code}");
            assert!(!region.is_eu() || region.is_eea(), "{code}");
            if region.is_eu() {
                eu.push(code);
            }
            if region.is_eea() {
                eea.push(code);
            }
        }
        // 27 member states and 7 parts with codes of their own; GB is the UK.
        assert_eq!(eu.len(), 34, "{eu:?}");
        assert_eq!(eea.len(), 37, "{eea:?}");
        for code in ["IS", "LI", "NO"] {
            assert!(eea.contains(&code) && !eu.contains(&code));
        }
    }

    #[test]
    fn the_eu_covers_its_territory_only() {
        let [de, no, ch] = ["DE", "NO", "CH"].map(|c| Region::custom(c).unwrap());
        assert!(Region::EU.covers(de) && Region::EU.covers(Region::EU));
        assert!(!Region::EU.covers(no) && !Region::EU.covers(ch) && !Region::EU.covers(Region::UK));
        assert!(!de.covers(Region::EU) && de.covers(de) && !Region::US.covers(de));
    }
}
