# unicorn_use_mlir(TARGET): compile TARGET against Debian's LLVM/MLIR 22.
#
# Opt-in per target instead of directory-wide include_directories/add_definitions
# so the runtime (which must never see LLVM) cannot pick them up by accident.
# Include paths and LLVM's definitions are PUBLIC: whoever links TARGET includes
# its MLIR headers too. The language flags are PRIVATE:
#  - RTTI: a class derived from an LLVM class needs LLVM's typeinfo; when LLVM
#    is built without RTTI (not Debian's: LLVM_ENABLE_RTTI=ON) we must match it
#    or the link fails on missing typeinfo symbols.
#  - Exceptions: Debian builds LLVM with LLVM_ENABLE_EH=OFF. Our MLIR-facing code
#    is compiled the same way, so nothing can throw through MLIR's frames (they
#    have no cleanups); the rest of the compiler keeps exceptions and may call
#    this code freely, since the ABI is the same with or without them.
function(unicorn_use_mlir target)
  target_include_directories(${target} SYSTEM PUBLIC ${LLVM_INCLUDE_DIRS} ${MLIR_INCLUDE_DIRS})
  separate_arguments(llvm_definitions UNIX_COMMAND "${LLVM_DEFINITIONS}")
  target_compile_definitions(${target} PUBLIC ${llvm_definitions})
  if(NOT LLVM_ENABLE_RTTI)
    target_compile_options(${target} PRIVATE -fno-rtti)
  endif()
  if(UNICORN_SANITIZE)
    # Debian's LLVM/MLIR libraries are not instrumented. Code that inlines their
    # headers must not be either, or ASan's container annotations disagree with
    # the libraries and report false use-after-poison inside MLIR. Our MLIR-facing
    # code is a thin layer; everything else stays instrumented.
    target_compile_options(${target} PRIVATE -fno-sanitize=all)
  endif()
  if(NOT LLVM_ENABLE_EH)
    target_compile_options(${target} PRIVATE -fno-exceptions)
  endif()
endfunction()
