# Turns the GLSL kernel files into one C++ header of raw-string literals, and
# the SPIR-V modules built from the dialect kernels into word arrays, so
# unicorn-compile carries its kernel library inside the binary and reads no
# files at run time. Run at build time:
#   cmake -DSOURCE_DIR=<dir> -DSOURCES=<a.comp,b.glsl,...> -DMODULE_DIR=<dir> -DMODULES=<c.spv,...>
#         -DOUTPUT=<header> -P embed_kernel_sources.cmake
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
# A module's bytes as little-endian 32-bit words, 8 to a line.
string(REPLACE "," ";" module_list "${MODULES}")
set(modules "")
set(module_table "")
foreach(name ${module_list})
  file(READ "${MODULE_DIR}/${name}" hex HEX)
  string(LENGTH "${hex}" hex_length)
  math(EXPR remainder "${hex_length} % 8")
  if(hex_length EQUAL 0 OR NOT remainder EQUAL 0)
    message(FATAL_ERROR "${name} is not a whole number of 32-bit words")
  endif()
  set(words "")
  set(count 0)
  math(EXPR last "${hex_length} - 8")
  foreach(at RANGE 0 ${last} 8)
    string(SUBSTRING "${hex}" ${at} 8 b)
    string(SUBSTRING "${b}" 0 2 b0)
    string(SUBSTRING "${b}" 2 2 b1)
    string(SUBSTRING "${b}" 4 2 b2)
    string(SUBSTRING "${b}" 6 2 b3)
    string(APPEND words "0x${b3}${b2}${b1}${b0}u,")
    math(EXPR count "${count} + 1")
    math(EXPR column "${count} % 8")
    if(column EQUAL 0)
      string(APPEND words "\n    ")
    else()
      string(APPEND words " ")
    endif()
  endforeach()
  string(MAKE_C_IDENTIFIER "${name}" identifier)
  string(APPEND modules "inline constexpr std::uint32_t k_${identifier}[] = {\n    ${words}};\n")
  string(APPEND module_table "    {\"${name}\", k_${identifier}},\n")
endforeach()

set(header "// Generated from codegen_spirv/kernels/ by embed_kernel_sources.cmake; do not edit.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

namespace unicorn::spirv::embedded {

struct SourceFile {
  std::string_view name;  // file name inside codegen_spirv/kernels/
  std::string_view text;
};

inline constexpr SourceFile kSourceFiles[] = {
${body}};

struct ModuleFile {
  std::string_view name;  // <kernel>.spv, serialised from codegen_spirv/kernels/<kernel>.mlir
  std::span<const std::uint32_t> words;
};

${modules}
inline constexpr ModuleFile kModuleFiles[] = {
${module_table}};

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
