//! Template placeholders: `{{name}}` and `{{name | filter}}` for known parameter names.
//! Anything else between braces (such as Spin's `{{ variable }}` templates in a manifest)
//! is left exactly as written.

use std::collections::BTreeMap;

fn words(s: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut prev_lower = false;
    for c in s.chars() {
        if !c.is_ascii_alphanumeric() {
            if !cur.is_empty() {
                out.push(std::mem::take(&mut cur));
            }
            prev_lower = false;
            continue;
        }
        if c.is_ascii_uppercase() && prev_lower && !cur.is_empty() {
            out.push(std::mem::take(&mut cur));
        }
        prev_lower = c.is_ascii_lowercase() || c.is_ascii_digit();
        cur.push(c.to_ascii_lowercase());
    }
    if !cur.is_empty() {
        out.push(cur);
    }
    out
}

/// `my-app` style.
pub fn kebab_case(s: &str) -> String {
    words(s).join("-")
}

/// `my_app` style.
pub fn snake_case(s: &str) -> String {
    words(s).join("_")
}

/// `MyApp` style.
pub fn pascal_case(s: &str) -> String {
    words(s)
        .iter()
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect()
}

fn apply(filter: &str, value: &str) -> Option<String> {
    Some(match filter {
        "kebab_case" => kebab_case(value),
        "snake_case" => snake_case(value),
        "pascal_case" => pascal_case(value),
        _ => return None,
    })
}

/// Replace known placeholders in `text`.
pub fn render(text: &str, values: &BTreeMap<String, String>) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            out.push_str(&rest[start..]);
            return out;
        };
        let inner = &after[..end];
        let mut parts = inner.split('|').map(str::trim);
        let name = parts.next().unwrap_or_default();
        let filters: Vec<&str> = parts.collect();
        let rendered = values
            .get(name)
            .and_then(|v| filters.iter().try_fold(v.clone(), |acc, f| apply(f, &acc)));
        match rendered {
            Some(r) => out.push_str(&r),
            None => out.push_str(&rest[start..start + 2 + end + 2]),
        }
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_known_names_and_leaves_the_rest() {
        let values = BTreeMap::from([("project-name".to_string(), "Hello World".to_string())]);
        assert_eq!(
            render(
                "{{project-name | kebab_case}}/{{ project-name | snake_case }} {{ who }} {{other}}",
                &values
            ),
            "hello-world/hello_world {{ who }} {{other}}"
        );
        assert_eq!(pascal_case("hello-python"), "HelloPython");
        assert_eq!(kebab_case("helloPython_app"), "hello-python-app");
    }
}
