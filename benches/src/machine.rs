//! What Linux's `/proc` says of the bench process (its memory) and of the machine (CPU,
//! memory) for the report. NaN or `unknown` where it says nothing.

/// Resident memory now, in MiB.
pub fn rss_mib() -> f64 {
    kib_as_mib(field("/proc/self/status", "VmRSS"))
}

/// The most resident memory the process has held, in MiB.
pub fn peak_rss_mib() -> f64 {
    kib_as_mib(field("/proc/self/status", "VmHWM"))
}

/// The machine's memory, in GiB to one decimal.
pub fn memory_gib() -> f64 {
    (kib_as_mib(field("/proc/meminfo", "MemTotal")) / 1024.0 * 10.0).round() / 10.0
}

/// The CPU's model name.
pub fn cpu_model() -> String {
    field("/proc/cpuinfo", "model name").unwrap_or_else(|| "unknown".to_owned())
}

/// The value of the first `key: value` line of a `/proc` file.
fn field(path: &str, key: &str) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()?
        .lines()
        .find_map(|line| {
            let (name, value) = line.split_once(':')?;
            (name.trim() == key).then(|| value.trim().to_owned())
        })
}

/// `123456 kB` as MiB.
fn kib_as_mib(value: Option<String>) -> f64 {
    value
        .as_deref()
        .and_then(|v| v.split_whitespace().next())
        .and_then(|kib| kib.parse::<f64>().ok())
        .map_or(f64::NAN, |kib| kib / 1024.0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_process_has_memory_and_its_peak_is_not_below_it() {
        let (now, peak) = (super::rss_mib(), super::peak_rss_mib());
        assert!(now > 0.0, "{now}");
        assert!(peak >= now, "{peak} < {now}");
        assert!(
            super::memory_gib() * 1024.0 > now,
            "{}",
            super::memory_gib()
        );
        assert_ne!(super::cpu_model(), "unknown");
    }
}
