//! The gRPC baseline of the benchmark suite: the original architecture sends every job to a
//! plugin process as a unary `ExecuteJob` call. [`serve`] is that plugin process (a no-op
//! server on loopback); [`GrpcPlugin`] starts it and times round trips to it.

mod grpc;

pub use grpc::{GrpcPlugin, SERVE_ARG, serve};
