#include "compiler/bundle_writer.h"
