fn main() -> std::process::ExitCode {
    cafeia_platform::runtime::main::<cafeia_outreach::Outreach>()
}
