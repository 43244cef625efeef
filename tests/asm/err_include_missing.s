    .include "no_such_file.inc" ; error: cannot find include file "no_such_file.inc"
