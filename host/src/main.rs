//! The `qntx` command.

fn main() -> std::process::ExitCode {
    qntx::cli::main()
}
