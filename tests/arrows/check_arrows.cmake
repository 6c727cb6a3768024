# cmake -D CC=<compiler> -D MODULE=<name> -D FLAGS=<-I/-D flags, |-separated>
#       -D USES=<modules and libraries, |-separated>
#       -D HEADERS=<lib:header entries, |-separated> -D PROBE=<probe.c>
#       -P check_arrows.cmake
# Compiles probe.c once per header with MODULE's own include path and
# definitions. A header of what MODULE uses must compile; any other must
# fail on the poison #error of cmake/arrows.cmake, and on nothing else
# (a typo in a flag must not pass for a forbidden include).
cmake_minimum_required(VERSION 3.25)
string(REPLACE "|" ";" FLAGS "${FLAGS}")
string(REPLACE "|" ";" USES "${USES}")
string(REPLACE "|" ";" HEADERS "${HEADERS}")
set(wrong 0)
foreach(entry ${HEADERS})
  string(REPLACE ":" ";" entry "${entry}")
  list(GET entry 0 owner)
  list(GET entry 1 header)
  if(owner IN_LIST USES OR owner STREQUAL MODULE)
    set(expect "compiles")
  else()
    set(expect "is forbidden")
  endif()
  execute_process(COMMAND ${CC} -std=gnu11 -fsyntax-only ${FLAGS}
      "-DPROBE_HEADER=<${header}>" ${PROBE}
    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(rc EQUAL 0)
    set(got "compiles")
  elseif(out MATCHES "${MODULE}/ must not use")
    set(got "is forbidden")
  else()
    set(got "fails otherwise:\n${out}")
  endif()
  if(got STREQUAL expect)
    message(STATUS "${MODULE}: <${header}> ${got}")
  else()
    message(STATUS "${MODULE}: <${header}> ${got} (want: ${expect})")
    math(EXPR wrong "${wrong} + 1")
  endif()
endforeach()
if(wrong GREATER 0)
  message(FATAL_ERROR "${MODULE}: ${wrong} include(s) against the arrows")
endif()
