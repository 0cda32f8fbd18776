//! Which regions are EU territory and in the EEA, and what `Region::EU` covers.
//!
//! Found in review (wt-claims2): `Region::is_eea` says the EEA is where the
//! GDPR applies directly, but the EU's outermost regions that have ISO
//! 3166-1 codes of their own (Art. 349 and 355(1) TFEU: Guadeloupe, French
//! Guiana, Martinique, Réunion, Mayotte, Saint-Martin) and Åland (Art.
//! 355(4) TFEU) answered false from `is_eu` and `is_eea`, and `Region::EU`
//! did not cover them, so a transfer from Germany to Réunion was treated as
//! a transfer to a third country.
use custodia_core::Region;

/// EU territory with a code of its own besides the 27 member states.
const EU_TERRITORY: [&str; 7] = ["GP", "GF", "MQ", "RE", "YT", "MF", "AX"];

/// Codes near the EU that are not EU territory (overseas countries and
/// territories, the Faroes, Gibraltar, the micro-states, the Crown
/// dependencies) and not EEA either (Svalbard and Jan Mayen, Bouvet).
const OUTSIDE: [&str; 25] = [
    "BL", "PM", "NC", "PF", "WF", "TF", "GL", "AW", "CW", "SX", "BQ", "FO", "GI", "SJ", "BV", "AD",
    "MC", "SM", "VA", "CH", "GB", "GG", "JE", "IM", "TR",
];

#[test]
fn eu_outermost_regions_and_aland_are_eu_and_eea_and_covered_by_the_eu() {
    for code in EU_TERRITORY {
        let region = Region::custom(code).unwrap();
        assert_eq!(region.code(), code, "{code} parses to itself");
        assert!(
            region.is_eu(),
            "{code} is EU territory, but is_eu() is false"
        );
        assert!(
            region.is_eea(),
            "{code} is EU territory, but is_eea() is false"
        );
        assert!(
            Region::EU.covers(region),
            "{code} is EU territory, but Region::EU does not cover it"
        );
        // Exact otherwise: France does not cover its outermost regions'
        // own codes, nor do they cover the EU.
        assert!(!Region::custom("FR").unwrap().covers(region), "{code}");
        assert!(!region.covers(Region::EU), "{code}");
    }
}

#[test]
fn territories_outside_the_eu_stay_outside() {
    for code in OUTSIDE {
        let region = Region::custom(code).unwrap();
        assert!(!region.is_eu(), "{code} is not EU territory");
        assert!(!region.is_eea(), "{code} is not in the EEA");
        assert!(!Region::EU.covers(region), "{code}");
    }
    for code in ["IS", "LI", "NO"] {
        let region = Region::custom(code).unwrap();
        assert!(region.is_eea() && !region.is_eu() && !Region::EU.covers(region));
    }
}

#[test]
fn regions_without_an_assigned_code_are_refused() {
    // Canary Islands (IC), Ceuta and Melilla (EA) and metropolitan France
    // (FX) are only exceptionally reserved: they are ES and FR.
    for code in ["IC", "EA", "FX"] {
        assert!(Region::custom(code).is_err(), "{code}");
    }
}
