//! The `neuropop` command; argument parsing and dispatch live in `neuropop::cli`.

fn main() {
    std::process::exit(neuropop::cli::main());
}
