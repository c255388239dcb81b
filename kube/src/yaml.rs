//! A JSON value as a YAML document in block style. String values are JSON's double-quoted
//! form, which YAML reads as the same string (so `"true"`, `"1"` or `"---"` stay strings);
//! keys are plain when they are a plain word YAML cannot read as anything else, else quoted
//! the same way; numbers, booleans and null are plain.

use serde_json::Value;

/// `value` as one YAML document, starting with `---`.
pub fn document(value: &Value) -> String {
    let mut out = String::from("---\n");
    block(value, 0, &mut out);
    out
}

fn scalar(value: &Value) -> String {
    match value {
        Value::String(s) => Value::String(s.clone()).to_string(),
        Value::Object(m) if m.is_empty() => "{}".into(),
        Value::Array(a) if a.is_empty() => "[]".into(),
        other => other.to_string(),
    }
}

fn key(k: &str) -> String {
    let word = k.starts_with(|c: char| c.is_ascii_alphabetic())
        && k.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'));
    let special = matches!(
        k.to_ascii_lowercase().as_str(),
        "y" | "n" | "yes" | "no" | "true" | "false" | "on" | "off" | "null"
    );
    if word && !special {
        k.to_string()
    } else {
        Value::String(k.to_string()).to_string()
    }
}

fn is_block(value: &Value) -> bool {
    match value {
        Value::Object(m) => !m.is_empty(),
        Value::Array(a) => !a.is_empty(),
        _ => false,
    }
}

/// A mapping's or a sequence's entries at `indent` spaces, each on its own line.
fn block(value: &Value, indent: usize, out: &mut String) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                let key = self::key(key);
                if is_block(v) {
                    out.push_str(&format!("{pad}{key}:\n"));
                    block(v, indent + 2, out);
                } else {
                    out.push_str(&format!("{pad}{key}: {}\n", scalar(v)));
                }
            }
        }
        Value::Array(items) => {
            for item in items {
                if is_block(item) {
                    // The first entry on the dash's line, the rest under it.
                    let mut inner = String::new();
                    block(item, indent + 2, &mut inner);
                    out.push_str(&format!("{pad}- {}", &inner[indent + 2..]));
                } else {
                    out.push_str(&format!("{pad}- {}\n", scalar(item)));
                }
            }
        }
        other => out.push_str(&format!("{pad}{}\n", scalar(other))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nested_values_are_block_yaml_with_quoted_strings() {
        let v = json!({"a": {"b": [1, {"c": "true", "d": []}], "e": {}}, "f": "x\ny", "on": 1, "a b": 2});
        assert_eq!(
            document(&v),
            "---\na:\n  b:\n    - 1\n    - c: \"true\"\n      d: []\n  e: {}\nf: \"x\\ny\"\n\"on\": 1\n\"a b\": 2\n"
        );
    }
}
