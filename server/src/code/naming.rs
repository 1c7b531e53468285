//! Identifier case styles. A one-word name (`new`, `ID`) fits several styles at once, so it is
//! kept apart as `lower` or `UPPER` and counted for every style it fits when the dominant
//! style is chosen.

pub const SNAKE: &str = "snake_case";
pub const CAMEL: &str = "camelCase";
pub const PASCAL: &str = "PascalCase";
pub const SCREAMING: &str = "SCREAMING_SNAKE_CASE";
pub const KEBAB: &str = "kebab-case";
/// Go's rule: camelCase or PascalCase, the case of the first letter deciding visibility.
pub const MIXED_CAPS: &str = "MixedCaps";
pub const LOWER: &str = "lower";
pub const UPPER: &str = "UPPER";
pub const OTHER: &str = "other";

/// The styles a convention can be stated in, in the order ties are broken.
pub const STATED: &[&str] = &[SNAKE, CAMEL, PASCAL, SCREAMING, KEBAB, MIXED_CAPS];

/// Whether a name of `style` also fits `candidate`.
pub fn fits(style: &str, candidate: &str) -> bool {
    style == candidate
        || (style == LOWER
            && matches!(candidate, s if s == SNAKE || s == CAMEL || s == KEBAB || s == MIXED_CAPS))
        || (style == UPPER
            && matches!(candidate, s if s == SCREAMING || s == PASCAL || s == MIXED_CAPS))
        || (candidate == MIXED_CAPS && (style == CAMEL || style == PASCAL))
}

/// The style of one identifier. Leading and trailing underscores (Python's `_private`,
/// `__dunder__`, Rust's `_unused`) say nothing about case and are ignored.
pub fn classify(name: &str) -> &'static str {
    let core = name.trim_matches('_');
    if core.is_empty() || !core.chars().next().is_some_and(char::is_alphabetic) {
        return OTHER;
    }
    let has_lower = core.chars().any(|c| c.is_lowercase());
    let has_upper = core.chars().any(|c| c.is_uppercase());
    let has_underscore = core.contains('_');
    let has_dash = core.contains('-');
    if has_dash {
        return if !has_upper && !has_underscore {
            KEBAB
        } else {
            OTHER
        };
    }
    if has_underscore {
        return match (has_lower, has_upper) {
            (true, false) => SNAKE,
            (false, true) => SCREAMING,
            _ => OTHER,
        };
    }
    let first_upper = core.chars().next().is_some_and(char::is_uppercase);
    match (has_lower, has_upper) {
        (true, false) => LOWER,
        (false, true) if core.chars().filter(|c| c.is_alphabetic()).count() > 1 => UPPER,
        // A single capital letter (`T`, `X`) is a generic parameter or a maths name.
        (false, true) => UPPER,
        _ if first_upper => PASCAL,
        _ => CAMEL,
    }
}

/// Go folds camelCase and PascalCase together: both are MixedCaps.
pub fn classify_for(language: &str, name: &str) -> &'static str {
    let style = classify(name);
    if language == "go" && (style == CAMEL || style == PASCAL) {
        MIXED_CAPS
    } else {
        style
    }
}

/// How a test is named: `test_parses_empty`, `should parse`, or a plain description.
pub fn test_style(name: &str) -> &'static str {
    let trimmed = name.trim_matches(|c: char| c == '"' || c == '\'' || c == '`');
    let lower = trimmed.to_ascii_lowercase();
    if lower.starts_with("should") || lower.starts_with("it_should") {
        "should"
    } else if lower.starts_with("test") {
        "test_prefix"
    } else {
        "descriptive"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn styles_are_told_apart_and_one_word_names_stay_ambiguous() {
        assert_eq!(classify("parse_file"), SNAKE);
        assert_eq!(classify("parseFile"), CAMEL);
        assert_eq!(classify("HttpServer"), PASCAL);
        assert_eq!(classify("MAX_RETRIES"), SCREAMING);
        assert_eq!(classify("user-profile"), KEBAB);
        assert_eq!(classify("new"), LOWER);
        assert_eq!(classify("ID"), UPPER);
        assert_eq!(classify("__init__"), LOWER);
        assert_eq!(classify("_private_helper"), SNAKE);
        assert_eq!(classify("Mixed_case"), OTHER);
        assert!(fits(LOWER, SNAKE) && fits(LOWER, CAMEL) && !fits(LOWER, PASCAL));
        assert_eq!(classify_for("go", "ServeHTTP"), MIXED_CAPS);
        assert_eq!(classify_for("go", "parseFile"), MIXED_CAPS);
        assert_eq!(test_style("test_parses_empty_input"), "test_prefix");
        assert_eq!(test_style("'should reject empty input'"), "should");
        assert_eq!(test_style("parses_empty_input"), "descriptive");
    }
}
