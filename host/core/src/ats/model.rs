//! The attestation record, what writers submit, and the rules a write must follow.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{Error, Result};

/// The value of an unspecified predicate or context.
pub const UNSPECIFIED: &str = "_";

/// A stored claim: `actors` say that `subjects` `predicates` `contexts`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attestation {
    /// Readable unique id, see [`super::id`].
    pub id: String,
    /// What the claim is about; at least one.
    pub subjects: Vec<String>,
    /// What is said; `["_"]` when nothing.
    pub predicates: Vec<String>,
    /// In which context; `["_"]` when none.
    pub contexts: Vec<String>,
    /// Who says it; at least one.
    pub actors: Vec<String>,
    /// When the claim was made, Unix milliseconds.
    pub timestamp: i64,
    /// What wrote it: `qntx-cli`, `plugin@version`, ...
    pub source: String,
    /// Free-form JSON object.
    pub attributes: Map<String, Value>,
    /// When it was stored, Unix milliseconds.
    pub created_at: i64,
}

/// The four dimensions a claim is indexed by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dimension {
    /// `subjects`.
    Subject = 0,
    /// `predicates`.
    Predicate = 1,
    /// `contexts`.
    Context = 2,
    /// `actors`.
    Actor = 3,
}

impl Dimension {
    /// Singular lowercase name: `subject`, `predicate`, `context`, `actor`.
    pub fn name(self) -> &'static str {
        match self {
            Self::Subject => "subject",
            Self::Predicate => "predicate",
            Self::Context => "context",
            Self::Actor => "actor",
        }
    }
}

impl Attestation {
    /// Bytes of its text: id, values, source and attributes as JSON. What holding it costs,
    /// roughly; used to bound pages and buffers.
    pub fn text_bytes(&self) -> usize {
        let values: usize = [
            &self.subjects,
            &self.predicates,
            &self.contexts,
            &self.actors,
        ]
        .into_iter()
        .flatten()
        .map(String::len)
        .sum();
        let attributes = serde_json::to_string(&self.attributes).map_or(0, |text| text.len());
        self.id.len() + values + self.source.len() + attributes
    }

    /// The values of one dimension.
    pub fn values(&self, dimension: Dimension) -> &[String] {
        match dimension {
            Dimension::Subject => &self.subjects,
            Dimension::Predicate => &self.predicates,
            Dimension::Context => &self.contexts,
            Dimension::Actor => &self.actors,
        }
    }
}

/// Size limits of one attestation.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Values per dimension.
    pub values_per_dimension: usize,
    /// Bytes per value.
    pub value_bytes: usize,
    /// Bytes of the attributes' JSON text.
    pub attribute_bytes: usize,
    /// Predicates times contexts: each combination is one row of the pair index.
    pub combinations: usize,
}

impl Default for Limits {
    /// 100 values per dimension, 1 KiB per value, 1 MiB of attributes, 1,000 predicate and
    /// context combinations.
    fn default() -> Self {
        Self {
            values_per_dimension: 100,
            value_bytes: 1024,
            attribute_bytes: 1024 * 1024,
            combinations: 1000,
        }
    }
}

/// A claim to store. [`NewAttestation::validate`] checks it and fills in defaults.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NewAttestation {
    /// At least one.
    pub subjects: Vec<String>,
    /// Empty means `["_"]`.
    pub predicates: Vec<String>,
    /// Empty means `["_"]`.
    pub contexts: Vec<String>,
    /// At least one.
    pub actors: Vec<String>,
    /// None means now.
    pub timestamp: Option<i64>,
    /// What writes it.
    pub source: String,
    /// Must be a JSON object; `Null` means `{}`.
    pub attributes: Value,
}

/// The earliest time an attestation may carry: 1970-01-01T00:00:00Z, in Unix milliseconds.
pub const MIN_TIMESTAMP_MS: i64 = 0;
/// The latest time an attestation may carry: 9999-12-31T23:59:59.999Z, in Unix milliseconds.
pub const MAX_TIMESTAMP_MS: i64 = 253_402_300_799_999;

