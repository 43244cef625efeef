    .fil f32, 4                 ; error: unknown directive `.fil`; did you mean `.fill`?
