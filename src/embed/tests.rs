//! The embedding model: loading and refusing folders, identity, tokenizer against the
//! reference implementation, determinism and meaning on recorded papers.
use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use super::folder::{CONFIG, SUMS, TOKENIZER, WEIGHTS, sha256_hex};
use super::*;
use crate::domain::Paper;

pub(crate) static SHIPPED: LazyLock<Embedder> = LazyLock::new(Embedder::shipped);

fn repo(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join(path)
}

fn fixture(name: &str) -> String {
    std::fs::read_to_string(repo("tests/fixtures").join(name)).expect(name)
}

/// The recorded papers (HF daily papers and Adrian Del Maestro's arXiv papers), by id.
fn paper(id: &str) -> Paper {
    static PAPERS: LazyLock<Vec<Paper>> = LazyLock::new(|| {
        let mut papers =
            crate::sources::hf::parse(&fixture("hf_daily_papers_2024-10-25_full.json"))
                .expect("hf fixture")
                .papers;
        papers.extend(
            crate::sources::arxiv_api::parse(&fixture("arxiv_api_legacy2016_au_del_maestro.xml"))
                .expect("arXiv fixture")
                .papers,
        );
        papers
    });
    PAPERS
        .iter()
        .find(|p| p.id.as_ref().is_some_and(|i| i.as_str() == id))
        .unwrap_or_else(|| panic!("no recorded paper {id}"))
        .clone()
}

/// A small model in a temporary folder named `name`: the shipped tokenizer and config with
/// a 4-number table (fast to load in a debug build; the shipped model is tested on its own).
pub(crate) fn model_copy(name: &str) -> (tempfile::TempDir, PathBuf) {
    let tmp = tempfile::tempdir().expect("temp dir");
    let dir = tmp.path().join(name);
    std::fs::create_dir(&dir).expect("model dir");
    for f in [TOKENIZER, CONFIG] {
        std::fs::copy(repo(shipped::FOLDER).join(f), dir.join(f)).expect(f);
    }
    std::fs::write(dir.join(WEIGHTS), small_table(SHIPPED_ROWS, 4)).expect(WEIGHTS);
    (tmp, dir)
}

/// Rows of the shipped table (its tokenizer's vocabulary).
const SHIPPED_ROWS: usize = 29_528;

/// A safetensors file with one f32 `embeddings` tensor of `rows` × `dim` fixed values.
fn small_table(rows: usize, dim: usize) -> Vec<u8> {
    let values: Vec<u8> = (0..rows * dim)
        .map(|i| ((i * 7919) % 101) as f32 / 50.0 - 1.0)
        .flat_map(f32::to_le_bytes)
        .collect();
    let view =
        safetensors::tensor::TensorView::new(safetensors::Dtype::F32, vec![rows, dim], &values)
            .expect("a valid tensor");
    safetensors::serialize([("embeddings", view)], None).expect("serialised")
}

/// `sha256sum`'s lines for the three files of `dir`.
fn sums_of(dir: &Path) -> String {
    [WEIGHTS, TOKENIZER, CONFIG]
        .iter()
        .map(|f| {
            format!(
                "{}  {f}\n",
                sha256_hex(&std::fs::read(dir.join(f)).unwrap())
            )
        })
        .collect()
}

/// The `SHA256SUMS` line of `file` in the shipped model's folder.
fn shipped_sum(file: &str) -> String {
    let sums = std::fs::read_to_string(repo(shipped::FOLDER).join(SUMS)).expect(SUMS);
    sums.lines()
        .find_map(|l| {
            l.strip_suffix(file)?
                .split_whitespace()
                .next()
                .map(String::from)
        })
        .unwrap_or_else(|| panic!("{SUMS} lists {file}"))
}

#[test]
fn the_shipped_model_is_potion_base_8m_with_the_weights_its_checksum_file_names() {
    let id = SHIPPED.identity();
    assert_eq!(id.name, "potion-base-8M");
    assert_eq!(id.weights_sha256, shipped_sum(WEIGHTS));
    assert_eq!(SHIPPED.dim(), 256);
    assert!(
        id.to_string().starts_with("potion-base-8M (sha256 "),
        "{id}"
    );
}

#[test]
fn the_shipped_folder_loads_like_the_compiled_in_model_and_passes_its_checksums() {
    let folder = Embedder::load(&repo(shipped::FOLDER)).expect("the shipped folder loads");
    assert_eq!(folder.identity(), SHIPPED.identity());
    let text = paper_text(&paper("2410.18860"));
    assert_eq!(folder.embed_one(&text), SHIPPED.embed_one(&text));
}

