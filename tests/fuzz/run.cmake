# Runs one libFuzzer harness for a while on a copy of its seed corpus (the
# fuzz.* tests of a WTPF_FUZZ build): cmake -DFUZZER=... -DCORPUS=...
# -DWORK=... -DSECONDS=... -DMAX_LEN=... [-DDICT=...] -P run.cmake
# New inputs stay in WORK/corpus; a crash, a leak or a timeout fails the
# test and leaves its input in WORK/artifacts/.
file(REMOVE_RECURSE ${WORK})
file(MAKE_DIRECTORY ${WORK}/corpus ${WORK}/artifacts)
file(GLOB seeds ${CORPUS}/*)
file(COPY ${seeds} DESTINATION ${WORK}/corpus)
set(args -max_total_time=${SECONDS} -timeout=10 -rss_limit_mb=2048
  -max_len=${MAX_LEN} -print_final_stats=1 -artifact_prefix=${WORK}/artifacts/)
if(DICT)
  list(APPEND args -dict=${DICT})
endif()
execute_process(COMMAND ${FUZZER} ${args} ${WORK}/corpus RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "${FUZZER} failed (${rc}): the input is in ${WORK}/artifacts/")
endif()
