fn main() -> std::process::ExitCode {
    amuse::cli::main()
}