#[test]
fn the_other_tested_model_potion_base_2m_loads_from_its_folder_as_model2vec_reads_it() {
    // templates/models/potion-base-2M: the documented alternative (`[selection] model`).
    let m = Embedder::load(&repo("templates/models/potion-base-2M")).expect("2M loads");
    assert_eq!(m.identity().name, "potion-base-2M");
    assert_eq!(
        m.identity().weights_sha256,
        "f95ffde02ad06f63ae38eb9d400038cd5ccaf8411ec3cb650c6025113f96cbb8"
    );
    assert_eq!(m.dim(), 64);
    // Vectors model2vec-rs 0.4.0 gives the same texts with the same files.
    let pairs: Vec<(String, Vec<f32>)> =
        serde_json::from_str(&fixture("embed/reference_vectors_2m.json")).expect("pairs");
    assert_eq!(pairs.len(), 3);
    for (text, expected) in &pairs {
        let ours = m.embed_one(text);
        assert_eq!(ours.len(), expected.len());
        let worst = ours
            .iter()
            .zip(expected)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(worst < 1e-5, "{worst} apart on {text:.60}");
    }
}

#[test]
fn a_folder_is_named_by_its_own_name_and_identified_by_its_weights() {
    let (_tmp, dir) = model_copy("my-model");
    let loaded = Embedder::load(&dir).expect("a small model loads");
    assert_eq!(loaded.identity().name, "my-model");
    let weights = std::fs::read(dir.join(WEIGHTS)).unwrap();
    assert_eq!(loaded.identity().weights_sha256, sha256_hex(&weights));
    assert_eq!(loaded.dim(), 4);
}

#[test]
fn a_folder_with_a_file_missing_is_refused_naming_the_file() {
    for file in [TOKENIZER, WEIGHTS, CONFIG] {
        let (_tmp, dir) = model_copy("m");
        std::fs::remove_file(dir.join(file)).unwrap();
        let err = Embedder::load(&dir).expect_err(file).to_string();
        assert!(err.contains(&format!("has no {file}")), "{file}: {err}");
    }
    let err = Embedder::load(Path::new("/nonexistent/model")).unwrap_err();
    assert!(err.to_string().contains("/nonexistent/model"), "{err}");
}

#[test]
fn checksums_are_checked_and_a_mismatch_or_a_bad_line_is_refused_with_its_place() {
    let (_tmp, dir) = model_copy("m");
    let good = sums_of(&dir).replacen(&format!("  {CONFIG}"), &format!(" *{CONFIG}"), 1);
    std::fs::write(dir.join(SUMS), &good).unwrap();
    Embedder::load(&dir).expect("matching checksums load");

    let cases = [
        (
            good.replacen(&good[..64], &"0".repeat(64), 1),
            "model.safetensors does not match its SHA-256 in SHA256SUMS",
        ),
        (
            format!("{good}not-a-hash  {CONFIG}\n"),
            "SHA256SUMS:4: `not-a-hash` is not a SHA-256",
        ),
        (
            format!("{good}{}  ../x\n", "a".repeat(64)),
            "SHA256SUMS:4: `../x` is not a file",
        ),
        (
            format!("{good}justoneword\n"),
            "SHA256SUMS:4: expected `SHA256  FILE`",
        ),
        (
            format!("{}  README.md\n", "a".repeat(64)),
            "cannot read `README.md`",
        ),
    ];
    for (sums, expected) in cases {
        std::fs::write(dir.join(SUMS), &sums).unwrap();
        let err = Embedder::load(&dir).expect_err(expected).to_string();
        assert!(err.contains(expected), "{expected}: {err}");
    }

    // A changed byte in the weights is caught even though the file still parses.
    std::fs::write(dir.join(SUMS), &good).unwrap();
    let mut weights = std::fs::read(dir.join(WEIGHTS)).unwrap();
    let last = weights.len() - 1;
    weights[last] ^= 1;
    std::fs::write(dir.join(WEIGHTS), &weights).unwrap();
    let err = Embedder::load(&dir).unwrap_err().to_string();
    assert!(err.contains("does not match"), "{err}");
}

