//! What `cargo bench -p qntx-bench` adds to the suite in `qntx::bench`: the gRPC baseline (the
//! original architecture sends every job to a plugin process as a unary `ExecuteJob` call;
//! [`serve`] is that plugin process, [`GrpcPlugin`] starts it and times round trips to it),
//! and node processes for the cluster runs ([`node`]).

mod grpc;
pub mod node;

pub use grpc::{GrpcPlugin, SERVE_ARG, serve};
