//! What a person may attest through a front end (`qntx as`, an HTTP API): no actor that stands
//! for a plugin, handler or node, and nothing that reads as a user handler's record.

use super::{CONTEXT_REMOVED, CONTEXT_VERSION, PREDICATE};
use crate::ats::{self, Attestation};

/// Refuse an attestation a person may not write: an actor with a reserved prefix
/// ([`ats::actor::check_person`]), or the shape of a user handler's version or removal record
/// (`NAME is handler of wasm|removed by NAME`), which only [`super::record_version`] and
/// [`super::record_removal`] write.
///
/// # Errors
///
/// The reason, naming the actor or the handler and what to use instead.
pub fn check_speaker(attestation: &Attestation) -> Result<(), String> {
    for actor in &attestation.actors {
        ats::actor::check_person(actor)?;
    }
    let is =
        |values: &[String], wanted: &str| values.iter().any(|v| v.eq_ignore_ascii_case(wanted));
    let record_shape = attestation.subjects.len() == 1
        && attestation.actors == attestation.subjects
        && is(&attestation.predicates, PREDICATE)
        && (is(&attestation.contexts, CONTEXT_VERSION)
            || is(&attestation.contexts, CONTEXT_REMOVED));
    if record_shape {
        return Err(format!(
            "'{0} is handler of ... by {0}' is the shape of a user handler's record; \
             use 'qntx handler create|rollback|remove {0}'",
            attestation.subjects[0]
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::ats::NewAttestation;

    fn said(
        subjects: &[&str],
        predicates: &[&str],
        contexts: &[&str],
        actors: &[&str],
    ) -> Attestation {
        let owned = |values: &[&str]| values.iter().map(|v| (*v).to_owned()).collect();
        NewAttestation {
            subjects: owned(subjects),
            predicates: owned(predicates),
            contexts: owned(contexts),
            actors: owned(actors),
            timestamp: Some(1),
            source: "cli".into(),
            attributes: json!({}),
        }
        .validate(&ats::Limits::default(), 1)
        .unwrap()
    }

    #[test]
    fn a_person_cannot_speak_for_the_node_or_write_a_handler_record() {
        assert_eq!(
            check_speaker(&said(&["alice"], &["tester"], &[], &["bob"])),
            Ok(())
        );
        let reserved = check_speaker(&said(&["x"], &["y"], &[], &["bob", "Plugin:text"]));
        assert!(
            reserved
                .unwrap_err()
                .starts_with("actor 'Plugin:text' uses the reserved prefix"),
        );
        for context in ["wasm", "REMOVED"] {
            assert_eq!(
                check_speaker(&said(&["h"], &["Handler"], &[context], &["h"])),
                Err(
                    "'h is handler of ... by h' is the shape of a user handler's record; \
                     use 'qntx handler create|rollback|remove h'"
                        .to_owned()
                )
            );
        }
        // Close to the shape, but not it: another actor, another context, two subjects.
        for (subjects, contexts, actors) in [
            (&["h"][..], &["wasm"][..], &["alice"][..]),
            (&["h"], &["python"], &["h"]),
            (&["h", "i"], &["wasm"], &["h", "i"]),
        ] {
            assert_eq!(
                check_speaker(&said(subjects, &["handler"], contexts, actors)),
                Ok(())
            );
        }
    }
}