#[test]
fn files_that_are_not_a_static_model_are_refused_saying_what_is_wrong() {
    let cases: [(&str, &str, &[u8]); 6] = [
        (CONFIG, "is not JSON", b"{"),
        (
            CONFIG,
            "model_type `bert` is not a static model2vec model",
            br#"{"model_type": "bert"}"#,
        ),
        (TOKENIZER, "is not a tokenizer.json", b"[]"),
        (
            TOKENIZER,
            "model `Unigram` is not supported",
            br#"{"normalizer": {"type": "BertNormalizer"}, "pre_tokenizer": {"type": "BertPreTokenizer"}, "model": {"type": "Unigram"}}"#,
        ),
        (
            TOKENIZER,
            "normalizer `NFKC` is not supported",
            br#"{"normalizer": {"type": "NFKC"}, "pre_tokenizer": {"type": "BertPreTokenizer"}, "model": {"type": "WordPiece", "vocab": {"[UNK]": 0}}}"#,
        ),
        (WEIGHTS, "is not a safetensors file", b"not safetensors"),
    ];
    for (file, expected, bytes) in cases {
        let (_tmp, dir) = model_copy("m");
        std::fs::write(dir.join(file), bytes).unwrap();
        let err = Embedder::load(&dir).expect_err(expected).to_string();
        assert!(err.contains(expected), "{expected}: {err}");
        assert!(err.contains(file), "{expected}: {err}");
    }
}

#[test]
fn weights_too_small_for_the_vocabulary_are_refused() {
    let (_tmp, dir) = model_copy("m");
    std::fs::write(dir.join(WEIGHTS), small_table(2, 4)).unwrap();
    let err = Embedder::load(&dir).unwrap_err().to_string();
    assert!(err.contains("has 2 rows but the tokenizer needs"), "{err}");
}

#[test]
fn the_shipped_table_is_read_in_place_not_copied_at_every_start() {
    let shipped = Embedder::shipped();
    assert!(shipped.table_is_borrowed());
    // And it still embeds: a text's vector has length 1.
    let v = shipped.embed_one("diffusion models for video generation");
    let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
    assert!((norm - 1.0).abs() < 1e-4, "{norm}");
}

#[test]
fn half_precision_weights_give_the_same_vectors_to_three_decimals() {
    let (_tmp, dir) = model_copy("m");
    let bytes = std::fs::read(dir.join(WEIGHTS)).unwrap();
    let tensors = safetensors::SafeTensors::deserialize(&bytes).unwrap();
    let table = tensors.tensor("embeddings").unwrap();
    let halves: Vec<u8> = table
        .data()
        .chunks_exact(4)
        .flat_map(|b| f32_to_f16(f32::from_le_bytes(b.try_into().unwrap())).to_le_bytes())
        .collect();
    let view = safetensors::tensor::TensorView::new(
        safetensors::Dtype::F16,
        table.shape().to_vec(),
        &halves,
    )
    .unwrap();
    std::fs::write(
        dir.join(WEIGHTS),
        safetensors::serialize([("embeddings", view)], None).unwrap(),
    )
    .unwrap();
    let half = Embedder::load(&dir).expect("f16 weights load");
    let (_tmp32, dir32) = model_copy("m32");
    let single = Embedder::load(&dir32).expect("f32 weights load");
    let text = paper_text(&paper("1201.4869"));
    for (a, b) in half.embed_one(&text).iter().zip(single.embed_one(&text)) {
        assert!((a - b).abs() < 1e-3, "{a} vs {b}");
    }
}

/// Round to nearest (normal numbers only: the weights are), for the test above.
fn f32_to_f16(x: f32) -> u16 {
    let bits = x.to_bits();
    let sign = ((bits >> 16) & 0x8000) as u16;
    let exp = ((bits >> 23) & 0xff) as i32 - 127 + 15;
    if exp <= 0 {
        return sign;
    }
    let mant = bits & 0x7f_ffff;
    let rounded = ((exp as u32) << 10 | (mant >> 13)) + ((mant >> 12) & 1);
    sign | rounded as u16
}

#[test]
fn the_tokenizer_gives_the_reference_implementations_ids() {
    // tests/fixtures/embed/reference_ids.jsonl: pairs of a text and the ids the Hugging Face
    // `tokenizers` crate gives it with this tokenizer.json (add_special_tokens = false).
    let text = fixture("embed/reference_ids.jsonl");
    let mut checked = 0;
    for (i, line) in text.lines().enumerate() {
        let (input, ids): (String, Vec<u32>) = serde_json::from_str(line).expect("a pair");
        assert_eq!(
            SHIPPED.tokenizer().encode(&input),
            ids,
            "line {}: {input:?}",
            i + 1
        );
        checked += 1;
    }
    assert!(checked >= 40, "{checked} texts checked");
}

