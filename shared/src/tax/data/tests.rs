//! The loaders' own tests: malformed rows fail with their file and line.

use super::*;

fn sources() -> (&'static str, &'static str) {
    ("sources.csv", "source_id,title,url,publisher,licence,retrieved,notes\ns1,T,http://x,P,L,2026-01-01,\n")
}

fn load_with(extra: (&'static str, &'static str)) -> Result<Tables, DataError> {
    Tables::load(&[sources(), extra])
}

const H: &str =
    "country,region,jurisdiction,level,tax_type,kind,rate,effective_from,effective_to,display_name,source,notes\n";

#[test]
fn embedded_content_loads() {
    let t = Tables::load(embedded_files()).unwrap();
    assert!(t.rates.len() > 100);
    assert!(t.sst.contains_key("MN") && t.sst.contains_key("WI") && t.sst.contains_key("GA"));
    assert!(t.zip_county.len() > 30_000);
    // The county / city tables are read on first use; every one of them reads and passes its checks.
    super::super::county_city::check_all(&t).unwrap();
    assert!(t.county_city.len() >= 30, "{} county / city states", t.county_city.len());
}

#[test]
fn malformed_rate_fails_with_file_and_line() {
    let text: &'static str = Box::leak(format!("{H}US,MN,Minnesota,state,sales_tax,standard,6.875,2009-07-01,,Sales Tax,s1,\nUS,WI,Wisconsin,state,sales_tax,standard,abc,2020-01-01,,Sales Tax,s1,\n").into_boxed_str());
    let e = load_with(("rates/x.csv", text)).unwrap_err();
    assert_eq!(e.file, "rates/x.csv");
    assert_eq!(e.line, 3);
    assert!(e.to_string().starts_with("data/rates/x.csv:3:"), "{e}");
}

#[test]
fn unknown_source_bad_dates_and_overlaps_fail() {
    let cases = [
        "US,MN,M,state,sales_tax,standard,6,2020-01-01,,S,nope,\n",
        "US,MN,M,state,sales_tax,standard,6,2020-13-01,,S,s1,\n",
        "US,MN,M,state,sales_tax,standard,6,2020-01-01,2019-01-01,S,s1,\n",
        "US,MN,M,state,sales_tax,standard,101,2020-01-01,,S,s1,\n",
        "US,MN,M,state,sales_tax,standard,,2020-01-01,,S,s1,\n",
        "US,MN,M,state,sales_tax,standard,6,2020-01-01,,S,s1,\nUS,MN,M,state,sales_tax,standard,7,2021-01-01,,S,s1,\n",
    ];
    for c in cases {
        let text: &'static str = Box::leak(format!("{H}{c}").into_boxed_str());
        assert!(load_with(("rates/x.csv", text)).is_err(), "{c}");
    }
}

const LH: &str = "state,place,county,level,jurisdiction,rate,effective_from,effective_to,source,zips\n";

fn local(rows: &str) -> Result<Tables, DataError> {
    let text: &'static str = Box::leak(format!("{LH}{rows}").into_boxed_str());
    load_with(("us-local/mo.csv", text))
}

#[test]
fn local_places_are_county_blocks_and_consistent() {
    // One city over two counties: two places, one county + one city each.
    let t = local(
        "MO,Kansas City,Jackson County,county,Jackson County,1.5,2026-01-01,,s1,64106\n\
         MO,Kansas City,Jackson County,city,Kansas City,3.25,2026-01-01,,s1,\n\
         MO,Kansas City,Clay County,county,Clay County,1.25,2026-01-01,,s1,64118\n\
         MO,Kansas City,Clay County,city,Kansas City,3.25,2026-01-01,,s1,\n",
    )
    .unwrap();
    assert_eq!(t.places.len(), 2);
    assert!(t.places.iter().all(|p| p.components.len() == 2));
    assert_eq!(t.place_by_name.get("MO", &crate::tax::address::norm_name("Kansas City")).map(Vec::len), Some(2));
    // A jurisdiction twice in one place on overlapping dates (two rates for one place) fails the load.
    let e = local(
        "MO,Kansas City,Jackson County,city,Kansas City,3.25,2026-01-01,,s1,64106\n\
         MO,Kansas City,Jackson County,city,Kansas City,3.5,2026-06-01,,s1,\n",
    )
    .unwrap_err();
    assert_eq!((e.file.as_str(), e.line), ("us-local/mo.csv", 3), "{e}");
    // Dated rows that follow each other are fine.
    local(
        "MO,Kansas City,Jackson County,city,Kansas City,3.25,2026-01-01,2026-05-31,s1,64106\n\
         MO,Kansas City,Jackson County,city,Kansas City,3.5,2026-06-01,,s1,\n",
    )
    .unwrap();
    // One jurisdiction with two rates in two places on the same dates fails the load.
    let e = local(
        "MO,Kansas City,Jackson County,county,Jackson County,1.5,2026-01-01,,s1,64106\n\
         MO,Independence,Jackson County,county,Jackson County,1.25,2026-01-01,,s1,64050\n",
    )
    .unwrap_err();
    assert!(e.message.contains("Jackson County"), "{e}");
}