impl NewAttestation {
    /// Check the claim against `limits` and turn it into an attestation with a fresh id.
    ///
    /// # Errors
    ///
    /// [`Error::Invalid`] naming the rule that was broken.
    pub fn validate(self, limits: &Limits, now_ms: i64) -> Result<Attestation> {
        let subjects = values("subject", self.subjects, limits)?;
        if subjects.is_empty() {
            return Err(Error::Invalid(
                "an attestation needs at least one subject".into(),
            ));
        }
        let actors = values("actor", self.actors, limits)?;
        if actors.is_empty() {
            return Err(Error::Invalid(
                "an attestation needs at least one actor".into(),
            ));
        }
        let predicates = or_unspecified(values("predicate", self.predicates, limits)?);
        let contexts = or_unspecified(values("context", self.contexts, limits)?);
        if predicates.len() * contexts.len() > limits.combinations {
            return Err(Error::Invalid(format!(
                "{} predicates times {} contexts make {} combinations; the limit is {}",
                predicates.len(),
                contexts.len(),
                predicates.len() * contexts.len(),
                limits.combinations
            )));
        }
        if self.source.is_empty() || self.source.len() > limits.value_bytes {
            return Err(Error::Invalid(format!(
                "source must be 1 to {} bytes",
                limits.value_bytes
            )));
        }
        let attributes = match self.attributes {
            Value::Null => Map::new(),
            Value::Object(map) => map,
            other => {
                return Err(Error::Invalid(format!(
                    "attributes must be a JSON object, not {}",
                    json_kind(&other)
                )));
            }
        };
        let attribute_bytes = serde_json::to_string(&attributes)
            .map_err(|e| Error::Invalid(format!("attributes: {e}")))?
            .len();
        if attribute_bytes > limits.attribute_bytes {
            return Err(Error::Invalid(format!(
                "attributes are {attribute_bytes} bytes; the limit is {}",
                limits.attribute_bytes
            )));
        }
        let timestamp = self.timestamp.unwrap_or(now_ms);
        if !(MIN_TIMESTAMP_MS..=MAX_TIMESTAMP_MS).contains(&timestamp) {
            return Err(Error::Invalid(format!(
                "timestamp {timestamp} ms is out of range: an attestation's time must be from \
                 1970-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z ({MIN_TIMESTAMP_MS} to \
                 {MAX_TIMESTAMP_MS} ms)"
            )));
        }
        let id = super::id::generate(&subjects[0], &predicates[0], &contexts[0]);
        Ok(Attestation {
            id,
            subjects,
            predicates,
            contexts,
            actors,
            timestamp,
            source: self.source,
            attributes,
            created_at: now_ms,
        })
    }
}

fn values(dimension: &str, values: Vec<String>, limits: &Limits) -> Result<Vec<String>> {
    if values.len() > limits.values_per_dimension {
        return Err(Error::Invalid(format!(
            "{} {dimension}s; the limit is {}",
            values.len(),
            limits.values_per_dimension
        )));
    }
    for value in &values {
        if value.trim().is_empty() {
            return Err(Error::Invalid(format!("an empty {dimension}")));
        }
        if value.len() > limits.value_bytes {
            return Err(Error::Invalid(format!(
                "{dimension} '{}…' is {} bytes; the limit is {}",
                value.chars().take(32).collect::<String>(),
                value.len(),
                limits.value_bytes
            )));
        }
        if value.chars().any(char::is_control) {
            return Err(Error::Invalid(format!(
                "{dimension} '{}' contains a control character",
                value.escape_debug()
            )));
        }
    }
    Ok(values)
}

fn or_unspecified(values: Vec<String>) -> Vec<String> {
    if values.is_empty() {
        vec![UNSPECIFIED.to_owned()]
    } else {
        values
    }
}

fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claim() -> NewAttestation {
        NewAttestation {
            subjects: vec!["alice".into()],
            actors: vec!["bob".into()],
            source: "test".into(),
            ..NewAttestation::default()
        }
    }

    #[test]
    fn timestamps_outside_1970_to_9999_are_refused_naming_the_range() {
        for timestamp in [MIN_TIMESTAMP_MS, 1_700_000_000_000, MAX_TIMESTAMP_MS] {
            let new = NewAttestation {
                timestamp: Some(timestamp),
                ..claim()
            };
            assert_eq!(
                new.validate(&Limits::default(), 1).unwrap().timestamp,
                timestamp
            );
        }
        for timestamp in [-1, i64::MIN, MAX_TIMESTAMP_MS + 1, i64::MAX] {
            let message = invalid(NewAttestation {
                timestamp: Some(timestamp),
                ..claim()
            });
            assert_eq!(
                message,
                format!(
                    "timestamp {timestamp} ms is out of range: an attestation's time must be \
                     from 1970-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z (0 to \
                     253402300799999 ms)"
                )
            );
        }
    }

    fn invalid(new: NewAttestation) -> String {
        match new.validate(&Limits::default(), 1) {
            Err(Error::Invalid(message)) => message,
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn defaults_fill_predicates_contexts_timestamp_and_attributes() {
        let a = claim().validate(&Limits::default(), 42).unwrap();
        assert_eq!(a.predicates, ["_"]);
        assert_eq!(a.contexts, ["_"]);
        assert_eq!(a.timestamp, 42);
        assert_eq!(a.created_at, 42);
        assert!(a.attributes.is_empty());
        assert!(a.id.starts_with("AS-ALICE---"), "{}", a.id);
    }

    #[test]
    fn every_rule_has_a_clear_error() {
        let no_subject = NewAttestation {
            subjects: vec![],
            ..claim()
        };
        assert_eq!(
            invalid(no_subject),
            "an attestation needs at least one subject"
        );
        let no_actor = NewAttestation {
            actors: vec![],
            ..claim()
        };
        assert_eq!(invalid(no_actor), "an attestation needs at least one actor");
        let too_many = NewAttestation {
            predicates: vec!["p".into(); 101],
            ..claim()
        };
        assert_eq!(invalid(too_many), "101 predicates; the limit is 100");
        let long = NewAttestation {
            contexts: vec!["x".repeat(1025)],
            ..claim()
        };
        assert!(invalid(long).contains("is 1025 bytes; the limit is 1024"));
        let empty = NewAttestation {
            subjects: vec![" ".into()],
            ..claim()
        };
        assert_eq!(invalid(empty), "an empty subject");
        let control = NewAttestation {
            subjects: vec!["a\u{0}b".into()],
            ..claim()
        };
        assert!(invalid(control).contains("control character"));
        let array = NewAttestation {
            attributes: json!([1, 2]),
            ..claim()
        };
        assert_eq!(
            invalid(array),
            "attributes must be a JSON object, not an array"
        );
        let huge = NewAttestation {
            attributes: json!({ "blob": "x".repeat(1024 * 1024) }),
            ..claim()
        };
        assert!(invalid(huge).contains("the limit is 1048576"));
        let no_source = NewAttestation {
            source: String::new(),
            ..claim()
        };
        assert_eq!(invalid(no_source), "source must be 1 to 1024 bytes");
        let combinations = NewAttestation {
            predicates: (0..50).map(|i| format!("p{i}")).collect(),
            contexts: (0..21).map(|i| format!("c{i}")).collect(),
            ..claim()
        };
        assert_eq!(
            invalid(combinations),
            "50 predicates times 21 contexts make 1050 combinations; the limit is 1000"
        );
        let too_many_actors = NewAttestation {
            actors: vec!["a".into(); 101],
            ..claim()
        };
        assert_eq!(invalid(too_many_actors), "101 actors; the limit is 100");
        for kind in [json!("text"), json!(1), json!(true)] {
            let not_object = NewAttestation {
                attributes: kind,
                ..claim()
            };
            assert!(invalid(not_object).starts_with("attributes must be a JSON object, not "));
        }
    }
}