#[test]
fn vectors_are_those_of_the_reference_implementation() {
    // tests/fixtures/embed/reference_vectors.json: [text, vector] pairs made by model2vec-rs
    // 0.4.0 (The Minish Lab's own Rust implementation) with the shipped model — four
    // recorded abstracts, one text cut at 512 tokens, one with accents, LaTeX and `[MASK]`.
    let pairs: Vec<(String, Vec<f32>)> =
        serde_json::from_str(&fixture("embed/reference_vectors.json")).expect("pairs");
    assert_eq!(pairs.len(), 6);
    for (text, expected) in &pairs {
        let ours = SHIPPED.embed_one(text);
        let worst = ours
            .iter()
            .zip(expected)
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(worst < 1e-5, "{worst} apart on {text:.60}");
    }
}

#[test]
fn vectors_are_deterministic_of_length_one_and_the_same_alone_or_in_a_batch() {
    let texts: Vec<String> = ["2410.18860", "1201.4869", "2410.18978"]
        .iter()
        .map(|id| paper_text(&paper(id)))
        .collect();
    let batch = SHIPPED.embed(&texts);
    assert_eq!(batch, SHIPPED.embed(&texts));
    for (text, v) in texts.iter().zip(&batch) {
        assert_eq!(&SHIPPED.embed_one(text), v);
        assert_eq!(v.len(), 256);
        let norm = cosine(v, v).sqrt();
        assert!((norm - 1.0).abs() < 1e-5, "{norm}");
    }
    assert!(SHIPPED.embed_one("").iter().all(|x| *x == 0.0));
}

#[test]
fn a_description_in_other_words_is_closest_to_the_paper_it_describes() {
    // Five recorded papers far apart; each description shares few or no words with its
    // paper's title (a static model is crude: the margins here are wide on purpose).
    let papers = [
        "2410.18860",
        "1201.4869",
        "2410.18978",
        "2410.18252",
        "2410.18451",
    ];
    let vectors = SHIPPED.embed(&papers.map(|id| paper_text(&paper(id))));
    let cases = [
        ("language models that state false facts", "2410.18860"),
        ("liquid helium flowing in tiny pores", "1201.4869"),
        ("generating the frames between two pictures", "2410.18978"),
        (
            "reward models trained on human preference data",
            "2410.18451",
        ),
    ];
    for (query, expected) in cases {
        let q = SHIPPED.embed_one(query);
        let mut ranked: Vec<(f32, &str)> = papers
            .iter()
            .zip(&vectors)
            .map(|(id, v)| (cosine(&q, v), *id))
            .collect();
        ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
        assert_eq!(ranked[0].1, expected, "{query}: {ranked:?}");
        assert!(ranked[0].0 > ranked[1].0 + 0.1, "{query}: {ranked:?}");
    }
}

#[test]
fn paper_text_is_title_and_abstract_with_latex_reduced_and_lines_joined() {
    let latex = Paper {
        title: "A $\\beta$-VAE for\n  Everything".into(),
        abstract_text: "We study\n\\textit{disentangled} codes.".into(),
        ..paper("2410.18860")
    };
    assert_eq!(
        paper_text(&latex),
        "A beta-VAE for Everything. We study disentangled codes."
    );
    let question = Paper {
        title: "Should We Really Edit?".into(),
        abstract_text: String::new(),
        ..paper("2410.18860")
    };
    assert_eq!(paper_text(&question), "Should We Really Edit?");
}

#[test]
fn the_checksum_file_of_the_shipped_model_covers_every_file_it_reads_and_the_compiled_in_weights() {
    for file in [TOKENIZER, WEIGHTS, CONFIG] {
        let bytes = std::fs::read(repo(shipped::FOLDER).join(file)).unwrap();
        assert_eq!(sha256_hex(&bytes), shipped_sum(file), "{file}");
    }
    assert_eq!(
        sha256_hex(shipped::compiled_in_weights()),
        shipped::WEIGHTS_SHA256
    );
    assert_eq!(shipped::WEIGHTS_SHA256, shipped_sum(WEIGHTS));
}
