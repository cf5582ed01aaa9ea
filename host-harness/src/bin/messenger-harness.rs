fn main() -> std::process::ExitCode {
    messenger_harness::commands::run()
}
