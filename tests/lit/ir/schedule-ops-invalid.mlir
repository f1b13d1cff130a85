// The scheduled form's verifiers: what the runtime's schedule check would
// reject in a bundle is caught at the op that is wrong.
// RUN: unicorn-opt %s -split-input-file -verify-diagnostics

unicorn.buffer @b activations bytes 512
unicorn.kernel @k "add" {workgroup_size = 64 : i64}
unicorn.program @p {
  // expected-error @+1 {{binds @b at offset 128, not a multiple of 256}}
  unicorn.dispatch @k [#unicorn.bind<@b, 128, 256>] push [0] groups [#unicorn.groups<1>, #unicorn.groups<1>, #unicorn.groups<1>]
}

// -----

unicorn.buffer @b activations bytes 512
unicorn.kernel @k "add" {workgroup_size = 64 : i64}
unicorn.program @p {
  // expected-error @+1 {{binds [256, 768) of @b, which has 512 bytes}}
  unicorn.dispatch @k [#unicorn.bind<@b, 256, 512>] push [0] groups [#unicorn.groups<1>, #unicorn.groups<1>, #unicorn.groups<1>]
}

// -----

unicorn.kernel @k "add" {workgroup_size = 64 : i64}
unicorn.program @p {
  // expected-error @+1 {{binds @nothing, which is not a unicorn.buffer, unicorn.kv_cache or a weight}}
  unicorn.dispatch @k [#unicorn.bind<@nothing, 0, 0>] push [0] groups [#unicorn.groups<1>, #unicorn.groups<1>, #unicorn.groups<1>]
}

// -----

unicorn.buffer @b activations bytes 512
unicorn.program @p {
  // expected-error @+1 {{names @b, which is not a unicorn.kernel}}
  unicorn.dispatch @b [#unicorn.bind<@b, 0, 0>] push [0] groups [#unicorn.groups<1>, #unicorn.groups<1>, #unicorn.groups<1>]
}

// -----

unicorn.buffer @b activations bytes 512
unicorn.kernel @k "add" {workgroup_size = 64 : i64}
unicorn.program @p {
  // expected-error @+1 {{needs 3 workgroup counts (x, y, z), got 2}}
  unicorn.dispatch @k [#unicorn.bind<@b, 0, 0>] push [0] groups [#unicorn.groups<1>, #unicorn.groups<1>]
}

// -----

unicorn.buffer @b activations bytes 512
unicorn.kernel @k "add" {workgroup_size = 64 : i64}
unicorn.program @p {
  // expected-error @+1 {{patches word 1 of 1}}
  unicorn.dispatch @k [#unicorn.bind<@b, 0, 0>] push [0] groups [#unicorn.groups<1>, #unicorn.groups<1>, #unicorn.groups<1>] patches [#unicorn.patch<1 += tokens>]
}

// -----

unicorn.buffer @b activations bytes 512
unicorn.kernel @k "add" {workgroup_size = 64 : i64}
unicorn.program @p {
  // expected-error @+1 {{push-constant word -1 is not a 32-bit unsigned value}}
  unicorn.dispatch @k [#unicorn.bind<@b, 0, 0>] push [-1] groups [#unicorn.groups<1>, #unicorn.groups<1>, #unicorn.groups<1>]
}

// -----

// expected-error @+1 {{parameter 'name' must be an integer, float or bool, got "x"}}
unicorn.kernel @k "add" {name = "x"}

// -----

// expected-error @+1 {{needs a library kernel name}}
unicorn.kernel @k "" {}

// -----

// expected-error @+1 {{a scaled workgroup count needs a divisor of at least 1}}
unicorn.buffer @b activations bytes 512 {g = #unicorn.groups<tokens / 0>}

// -----

// expected-error @+1 {{unknown chunk value 'rows'}}
unicorn.buffer @b activations bytes 512 {p = #unicorn.patch<0 += rows>}

// -----

// A kernel's fallback is another kernel, which has no fallback of its own.
// expected-error @+1 {{falls back to @nowhere, which is no unicorn.kernel}}
unicorn.kernel @k "matmul_bf16_coop" {k = 32 : i64, n = 16 : i64, softcap = 0.0 : f64} fallback @nowhere

// -----

// expected-error @+1 {{falls back to @k, which is itself or has a fallback of its own}}
unicorn.kernel @k "matmul_bf16_coop" {k = 32 : i64, n = 16 : i64, softcap = 0.0 : f64} fallback @k

// -----

unicorn.kernel @tiled "matmul_bf16" {k = 32 : i64} fallback @other
unicorn.kernel @other "matmul_bf16" {k = 32 : i64}
// expected-error @+1 {{falls back to @tiled, which is itself or has a fallback of its own}}
unicorn.kernel @k "matmul_bf16_coop" {k = 32 : i64, n = 16 : i64, softcap = 0.0 : f64} fallback @tiled
