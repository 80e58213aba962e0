//! Whether stderr is a terminal (progress is shown only then), and a progress
//! meter for long transfers.

use std::io::{self, Read, Write};

/// Transfers smaller than this show no progress.
pub const PROGRESS_MIN_BYTES: u64 = 4 * 1024 * 1024;

/// Whether stderr is an interactive terminal.
pub fn stderr_is_terminal() -> bool {
    #[cfg(target_arch = "wasm32")]
    {
        crate::wasi::stderr_is_terminal()
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        use std::io::IsTerminal;
        io::stderr().is_terminal()
    }
}

/// Counts bytes through a reader or writer and redraws one stderr line.
pub struct Progress<T> {
    inner: T,
    label: String,
    total: u64,
    done: u64,
    shown_percent: Option<u64>,
    enabled: bool,
}

impl<T> Progress<T> {
    /// Report progress of `total` bytes labelled `label`, if stderr is a
    /// terminal and the transfer is large enough.
    pub fn new(inner: T, label: impl Into<String>, total: u64) -> Self {
        let enabled = total >= PROGRESS_MIN_BYTES && stderr_is_terminal();
        Progress { inner, label: label.into(), total, done: 0, shown_percent: None, enabled }
    }

    fn advance(&mut self, n: usize) {
        self.done += n as u64;
        if !self.enabled {
            return;
        }
        let percent = (self.done * 100).checked_div(self.total).unwrap_or(100).min(100);
        if self.shown_percent != Some(percent) {
            self.shown_percent = Some(percent);
            let mib = |b: u64| b as f64 / (1024.0 * 1024.0);
            let mut err = io::stderr();
            let _ = write!(err, "\r{}: {:.1}/{:.1} MiB ({percent}%)", self.label, mib(self.done), mib(self.total));
            if percent == 100 {
                let _ = writeln!(err);
            }
            let _ = err.flush();
        }
    }
}

impl<R: Read> Read for Progress<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.advance(n);
        Ok(n)
    }
}

impl<W: Write> Write for Progress<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.advance(n);
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}
