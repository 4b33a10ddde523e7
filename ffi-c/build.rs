//! Generates the C header with cbindgen. The status constants come from core's error table
//! (included as source, so the C values and the Rust enum are one definition).

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::PathBuf;

#[allow(dead_code)]
mod codes {
    include!("../core/src/error/codes.rs");
}

fn main() {
    let crate_dir = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap());
    let out_dir = PathBuf::from(env::var("OUT_DIR").unwrap());
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-changed=../core/src/error/codes.rs");
    println!("cargo:rerun-if-env-changed=OHFILE_WRITE_HEADER");

    let version = env::var("CARGO_PKG_VERSION").unwrap();
    let mut extra = String::new();
    let _ = writeln!(extra, "\n#define OHF_VERSION_STRING \"{version}\"");
    for (name, var) in [
        ("MAJOR", "CARGO_PKG_VERSION_MAJOR"),
        ("MINOR", "CARGO_PKG_VERSION_MINOR"),
        ("PATCH", "CARGO_PKG_VERSION_PATCH"),
    ] {
        let _ = writeln!(
            extra,
            "#define OHF_VERSION_{name} {}",
            env::var(var).unwrap()
        );
    }
    extra.push_str("\n/** The values an ohf_status takes: 0, or a public OpenHarmony error code. */\nenum ohf_status_code {\n");
    extra.push_str("  /** Success. */\n  OHF_STATUS_OK = 0,\n");
    for code in codes::ErrorCode::ALL {
        let _ = writeln!(
            extra,
            "  /** {} */\n  OHF_STATUS_{} = {},",
            code.message(),
            code.c_name(),
            code.code()
        );
    }
    extra.push_str("};\n");

    let config =
        cbindgen::Config::from_file(crate_dir.join("cbindgen.toml")).expect("cbindgen.toml");
    let bindings = cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .with_after_include(extra) // after with_config, which replaces the whole config
        .generate()
        .expect("cbindgen could not generate the header");
    let generated = out_dir.join("ohfile.h");
    bindings.write_to_file(&generated);
    if env::var_os("OHFILE_WRITE_HEADER").is_some() {
        let committed = crate_dir.join("../include/ohfile.h");
        fs::copy(&generated, &committed).expect("write include/ohfile.h");
    }
}
