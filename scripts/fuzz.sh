#!/usr/bin/env bash
# Fuzzes one file reader with Jazzer for a set time (docs/DEVELOPING.md, "Fuzzing").
#
#   scripts/fuzz.sh NpyFuzzTest [seconds]      (default 600)
#
# Targets: NpyFuzzTest NpzFuzzTest SafetensorsFuzzTest PthFuzzTest DepthFuzzTest ConfigFuzzTest.
# Runs at nice 19 with a 1 GiB heap: an allocation that the file's length does not justify fails
# as OutOfMemoryError, which is a finding, as is any exception other than a LoraException naming
# the file, and an input that takes longer than 10 s (-timeout). The corpus grows in
# target/fuzz/<target>/corpus (seeded from the committed inputs); a finding is written to
# target/fuzz/<target>/crash-*: commit it to the target's Inputs folder (below) with the fix, so
# that `mvn verify` replays it from then on.
set -euo pipefail
cd "$(dirname "$0")/.."
target=${1:?usage: scripts/fuzz.sh <NpyFuzzTest|NpzFuzzTest|SafetensorsFuzzTest|PthFuzzTest|DepthFuzzTest|ConfigFuzzTest> [seconds]}
seconds=${2:-600}
class=$(grep -rl --include="$target.java" "class $target" src/test/java | head -1)
[ -n "$class" ] || { echo "no fuzz test $target under src/test/java" >&2; exit 2; }
fqcn=$(echo "${class#src/test/java/}" | sed 's/\.java$//; s#/#.#g')
seeds="src/test/resources/$(dirname "${class#src/test/java/}")/${target}Inputs/fuzz"
work="target/fuzz/$target"
mkdir -p "$work/corpus"
mvn -B -o -q test-compile dependency:build-classpath -Dmdep.outputFile=target/fuzz/classpath.txt \
    -Dmdep.includeScope=test >/dev/null
cp="target/test-classes:target/classes:$(cat target/fuzz/classpath.txt)"
# A run config's lora.targets (re:...) and rank/alpha patterns are regular expressions by design,
# written by the user who runs the config; Jazzer's regex-injection hook would report every
# malformed one (which the loader turns into a one-line error) as a finding.
hooks=()
[[ "$target" == ConfigFuzzTest ]] && hooks=(--disabled_hooks=com.code_intelligence.jazzer.sanitizers.RegexInjection)
exec nice -n 19 java -Xmx1g -Xss4m -Dai.djl.offline=true -cp "$cp" com.code_intelligence.jazzer.Jazzer \
    --target_class="$fqcn" --instrumentation_includes='com.loratool.**' "${hooks[@]}" \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=4096 -print_final_stats=1 \
    -artifact_prefix="$work/" "$work/corpus" "$seeds"
