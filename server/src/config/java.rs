//! Java: `pom.xml` and `build.gradle(.kts)`, read by plain text search since only the
//! language, the build tool and the test framework are wanted.

use super::{Fact, Findings, SourceFile};

const JAVA: Option<&str> = Some("java");

pub(crate) fn build_file(file: &SourceFile, findings: &mut Findings) {
    let maven = file.name() == "pom.xml";
    let build_tool = if maven { "Maven" } else { "Gradle" };
    findings.memory(
        file,
        1,
        Fact::new(
            "stack.language",
            JAVA,
            "java",
            format!("The project is written in Java (built with {build_tool})."),
        ),
    );

    let text = &file.text;
    let test = if text.contains("junit-jupiter") || text.contains("useJUnitPlatform") {
        Some(("junit5", "junit-jupiter", "Tests use JUnit 5."))
    } else if text.contains("testng") {
        Some(("testng", "testng", "Tests use TestNG."))
    } else if text.contains("junit") {
        Some(("junit4", "junit", "Tests use JUnit 4."))
    } else {
        None
    };
    if let Some((value, needle, sentence)) = test {
        let sentence = if text.contains("mockito") {
            format!("{} (with Mockito).", sentence.trim_end_matches('.'))
        } else {
            sentence.to_string()
        };
        findings.memory(
            file,
            file.line_of(needle),
            Fact::new("test.framework", JAVA, value, sentence),
        );
    }

    let frameworks = [
        (
            "org.springframework.boot",
            "spring",
            "The application is built with Spring Boot.",
        ),
        (
            "io.quarkus",
            "quarkus",
            "The application is built with Quarkus.",
        ),
        (
            "io.micronaut",
            "micronaut",
            "The application is built with Micronaut.",
        ),
    ];
    for (needle, value, sentence) in frameworks {
        if text.contains(needle) {
            findings.memory(
                file,
                file.line_of(needle),
                Fact::new("stack.framework", JAVA, value, sentence),
            );
        }
    }
}
