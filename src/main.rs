use std::process::ExitCode;

fn main() -> ExitCode {
    nosebook::cli::main()
}
