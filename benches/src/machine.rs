//! The bench process's own memory, from `/proc/self/status` (Linux).

/// Resident memory now, in MiB (NaN where the kernel does not say).
pub fn rss_mib() -> f64 {
    status_mib("VmRSS:")
}

/// The most resident memory the process has held, in MiB.
pub fn peak_rss_mib() -> f64 {
    status_mib("VmHWM:")
}

fn status_mib(key: &str) -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(key))
                .and_then(|rest| rest.split_whitespace().next())
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(f64::NAN, |kb| kb / 1024.0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_process_has_memory_and_its_peak_is_not_below_it() {
        let (now, peak) = (super::rss_mib(), super::peak_rss_mib());
        assert!(now > 0.0, "{now}");
        assert!(peak >= now, "{peak} < {now}");
    }
}
