// Writes a .ubundle (layout: schemas/bundle_format.h) from a checkpoint.
#pragma once
