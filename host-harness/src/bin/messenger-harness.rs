fn main() -> std::process::ExitCode {
    messenger_harness::cli::run()
}
