//! Argon2id known-answer tests through the `argon2` crate exactly as the vault configures
//! it (Argon2id, version 0x13). Each vector in `tests/data/argon2id_kat.txt` names its
//! source: RFC 9106 §5.3 (with secret and associated data) and the reference
//! implementation's `src/test.c`. The same file's plain vectors also run through the
//! vault's own wrapper in `src/vault/kdf.rs`; AES-256-GCM vectors run in
//! `src/vault/seal.rs`.

mod common;

use argon2::{Algorithm, Argon2, AssociatedData, ParamsBuilder, Version};
use common::{hex, kat_blocks, read_data};

fn run(block: &common::KatBlock) -> Vec<u8> {
    let want_len = block.bytes("tag").expect("tag").len();
    let mut builder = ParamsBuilder::new();
    builder
        .m_cost(block.num("memory_kib"))
        .t_cost(block.num("iterations"))
        .p_cost(block.num("parallelism"))
        .output_len(want_len);
    if let Some(ad) = block.bytes("ad") {
        builder.data(AssociatedData::new(&ad).expect("associated data fits"));
    }
    let params = builder.build().expect("valid params");
    let secret = block.bytes("secret");
    let ctx = match &secret {
        Some(s) => Argon2::new_with_secret(s, Algorithm::Argon2id, Version::V0x13, params)
            .expect("secret accepted"),
        None => Argon2::new(Algorithm::Argon2id, Version::V0x13, params),
    };
    let mut out = vec![0u8; want_len];
    ctx.hash_password_into(
        &block.bytes("password").expect("password"),
        &block.bytes("salt").expect("salt"),
        &mut out,
    )
    .expect("hash");
    out
}

#[test]
fn argon2id_rfc9106_section_5_3() {
    let text = String::from_utf8(read_data("argon2id_kat.txt")).expect("utf8");
    let blocks = kat_blocks(&text);
    let rfc = blocks
        .iter()
        .find(|b| b.name() == "rfc9106-5.3-argon2id")
        .expect("RFC vector present");
    assert!(rfc.bytes("secret").is_some() && rfc.bytes("ad").is_some());
    assert_eq!(hex(&run(rfc)), hex(&rfc.bytes("tag").expect("tag")));
}

#[test]
fn argon2id_reference_implementation_vectors() {
    let text = String::from_utf8(read_data("argon2id_kat.txt")).expect("utf8");
    let mut ran = 0;
    for block in kat_blocks(&text)
        .iter()
        .filter(|b| b.name().starts_with("phc-test.c"))
    {
        let source = block.get("source").expect("every vector names its source");
        assert!(source.contains("test.c"), "{source}");
        assert_eq!(
            hex(&run(block)),
            hex(&block.bytes("tag").expect("tag")),
            "{}",
            block.name()
        );
        ran += 1;
    }
    assert!(ran >= 5, "ran {ran}");
}

#[test]
fn a_changed_input_changes_the_tag() {
    // Guards the harness itself: a run() that ignored its inputs would pass the above.
    let text = String::from_utf8(read_data("argon2id_kat.txt")).expect("utf8");
    let blocks = kat_blocks(&text);
    let rfc = blocks
        .iter()
        .find(|b| b.name() == "rfc9106-5.3-argon2id")
        .expect("RFC vector");
    let tampered = text.replace(
        "ad_hex = 040404040404040404040404",
        "ad_hex = 040404040404040404040405",
    );
    let blocks2 = kat_blocks(&tampered);
    let changed = blocks2
        .iter()
        .find(|b| b.name() == "rfc9106-5.3-argon2id")
        .expect("RFC vector");
    assert_ne!(run(rfc), run(changed));
}
