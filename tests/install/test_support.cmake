# Helpers for the cmake -P tests of kiln as a package: temporary folders, commands that must
# succeed, checks that fail the test with what was expected and what was found.
include_guard(GLOBAL)

function(fail message)
  message(FATAL_ERROR "FAILED: ${message}")
endfunction()

# make_temp_dir(<var> <stem>): a new empty folder under $TMPDIR (or /tmp); never in a source
# or build tree. The test removes it when it passes and leaves it for a look when it fails.
function(make_temp_dir var stem)
  set(base $ENV{TMPDIR})
  if(NOT base)
    set(base /tmp)
  endif()
  string(RANDOM LENGTH 8 suffix)
  set(dir ${base}/${stem}-${suffix})
  file(REMOVE_RECURSE ${dir})
  file(MAKE_DIRECTORY ${dir})
  message(STATUS "working in ${dir}")
  set(${var} ${dir} PARENT_SCOPE)
endfunction()

# run_checked(<command>... [WORKING_DIRECTORY <dir>]): runs the command, fails the test
# with its output unless it exits 0; its stdout is left in `run_output`.
function(run_checked)
  cmake_parse_arguments(PARSE_ARGV 0 arg "" "WORKING_DIRECTORY" "")
  set(dir ${arg_WORKING_DIRECTORY})
  if(NOT dir)
    set(dir ${CMAKE_CURRENT_BINARY_DIR})
  endif()
  string(REPLACE ";" " " shown "${arg_UNPARSED_ARGUMENTS}")
  string(TIMESTAMP started "%s")
  execute_process(COMMAND ${arg_UNPARSED_ARGUMENTS} WORKING_DIRECTORY ${dir}
                  RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
  string(TIMESTAMP ended "%s")
  math(EXPR secs "${ended} - ${started}")
  message(STATUS "${secs} s: ${shown}")
  if(NOT result EQUAL 0)
    fail("${shown}\n(in ${dir}) exited with ${result}\n--- stdout:\n${out}\n--- stderr:\n${err}")
  endif()
  set(run_output "${out}" PARENT_SCOPE)
endfunction()

function(expect_equal actual expected what)
  if(NOT "${actual}" STREQUAL "${expected}")
    fail("${what}: expected '${expected}', got '${actual}'")
  endif()
endfunction()

function(expect_match text regex what)
  if(NOT "${text}" MATCHES "${regex}")
    fail("${what}: nothing matches '${regex}' in:\n${text}")
  endif()
endfunction()

# kiln_query(<var> <sql>): the one value `sql` selects from the template's run database, read
# with `${kiln} query --csv` (its first line is the header).
function(kiln_query var sql)
  run_checked(${kiln} query --csv --db ${template}/runs/kiln.db "${sql}")
  string(FIND "${run_output}" "\n" header_end)  # (REGEX REPLACE's ^ would match at every line)
  math(EXPR value_start "${header_end} + 1")
  string(SUBSTRING "${run_output}" ${value_start} -1 value)
  string(STRIP "${value}" value)
  set(${var} "${value}" PARENT_SCOPE)
endfunction()

# compile_flags(<var> <build dir>): the compile flags of the source files (*.cpp.o) of the one
# C++ target a Ninja build of the template has (their FLAGS line in build.ninja); the
# precompiled header's own compile (cmake_pch.hxx.gch) has other flags and is left out.
function(compile_flags var build_dir)
  file(STRINGS ${build_dir}/build.ninja lines REGEX "^(build |  FLAGS = )")
  set(flags_of_sources "")
  set(in_source FALSE)
  foreach(line IN LISTS lines)
    if(line MATCHES "^build ")
      string(REGEX MATCH "^build [^:]*\\.cpp\\.o:" source_object "${line}")
      set(in_source ${source_object})
    elseif(in_source)
      string(REGEX REPLACE "^  FLAGS = " "" flags "${line}")
      list(APPEND flags_of_sources "${flags}")
    endif()
  endforeach()
  list(REMOVE_DUPLICATES flags_of_sources)
  list(LENGTH flags_of_sources count)
  if(NOT count EQUAL 1)
    fail("${build_dir}/build.ninja: expected one set of compile flags, found ${count}: ${flags_of_sources}")
  endif()
  set(${var} "${flags_of_sources}" PARENT_SCOPE)
endfunction()
