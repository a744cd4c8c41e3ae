package com.loratool;

import static com.tngtech.archunit.lang.syntax.ArchRuleDefinition.noClasses;
import static com.tngtech.archunit.library.dependencies.SlicesRuleDefinition.slices;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.tngtech.archunit.core.domain.JavaCall;
import com.tngtech.archunit.core.domain.JavaClass;
import com.tngtech.archunit.core.domain.JavaClasses;
import com.tngtech.archunit.core.domain.properties.HasOwner;
import com.tngtech.archunit.core.importer.ClassFileImporter;
import com.tngtech.archunit.core.importer.ImportOption;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The package order of docs/DEVELOPING.md, checked on the compiled main classes: a package may use
 * the ones before it in {@link #ORDER} and never one after it, and no two packages form a cycle.
 */
class PackageLayeringTest {
    /** Lowest first. Sub-packages (model.nn, lora.export, train.loss ...) belong to their parent. */
    static final List<String> ORDER = List.of(
            "io", "metrics", "config", "data", "model", "lora", "checkpoint", "deploy", "train", "eval", "sweep", "bench",
            "api", "serve", "cli");

    static JavaClasses classes;

    @BeforeAll
    static void importClasses() {
        classes = new ClassFileImporter()
                .withImportOption(ImportOption.Predefined.DO_NOT_INCLUDE_TESTS)
                .importPackages("com.loratool");
    }

    @Test
    void noPackageUsesALaterStage() {
        for (int i = 0; i < ORDER.size(); i++) {
            List<String> later = new ArrayList<>();
            for (String p : ORDER.subList(i + 1, ORDER.size())) {
                later.add("com.loratool." + p + "..");
            }
            if (later.isEmpty()) {
                continue;
            }
            noClasses().that().resideInAPackage("com.loratool." + ORDER.get(i) + "..")
                    .should().dependOnClassesThat().resideInAnyPackage(later.toArray(String[]::new))
                    .because("docs/DEVELOPING.md: " + ORDER.get(i) + " comes before " + later)
                    .allowEmptyShould(true)
                    .check(classes);
        }
    }

    @Test
    void theRootPackageUsesNoStage() {
        noClasses().that().resideInAPackage("com.loratool")
                .should().dependOnClassesThat().resideInAnyPackage("com.loratool.(*)..")
                .check(classes);
    }

    @Test
    void noPackageCycles() {
        slices().matching("com.loratool.(*)..").should().beFreeOfCycles().check(classes);
    }

    @Test
    void onlyIoJsonMakesJsonMappers() {
        // docs/DEVELOPING.md: Jackson mappers only from io.Json (derive readers and writers, never build another)
        noClasses().that().doNotHaveFullyQualifiedName("com.loratool.io.Json")
                .should().callConstructorWhere(JavaCall.Predicates.target(
                        HasOwner.Predicates.With.owner(JavaClass.Predicates.assignableTo(ObjectMapper.class))))
                .orShould().callMethod(JsonMapper.class, "builder")
                .check(classes);
    }
}
