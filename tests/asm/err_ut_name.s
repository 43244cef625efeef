    fadds d0, a0, b0 async ut8  ; error: expected a microthread ut0..ut7 or ut(N) after `async`, got `ut8`
