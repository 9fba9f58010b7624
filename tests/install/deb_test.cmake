# The .deb holds exactly what `cmake --install` installs, under /usr, byte for byte, and says
# what it depends on.
#   cmake -DKILN_BUILD_DIR=... -DKILN_VERSION=... -P deb_test.cmake
cmake_minimum_required(VERSION 3.18)
include(${CMAKE_CURRENT_LIST_DIR}/test_support.cmake)

foreach(var KILN_BUILD_DIR KILN_VERSION)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "deb_test.cmake needs -D${var}=...")
  endif()
endforeach()

make_temp_dir(work kiln-deb)
run_checked(cpack -G DEB --config ${KILN_BUILD_DIR}/CPackConfig.cmake -B ${work}/deb)
file(GLOB debs ${work}/deb/*.deb)
list(LENGTH debs count)
expect_equal("${count}" "1" "packages cpack made")
get_filename_component(deb_name ${debs} NAME)
expect_match("${deb_name}" "^kiln_${KILN_VERSION}_[a-z0-9]+\\.deb$" "the package's file name")

# Its control fields: name, version, and Depends from dpkg-shlibdeps.
run_checked(dpkg-deb --field ${debs} Package Version Depends)
expect_match("${run_output}" "Package: kiln\n" "Package")
expect_match("${run_output}" "Version: ${KILN_VERSION}\n" "Version")
foreach(dependency libtorch libfmt libspdlog libsqlite3 libssl libstdc\\+\\+)
  expect_match("${run_output}" "Depends: [^\n]*${dependency}" "Depends on ${dependency}")
endforeach()

# The files `dpkg-deb -c` lists (directories left out; symlinks by their own name) ...
run_checked(dpkg-deb --contents ${debs})
string(REGEX REPLACE "\n$" "" listing "${run_output}")
string(REPLACE "\n" ";" listing "${listing}")
set(packaged "")
foreach(line IN LISTS listing)
  if(line MATCHES "^[-l][^ ]* .* \\./([^ ]+)( -> .*)?$")
    list(APPEND packaged ${CMAKE_MATCH_1})
  elseif(NOT line MATCHES "^d")
    fail("a line of dpkg-deb --contents that is neither a file, a link nor a folder: ${line}")
  endif()
endforeach()
list(SORT packaged)

# ... are the files `cmake --install` writes under a prefix named usr, ...
run_checked(${CMAKE_COMMAND} --install ${KILN_BUILD_DIR} --prefix ${work}/installed/usr)
file(GLOB_RECURSE installed LIST_DIRECTORIES false RELATIVE ${work}/installed ${work}/installed/*)
list(SORT installed)
string(REPLACE ";" "\n  " packaged_text "${packaged}")
string(REPLACE ";" "\n  " installed_text "${installed}")
expect_equal("${packaged_text}" "${installed_text}" "files in the .deb against files cmake --install wrote")
if(NOT packaged MATCHES "usr/bin/kiln;.*usr/include/kiln/kiln.hpp;.*usr/lib/[^;]*cmake/kiln/kilnConfig.cmake;.*kiln/plugins/libmlp.so;.*usr/lib/[^;]*libkiln_sdk.so;.*usr/lib/[^;]*libkiln_train.so")
  fail("the .deb lacks kiln, the SDK headers, the CMake package, the plugins, the SDK or the training library: ${packaged_text}")
endif()

# ... with the same bytes.
run_checked(dpkg-deb --extract ${debs} ${work}/extracted)
foreach(file IN LISTS installed)
  file(SHA256 ${work}/installed/${file} want)
  file(SHA256 ${work}/extracted/${file} got)
  expect_equal("${got}" "${want}" "sha256 of ${file} in the .deb")
endforeach()

file(REMOVE_RECURSE ${work})
