// unicorn-opt: mlir-opt for the unicorn dialect. Parses a module, runs the
// passes named on the command line, prints the result, so every pass and
// verifier is tested with lit + FileCheck the way MLIR tests its own.
#include "ir/UnicornDialect.h"
#include "passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/DialectRegistry.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  // Our passes only (--unicorn-quantize, ...): MLIR's own are not part of the pipeline.
  unicorn::registerUnicornPasses();
  // The builtin dialect is always loaded; func holds the graph, arith and
  // tensor are what lowering and small glue (slices, constants) use.
  mlir::DialectRegistry registry;
  registry.insert<unicorn::UnicornDialect, mlir::func::FuncDialect, mlir::arith::ArithDialect,
                  mlir::tensor::TensorDialect>();
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "Unicorn optimizer driver\n", registry));
}
