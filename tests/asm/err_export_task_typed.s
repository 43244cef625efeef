    .task main, local, start
    .task got, data, color=3
main:
    exit
got:
    exit
    .export main, u16, 1         ; error: `main` names a task, which is exported as `.export main`
    .export got, task, 0         ; error: `got` names a task
alias = 0
    .export alias, task, 0
    .task other, local, id=5, entry=0
    .export other, u16, 1        ; error: `other` names a task
