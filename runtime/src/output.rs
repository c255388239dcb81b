//! Where components' stdout and stderr go, as Spin sends them: to the terminal (unless
//! quiet) and, with a log directory, appended to `<dir>/<component>_stdout.txt` and
//! `<dir>/<component>_stderr.txt`.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use tokio::io::AsyncWrite;
use wasmtime_wasi::cli::{IsTerminal, StdoutStream};

#[derive(Debug, Clone, Copy)]
enum Terminal {
    Stdout,
    Stderr,
}

/// One output stream of a component: the terminal, a log file, both or neither.
#[derive(Debug, Clone)]
pub struct Tee {
    terminal: Option<Terminal>,
    file: Option<Arc<File>>,
}

/// A component's stdout and stderr.
#[derive(Debug, Clone)]
pub struct ComponentOutput {
    /// Its stdout.
    pub stdout: Tee,
    /// Its stderr.
    pub stderr: Tee,
}

impl ComponentOutput {
    /// Output for component `id`: log files in `log_dir` (created if missing), the terminal
    /// unless `quiet`.
    pub fn open(id: &str, log_dir: Option<&Path>, quiet: bool) -> std::io::Result<Self> {
        let file = |suffix: &str| -> std::io::Result<Option<Arc<File>>> {
            let Some(dir) = log_dir else { return Ok(None) };
            std::fs::create_dir_all(dir)?;
            let path = dir.join(format!("{id}_{suffix}.txt"));
            let file = OpenOptions::new().create(true).append(true).open(&path)?;
            Ok(Some(Arc::new(file)))
        };
        let terminal = |t| (!quiet).then_some(t);
        Ok(Self {
            stdout: Tee {
                terminal: terminal(Terminal::Stdout),
                file: file("stdout")?,
            },
            stderr: Tee {
                terminal: terminal(Terminal::Stderr),
                file: file("stderr")?,
            },
        })
    }
}

impl Tee {
    fn write(&self, buf: &[u8]) {
        // Output is best effort, as a terminal's is: a full disk must not fail the guest.
        match self.terminal {
            Some(Terminal::Stdout) => {
                let _ = std::io::stdout().lock().write_all(buf);
            }
            Some(Terminal::Stderr) => {
                let _ = std::io::stderr().lock().write_all(buf);
            }
            None => {}
        }
        if let Some(file) = &self.file {
            let _ = (&**file).write_all(buf);
        }
    }
}

impl IsTerminal for Tee {
    fn is_terminal(&self) -> bool {
        false
    }
}

impl StdoutStream for Tee {
    fn async_stream(&self) -> Box<dyn AsyncWrite + Send + Sync> {
        Box::new(self.clone())
    }
}

impl AsyncWrite for Tee {
    fn poll_write(
        self: Pin<&mut Self>,
        _: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        self.write(buf);
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_flush(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        if self.terminal.is_some() {
            let _ = std::io::stdout().flush();
        }
        Poll::Ready(Ok(()))
    }

    fn poll_shutdown(self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Poll::Ready(Ok(()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn output_is_appended_to_per_component_files() {
        let dir = tempfile::tempdir().unwrap();
        for round in ["one\n", "two\n"] {
            let out = ComponentOutput::open("my-comp", Some(dir.path()), true).unwrap();
            out.stdout.write(round.as_bytes());
            out.stderr.write(b"err\n");
        }
        let read = |n: &str| std::fs::read_to_string(dir.path().join(n)).unwrap();
        assert_eq!(read("my-comp_stdout.txt"), "one\ntwo\n");
        assert_eq!(read("my-comp_stderr.txt"), "err\nerr\n");
    }
}
