# ctest sanitizer/no-reports: the sanitized daemons and simulators of the
# e2e tests write their reports to DIR/e2e.<pid>. Any such file fails the
# run; its content is printed first.
file(GLOB reports ${DIR}/*)
if(NOT reports)
  message(STATUS "no sanitizer reports in ${DIR}")
  return()
endif()
foreach(report ${reports})
  file(READ ${report} text)
  message("==== ${report}\n${text}")
endforeach()
list(LENGTH reports n)
message(FATAL_ERROR "${n} sanitizer report(s) in ${DIR}")
