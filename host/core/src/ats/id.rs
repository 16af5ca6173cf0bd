//! Readable attestation ids: `AS-<SUBJECT>-<PREDICATE>-<CONTEXT>-<SUFFIX>`.
//!
//! Each segment is the first value of its dimension, cleaned to at most 8 characters of an
//! unambiguous alphabet; the suffix is 8 random characters of the same alphabet (34^8 ≈ 1.8e12
//! per seed). The store checks for collisions and draws again.

/// The id alphabet: digits and capitals without `0`, `1` (read as `O`, `I`).
pub const ALPHABET: &[u8; 34] = b"23456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";

const SEGMENT_LEN: usize = 8;
const SUFFIX_LEN: usize = 8;

/// A new id seeded by the first subject, predicate and context.
pub fn generate(subject: &str, predicate: &str, context: &str) -> String {
    let mut random = [0u8; SUFFIX_LEN];
    rand::fill(&mut random);
    let suffix: String = random
        .iter()
        .map(|byte| ALPHABET[usize::from(*byte) % ALPHABET.len()] as char)
        .collect();
    format!(
        "AS-{}-{}-{}-{suffix}",
        segment(subject),
        segment(predicate),
        segment(context)
    )
}

/// Uppercase ASCII letters and digits of `value`, with `0`/`1` read as `O`/`I`, repeated
/// characters collapsed and leading digits dropped, cut to 8. `_` (unspecified) is empty.
fn segment(value: &str) -> String {
    let mut out = String::with_capacity(SEGMENT_LEN);
    let mut last = None;
    for c in value.chars().filter(char::is_ascii_alphanumeric) {
        if out.is_empty() && c.is_ascii_digit() {
            continue;
        }
        let c = match c.to_ascii_uppercase() {
            '0' => 'O',
            '1' => 'I',
            c => c,
        };
        if last == Some(c) {
            continue;
        }
        last = Some(c);
        out.push(c);
        if out.len() == SEGMENT_LEN {
            break;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_read_like_the_claim() {
        let id = generate("sarah", "author", "github");
        assert!(id.starts_with("AS-SARAH-AUTHOR-GITHUB-"), "{id}");
        let suffix = id.rsplit('-').next().unwrap();
        assert_eq!(suffix.len(), SUFFIX_LEN);
        assert!(suffix.bytes().all(|b| ALPHABET.contains(&b)));
    }

    #[test]
    fn segments_are_cleaned() {
        assert_eq!(segment("_"), "");
        assert_eq!(segment("github.com/teranos/QNTX"), "GITHUBCO");
        assert_eq!(segment("2024 report"), "REPORT");
        assert_eq!(segment("v10"), "VIO");
        assert_eq!(segment("aab"), "AB");
        assert_eq!(segment("Zoë"), "ZO");
    }

    #[test]
    fn two_ids_differ() {
        assert_ne!(generate("a", "b", "c"), generate("a", "b", "c"));
    }
}
