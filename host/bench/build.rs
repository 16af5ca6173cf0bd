//! Generate the gRPC client and server of `proto/plugin.proto` with the vendored `protoc`, so
//! that building the benchmark needs no system protobuf compiler.

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut config = tonic_prost_build::Config::new();
    config.protoc_executable(protoc_bin_vendored::protoc_bin_path()?);
    tonic_prost_build::configure().compile_with_config(
        config,
        &["proto/plugin.proto"],
        &["proto"],
    )?;
    Ok(())
}
