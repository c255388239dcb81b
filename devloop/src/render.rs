//! Template placeholders: `{{name}}` and `{{name | filter}}` for known parameter names.
//! Anything else between braces (such as Spin's `{{ variable }}` templates in a manifest)
//! is left exactly as written.

use std::collections::BTreeMap;

/// `my-app` style.
pub fn kebab_case(s: &str) -> String {
    heck::ToKebabCase::to_kebab_case(s)
}

/// `my_app` style.
pub fn snake_case(s: &str) -> String {
    heck::ToSnakeCase::to_snake_case(s)
}

/// `MyApp` style.
pub fn pascal_case(s: &str) -> String {
    heck::ToUpperCamelCase::to_upper_camel_case(s)
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
