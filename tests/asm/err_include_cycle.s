    .include "inc/cycle_a.inc"  ; error: include cycle
