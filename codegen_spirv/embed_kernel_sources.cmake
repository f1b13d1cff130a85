# Turns the GLSL kernel files into one C++ header of raw-string literals, so
# unicorn-compile carries its kernel library inside the binary and reads no
# files at run time. Run at build time:
#   cmake -DSOURCE_DIR=<dir> -DSOURCES=<a.comp,b.glsl,...> -DOUTPUT=<header> -P embed_kernel_sources.cmake
set(delimiter "unicorn_glsl")
string(REPLACE "," ";" source_list "${SOURCES}")
set(body "")
foreach(name ${source_list})
  file(READ "${SOURCE_DIR}/${name}" text)
  string(FIND "${text}" ")${delimiter}\"" clash)
  if(NOT clash EQUAL -1)
    message(FATAL_ERROR "${name} contains the raw-string delimiter ')${delimiter}\"'")
  endif()
  string(APPEND body "    {\"${name}\", R\"${delimiter}(${text})${delimiter}\"},\n")
endforeach()
set(header "// Generated from codegen_spirv/kernels/ by embed_kernel_sources.cmake; do not edit.
#pragma once

#include <string_view>

namespace unicorn::spirv::embedded {

struct SourceFile {
  std::string_view name;  // file name inside codegen_spirv/kernels/
  std::string_view text;
};

inline constexpr SourceFile kSourceFiles[] = {
${body}};

}  // namespace unicorn::spirv::embedded
")
# Only rewrite on change so dependants are not rebuilt needlessly.
if(EXISTS "${OUTPUT}")
  file(READ "${OUTPUT}" previous)
  if(previous STREQUAL header)
    return()
  endif()
endif()
file(WRITE "${OUTPUT}" "${header}")
