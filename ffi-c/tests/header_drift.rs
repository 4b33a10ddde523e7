//! The committed include/ohfile.h must be exactly what cbindgen generates from the code.

#[test]
fn committed_header_matches_the_generated_one() {
    let generated =
        std::fs::read_to_string(concat!(env!("OUT_DIR"), "/ohfile.h")).expect("generated header");
    let committed_path = concat!(env!("CARGO_MANIFEST_DIR"), "/../include/ohfile.h");
    let committed = std::fs::read_to_string(committed_path).unwrap_or_default();
    assert!(
        generated == committed,
        "include/ohfile.h has drifted from the code: run `npm run header` and commit it"
    );
}
