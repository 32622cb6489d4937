# Shared by the scripts in submit-scripts/ (sourced, not run).
# Defines: root, jar, cp_file, java_bin, jvm_flags (one line), jit_flags (its C2 directives, for executors);
# ensure_built builds the jar when stale.

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
jar=$root/target/seqspark.jar
cp_file=$root/target/classpath.txt
java_bin=java
[ -n "${JAVA_HOME:-}" ] && java_bin=$JAVA_HOME/bin/java
jvm_flags=$(tr '\n' ' ' <"$root/conf/jvm.options")
jit_flags=$(grep -e '^-XX:CompileCommand' "$root/conf/jvm.options" | tr '\n' ' ')
export OPENBLAS_NUM_THREADS=${OPENBLAS_NUM_THREADS:-1}
export SEQSPARK_HOME=$root
# (SPARK_LOCAL_IP is pinned to 127.0.0.1 only by the scripts that run on this machine alone: seqspark, which runs
# Spark in local mode, and start-cluster; seqspark-submit leaves addresses to the user's Spark configuration.)

# Builds target/seqspark.jar and target/classpath.txt (every runtime jar, Spark included) when either is
# missing or older than the sources or the POM.
ensure_built() {
  if [ ! -f "$jar" ] || [ ! -f "$cp_file" ] \
     || [ -n "$(find "$root/src/main" "$root/pom.xml" -newer "$jar" -print -quit 2>/dev/null)" ]; then
    echo "seqspark: building $jar (mvn package) ..." >&2
    (cd "$root" && mvn -B -q -Dstyle.color=never -DskipTests package dependency:build-classpath \
        -Dmdep.outputFile=target/classpath.txt -Dmdep.includeScope=compile) >&2 \
      || { echo "seqspark: error: the build failed (see above)" >&2; exit 1; }
  fi
}
