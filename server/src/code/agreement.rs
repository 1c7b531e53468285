//! One fact, two witnesses: what configuration states (a CI step running `go test`, an
//! `.editorconfig` indent) and what the code scan measures in the same slot are served as one
//! entry. The measured entry keeps its counts and examples; the configuration's `file:line`
//! joins them, so a reader sees both the rule and how well the code follows it.

use crate::memory::{Entry, Layer};

/// How many `file:line` references a merged entry keeps: the scan's examples come first.
const MAX_EXAMPLES: usize = 4;

/// A value as compared across the two sources: "JUnit 5" and "junit5" are one framework.
fn normalised(value: &str) -> String {
    value
        .chars()
        .filter(|c| c.is_alphanumeric() || *c == ':')
        .flat_map(char::to_lowercase)
        .collect()
}

/// Whether `config` states what `code` measured: the same slot, and the same value or (when
/// the code is mixed) one of the values in its split.
pub(crate) fn same_fact(code: &Entry, config: &Entry) -> bool {
    if config.layer != Layer::Memory || code.key != config.key || code.language != config.language {
        return false;
    }
    let (Some(measured), Some(stated)) = (code.value.as_deref(), config.value.as_deref()) else {
        return false;
    };
    let stated = normalised(stated);
    if stated.is_empty() {
        return false;
    }
    if measured == "mixed" {
        // A mixed sentence names each value with its share ("pytest 60%, unittest 40%").
        let split = code.text.split_once(':').map_or("", |(_, split)| split);
        return normalised(split).contains(&stated);
    }
    normalised(measured) == stated
}

/// Adds the configuration's references to the measured entry.
pub(crate) fn merge(code: &mut Entry, config: &Entry) {
    let new: Vec<&String> = config
        .examples
        .iter()
        .filter(|e| !code.examples.contains(e))
        .collect();
    let Some(first) = new.first() else {
        return;
    };
    let text = code.text.trim_end();
    code.text = format!("{text} Also stated in `{first}`.");
    // The stated source goes right after the scan's first example so that a short list still
    // shows both kinds of evidence.
    let at = code.examples.len().min(1);
    code.examples.insert(at, (*first).clone());
    code.examples.truncate(MAX_EXAMPLES);
    code.importance = code.importance.max(config.importance);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::{Evidence, Source};

    fn measured(key: &str, value: &str, text: &str) -> Entry {
        let mut e = Entry::extracted(
            "repo:t",
            Layer::Memory,
            Source::Code,
            key,
            Some("go"),
            value,
            text,
        );
        e.evidence = Some(Evidence {
            matching: 15,
            total: 15,
        });
        e.examples = vec!["cmd_test.go:4".into()];
        e
    }

    fn stated(key: &str, value: &str, example: &str) -> Entry {
        let mut e = Entry::extracted(
            "repo:t",
            Layer::Memory,
            Source::Config,
            key,
            Some("go"),
            value,
            "Tests use go test.",
        );
        e.examples = vec![example.into()];
        e
    }

    #[test]
    fn the_same_value_is_one_fact_and_gains_the_stated_reference() {
        let mut code = measured(
            "test.framework",
            "go test",
            "Go tests use go test (15 of 15 test files).",
        );
        let config = stated("test.framework", "go test", ".github/workflows/test.yml:21");
        assert!(same_fact(&code, &config));
        merge(&mut code, &config);
        assert_eq!(
            code.text,
            "Go tests use go test (15 of 15 test files). Also stated in `.github/workflows/test.yml:21`."
        );
        assert_eq!(
            code.examples,
            vec!["cmd_test.go:4", ".github/workflows/test.yml:21"]
        );
        assert_eq!(code.evidence.map(|e| e.matching), Some(15));
    }

    /// Whether each stated (key, value) is the same fact as the measured entry.
    fn same_facts(code: &Entry, cases: &[(&str, &str, bool)]) {
        for (key, value, same) in cases {
            let config = stated(key, value, "pom.xml:40");
            assert_eq!(same_fact(code, &config), *same, "{key} = {value}");
        }
    }

    #[test]
    fn spelling_differences_do_not_split_a_fact_but_other_values_do() {
        let code = measured(
            "test.framework",
            "JUnit 5",
            "Java tests use JUnit 5 (3 of 3).",
        );
        same_facts(
            &code,
            &[
                ("test.framework", "junit5", true),
                ("test.framework", "testng", false),
                ("format.tool", "junit5", false),
            ],
        );
    }

    #[test]
    fn a_mixed_measure_absorbs_a_value_of_its_split_only() {
        let code = measured(
            "test.assertions",
            "mixed",
            "Go test assertion styles are mixed: testify 75%, the standard library 25% (of 16).",
        );
        same_facts(
            &code,
            &[
                ("test.assertions", "testify", true),
                ("test.assertions", "gomega", false),
            ],
        );
    }
}
