//! One module per command; each is a screen long: parse, call the library, render.

pub mod up;
