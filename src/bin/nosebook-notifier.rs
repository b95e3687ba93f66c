use std::process::ExitCode;

fn main() -> ExitCode {
    nosebook::cli::notifier_main()
}
