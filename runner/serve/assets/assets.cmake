# The pages' files, compiled into kiln_serve: runner/serve/CMakeLists.txt include()s this after
# add_library(kiln_serve STATIC ...). Each served file becomes a C++ source (embed.cmake) that
# is written again whenever one of its files changes, so the kiln binary always serves them as
# they are in the tree and needs nothing beside it at run time.
set(kiln_serve_asset_dir "${CMAKE_CURRENT_LIST_DIR}")
set(kiln_serve_asset_sources "")

# kiln_serve_embed(<served name> <C++ symbol> [JS_SCOPE] <file>...): the files, in order, as one asset.
function(kiln_serve_embed name symbol)
  cmake_parse_arguments(PARSE_ARGV 2 arg "JS_SCOPE" "" "")
  set(inputs "")
  foreach(file IN LISTS arg_UNPARSED_ARGUMENTS)
    list(APPEND inputs "${kiln_serve_asset_dir}/${file}")
  endforeach()
  list(JOIN inputs "|" joined)
  string(MAKE_C_IDENTIFIER "${name}" stem)
  set(output "${CMAKE_CURRENT_BINARY_DIR}/assets/${stem}.cpp")
  add_custom_command(
    OUTPUT "${output}"
    COMMAND "${CMAKE_COMMAND}" "-DINPUTS=${joined}" "-DOUTPUT=${output}" "-DSYMBOL=${symbol}" "-DNAME=${name}"
            "-DJS_SCOPE=${arg_JS_SCOPE}" -P "${kiln_serve_asset_dir}/embed.cmake"
    DEPENDS ${inputs} "${kiln_serve_asset_dir}/embed.cmake"
    COMMENT "Embedding the page asset ${name}"
    VERBATIM)
  set(kiln_serve_asset_sources ${kiln_serve_asset_sources} "${output}" PARENT_SCOPE)
endfunction()

kiln_serve_embed(index.html kAssetIndexHtml index.html)
kiln_serve_embed(kiln.css kAssetKilnCss kiln.css)
# The script in files of one job each, served as one kiln.js; main.js, which starts the page, last.
kiln_serve_embed(kiln.js kAssetKilnJs JS_SCOPE
  js/base.js js/chart.js js/curves.js js/run_list.js js/run_page.js js/compare.js js/sql.js js/main.js)

target_sources(kiln_serve PRIVATE ${kiln_serve_asset_sources} "${kiln_serve_asset_dir}/../assets.cpp")