#[test]
fn district_counties_must_name_a_district_of_the_rates_file() {
    let rates = ("us-sst/rates/MNR2026Q2FEB18.csv", "27,63,80004,0.005,0.005,0.005,0.005,20171001,29991231\n");
    let h = "state,jurisdiction_code,county_fips,except_place,name,source,notes\n";
    let ok: &'static str = Box::leak(format!("{h}MN,80004,053,,Hennepin transit,s1,\n").into_boxed_str());
    let t = Tables::load(&[sources(), rates, ("us-sst/district-counties.csv", ok)]).unwrap();
    assert_eq!(t.sst_county_districts.get(&(*b"MN", 53)).map(Vec::len), Some(1));
    let bad: &'static str = Box::leak(format!("{h}MN,80099,053,,Unknown,s1,\n").into_boxed_str());
    let e = Tables::load(&[sources(), rates, ("us-sst/district-counties.csv", bad)]).unwrap_err();
    assert_eq!((e.file.as_str(), e.line), ("us-sst/district-counties.csv", 2), "{e}");
}

#[test]
fn sst_blank_rate_is_rejected_not_zero() {
    let e = load_with(("us-sst/rates/MNR2026Q2FEB18.csv", "27,01,43000,,0.005,0.005,0.005,20051001,29991231\n"))
        .unwrap_err();
    assert_eq!(e.line, 1);
    assert!(e.message.contains("general rate"), "{e}");
}

#[test]
fn zip_county_rows_are_validated() {
    let e = load_with(("us-sst/zip-county.csv", "zip5,state,county_fips\n55401,MN,053\n5540,MN,053\n")).unwrap_err();
    assert_eq!((e.file.as_str(), e.line), ("us-sst/zip-county.csv", 3));
    // A ZIP's rows must be consecutive: split, a lookup would answer with half of them.
    let text = "zip5,state,county_fips\n55401,MN,053\n55402,MN,053\n55401,MN,123\n";
    let e = load_with(("us-sst/zip-county.csv", text)).unwrap_err();
    assert!(e.message.contains("55401"), "{e}");
    // Any order of ZIPs, consecutive rows: every ZIP answers with all its counties, in file order.
    let text = "zip5,state,county_fips\n74014,OK,145\n74014,OK,143\n37203,TN,037\n";
    let t = load_with(("us-sst/zip-county.csv", text)).unwrap();
    assert_eq!(t.zip_county.get(&74014), Some(&[(*b"OK", 145), (*b"OK", 143)][..]));
    assert_eq!(t.zip_county.get(&37203), Some(&[(*b"TN", 37)][..]));
    assert_eq!(t.zip_county.get(&10001), None);
}

#[test]
fn postal_zips_add_to_the_census_relation_but_never_repeat_it() {
    let census = ("us-sst/zip-county.csv", "zip5,state,county_fips\n28202,NC,119\n28203,NC,119\n");
    // A PO-box ZIP (no ZCTA) answers with its post office's county; the Census ZIPs are unchanged.
    let postal = ("us-sst/zip-county-postal.csv", "zip5,state,county_fips\n28201,NC,119\n");
    let t = Tables::load(&[sources(), postal, census]).unwrap();
    assert_eq!(t.zip_county.get(&28201), Some(&[(*b"NC", 119)][..]));
    assert_eq!(t.zip_county.get(&28203), Some(&[(*b"NC", 119)][..]));
    // A ZIP in both files would answer with one file's counties only: the load names it.
    let postal = ("us-sst/zip-county-postal.csv", "zip5,state,county_fips\n28203,NC,025\n");
    let e = Tables::load(&[sources(), postal, census]).unwrap_err();
    assert!(e.message.contains("28203") && e.message.contains("both"), "{e}");
}

#[test]
fn sst_file_name_must_name_the_state() {
    assert!(load_with(("us-sst/rates/minnesota.csv", "27,01,43000,0.005,0,0,0,20051001,29991231\n")).is_err());
}

/// The maps' hash is FNV-1a as published (test vectors of the reference implementation, `draft-eastlake-fnv`).
#[test]
fn fnv_1a_matches_its_reference_vectors() {
    let fnv = |s: &str| {
        let mut h = Fnv::default();
        h.write(s.as_bytes());
        h.finish()
    };
    assert_eq!(fnv(""), 0xcbf2_9ce4_8422_2325);
    assert_eq!(fnv("a"), 0xaf63_dc4c_8601_ec8c);
    assert_eq!(fnv("foobar"), 0x8594_4171_f739_67e8);
}
