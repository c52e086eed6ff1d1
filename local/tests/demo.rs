//! `sphere-local demo` end to end (both parts of the setup guide through the public HTTP APIs): it
//! must finish, import the seeded account, tax the drafts, and show calculated = collected tax.

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_walks_the_guide_and_calculated_equals_collected() {
    let mut out = Vec::new();
    let opts = sphere_local::demo::Options { customers: 40, invoices: 80, ..Default::default() };
    let report = sphere_local::demo::run(opts, &mut out).await.unwrap_or_else(|e| {
        panic!("demo failed: {e}\n{}", String::from_utf8_lossy(&out));
    });
    let text = String::from_utf8(out).unwrap();
    assert!(report.imported_transactions > 40, "{text}");
    assert_eq!(report.demo_invoices, 5);
    assert_eq!(report.tax_calculated, report.tax_collected);
    assert!(report.tax_calculated > shared::domain::Decimal::ZERO, "some drafts carry tax");
    for needle in [
        "Sequence rejected this Client ID or Secret",
        "can only connect to a Sphere test organization",
        "sphk_test_",
        "invalid (tax API answered 401)",
        "valid; saved: true",
        "reverse_charge",
        "customer_exempt",
        "Ontario (hst)",
        "equal",
        "quarantined (kept aside",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in:\n{text}");
    }
    assert!(report.data_dir.join("store.redb").exists());
    // The exposure table: at least two US states crossed by sales, one approaching, and a filing report.
    let states = |s: &str| report.exposure_statuses.get(s).map_or(0, Vec::len);
    assert!(states("exposed") + states("registered") >= 2, "{:?}\n{text}", report.exposure_statuses);
    assert!(states("approaching") >= 1, "{:?}\n{text}", report.exposure_statuses);
    assert!(report.filing_csv_rows >= 1, "{text}");
    // A void made in Sequence after the last sync reached the ledger by webhook, well within 5 s.
    assert!(report.webhook_latency < std::time::Duration::from_secs(5), "{:?}\n{text}", report.webhook_latency);
    assert!(text.contains("webhooks: on") && text.contains("by a targeted job"), "{text}");
    assert!(text.contains("Economic-nexus exposure") && text.contains("Filing report: Georgia"), "{text}");
}
