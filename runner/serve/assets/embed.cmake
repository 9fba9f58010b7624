# Writes one page asset into a C++ source as a raw string literal (cmake -P, run by assets.cmake):
#   cmake "-DINPUTS=a.js|b.js" -DOUTPUT=kiln_js.cpp -DSYMBOL=kAssetKilnJs -DNAME=kiln.js [-DJS_SCOPE=ON] -P embed.cmake
# INPUTS ('|'-separated) are concatenated in order; with JS_SCOPE they are wrapped in one
# function, so that the scripts share their names with each other and with nothing else.
# The literal's delimiter must not occur in the files; if it ever does, this fails instead of
# compiling a truncated asset.
foreach(var INPUTS OUTPUT SYMBOL NAME)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "embed.cmake: -D${var}=... is missing")
  endif()
endforeach()

set(delimiter "kiln_asset")
string(REPLACE "|" ";" inputs "${INPUTS}")
set(content "")
set(sources "")
foreach(input IN LISTS inputs)
  file(READ "${input}" text)
  string(APPEND content "${text}")
  get_filename_component(file_name "${input}" NAME)
  list(APPEND sources "${file_name}")
endforeach()
if(JS_SCOPE)
  list(JOIN sources ", " joined)
  set(content "// kiln serve's script: ${joined} (runner/serve/assets/js/), in one function scope.
(function () {
'use strict';
${content}})();
")
endif()

string(FIND "${content}" ")${delimiter}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "embed.cmake: ${INPUTS} hold \")${delimiter}\"\", which would end its raw string "
                      "literal early; change the delimiter in ${CMAKE_CURRENT_LIST_FILE}")
endif()

# sizeof - 1, not strlen: the view's length is known at compile time and no constexpr loop
# walks tens of kilobytes.
set(source "// ${NAME}, generated from runner/serve/assets/ by embed.cmake there: edit those files instead.
#include <string_view>

namespace kiln::runner::serve::detail {

static constexpr char kData[] = R\"${delimiter}(")
string(APPEND source "${content}")
string(APPEND source ")${delimiter}\";
extern const std::string_view ${SYMBOL};
const std::string_view ${SYMBOL}(kData, sizeof(kData) - 1);

}  // namespace kiln::runner::serve::detail
")
# Written only when it changed, so that a rebuild recompiles only what did.
file(WRITE "${OUTPUT}.tmp" "${source}")
file(COPY_FILE "${OUTPUT}.tmp" "${OUTPUT}" ONLY_IF_DIFFERENT)
file(REMOVE "${OUTPUT}.tmp")
