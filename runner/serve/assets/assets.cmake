# The pages' files, compiled into kiln_serve: runner/serve/CMakeLists.txt include()s this after
# add_library(kiln_serve STATIC ...). Each file becomes a C++ source (embed.cmake) that is
# written again whenever the file changes, so the kiln binary always serves the files as they
# are in the tree and needs nothing beside it at run time.
set(kiln_serve_asset_dir "${CMAKE_CURRENT_LIST_DIR}")
set(kiln_serve_assets
  "index.html|kAssetIndexHtml"
  "kiln.js|kAssetKilnJs"
  "kiln.css|kAssetKilnCss")

set(kiln_serve_asset_sources "")
foreach(entry IN LISTS kiln_serve_assets)
  string(REPLACE "|" ";" entry "${entry}")
  list(GET entry 0 file)
  list(GET entry 1 symbol)
  string(MAKE_C_IDENTIFIER "${file}" stem)
  set(output "${CMAKE_CURRENT_BINARY_DIR}/assets/${stem}.cpp")
  add_custom_command(
    OUTPUT "${output}"
    COMMAND "${CMAKE_COMMAND}" -DINPUT=${kiln_serve_asset_dir}/${file} -DOUTPUT=${output} -DSYMBOL=${symbol}
            -P "${kiln_serve_asset_dir}/embed.cmake"
    DEPENDS "${kiln_serve_asset_dir}/${file}" "${kiln_serve_asset_dir}/embed.cmake"
    COMMENT "Embedding the page asset ${file}"
    VERBATIM)
  list(APPEND kiln_serve_asset_sources "${output}")
endforeach()

target_sources(kiln_serve PRIVATE ${kiln_serve_asset_sources} "${kiln_serve_asset_dir}/../assets.cpp")
