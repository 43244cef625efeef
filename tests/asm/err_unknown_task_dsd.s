; an unknown name where a task or a DSD is expected says which, and suggests among tasks / DSDs
    .task main, local, start
    .task done, local
    .dsd dsrc, mem1d, base=buf, len=4
main:
    ldsd d0, dsr                ; error: unknown DSD `dsr`; did you mean `dsrc`?
    ldsd a0, nothing            ; error: unknown DSD `nothing` (declare it with `.dsd`
    activate mian               ; error: unknown task `mian`; did you mean `main`?
    unblock dnoe                ; error: unknown task `dnoe`; did you mean `done`?
    block zzz                   ; error: unknown task `zzz` (declare it with `.task`
    exit
done:
    exit
    .data
buf: .zero 4, f32
;@ errors 5
