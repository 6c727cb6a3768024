# ctest fuzz/<harness>: run FUZZER for SECONDS on a fresh copy of the seed
# corpus SEEDS in WORK (new inputs and crash artifacts stay in the build
# tree). The full libFuzzer log is WORK/fuzz.log; the final statistics
# (the exec count among them) are printed, and the log's tail on failure.
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/corpus ${WORK}/artifacts)
file(GLOB seeds ${SEEDS}/*)
file(COPY ${seeds} DESTINATION ${WORK}/corpus)
# -timeout: one input taking this long is a hang; -malloc_limit_mb: the
# parsers cap every size (the biggest, an API answer, at 256 KiB), so a big
# allocation is a bug too.
execute_process(
  COMMAND ${FUZZER} -max_total_time=${SECONDS} -print_final_stats=1
    -timeout=10 -malloc_limit_mb=64 -artifact_prefix=${WORK}/artifacts/
    ${WORK}/corpus
  RESULT_VARIABLE rc
  OUTPUT_FILE ${WORK}/fuzz.log ERROR_FILE ${WORK}/fuzz.log)
file(STRINGS ${WORK}/fuzz.log stats REGEX "^(stat::|Done [0-9]+ runs|#[0-9]+[ \t]+DONE )")
get_filename_component(name ${FUZZER} NAME)
foreach(line ${stats})
  message("${name}: ${line}")
endforeach()
if(NOT rc EQUAL 0)
  file(READ ${WORK}/fuzz.log log)
  string(LENGTH "${log}" len)
  if(len GREATER 8000)
    math(EXPR from "${len} - 8000")
    string(SUBSTRING "${log}" ${from} -1 log)
  endif()
  message("${log}")
  message(FATAL_ERROR "${name} failed (exit ${rc}); artifacts in ${WORK}/artifacts")
endif()
