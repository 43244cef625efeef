; an empty program: one image with no code
;@ images 1
;@ mem_words 0
;@ code
