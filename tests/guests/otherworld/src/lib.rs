//! A component of the `acme:other/other` world, not `qntx:plugin`: it imports an interface no
//! qntx node offers. Loading it must fail with a message naming that import.

#![expect(unsafe_code, reason = "the export glue wit-bindgen generates")]

mod bindings {
    wit_bindgen::generate!({ world: "other", path: "wit" });
}

struct Other;

impl bindings::Guest for Other {
    fn run() -> String {
        bindings::acme::other::greeter::greet("qntx")
    }
}

bindings::export!(Other with_types_in bindings);
