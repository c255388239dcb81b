//! Transfer progress: a bar per blob on a terminal, one quiet line per blob otherwise.

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use spin_app::Digest;
use spin_registry::transfer::{Outcome, Progress};
use std::collections::HashMap;
use std::io::IsTerminal;
use std::sync::Mutex;

/// One blob in flight: its label, size and bar (on a terminal).
struct Transfer {
    label: String,
    total: u64,
    bar: Option<ProgressBar>,
}

/// Renders progress on stderr.
pub struct Reporter {
    bars: Option<MultiProgress>,
    blobs: Mutex<HashMap<Digest, Transfer>>,
}

impl Reporter {
    /// Bars when stderr is a terminal, plain lines otherwise.
    pub fn new() -> Self {
        Self {
            bars: std::io::stderr().is_terminal().then(MultiProgress::new),
            blobs: Mutex::new(HashMap::new()),
        }
    }
}

fn short(d: &Digest) -> String {
    format!("sha256:{}", &d.hex()[..12])
}

/// Bytes for people: `7.3 KiB`.
pub fn size(bytes: u64) -> String {
    indicatif::HumanBytes(bytes).to_string()
}

impl Progress for Reporter {
    fn begin(&self, digest: &Digest, label: &str, total: u64) {
        let bar = self.bars.as_ref().map(|m| {
            let bar = m.add(ProgressBar::new(total));
            bar.set_style(
                ProgressStyle::with_template("{prefix:>14} {msg} [{bar:30}] {bytes}/{total_bytes}")
                    .unwrap_or_else(|_| ProgressStyle::default_bar())
                    .progress_chars("=> "),
            );
            bar.set_prefix(label.to_string());
            bar.set_message(short(digest));
            bar
        });
        let transfer = Transfer {
            label: label.to_string(),
            total,
            bar,
        };
        self.blobs.lock().unwrap().insert(digest.clone(), transfer);
    }

    fn position(&self, digest: &Digest, bytes: u64) {
        if let Some(Transfer { bar: Some(bar), .. }) = self.blobs.lock().unwrap().get(digest) {
            bar.set_position(bytes);
        }
    }

    fn end(&self, digest: &Digest, outcome: Outcome) {
        let Some(Transfer { label, total, bar }) = self.blobs.lock().unwrap().remove(digest) else {
            return;
        };
        let verb = match outcome {
            Outcome::Uploaded => "uploaded",
            Outcome::Present => "already there",
            Outcome::Mounted => "mounted",
            Outcome::Downloaded => "downloaded",
            Outcome::Cached => "cached",
        };
        match bar {
            Some(bar) => {
                bar.set_position(total);
                bar.finish_with_message(format!("{} {verb}", short(digest)));
            }
            None => eprintln!("  {label} {} ({}) {verb}", short(digest), size(total)),
        }
    }
}
