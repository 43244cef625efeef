; Activating a data task, starting one at load, or naming a code label as a task used to
; assemble and end in a hang or a fault at run time.
;@ errors 3
    .task main, local, start
    .task d, data, color=3
    .task e, data, color=4, start   ; error: data task `e` cannot be `start`
main:
    activate d                      ; error: `d` is a data task: it runs once per wavelet of its color
    exit
d:
    exit
e:
    exit
lab:
    activate lab                    ; error: `lab` is a code label, not a task
