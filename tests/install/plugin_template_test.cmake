# The plugin template built out of tree with find_package(kiln) and run, as a new user would.
#   cmake -DMODE=installed|build_tree -DKILN_BUILD_DIR=... -DKILN_SOURCE_DIR=... -DGENERATOR=...
#         -P plugin_template_test.cmake
# installed:  cmake --install the build to a temporary prefix, copy the template from the
#             installed docs, configure it with CMAKE_PREFIX_PATH=<prefix>, run the installed kiln.
# build_tree: configure the template (copied from the source tree) with kiln_DIR=<build dir>
#             and run the build tree's kiln.
# Then, either way: kiln_add_plugin()'s -O2 without a build type (and none with Debug), the
# precompiled torch header every source file starts from (and none with NO_PRECOMPILED_HEADER),
# kiln plugins --check, a run that completes with the hook's summaries and event, a resumed
# run whose hook restores its state and stops the run early, and a build that leaves a source
# file out, which --no-undefined fails at the link.
cmake_minimum_required(VERSION 3.18)
include(${CMAKE_CURRENT_LIST_DIR}/test_support.cmake)

foreach(var MODE KILN_BUILD_DIR KILN_SOURCE_DIR GENERATOR)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "plugin_template_test.cmake needs -D${var}=...")
  endif()
endforeach()

make_temp_dir(work "kiln-template-${MODE}")
set(template ${work}/plugin-template)
set(build ${template}/build)

