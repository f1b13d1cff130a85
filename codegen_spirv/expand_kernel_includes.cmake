# cmake -DIN=KERNEL.mlir -DOUT=FILE -P expand_kernel_includes.cmake
# Writes IN to OUT with each line "// include: NAME" replaced by the file NAME
# beside IN: how the SPIR-V dialect kernels (kernels/*.mlir) share a frame, as
# the GLSL ones share theirs through #include. One level: an included file
# includes nothing.
set(directive "\n[ ]*// include: ([A-Za-z0-9_.]+)[ ]*\n")
# A newline in front, so that a directive on the first line matches too.
file(READ "${IN}" text)
string(PREPEND text "\n")
get_filename_component(dir "${IN}" DIRECTORY)
while(text MATCHES "${directive}")
  set(line "${CMAKE_MATCH_0}")
  set(name "${CMAKE_MATCH_1}")
  if(NOT EXISTS "${dir}/${name}")
    message(FATAL_ERROR "${IN}: the included ${name} does not exist beside it")
  endif()
  file(READ "${dir}/${name}" included)
  if("\n${included}" MATCHES "${directive}")
    message(FATAL_ERROR "${dir}/${name}: an included kernel file may not include another")
  endif()
  string(REPLACE "${line}" "\n${included}\n" text "${text}")
endwhile()
string(SUBSTRING "${text}" 1 -1 text)
file(WRITE "${OUT}" "${text}")
