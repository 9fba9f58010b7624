# Writes one page asset into a C++ source as a raw string literal (cmake -P, run by assets.cmake):
#   cmake -DINPUT=kiln.js -DOUTPUT=kiln_js.cpp -DSYMBOL=kAssetKilnJs -P embed.cmake
# The literal's delimiter must not occur in the file; if it ever does, this fails instead of
# compiling a truncated asset.
foreach(var INPUT OUTPUT SYMBOL)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "embed.cmake: -D${var}=... is missing")
  endif()
endforeach()

set(delimiter "kiln_asset")
file(READ "${INPUT}" content)
string(FIND "${content}" ")${delimiter}\"" clash)
if(NOT clash EQUAL -1)
  message(FATAL_ERROR "embed.cmake: ${INPUT} holds \")${delimiter}\"\", which would end its raw string "
                      "literal early; change the delimiter in ${CMAKE_CURRENT_LIST_FILE}")
endif()

get_filename_component(name "${INPUT}" NAME)
# sizeof - 1, not strlen: the view's length is known at compile time and no constexpr loop
# walks tens of kilobytes.
set(source "// Generated from runner/serve/assets/${name} by runner/serve/assets/embed.cmake: edit that file instead.
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
