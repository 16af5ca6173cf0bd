//! Word frequencies of `payload.text`: the `payload.top` (default 10) most frequent words,
//! lowercased, with their counts, most frequent first (ties alphabetical). With
//! `payload.subject`, it also attests the top words about that subject.
//!
//! qntx handler create word-freq --file handlers/word_freq.rs

use std::collections::HashMap;

use qntx_guest::store::{self, Draft};
use qntx_guest::{Job, JobError, Value, json};

fn handle(job: Job) -> Result<Value, JobError> {
    let text = job.payload["text"]
        .as_str()
        .ok_or_else(|| JobError::permanent("payload.text must be a string"))?;
    let top = job.payload["top"].as_u64().unwrap_or(10) as usize;
    let mut counts: HashMap<String, u64> = HashMap::new();
    let mut total = 0;
    for word in text
        .split(|c: char| !c.is_alphanumeric() && c != '\'')
        .filter(|word| !word.is_empty())
    {
        *counts.entry(word.to_lowercase()).or_default() += 1;
        total += 1;
    }
    let distinct = counts.len();
    let mut words: Vec<(String, u64)> = counts.into_iter().collect();
    words.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    words.truncate(top);
    let top_words: Vec<Value> = words
        .iter()
        .map(|(word, count)| json!({ "word": word, "count": count }))
        .collect();
    let mut result = json!({ "total": total, "distinct": distinct, "top": top_words });
    if let Some(subject) = job.payload["subject"].as_str() {
        let attestation = store::attest(
            Draft::subject(subject)
                .predicate("word_frequencies")
                .attributes(json!({ "total": total, "top": top_words })),
        )?;
        result["attestation"] = json!(attestation.id);
    }
    Ok(result)
}

qntx_guest::export_handler!(handle);
