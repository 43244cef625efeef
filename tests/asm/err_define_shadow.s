;@ define X=7
; a -D value must not be silently shadowed by a definition in the source
X = 5                               ; error: `X` is defined on the command line (-D X=7) and again here
