//! `{{ variable }}` templates, as used by component variables and `allowed_outbound_hosts`.

use std::collections::BTreeMap;

/// One piece of a parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Part {
    /// Literal text.
    Literal(String),
    /// A reference to an application variable.
    Variable(String),
}

/// A parsed template: literal text interleaved with variable references.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

/// Why a template cannot be parsed or expanded.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum TemplateError {
    /// `{{` without a matching `}}`.
    #[error("`{{{{` at byte {0} has no matching `}}}}`")]
    Unclosed(usize),
    /// The text between braces is not a variable name.
    #[error("`{0}` is not a valid variable name (use lower_snake_case, starting with a letter)")]
    BadName(String),
    /// A referenced variable has no value.
    #[error("variable `{0}` has no value")]
    Missing(String),
}

impl Template {
    /// Parse `text`, checking that every `{{ ... }}` holds a valid variable name.
    pub fn parse(text: &str) -> Result<Self, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = text;
        let mut offset = 0;
        while let Some(start) = rest.find("{{") {
            if start > 0 {
                parts.push(Part::Literal(rest[..start].to_string()));
            }
            let after = &rest[start + 2..];
            let end = after
                .find("}}")
                .ok_or(TemplateError::Unclosed(offset + start))?;
            let name = after[..end].trim();
            if !is_snake_id(name) {
                return Err(TemplateError::BadName(name.to_string()));
            }
            parts.push(Part::Variable(name.to_string()));
            let consumed = start + 2 + end + 2;
            offset += consumed;
            rest = &rest[consumed..];
        }
        if !rest.is_empty() {
            parts.push(Part::Literal(rest.to_string()));
        }
        Ok(Self { parts })
    }

    /// The variables this template refers to.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Variable(v) => Some(v.as_str()),
            Part::Literal(_) => None,
        })
    }

    /// True when the template has no variable references.
    pub fn is_literal(&self) -> bool {
        self.variables().next().is_none()
    }

    /// Expand with the given variable values.
    pub fn render(&self, values: &BTreeMap<String, String>) -> Result<String, TemplateError> {
        let mut out = String::new();
        for part in &self.parts {
            match part {
                Part::Literal(s) => out.push_str(s),
                Part::Variable(v) => out.push_str(
                    values
                        .get(v)
                        .ok_or_else(|| TemplateError::Missing(v.clone()))?,
                ),
            }
        }
        Ok(out)
    }
}

/// `lower_snake_case`: starts with a lowercase letter; lowercase letters, digits and single
/// underscores; does not end with an underscore.
pub fn is_snake_id(s: &str) -> bool {
    is_delimited_id(s, '_')
}

/// `kebab-case`: like [`is_snake_id`] with `-` as the separator.
pub fn is_kebab_id(s: &str) -> bool {
    is_delimited_id(s, '-')
}

fn is_delimited_id(s: &str, delim: char) -> bool {
    let mut chars = s.chars();
    let Some(first) = chars.next() else {
        return false;
    };
    if !first.is_ascii_lowercase() || s.ends_with(delim) || s.contains(&format!("{delim}{delim}")) {
        return false;
    }
    s.chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == delim)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_renders() {
        let t = Template::parse("https://{{ api_host }}:{{port}}/x").unwrap();
        assert_eq!(t.variables().collect::<Vec<_>>(), ["api_host", "port"]);
        let values = BTreeMap::from([
            ("api_host".to_string(), "example.com".to_string()),
            ("port".to_string(), "8080".to_string()),
        ]);
        assert_eq!(t.render(&values).unwrap(), "https://example.com:8080/x");
        assert!(Template::parse("plain").unwrap().is_literal());
    }

    #[test]
    fn rejects_bad_templates() {
        assert_eq!(
            Template::parse("a {{ b").unwrap_err(),
            TemplateError::Unclosed(2)
        );
        assert_eq!(
            Template::parse("{{ Bad }}").unwrap_err(),
            TemplateError::BadName("Bad".into())
        );
        assert_eq!(
            Template::parse("{{x}}").unwrap().render(&BTreeMap::new()),
            Err(TemplateError::Missing("x".into()))
        );
    }

    #[test]
    fn ids() {
        for ok in ["a", "hello-world", "a1-b2", "x9"] {
            assert!(is_kebab_id(ok), "{ok}");
        }
        for bad in ["", "Hello", "1a", "a--b", "a-", "a_b", "a b"] {
            assert!(!is_kebab_id(bad), "{bad}");
        }
        assert!(is_snake_id("api_host"));
        assert!(!is_snake_id("api-host"));
    }
}