if(MODE STREQUAL "installed")
  set(prefix ${work}/prefix)
  run_checked(${CMAKE_COMMAND} --install ${KILN_BUILD_DIR} --prefix ${prefix})
  set(kiln ${prefix}/bin/kiln)
  file(GLOB installed_template LIST_DIRECTORIES true ${prefix}/share/doc/kiln/examples/plugin-template)
  if(NOT installed_template)
    fail("the template is not installed under ${prefix}/share/doc/kiln/examples")
  endif()
  file(COPY ${installed_template} DESTINATION ${work})
  set(find_kiln -DCMAKE_PREFIX_PATH=${prefix} -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
  set(expected_kiln_dir ${prefix}/lib/cmake/kiln)
  set(expected_plugin_dir ${prefix}/lib/kiln/plugins)
elseif(MODE STREQUAL "build_tree")
  set(kiln ${KILN_BUILD_DIR}/kiln)
  file(COPY ${KILN_SOURCE_DIR}/examples/plugin-template DESTINATION ${work}
       PATTERN build EXCLUDE PATTERN runs EXCLUDE)
  set(find_kiln -Dkiln_DIR=${KILN_BUILD_DIR})
  set(expected_kiln_dir ${KILN_BUILD_DIR})
  set(expected_plugin_dir ${KILN_BUILD_DIR}/plugins/lib)
else()
  message(FATAL_ERROR "MODE must be installed or build_tree, not '${MODE}'")
endif()

# Configure and build with no build type: kiln_add_plugin() compiles with -O2 all the same.
run_checked(${CMAKE_COMMAND} -S ${template} -B ${build} -G ${GENERATOR} ${find_kiln})
file(STRINGS ${build}/CMakeCache.txt kiln_dir_line REGEX "^kiln_DIR:")
string(REGEX REPLACE "^kiln_DIR:[A-Z]+=" "" kiln_dir "${kiln_dir_line}")
expect_equal("${kiln_dir}" "${expected_kiln_dir}" "the folder find_package(kiln) used")
if(MODE STREQUAL "installed")
  # Nothing of kiln's source or build tree may leak into the plugin's build.
  file(READ ${build}/build.ninja ninja_file)
  foreach(tree ${KILN_SOURCE_DIR} ${KILN_BUILD_DIR})
    string(FIND "${ninja_file}" "${tree}" at)
    expect_equal(${at} -1 "the template's build.ninja mentions ${tree}")
  endforeach()
endif()
compile_flags(flags ${build})
expect_match(" ${flags} " " -O2 " "the plugin's compile flags without a build type")
# A build type the user gives decides alone (a configure only: nothing is compiled).
run_checked(${CMAKE_COMMAND} -S ${template} -B ${work}/build-debug -G ${GENERATOR} ${find_kiln} -DCMAKE_BUILD_TYPE=Debug)
compile_flags(flags ${work}/build-debug)
expect_match(" ${flags} " " -g " "the plugin's compile flags in a Debug build")
if(" ${flags}" MATCHES " -O[1-9s]")
  fail("kiln_add_plugin() optimizes a Debug build: ${flags}")
endif()
# The precompiled torch header: each source file is compiled with -include of the header
# CMake writes for the plugin, and the build compiles it once (a .gch that GCC takes, or says
# why not: -Winvalid-pch).
expect_match(" ${flags} " " -Winvalid-pch -include [^ ]*/CMakeFiles/sine\\.dir/cmake_pch\\.hxx "
             "the plugin's compile flags: the precompiled header")
file(READ ${build}/CMakeFiles/sine.dir/cmake_pch.hxx pch_header)
expect_match("${pch_header}" "#include <torch/torch.h>" "the precompiled header's content")
# NO_PRECOMPILED_HEADER: compiled without it (a configure only).
file(READ ${template}/CMakeLists.txt lists)
string(REPLACE "kiln_add_plugin(sine SOURCES" "kiln_add_plugin(sine NO_PRECOMPILED_HEADER SOURCES" no_pch_lists "${lists}")
file(WRITE ${template}/CMakeLists.txt "${no_pch_lists}")
run_checked(${CMAKE_COMMAND} -S ${template} -B ${work}/build-no-pch -G ${GENERATOR} ${find_kiln})
file(WRITE ${template}/CMakeLists.txt "${lists}")
compile_flags(flags ${work}/build-no-pch)
if(flags MATCHES "cmake_pch")
  fail("kiln_add_plugin(... NO_PRECOMPILED_HEADER ...) still precompiles: ${flags}")
endif()
run_checked(${CMAKE_COMMAND} --build ${build} -j 2)
if(NOT EXISTS ${build}/plugins/libsine.so)
  fail("kiln_add_plugin() did not write build/plugins/libsine.so")
endif()
if(NOT EXISTS ${build}/CMakeFiles/sine.dir/cmake_pch.hxx.gch)
  fail("the build did not compile the precompiled header (no CMakeFiles/sine.dir/cmake_pch.hxx.gch)")
endif()
if(run_output MATCHES "-Winvalid-pch\\]")
  fail("GCC did not use the precompiled header: ${run_output}")
endif()

# kiln itself, with no search path from the environment: its default folder is the right one.
set(kiln_env ${CMAKE_COMMAND} -E env --unset=KILN_PLUGIN_PATH --unset=KILN_DB)
run_checked(${kiln_env} ${kiln} plugins WORKING_DIRECTORY ${template})
expect_match("${run_output}" "search path: ${expected_plugin_dir}\n" "kiln plugins' default folder")
expect_match("${run_output}" "\n${expected_plugin_dir}/libmlp\\.so\n  plugin    mlp " "kiln's own mlp plugin listed")

run_checked(${kiln_env} ${kiln} plugins --check build/plugins/libsine.so WORKING_DIRECTORY ${template})
expect_match("${run_output}" "libsine.so: a kiln plugin this kiln can load" "the check's verdict")
foreach(line "plugin    sine 1.0.0" "models    sine_net" "losses    huber" "datasets  noisy_sine" "hooks     best_loss")
  expect_match("${run_output}" "\n  ${line}\n" "kiln plugins --check lists '${line}'")
endforeach()

# A run: 300 steps, best/huber checked every 20 steps (0, 20, ..., 280), one best_loss event.
run_checked(${kiln_env} ${kiln} run sine.toml WORKING_DIRECTORY ${template})
expect_match("${run_output}" "^run sine completed: step 300 of 300" "the run's result line")
kiln_query(status "SELECT status FROM runs WHERE name = 'sine'")
expect_equal("${status}" "completed" "the run's status")
kiln_query(checks "SELECT COUNT(*) || ' ' || MIN(step) || ' ' || MAX(step) FROM summaries WHERE tag = 'best/huber'")
expect_equal("${checks}" "15 0 280" "best/huber summaries: count, first and last step")
kiln_query(rising "SELECT COUNT(*) FROM summaries a JOIN summaries b ON a.tag = b.tag AND b.step > a.step
                   WHERE a.tag = 'best/huber' AND b.value > a.value")
expect_equal("${rising}" "0" "best/huber never rises")
kiln_query(best "SELECT group_concat(message, ' | ') FROM events WHERE kind = 'best_loss'")
expect_match("${best}" "^best huber 0\\.[0-9]+ at step [0-9]+$" "the hook's one event, at the end")

# Resumed with a min_delta no loss can beat: the restored best is kept, the first check
# finds no new best, and patience = 1 stops the run.
run_checked(${kiln_env} ${kiln} run sine.toml --set experiment.max_steps=600
            --set hooks.best_loss.patience=1 --set hooks.best_loss.min_delta=100 WORKING_DIRECTORY ${template})
expect_match("${run_output}" "^run sine stopped: step 301 of 600 \\([^)]*\\), no new best huber in 1 check\n"
             "the resumed run's result line")
kiln_query(restored "SELECT message FROM events WHERE kind = 'best_loss' AND step = 300 ORDER BY id LIMIT 1 OFFSET 1")
expect_equal("${restored}" "restored: ${best}" "the hook's after_restore event, with the best of the first run")
kiln_query(status "SELECT status FROM runs WHERE name = 'sine'")
expect_equal("${status}" "stopped" "the resumed run's status")

# A source file left out of SOURCES: the link fails naming the function it defines (only the
# link runs again: the other objects are built), where a plain MODULE library would link and
# fail at kiln's load.
file(READ ${template}/CMakeLists.txt lists)
string(REPLACE "  src/loss.cpp\n" "" without_loss "${lists}")
if(without_loss STREQUAL lists)
  fail("the template's CMakeLists.txt has no line '  src/loss.cpp' to leave out")
endif()
file(WRITE ${template}/CMakeLists.txt "${without_loss}")
execute_process(COMMAND ${CMAKE_COMMAND} --build ${build} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(result EQUAL 0)
  fail("the template linked without src/loss.cpp: kiln_add_plugin() does not link with --no-undefined")
endif()
expect_match("${out}${err}" "undefined reference to `sine::add_loss\\(kiln::Registry&\\)'" "the link's error")

file(REMOVE_RECURSE ${work})
