//! The Rust `tokenizers` crate gives MPNet the same ids as the Python tokenizer, on text
//! with curly quotes, emoji, accents, empty strings and real MELD lines.

use crate::common;

use amuse::features::tokenizer::TextTokenizer;
use serde::Deserialize;

#[derive(Deserialize)]
struct Case {
    text: String,
    input_ids: Vec<i64>,
    attention_mask: Vec<i64>,
}

#[test]
fn mpnet_ids_match_python() {
    let store = common::store();
    let tok = TextTokenizer::from_file(&store.require("mpnet_tokenizer").unwrap()).unwrap();
    let path = store.root().join("golden/mpnet_tokens.json");
    let cases: Vec<Case> = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    assert!(cases.len() >= 10, "golden tokenizer cases");
    assert!(cases.iter().any(|c| c.text.is_empty()), "an empty string is covered");
    assert!(cases.iter().any(|c| c.text.contains('’')), "curly quotes are covered");
    for case in &cases {
        let enc = tok.encode(&case.text).unwrap();
        assert_eq!(enc.ids, case.input_ids, "ids for {:?}", case.text);
        assert_eq!(enc.attention_mask, case.attention_mask, "mask for {:?}", case.text);
    }
}

#[test]
fn batches_are_padded_with_masks() {
    let store = common::store();
    let tok = TextTokenizer::from_file(&store.require("mpnet_tokenizer").unwrap()).unwrap();
    let (ids, mask) = tok
        .batch(&["Oh my God!", "", "You must’ve had your hands full."])
        .unwrap();
    assert_eq!(ids.size()[0], 3);
    assert_eq!(ids.size(), mask.size());
    let lens: Vec<i64> = mask
        .sum_dim_intlist([1i64].as_slice(), false, tch::Kind::Int64)
        .try_into()
        .unwrap();
    assert_eq!(lens[1], 2, "an empty text is just <s></s>");
    assert!(lens[2] > lens[0]);
}
