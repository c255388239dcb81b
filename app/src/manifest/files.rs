//! The `files` and `exclude_files` of a component: patterns and placements checked where
//! they are written, including that no two entries land at the same guest path.

use super::model::FileMount;
use super::raw::{self, StrOr};
use crate::guest_path;
use crate::located::{LocatedError, SourceText};
use std::collections::HashMap;
use toml::Spanned;

type Result<T> = std::result::Result<T, LocatedError>;

pub(super) fn files(
    src: &SourceText,
    raw: Vec<Spanned<StrOr<raw::Placement>>>,
) -> Result<Vec<FileMount>> {
    let mut out = Vec::new();
    // Normalised destination → the entry that first used it, to refuse a second file at
    // the same guest path (`/x`, `/./x` and `//x` are one path).
    let mut destinations: HashMap<String, String> = HashMap::new();
    for f in raw {
        let span = f.span();
        let (mount, destination) = match f.into_inner() {
            StrOr::Str(pattern) => {
                if pattern == ".."
                    || pattern.ends_with("/..")
                    || pattern == "."
                    || pattern.ends_with("/.")
                {
                    return Err(src.error(
                        &span,
                        format!("file pattern {pattern:?} cannot end in `.` or `..`"),
                        "to include a directory use `{ source = \"dir\", destination = \"/dir\" }` or a glob like \"dir/**/*\"",
                    ));
                }
                if pattern.starts_with('/') {
                    return Err(src.error(
                        &span,
                        format!("file pattern {pattern:?} is absolute"),
                        "patterns are relative to the directory of spin.toml; remove the leading `/`",
                    ));
                }
                if let Err(e) = glob::Pattern::new(&pattern) {
                    return Err(src.error(
                        &span,
                        format!("invalid glob {pattern:?}: {e}"),
                        "fix the glob syntax",
                    ));
                }
                // A plain path (no glob characters) lands at the same relative guest path.
                let plain = !pattern.contains(['*', '?', '[']);
                let destination = plain.then(|| guest_path::normalize_dir(&pattern));
                (FileMount::Pattern(pattern), destination)
            }
            StrOr::Other(raw::Placement {
                source,
                destination,
            }) => {
                if !destination.starts_with('/') {
                    return Err(src.error(
                        &span,
                        format!("file destination {destination:?} is not an absolute path"),
                        format!(
                            "start the destination with `/`, e.g. \"/{}\"",
                            destination.trim_start_matches("./")
                        ),
                    ));
                }
                let normal = guest_path::normalize_dir(&destination);
                (
                    FileMount::Placement {
                        source,
                        destination,
                    },
                    Some(normal),
                )
            }
        };
        match destination {
            None => {}
            Some(Err(e)) => {
                return Err(src.error(
                    &span,
                    format!("file destination {e}"),
                    "give a path inside the component's file system, e.g. \"/static\"",
                ));
            }
            Some(Ok(normal)) => {
                let this = mount_text(&mount);
                if let Some(first) = destinations.insert(normal.clone(), this.clone()) {
                    return Err(src.error(
                        &span,
                        format!("{this} is mounted at {normal}, where {first} is already mounted"),
                        "give each `files` entry its own destination; two entries at one guest path would overwrite each other",
                    ));
                }
            }
        }
        out.push(mount);
    }
    Ok(out)
}

fn mount_text(mount: &FileMount) -> String {
    match mount {
        FileMount::Pattern(p) => format!("{p:?}"),
        FileMount::Placement {
            source,
            destination,
        } => {
            format!("{{ source = {source:?}, destination = {destination:?} }}")
        }
    }
}

pub(super) fn exclude_files(src: &SourceText, raw: Vec<Spanned<String>>) -> Result<Vec<String>> {
    raw.into_iter()
        .map(|p| match glob::Pattern::new(p.get_ref()) {
            Ok(_) => Ok(p.into_inner()),
            Err(e) => Err(src.error(
                &p.span(),
                format!("invalid exclude_files glob {:?}: {e}", p.get_ref()),
                "fix the glob syntax",
            )),
        })
        .collect()
}
