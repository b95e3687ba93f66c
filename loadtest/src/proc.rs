//! What the load tool reads of the server process from /proc (Linux only; `None` elsewhere or
//! when the process is gone).

/// Resident memory, in bytes (`VmRSS` of /proc/<pid>/status).
pub fn rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Open file descriptors (entries of /proc/<pid>/fd): sockets, database connections, files.
pub fn open_files(pid: u32) -> Option<u64> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count() as u64)
}

/// CPU time a process has used so far, user and system (fields 14 and 15 of /proc/<pid>/stat,
/// in clock ticks of 1/100 s on Linux).
pub fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; the fields after it are counted from its closing ')'.
    let after_name = &stat[stat.rfind(')')? + 1..];
    let mut fields = after_name.split_whitespace().skip(11);
    let user: u64 = fields.next()?.parse().ok()?;
    let system: u64 = fields.next()?.parse().ok()?;
    Some((user + system) as f64 / 100.0)
}

/// Measures the load tool's own CPU over a stretch of a run: the tool must cost less than what it
/// measures, or it is the bottleneck (BENCHMARKS.md reports this next to the server's CPU).
pub struct OwnCpu(Option<f64>);

impl OwnCpu {
    pub fn start() -> Self {
        Self(cpu_seconds(std::process::id()))
    }

    /// Milliseconds of the tool's CPU per operation since `start`.
    pub fn ms_per(&self, operations: u64) -> Option<f64> {
        let used = cpu_seconds(std::process::id())? - self.0?;
        (operations > 0).then(|| used * 1000.0 / operations as f64)
    }
}
