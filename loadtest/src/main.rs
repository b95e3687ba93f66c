//! `nosebook-loadtest`: the load generator arrives with issue 6.

fn main() {
    eprintln!("nosebook-loadtest: no scenarios yet (issue 6)");
    std::process::exit(2);
}
